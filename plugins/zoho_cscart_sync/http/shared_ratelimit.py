"""Rate limits shared by every task process and machine: the sliding window in the state store's PostgreSQL.

Why the state store and not Redis: every deployment already has it (tokens, leases and the ID map live
there), whatever the executor (Local, Celery, Kubernetes), so a shared limit costs no new service, client
or connection. Its clock (``clock_timestamp()``) dates every place, so workers with skewed clocks agree.
Measured cost (``bench/shared_ratelimit.py``, README "Scale-out"): about a millisecond per request on a
local PostgreSQL, against Zoho answers of 100 ms and more.

The algorithm is :class:`~zoho_cscart_sync.http.ratelimit.RateLimiter`'s, with its state in two tables
(state schema v7; unlogged on PostgreSQL: limiter state is worth no WAL and no fsync):

* ``zcs_rate_slots``: one row per request of a scope that is in flight (``answered_at`` NULL) or was
  answered within the window. A request takes its row before it is sent and dates it when its answer
  arrives, so the window never closes before the server's. Rows of processes killed mid-request expire
  after :data:`IN_FLIGHT_LEASE_SECONDS`.
* ``zcs_rate_pauses``: the pause a 429 (``Retry-After``, or the rest of the window) ordered: every
  process of the scope waits for it, not only the one that met the 429.

Taking a place is one short transaction serialised per scope by a transaction-scoped advisory lock:
expire old rows, count, insert. A place that is not free yet is waited for outside any transaction
(the exact time when the window is full; a short poll when only the concurrency cap is).

Keys are ``<api>:<scope>`` (``zoho_books:org:70000001``, ``cscart:acme_store``): tenant ids and
organisation ids, never a credential; anything else is hashed (:func:`scope_key`).

When the database cannot be reached the limiter **degrades to per-process limits** (the in-process
:class:`RateLimiter` of the same limits) with one warning per outage, and tries the database again after
:data:`BACKEND_RETRY_SECONDS`. A sync cannot get far without its state store anyway, and the server's 429
handling still protects the quota meanwhile; failing every request because a pacing table is unreachable
would turn a degraded pace into an outage.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from zoho_cscart_sync.http.ratelimit import RateLimit, RateLimiter, SlotTicket
from zoho_cscart_sync.state.tables import rate_pauses, rate_slots

log = logging.getLogger(__name__)

# An in-flight row older than this belongs to a process that died mid-request; its place is freed.
IN_FLIGHT_LEASE_SECONDS = 300.0
# After a failure the shared backend is left alone this long (requests use per-process limits meanwhile).
BACKEND_RETRY_SECONDS = 30.0
# Polling while every concurrency place is taken (no notification crosses processes): start, cap.
_POLL_FIRST_SECONDS = 0.02
_POLL_MAX_SECONDS = 0.25
_CONNECT_TIMEOUT_SECONDS = 5
_STATEMENT_TIMEOUT_MS = 10_000
_SAFE_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,150}")
_SAFE_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

# Serialise the scope, read the database clock and the pause in one round trip. (The clock may be read
# before the lock is granted: an earlier "now" only expires less and waits longer.)
_LOCK_NOW_PAUSE = sa.text(
    "SELECT pg_advisory_xact_lock(:lock), extract(epoch from clock_timestamp())::float8,"
    " (SELECT paused_until FROM zcs_rate_pauses WHERE scope_key = :key)"
)
# Forget what left the window (and in-flight rows of dead processes) and count the rest in one statement;
# the DELETE's effect is invisible to this statement's SELECT, hence the same conditions in its filters.
_EXPIRE_AND_COUNT = sa.text(
    "WITH expired AS (DELETE FROM zcs_rate_slots WHERE scope_key = :key AND (answered_at <= :now - :window"
    " OR (answered_at IS NULL AND started_at < :now - :lease)))"
    " SELECT count(*) FILTER (WHERE answered_at IS NULL AND started_at >= :now - :lease),"
    " count(*) FILTER (WHERE answered_at > :now - :window),"
    " min(answered_at) FILTER (WHERE answered_at > :now - :window)"
    " FROM zcs_rate_slots WHERE scope_key = :key"
)
_NOW = sa.literal_column("extract(epoch from clock_timestamp())::float8", sa.Float)


def scope_key(api: str, scope: str) -> str:
    """The shared key of (api, scope): readable when it is made of id characters only, else a hash."""
    key = f"{api}:{scope}"
    if _SAFE_KEY.fullmatch(key):
        return key
    return f"{api}:h:{hashlib.sha256(scope.encode('utf-8')).hexdigest()[:32]}"


@dataclass(frozen=True)
class Decision:
    """Answer of one attempt to take a place: the slot row id, or how long to wait (0.0: poll)."""

    slot_id: int | None
    delay: float = 0.0


class PostgresRateBackend:
    """The shared window of every scope, in the state store's PostgreSQL database."""

    def __init__(self, url: str | URL, *, schema: str | None = None, migrate: bool = True) -> None:
        from zoho_cscart_sync.state.engine import normalise_database_url, split_state_schema

        parsed, schema_from_url = split_state_schema(normalise_database_url(url))
        if parsed.get_backend_name() != "postgresql":
            raise ValueError("the shared rate limiter needs a PostgreSQL state store")
        self.schema = schema or schema_from_url
        options = f"-c statement_timeout={_STATEMENT_TIMEOUT_MS}"
        if self.schema:
            if not _SAFE_SCHEMA.fullmatch(self.schema):
                raise ValueError(f"state_schema {self.schema!r} is not a plain identifier")
            options += f" -c search_path={self.schema}"
        self.url = parsed
        # A small pool of its own with short timeouts: a slow or unreachable database must not hold a
        # request for minutes (psycopg2 waits for the OS's TCP timeout without connect_timeout).
        self.engine: Engine = sa.create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=2,
            max_overflow=8,
            connect_args={"connect_timeout": _CONNECT_TIMEOUT_SECONDS, "options": options},
        )
        self._migrated = not migrate
        self._migrate_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._down_until = float("-inf")
        self._warned = False

    def describe(self) -> str:
        where = self.url.render_as_string(hide_password=True)
        return f"{where} (schema {self.schema})" if self.schema else where

    # -- availability ---------------------------------------------------------------------------------
    def available(self) -> bool:
        """False while a recent failure is being sat out (callers then use per-process limits)."""
        with self._state_lock:
            return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        with self._state_lock:
            self._down_until = time.monotonic() + BACKEND_RETRY_SECONDS
            first = not self._warned
            self._warned = True
        if first:
            log.warning(
                "Shared rate limiter: the state store %s is unreachable (%s); API limits now hold per task "
                "process only, retrying the database every %.0fs",
                self.describe(),
                type(exc).__name__,
                BACKEND_RETRY_SECONDS,
            )

    def _recovered(self) -> None:
        if self._warned:
            with self._state_lock:
                self._warned = False
            log.warning("Shared rate limiter: the state store %s is reachable again", self.describe())

    def _ensure_migrated(self) -> None:
        if self._migrated:
            return
        with self._migrate_lock:
            if self._migrated:
                return
            from zoho_cscart_sync.state import StateStore

            store = StateStore.from_url(self.url, schema=self.schema)
            try:
                store.migrate()
            finally:
                store.close()
            self._migrated = True

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Run a database step; a failure marks the backend down and raises :class:`BackendUnavailable`."""
        try:
            self._ensure_migrated()
            yield
        except SQLAlchemyError as exc:
            self._failed(exc)
            raise BackendUnavailable(str(type(exc).__name__)) from exc
        self._recovered()

    # -- the window -----------------------------------------------------------------------------------
    def try_acquire(self, key: str, limit: RateLimit) -> Decision:
        """Take a place for one request of ``key`` if ``limit`` allows it now (3-4 round trips)."""
        from zoho_cscart_sync.state.engine import advisory_lock_key

        window = limit.window_seconds
        with self._guard(), self.engine.begin() as connection:
            now, paused = connection.execute(
                _LOCK_NOW_PAUSE, {"lock": advisory_lock_key("zcs-rate", key), "key": key}
            ).one()[1:]
            in_flight, done, oldest = connection.execute(
                _EXPIRE_AND_COUNT, {"key": key, "now": now, "window": window, "lease": IN_FLIGHT_LEASE_SECONDS}
            ).one()
            if paused is not None and now < paused:
                return Decision(None, paused - now)
            if limit.concurrency and in_flight >= limit.concurrency:
                return Decision(None, 0.0)
            rpm = limit.requests_per_minute
            if rpm and in_flight + done >= rpm:
                if oldest is None:
                    return Decision(None, 0.0)  # the whole window is in flight: the first answer dates a place
                return Decision(None, max(oldest + window - now, 0.001))
            slot_id = connection.execute(
                rate_slots.insert().values(scope_key=key, started_at=now).returning(rate_slots.c.id)
            ).scalar_one()
            return Decision(int(slot_id))

    def release(self, key: str, slot_id: int, *, accepted: bool) -> None:
        """Date the place of an answered request (a refused one keeps its place too, as in-process)."""
        with self._guard(), self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")  # one round trip
            updated = connection.execute(
                rate_slots.update().where(rate_slots.c.id == slot_id).values(answered_at=_NOW, accepted=accepted)
            ).rowcount
            if not updated:  # outlived its lease and was expired: put the answer back into the window
                connection.execute(
                    rate_slots.insert().values(scope_key=key, started_at=_NOW, answered_at=_NOW, accepted=accepted)
                )

    def pause(self, key: str, seconds: float) -> None:
        """Hold every process's requests of ``key`` for ``seconds`` from now (never shortens a pause)."""
        from sqlalchemy.dialects.postgresql import insert

        statement = insert(rate_pauses).values(scope_key=key, paused_until=_NOW + seconds)
        statement = statement.on_conflict_do_update(
            index_elements=[rate_pauses.c.scope_key],
            set_={"paused_until": sa.func.greatest(rate_pauses.c.paused_until, statement.excluded.paused_until)},
        )
        with self._guard(), self.engine.begin() as connection:
            connection.execute(statement)

    def window_remaining(self, key: str, window_seconds: float) -> float:
        """Seconds until the oldest accepted request of ``key`` leaves the window; else the whole window."""
        with self._guard(), self.engine.connect() as connection:
            row = connection.execute(
                sa.select(_NOW, sa.func.min(rate_slots.c.answered_at)).where(
                    rate_slots.c.scope_key == key,
                    rate_slots.c.accepted.is_(True),
                    rate_slots.c.answered_at > _NOW - window_seconds,
                )
            ).one()
        now, accepted = row
        if accepted is None:
            return window_seconds
        return float(max(accepted + window_seconds - now, 0.0))

    def close(self) -> None:
        self.engine.dispose()


class BackendUnavailable(Exception):
    """The shared backend failed; the caller falls back to per-process limits."""


class SharedRateLimiter(RateLimiter):
    """A :class:`RateLimiter` whose window, concurrency and pause live in the shared backend.

    The inherited in-process state is the fallback: while the backend is unavailable, requests are paced
    per process exactly as before.
    """

    def __init__(
        self,
        key: str,
        limit: RateLimit,
        backend: PostgresRateBackend,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(limit, clock=clock, sleep=sleep)
        self.key = key
        self.backend = backend

    def _shared_acquire(self) -> int | None:
        poll = _POLL_FIRST_SECONDS
        while self.backend.available():
            try:
                decision = self.backend.try_acquire(self.key, self.limit)
            except BackendUnavailable:
                return None
            if decision.slot_id is not None:
                return decision.slot_id
            if decision.delay > 0:
                self._sleep(decision.delay)
            else:
                self._sleep(poll)
                poll = min(poll * 2, _POLL_MAX_SECONDS)
        return None

    @contextmanager
    def slot(self) -> Iterator[SlotTicket]:
        slot_id = self._shared_acquire()
        if slot_id is None:
            with super().slot() as ticket:
                yield ticket
            return
        ticket = SlotTicket()
        try:
            yield ticket
        finally:
            # On failure the row keeps its place until its lease expires: pacing errs on the slow side.
            with suppress(BackendUnavailable):
                self.backend.release(self.key, slot_id, accepted=not ticket.refused)

    def window_remaining(self) -> float:
        if self.backend.available():
            try:
                return self.backend.window_remaining(self.key, self.limit.window_seconds)
            except BackendUnavailable:
                pass
        return super().window_remaining()

    def pause(self, seconds: float) -> None:
        super().pause(seconds)  # this process at once, and the fallback if the backend goes away
        if self.backend.available():
            with suppress(BackendUnavailable):
                self.backend.pause(self.key, seconds)


# Which backend this process uses: resolved once (at the first limited request, i.e. at task run time).
MODE_ENV = "ZCS_RATE_LIMITS"
_backend: PostgresRateBackend | None = None
_resolved = False
_backend_lock = threading.Lock()


def shared_backend() -> PostgresRateBackend | None:
    """The shared backend of this process, or None for per-process limits.

    Shared when the state store (Connection ``zoho_cscart_state``) is PostgreSQL, unless the environment
    sets ``ZCS_RATE_LIMITS=local``. A SQLite state store is one machine's file: limits stay per process.
    """
    global _backend, _resolved
    with _backend_lock:
        if _resolved:
            return _backend
        _resolved = True
        if os.environ.get(MODE_ENV, "").strip().lower() == "local":
            log.info("Rate limits: per task process (%s=local)", MODE_ENV)
            return None
        try:
            from zoho_cscart_sync.state.engine import normalise_database_url
            from zoho_cscart_sync.state.store import resolve_default_url

            url, schema = resolve_default_url()
            if normalise_database_url(url).get_backend_name() != "postgresql":
                log.info("Rate limits: per task process (the state store is SQLite, which one machine holds)")
                return None
            _backend = PostgresRateBackend(url, schema=schema)
        except Exception as exc:  # noqa: BLE001 - whatever fails here, the limits fall back to per process
            log.warning(
                "Rate limits: per task process; the shared limiter could not be set up (%s)", type(exc).__name__
            )
            return None
        log.info("Rate limits: shared by every process through the state store %s", _backend.describe())
        return _backend


def configure_shared_backend(backend: PostgresRateBackend | None) -> None:
    """Use ``backend`` (None: per-process limits) in this process from now on (tests, benchmarks)."""
    global _backend, _resolved
    with _backend_lock:
        _backend, _resolved = backend, True


def forget_shared_backend() -> None:
    """Resolve the backend again at the next limited request (a changed state-store Connection, tests)."""
    global _backend, _resolved
    with _backend_lock:
        if _backend is not None:
            _backend.close()
        _backend, _resolved = None, False
