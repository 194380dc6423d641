"""The shared Zoho token: reuse across tasks, one mint under concurrency, the mint budget, failures.

All against the sandbox's real accounts server; the state store is a real SQLite file.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from zoho_cscart_sync.auth.token_manager import MINT_WINDOW, ZohoTokenManager, _expires_in_seconds
from zoho_cscart_sync.http.errors import (
    AuthenticationError,
    FatalApiError,
    RetryableApiError,
    TokenMintBudgetExceeded,
    TokenThrottledError,
)
from zoho_cscart_sync.state import StateStore

TOKEN_ENDPOINT = "POST /oauth/v2/token"
pytestmark = pytest.mark.integration


def test_token_is_minted_once_and_reused_by_later_tasks(make_manager, state_url, count_calls):
    first = make_manager().access_token()
    # A later task: a new process would build a new store and manager on the same database.
    with StateStore.from_url(state_url) as other_store:
        second = make_manager(store=other_store).access_token()
    assert second.value == first.value
    assert second.api_domain == first.api_domain
    assert count_calls(TOKEN_ENDPOINT) == 1


def test_state_database_never_holds_the_plaintext_token(make_manager, state_store, tmp_path: Path):
    manager = make_manager()
    token = manager.access_token()
    cached = state_store.get_token(manager.cache_key)
    assert cached is not None
    assert token.value not in cached.access_token_ciphertext
    raw = b"".join(path.read_bytes() for path in tmp_path.rglob("state.db*") if path.is_file())
    assert token.value.encode() not in raw
    assert b"sandbox-acme-store-client-secret" not in raw
    assert manager.cache_key.startswith("zoho:")
    assert "refresh" not in manager.cache_key


def test_concurrent_tasks_do_not_stampede_the_token_endpoint(make_manager, state_url, count_calls):
    stores = [StateStore.from_url(state_url) for _ in range(8)]
    tokens: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def task(store: StateStore) -> None:
        try:
            manager = make_manager(store=store)
            barrier.wait()
            tokens.append(manager.access_token().value)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=task, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    assert len(set(tokens)) == 1
    assert count_calls(TOKEN_ENDPOINT) == 1


def test_refuses_to_mint_past_the_budget(make_manager, state_store, count_calls):
    manager = make_manager(mint_budget=3)
    now = datetime.now(timezone.utc)
    for minutes_ago in (1, 2, 3):
        state_store.record_token_mint(manager.cache_key, now - timedelta(minutes=minutes_ago))
    with pytest.raises(TokenMintBudgetExceeded) as excinfo:
        manager.access_token()
    assert "acme_store" in str(excinfo.value)
    assert "zoho_acme_store" in str(excinfo.value)
    assert count_calls(TOKEN_ENDPOINT) == 0  # Zoho never saw the request
    # Mints older than the window no longer count.
    assert state_store.token_mints_since(manager.cache_key, now - MINT_WINDOW) == 3


def test_rejected_token_is_replaced_once_and_reused_by_others(make_manager, sandbox_clean, count_calls):
    manager, other = make_manager(), make_manager()
    stale = manager.access_token().value
    sandbox_clean.set_knobs(force_expire_tokens=True)
    fresh = manager.refresh_after_rejection(stale)
    assert fresh.value != stale
    # Another task hit the same 401 with the same stale token: it gets the new token without minting.
    assert other.refresh_after_rejection(stale).value == fresh.value
    assert count_calls(TOKEN_ENDPOINT) == 2


def test_short_lived_tokens_are_not_expired_on_arrival(make_manager, sandbox_clean, count_calls):
    sandbox_clean.set_knobs(token_lifetime_seconds=60)
    manager = make_manager()
    token = manager.access_token()
    assert token.expires_at - token.minted_at == timedelta(seconds=60)
    assert make_manager().access_token().value == token.value
    assert count_calls(TOKEN_ENDPOINT) == 1


def test_revoked_refresh_token_fails_with_reconnect_hint(make_manager, sandbox_clean):
    sandbox_clean.set_knobs(revoke_refresh_token="acme_store")
    manager = make_manager()
    with pytest.raises(AuthenticationError) as excinfo:
        manager.access_token()
    message = str(excinfo.value)
    assert "invalid_code" in message
    assert "reconnect" in message
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    assert creds.refresh_token not in message
    assert creds.client_secret not in message


def test_wrong_data_centre_client_is_reported_as_such(make_manager):
    # The documented symptom of a token call sent to another data centre's accounts server.
    manager = make_manager(client_id="1000.REGISTEREDINANOTHERDATACENTRE00")
    with pytest.raises(FatalApiError) as excinfo:
        manager.access_token()
    assert "invalid_client" in str(excinfo.value)
    assert "data centre" in str(excinfo.value)


def test_zoho_mint_throttle_is_fatal_not_hammered(make_manager, sandbox_clean, count_calls):
    sandbox_clean.set_knobs(token_mint_limit=1)
    make_manager().access_token()
    sandbox_clean.set_knobs(force_expire_tokens=True)
    with pytest.raises(TokenThrottledError) as excinfo:
        make_manager(store=StateStore.from_url("sqlite://")).access_token()
    assert "Access Denied" in str(excinfo.value)
    assert count_calls(TOKEN_ENDPOINT) == 2  # no retry loop against a throttled refresh token


def test_revoke_drops_the_cache_and_kills_the_token(make_manager, state_store):
    manager = make_manager()
    manager.access_token()
    manager.revoke()
    assert state_store.get_token(manager.cache_key) is None
    with pytest.raises(AuthenticationError):
        make_manager().access_token()


def test_reconnect_exchanges_a_grant_code(make_manager, sandbox_clean):
    code = sandbox_clean.grant_code("acme_store")
    manager = make_manager()
    new_refresh_token = manager.exchange_code(code)
    assert new_refresh_token != sandbox_clean.credentials.zoho_for("acme_store").refresh_token
    reconnected = make_manager(refresh_token=new_refresh_token)
    assert reconnected.cache_key != manager.cache_key
    assert reconnected.access_token().value
    with pytest.raises(AuthenticationError):  # grant codes are one-time use
        manager.exchange_code(code)


def test_status_shows_expiry_without_secrets(make_manager):
    manager: ZohoTokenManager = make_manager()
    before = manager.status()
    assert before.expires_at is None
    assert before.valid is False
    token = manager.access_token()
    status = manager.status().as_dict()
    assert status["valid"] is True
    assert status["expires_at"] == token.expires_at.isoformat()
    assert status["mints_last_10_min"] == 1
    assert token.value not in repr(status)
    assert token.value not in repr(token)


@pytest.mark.parametrize(
    ("body", "seconds"),
    [({"expires_in": 3600}, 3600), ({"expires_in": 3600000, "expires_in_sec": 3600}, 3600), ({}, 3600)],
)
def test_expires_in_units(body: dict, seconds: float):
    assert _expires_in_seconds(body) == seconds


def test_transport_429_at_the_token_endpoint_is_retried_and_not_counted(
    make_manager, sandbox_clean, state_store, count_calls
):
    sandbox_clean.set_knobs(burst_429=2, retry_after_seconds=0)
    manager = make_manager()
    assert manager.access_token().value
    assert count_calls(TOKEN_ENDPOINT) == 3
    # Only the token Zoho issued counts against the budget; the two 429s issued nothing.
    since = datetime.now(timezone.utc) - MINT_WINDOW
    assert state_store.token_mints_since(manager.cache_key, since) == 1


def test_token_endpoint_5xx_exhausting_attempts_is_reported(make_manager, sandbox_clean):
    sandbox_clean.set_knobs(fail_5xx_rate=1.0)
    with pytest.raises(RetryableApiError) as excinfo:
        make_manager().access_token()
    assert "zoho_acme_store" in str(excinfo.value)
    assert "HTTP 500" in str(excinfo.value)
