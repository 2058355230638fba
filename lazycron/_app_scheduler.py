"""Finding the scheduler an application really uses, for ``lazycron --app``.

The CLI must act on the state the server uses, so it looks for the scheduler the way
each documented installation leaves it, never for a lookalike:

* a plain wrap, ``app = LazyCronMiddleware(app, ...)``: the middleware's ``scheduler``;
* Flask's ``app.wsgi_app = LazyCronMiddleware(app.wsgi_app, ...)``, and any other wrapper
  chain: the attributes such wrappers keep (``app``, ``wsgi_app``, ``application``);
* the Flask extension: ``app.extensions["lazycron"].scheduler``;
* Starlette and FastAPI's ``app.add_middleware(LazyCronMiddleware, ...)``: the middleware
  is built at the first request, so the CLI builds one from the same arguments
  (``app.user_middleware``), or uses the built one when the stack exists;
* a Django handler (``mysite.wsgi:application``): the project's scheduler, from settings.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from .scheduler import Scheduler

__all__ = ["AppNotFoundError", "find_scheduler", "import_app"]

# Attributes through which wrappers reach the application they wrap.
_WRAPPED = ("wsgi_app", "app", "application", "middleware_stack")
_MAX_DEPTH = 32  # a wrapper chain longer than this is a cycle we did not spot


class AppNotFoundError(LookupError):
    """``--app`` names something that cannot be imported or resolved."""


def import_app(spec: str) -> Any:
    """``module:attr.path`` (default attribute: ``application``, then ``app``)."""
    module_name, _, path = spec.partition(":")
    module = importlib.import_module(module_name)
    if not path:
        for default in ("application", "app"):
            if hasattr(module, default):
                return getattr(module, default)
        raise AppNotFoundError(
            f"module {module_name!r} has neither 'application' nor 'app'; "
            f"name the object: --app {module_name}:NAME"
        )
    found: Any = module
    walked = module_name
    for part in path.split("."):
        if not hasattr(found, part):
            raise AppNotFoundError(f"{walked} has no attribute {part!r} (in --app {spec})")
        found = getattr(found, part)
        walked = f"{walked}.{part}" if walked != module_name else f"{module_name}:{part}"
    return found


def find_scheduler(app: Any) -> Scheduler | None:
    """The scheduler ``app`` uses, or ``None`` when lazycron is not installed in it."""
    seen: set[int] = set()
    pending: list[tuple[Any, int]] = [(app, 0)]
    while pending:
        candidate, depth = pending.pop(0)
        if id(candidate) in seen or depth > _MAX_DEPTH:
            continue
        seen.add(id(candidate))
        found = _own_scheduler(candidate)
        if found is not None:
            return found
        pending.extend((child, depth + 1) for child in _wrapped_by(candidate))
    return None


def _own_scheduler(candidate: Any) -> Scheduler | None:
    if isinstance(candidate, Scheduler):
        return candidate
    try:
        scheduler = getattr(candidate, "scheduler", None)
    except Exception:  # a property that needs a request or an app context
        scheduler = None
    if isinstance(scheduler, Scheduler):
        return scheduler
    if _is_django_handler(candidate):
        from .django.runtime import get_scheduler

        return get_scheduler()
    return _from_declared_middleware(candidate)


def _wrapped_by(candidate: Any) -> Iterator[Any]:
    extensions = getattr(candidate, "extensions", None)
    if isinstance(extensions, Mapping) and "lazycron" in extensions:
        yield extensions["lazycron"]
    for attribute in _WRAPPED:
        try:
            child = getattr(candidate, attribute, None)
        except Exception:  # a property that needs a request or an app context
            continue
        if child is not None:
            # A bound method (Flask's own wsgi_app) leads back to its app: follow the
            # function's owner only through the attributes above, never __self__.
            yield child


def _is_django_handler(candidate: Any) -> bool:
    base = sys.modules.get("django.core.handlers.base")
    return base is not None and isinstance(candidate, base.BaseHandler)


def _from_declared_middleware(candidate: Any) -> Scheduler | None:
    """Starlette keeps ``add_middleware`` arguments in ``user_middleware`` and builds
    the middleware at the first request: build one the same way, with an app that is
    never called, and take its scheduler (same state, same jobs, same options)."""
    from .asgi import LazyCronMiddleware as ASGIMiddleware
    from .wsgi import LazyCronMiddleware as WSGIMiddleware

    declared = getattr(candidate, "user_middleware", None)
    if not isinstance(declared, list):
        return None
    for middleware in declared:
        cls = getattr(middleware, "cls", None)
        if isinstance(cls, type) and issubclass(cls, ASGIMiddleware | WSGIMiddleware):
            args = getattr(middleware, "args", ())
            kwargs = getattr(middleware, "kwargs", getattr(middleware, "options", {}))
            built = cls(_never_called, *args, **kwargs)
            return built.scheduler
    return None


def _never_called(*args: Any) -> Any:  # pragma: no cover - the CLI serves no request
    raise RuntimeError("the CLI's copy of the middleware does not serve requests")
