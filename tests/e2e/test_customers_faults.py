"""Faults (5 % 5xx, a 429 burst, access tokens expiring mid-run) change nothing in the end state."""

from __future__ import annotations

import pytest

from tests.e2e.customers_support import end_state, make_customers_dags

pytestmark = pytest.mark.integration

ACME = "acme_store"
# Short backoff so retries do not dominate the test's runtime; the retry logic itself is unchanged.
FAST_RETRIES = {"backoff_initial_seconds": 0.05, "backoff_max_seconds": 0.2, "max_attempts": 6}


def test_faults_change_nothing_in_the_end_state(tmp_path, sandbox, monkeypatch, airflow_db):
    sandbox.reset()
    clean = make_customers_dags(tmp_path / "clean", sandbox, monkeypatch, connection_extra=FAST_RETRIES)
    assert clean.run(ACME, full_refresh=True).state == "success"
    expected = end_state(sandbox, ACME)

    sandbox.reset()  # same seed, fresh systems; a fresh sync state below
    faulty = make_customers_dags(tmp_path / "faulty", sandbox, monkeypatch, connection_extra=FAST_RETRIES)
    sandbox.set_knobs(fail_5xx_rate=0.05, burst_429=3, retry_after_seconds=1, token_lifetime_seconds=6)
    run = faulty.run(ACME, full_refresh=True)
    statuses = {
        **sandbox.status_counters("zoho"),
        **{f"cscart {k}": v for k, v in sandbox.status_counters("cscart").items()},
    }
    sandbox.set_knobs(fail_5xx_rate=0.0, token_lifetime_seconds=3600)
    assert run.state == "success"
    # The faults really happened: server errors and rate limits were answered during the run.
    assert any(str(code).endswith("500") and count > 0 for code, count in statuses.items()), statuses
    assert any(str(code).endswith("429") and count > 0 for code, count in statuses.items()), statuses
    assert end_state(sandbox, ACME) == expected
