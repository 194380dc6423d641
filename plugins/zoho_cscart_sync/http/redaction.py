"""Keep secrets out of logs and exceptions: sanitised URLs and text scrubbed of known secret values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that carry credentials somewhere in the Zoho / CS-Cart APIs (token endpoint, revoke,
# legacy `authtoken=`); their values are replaced, the names are kept so a log still shows the call shape.
SENSITIVE_QUERY_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "authtoken",
        "client_secret",
        "code",
        "key",
        "password",
        "refresh_token",
        "token",
    }
)
REDACTED = "***"
# Zoho tokens look like `1000.<32 hex>.<32 hex>`; scrub them even when we were never told the value
# (e.g. a token echoed back in an error body).
_ZOHO_TOKEN_PATTERN = re.compile(r"\b1000\.[0-9a-f]{16,}\.[0-9a-f]{16,}\b")
_MIN_SECRET_LENGTH = 4


def sanitize_url(url: str) -> str:
    """Return ``url`` without user-info and with credential-bearing query values replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode(
        [
            (name, REDACTED if name.lower() in SENSITIVE_QUERY_PARAMS else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*,:()",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace every known secret value and anything shaped like a Zoho token in ``text``."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return _ZOHO_TOKEN_PATTERN.sub(REDACTED, text)


def truncate(text: str, limit: int = 300) -> str:
    """Shorten a response body for a log line or an exception message."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def register_secrets(*secrets: str | None) -> None:
    """Tell Airflow's secrets masker about values it cannot know from the Connection (e.g. access tokens)."""
    from airflow.sdk.log import mask_secret

    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            mask_secret(secret)
