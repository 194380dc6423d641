"""Natural keys (e-mail, SKU, order reference) used to match records before an id link exists."""

from __future__ import annotations

import re

from zoho_cscart_sync.state.validation import require_text

EMAIL = "email"
SKU = "sku"
ORDER_REF = "order_ref"

_KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


def require_key_kind(key_kind: str) -> str:
    """A key kind is a short lower-case identifier such as ``email``, ``sku`` or ``order_ref``."""
    if not isinstance(key_kind, str) or not _KIND_PATTERN.match(key_kind):
        raise ValueError(f"natural key kind must match {_KIND_PATTERN.pattern}, got {key_kind!r}")
    return key_kind


def normalise_natural_key(key_kind: str, key_value: str) -> str:
    """The form a key is stored and compared in.

    E-mail addresses compare case-insensitively (strip + casefold), as both Zoho and CS-Cart treat them.
    SKUs and order references only lose surrounding blanks: neither system documents them as
    case-insensitive, so folding case could merge two distinct products.
    """
    require_key_kind(key_kind)
    value = require_text(key_value, f"natural key {key_kind}")
    if key_kind == EMAIL:
        return value.casefold()
    return value
