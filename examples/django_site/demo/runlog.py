"""The demo's run log: each job appends one line per run, so a table can show which
process ran which tick. Not part of lazycron: a real job just does its work."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

import lazycron

FIELDS = ("job", "tick", "start", "end", "pid")


def logged(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Append ``job tick start end pid`` to settings.RUN_LOG after each run."""

    def decorate(func: Callable[[], Any]) -> Callable[[], Any]:
        @functools.wraps(func)
        def run() -> None:
            current = lazycron.current_run()  # the run being made: its tick, lateness
            tick = current.tick if current else float("nan")
            start = time.time()
            func()
            line = f"{name}\t{tick:.3f}\t{start:.3f}\t{time.time():.3f}\t{os.getpid()}\n"
            # One write() on an O_APPEND file: lines from several processes never mix.
            fd = os.open(settings.RUN_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)

        return run

    return decorate
