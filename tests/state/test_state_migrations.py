"""Versioned migrations: fresh install, idempotence, upgrade N-1 -> N, concurrent migrators, drift check."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from zoho_cscart_sync.state import CachedToken, SchemaVersionError, StateStore, tables
from zoho_cscart_sync.state.migrations import LATEST_VERSION, MIGRATIONS

T0 = datetime(2026, 2, 1, tzinfo=timezone.utc)


def _table_names(store: StateStore, schema: str | None) -> set[str]:
    return {name for name in sa.inspect(store.engine).get_table_names(schema=schema) if name.startswith("zcs_")}


def _applied_versions(store: StateStore) -> list[int]:
    with store.engine.connect() as connection:
        return list(
            connection.execute(sa.select(tables.schema_version.c.version).order_by(tables.schema_version.c.version))
            .scalars()
            .all()
        )


def test_versions_are_consecutive_from_one() -> None:
    assert [step.version for step in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_fresh_database_is_migrated_lazily_on_first_use(store: StateStore, store_target: Any) -> None:
    assert store.schema_version() == 0
    assert store.get_watermark("acme_store", "customers", "zoho_to_cscart") is None
    assert store.schema_version() == LATEST_VERSION
    assert _table_names(store, store_target.schema) == {table.name for table in tables.metadata.sorted_tables}


def test_migrate_is_idempotent(store: StateStore) -> None:
    assert store.migrate() == LATEST_VERSION
    assert store.migrate() == LATEST_VERSION
    assert _applied_versions(store) == list(range(1, LATEST_VERSION + 1))


def test_upgrade_from_version_1_keeps_data(store: StateStore, store_target: Any) -> None:
    previous = 1
    assert store.migrate(target_version=previous) == previous
    assert "zcs_links" not in _table_names(store, store_target.schema)
    # Rows written by the previous version, straight into its tables.
    with store.engine.begin() as connection:
        connection.execute(
            tables.watermarks.insert().values(
                tenant="acme_store",
                entity="orders",
                direction="cscart_to_zoho",
                value=T0,
                run_id="old",
                updated_at=T0,
            )
        )

    upgraded = store_target.open()
    try:
        token = CachedToken("ct", "https://www.zohoapis.com", T0, T0)
        upgraded.put_token("zoho:acme_store", token)  # first use upgrades to the latest version
        assert upgraded.schema_version() == LATEST_VERSION
        assert upgraded.get_watermark("acme_store", "orders", "cscart_to_zoho") == T0
        assert upgraded.get_token("zoho:acme_store") == token
        link = upgraded.save_link("acme_store", "customers", zoho_id="z1", cscart_id="c1", run_id="new")
        assert link.zoho_id == "z1"
    finally:
        upgraded.close()


def test_upgrade_from_version_2_keeps_quarantine_entries(store: StateStore, store_target: Any) -> None:
    assert store.migrate(target_version=2) == 2
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO zcs_quarantine (tenant, entity, direction, source_id, reason, stage, field, run_id, "
                "attempts, first_seen, last_seen, resolved_at) VALUES ('acme_store', 'customers', 'zoho_to_cscart', "
                "'z1', 'old failure', 'load', NULL, 'old', 2, :t, :t, NULL)"
            ),
            {"t": T0},
        )
    upgraded = store_target.open()
    try:
        entries = upgraded.open_quarantine("acme_store", "customers", "zoho_to_cscart")
        assert upgraded.schema_version() == LATEST_VERSION
        entry = entries["z1"]
        # An entry from before kinds existed is retried every run, as it was before the upgrade.
        assert (entry.reason, entry.attempts, entry.kind, entry.content_hash) == ("old failure", 2, "transient", None)
    finally:
        upgraded.close()


def test_database_newer_than_the_code_is_refused(store: StateStore, store_target: Any) -> None:
    store.migrate()
    with store.engine.begin() as connection:
        connection.execute(
            tables.schema_version.insert().values(version=LATEST_VERSION + 1, description="future", applied_at=T0)
        )
    newer = store_target.open()
    try:
        with pytest.raises(SchemaVersionError, match=f"schema version {LATEST_VERSION + 1}"):
            newer.get_watermark("acme_store", "customers", "zoho_to_cscart")
    finally:
        newer.close()


def test_target_version_out_of_range_is_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="target_version"):
        store.migrate(target_version=LATEST_VERSION + 1)


def test_migrated_schema_matches_the_tables_the_code_uses(store: StateStore, store_target: Any) -> None:
    """The frozen migration tables and tables.py must not drift apart."""
    store.migrate()
    inspector = sa.inspect(store.engine)
    for table in tables.metadata.sorted_tables:
        columns = {column["name"]: column for column in inspector.get_columns(table.name, schema=store_target.schema)}
        assert set(columns) == set(table.columns.keys()), table.name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, f"{table.name}.{column.name}"
        expected_unique = {
            tuple(constraint.columns.keys())
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint)
        }
        actual_unique = {
            tuple(constraint["column_names"])
            for constraint in inspector.get_unique_constraints(table.name, schema=store_target.schema)
        }
        assert actual_unique == expected_unique, table.name
        primary_key = inspector.get_pk_constraint(table.name, schema=store_target.schema)["constrained_columns"]
        assert primary_key == [column.name for column in table.primary_key.columns], table.name


def test_concurrent_migrators_apply_each_step_once(
    store: StateStore, spawn_worker: Any, finish: Any, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    workers = [spawn_worker("migrate", str(go)) for _ in range(4)]
    time.sleep(1.0)  # let every worker import and wait on the start line
    go.touch()
    for worker in workers:
        assert finish(worker).strip() == str(LATEST_VERSION)
    assert _applied_versions(store) == list(range(1, LATEST_VERSION + 1))
