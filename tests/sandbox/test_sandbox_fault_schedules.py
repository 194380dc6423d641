"""Request-counted fault schedules: 429 bursts every N requests, a 429 storm after N writes, token expiry every N
Zoho requests. Counted in requests (never seconds), so a seeded client meets the same faults on every run."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox.conftest import ZohoClient


def _product_statuses(client, n):
    return [client("GET", "/products/1").status_code for _ in range(n)]


def test_a_429_burst_opens_every_nth_request_counted_from_the_knob(sandbox_clean, cscart_admin):
    cscart_admin("GET", "/products/1")  # before the knob: not counted
    sandbox_clean.set_knobs(server="cscart", burst_429_every=4, burst_429_length=2, retry_after_seconds=2)
    statuses = _product_statuses(cscart_admin, 12)
    assert statuses == [200, 200, 200, 429, 429, 200, 200, 429, 429, 200, 200, 429]
    # The Zoho server was not told: its schedule is off.
    assert sandbox_clean.knobs("zoho")["burst_429_every"] == 0
    # Setting the knob again restarts the count.
    sandbox_clean.set_knobs(server="cscart", burst_429_every=3, burst_429=0)
    assert _product_statuses(cscart_admin, 6) == [200, 200, 429, 429, 200, 429]


def test_the_same_requests_meet_the_same_faults_for_a_seed(sandbox_clean, cscart_admin):
    def soak() -> list[int]:
        sandbox_clean.set_knobs(server="cscart", fail_5xx_rate=0.2, burst_429_every=5, burst_429_length=2)
        return _product_statuses(cscart_admin, 40)

    sandbox_clean.reset(seed=3)
    first = soak()
    assert {200, 429, 500} <= set(first)
    sandbox_clean.reset(seed=3)
    assert soak() == first


def test_a_429_storm_follows_the_nth_served_write_once(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(server="cscart", storm_429_after_writes=2, storm_429_length=3)
    body = {"product": "Storm", "price": 1, "category_ids": [1]}
    writes = [cscart_admin("PUT", "/products/1", json=body).status_code for _ in range(2)]
    assert writes == [200, 200]
    after = [cscart_admin("PUT", "/products/1", json=body).status_code for _ in range(3)]
    assert after == [429, 429, 429]
    # Refused writes are not served: the storm is over and does not come back.
    assert [cscart_admin("PUT", "/products/1", json=body).status_code for _ in range(4)] == [200] * 4


def test_reads_do_not_count_towards_the_storm(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(server="cscart", storm_429_after_writes=1, storm_429_length=1)
    assert _product_statuses(cscart_admin, 5) == [200] * 5
    assert cscart_admin("PUT", "/products/1", json={"price": 2}).status_code == 200
    assert _product_statuses(cscart_admin, 2) == [429, 200]


def test_every_nth_zoho_api_request_finds_its_token_expired(sandbox_clean):
    client = ZohoClient(sandbox_clean, "acme_store")
    sandbox_clean.set_knobs(expire_tokens_every=3)
    statuses = [client.inventory("GET", "/items").status_code for _ in range(3)]
    assert statuses == [200, 200, 401]
    assert client.inventory("GET", "/items").status_code == 401  # expired for good: mint a new one
    # A fresh token (token calls are not counted) lives until the next multiple of three: requests 5 and 6.
    client = ZohoClient(sandbox_clean, "acme_store")
    statuses = [client.crm("GET", "/Contacts", params={"fields": "Email"}).status_code for _ in range(2)]
    assert statuses == [200, 401]
    # CS-Cart has no such knob; the default is off.
    assert sandbox_clean.knobs("zoho")["expire_tokens_every"] == 3
    assert sandbox_clean.knobs("cscart")["expire_tokens_every"] == 0


def test_answers_held_back_are_counted_per_endpoint(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(server="cscart", timeout_rate=1.0, hang_seconds=0.1)
    assert cscart_admin("PUT", "/products/1", json={"price": 3}).status_code == 200
    cscart_admin("GET", "/products/1")
    assert sandbox_clean.hung_counters("cscart") == {"PUT /api/products/{id}": 1, "GET /api/products/{id}": 1}
    assert sandbox_clean.hung_counters("zoho") == {}


def test_a_scripted_lost_answer_hits_the_write_with_the_text_once(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(server="cscart", hang_write_containing="Lost Lamp", hang_seconds=1.0, hang_phase="after")
    assert cscart_admin("PUT", "/products/1", json={"product": "Found Lamp"}).status_code == 200
    with pytest.raises(requests.exceptions.ReadTimeout):
        cscart_admin.session.put(f"{cscart_admin.base}/products/2", json={"product": "Lost Lamp"}, timeout=0.3)
    assert cscart_admin("GET", "/products/2").json()["product"] == "Lost Lamp"  # applied
    assert sandbox_clean.knobs("cscart")["hang_write_containing"] == ""  # once
    assert cscart_admin("PUT", "/products/2", json={"product": "Lost Lamp"}).status_code == 200
    assert sandbox_clean.hung_counters("cscart") == {"PUT /api/products/{id}": 1}
