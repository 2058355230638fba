"""The ``lazycron`` logger's messages, as a site's logging configuration shows them."""

from __future__ import annotations

import logging
from typing import Any

from lazycron.testing import FakeClock

from .helpers import run_check


def test_messages_do_not_repeat_the_loggers_name(
    make_scheduler: Any, clock: FakeClock, calls: Any, lazycron_log: Any
) -> None:
    """A format such as ``%(levelname)s:%(name)s:%(message)s`` (Python's default) already
    names the logger: a message that starts with "lazycron:" again would read
    ``INFO:lazycron:lazycron: job ...``."""
    calls(every="10s", clock=clock)
    scheduler = make_scheduler()
    for _ in range(4):  # first sight, then runs
        run_check(scheduler)
        clock.advance(10)
    messages = [r.getMessage() for r in lazycron_log.records if r.name == "lazycron"]
    assert any("finished in" in m for m in messages), messages
    formatted = [logging.Formatter(logging.BASIC_FORMAT).format(r) for r in lazycron_log.records]
    assert not [line for line in formatted if "lazycron:lazycron:" in line], formatted
