"""Sanitised URLs and scrubbed texts."""

from __future__ import annotations

from zoho_cscart_sync.http.redaction import redact, sanitize_url


def test_sanitize_url_drops_userinfo_and_secret_query_values():
    url = (
        "https://admin%40shop.example:KEY123456@shop.example/oauth/v2/token/revoke"
        "?token=1000.abc.def&refresh_token=r-secret&client_secret=s&page=2&fields=Email,Last_Name"
    )
    clean = sanitize_url(url)
    assert "KEY123456" not in clean
    assert "admin" not in clean
    assert "r-secret" not in clean
    assert "1000.abc.def" not in clean
    assert "client_secret=***" in clean
    assert "page=2" in clean
    assert "fields=Email,Last_Name" in clean


def test_redact_known_secrets_and_zoho_shaped_tokens():
    token = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210"
    text = f"refresh failed for my-client-secret with {token}"
    out = redact(text, ["my-client-secret", None, ""])
    assert "my-client-secret" not in out
    assert token not in out
    assert out.count("***") == 2
