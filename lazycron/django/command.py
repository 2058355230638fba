"""``python manage.py lazycron list|status|run NAME|tick|pause NAME|resume NAME``: the
``lazycron`` CLI, with the jobs found by autodiscovery and the state directory from the
project's settings."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from ..cli import add_commands, execute
from . import runtime


class Command(BaseCommand):
    help = "Inspect and run lazycron jobs: list, status, run NAME, tick, pause NAME, resume NAME."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        add_commands(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verbosity"] >= 2 and not logging.getLogger("lazycron").handlers:
            # -v 2 shows what lazycron does (runs, skipped ticks, lock contention), unless
            # the project's LOGGING already sends the lazycron logger somewhere.
            logging.getLogger("lazycron").addHandler(logging.StreamHandler(self.stderr))
            logging.getLogger("lazycron").setLevel(logging.DEBUG)
        # Runs happen in this process, whatever LAZYCRON["ENABLED"] says: ENABLED only
        # governs the middleware. tick and run never trigger a check
        # (docs/design.md#nothing-fires-from-the-wrong-place).
        scheduler = runtime.get_scheduler()
        namespace = argparse.Namespace(**options)
        status = execute(
            scheduler, options["command"], namespace, _Raw(self.stdout), _Raw(self.stderr)
        )
        if status:
            raise CommandError(f"lazycron {options['command']} failed", returncode=status)


class _Raw:
    """The CLI writes its own newlines; Django's OutputWrapper would add one per write."""

    def __init__(self, wrapped: OutputWrapper) -> None:
        self.wrapped = wrapped

    def write(self, text: str) -> None:
        self.wrapped.write(text, ending="")
