"""Sandbox knobs for the limits clients must live with: a 429 burst at the token endpoint, and the
per-organisation Inventory/Books quota over a window short enough for tests."""

from __future__ import annotations

import time

import requests
import yaml

from tests.sandbox.conftest import ZohoClient

BOOKS = "https://www.zohoapis.com/books/v3"


def _refresh(sandbox, tenant: str = "acme_store") -> requests.Response:
    creds = sandbox.credentials.zoho_for(tenant)
    form = {
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
    }
    return requests.post(f"{sandbox.zoho_accounts_url}/oauth/v2/token", data=form, timeout=10)


def _issued(sandbox) -> dict[str, int]:
    response = requests.get(f"{sandbox.zoho_url}/__sandbox__/token_stats", timeout=10)
    response.raise_for_status()
    return dict(response.json()["issued"])


def test_token_burst_429_mints_nothing_and_spares_api_calls(sandbox_clean, acme_zoho: ZohoClient):
    # acme_zoho minted one token while being built.
    assert _issued(sandbox_clean) == {"acme_store": 1}
    sandbox_clean.set_knobs(token_burst_429=2, retry_after_seconds=3)
    assert acme_zoho.crm("GET", "/Contacts", params={"fields": "Last_Name", "per_page": 1}).status_code == 200
    shed = [_refresh(sandbox_clean) for _ in range(2)]
    assert [r.status_code for r in shed] == [429, 429]
    assert all(r.headers["Retry-After"] == "3" for r in shed)
    assert all("access_token" not in r.json() for r in shed)
    assert _issued(sandbox_clean) == {"acme_store": 1}
    after = _refresh(sandbox_clean)
    assert after.status_code == 200
    assert "access_token" in after.json()
    assert _issued(sandbox_clean) == {"acme_store": 2}
    assert sandbox_clean.knobs("zoho")["token_burst_429"] == 0


def test_shed_token_calls_do_not_count_against_the_mint_limit(sandbox_clean):
    sandbox_clean.set_knobs(token_mint_limit=2, token_burst_429=5, retry_after_seconds=0)
    assert [_refresh(sandbox_clean).status_code for _ in range(5)] == [429] * 5
    bodies = [_refresh(sandbox_clean).json() for _ in range(3)]
    assert ["access_token" in body for body in bodies] == [True, True, False]
    assert bodies[2]["error"] == "Access Denied"
    assert _issued(sandbox_clean) == {"acme_store": 2}


def test_finance_quota_is_per_organisation_and_product_over_a_short_window(
    sandbox_clean, acme_zoho: ZohoClient, northwind_zoho: ZohoClient
):
    sandbox_clean.set_knobs(server="zoho", finance_requests_per_window=3, finance_window_seconds=0.6)
    started = time.monotonic()
    statuses = [acme_zoho.books("POST", "/contacts", json={"contact_name": f"Quota {i}"}).status_code for i in range(3)]
    refused = acme_zoho.books("POST", "/contacts", json={"contact_name": "Quota refused"})
    assert statuses == [201, 201, 201]
    assert refused.status_code == 429
    assert refused.json() == {
        "code": 45,
        "message": "You have made too many requests. Please try again after some time.",
    }
    assert refused.headers["Retry-After"] == "1"  # whole seconds, rounded up from what is left of 0.6 s
    assert acme_zoho.inventory("GET", "/items", params={"per_page": 1}).status_code == 200  # Inventory: own quota
    assert northwind_zoho.books("GET", "/contacts").status_code == 200  # another organisation: own quota
    time.sleep(max(0.0, started + 0.65 - time.monotonic()))
    # The window has passed: calls are admitted again, and the refused write was never applied.
    names = acme_zoho.books("GET", "/contacts", params={"contact_name_startswith": "Quota"}).json()["contacts"]
    assert sorted(row["contact_name"] for row in names) == ["Quota 0", "Quota 1", "Quota 2"]


def test_finance_quota_429_can_omit_retry_after(sandbox_clean, acme_zoho: ZohoClient):
    sandbox_clean.set_knobs(server="zoho", finance_requests_per_window=1, finance_retry_after=False)
    assert acme_zoho.books("GET", "/contacts").status_code == 200
    refused = acme_zoho.books("GET", "/contacts")
    assert refused.status_code == 429
    assert "Retry-After" not in refused.headers


def test_finance_quota_counts_what_the_oas_keys_by_and_admitted_writes_validate(
    sandbox_clean, acme_zoho: ZohoClient, oas, shared_reference
):
    # The quota is keyed by the organisation that the Books OAS makes every /contacts call name.
    document = yaml.safe_load((shared_reference / "oas" / "books-v3" / "contacts.yml").read_text())
    declared = document["components"]["parameters"]["organization_id"]
    assert (declared["name"], declared["in"], declared["required"]) == ("organization_id", "query", True)
    assert {"$ref": "#/components/parameters/organization_id"} in document["paths"]["/contacts"]["parameters"]

    sandbox_clean.set_knobs(server="zoho", finance_requests_per_window=4, finance_window_seconds=30)
    responses = [acme_zoho.books("POST", "/contacts", json={"contact_name": f"Contract {i}"}) for i in range(5)]
    assert [r.status_code for r in responses] == [201, 201, 201, 201, 429]
    for admitted in responses[:4]:
        oas.validate("books-v3/contacts.yml", admitted, server=BOOKS)
    assert int(responses[4].headers["Retry-After"]) <= 30
