"""Secrets never reach logs, exceptions, URLs or request headers (captured on the wire and in caplog)."""

from __future__ import annotations

import base64
import logging

import pytest
from airflow.providers.http.hooks.http import HttpHook

from zoho_cscart_sync.http.errors import ApiError

pytestmark = pytest.mark.integration


def _texts_of(requests_sent, *, skip_token_bodies: bool) -> str:
    parts = []
    for request in requests_sent:
        parts.append(request.url)
        parts.extend(f"{name}: {value}" for name, value in request.headers.items() if name != "Authorization")
        is_token_call = "/oauth/v2/token" in request.url
        if request.body and not (skip_token_bodies and is_token_call):
            parts.append(request.body.decode() if isinstance(request.body, bytes) else str(request.body))
    return "\n".join(parts)


def test_zoho_secrets_stay_out_of_logs_headers_urls_and_errors(
    sandbox_clean, make_zoho_hook, wire, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
):
    caplog.set_level(logging.DEBUG)
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    hook = make_zoho_hook(**{"X-Custom-Header": "not-a-header"})
    errors: list[str] = []

    pages = hook.crm_pages("Contacts", fields=["Last_Name", "Email"], per_page=20)
    next(pages)
    sandbox_clean.set_knobs(force_expire_tokens=True)  # 401 INVALID_TOKEN mid-pagination -> refresh
    list(pages)
    access_tokens = {r.headers["Authorization"].split(" ", 1)[1] for r in wire.requests if "Authorization" in r.headers}
    assert len(access_tokens) == 2
    sandbox_clean.set_knobs(burst_429=2, retry_after_seconds=0)
    list(hook.inventory_pages("items"))
    hook.crm_upsert("Contacts", [{"Email": "x@example.com"}], duplicate_check_fields=["Email"])
    sandbox_clean.set_knobs(revoke_refresh_token="acme_store")
    for call in (lambda: list(hook.crm_pages("Contacts", fields=["Last_Name"])), hook.revoke):
        try:
            call()
        except ApiError as exc:
            errors.append(str(exc))
            errors.append(repr(exc))
    assert errors, "the revoked refresh token must have failed loudly"
    status = hook.token_status().as_dict()

    secrets = [creds.client_secret, creds.refresh_token, *access_tokens]
    logged = "\n".join(record.getMessage() for record in caplog.records) + capsys.readouterr().out
    wire_text = _texts_of(wire.requests, skip_token_bodies=True)
    for secret in secrets:
        assert secret not in logged
        assert secret not in wire_text
        assert secret not in "\n".join(errors)
        assert secret not in repr(status)
    # No extra became a header; only the documented Zoho header carries the token.
    for request in wire.requests:
        assert "X-Custom-Header" not in request.headers
        assert "refresh_token" not in {name.lower() for name in request.headers}
        if "/oauth/v2/token" not in request.url:
            assert request.headers["Authorization"].startswith("Zoho-oauthtoken ")
    # Token-endpoint secrets (mint and revoke) travel in the form body, never in the URL.
    token_calls = [r for r in wire.requests if "/oauth/v2/token" in r.url]
    assert token_calls
    assert all(creds.client_secret not in r.url and creds.refresh_token not in r.url for r in token_calls)


def test_the_http_provider_default_would_leak_the_refresh_token(sandbox_clean, zoho_connection):
    # Why the hooks build their own session: HttpHook copies unknown extras into request headers.
    conn_id = zoho_connection()
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    leaky = HttpHook(method="GET", http_conn_id=conn_id).get_conn()
    assert leaky.headers.get("refresh_token") == creds.refresh_token
    from zoho_cscart_sync.hooks.zoho import ZohoHook

    ours = ZohoHook(conn_id, tenant="acme_store").get_conn()
    assert creds.refresh_token not in str(dict(ours.headers))


def test_cscart_api_key_stays_out_of_logs_urls_and_errors(
    sandbox_clean, make_cscart_hook, wire, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    user = sandbox_clean.credentials.cscart_for("acme_store")
    hook = make_cscart_hook(**{"X-Custom-Header": "nope"})
    list(hook.pages("users", params={"user_type": "C"}, items_per_page=20))
    hook.create("products", {"product": "Secret Test", "price": "1", "category_ids": [1]})
    errors = []
    bad = make_cscart_hook(api_key="WrongKeyWrongKeyWrongKey00000000")
    try:
        next(bad.pages("products"))
    except ApiError as exc:
        errors.append(str(exc))
    basic = base64.b64encode(f"{user.email}:{user.api_key}".encode()).decode()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    wire_text = _texts_of(wire.requests, skip_token_bodies=False)
    for secret in (user.api_key, basic, "WrongKeyWrongKeyWrongKey00000000"):
        assert secret not in logged
        assert secret not in wire_text
        assert secret not in "\n".join(errors)
    assert all("X-Custom-Header" not in request.headers for request in wire.requests)
