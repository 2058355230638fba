"""Django signals for runs: ``run_started`` and ``run_finished``.

Sent from the job's thread with ``sender=lazycron.Job`` and the keyword arguments
``job`` (the :class:`~lazycron.Job`) and ``run`` (the :class:`~lazycron.state.Run`: its
``tick``, ``trigger``, ``outcome``, ``error``, ``duration``). A receiver's exception is
logged and goes no further. Django only: the core never imports this module.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from ._log import logger
from .jobs import Job
from .state import Run

__all__ = ["SignalHooks", "run_finished", "run_started"]

run_started = Signal()
run_finished = Signal()


class SignalHooks:
    """The scheduler hook that sends the two signals (the Django scheduler has one)."""

    def run_started(self, job: Job, run: Run) -> None:
        _send(run_started, job, run)

    def run_finished(self, job: Job, run: Run) -> None:
        _send(run_finished, job, run)


def _send(signal: Signal, job: Job, run: Run) -> None:
    for receiver, result in signal.send_robust(sender=Job, job=job, run=run):
        if isinstance(result, Exception):
            error: Any = result
            logger.error(
                "signal receiver %r for job %r raised; ignored",
                receiver,
                job.name,
                exc_info=(type(error), error, error.__traceback__),
            )
