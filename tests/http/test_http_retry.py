"""Backoff: bounded, jittered, honours Retry-After, stops instead of sleeping past the ceiling."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import tenacity

from zoho_cscart_sync.http.errors import FatalApiError, Kind, RateLimitedError, RetryableApiError
from zoho_cscart_sync.http.retry import (
    RetryPolicy,
    backoff_seconds,
    build_retrying,
    parse_retry_after,
)

CONTEXT = {"tenant": "t", "conn_id": "c", "api": "zoho_crm"}


def test_parse_retry_after_seconds_and_http_date():
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_backoff_grows_exponentially_with_bounded_jitter():
    policy = RetryPolicy(initial_wait=1.0, max_wait=8.0)
    for attempt, step in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 8.0)]:
        waits = [backoff_seconds(policy, attempt) for _ in range(200)]
        assert min(waits) >= step / 2
        assert max(waits) <= step
        assert len(set(waits)) > 1  # jitter: not lockstep


def test_backoff_prefers_retry_after_capped_by_policy():
    policy = RetryPolicy(initial_wait=0.5, max_retry_after=10.0)
    assert 3.0 <= backoff_seconds(policy, 1, retry_after=3.0) <= 3.5
    assert backoff_seconds(policy, 1, retry_after=50.0) <= 10.5


def _failing(errors: list[BaseException]):
    calls = {"n": 0}

    def call() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return "ok"

    return call, calls


def test_retries_transient_errors_up_to_the_bound():
    policy = RetryPolicy(max_attempts=3)
    call, calls = _failing([RetryableApiError("boom", **CONTEXT)] * 5)
    with pytest.raises(RetryableApiError):
        build_retrying(policy, wait=tenacity.wait_none())(call)
    assert calls["n"] == 3


def test_recovers_after_transient_errors():
    call, calls = _failing([RetryableApiError("boom", **CONTEXT), RateLimitedError("429", retry_after=0, **CONTEXT)])
    assert build_retrying(RetryPolicy(max_attempts=5), wait=tenacity.wait_none())(call) == "ok"
    assert calls["n"] == 3


def test_fatal_errors_are_not_retried():
    call, calls = _failing([FatalApiError("bad", kind=Kind.DATA, **CONTEXT)])
    with pytest.raises(FatalApiError):
        build_retrying(RetryPolicy(max_attempts=5), wait=tenacity.wait_none())(call)
    assert calls["n"] == 1


def test_retry_after_beyond_ceiling_stops_instead_of_sleeping():
    call, calls = _failing([RateLimitedError("429", retry_after=3600, **CONTEXT)])
    with pytest.raises(RateLimitedError):
        build_retrying(RetryPolicy(max_attempts=5, max_retry_after=60))(call)
    assert calls["n"] == 1


def test_default_wait_uses_retry_after(monkeypatch: pytest.MonkeyPatch):
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=3, initial_wait=0.01, max_retry_after=5)
    retrying = build_retrying(policy)
    retrying.sleep = slept.append  # type: ignore[method-assign]
    call, _ = _failing([RateLimitedError("429", retry_after=2, **CONTEXT)])
    assert retrying(call) == "ok"
    assert len(slept) == 1
    assert 2.0 <= slept[0] <= 2.01 + 1e-9


def test_policy_from_extras():
    policy = RetryPolicy.from_extras({"max_attempts": "7", "backoff_initial_seconds": 0.01, "backoff_max_seconds": 1})
    assert policy == RetryPolicy(max_attempts=7, initial_wait=0.01, max_wait=1.0, max_retry_after=120.0)
