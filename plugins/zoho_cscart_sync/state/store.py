"""StateStore: the one entry point to the sync state (watermarks, token cache, ID map, quarantine, stats).

Every method opens its own short transaction, so a store can be shared by the threads of one task and
used from many Airflow task processes at once. The schema is migrated lazily on first use.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import IntegrityError

from zoho_cscart_sync.state import (
    backlogs,
    conflicts,
    console_reads,
    leases,
    links,
    locks,
    migrations,
    pending,
    run_stats,
    tokens,
    watermarks,
)
from zoho_cscart_sync.state import counts as run_counts
from zoho_cscart_sync.state import quarantine as quarantine_records
from zoho_cscart_sync.state import unlinked as unlinked_records
from zoho_cscart_sync.state.engine import (
    create_state_engine,
    display_url,
    normalise_database_url,
    read_transaction,
    split_state_schema,
    sqlite_database_path,
    write_transaction,
)
from zoho_cscart_sync.state.errors import LinkConflictError, RunLeaseHeld
from zoho_cscart_sync.state.models import (
    Backlog,
    CachedToken,
    EntityCounts,
    LinkTally,
    PendingWrite,
    QuarantineEntry,
    RecordLink,
    RunCounts,
    RunLease,
)
from zoho_cscart_sync.state.natural_keys import normalise_natural_key
from zoho_cscart_sync.state.timestamps import require_utc, utc_now
from zoho_cscart_sync.state.validation import require_direction, require_text

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "zoho_cscart_state"
DEFAULT_SQLITE_FILENAME = "zoho_cscart_state.db"
DEFAULT_TOKEN_LOCK_TIMEOUT_SECONDS = 120.0
QUARANTINE_KINDS = ("content", "transient", "waiting")
MAX_PAGE_SIZE = 1000

Clock = Callable[[], datetime]


class StateStore:
    """Sync state kept in SQLite (embedded default) or PostgreSQL (production)."""

    def __init__(self, engine: Engine, *, schema: str | None = None, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._schema = schema
        self._clock = clock
        self._migrated = False
        self._migrate_guard = threading.Lock()

    # ----------------------------------------------------------------- construction and lifecycle

    @classmethod
    def from_url(cls, url: str | URL, *, schema: str | None = None, clock: Clock = utc_now) -> StateStore:
        """A store on ``url`` (``sqlite:///path``, ``postgres://`` or ``postgresql[+psycopg2]://``).

        ``schema`` (PostgreSQL only; or a ``state_schema`` query parameter) keeps the zcs_ tables in
        their own schema, created on first use.
        """
        parsed, schema_from_url = split_state_schema(normalise_database_url(url))
        chosen_schema = schema or schema_from_url
        return cls(create_state_engine(parsed, schema=chosen_schema), schema=chosen_schema, clock=clock)

    @classmethod
    def default(cls) -> StateStore:
        """The store behind Airflow Connection ``zoho_cscart_state``, else SQLite under AIRFLOW_HOME.

        Call this at task run time only: it looks the Connection up (never at import / DAG parse).
        """
        url, schema = resolve_default_url()
        store = cls.from_url(url, schema=schema)
        log.info("State store: using %s", store.describe())
        return store

    def describe(self) -> str:
        """Where this store lives, with any password masked (safe to log)."""
        where = display_url(self._engine.url)
        return f"{where} (schema {self._schema})" if self._schema else where

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for operator tooling; sync code should use the methods)."""
        return self._engine

    def close(self) -> None:
        """Release pooled connections."""
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ----------------------------------------------------------------- schema

    def migrate(self, target_version: int | None = None) -> int:
        """Apply pending schema migrations (idempotent, safe across processes); returns the version."""
        version = migrations.migrate(
            self._engine, now=self._clock(), schema=self._schema, target_version=target_version
        )
        if version == migrations.LATEST_VERSION:
            self._migrated = True
        return version

    def schema_version(self) -> int:
        """The schema version the database is at (0 when never migrated)."""
        with read_transaction(self._engine) as connection:
            return migrations.read_schema_version(connection, self._schema)

    def _ensure_migrated(self) -> None:
        if self._migrated:
            return
        with self._migrate_guard:
            if not self._migrated:
                self.migrate()

    def _write(self) -> AbstractContextManager[Connection]:
        self._ensure_migrated()
        return write_transaction(self._engine)

    def _read(self) -> AbstractContextManager[Connection]:
        self._ensure_migrated()
        return read_transaction(self._engine)

    # ----------------------------------------------------------------- watermarks

    def get_watermark(self, tenant: str, entity: str, direction: str) -> datetime | None:
        """The watermark of (tenant, entity, direction), UTC-aware, or None before the first load."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._read() as connection:
            return watermarks.get_watermark(connection, tenant, entity, direction)

    def advance_watermark(self, tenant: str, entity: str, direction: str, value: datetime, run_id: str) -> None:
        """Move the watermark forward to ``value``; an earlier or equal value leaves it unchanged."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        value = require_utc(value, f"watermark for {tenant}/{entity}/{direction}")
        run_id = require_text(run_id, "run_id")
        with self._write() as connection:
            moved = watermarks.advance_watermark(connection, tenant, entity, direction, value, run_id, self._clock())
        if not moved:
            log.info(
                "Watermark %s/%s/%s kept: stored value is not earlier than %s (run %s)",
                tenant,
                entity,
                direction,
                value.isoformat(),
                run_id,
            )

    # ----------------------------------------------------------------- run leases

    def get_run_lease(self, tenant: str, entity: str, direction: str) -> RunLease | None:
        """The lease of (tenant, entity, direction) as stored (possibly expired), or None."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._read() as connection:
            return leases.get_lease(connection, tenant, entity, direction)

    def acquire_run_lease(
        self,
        tenant: str,
        entity: str,
        direction: str,
        run_id: str,
        *,
        ttl: timedelta,
        wait_seconds: float = 0.0,
        poke_seconds: float = 5.0,
        on_wait: Callable[[RunLease], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RunLease:
        """Take (or renew) the lease of (tenant, entity, direction) for ``run_id``, valid for ``ttl``.

        While another run holds a live lease, try again every ``poke_seconds`` for up to ``wait_seconds``
        (0: fail at once); ``on_wait`` is told about the holder before each pause. Raises RunLeaseHeld naming
        the holding run when the wait is over.
        """
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        run_id = require_text(run_id, "run_id")
        if ttl <= timedelta(0):
            raise ValueError(f"a lease needs a positive ttl, got {ttl}")
        if wait_seconds < 0 or poke_seconds <= 0:
            raise ValueError(f"wait_seconds must be >= 0 and poke_seconds > 0, got {wait_seconds}, {poke_seconds}")
        deadline = time.monotonic() + wait_seconds
        while True:
            now = self._clock()
            with self._write() as connection:
                acquired, lease = leases.try_acquire(
                    connection, tenant, entity, direction, run_id=run_id, now=now, expires_at=now + ttl
                )
            if acquired and lease is not None:
                return lease
            assert lease is not None  # not acquired means another run's live lease is there
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                waited = f" after waiting {wait_seconds:g} s" if wait_seconds else ""
                raise RunLeaseHeld(
                    f"tenant {tenant}, {entity}, {direction}: run {lease.run_id!r} holds the run lease "
                    f"(taken {lease.acquired_at.isoformat()}, expires {lease.expires_at.isoformat()}){waited}; "
                    "runs of one tenant, entity and direction never overlap",
                    holder=lease.run_id,
                )
            if on_wait is not None:
                on_wait(lease)
            sleep(min(poke_seconds, remaining))

    def release_run_lease(self, tenant: str, entity: str, direction: str, run_id: str) -> bool:
        """Release the lease if ``run_id`` holds it; False when it did not (expired and taken over, or none)."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        run_id = require_text(run_id, "run_id")
        with self._write() as connection:
            return leases.release(connection, tenant, entity, direction, run_id=run_id)

    # ----------------------------------------------------------------- token cache

    # ----------------------------------------------------------------- backlogs

    def get_backlog(self, tenant: str, entity: str, direction: str) -> Backlog | None:
        """The direction's unfinished work, or None (see ``state/backlogs.py``)."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._read() as connection:
            return backlogs.get_backlog(connection, tenant, entity, direction)

    def save_backlog(
        self, tenant: str, entity: str, direction: str, *, since: datetime | None, done: int, total: int, run_id: str
    ) -> None:
        """Record that the direction still has work from ``since`` on (earliest start kept)."""
        tenant, entity = _tenant_entity(tenant, entity)
        if since is not None:
            since = require_utc(since, f"backlog start for {tenant}/{entity}/{direction}")
        with self._write() as connection:
            backlogs.save_backlog(
                connection,
                tenant,
                entity,
                direction,
                since=since,
                done=done,
                total=total,
                run_id=run_id,
                now=self._clock(),
            )

    def clear_backlog(self, tenant: str, entity: str, direction: str) -> None:
        """The direction finished its backlog."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._write() as connection:
            backlogs.clear_backlog(connection, tenant, entity, direction)

    def get_token(self, cache_key: str) -> CachedToken | None:
        """The cached access token (ciphertext) for ``cache_key``, or None."""
        cache_key = require_text(cache_key, "cache_key")
        with self._read() as connection:
            return tokens.get_token(connection, cache_key)

    def put_token(self, cache_key: str, token: CachedToken) -> None:
        """Insert or replace the cached token for ``cache_key``."""
        cache_key = require_text(cache_key, "cache_key")
        checked = CachedToken(
            access_token_ciphertext=require_text(token.access_token_ciphertext, "access_token_ciphertext"),
            api_domain=require_text(token.api_domain, "api_domain"),
            expires_at=require_utc(token.expires_at, "token expires_at"),
            minted_at=require_utc(token.minted_at, "token minted_at"),
        )
        with self._write() as connection:
            tokens.put_token(connection, cache_key, checked, self._clock())

    def delete_token(self, cache_key: str) -> None:
        """Forget the cached token for ``cache_key`` (no error when there is none)."""
        cache_key = require_text(cache_key, "cache_key")
        with self._write() as connection:
            tokens.delete_token(connection, cache_key)

    def token_lock(
        self, cache_key: str, *, timeout: float = DEFAULT_TOKEN_LOCK_TIMEOUT_SECONDS
    ) -> AbstractContextManager[None]:
        """Mutual exclusion across processes for refreshing the token of ``cache_key``.

        Raises TokenLockTimeout after ``timeout`` seconds. Not re-entrant. The cache key shows up in
        error messages, so it must not contain a secret.
        """
        cache_key = require_text(cache_key, "cache_key")
        if timeout < 0:
            raise ValueError(f"timeout must not be negative, got {timeout}")
        if self._engine.dialect.name == "postgresql":
            return locks.postgres_token_lock(self._engine, cache_key, scope=self._schema or "", timeout=timeout)
        database_path = sqlite_database_path(self._engine)
        if database_path is None:
            return locks.memory_token_lock(cache_key, timeout=timeout)
        return locks.file_token_lock(database_path, cache_key, timeout=timeout)

    def record_token_mint(self, cache_key: str, minted_at: datetime) -> None:
        """Log that an access token was minted for ``cache_key`` at ``minted_at``."""
        cache_key = require_text(cache_key, "cache_key")
        minted_at = require_utc(minted_at, "minted_at")
        with self._write() as connection:
            tokens.record_token_mint(connection, cache_key, minted_at)

    def token_mints_since(self, cache_key: str, since: datetime) -> int:
        """How many mints were logged for ``cache_key`` at or after ``since`` (history kept one day)."""
        cache_key = require_text(cache_key, "cache_key")
        since = require_utc(since, "since")
        with self._read() as connection:
            return tokens.token_mints_since(connection, cache_key, since)

    # ----------------------------------------------------------------- ID map

    def get_link(
        self, tenant: str, entity: str, *, zoho_id: str | None = None, cscart_id: str | None = None
    ) -> RecordLink | None:
        """The link holding ``zoho_id`` or ``cscart_id`` (give exactly one), deleted or not."""
        tenant, entity = _tenant_entity(tenant, entity)
        side, record_id = _one_id(zoho_id, cscart_id)
        with self._read() as connection:
            return links.get_link(connection, tenant, entity, side, record_id)

    def get_links(
        self,
        tenant: str,
        entity: str,
        *,
        zoho_ids: Iterable[str] | None = None,
        cscart_ids: Iterable[str] | None = None,
    ) -> dict[str, RecordLink]:
        """Links for a page of ids of one side (give exactly one list), keyed by that id.

        Batched: one query per 500 ids, so a page of records costs a constant number of round trips.
        """
        tenant, entity = _tenant_entity(tenant, entity)
        if (zoho_ids is None) == (cscart_ids is None):
            raise ValueError("give exactly one of zoho_ids or cscart_ids")
        side = "zoho" if zoho_ids is not None else "cscart"
        given = zoho_ids if zoho_ids is not None else cscart_ids
        record_ids = list(dict.fromkeys(require_text(value, f"{side}_id") for value in given or ()))
        if not record_ids:
            return {}
        with self._read() as connection:
            return links.get_links(connection, tenant, entity, side, record_ids)

    def find_link_by_natural_key(self, tenant: str, entity: str, key_kind: str, key_value: str) -> RecordLink | None:
        """The link claiming the natural key (e-mails compared case-insensitively), deleted or not."""
        tenant, entity = _tenant_entity(tenant, entity)
        normalised = normalise_natural_key(key_kind, key_value)
        with self._read() as connection:
            return links.find_by_natural_key(connection, tenant, entity, key_kind, normalised)

    def find_links_by_natural_keys(
        self, tenant: str, entity: str, key_kind: str, key_values: Iterable[str]
    ) -> dict[str, RecordLink]:
        """Batched ``find_link_by_natural_key`` for a page of records (first-run matching by e-mail or
        SKU without one query per record). Keyed by the normalised value (e-mails lower-cased)."""
        tenant, entity = _tenant_entity(tenant, entity)
        values = list(dict.fromkeys(normalise_natural_key(key_kind, value) for value in key_values))
        if not values:
            return {}
        with self._read() as connection:
            return links.find_by_natural_keys(connection, tenant, entity, key_kind, values)

    def save_link(
        self,
        tenant: str,
        entity: str,
        *,
        zoho_id: str | None,
        cscart_id: str | None,
        natural_keys: Mapping[str, str] | None = None,
        hash_to_cscart: str | None = None,
        hash_to_zoho: str | None = None,
        flags: Iterable[str] | None = None,
        run_id: str,
    ) -> RecordLink:
        """Insert or update the link of a record pair; never two rows for one id.

        Arguments left as None keep what is stored. ``natural_keys`` and ``flags``, when given, replace
        the stored set. Saving revives a link marked deleted. Raises LinkConflictError when the two ids
        belong to different links and NaturalKeyConflictError when another live link claims a key.
        """
        tenant, entity = _tenant_entity(tenant, entity)
        zoho = None if zoho_id is None else require_text(zoho_id, "zoho_id")
        cscart = None if cscart_id is None else require_text(cscart_id, "cscart_id")
        if zoho is None and cscart is None:
            raise ValueError(f"{tenant}/{entity}: a link needs a zoho_id or a cscart_id")
        keys = None if natural_keys is None else links.normalise_natural_keys(natural_keys)
        flag_set = None if flags is None else frozenset(flags)
        if flag_set is not None:
            links.encode_flags(flag_set)  # validate names before opening a transaction
        run_id = require_text(run_id, "run_id")

        def attempt() -> RecordLink:
            with self._write() as connection:
                return links.save_link(
                    connection,
                    tenant,
                    entity,
                    zoho_id=zoho,
                    cscart_id=cscart,
                    natural_key_values=keys,
                    hash_to_cscart=hash_to_cscart,
                    hash_to_zoho=hash_to_zoho,
                    flags=flag_set,
                    run_id=run_id,
                    now=self._clock(),
                )

        return self._retry_link_race(attempt, tenant, entity, zoho, cscart)

    def record_write(
        self,
        tenant: str,
        entity: str,
        direction: str,
        *,
        source_id: str,
        target_id: str,
        target_hash: str,
        echo_hash: str | None,
        natural_keys: Mapping[str, str] | None,
        flags: Iterable[str] | None,
        run_id: str,
    ) -> RecordLink:
        """Everything a confirmed write leaves behind, in ONE transaction.

        The link (both ids), the hash of what was written into the target, the echo hash (what the opposite
        direction will compute when it reads the write back; None keeps the stored one), the natural keys and
        flags; the pending-write intent is cleared and an open quarantine entry resolved. No crash point can
        leave a written record linked but unprotected against echo, or resolved but unlinked.
        """
        from zoho_cscart_sync.directions import Direction

        tenant, entity = _tenant_entity(tenant, entity)
        way = Direction.parse(direction)
        source = require_text(source_id, "source_id")
        target = require_text(target_id, "target_id")
        ids = {way.source: source, way.target: target}
        hashes = {f"hash_to_{way.target}": target_hash, f"hash_to_{way.source}": echo_hash}
        keys = None if natural_keys is None else links.normalise_natural_keys(natural_keys)
        flag_set = None if flags is None else frozenset(flags)
        if flag_set is not None:
            links.encode_flags(flag_set)
        run_id = require_text(run_id, "run_id")

        def attempt() -> RecordLink:
            now = self._clock()
            with self._write() as connection:
                link = links.save_link(
                    connection,
                    tenant,
                    entity,
                    zoho_id=ids["zoho"],
                    cscart_id=ids["cscart"],
                    natural_key_values=keys,
                    hash_to_cscart=hashes["hash_to_cscart"],
                    hash_to_zoho=hashes["hash_to_zoho"],
                    flags=flag_set,
                    run_id=run_id,
                    now=now,
                    origin=way.value,
                )
                pending.clear_pending(connection, tenant, entity, way.value, source)
                quarantine_records.resolve(connection, tenant, entity, way.value, source, now)
                return link

        return self._retry_link_race(attempt, tenant, entity, ids["zoho"], ids["cscart"])

    def _retry_link_race(
        self,
        attempt: Callable[[], RecordLink],
        tenant: str,
        entity: str,
        zoho: str | None,
        cscart: str | None,
    ) -> RecordLink:
        try:
            return attempt()
        except IntegrityError:
            # A concurrent writer inserted the same id or key between our read and write (PostgreSQL
            # READ COMMITTED). Once more, the row is visible and this becomes an update or a clear
            # conflict error.
            log.info(
                "%s/%s: concurrent save of %s, retrying once",
                tenant,
                entity,
                links.describe_ids(zoho, cscart),
            )
        try:
            return attempt()
        except IntegrityError as exc:
            raise LinkConflictError(
                f"{tenant}/{entity}: saving the link {links.describe_ids(zoho, cscart)} violates "
                f"a uniqueness rule of the ID map: {exc.orig}"
            ) from None

    def mark_deleted(
        self,
        tenant: str,
        entity: str,
        *,
        zoho_id: str | None = None,
        cscart_id: str | None = None,
        at: datetime,
    ) -> None:
        """Stamp the link as deleted at ``at`` (kept in the map so the id is never reused for a create)."""
        tenant, entity = _tenant_entity(tenant, entity)
        side, record_id = _one_id(zoho_id, cscart_id)
        at = require_utc(at, "deleted at")
        with self._write() as connection:
            marked = links.mark_deleted(connection, tenant, entity, side, record_id, at)
        if not marked:
            log.info("%s/%s: no live link with %s id %r to mark deleted", tenant, entity, side, record_id)

    def list_links(self, tenant: str, entity: str, *, flag: str | None = None) -> Iterator[RecordLink]:
        """Every link of the pair (optionally only those carrying ``flag``), streamed in pages of 500."""
        tenant, entity = _tenant_entity(tenant, entity)
        if flag is not None:
            links.encode_flags([flag])
        after_id = 0
        while True:
            # A short transaction per page: no cursor stays open while the caller works on the rows.
            with self._read() as connection:
                page = links.list_links_page(connection, tenant, entity, flag, after_id, links.LOOKUP_CHUNK)
            for _link_id, link in page:
                yield link
            if len(page) < links.LOOKUP_CHUNK:
                return
            after_id = page[-1][0]

    # ----------------------------------------------------------------- pending writes

    def mark_pending(
        self,
        tenant: str,
        entity: str,
        direction: str,
        source_id: str,
        run_id: str,
        natural_key: str | None,
    ) -> None:
        """Note that a create for ``source_id`` is about to be sent (see ``pending.py``)."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._write() as connection:
            pending.mark_pending(
                connection,
                tenant,
                entity,
                direction,
                require_text(source_id, "source_id"),
                require_text(run_id, "run_id"),
                None if natural_key is None else require_text(natural_key, "natural_key"),
                self._clock(),
            )

    def mark_pending_many(
        self, tenant: str, entity: str, direction: str, intents: Mapping[str, str | None], run_id: str
    ) -> None:
        """Mark several creates (source id -> natural key) as about to be sent, in one transaction."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        run_id = require_text(run_id, "run_id")
        if not intents:
            return
        now = self._clock()
        with self._write() as connection:
            for source_id, natural_key in intents.items():
                pending.mark_pending(
                    connection,
                    tenant,
                    entity,
                    direction,
                    require_text(source_id, "source_id"),
                    run_id,
                    None if natural_key is None else require_text(natural_key, "natural_key"),
                    now,
                )

    def clear_pending_many(self, tenant: str, entity: str, direction: str, source_ids: Iterable[str]) -> None:
        """Drop the intents of ``source_ids`` in one transaction (creates refused or found unnecessary)."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        ids = [require_text(value, "source_id") for value in source_ids]
        if not ids:
            return
        with self._write() as connection:
            pending.clear_pending_many(connection, tenant, entity, direction, ids)

    def clear_pending(self, tenant: str, entity: str, direction: str, source_id: str) -> None:
        """The write for ``source_id`` is confirmed (its link is saved)."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._write() as connection:
            pending.clear_pending(connection, tenant, entity, direction, require_text(source_id, "source_id"))

    def list_pending(self, tenant: str, entity: str, direction: str) -> list[PendingWrite]:
        """Writes started but never confirmed, oldest first: resolve these before creating anything."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._read() as connection:
            return pending.list_pending(connection, tenant, entity, direction)

    # ----------------------------------------------------------------- quarantine

    def quarantine(
        self,
        tenant: str,
        entity: str,
        direction: str,
        source_id: str,
        *,
        reason: str,
        stage: str,
        run_id: str,
        field: str | None = None,
        kind: str = "transient",
        content_hash: str | None = None,
    ) -> None:
        """Park a failed record: attempts += 1, first_seen kept, last_seen now.

        ``kind`` says when it is tried again (see :class:`QuarantineEntry`): ``content`` failures carry the
        ``content_hash`` of the source they failed with and wait until it changes.
        """
        if kind not in QUARANTINE_KINDS:
            raise ValueError(f"quarantine kind must be one of {', '.join(QUARANTINE_KINDS)}, got {kind!r}")
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._write() as connection:
            quarantine_records.quarantine(
                connection,
                tenant,
                entity,
                direction,
                require_text(source_id, "source_id"),
                reason=require_text(reason, "reason"),
                stage=require_text(stage, "stage"),
                field=None if field is None else require_text(field, "field"),
                run_id=require_text(run_id, "run_id"),
                now=self._clock(),
                kind=kind,
                content_hash=content_hash,
            )

    def open_quarantine(self, tenant: str, entity: str, direction: str) -> dict[str, QuarantineEntry]:
        """Open quarantine entries of one pair and direction, keyed by source id."""
        return {entry.source_id: entry for entry in self.list_quarantine(tenant, entity, direction)}

    def resolve_quarantine_many(self, tenant: str, entity: str, direction: str, source_ids: Iterable[str]) -> None:
        """Close the open entries of ``source_ids`` in one transaction."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        ids = [require_text(value, "source_id") for value in source_ids]
        with self._write() as connection:
            quarantine_records.resolve_many(connection, tenant, entity, direction, ids, self._clock())

    def resolve_quarantine(self, tenant: str, entity: str, direction: str, source_id: str) -> None:
        """The record synced (or an operator dealt with it): close its open entry, keeping the history."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._write() as connection:
            quarantine_records.resolve(
                connection, tenant, entity, direction, require_text(source_id, "source_id"), self._clock()
            )

    def list_quarantine(
        self,
        tenant: str | None = None,
        entity: str | None = None,
        direction: str | None = None,
        include_resolved: bool = False,
    ) -> list[QuarantineEntry]:
        """Quarantine entries for operators, filtered by whichever of tenant/entity/direction is given."""
        if direction is not None:
            require_direction(direction)
        with self._read() as connection:
            return quarantine_records.list_entries(connection, tenant, entity, direction, include_resolved)

    def quarantined_ids(self, tenant: str, entity: str, direction: str) -> list[str]:
        """Source ids still quarantined, oldest failure first: the next run fetches and retries them."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._read() as connection:
            return quarantine_records.open_source_ids(connection, tenant, entity, direction)

    # ----------------------------------------------------------------- run statistics

    def save_run_stats(self, tenant: str, entity: str, run_id: str, stats: Mapping[str, Any]) -> None:
        """Store a run's report numbers (JSON values; datetimes become ISO 8601); a retry replaces them."""
        tenant, entity = _tenant_entity(tenant, entity)
        run_id = require_text(run_id, "run_id")
        try:
            encoded = run_stats.encode_stats(stats)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{tenant}/{entity} run {run_id}: statistics are not JSON: {exc}") from None
        with self._write() as connection:
            run_stats.save(connection, tenant, entity, run_id, encoded, self._clock())

    def list_run_stats(self, tenant: str, entity: str, limit: int = 20) -> list[dict[str, Any]]:
        """The latest runs' statistics, newest first: {tenant, entity, run_id, recorded_at, stats}."""
        tenant, entity = _tenant_entity(tenant, entity)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        with self._read() as connection:
            return run_stats.recent(connection, tenant, entity, limit)

    # ----------------------------------------------------------------- dashboard counts

    def link_tally(self, tenant: str, entity: str) -> LinkTally:
        """Linked pairs of the tenant and entity, and how many came from Zoho: one COUNT query, whatever the size."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._read() as connection:
            return run_counts.link_tally(connection, tenant, entity)

    def save_run_counts(self, tenant: str, entity: str, run_id: str, counts: EntityCounts) -> None:
        """Store a run's dashboard counts (a retried report task replaces them)."""
        tenant, entity = _tenant_entity(tenant, entity)
        run_id = require_text(run_id, "run_id")
        if counts.zoho_counted_at is not None:
            require_utc(counts.zoho_counted_at, "zoho_counted_at")
        with self._write() as connection:
            run_counts.save(connection, tenant, entity, run_id, counts, self._clock())

    def list_run_counts(
        self, tenant: str, entity: str, limit: int = 20, *, exclude_run_id: str | None = None
    ) -> list[RunCounts]:
        """The latest runs' dashboard counts, newest first; ``exclude_run_id`` leaves one run out (the run asking
        for its predecessor's numbers, even when its report task is retried)."""
        tenant, entity = _tenant_entity(tenant, entity)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        with self._read() as connection:
            return run_counts.recent(connection, tenant, entity, limit, exclude_run_id)

    def latest_run_counts(self, tenant: str, entity: str) -> RunCounts | None:
        """The counts of the latest run that stored some, or None."""
        found = self.list_run_counts(tenant, entity, limit=1)
        return found[0] if found else None

    # ----------------------------------------------------------------- operator views (console, CLI)

    def quarantine_page(
        self,
        tenant: str,
        entity: str,
        *,
        direction: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
        kind: str | None = None,
    ) -> list[console_reads.QuarantineRow]:
        """Open quarantine entries, ``limit`` at a time in (direction, source id) order after the key ``after``
        (keyset pagination on the primary key: every page costs the same); ``kind`` keeps one kind only."""
        tenant, entity = _tenant_entity(tenant, entity)
        if direction is not None:
            require_direction(direction)
        if kind is not None and kind not in QUARANTINE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(QUARANTINE_KINDS)}, got {kind!r}")
        _require_page_size(limit)
        with self._read() as connection:
            return console_reads.quarantine_page(
                connection, tenant, entity, direction=direction, after=after, limit=limit, kind=kind
            )

    def quarantine_recent_page(
        self,
        tenant: str,
        entity: str,
        *,
        direction: str | None = None,
        before: tuple[datetime, str, str] | None = None,
        limit: int = 50,
        kind: str | None = None,
    ) -> list[console_reads.QuarantineRow]:
        """Open quarantine entries newest last seen first, ``limit`` at a time after the key ``before`` (last seen,
        direction, source id): keyset pages along the v9 index ``ix_zcs_quarantine_open_recent``."""
        tenant, entity = _tenant_entity(tenant, entity)
        if direction is not None:
            require_direction(direction)
        if kind is not None and kind not in QUARANTINE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(QUARANTINE_KINDS)}, got {kind!r}")
        if before is not None:
            before = (require_utc(before[0], "last_seen"), before[1], before[2])
        _require_page_size(limit)
        with self._read() as connection:
            return console_reads.quarantine_recent_page(
                connection, tenant, entity, direction=direction, before=before, limit=limit, kind=kind
            )

    def quarantine_counts(self, tenant: str, entity: str) -> dict[tuple[str, str], int]:
        """Open quarantine entries per (direction, kind)."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._read() as connection:
            return console_reads.quarantine_counts(connection, tenant, entity)

    def open_quarantine_ids(self, tenant: str, entity: str, direction: str, source_ids: Iterable[str]) -> list[str]:
        """Of ``source_ids``, those still quarantined in ``direction``."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        ids = [require_text(value, "source_id") for value in source_ids]
        with self._read() as connection:
            return console_reads.quarantine_ids(connection, tenant, entity, direction, ids)

    def flagged_links_page(
        self, tenant: str, entity: str, flag: str, *, after_id: int = 0, limit: int = 50
    ) -> list[console_reads.FlaggedLink]:
        """Live links carrying ``flag`` (e.g. ``no_email``), ``limit`` at a time by link id after ``after_id``."""
        tenant, entity = _tenant_entity(tenant, entity)
        links.encode_flags([flag])
        _require_page_size(limit)
        with self._read() as connection:
            return console_reads.flagged_links_page(connection, tenant, entity, flag, after_id=after_id, limit=limit)

    def count_flagged_links(self, tenant: str, entity: str, flag: str) -> int:
        """How many live links carry ``flag``."""
        tenant, entity = _tenant_entity(tenant, entity)
        links.encode_flags([flag])
        with self._read() as connection:
            return console_reads.count_flagged_links(connection, tenant, entity, flag)

    def run_totals_page(
        self, tenant: str, entity: str, *, offset: int = 0, limit: int = 20
    ) -> list[console_reads.RunTotals]:
        """Per-run created / updated / failed / API calls (summed over directions), newest first."""
        tenant, entity = _tenant_entity(tenant, entity)
        _require_page_size(limit)
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        with self._read() as connection:
            return console_reads.run_totals_page(connection, tenant, entity, offset=offset, limit=limit)

    def count_runs(self, tenant: str, entity: str) -> int:
        """How many runs stored statistics for the pair."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._read() as connection:
            return console_reads.count_runs(connection, tenant, entity)

    def list_watermarks(self, tenant: str, entity: str) -> list[console_reads.WatermarkRow]:
        """The pair's watermarks with the run that set each."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._read() as connection:
            return console_reads.list_watermarks(connection, tenant, entity)

    def live_run_leases(self, tenant: str, entity: str) -> list[RunLease]:
        """The pair's run leases that have not expired (by this store's clock): the runs working on it now."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._read() as connection:
            return console_reads.live_leases(connection, tenant, entity, self._clock())

    def token_snapshot(self, cache_key: str, window: timedelta) -> console_reads.TokenSnapshot:
        """Expiry of the cached token of ``cache_key`` and its mints in the last ``window`` (no token read)."""
        cache_key = require_text(cache_key, "cache_key")
        with self._read() as connection:
            return console_reads.token_snapshot(connection, cache_key, self._clock() - window)

    # ----------------------------------------------------------------- lost conflicts

    def record_lost_conflict(
        self,
        tenant: str,
        entity: str,
        direction: str,
        source_id: str,
        *,
        target_id: str,
        master: str,
        run_id: str,
    ) -> None:
        """Store the change that lost a conflict: ``direction`` / ``source_id`` name the losing side, ``target_id``
        the master's copy. One row per record and direction: a later conflict replaces it (``occurrences`` += 1)."""
        tenant, entity = _tenant_entity(tenant, entity)
        require_direction(direction)
        with self._write() as connection:
            conflicts.record(
                connection,
                tenant,
                entity,
                direction,
                require_text(source_id, "source_id"),
                target_id=require_text(target_id, "target_id"),
                master=require_text(master, "master"),
                run_id=require_text(run_id, "run_id"),
                now=self._clock(),
            )

    def lost_conflicts_page(
        self, tenant: str, entity: str, *, after: tuple[str, str] | None = None, limit: int = 50
    ) -> list[conflicts.LostConflict]:
        """Lost conflicts, ``limit`` at a time in (direction, source id) order after the key ``after`` (keyset)."""
        tenant, entity = _tenant_entity(tenant, entity)
        _require_page_size(limit)
        with self._read() as connection:
            return conflicts.page(connection, tenant, entity, after=after, limit=limit)

    def count_lost_conflicts(self, tenant: str, entity: str) -> int:
        """How many records of the pair have a lost conflict stored."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._read() as connection:
            return conflicts.count(connection, tenant, entity)

    # ----------------------------------------------------------------- Zoho records not in CS-Cart (v9)

    def note_unlinked(
        self,
        tenant: str,
        entity: str,
        *,
        seen: Iterable[unlinked_records.UnlinkedSeen] = (),
        gone: Iterable[str] = (),
        run_id: str,
    ) -> None:
        """List ``seen`` as Zoho records without a CS-Cart twin (first seen kept, the rest replaced; an open
        Zoho -> CS-Cart quarantine entry gives the reason) and unlist ``gone`` (linked now, or deleted in Zoho): one
        transaction, one batched upsert."""
        tenant, entity = _tenant_entity(tenant, entity)
        seen = [
            unlinked_records.UnlinkedSeen(
                require_text(item.zoho_id, "zoho_id"), require_text(item.stream, "stream"), item.label, item.reason
            )
            for item in seen
        ]
        gone = [require_text(value, "zoho_id") for value in gone]
        if not seen and not gone:
            return
        with self._write() as connection:
            unlinked_records.note(
                connection, tenant, entity, seen=seen, gone=gone, run_id=require_text(run_id, "run_id"),
                now=self._clock(),
            )  # fmt: skip

    def sweep_unlinked(self, tenant: str, entity: str) -> int:
        """Unlist the pair's records that have a live CS-Cart twin now, whichever direction linked them."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._write() as connection:
            return unlinked_records.sweep(connection, tenant, entity)

    def prune_unlinked(self, tenant: str, entity: str, streams: Iterable[str], run_id: str) -> int:
        """After run ``run_id`` read ``streams`` in full: unlist their records it did not see (gone from Zoho)."""
        tenant, entity = _tenant_entity(tenant, entity)
        names = [require_text(name, "stream") for name in streams]
        with self._write() as connection:
            return unlinked_records.prune_unseen(connection, tenant, entity, names, require_text(run_id, "run_id"))

    def unlinked_page(
        self, tenant: str, entity: str, *, after: str | None = None, limit: int = 50
    ) -> list[unlinked_records.UnlinkedRecord]:
        """Zoho records not in CS-Cart, ``limit`` at a time by Zoho id after ``after`` (keyset)."""
        tenant, entity = _tenant_entity(tenant, entity)
        _require_page_size(limit)
        with self._read() as connection:
            return unlinked_records.page(connection, tenant, entity, after=after, limit=limit)

    def count_unlinked(self, tenant: str, entity: str) -> int:
        """How many Zoho records of the pair are listed as not in CS-Cart."""
        tenant, entity = _tenant_entity(tenant, entity)
        with self._read() as connection:
            return unlinked_records.count(connection, tenant, entity)

    def listed_unlinked_ids(self, tenant: str, entity: str, zoho_ids: Iterable[str]) -> list[str]:
        """Of ``zoho_ids`` (order kept), those listed as not in CS-Cart."""
        tenant, entity = _tenant_entity(tenant, entity)
        ids = [require_text(value, "zoho_id") for value in zoho_ids]
        with self._read() as connection:
            return unlinked_records.listed_ids(connection, tenant, entity, ids)

    # ----------------------------------------------------------------- reset synchronisation

    def reset_sync(self, tenant: str, entity: str) -> None:
        """Re-send everything for the pair without duplicates (DecoNetwork's "Reset synchronisation").

        In one transaction: forget both write hashes of every link and both watermarks, and close the
        open quarantine entries (the full re-send retries those records; history stays listable with
        include_resolved). The ID map and natural keys stay, so every re-sent record updates its
        existing counterpart instead of creating a second one.
        """
        tenant, entity = _tenant_entity(tenant, entity)
        now = self._clock()
        with self._write() as connection:
            hashes = links.clear_hashes(connection, tenant, entity)
            marks = watermarks.clear_watermarks(connection, tenant, entity)
            backlogs.clear_backlog(connection, tenant, entity)
            closed = quarantine_records.resolve_all(connection, tenant, entity, now)
        log.info(
            "%s/%s: synchronisation reset (%d link hashes cleared, %d watermarks removed, "
            "%d quarantine entries closed; ID map kept)",
            tenant,
            entity,
            hashes,
            marks,
            closed,
        )


def _tenant_entity(tenant: str, entity: str) -> tuple[str, str]:
    return require_text(tenant, "tenant"), require_text(entity, "entity")


def _require_page_size(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}, got {limit}")


def _one_id(zoho_id: str | None, cscart_id: str | None) -> tuple[str, str]:
    """("zoho" | "cscart", id) for calls that take exactly one of the two ids."""
    if (zoho_id is None) == (cscart_id is None):
        raise ValueError("give exactly one of zoho_id or cscart_id")
    if zoho_id is not None:
        return "zoho", require_text(zoho_id, "zoho_id")
    return "cscart", require_text(cscart_id, "cscart_id")


def resolve_default_url() -> tuple[str, str | None]:
    """URL (and optional schema) of the default store: Connection ``zoho_cscart_state`` or SQLite."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from zoho_cscart_sync.hooks.config import lookup_connection

    try:
        connection = lookup_connection(DEFAULT_CONN_ID)
    except AirflowNotFoundException:
        path = Path(airflow_home()) / DEFAULT_SQLITE_FILENAME
        log.info("State store: Connection %r is not defined, using SQLite file %s", DEFAULT_CONN_ID, path)
        return f"sqlite:///{path}", None
    schema = connection.extra_dejson.get("state_schema") or None
    if connection.conn_type == "sqlite":
        if not connection.host:
            raise ValueError(f"Connection {DEFAULT_CONN_ID!r} is a sqlite connection without a file path (host)")
        return f"sqlite:///{connection.host}", None
    log.info("State store: using Connection %r (%s)", DEFAULT_CONN_ID, connection.conn_type)
    return connection.get_uri(), schema


def airflow_home() -> str:
    """AIRFLOW_HOME resolved the way Airflow itself does (environment variable, default ~/airflow)."""
    return os.path.expanduser(os.path.expandvars(os.environ.get("AIRFLOW_HOME", "~/airflow")))
