"""Serve a WSGI application over FastCGI with flup's pre-forking server.

    python flup_fcgi.py --bind 127.0.0.1:9000 --app myproject.wsgi:application \
        [--app-dir /srv/myproject] [--children 4]

The application is wrapped in lazycron's middleware, as on every server::

    application = LazyCronMiddleware(
        application, state_dir="/var/lib/mysite/lazycron", check_interval=30
    )

Put a FastCGI-speaking web server in front (see lighttpd-fastcgi.conf). Each child is its own
process with its own lazycron scheduler; all of them share LAZYCRON_STATE_DIR.
Stop it with SIGTERM or SIGINT.

flup 1.0.3's pre-forking parent sleeps in ``select()`` with no timeout. Python 3 restarts a
``select()`` interrupted by a signal (PEP 475), so plain flup only notices SIGTERM at the
next request or child exit: stopping an idle server hangs. ``StoppableWSGIServer`` below
makes the signal end the loop at once.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import FrameType
from typing import Any

from flup.server.fcgi_fork import WSGIServer


class _StopRequestedError(Exception):
    pass


class StoppableWSGIServer(WSGIServer):  # type: ignore[misc]
    """flup's forking WSGIServer, but SIGTERM/SIGINT stop an idle parent at once."""

    def run(self) -> bool:
        self._parent_pid = os.getpid()
        try:
            return bool(super().run())
        except _StopRequestedError:
            self._restoreSignalHandlers()
            self._cleanupChildren()  # tells idle children to exit, SIGINTs busy ones
            return False

    def _intHandler(self, signum: int, frame: FrameType | None) -> None:  # noqa: N802 (flup's name)
        super()._intHandler(signum, frame)
        if os.getpid() == self._parent_pid:  # not in a child that has just forked
            raise _StopRequestedError


def load(app_ref: str) -> Any:
    module_name, _, attr = app_ref.partition(":")
    return getattr(importlib.import_module(module_name), attr or "application")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1:9000", help="host:port or a socket path")
    parser.add_argument("--app", required=True, help="module:callable")
    parser.add_argument("--app-dir", default=".", help="directory to import the module from")
    parser.add_argument("--children", type=int, default=4, help="pre-forked processes")
    args = parser.parse_args(argv)

    sys.path.insert(0, args.app_dir)
    host, sep, port = args.bind.rpartition(":")
    bind: str | tuple[str, int] = (host, int(port)) if sep and port.isdigit() else args.bind
    server = StoppableWSGIServer(
        load(args.app),
        bindAddress=bind,
        minSpare=args.children,
        maxSpare=args.children,
        maxChildren=args.children,
    )
    server.run()


if __name__ == "__main__":
    main()
