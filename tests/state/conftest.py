"""Fixtures: one store fixture parametrised over SQLite (tmp_path) and the real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from zoho_cscart_sync.state import StateStore

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("lock_worker.py")


class FakeClock:
    """A settable UTC clock, so first/last-seen and updated-at times can be asserted exactly."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class StoreTarget:
    """Where a test's store lives; ``open`` makes another store (another 'process') on the same data."""

    backend: str
    url: str
    schema: str | None

    def open(self, clock: FakeClock | None = None) -> StateStore:
        if clock is None:
            return StateStore.from_url(self.url, schema=self.schema)
        return StateStore.from_url(self.url, schema=self.schema, clock=clock)


def _drop_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_target(request: pytest.FixtureRequest, tmp_path) -> Iterator[StoreTarget]:
    """An empty database: a SQLite file in tmp_path, or a fresh random PostgreSQL schema (dropped after)."""
    if request.param == "sqlite":
        yield StoreTarget("sqlite", f"sqlite:///{tmp_path / 'state.db'}", None)
        return
    url = request.getfixturevalue("postgres_url")
    schema = f"zcs_test_{uuid.uuid4().hex[:16]}"
    try:
        yield StoreTarget("postgresql", url, schema)
    finally:
        _drop_schema(url, schema)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc))


@pytest.fixture
def store(store_target: StoreTarget, clock: FakeClock) -> Iterator[StateStore]:
    state_store = store_target.open(clock)
    try:
        yield state_store
    finally:
        state_store.close()


@pytest.fixture
def spawn_worker(store_target: StoreTarget) -> Callable[..., subprocess.Popen[str]]:
    """Start ``lock_worker.py MODE URL SCHEMA ARGS...`` as a separate Python process on the test's store."""

    def spawn(mode: str, *args: str) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "plugins")}
        return subprocess.Popen(
            [sys.executable, str(WORKER), mode, store_target.url, store_target.schema or "", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    return spawn


def finish_worker(process: subprocess.Popen[str]) -> str:
    """Wait for a worker; fail the test with its stderr when it failed. Returns its stdout."""
    stdout, stderr = process.communicate(timeout=90)
    assert process.returncode == 0, stderr
    return stdout


@pytest.fixture
def finish() -> Callable[[subprocess.Popen[str]], str]:
    return finish_worker
