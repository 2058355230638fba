"""lazycron's own threads: what they close as they end, and detecting uWSGI without
Python threads, from what real uWSGI processes expose.

The values are those seen in uWSGI 2.0.21 (Debian 12) and 2.0.31 (pip): ``uwsgi.opt`` holds
bytes read from an ini file and ``True`` for a bare command-line flag, and
``uwsgi.has_threads`` is 1 or 0.
"""

from __future__ import annotations

import sys
import threading
from types import SimpleNamespace

import pytest

from lazycron._context import at_thread_end
from lazycron._threads import start_thread, uwsgi_threads_disabled


def test_a_lazycron_thread_closes_what_it_opened_as_it_ends_newest_first() -> None:
    closed: list[str] = []
    work_done = threading.Event()

    def broken_close() -> None:
        raise OSError("the server is gone")

    def work() -> None:
        at_thread_end(lambda: closed.append("connection"))
        at_thread_end(broken_close)  # a failing close does not keep the others from theirs
        at_thread_end(lambda: closed.append(threading.current_thread().name))
        assert closed == []  # nothing is closed while the thread still works
        work_done.set()

    start_thread(work, "lazycron-test").join(10)
    assert work_done.is_set()
    assert closed == ["lazycron-test", "connection"]


def test_a_thread_that_fails_still_closes_what_it_opened() -> None:
    closed: list[str] = []

    def work() -> None:
        at_thread_end(lambda: closed.append("connection"))
        raise RuntimeError("the job's thread failed")

    with pytest.MonkeyPatch.context() as patch:  # the failure is the point: keep it quiet
        patch.setattr(threading, "excepthook", lambda args: None)
        start_thread(work, "lazycron-test").join(10)
    assert closed == ["connection"]


def test_on_a_callers_thread_nothing_is_registered() -> None:
    closed: list[str] = []
    at_thread_end(lambda: closed.append("connection"))  # the test's own thread: not ours
    start_thread(lambda: None, "lazycron-test").join(10)
    assert closed == []


@pytest.mark.parametrize(
    ("module", "disabled"),
    [
        (SimpleNamespace(has_threads=0, opt={"enable-threads": True}), True),
        (SimpleNamespace(has_threads=1, opt={}), False),  # 2.0.31 turns threads on itself
        (SimpleNamespace(opt={"enable-threads": b"false", "processes": b"4"}), True),
        (SimpleNamespace(opt={"enable-threads": b"true"}), False),
        (SimpleNamespace(opt={"enable-threads": True}), False),
        (SimpleNamespace(opt={"threads": b"4"}), False),
        (SimpleNamespace(opt={"threads": b"0"}), True),
        (SimpleNamespace(opt={"enable-threads": [b"true", b"0"]}), True),
        (SimpleNamespace(opt={"processes": b"4"}), True),
        (SimpleNamespace(), False),  # not uWSGI's module after all
    ],
)
def test_uwsgi_threads_disabled(
    monkeypatch: pytest.MonkeyPatch, module: SimpleNamespace, disabled: bool
) -> None:
    monkeypatch.setitem(sys.modules, "uwsgi", module)
    assert uwsgi_threads_disabled() is disabled


def test_not_under_uwsgi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "uwsgi", raising=False)
    assert uwsgi_threads_disabled() is False
