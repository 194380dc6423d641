"""Versioned schema migrations for the state store.

Each step is a plain function applied once, in order, inside one transaction together with its row in
``zcs_schema_version``. The steps keep frozen copies of the tables they create (as Alembic revisions
do), so changing a table later means appending a step, never editing an old one. Two processes
migrating at once are serialised: PostgreSQL by a transaction-scoped advisory lock, SQLite by taking
the database write lock up front (BEGIN IMMEDIATE). Both back-ends run DDL transactionally, so a failed
step leaves the previous version intact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateSchema, CreateTable

from zoho_cscart_sync.state import tables
from zoho_cscart_sync.state.engine import advisory_lock_key, write_transaction
from zoho_cscart_sync.state.errors import SchemaVersionError
from zoho_cscart_sync.state.timestamps import UtcDateTime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """One schema step: ``apply`` runs inside the migration transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_watermarks_and_token_cache(connection: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "zcs_watermarks",
        md,
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("direction", sa.String(30), primary_key=True),
        sa.Column("value", UtcDateTime, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    sa.Table(
        "zcs_token_cache",
        md,
        sa.Column("cache_key", sa.String(255), primary_key=True),
        sa.Column("access_token_ciphertext", sa.Text, nullable=False),
        sa.Column("api_domain", sa.String(255), nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("minted_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    sa.Table(
        "zcs_token_mints",
        md,
        sa.Column("id", tables.AutoIncrementId, primary_key=True, autoincrement=True),
        sa.Column("cache_key", sa.String(255), nullable=False),
        sa.Column("minted_at", UtcDateTime, nullable=False),
        sa.Index("ix_zcs_token_mints_key_time", "cache_key", "minted_at"),
    )
    md.create_all(connection, checkfirst=False)


def _v2_id_map_quarantine_and_run_stats(connection: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "zcs_links",
        md,
        sa.Column("id", tables.AutoIncrementId, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("zoho_id", sa.String(255), nullable=True),
        sa.Column("cscart_id", sa.String(255), nullable=True),
        sa.Column("hash_to_cscart", sa.String(128), nullable=True),
        sa.Column("hash_to_zoho", sa.String(128), nullable=True),
        sa.Column("flags", sa.String(500), nullable=False, server_default=""),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_synced_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("tenant", "entity", "zoho_id", name="uq_zcs_links_zoho_id"),
        sa.UniqueConstraint("tenant", "entity", "cscart_id", name="uq_zcs_links_cscart_id"),
        sa.CheckConstraint("zoho_id IS NOT NULL OR cscart_id IS NOT NULL", name="ck_zcs_links_has_an_id"),
    )
    sa.Table(
        "zcs_natural_keys",
        md,
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("key_kind", sa.String(50), primary_key=True),
        sa.Column("key_value", sa.String(512), primary_key=True),
        sa.Column(
            "link_id",
            tables.AutoIncrementId,
            sa.ForeignKey("zcs_links.id", ondelete="CASCADE", name="fk_zcs_natural_keys_link"),
            nullable=False,
        ),
        sa.UniqueConstraint("link_id", "key_kind", name="uq_zcs_natural_keys_link_kind"),
    )
    sa.Table(
        "zcs_pending_writes",
        md,
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("direction", sa.String(30), primary_key=True),
        sa.Column("source_id", sa.String(255), primary_key=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("natural_key", sa.String(512), nullable=True),
        sa.Column("marked_at", UtcDateTime, nullable=False),
    )
    sa.Table(
        "zcs_quarantine",
        md,
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("direction", sa.String(30), primary_key=True),
        sa.Column("source_id", sa.String(255), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("field", sa.String(200), nullable=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_seen", UtcDateTime, nullable=False),
        sa.Column("last_seen", UtcDateTime, nullable=False),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
    )
    sa.Table(
        "zcs_run_stats",
        md,
        sa.Column("id", tables.AutoIncrementId, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Column("stats", sa.Text, nullable=False),
        sa.UniqueConstraint("tenant", "entity", "run_id", name="uq_zcs_run_stats_run"),
        sa.Index("ix_zcs_run_stats_recent", "tenant", "entity", "recorded_at"),
    )
    md.create_all(connection, checkfirst=False)


def _v3_quarantine_kinds(connection: Connection) -> None:
    # ADD COLUMN with a constant default is a metadata-only change on both back-ends (no table rewrite).
    for statement in (
        "ALTER TABLE {table} ADD COLUMN kind VARCHAR(20) DEFAULT 'transient' NOT NULL",
        "ALTER TABLE {table} ADD COLUMN content_hash VARCHAR(128)",
        "ALTER TABLE {table} ADD COLUMN first_run_id VARCHAR(250)",
    ):
        # An optional PostgreSQL state schema is first on the search_path (engine.py), so the bare name resolves.
        connection.execute(sa.text(statement.format(table="zcs_quarantine")))


def _v4_backlogs(connection: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "zcs_backlogs",
        md,
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("direction", sa.String(30), primary_key=True),
        sa.Column("since", UtcDateTime, nullable=True),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    md.create_all(connection, checkfirst=False)


def _v5_link_origin_and_run_counts(connection: Connection) -> None:
    # Nullable ADD COLUMN: metadata-only on both back-ends; links made before v5 keep origin NULL (unknown).
    connection.execute(sa.text("ALTER TABLE zcs_links ADD COLUMN origin VARCHAR(30)"))
    md = sa.MetaData()
    sa.Table(
        "zcs_run_counts",
        md,
        sa.Column("id", tables.AutoIncrementId, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Column("cscart_total", sa.Integer, nullable=True),
        sa.Column("synced", sa.Integer, nullable=False),
        sa.Column("not_synced", sa.Integer, nullable=True),
        sa.Column("zoho_total", sa.Integer, nullable=True),
        sa.Column("not_in_cscart", sa.Integer, nullable=True),
        sa.Column("already_imported", sa.Integer, nullable=False),
        sa.Column("zoho_counted_run_id", sa.String(250), nullable=True),
        sa.Column("zoho_counted_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("tenant", "entity", "run_id", name="uq_zcs_run_counts_run"),
        sa.Index("ix_zcs_run_counts_recent", "tenant", "entity", "recorded_at"),
    )
    md.create_all(connection, checkfirst=False)


def _v6_run_leases(connection: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "zcs_run_leases",
        md,
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("direction", sa.String(30), primary_key=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("acquired_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    md.create_all(connection, checkfirst=False)


def _v7_shared_rate_limits(connection: Connection) -> None:
    # Pacing state only (zoho_cscart_sync.http.shared_ratelimit): unlogged on PostgreSQL, as losing it in a
    # crash only forgets the last minute's requests, and every request writes it.
    prefixes = ["UNLOGGED"] if connection.dialect.name == "postgresql" else []
    md = sa.MetaData()
    sa.Table(
        "zcs_rate_slots",
        md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("scope_key", sa.String(200), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("answered_at", sa.Float, nullable=True),
        sa.Column("accepted", sa.Boolean, nullable=True),
        sa.Index("ix_zcs_rate_slots_scope", "scope_key", "answered_at"),
        prefixes=prefixes,
    )
    sa.Table(
        "zcs_rate_pauses",
        md,
        sa.Column("scope_key", sa.String(200), primary_key=True),
        sa.Column("paused_until", sa.Float, nullable=False),
        prefixes=prefixes,
    )
    md.create_all(connection, checkfirst=False)


def _v8_lost_conflicts(connection: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "zcs_lost_conflicts",
        md,
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("direction", sa.String(30), primary_key=True),
        sa.Column("source_id", sa.String(255), primary_key=True),
        sa.Column("target_id", sa.String(255), nullable=False),
        sa.Column("master", sa.String(30), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("decided_at", UtcDateTime, nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
    )
    md.create_all(connection, checkfirst=False)


def _v9_unlinked_and_quarantine_indexes(connection: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "zcs_unlinked",
        md,
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("zoho_id", sa.String(255), primary_key=True),
        sa.Column("stream", sa.String(50), nullable=False),
        sa.Column("label", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("first_seen", UtcDateTime, nullable=False),
        sa.Column("last_seen", UtcDateTime, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
    )
    md.create_all(connection, checkfirst=False)
    # Partial indexes over the open quarantine entries (both back-ends support ``WHERE`` on an index): the per
    # (direction, kind) tally reads the first alone; "newest last seen first" pages are range scans of the second.
    quarantine = sa.Table(
        "zcs_quarantine",
        sa.MetaData(),
        sa.Column("tenant", sa.String(100)),
        sa.Column("entity", sa.String(50)),
        sa.Column("direction", sa.String(30)),
        sa.Column("source_id", sa.String(255)),
        sa.Column("kind", sa.String(20)),
        sa.Column("last_seen", UtcDateTime),
        sa.Column("resolved_at", UtcDateTime),
    )
    open_only = sa.text("resolved_at IS NULL")
    c = quarantine.c
    for name, columns in (
        ("ix_zcs_quarantine_open_kinds", (c.tenant, c.entity, c.direction, c.kind, c.resolved_at)),
        ("ix_zcs_quarantine_open_recent", (c.tenant, c.entity, c.last_seen, c.direction, c.source_id)),
    ):
        sa.Index(name, *columns, sqlite_where=open_only, postgresql_where=open_only).create(connection)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "watermarks and token cache", _v1_watermarks_and_token_cache),
    Migration(
        2,
        "id map, natural keys, pending writes, quarantine, run statistics",
        _v2_id_map_quarantine_and_run_stats,
    ),
    Migration(3, "quarantine kinds: content / transient / waiting, content hash, first run", _v3_quarantine_kinds),
    Migration(4, "backlogs: unfinished windows of directions that spent their call budget", _v4_backlogs),
    Migration(5, "link origin and per-run dashboard counts", _v5_link_origin_and_run_counts),
    Migration(6, "run leases: one run at a time per tenant, entity and direction", _v6_run_leases),
    Migration(7, "shared rate limits: request places and 429 pauses per API scope", _v7_shared_rate_limits),
    Migration(8, "lost conflicts: the latest losing change per record", _v8_lost_conflicts),
    Migration(
        9,
        "Zoho records not in CS-Cart (console import list); open quarantine indexes by kind and last seen",
        _v9_unlinked_and_quarantine_indexes,
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version


def read_schema_version(connection: Connection, schema: str | None = None) -> int:
    """The highest applied version, 0 for a database the store has never touched."""
    if not sa.inspect(connection).has_table(tables.schema_version.name, schema=schema):
        return 0
    return connection.execute(sa.select(sa.func.coalesce(sa.func.max(tables.schema_version.c.version), 0))).scalar_one()


def migrate(
    engine: Engine,
    *,
    now: datetime,
    schema: str | None = None,
    target_version: int | None = None,
) -> int:
    """Bring the database up to ``target_version`` (default: the latest) and return the version reached.

    Idempotent: an up-to-date database costs one locked read. Raises SchemaVersionError when the
    database is newer than this code, so an old worker never writes into a schema it does not know.
    """
    target = LATEST_VERSION if target_version is None else target_version
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"target_version must be between 0 and {LATEST_VERSION}, got {target}")
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(advisory_lock_key("zcs-migrate", schema or ""))))
            if schema:
                connection.execute(CreateSchema(schema, if_not_exists=True))
        connection.execute(CreateTable(tables.schema_version, if_not_exists=True))
        current = connection.execute(
            sa.select(sa.func.coalesce(sa.func.max(tables.schema_version.c.version), 0))
        ).scalar_one()
        if current > LATEST_VERSION:
            raise SchemaVersionError(
                f"the state database is at schema version {current}, newer than this code knows "
                f"({LATEST_VERSION}); upgrade zoho_cscart_sync on this worker"
            )
        for step in MIGRATIONS:
            if current < step.version <= target:
                log.info("State store: applying schema migration %d (%s)", step.version, step.description)
                step.apply(connection)
                connection.execute(
                    tables.schema_version.insert().values(
                        version=step.version, description=step.description, applied_at=now
                    )
                )
        return max(current, target)
