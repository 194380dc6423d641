"""Fixtures for token-manager tests: a real StateStore on SQLite and managers pointed at the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from zoho_cscart_sync.auth.token_manager import ZohoTokenManager
from zoho_cscart_sync.http.retry import RetryPolicy
from zoho_cscart_sync.state import StateStore


@pytest.fixture
def state_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def state_store(state_url: str) -> Iterator[StateStore]:
    store = StateStore.from_url(state_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def make_manager(sandbox_clean: Any, state_store: StateStore) -> Callable[..., ZohoTokenManager]:
    """Build a manager for a sample tenant against the sandbox's accounts server."""

    def build(tenant: str = "acme_store", *, store: StateStore | None = None, **overrides: Any) -> ZohoTokenManager:
        creds = sandbox_clean.credentials.zoho_for(tenant)
        kwargs: dict[str, Any] = {
            "tenant": tenant,
            "conn_id": f"zoho_{tenant}",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
            "accounts_url": sandbox_clean.zoho_accounts_url,
            "store": store or state_store,
            "timeout": 5.0,
            "policy": RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05),
        }
        kwargs.update(overrides)
        return ZohoTokenManager(**kwargs)

    return build


@pytest.fixture
def count_calls(sandbox_clean: Any) -> Callable[[str], int]:
    """count_calls("POST /oauth/v2/token") -> calls the sandbox counted since the reset."""
    return lambda endpoint: _endpoint_count(sandbox_clean.counters(), endpoint)


def _endpoint_count(counters: Any, endpoint: str) -> int:
    """Calls of `endpoint` ("POST /oauth/v2/token") in the sandbox counters, whatever their nesting."""
    if isinstance(counters, dict):
        total = 0
        for key, value in counters.items():
            if key == endpoint and isinstance(value, int):
                total += value
            else:
                total += _endpoint_count(value, endpoint)
        return total
    return 0
