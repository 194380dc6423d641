"""Knobs (latency, 5xx, hangs, 429 bursts), per-endpoint counters and reset."""

from __future__ import annotations

import time

import pytest
import requests

from zoho_cscart_sandbox.knobs import endpoint_template


def _statuses(client, n):
    return [client("GET", "/products/1").status_code for _ in range(n)]


def test_counters_per_endpoint_template_and_reset(sandbox_clean, cscart_admin, acme_zoho):
    cscart_admin("GET", "/products/1")
    cscart_admin("GET", "/2.0/products/2")
    cscart_admin("GET", "/products")
    acme_zoho.crm("GET", "/Contacts", params={"fields": "Email"})
    acme_zoho.inventory("GET", "/items")
    counters = sandbox_clean.counters()
    assert counters["GET /api/products/{id}"] == 2
    assert counters["GET /api/products"] == 1
    assert counters["GET /crm/v8/Contacts"] == 1
    assert counters["GET /inventory/v1/items"] == 1
    assert counters["POST /oauth/v2/token"] == 1
    sandbox_clean.reset()
    assert sandbox_clean.counters() == {}


def test_endpoint_template_names():
    assert endpoint_template("GET", "/crm/v8/Contacts/5725767000200000001") == "GET /crm/v8/Contacts/{id}"
    assert endpoint_template("PUT", "/api/2.0/orders/12") == "PUT /api/orders/{id}"
    assert endpoint_template("GET", "/api.php", "_d=products/5&ajax_custom=1") == "GET /api/products/{id}"


def test_fault_injection_is_deterministic_for_a_seed(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(fail_5xx_rate=0.3, server="cscart")
    first = _statuses(cscart_admin, 30)
    assert 500 in first and 200 in first
    sandbox_clean.reset(seed=0)
    sandbox_clean.set_knobs(fail_5xx_rate=0.3, server="cscart")
    assert _statuses(cscart_admin, 30) == first
    sandbox_clean.reset(seed=7)
    sandbox_clean.set_knobs(fail_5xx_rate=0.3, server="cscart")
    assert _statuses(cscart_admin, 30) != first


def test_5xx_bodies_use_each_products_error_shape(sandbox_clean, acme_zoho, cscart_admin):
    sandbox_clean.set_knobs(fail_5xx_rate=1.0)
    assert cscart_admin("GET", "/products/1").json() == {"message": "Internal Server Error", "status": 500}
    assert acme_zoho.crm("GET", "/Contacts", params={"fields": "Email"}).json()["code"] == "INTERNAL_ERROR"
    assert acme_zoho.inventory("GET", "/items").json() == {"code": 1000, "message": "Internal error"}


def test_429_burst_with_retry_after(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(burst_429=2, retry_after_seconds=3, server="cscart")
    first, second, third = (cscart_admin("GET", "/products/1") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3"
    assert sandbox_clean.status_counters("cscart") == {"429": 2, "200": 1}


def test_latency_knob(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(latency_ms=200, server="cscart")
    started = time.monotonic()
    cscart_admin("GET", "/products/1")
    assert time.monotonic() - started >= 0.2


def test_hang_after_processing_applies_the_write_but_times_out(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(timeout_rate=1.0, hang_seconds=1.5, server="cscart")
    with pytest.raises(requests.exceptions.ReadTimeout):
        cscart_admin.session.post(
            f"{cscart_admin.base}/users",
            timeout=0.5,
            json={"email": "timeout@example.com", "user_type": "C", "company_id": 0},
        )
    sandbox_clean.set_knobs(timeout_rate=0.0, server="cscart")
    found = cscart_admin("GET", "/users", params={"user_type": "C", "email": "timeout@example.com"}).json()
    assert [u["email"] for u in found["users"]] == ["timeout@example.com"]  # a blind retry would now fail/duplicate


def test_hang_before_processing_does_not_write(sandbox_clean, acme_zoho):
    sandbox_clean.set_knobs(timeout_rate=1.0, hang_seconds=1.5, hang_phase="before", server="zoho")
    with pytest.raises(requests.exceptions.ReadTimeout):
        acme_zoho.session.post(
            f"{sandbox_clean.zoho_api_url}/crm/v8/Contacts",
            timeout=0.5,
            json={"data": [{"Last_Name": "Hung", "Email": "hung@example.com"}]},
        )
    sandbox_clean.set_knobs(timeout_rate=0.0, server="zoho")
    assert acme_zoho.crm("GET", "/Contacts/search", params={"email": "hung@example.com"}).status_code == 204


def test_unknown_knob_is_rejected(sandbox_clean):
    with pytest.raises(RuntimeError, match="unknown knob"):
        sandbox_clean.set_knobs(latency_msec=5)
    assert sandbox_clean.knobs("zoho")["latency_ms"] == 0


def test_reset_restores_data_and_default_knobs(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(latency_ms=5, cscart_items_per_page=50)
    cscart_admin("DELETE", "/products/1")
    sandbox_clean.reset()
    assert cscart_admin("GET", "/products/1").status_code == 200
    assert sandbox_clean.knobs("cscart")["cscart_items_per_page"] == 10
    assert sandbox_clean.knobs("cscart")["latency_ms"] == 0


def test_fail_writes_after_lets_n_writes_through_then_refuses_every_write_unapplied(sandbox_clean, cscart_admin):
    sandbox_clean.set_knobs(fail_writes_after=2, server="cscart")
    created = [
        cscart_admin("POST", "/users", json={"email": f"w{i}@example.com", "user_type": "C", "company_id": 0})
        for i in range(4)
    ]
    assert [r.status_code for r in created] == [201, 201, 500, 500]
    assert created[2].json() == {"message": "Internal Server Error", "status": 500}
    # Reads still work, and the refused writes were not applied.
    assert cscart_admin("GET", "/products/1").status_code == 200
    users = cscart_admin("GET", "/users", params={"user_type": "C", "items_per_page": 0}).json()["users"]
    emails = {u["email"] for u in users}
    assert {"w0@example.com", "w1@example.com"} <= emails
    assert not {"w2@example.com", "w3@example.com"} & emails
    first = next(u for u in users if u["email"] == "w0@example.com")
    assert cscart_admin("PUT", f"/users/{first['user_id']}", json={"lastname": "Refused"}).status_code == 500
    assert sandbox_clean.writes_let_through("cscart") == 2
    # Setting the knob again restarts the count; -1 turns it off.
    sandbox_clean.set_knobs(fail_writes_after=1, server="cscart")
    assert cscart_admin("PUT", f"/users/{first['user_id']}", json={"lastname": "Allowed"}).status_code == 200
    assert cscart_admin("PUT", f"/users/{first['user_id']}", json={"lastname": "Refused"}).status_code == 500
    sandbox_clean.set_knobs(fail_writes_after=-1, server="cscart")
    assert cscart_admin("PUT", f"/users/{first['user_id']}", json={"lastname": "Again"}).status_code == 200
    assert cscart_admin("GET", f"/users/{first['user_id']}").json()["lastname"] == "Again"


def test_fail_writes_after_does_not_count_token_mints_or_coql(sandbox_clean, acme_zoho):
    sandbox_clean.set_knobs(fail_writes_after=0, server="zoho")
    query = {"select_query": "select Email from Contacts limit 1"}
    assert acme_zoho.crm("POST", "/coql", json=query).status_code == 200
    sandbox_clean.zoho_access_token("acme_store")  # a token mint is a POST, but not a data write
    record = {"data": [{"Last_Name": "Refused", "Email": "refused@example.com"}]}
    assert acme_zoho.crm("POST", "/Contacts", json=record).status_code == 500
    assert acme_zoho.crm("GET", "/Contacts/search", params={"email": "refused@example.com"}).status_code == 204
    sandbox_clean.set_knobs(fail_writes_after=-1, server="zoho")
    assert acme_zoho.crm("POST", "/Contacts", json=record).status_code == 201
    assert acme_zoho.crm("GET", "/Contacts/search", params={"email": "refused@example.com"}).status_code == 200
    sandbox_clean.reset()
    assert sandbox_clean.knobs("zoho")["fail_writes_after"] == -1
