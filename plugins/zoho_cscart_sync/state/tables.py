"""The state store's tables as the code uses them now (SQLAlchemy Core, no ORM).

This is the *current* shape. The migrations in ``migrations.py`` keep their own frozen copies of each
table as it was when introduced, so editing a table here means adding a migration step; a test checks
that the migrated database matches these definitions.
"""

from __future__ import annotations

import sqlalchemy as sa

from zoho_cscart_sync.state.timestamps import UtcDateTime

metadata = sa.MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL gets a 64-bit identity.
AutoIncrementId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TENANT = 100
ENTITY = 50
DIRECTION = 30
RECORD_ID = 255
RUN_ID = 250
HASH = 128
NATURAL_KEY_VALUE = 512

schema_version = sa.Table(
    "zcs_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)

watermarks = sa.Table(
    "zcs_watermarks",
    metadata,
    sa.Column("tenant", sa.String(TENANT), primary_key=True),
    sa.Column("entity", sa.String(ENTITY), primary_key=True),
    sa.Column("direction", sa.String(DIRECTION), primary_key=True),
    sa.Column("value", UtcDateTime, nullable=False),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

backlogs = sa.Table(
    "zcs_backlogs",
    metadata,
    sa.Column("tenant", sa.String(TENANT), primary_key=True),
    sa.Column("entity", sa.String(ENTITY), primary_key=True),
    sa.Column("direction", sa.String(DIRECTION), primary_key=True),
    sa.Column("since", UtcDateTime, nullable=True),
    sa.Column("done", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

run_leases = sa.Table(
    "zcs_run_leases",
    metadata,
    sa.Column("tenant", sa.String(TENANT), primary_key=True),
    sa.Column("entity", sa.String(ENTITY), primary_key=True),
    sa.Column("direction", sa.String(DIRECTION), primary_key=True),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

token_cache = sa.Table(
    "zcs_token_cache",
    metadata,
    sa.Column("cache_key", sa.String(255), primary_key=True),
    sa.Column("access_token_ciphertext", sa.Text, nullable=False),
    sa.Column("api_domain", sa.String(255), nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("minted_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

token_mints = sa.Table(
    "zcs_token_mints",
    metadata,
    sa.Column("id", AutoIncrementId, primary_key=True, autoincrement=True),
    sa.Column("cache_key", sa.String(255), nullable=False),
    sa.Column("minted_at", UtcDateTime, nullable=False),
    sa.Index("ix_zcs_token_mints_key_time", "cache_key", "minted_at"),
)

links = sa.Table(
    "zcs_links",
    metadata,
    sa.Column("id", AutoIncrementId, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(TENANT), nullable=False),
    sa.Column("entity", sa.String(ENTITY), nullable=False),
    sa.Column("zoho_id", sa.String(RECORD_ID), nullable=True),
    sa.Column("cscart_id", sa.String(RECORD_ID), nullable=True),
    sa.Column("hash_to_cscart", sa.String(HASH), nullable=True),
    sa.Column("hash_to_zoho", sa.String(HASH), nullable=True),
    # Flags as ",a,b," so one LIKE '%,flag,%' filters them; flag names are checked to exclude commas.
    sa.Column("flags", sa.String(500), nullable=False, server_default=""),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_synced_at", UtcDateTime, nullable=False),
    sa.Column("deleted_at", UtcDateTime, nullable=True),
    # v5: the direction whose write first linked the pair (``zoho_to_cscart``: created in or adopted into
    # CS-Cart from Zoho); None for links made before v5. Never changed after the insert.
    sa.Column("origin", sa.String(DIRECTION), nullable=True),
    sa.UniqueConstraint("tenant", "entity", "zoho_id", name="uq_zcs_links_zoho_id"),
    sa.UniqueConstraint("tenant", "entity", "cscart_id", name="uq_zcs_links_cscart_id"),
    sa.CheckConstraint("zoho_id IS NOT NULL OR cscart_id IS NOT NULL", name="ck_zcs_links_has_an_id"),
)

natural_keys = sa.Table(
    "zcs_natural_keys",
    metadata,
    sa.Column("tenant", sa.String(TENANT), primary_key=True),
    sa.Column("entity", sa.String(ENTITY), primary_key=True),
    sa.Column("key_kind", sa.String(50), primary_key=True),
    sa.Column("key_value", sa.String(NATURAL_KEY_VALUE), primary_key=True),
    sa.Column(
        "link_id",
        AutoIncrementId,
        sa.ForeignKey("zcs_links.id", ondelete="CASCADE", name="fk_zcs_natural_keys_link"),
        nullable=False,
    ),
    sa.UniqueConstraint("link_id", "key_kind", name="uq_zcs_natural_keys_link_kind"),
)

pending_writes = sa.Table(
    "zcs_pending_writes",
    metadata,
    sa.Column("tenant", sa.String(TENANT), primary_key=True),
    sa.Column("entity", sa.String(ENTITY), primary_key=True),
    sa.Column("direction", sa.String(DIRECTION), primary_key=True),
    sa.Column("source_id", sa.String(RECORD_ID), primary_key=True),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("natural_key", sa.String(NATURAL_KEY_VALUE), nullable=True),
    sa.Column("marked_at", UtcDateTime, nullable=False),
)

quarantine = sa.Table(
    "zcs_quarantine",
    metadata,
    sa.Column("tenant", sa.String(TENANT), primary_key=True),
    sa.Column("entity", sa.String(ENTITY), primary_key=True),
    sa.Column("direction", sa.String(DIRECTION), primary_key=True),
    sa.Column("source_id", sa.String(RECORD_ID), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("stage", sa.String(50), nullable=False),
    sa.Column("field", sa.String(200), nullable=True),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    # v3: why it waits (content | transient | waiting), the source content it failed with, and the run that
    # opened the episode (a failure is "new" in that run only).
    sa.Column("kind", sa.String(20), nullable=False, server_default="transient"),
    sa.Column("content_hash", sa.String(HASH), nullable=True),
    sa.Column("first_run_id", sa.String(RUN_ID), nullable=True),
)

# v9: open entries by (direction, kind) and by last seen, newest first (console and CLI lists): partial indexes over the
# open entries only, so the per-kind tally reads the index alone and a "last seen" page is a range scan.
OPEN_QUARANTINE = sa.text("resolved_at IS NULL")
sa.Index(
    "ix_zcs_quarantine_open_kinds",
    quarantine.c.tenant,
    quarantine.c.entity,
    quarantine.c.direction,
    quarantine.c.kind,
    quarantine.c.resolved_at,  # always NULL here: makes the index covering for SQLite's planner
    sqlite_where=OPEN_QUARANTINE,
    postgresql_where=OPEN_QUARANTINE,
)
sa.Index(
    "ix_zcs_quarantine_open_recent",
    quarantine.c.tenant,
    quarantine.c.entity,
    quarantine.c.last_seen,
    quarantine.c.direction,
    quarantine.c.source_id,
    sqlite_where=OPEN_QUARANTINE,
    postgresql_where=OPEN_QUARANTINE,
)

lost_conflicts = sa.Table(
    "zcs_lost_conflicts",
    metadata,
    # v8: one row per record and losing direction, the latest conflict replacing the one before (bounded by the
    # number of linked records). ``direction``/``source_id`` name the losing change: the direction it would have
    # synced in and its record id in that direction's source; ``target_id`` is the master's copy of the record.
    sa.Column("tenant", sa.String(TENANT), primary_key=True),
    sa.Column("entity", sa.String(ENTITY), primary_key=True),
    sa.Column("direction", sa.String(DIRECTION), primary_key=True),
    sa.Column("source_id", sa.String(RECORD_ID), primary_key=True),
    sa.Column("target_id", sa.String(RECORD_ID), nullable=False),
    sa.Column("master", sa.String(DIRECTION), nullable=False),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("decided_at", UtcDateTime, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False),
)

run_stats = sa.Table(
    "zcs_run_stats",
    metadata,
    sa.Column("id", AutoIncrementId, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(TENANT), nullable=False),
    sa.Column("entity", sa.String(ENTITY), nullable=False),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("stats", sa.Text, nullable=False),
    sa.UniqueConstraint("tenant", "entity", "run_id", name="uq_zcs_run_stats_run"),
    sa.Index("ix_zcs_run_stats_recent", "tenant", "entity", "recorded_at"),
)

run_counts = sa.Table(
    "zcs_run_counts",
    metadata,
    sa.Column("id", AutoIncrementId, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(TENANT), nullable=False),
    sa.Column("entity", sa.String(ENTITY), nullable=False),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("cscart_total", sa.Integer, nullable=True),
    sa.Column("synced", sa.Integer, nullable=False),
    sa.Column("not_synced", sa.Integer, nullable=True),
    sa.Column("zoho_total", sa.Integer, nullable=True),
    sa.Column("not_in_cscart", sa.Integer, nullable=True),
    sa.Column("already_imported", sa.Integer, nullable=False),
    sa.Column("zoho_counted_run_id", sa.String(RUN_ID), nullable=True),
    sa.Column("zoho_counted_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("tenant", "entity", "run_id", name="uq_zcs_run_counts_run"),
    sa.Index("ix_zcs_run_counts_recent", "tenant", "entity", "recorded_at"),
)

# Shared rate limits (zoho_cscart_sync.http.shared_ratelimit): times are the database's epoch seconds.
RATE_SCOPE_KEY = 200
rate_slots = sa.Table(
    "zcs_rate_slots",
    metadata,
    sa.Column("id", AutoIncrementId, primary_key=True, autoincrement=True),
    sa.Column("scope_key", sa.String(RATE_SCOPE_KEY), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("answered_at", sa.Float, nullable=True),
    sa.Column("accepted", sa.Boolean, nullable=True),
    sa.Index("ix_zcs_rate_slots_scope", "scope_key", "answered_at"),
)

rate_pauses = sa.Table(
    "zcs_rate_pauses",
    metadata,
    sa.Column("scope_key", sa.String(RATE_SCOPE_KEY), primary_key=True),
    sa.Column("paused_until", sa.Float, nullable=False),
)

unlinked = sa.Table(
    "zcs_unlinked",
    metadata,
    # v9: Zoho records the Zoho -> CS-Cart load read and left without a CS-Cart twin (skipped, waiting, quarantined,
    # not written), one row per record: what the console's "Not in CS-Cart" list and "Import selected" show. Kept by
    # the kit (``kit/unlinked.py``), one batched upsert per page of staged records; removed when the record is linked
    # or Zoho reports it deleted, and after a full read that no longer finds it.
    sa.Column("tenant", sa.String(TENANT), primary_key=True),
    sa.Column("entity", sa.String(ENTITY), primary_key=True),
    sa.Column("zoho_id", sa.String(RECORD_ID), primary_key=True),
    sa.Column("stream", sa.String(50), nullable=False),
    sa.Column("label", sa.String(255), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("run_id", sa.String(RUN_ID), nullable=False),
)
