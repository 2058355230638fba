"""Item 1: nanoseconds that lazycron adds to a request when nothing is due.

Each stack is timed bare and wrapped, interleaved (A B, then B A, ...) for several rounds
in one process; the figure is the per-round difference (wrapped minus bare), so timeit's
own loop overhead and the machine's drift cancel out. "Nothing due" is real: one job is
declared, the first check has run and recorded it, and its next tick is an hour away.

    python benchmarks/fastpath.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt, machine, save, summary

import lazycron
from lazycron import Registry, Scheduler
from lazycron.asgi import LazyCronMiddleware as ASGIMiddleware
from lazycron.wsgi import LazyCronMiddleware as WSGIMiddleware

BODY = [b"hello"]


def idle_scheduler(state_dir: str) -> Scheduler:
    """A scheduler with one job whose next tick is an hour away, after its first check."""
    registry = Registry()

    @lazycron.job(every="1h", name="hourly", registry=registry)
    def hourly() -> None:
        pass

    scheduler = Scheduler(registry, state_dir=state_dir)
    scheduler.check()  # first sight: records the job, plans it an hour from now
    assert scheduler.wait_idle(10)
    assert not scheduler.due(), "benchmark set-up: something is due"
    return scheduler


def interleaved(variants: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call each timing function once per round, alternating the order each round."""
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            times[name].append(variants[name]())
    return times


def timer(stmt: str, namespace: dict[str, Any], number: int) -> Callable[[], float]:
    compiled = timeit.Timer(stmt, globals=namespace)
    return lambda: compiled.timeit(number) / number * 1e9  # ns per call


def compare(
    label: str, bare: Callable[[], float], wrapped: Callable[[], float], rounds: int
) -> dict[str, Any]:
    bare(), wrapped()  # warm up
    times = interleaved({"bare": bare, "wrapped": wrapped}, rounds)
    added = [w - b for b, w in zip(times["bare"], times["wrapped"], strict=True)]
    result = {
        "bare_ns": summary(times["bare"]),
        "wrapped_ns": summary(times["wrapped"]),
        "added_ns": summary(added),
        "rounds": rounds,
    }
    print(
        f"{label:8} bare {fmt(result['bare_ns'], 'ns')}  wrapped "
        f"{fmt(result['wrapped_ns'], 'ns')}  added {fmt(result['added_ns'], 'ns')}"
    )
    return result


# -- WSGI ---------------------------------------------------------------------------------


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Length", "5")])
    return BODY


def bench_wsgi(scheduler: Scheduler, rounds: int, number: int) -> dict[str, Any]:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        pass

    wrapped = WSGIMiddleware(wsgi_app, scheduler=scheduler)
    stmt = "app(environ, start_response)"
    base = {"environ": environ, "start_response": start_response}
    return compare(
        "WSGI",
        timer(stmt, {**base, "app": wsgi_app}, number),
        timer(stmt, {**base, "app": wrapped}, number),
        rounds,
    )


# -- ASGI, driven with coro.send(None): no event loop, nothing ever suspends ---------------


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Any) -> None:
    pass


ASGI_STMT = """
coro = app(scope, receive, send)
try:
    coro.send(None)
except StopIteration:
    pass
"""


def bench_asgi(scheduler: Scheduler, rounds: int, number: int) -> dict[str, Any]:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    wrapped = ASGIMiddleware(asgi_app, scheduler=scheduler)
    base = {"scope": scope, "receive": receive, "send": send}
    result = compare(
        "ASGI",
        timer(ASGI_STMT, {**base, "app": asgi_app}, number),
        timer(ASGI_STMT, {**base, "app": wrapped}, number),
        rounds,
    )

    # For reference: what any pure ASGI middleware costs just by being one more coroutine.
    async def passthrough(scope: Any, receive: Any, send: Any) -> None:
        await asgi_app(scope, receive, send)

    reference = compare(
        "ASGI ref",
        timer(ASGI_STMT, {**base, "app": asgi_app}, number),
        timer(ASGI_STMT, {**base, "app": passthrough}, number),
        rounds,
    )
    result["passthrough_added_ns"] = reference["added_ns"]
    return result


# -- Django: the whole WSGIHandler, with and without lazycron's middleware -------------------


def bench_django(state_dir: str, rounds: int, number: int) -> dict[str, Any]:
    try:
        import lazycron.middleware
    except ImportError as exc:
        print(f"Django   skipped: {exc}")
        return {"skipped": f"lazycron.middleware is not importable: {exc}"}
    os.environ["LAZYCRON_STATE_DIR"] = state_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "sites.django_settings"
    os.environ["BENCH_MODE"] = "lazycron"
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    django.setup()

    @lazycron.job(every="1h", name="django-hourly")
    def hourly() -> None:
        pass

    lazy_handler = WSGIHandler()
    with_lazycron = settings.MIDDLEWARE
    settings.MIDDLEWARE = [m for m in with_lazycron if not m.startswith("lazycron")]
    bare_handler = WSGIHandler()
    settings.MIDDLEWARE = with_lazycron
    environ = RequestFactory().get("/").environ

    def start_response(status: str, headers: Any) -> None:
        pass

    # The first request through lazycron's middleware makes its first check.
    lazy_handler(dict(environ), start_response).close()
    from lazycron.django.runtime import get_scheduler

    scheduler = get_scheduler()
    assert scheduler.wait_idle(10)
    assert not scheduler.due(), "benchmark set-up: something is due"
    stmt = "app(dict(environ), start_response).close()"
    base = {"environ": environ, "start_response": start_response}
    result = compare(
        "Django",
        timer(stmt, {**base, "app": bare_handler}, number),
        timer(stmt, {**base, "app": lazy_handler}, number),
        rounds,
    )
    result["django"] = django.get_version()

    # The full stack costs ~60 µs a request and wanders by more than that between rounds,
    # so also time the middleware alone: it around a view-like callable, vs that callable.
    from django.http import HttpResponse

    from lazycron.middleware import LazyCronMiddleware

    response = HttpResponse(b"hello")
    request = RequestFactory().get("/")

    def view(request: Any) -> HttpResponse:
        return response

    alone = compare(
        "Dj. mw",
        timer("app(request)", {"app": view, "request": request}, number * 100),
        timer(
            "app(request)",
            {"app": LazyCronMiddleware(view), "request": request},
            number * 100,
        ),
        rounds,
    )
    result["middleware_alone"] = alone
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few rounds")
    args = parser.parse_args()
    rounds = 4 if args.quick else 15
    number = 50_000 if args.quick else 300_000
    with tempfile.TemporaryDirectory(prefix="lazycron-bench-") as tmp:
        scheduler = idle_scheduler(os.path.join(tmp, "state"))
        results = {
            "machine": machine(),
            "number": number,
            "wsgi": bench_wsgi(scheduler, rounds, number),
            "asgi": bench_asgi(scheduler, rounds, number),
            "django": bench_django(
                os.path.join(tmp, "django-state"), rounds, max(number // 100, 500)
            ),
        }
        # The fast path itself, for reference: one clock read and one comparison.
        due = timer("due()", {"due": scheduler.due}, number)
        results["due_ns"] = summary([due() for _ in range(rounds)])
        print(f"due()    {fmt(results['due_ns'], 'ns')}")
    added = [
        r["added_ns"]["median"] for r in results.values() if isinstance(r, dict) and "added_ns" in r
    ]
    results["target_ns"] = 1000
    results["pass"] = bool(added) and all(value < 1000 for value in added)
    save("fastpath", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
