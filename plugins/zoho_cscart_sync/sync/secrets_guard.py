"""Refuse to stage anything that looks like a credential.

Staged files outlive the task (object storage, operators reading them), so a token or API key that slipped
into a record must stop the run instead of being persisted. The check reports *where* the secret is, never
its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Key names are compared after lower-casing and dropping separators, so "Refresh-Token", "refreshToken" and
# "refresh_token" are all caught.
_SECRET_KEYS = frozenset(
    {
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "token",
        "clientsecret",
        "secret",
        "password",
        "password1",
        "password2",
        "passwd",
        "apikey",
        "privatekey",
        "authorization",
    }
)
# Values that are credentials whatever key holds them: Zoho OAuth tokens ("1000.<hex>.<hex>") and
# authorization header values.
_SECRET_VALUE = re.compile(r"^(1000\.[0-9a-f]{16,}\.[0-9a-f]{16,}|Zoho-oauthtoken\s|Bearer\s|Basic\s)", re.I)
_SEPARATORS = re.compile(r"[^a-z0-9]")
# The same rules applied to a record's serialised JSON in one regex pass: staging checks every record, and
# walking each record's structure in Python would cost more than serialising it. Inside JSON strings quotes
# are escaped, so a key pattern can only match a real key. It runs on the lower-cased text. A hit is
# confirmed (and located) by find_secret.
_SEP = r"[^a-z0-9\"]*"
_SECRET_IN_JSON = re.compile(
    r'"(?:(?:(?:access|refresh|id)' + _SEP + r")?token|(?:client" + _SEP + r")?secret|pass(?:word[12]?|wd)"
    r"|(?:api|private)" + _SEP + r'key|authorization)"\s*:\s*(?!null|"")'
    r'|"(?:1000\.[0-9a-f]{16,}\.[0-9a-f]{16,}|(?:zoho-oauthtoken|bearer|basic)(?:\s|\\[tnr]))'
)


class SecretInStagingError(ValueError):
    """A record bound for staging contains a credential-like key or value."""


def _normalised_key(key: str) -> str:
    return _SEPARATORS.sub("", key.lower())


def may_contain_secret(serialised_json: str) -> bool:
    """Fast pre-check on a record's JSON text; False means :func:`find_secret` would find nothing."""
    lowered = serialised_json.lower()
    # Plain substring tests are far cheaper than the regex; most records contain none of these words.
    if not (
        "token" in lowered
        or "secret" in lowered
        or "pass" in lowered
        or 'key":' in lowered
        or "authorization" in lowered
        or "1000." in lowered
        or "bearer" in lowered
        or "basic" in lowered
    ):
        return False
    return _SECRET_IN_JSON.search(lowered) is not None


def find_secret(value: Any, path: str = "") -> str | None:
    """Path (``payload.api_key``, ``items[2].token``) of the first credential-like entry, else None."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            if _normalised_key(str(key)) in _SECRET_KEYS and child not in (None, ""):
                return child_path
            found = find_secret(child, child_path)
            if found:
                return found
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found = find_secret(child, f"{path}[{index}]")
            if found:
                return found
    elif isinstance(value, str) and _SECRET_VALUE.match(value):
        return path or "<value>"
    return None
