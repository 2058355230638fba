"""Detecting uWSGI without Python threads, from what real uWSGI processes expose.

The values are those seen in uWSGI 2.0.21 (Debian 12) and 2.0.31 (pip): ``uwsgi.opt`` holds
bytes read from an ini file and ``True`` for a bare command-line flag, and
``uwsgi.has_threads`` is 1 or 0.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from lazycron._threads import uwsgi_threads_disabled


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
