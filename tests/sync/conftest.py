"""Fixtures of the sync-engine tests: a SQLite state store per test and a CS-Cart users writer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.sync.sync_test_support import CsCartUsersWriter, StateLocation
from zoho_cscart_sandbox.handle import SandboxHandle
from zoho_cscart_sync.state import StateStore


@pytest.fixture
def postgres_location(postgres_url: str) -> Iterator[StateLocation]:
    """An empty store in a throwaway schema of the real PostgreSQL server (dropped afterwards)."""
    location = StateLocation(postgres_url, f"zcs_sync_test_{uuid.uuid4().hex[:12]}")
    try:
        yield location
    finally:
        engine = sa.create_engine(postgres_url)
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{location.schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_location(request: pytest.FixtureRequest) -> StateLocation:
    """An empty store on SQLite and, as a second parameter, on PostgreSQL."""
    fixture = "sqlite_location" if request.param == "sqlite" else "postgres_location"
    location: StateLocation = request.getfixturevalue(fixture)
    return location


@pytest.fixture
def sqlite_location(tmp_path: Path) -> StateLocation:
    return StateLocation(f"sqlite:///{tmp_path / 'state.db'}")


@pytest.fixture
def state(sqlite_location: StateLocation) -> Iterator[StateStore]:
    """The store of the HTTP tests: SQLite, to keep them quick (the rules tests also run on PostgreSQL)."""
    store = sqlite_location.open()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def any_state(state_location: StateLocation) -> Iterator[StateStore]:
    """The same store contract on SQLite and on PostgreSQL."""
    store = state_location.open()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def cscart_users(sandbox_clean: SandboxHandle) -> CsCartUsersWriter:
    admin = sandbox_clean.credentials.cscart_for("acme_store")
    return CsCartUsersWriter(sandbox_clean.cscart_url, admin.email, admin.api_key)
