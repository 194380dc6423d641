"""Country names and codes (CS-Cart stores ISO 3166-1 alpha-2; Zoho stores free text)."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any, Literal

from zoho_cscart_sync.mapping.errors import TransformError
from zoho_cscart_sync.mapping.transforms.base import TransformArgs, TransformContext, is_empty
from zoho_cscart_sync.mapping.transforms.text import _require_text

# Spellings seen in Zoho data (the Inventory docs' own example is "U.S.A") that CLDR does not list.
_ALIASES = {
    "usa": "US",
    "us": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "uae": "AE",
    "holland": "NL",
}


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z ]+", "", folded.replace(".", "")).strip()


@functools.cache
def _territories() -> tuple[dict[str, str], dict[str, str]]:
    # Babel (already an Airflow dependency) carries CLDR names; imported lazily to keep module import cheap.
    from babel import Locale

    code_to_name: dict[str, str] = {}
    name_to_code: dict[str, str] = {}
    for locale_name in ("en", "de", "fr", "es", "it", "pt", "nl", "ru"):
        for code, name in Locale.parse(locale_name).territories.items():
            if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "QO", "ZZ"}:
                if locale_name == "en":
                    code_to_name[code] = name
                name_to_code.setdefault(_key(name), code)
    for alias, code in _ALIASES.items():
        name_to_code[alias] = code
    return code_to_name, name_to_code


class CountryArgs(TransformArgs):
    output: Literal["alpha2", "name"] = "alpha2"


def country_code(value: Any, args: CountryArgs, ctx: TransformContext) -> Any:
    """Country name or code -> ``US`` (``output: alpha2``) or ``United States`` (``output: name``)."""
    if is_empty(value):
        return None
    text = _require_text(value, "country_code").strip()
    code_to_name, name_to_code = _territories()
    code = text.upper() if len(text) == 2 and text.upper() in code_to_name else name_to_code.get(_key(text))
    if code is None:
        raise TransformError(f"unknown country {text!r} (use an ISO 3166 code or an English name)")
    return code if args.output == "alpha2" else code_to_name[code]
