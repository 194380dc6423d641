"""Database URLs and engines for the state store: SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

SUPPORTED_BACKENDS = ("sqlite", "postgresql")

# Airflow's Connection.get_uri() packs non-string extras into this query parameter; no driver accepts it.
AIRFLOW_EXTRA_PARAM = "__extra__"
# Optional query parameter / Connection extra naming the PostgreSQL schema that holds the zcs_ tables.
STATE_SCHEMA_PARAM = "state_schema"

# How long a SQLite connection waits for another process's write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 60.0

_WRITE_OPTION = "zcs_write"


def normalise_database_url(url: str | URL) -> URL:
    """Parse ``url`` and point PostgreSQL at the psycopg2 driver (Airflow writes ``postgres://``)."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "postgres" or parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"the state store supports {', '.join(SUPPORTED_BACKENDS)} databases, got {display_url(parsed)!r}"
        )
    return parsed.difference_update_query([AIRFLOW_EXTRA_PARAM])


def display_url(url: str | URL) -> str:
    """The URL with its password masked, safe for logs and error messages."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def split_state_schema(url: URL) -> tuple[URL, str | None]:
    """Take the optional ``state_schema`` query parameter off ``url`` (psycopg2 would reject it)."""
    schema = url.query.get(STATE_SCHEMA_PARAM)
    if isinstance(schema, tuple):
        schema = schema[-1]
    return url.difference_update_query([STATE_SCHEMA_PARAM]), schema or None


def sqlite_database_path(engine: Engine) -> str | None:
    """The file behind a SQLite engine, or None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return database


def create_state_engine(url: URL, *, schema: str | None = None) -> Engine:
    """Create the engine with the per-backend settings the store relies on.

    SQLite: WAL (readers never block the writer), a busy timeout so concurrent Airflow task processes wait
    instead of failing with "database is locked", foreign keys on, and explicit BEGIN statements because
    the sqlite3 module's own transaction handling would otherwise commit in the middle of our DDL.
    PostgreSQL: pre-ping pooled connections and, when ``schema`` is set, put it first on the search_path.
    """
    backend = url.get_backend_name()
    if backend == "sqlite":
        if schema:
            raise ValueError("a schema can only be chosen for PostgreSQL state stores, not SQLite")
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        _configure_sqlite(engine)
        return engine
    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if schema:
        _set_search_path(engine, schema)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    in_memory = sqlite_database_path(engine) is None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the write lock up front (IMMEDIATE), so it waits on the busy timeout instead of
        # failing half-way when a read transaction would have to be upgraded; readers stay DEFERRED.
        mode = "IMMEDIATE" if connection.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


def _set_search_path(engine: Engine, schema: str) -> None:
    quoted = engine.dialect.identifier_preparer.quote_identifier(schema)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET search_path TO {quoted}")
        finally:
            cursor.close()
        # psycopg2 opened a transaction for SET; end it so the pool hands out an idle connection.
        dbapi_connection.commit()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that will write (SQLite: BEGIN IMMEDIATE); commits on success."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE_OPTION: True})
        with connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside a read-only transaction, so multi-statement reads see one snapshot."""
    with engine.connect() as connection, connection.begin():
        yield connection


def advisory_lock_key(*parts: str) -> int:
    """A stable signed 64-bit key for pg_advisory_*lock derived from the given strings."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def upsert_insert(connection: Connection, table: sa.Table) -> Any:
    """An INSERT that supports ``on_conflict_do_update`` / ``on_conflict_do_nothing`` on this back-end."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
