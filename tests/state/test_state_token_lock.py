"""token_lock excludes other PROCESSES (real subprocesses) on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from zoho_cscart_sync.state import StateStore, TokenLockTimeout

CACHE_KEY = "zoho:lock-test"  # the key lock_worker.py locks


def _wait_for(path: Path, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        assert time.monotonic() < deadline, f"worker never created {path}"
        time.sleep(0.01)


def test_lock_serialises_critical_sections_of_several_processes(
    store: StateStore, spawn_worker: Any, finish: Any, tmp_path: Path
) -> None:
    store.migrate()  # so the workers race on the lock, not on the first migration
    log_path = tmp_path / "critical.log"
    workers = [spawn_worker("count", str(log_path), "8") for _ in range(3)]
    for worker in workers:
        finish(worker)

    lines = log_path.read_text().splitlines()
    assert len(lines) == 3 * 8 * 2
    # Inside the lock nobody else may enter: every "enter P" is followed directly by "exit P".
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):
        assert enter.startswith("enter ")
        assert leave == "exit " + enter.removeprefix("enter ")
    assert len({line.split()[1] for line in lines}) == 3


def test_lock_held_by_another_process_times_out_then_is_free(
    store: StateStore, spawn_worker: Any, finish: Any, tmp_path: Path
) -> None:
    store.migrate()
    ready, release = tmp_path / "ready", tmp_path / "release"
    holder = spawn_worker("hold", str(ready), str(release))
    try:
        _wait_for(ready)
        started = time.monotonic()
        with (
            pytest.raises(TokenLockTimeout, match="zoho:lock-test"),
            store.token_lock(CACHE_KEY, timeout=0.3),
        ):
            pass
        assert time.monotonic() - started >= 0.3
        # A different key is not blocked by the held one.
        with store.token_lock("zoho:other-key", timeout=0.3):
            pass
    finally:
        release.touch()
        finish(holder)
    with store.token_lock(CACHE_KEY, timeout=5):
        pass


def test_lock_is_released_when_the_block_raises(store: StateStore, clock: Any) -> None:
    with pytest.raises(RuntimeError, match="refresh failed"), store.token_lock("k", timeout=1):
        raise RuntimeError("refresh failed")
    with store.token_lock("k", timeout=0.5):
        store.record_token_mint("k", clock.now)
    assert store.token_mints_since("k", clock.now) == 1


def test_lock_excludes_a_second_store_in_the_same_process(store: StateStore, store_target: Any) -> None:
    other = store_target.open()
    try:
        with (
            store.token_lock("k", timeout=1),
            pytest.raises(TokenLockTimeout),
            other.token_lock("k", timeout=0.2),
        ):
            pass
    finally:
        other.close()


def test_in_memory_sqlite_store_locks_between_threads() -> None:
    memory_store = StateStore.from_url("sqlite://")
    with (
        memory_store.token_lock("k", timeout=1),
        pytest.raises(TokenLockTimeout),
        memory_store.token_lock("k", timeout=0.1),
    ):
        pass
    memory_store.close()
