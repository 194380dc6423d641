"""Several task processes writing at once: no "database is locked", nothing lost."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from zoho_cscart_sync.state import StateStore


def test_concurrent_writer_processes_all_succeed(
    store: StateStore, spawn_worker: Any, finish: Any, tmp_path: Path
) -> None:
    store.migrate()
    go = tmp_path / "go"
    iterations = 25
    workers = [spawn_worker("write", str(go), str(iterations)) for _ in range(3)]
    time.sleep(1.0)  # every worker imported and waiting, so their writes really overlap
    go.touch()
    for worker in workers:
        finish(worker)

    assert len(list(store.list_links("acme_store", "orders"))) == 3 * iterations
    assert len(store.quarantined_ids("acme_store", "orders", "cscart_to_zoho")) == 3 * iterations
    assert store.get_watermark("acme_store", "orders", "zoho_to_cscart") == datetime(
        2026, 1, 1, tzinfo=timezone.utc
    ) + timedelta(seconds=iterations - 1)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30_000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert isinstance(store.engine.pool, sa.pool.QueuePool)
    finally:
        store.close()
