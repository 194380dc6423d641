"""Zoho Accounts: token grants, HTTP-200 error bodies, mint throttle, live-token eviction, expiry, revoke."""

from __future__ import annotations

import time

import requests

from tests.sandbox.conftest import ZohoClient


def _refresh(sandbox, tenant="acme_store", **overrides):
    creds = sandbox.credentials.zoho_for(tenant)
    form = {
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
        **overrides,
    }
    return requests.post(f"{sandbox.zoho_accounts_url}/oauth/v2/token", data=form, timeout=10)


def _contacts(sandbox, token):
    return requests.get(
        f"{sandbox.zoho_api_url}/crm/v8/Contacts",
        params={"fields": "Last_Name"},
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
        timeout=10,
    )


def test_refresh_grant_returns_token_api_domain_and_expiry(sandbox_clean):
    response = _refresh(sandbox_clean)
    body = response.json()
    assert response.status_code == 200
    assert body["api_domain"] == sandbox_clean.zoho_api_url
    assert body["expires_in"] == 3600
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body  # Zoho does not rotate refresh tokens
    assert _contacts(sandbox_clean, body["access_token"]).status_code == 200


def test_token_endpoint_errors_are_http_200_bodies(sandbox_clean):
    wrong_client = _refresh(sandbox_clean, client_id="1000.NOPE")
    assert (wrong_client.status_code, wrong_client.json()) == (200, {"error": "invalid_client"})
    wrong_refresh = _refresh(sandbox_clean, refresh_token="1000.unknown.token")
    assert (wrong_refresh.status_code, wrong_refresh.json()) == (200, {"error": "invalid_code"})
    other_tenant = sandbox_clean.credentials.zoho_for("northwind_vendor").refresh_token
    assert _refresh(sandbox_clean, refresh_token=other_tenant).json() == {"error": "invalid_code"}


def test_ten_mints_per_refresh_token_then_access_denied(sandbox_clean):
    statuses = [_refresh(sandbox_clean).json() for _ in range(11)]
    assert all("access_token" in body for body in statuses[:10])
    assert statuses[10]["error"] == "Access Denied"
    # The throttle is per refresh token: the other tenant still mints.
    assert "access_token" in _refresh(sandbox_clean, tenant="northwind_vendor").json()


def test_throttle_status_is_configurable(sandbox_clean):
    sandbox_clean.set_knobs(token_mint_limit=1, token_throttle_status=400)
    assert _refresh(sandbox_clean).status_code == 200
    denied = _refresh(sandbox_clean)
    assert denied.status_code == 400
    assert denied.json()["error"] == "Access Denied"


def test_sixteenth_live_token_evicts_the_oldest(sandbox_clean):
    sandbox_clean.set_knobs(token_mint_limit=100)
    tokens = [_refresh(sandbox_clean).json()["access_token"] for _ in range(16)]
    evicted = _contacts(sandbox_clean, tokens[0])
    assert evicted.status_code == 401
    assert evicted.json()["code"] == "INVALID_TOKEN"
    assert _contacts(sandbox_clean, tokens[1]).status_code == 200
    assert _contacts(sandbox_clean, tokens[15]).status_code == 200


def test_token_lifetime_knob_and_force_expire(sandbox_clean):
    sandbox_clean.set_knobs(token_lifetime_seconds=1)
    body = _refresh(sandbox_clean).json()
    assert body["expires_in"] == 1
    assert _contacts(sandbox_clean, body["access_token"]).status_code == 200
    time.sleep(1.1)
    assert _contacts(sandbox_clean, body["access_token"]).json()["code"] == "INVALID_TOKEN"
    sandbox_clean.set_knobs(token_lifetime_seconds=3600)
    fresh = _refresh(sandbox_clean).json()["access_token"]
    sandbox_clean.set_knobs(force_expire_tokens=True)
    assert _contacts(sandbox_clean, fresh).status_code == 401


def test_revoke_endpoint_kills_refresh_and_its_access_tokens(sandbox_clean):
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    access = _refresh(sandbox_clean).json()["access_token"]
    revoked = requests.post(
        f"{sandbox_clean.zoho_accounts_url}/oauth/v2/token/revoke", params={"token": creds.refresh_token}, timeout=10
    )
    assert revoked.json() == {"status": "success"}
    assert _refresh(sandbox_clean).json() == {"error": "invalid_code"}
    assert _contacts(sandbox_clean, access).json()["code"] == "INVALID_TOKEN"


def test_revoke_knob_by_tenant(sandbox_clean):
    sandbox_clean.set_knobs(revoke_refresh_token="northwind_vendor")
    assert _refresh(sandbox_clean, tenant="northwind_vendor").json() == {"error": "invalid_code"}
    assert "access_token" in _refresh(sandbox_clean).json()


def test_authorization_code_grant_is_one_time_and_returns_refresh_token(sandbox_clean):
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    code = sandbox_clean.grant_code("acme_store")
    form = {
        "grant_type": "authorization_code",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "code": code,
    }
    first = requests.post(f"{sandbox_clean.zoho_accounts_url}/oauth/v2/token", data=form, timeout=10).json()
    assert first["refresh_token"].startswith("1000.")
    assert _contacts(sandbox_clean, first["access_token"]).status_code == 200
    again = requests.post(f"{sandbox_clean.zoho_accounts_url}/oauth/v2/token", data=form, timeout=10).json()
    assert again == {"error": "invalid_code"}


def test_redirect_flow_returns_code_location_and_accounts_server(sandbox_clean):
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    response = requests.get(
        f"{sandbox_clean.zoho_accounts_url}/oauth/v2/auth",
        params={
            "client_id": creds.client_id,
            "redirect_uri": "http://127.0.0.1:9/cb",
            "response_type": "code",
            "scope": "ZohoCRM.modules.ALL",
            "state": "xyz",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1:9/cb?code=1000.")
    assert "location=us" in location and "state=xyz" in location and "accounts-server=" in location


def test_scope_mismatch_and_auth_failures(sandbox_clean):
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    code = sandbox_clean.grant_code("acme_store", scopes=["ZohoCRM.modules.contacts.READ"])
    token = requests.post(
        f"{sandbox_clean.zoho_accounts_url}/oauth/v2/token",
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "code": code,
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    base = f"{sandbox_clean.zoho_api_url}/crm/v8"
    assert requests.get(f"{base}/Contacts", params={"fields": "Email"}, headers=headers, timeout=10).status_code == 200
    mismatch = requests.get(f"{base}/Accounts", params={"fields": "Account_Name"}, headers=headers, timeout=10)
    assert (mismatch.status_code, mismatch.json()["code"]) == (401, "OAUTH_SCOPE_MISMATCH")
    write = requests.post(f"{base}/Contacts", json={"data": [{"Last_Name": "X"}]}, headers=headers, timeout=10)
    assert write.json()["code"] == "OAUTH_SCOPE_MISMATCH"
    inventory = requests.get(
        f"{sandbox_clean.zoho_api_url}/inventory/v1/items",
        headers=headers,
        timeout=10,
        params={"organization_id": creds.organization_id},
    )
    assert (inventory.status_code, inventory.json()["code"]) == (401, 57)
    missing = requests.get(f"{base}/Contacts", params={"fields": "Email"}, timeout=10)
    assert (missing.status_code, missing.json()["code"]) == (401, "AUTHENTICATION_FAILURE")
    bearer = requests.get(
        f"{base}/Contacts",
        params={"fields": "Email"},
        timeout=10,
        headers={"Authorization": f"Bearer {sandbox_clean.zoho_access_token('acme_store')}"},
    )
    assert bearer.json()["code"] == "INVALID_TOKEN"  # only the Zoho-oauthtoken prefix is accepted


def test_tokens_are_per_tenant(sandbox_clean):
    acme = ZohoClient(sandbox_clean, "acme_store")
    northwind = ZohoClient(sandbox_clean, "northwind_vendor")
    fields = {"fields": "Account_Name", "per_page": 200}
    acme_names = {r["Account_Name"] for r in acme.crm("GET", "/Accounts", params=fields).json()["data"]}
    northwind_names = {r["Account_Name"] for r in northwind.crm("GET", "/Accounts", params=fields).json()["data"]}
    assert "Acme Holdings" in acme_names and "Acme Holdings" not in northwind_names
    assert "Northwind Group" in northwind_names
    wrong_org = acme.inventory("GET", "/items", params={"organization_id": northwind.creds.organization_id})
    assert wrong_org.status_code == 400
    assert "not associated" in wrong_org.json()["message"]
