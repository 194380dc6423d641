"""Hook fixtures: connections as AIRFLOW_CONN_* JSON env vars pointed at the sandbox, a SQLite state store,
and a recorder of every request the hooks actually put on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from zoho_cscart_sync.hooks.cscart import CsCartHook
from zoho_cscart_sync.hooks.zoho import ZohoHook
from zoho_cscart_sync.http.ratelimit import reset_limiters
from zoho_cscart_sync.state import StateStore

# Small waits so retry tests stay fast; the backoff code itself still runs.
FAST_RETRIES = {"backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.05, "timeout": 5}


@pytest.fixture(autouse=True)
def fresh_limiters() -> None:
    """Client-side limiters are process-wide; each test's sandbox reset starts the server's quotas afresh."""
    reset_limiters()


@pytest.fixture
def state_store(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    yield store
    store.close()


def _set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, document: dict[str, Any]) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(document))


@pytest.fixture
def zoho_connection(sandbox_clean: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """zoho_connection(tenant, conn_id=None, **extras) -> conn id of a `zoho` connection to the sandbox."""

    def make(
        tenant: str = "acme_store", conn_id: str | None = None, client_id: str | None = None, **extras: Any
    ) -> str:
        creds = sandbox_clean.credentials.zoho_for(tenant)
        conn_id = conn_id or f"zoho_{tenant}"
        extra = {
            "refresh_token": creds.refresh_token,
            "region": "com",
            "organization_id": creds.organization_id,
            "accounts_url": sandbox_clean.zoho_accounts_url,
            "api_domain": sandbox_clean.zoho_api_url,
            **FAST_RETRIES,
            **extras,
        }
        _set_connection(
            monkeypatch,
            conn_id,
            {
                "conn_type": "zoho",
                "login": client_id or creds.client_id,
                "password": creds.client_secret,
                "extra": extra,
            },
        )
        return conn_id

    return make


@pytest.fixture
def cscart_connection(sandbox_clean: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """cscart_connection(tenant, conn_id=None, api_key=None, **extras) -> conn id of a `cscart` connection."""

    def make(tenant: str = "acme_store", conn_id: str | None = None, api_key: str | None = None, **extras: Any) -> str:
        user = sandbox_clean.credentials.cscart_for(tenant)
        conn_id = conn_id or f"cscart_{tenant}"
        _set_connection(
            monkeypatch,
            conn_id,
            {
                "conn_type": "cscart",
                "host": sandbox_clean.cscart_url,
                "login": user.email,
                "password": api_key or user.api_key,
                "extra": {**FAST_RETRIES, **extras},
            },
        )
        return conn_id

    return make


class WireRecorder:
    """Every request a session sent (URL, headers, body) and every response status."""

    def __init__(self) -> None:
        self.requests: list[requests.PreparedRequest] = []
        self.statuses: list[int] = []

    def attach(self, session: requests.Session) -> None:
        def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            self.requests.append(response.request)
            self.statuses.append(response.status_code)

        session.hooks["response"].append(record)

    def dump(self) -> str:
        parts = []
        for request in self.requests:
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            parts.append(f"{request.method} {request.url}\n{dict(request.headers)}\n{body}")
        return "\n".join(parts)


@pytest.fixture
def wire() -> WireRecorder:
    return WireRecorder()


@pytest.fixture
def make_zoho_hook(
    zoho_connection: Callable[..., str], state_store: StateStore, wire: WireRecorder
) -> Callable[..., ZohoHook]:
    def make(
        tenant: str = "acme_store", *, store: StateStore | None = None, client_id: str | None = None, **extras: Any
    ) -> ZohoHook:
        conn_id = zoho_connection(tenant, client_id=client_id, **extras)
        hook = ZohoHook(conn_id, tenant=tenant, state=store or state_store)
        wire.attach(hook.session)
        wire.attach(hook.token_manager._session)
        return hook

    return make


@pytest.fixture
def make_cscart_hook(cscart_connection: Callable[..., str], wire: WireRecorder) -> Callable[..., CsCartHook]:
    def make(tenant: str = "acme_store", *, company_id: int | None = None, **conn_kwargs: Any) -> CsCartHook:
        conn_id = cscart_connection(tenant, **conn_kwargs)
        hook = CsCartHook(conn_id, tenant=tenant, company_id=company_id)
        wire.attach(hook.session)
        return hook

    return make


@pytest.fixture
def count_calls(sandbox_clean: Any) -> Callable[[str], int]:
    """count_calls("GET /crm/v8/Contacts") -> calls the sandbox counted since the reset (any server)."""
    return lambda endpoint: _endpoint_count(sandbox_clean.counters(), endpoint)


def _endpoint_count(counters: Any, endpoint: str) -> int:
    if isinstance(counters, dict):
        total = 0
        for key, value in counters.items():
            if key == endpoint and isinstance(value, int):
                total += value
            else:
                total += _endpoint_count(value, endpoint)
        return total
    return 0


@pytest.fixture
def status_count(wire: WireRecorder) -> Callable[[str], int]:
    """status_count("429") -> responses with that status the hooks received (recorded on the wire)."""
    return lambda status: sum(1 for seen in wire.statuses if str(seen) == status)
