"""The Django database backend: job records in a table of your own database.

Every change is **one conditional statement**, built by the ORM (``filter(...)`` plus the
values of ``update(...)``) and judged by the database alone::

    UPDATE lazycron_jobrecord SET ..., version = version + 1
     WHERE key = %s AND version = %s
       AND (lease_expires IS NULL OR lease_expires <= <the database's now>)

A row count of 1 means this host won. A new record is an ``INSERT`` that a unique key
lets only one host make. There are no advisory locks, no session-level locks, no
``SELECT ... FOR UPDATE`` and no transaction held across a run, and the lease's expiry is
compared with the database's clock (``Now()``), never a host's.

**Its own connections.** The backend never uses ``django.db.connections[alias]`` (the
connection of the request or command in the same thread, which may be inside
``transaction.atomic()``, e.g. with ``ATOMIC_REQUESTS``). It opens private connections
from the alias's settings, in autocommit, one per thread: a claim commits at once,
whatever the caller's transaction does, and never poisons it. Nothing is kept in the
session between statements, so PgBouncer's transaction pooling is fine. A thread that
lazycron started (a dispatcher, a job) keeps its connection for its own short life,
whatever ``CONN_MAX_AGE`` says, and closes it as it ends: a check that reads many jobs
connects once, not once per statement. A lease's heartbeat closes its connection after
each renewal. On other threads (a management command, ``run_now`` in a view)
``CONN_MAX_AGE`` applies as Django applies it. A
connection that died (``pg_terminate_backend``, a database restart) is replaced and the
operation tried once more, which the conditional statements make safe.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar, cast

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Now
from django.db.models.sql import InsertQuery, UpdateQuery

from .._context import at_thread_end, in_short_lived_thread
from .._log import logger
from ..backends.base import (
    BackendError,
    CheckMark,
    Snapshot,
    StateUnreadableError,
    new_version,
)
from ..errors import ConfigurationError
from ..state import JobState, StateFormatError, decode, encode

__all__ = ["DatabaseBackend", "DatabaseLease", "DatabaseNow"]

T = TypeVar("T")
TABLE = "lazycron_jobrecord"

# Client-side timeouts added to the alias's OPTIONS unless it sets them itself, so a
# database that stopped answering fails an operation instead of stalling the thread.
_TIMEOUTS: dict[str, dict[str, int]] = {
    "postgresql": {"connect_timeout": 5},  # libpq has no read timeout
    "mysql": {"connect_timeout": 5, "read_timeout": 10, "write_timeout": 10},
}


class DatabaseNow(Now):
    """``Now()``, but in UTC on MySQL/MariaDB too: their ``CURRENT_TIMESTAMP`` follows the
    session's time zone, where a DST jump would shorten a lease. PostgreSQL compares
    absolute instants and SQLite's ``'now'`` is UTC already."""

    def as_mysql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="UTC_TIMESTAMP(6)", **extra_context)


# The key of the site's last-check row: not 64 hex digits, so never a job's record key.
CHECK_MARK_KEY = "lazycron:last-check"


def record_key(job_name: str) -> str:
    return hashlib.sha256(job_name.encode("utf-8", "surrogatepass")).hexdigest()


def _lease_free() -> Q:
    return Q(lease_expires__isnull=True) | Q(lease_expires__lte=DatabaseNow())


class _PerThread(threading.local):
    connection: BaseDatabaseWrapper | None = None
    closes_at_thread_end = False  # at_thread_end() asked to close ``connection``
    # Inside transaction_with(): Django's own connection of this thread, in a transaction
    # shared with a task backend. Used instead of ``connection``; never closed here.
    shared: BaseDatabaseWrapper | None = None


_backends: weakref.WeakSet[DatabaseBackend] = weakref.WeakSet()
# Connections a forked child inherited. Never closed, nor garbage-collected: closing one
# (libpq's PQfinish sends "terminate") would end the parent's session on the server.
_inherited: list[object] = []


def _forget_connections_after_fork() -> None:
    for backend in list(_backends):
        _inherited.append(backend._local)
        backend._local = _PerThread()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections_after_fork)


class DatabaseBackend:
    """Job records in the ``lazycron_jobrecord`` table of the Django database ``alias``
    (``manage.py migrate lazycron`` creates it). See the module docstring."""

    def __init__(self, alias: str = "default", *, lease: float = 60.0) -> None:
        from django.db import connections

        from ..backends.redis import validate_lease

        if alias not in connections.settings:
            raise ConfigurationError(
                f"database alias {alias!r} is not in settings.DATABASES "
                f"(known: {', '.join(connections.settings)})"
            )
        self.alias = alias
        self.lease = validate_lease(lease)
        self._local = _PerThread()
        _backends.add(self)

    # -- connections --------------------------------------------------------------------

    @property
    def location(self) -> str:
        from django.db import connections

        conf = connections.settings[self.alias]
        engine = str(conf.get("ENGINE", "")).rsplit(".", 1)[-1]
        host = conf.get("HOST") or "localhost"
        port = f":{conf['PORT']}" if conf.get("PORT") else ""
        where = conf.get("NAME") if engine == "sqlite3" else f"{host}{port}/{conf.get('NAME')}"
        return f"{engine}://{where} (Django database {self.alias!r})"

    def _new_connection(self) -> BaseDatabaseWrapper:
        from django.db import connections
        from django.db.utils import load_backend

        # A fresh copy each time: tests switch NAME to the test database after start-up.
        conf = dict(connections.settings[self.alias])
        module = load_backend(conf["ENGINE"])
        conf["OPTIONS"] = {
            **_TIMEOUTS.get(module.DatabaseWrapper.vendor, {}),
            **(conf.get("OPTIONS") or {}),
        }
        conf["ATOMIC_REQUESTS"] = False
        conf["AUTOCOMMIT"] = True
        wrapper: BaseDatabaseWrapper = module.DatabaseWrapper(conf, self.alias)
        return wrapper

    def _connection(self) -> BaseDatabaseWrapper:
        local = self._local
        if local.shared is not None:
            return local.shared
        connection = local.connection
        if in_short_lived_thread():
            # Kept until the thread ends (a broken one is discarded by _run).
            if not local.closes_at_thread_end:
                local.closes_at_thread_end = True
                at_thread_end(self._discard)
        elif connection is not None and connection.connection is not None:
            connection.close_if_unusable_or_obsolete()  # honours CONN_MAX_AGE
        if connection is None or connection.connection is None:
            connection = local.connection = self._new_connection()
        return connection

    def _discard(self) -> None:
        connection, self._local.connection = self._local.connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # it is dead already: nothing left to close
                logger.debug("closing a broken connection failed", exc_info=True)

    def close(self) -> None:
        """Close this thread's connection (a new one opens on the next operation)."""
        self._discard()

    def _run(self, operation: Callable[[BaseDatabaseWrapper], T]) -> T:
        """Run one operation on this thread's own connection; errors become BackendError.

        A connection that had been open before this operation and fails at the
        connection level (killed, restarted server) is replaced and the operation run
        once more. That is safe because every statement is conditional: if the first try
        did commit, the second one finds the record moved on and reports failure.
        """
        if self._local.shared is not None:
            # In a shared transaction: no reconnecting, no second try (the transaction is
            # lost with its connection); the error rolls the whole transaction back.
            try:
                return operation(self._local.shared)
            except DatabaseError as exc:
                raise BackendError(self._explain(exc)) from exc
        for attempt in (1, 2):
            connection = self._connection()
            reused = connection.connection is not None
            try:
                return operation(connection)
            except (OperationalError, InterfaceError) as exc:
                self._discard()
                if reused and attempt == 1:
                    continue
                raise BackendError(self._explain(exc)) from exc
            except DatabaseError as exc:
                self._discard()
                raise BackendError(self._explain(exc)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _explain(self, exc: Exception) -> str:
        message = f"{self.location}: {exc}".strip()
        if TABLE in str(exc):
            message += " (has `manage.py migrate lazycron` been run on this database?)"
        return message

    # -- one transaction with a task backend ---------------------------------------------

    def transaction_with(self, task_backend: object) -> AbstractContextManager[None] | None:
        """One transaction for this backend's claim and ``task_backend``'s enqueue, when
        that task backend writes to this backend's database alias (Django's database
        task backend, ``django_tasks_db``); else ``None``.

        The claim cannot go through this backend's private connection then: the task
        backend writes through Django's connection of the thread, ``connections[alias]``.
        So inside the returned context this backend runs its statements on that same
        connection, in ``transaction.atomic(using=alias)``. In a thread lazycron started
        that connection is the job thread's own, never a request's. The claim's
        conditional ``UPDATE`` then holds the row lock until the commit, so a host racing
        for the same tick waits and then finds the version moved on.
        """
        from .tasks import task_database

        if task_database(task_backend) != self.alias:
            return None
        return self._shared_transaction()

    @contextmanager
    def _shared_transaction(self) -> Iterator[None]:
        from django.db import connections, transaction

        try:
            with transaction.atomic(using=self.alias):
                self._local.shared = connections[self.alias]
                try:
                    yield
                finally:
                    self._local.shared = None
        except DatabaseError as exc:  # the commit failed: claim and task stand or fall together
            raise BackendError(self._explain(exc)) from exc

    # -- statements ---------------------------------------------------------------------

    @staticmethod
    def _records() -> QuerySet[Any]:
        from .models import JobRecord

        return JobRecord.objects.all()

    @staticmethod
    def _update(
        connection: BaseDatabaseWrapper, records: QuerySet[Any], values: dict[str, Any]
    ) -> int:
        """What ``records.update(**values)`` does, on our own connection; the row count."""
        query = cast(UpdateQuery, records.query.chain(UpdateQuery))
        query.add_update_values(values)
        query.annotations = {}
        statement, params = query.get_compiler(connection=connection).as_sql()
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return int(cursor.rowcount)

    @staticmethod
    def _fetch(connection: BaseDatabaseWrapper, records: QuerySet[Any]) -> tuple[Any, ...] | None:
        statement, params = records.query.get_compiler(connection=connection).as_sql()
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
        return None if row is None else tuple(row)

    def _insert(self, connection: BaseDatabaseWrapper, **values: Any) -> bool:
        """Create the record; ``False`` when it exists already (another host made it)."""
        from .models import JobRecord

        query = InsertQuery(JobRecord)
        query.insert_values(JobRecord._meta.concrete_fields, [JobRecord(**values)])
        try:
            with connection.cursor() as cursor:
                for statement, params in query.get_compiler(connection=connection).as_sql():
                    cursor.execute(statement, params)
        except IntegrityError:
            return False  # autocommit: the failed INSERT leaves the connection usable
        return True

    def _expiry(self) -> ExpressionWrapper[Any]:
        return ExpressionWrapper(
            DatabaseNow() + timedelta(seconds=self.lease), output_field=DateTimeField()
        )

    # -- Backend ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Connect and check that the table exists (``ConfigurationError`` if not)."""

        def tables(connection: BaseDatabaseWrapper) -> list[str]:
            with connection.cursor() as cursor:
                return list(connection.introspection.table_names(cursor))

        found = self._run(tables)
        if TABLE not in found:
            raise ConfigurationError(
                f"{self.location} has no table {TABLE}: run `manage.py migrate lazycron`"
                + (f" --database {self.alias}" if self.alias != "default" else "")
            )

    def read(self, job_name: str) -> Snapshot | None:
        live = Case(
            When(lease_expires__gt=DatabaseNow(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        records = (
            self._records()
            .filter(key=record_key(job_name))
            .annotate(live=live)
            .values_list("version", "state", "live")
        )
        row = self._run(lambda connection: self._fetch(connection, records))
        if row is None:
            return None
        version, data, lease_live = int(row[0]), row[1], bool(row[2])
        try:
            state = decode(bytes(data) if data is not None else b"")
        except StateFormatError as exc:
            raise StateUnreadableError(
                f"{TABLE} row for job {job_name!r} in {self.location}: {exc}", version=version
            ) from None
        return Snapshot(state=state, version=version, lease_live=lease_live)

    # -- the last check (CheckRecorder) ---------------------------------------------------

    def mark_check(self, mark: CheckMark) -> None:
        """One row whose key is not a SHA-256 (so no job's), updated or else inserted."""
        records = self._records().filter(key=CHECK_MARK_KEY)

        def upsert(connection: BaseDatabaseWrapper) -> None:
            if self._update(connection, records, {"state": mark.encode()}):
                return
            if not self._insert(
                connection,
                key=CHECK_MARK_KEY,
                name="(last check)",
                version=0,
                state=mark.encode(),
            ):
                self._update(connection, records, {"state": mark.encode()})

        self._run(upsert)

    def last_check(self) -> CheckMark | None:
        records = self._records().filter(key=CHECK_MARK_KEY).values_list("state")
        row = self._run(lambda connection: self._fetch(connection, records))
        return None if row is None or row[0] is None else CheckMark.decode(bytes(row[0]))

    def write(self, job_name: str, state: JobState, *, expected: int | None) -> bool:
        return self._change(job_name, state, expected=expected, token=None)

    def claim(
        self, job_name: str, state: JobState, *, expected: int | None
    ) -> DatabaseLease | None:
        if state.current is None:
            raise ValueError("claim() needs state.current: the run being claimed")
        token = state.current.run_id
        won = self._change(job_name, state, expected=expected, token=token)
        return DatabaseLease(self, job_name, token) if won else None

    def _change(
        self, job_name: str, state: JobState, *, expected: int | None, token: str | None
    ) -> bool:
        key = record_key(job_name)
        lease = (
            {"lease_token": token, "lease_expires": self._expiry()}
            if token is not None
            else {"lease_token": None, "lease_expires": None}
        )

        def create(connection: BaseDatabaseWrapper) -> bool:
            return self._insert(
                connection,
                key=key,
                name=job_name,
                version=new_version(),
                last_tick=state.last_tick,
                state=encode(state),
                **lease,
            )

        def update(connection: BaseDatabaseWrapper) -> bool:
            records = self._records().filter(_lease_free(), key=key, version=expected)
            if token is not None:  # belt and braces: a claimed tick never moves backwards
                records = records.filter(
                    Q(last_tick__isnull=True)
                    if state.last_tick is None
                    else Q(last_tick__isnull=True) | Q(last_tick__lte=state.last_tick)
                )
            values = {
                "version": F("version") + 1,
                "last_tick": state.last_tick,
                "state": encode(state),
                **lease,
            }
            return self._update(connection, records, values) == 1

        return self._run(create if expected is None else update)


class DatabaseLease:
    """A claimed run's lease: renew, finish and release are conditional on the token."""

    def __init__(self, backend: DatabaseBackend, job_name: str, token: str) -> None:
        self._backend = backend
        self._job = job_name
        self._key = record_key(job_name)
        self._token = token
        self._claimed_on = threading.get_ident()

    @property
    def token(self) -> str:
        return self._token

    @property
    def renew_every(self) -> float:
        return self._backend.lease / 3

    def _mine(self) -> QuerySet[Any]:
        return self._backend._records().filter(key=self._key, lease_token=self._token)

    def renew(self) -> bool:
        # The row still names this run, so nobody claimed or wrote since: taking the
        # lease again is safe even if it had expired meanwhile.
        backend = self._backend
        values = {"lease_expires": backend._expiry()}
        try:
            updated = backend._run(
                lambda connection: backend._update(connection, self._mine(), values)
            )
        finally:
            if threading.get_ident() != self._claimed_on and in_short_lived_thread():
                # A heartbeat thread renews once a third of a lease: holding a connection
                # idle between renewals, for the whole run, would cost a slot of the
                # database's connection limit per running job.
                backend.close()
        return updated == 1

    def finish(self, apply: Callable[[JobState], None]) -> bool:
        backend = self._backend
        for _ in range(5):
            row = backend._run(
                lambda connection: backend._fetch(
                    connection, self._mine().values_list("version", "state")
                )
            )
            if row is None:
                return False
            version, data = int(row[0]), row[1]
            try:
                state = decode(bytes(data))
            except StateFormatError as exc:
                raise BackendError(f"cannot finish job {self._job!r}: {exc}") from None
            apply(state)
            values = {
                "version": F("version") + 1,
                "last_tick": state.last_tick,
                "state": encode(state),
                "lease_token": None,
                "lease_expires": None,
            }
            records = self._mine().filter(version=version)
            if backend._run(partial(backend._update, records=records, values=values)):
                return True
        raise BackendError(f"job {self._job!r}: the record kept changing under finish()")

    def release(self) -> None:
        backend = self._backend
        try:
            backend._run(
                lambda connection: backend._update(
                    connection, self._mine(), {"lease_expires": None}
                )
            )
        except Exception:  # never raises: the lease expires by itself anyway
            logger.debug("could not release the lease of %r", self._job, exc_info=True)
