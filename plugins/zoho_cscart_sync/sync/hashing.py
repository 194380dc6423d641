"""Stable content hashes of payloads: the basis of "unchanged -> no write" and of echo suppression."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Mapping
from typing import Any


def _json_default(value: Any) -> Any:
    # Values the mapping layer may legitimately produce that json cannot encode natively. Each gets one
    # fixed textual form so the same content always hashes the same way.
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"cannot hash a value of type {type(value).__name__}")


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The payload as JSON with sorted keys and no insignificant whitespace."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def content_hash(payload: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON; key order and formatting never change the result."""
    digest = hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"
