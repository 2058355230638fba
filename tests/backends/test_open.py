"""``lazycron.backends.open_backend``: a backend from an object, a path or a URL."""

from __future__ import annotations

import pytest

from lazycron import ConfigurationError
from lazycron.backends import open_backend

from . import services


def test_a_backend_object_is_returned_as_it_is(redis_store: object) -> None:
    from lazycron.backends.redis import RedisBackend

    backend = RedisBackend(services.REDIS_URL, prefix=f"lazycron-test-{services.RUN}")
    assert open_backend(backend) is backend
    with pytest.raises(ConfigurationError, match="backend object"):
        open_backend(backend, lease=5)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "REDIS://127.0.0.1", "rediss://h"])
def test_redis_urls_make_a_redis_backend(redis_store: object, url: str) -> None:
    from lazycron.backends.redis import RedisBackend

    backend = open_backend(url, prefix="p", lease=7)
    assert isinstance(backend, RedisBackend)
    assert (backend.prefix, backend.lease) == ("p", 7.0)


@pytest.mark.parametrize(
    "spec", ["memcached://127.0.0.1:11211", "postgres://db/site", "localhost:6379"]
)
def test_other_urls_are_refused_naming_what_is_accepted(spec: str) -> None:
    with pytest.raises(ConfigurationError, match=r"redis:// and rediss://"):
        open_backend(spec)


def test_anything_else_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="expected a backend object"):
        open_backend(42)  # type: ignore[arg-type]
