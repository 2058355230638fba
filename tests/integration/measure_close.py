"""Measure whether each server makes the client wait for the response iterable's close().

Not a test (it asserts nothing): run it by hand and read the table.

    .venv/bin/python -m tests.integration.measure_close [kind ...]

For each WSGI server kind, with an app whose close() sleeps 1 s, it times (fresh connection
each): a response with Content-Length, one without, and the second request on a keep-alive
connection. About 1 s in a column means the client waited for close(); "nan" in the last
column means the server closed the connection after the first response (no keep-alive).
"""

from __future__ import annotations

import http.client
import sys
import time
from urllib.parse import urlsplit

from tests.integration.servers import APPS_DIR, KINDS, App, Server

APP = App(APPS_DIR / "slow_close.py")


def timed(conn: http.client.HTTPConnection, path: str) -> float:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return time.perf_counter() - started


def measure(base_url: str) -> dict[str, float]:
    netloc = urlsplit(base_url).netloc

    def fresh(path: str) -> float:
        conn = http.client.HTTPConnection(netloc, timeout=10)
        try:
            return timed(conn, path)
        finally:
            conn.close()

    result = {"with CL": fresh("/cl"), "no CL": fresh("/nocl")}
    time.sleep(1.2)  # let the previous close() finish everywhere
    conn = http.client.HTTPConnection(netloc, timeout=10)
    try:
        conn.request("GET", "/cl")
        first = conn.getresponse()
        first.read()
        if first.will_close:
            result["keep-alive next"] = float("nan")  # no keep-alive here
        else:
            result["keep-alive next"] = timed(conn, "/cl")
    except (ConnectionError, http.client.RemoteDisconnected):
        result["keep-alive next"] = float("nan")  # the server closed the connection
    finally:
        conn.close()
    return result


def main(kinds: list[str]) -> None:
    names = kinds or [name for name, kind in sorted(KINDS.items()) if not kind.asgi]
    print(f"{'server':26} {'with CL':>8} {'no CL':>8} {'keep-alive next':>16}")
    for name in names:
        kind = KINDS[name]
        try:
            kind.check()
        except BaseException as error:  # pytest's skip/fail outcomes
            print(f"{name:26} unavailable: {error}")
            continue
        with Server(kind, APP, env={"SLOW_CLOSE_SECONDS": "1"}) as server:
            row = measure(server.base_url)
            time.sleep(1.2)
        print(f"{name:26} {row['with CL']:8.2f} {row['no CL']:8.2f} {row['keep-alive next']:16.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
