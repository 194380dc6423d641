"""The mint budget counts tokens Zoho issued; 429/5xx at the token endpoint are backed off on their own.

Against the sandbox's real accounts server; the mint log is a real SQLite state store. The sandbox's
``token_stats`` says how many access tokens it really issued, which the client's log must match.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from zoho_cscart_sync.auth.token_manager import MINT_WINDOW
from zoho_cscart_sync.http.errors import ApiError, RateLimitedError, RetryableApiError
from zoho_cscart_sync.http.retry import RetryPolicy

TOKEN_ENDPOINT = "POST /oauth/v2/token"
# The production default of attempts per logical request (RetryPolicy), with waits kept tiny.
ATTEMPTS = RetryPolicy().max_attempts
FAST = RetryPolicy(max_attempts=ATTEMPTS, initial_wait=0.01, max_wait=0.05)
pytestmark = pytest.mark.integration


def _issued(sandbox: Any, tenant: str = "acme_store") -> int:
    response = requests.get(f"{sandbox.zoho_url}/__sandbox__/token_stats", timeout=10)
    response.raise_for_status()
    return int(response.json()["issued"].get(tenant, 0))


def _mints_logged(store: Any, manager: Any) -> int:
    return int(store.token_mints_since(manager.cache_key, datetime.now(timezone.utc) - MINT_WINDOW))


def test_429_burst_at_the_token_endpoint_does_not_lock_out_a_clean_run(
    make_manager, sandbox_clean, state_store, count_calls
):
    # Two scheduled runs meet a 429 burst at the accounts server and use up all their attempts; this
    # is what refused the clean third run with TokenMintBudgetExceeded although Zoho issued no token.
    burst = 2 * ATTEMPTS
    sandbox_clean.set_knobs(token_burst_429=burst, retry_after_seconds=0)
    failures: list[ApiError] = []
    for _run in range(2):
        with pytest.raises(ApiError) as excinfo:
            make_manager(policy=FAST).access_token()
        failures.append(excinfo.value)
    assert count_calls(TOKEN_ENDPOINT) == burst
    assert _issued(sandbox_clean) == 0

    manager = make_manager(policy=FAST)
    token = manager.access_token()  # the clean run
    assert token.value
    assert _issued(sandbox_clean) == 1
    assert _mints_logged(state_store, manager) == 1 == _issued(sandbox_clean)
    assert manager.status().mints_in_window == 1
    # The burst runs failed as rate-limited (retryable by the task), not as Zoho's 10-minute mint throttle.
    assert all(type(failure) is RateLimitedError for failure in failures), failures
    assert all(failure.status == 429 for failure in failures)
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    for failure in failures:
        assert creds.client_secret not in str(failure)
        assert creds.refresh_token not in str(failure)


def test_short_429_burst_is_ridden_out_honouring_retry_after(make_manager, sandbox_clean, state_store, count_calls):
    sandbox_clean.set_knobs(token_burst_429=1, retry_after_seconds=1)
    manager = make_manager(policy=FAST)
    started = time.monotonic()
    assert manager.access_token().value
    assert time.monotonic() - started >= 1.0  # the server's Retry-After, not the 10 ms backoff
    assert count_calls(TOKEN_ENDPOINT) == 2
    assert _mints_logged(state_store, manager) == 1 == _issued(sandbox_clean)


def test_retry_after_above_the_ceiling_stops_at_once_without_charging_the_budget(
    make_manager, sandbox_clean, state_store, count_calls
):
    sandbox_clean.set_knobs(token_burst_429=1, retry_after_seconds=600)
    manager = make_manager(policy=RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, max_retry_after=5))
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as excinfo:
        manager.access_token()
    assert time.monotonic() - started < 5
    assert excinfo.value.retry_after == 600
    assert count_calls(TOKEN_ENDPOINT) == 1
    assert _mints_logged(state_store, manager) == 0


def test_token_endpoint_5xx_is_retried_and_never_charged(make_manager, sandbox_clean, state_store, count_calls):
    sandbox_clean.set_knobs(fail_5xx_rate=1.0)
    manager = make_manager(policy=FAST)
    with pytest.raises(RetryableApiError) as excinfo:
        manager.access_token()
    assert "HTTP 500" in str(excinfo.value)
    assert count_calls(TOKEN_ENDPOINT) == ATTEMPTS
    assert _mints_logged(state_store, manager) == 0 == _issued(sandbox_clean)
    sandbox_clean.set_knobs(fail_5xx_rate=0.0)
    assert manager.access_token().value
    assert _mints_logged(state_store, manager) == 1 == _issued(sandbox_clean)


def test_unreachable_accounts_server_is_never_charged(make_manager, state_store):
    # Nothing listens on port 9 of the loopback: the connection is refused before anything is sent.
    manager = make_manager(accounts_url="http://127.0.0.1:9", policy=FAST)
    with pytest.raises(RetryableApiError):
        manager.access_token()
    assert _mints_logged(state_store, manager) == 0


def test_timed_out_mint_is_charged_because_zoho_issued_the_token(make_manager, sandbox_clean, state_store):
    # The accounts server mints, then the answer is held back past the client's timeout: Zoho did issue
    # (and counts) a token the client never saw, so the client's log must count it too.
    sandbox_clean.set_knobs(timeout_rate=1.0, hang_seconds=0.6, hang_phase="after")
    manager = make_manager(timeout=0.2, policy=RetryPolicy(max_attempts=2, initial_wait=0.01, max_wait=0.05))
    with pytest.raises(RetryableApiError):
        manager.access_token()
    time.sleep(0.7)  # let the held-back answers finish on the server
    assert _issued(sandbox_clean) == 2
    assert _mints_logged(state_store, manager) == 2
