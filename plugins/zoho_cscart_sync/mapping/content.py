"""Content rules a mapped value must meet before it is sent: length, shape and markup.

The target's field catalogue says how long a value may be and what it may contain (``format``); the
mapping file says what to do with a value that breaks a rule (``on_invalid``):

============  ===========================================================================================
policy        effect
============  ===========================================================================================
``truncate``  repair: a value over ``max_length`` is cut to it, markup is removed from plain text; the
              record is written and carries a ``truncated_<field>`` / ``markup_removed_<field>`` flag
``drop``      the field is left out of the payload (= "do not touch" on update) with a warning and a
              ``dropped_<field>`` flag; markup is still removed from plain text (that is a repair)
``quarantine``  the record fails with an error naming the field and the rule; nothing is sent
============  ===========================================================================================

Defaults by ``format`` (:data:`DEFAULT_POLICY`): names, addresses and other text ``truncate`` (a cut name
is still the person's name, and a refused one is never synchronised); ``email`` and ``code`` (SKUs,
order numbers) ``quarantine`` (a cut address or code is a different one); ``phone`` ``drop`` (a customer
without a phone is better than no customer). A field used as a natural key defaults to ``quarantine``.

Everything here is deterministic (same value -> same result), so an unchanged record maps to the same
payload and the same hash every run. Messages never repeat the value (it may be personal data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from zoho_cscart_sync.mapping.field_catalog import TextFormat
from zoho_cscart_sync.mapping.transforms.base import NoArgs, TransformContext
from zoho_cscart_sync.mapping.transforms.person import EMAIL_SHAPE, PHONE_ALLOWED
from zoho_cscart_sync.mapping.transforms.text import html_to_text

Policy = Literal["truncate", "drop", "quarantine"]
POLICIES: tuple[str, ...] = ("truncate", "drop", "quarantine")

DEFAULT_POLICY: dict[str, Policy] = {
    "text": "truncate",
    "multiline": "truncate",
    "html": "truncate",
    "raw": "truncate",
    "email": "quarantine",
    "code": "quarantine",
    "phone": "drop",
}
#: Formats whose values cannot be repaired by cutting them (an e-mail cut short is not an address).
UNTRUNCATABLE: frozenset[str] = frozenset({"email", "phone"})
#: Formats where markup is not allowed at all and cannot be repaired into a valid value.
_MARKUP_IS_INVALID: frozenset[str] = frozenset({"email", "phone", "code"})

Rule = Literal["required", "max_length", "markup", "email", "phone"]


@dataclass(frozen=True)
class ContentRules:
    """The compiled rules of one target field: catalogue limits plus the mapping's policy."""

    max_length: int | None
    format: TextFormat
    on_invalid: Policy

    @property
    def checks_anything(self) -> bool:
        return self.format != "raw" or self.max_length is not None


@dataclass(frozen=True)
class Finding:
    """One broken rule. ``repaired`` findings were fixed in the value (truncate / markup removal)."""

    rule: Rule
    message: str
    repaired: bool = False


# A complete tag (``<b>``, ``</p >``, ``<img src=x onerror=...>``), a comment, a CDATA/doctype/processing
# instruction, or a tag left open at the very end. As in HTML, ``<`` must be followed by a letter or ``/`` to
# open a tag, so ``a < b`` and ``x<5`` are text, not markup.
_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?\s*>|<!--|<!\[CDATA\[|<![A-Za-z]|<\?|</?[A-Za-z][^<>]*$")
# Passes of markup removal: decoding entities can reveal new tags (``&lt;script&gt;``), removed next pass.
_MAX_PASSES = 4
_NO_ARGS = NoArgs()
_NO_CONTEXT = TransformContext(record={}, tenant=None, source_id=None, target_field="", value_maps={})


def has_markup(text: str) -> bool:
    return "<" in text and _MARKUP.search(text) is not None


def remove_markup(text: str, *, multiline: bool) -> str:
    """Visible text of ``text``: tags removed, ``script``/``style`` dropped with their content, entities
    decoded; one line (whitespace folded) unless ``multiline``. Text without markup is returned as is."""
    for _ in range(_MAX_PASSES):
        if not has_markup(text):
            return text
        visible: str = html_to_text(text, _NO_ARGS, _NO_CONTEXT)
        text = visible if multiline else " ".join(visible.split())
    # Still markup after several passes (nested entity encoding): drop the angle brackets themselves.
    return text.replace("<", "").replace(">", "")


_DANGEROUS_ELEMENTS = "script|style|iframe|frame|frameset|object|embed|applet|noscript|template"
_DANGEROUS_BLOCK = re.compile(rf"<\s*({_DANGEROUS_ELEMENTS})\b[^>]*>.*?(?:<\s*/\s*\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_DANGEROUS_SINGLE = re.compile(rf"<\s*/?\s*(?:{_DANGEROUS_ELEMENTS}|base|link|meta)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_EVENT_ATTRIBUTE = re.compile(r"""\s+on[a-z]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_SCRIPT_URL_ATTRIBUTE = re.compile(
    r"""\s+(?:href|src|action|formaction|xlink:href)\s*=\s*(?:"\s*(?:javascript|vbscript|data):[^"]*"|"""
    r"""'\s*(?:javascript|vbscript|data):[^']*'|(?:javascript|vbscript|data):[^\s>]*)""",
    re.IGNORECASE,
)


def _clean_tag(match: re.Match[str]) -> str:
    return _SCRIPT_URL_ATTRIBUTE.sub("", _EVENT_ATTRIBUTE.sub("", match.group(0)))


def sanitise_html(text: str) -> str:
    """HTML a store renders, without what runs code: script-like elements (with their content), event
    handler attributes and ``javascript:`` / ``data:`` URLs are removed; all other markup is kept as is.

    A conservative filter for the fields a target documents as HTML (CS-Cart product descriptions), not a
    general-purpose sanitiser: it removes, it never rewrites, so clean HTML passes byte for byte.
    """
    if "<" not in text:
        return text
    for _ in range(_MAX_PASSES):
        cleaned = _DANGEROUS_SINGLE.sub("", _DANGEROUS_BLOCK.sub("", text))
        cleaned = _TAG.sub(_clean_tag, cleaned)
        if cleaned == text:
            return cleaned
        text = cleaned
    return text


def truncate_text(text: str, max_length: int, *, format: TextFormat) -> str:
    """The first ``max_length`` characters, without trailing whitespace or a dangling joiner, and for
    HTML without a tag cut in half. Deterministic: the same text always gives the same result."""
    cut = text[:max_length].rstrip()
    # A zero-width joiner or variation selector at the cut would glue the emoji to nothing.
    cut = cut.rstrip("\u200d\ufe0e\ufe0f")
    if format == "html":
        cut = re.sub(r"<[^<>]*$", "", cut).rstrip()
    return cut


def clean_markup(value: str, rules: ContentRules) -> tuple[str, Finding | None]:
    """Step 1, before emptiness is judged: markup out of plain text, dangerous markup out of HTML.

    Returns the cleaned value and the finding (``repaired`` unless the format cannot hold markup at all
    or the policy is ``quarantine``, in which case the value is returned unchanged).
    """
    if "<" not in value or rules.format == "raw":
        return value, None
    if rules.format == "html":
        cleaned = sanitise_html(value)
        if cleaned == value:
            return value, None
        if rules.on_invalid == "quarantine":
            return value, Finding("markup", "contains script or event-handler markup")
        return cleaned, Finding("markup", "script or event-handler markup removed", repaired=True)
    if not has_markup(value):
        return value, None
    if rules.on_invalid == "quarantine" or rules.format in _MARKUP_IS_INVALID:
        return value, Finding("markup", f"contains HTML markup; the target expects {rules.format}")
    cleaned = remove_markup(value, multiline=rules.format == "multiline")
    return cleaned, Finding("markup", "HTML markup removed (the target field is plain text)", repaired=True)


def check_value(value: str, rules: ContentRules) -> tuple[str, list[Finding]]:
    """Step 2, on the final value: length and shape. Truncation is applied here when the policy allows."""
    findings: list[Finding] = []
    if rules.format == "email" and not EMAIL_SHAPE.match(value):
        findings.append(Finding("email", "not a valid e-mail address (expected local@domain.tld)"))
    elif rules.format == "phone" and not (PHONE_ALLOWED.match(value) and any(c.isdigit() for c in value)):
        findings.append(Finding("phone", "not a phone number (digits, spaces and + - . ( ) / only)"))
    if rules.max_length is not None and len(value) > rules.max_length:
        message = f"{len(value)} characters, the target allows {rules.max_length}"
        if rules.on_invalid == "truncate" and rules.format not in UNTRUNCATABLE and not findings:
            value = truncate_text(value, rules.max_length, format=rules.format)
            findings.append(Finding("max_length", f"truncated: {message}", repaired=True))
        else:
            findings.append(Finding("max_length", message))
    return value, findings


def flag_name(prefix: str, target_label: str) -> str:
    """``truncated`` + ``contact_persons[0].first_name`` -> ``truncated_contact_persons_first_name``.

    Flags are stored on the ID-map link, whose flags must match ``^[a-z][a-z0-9_]{0,49}$``: positions are
    dropped (the same field of every line item is one flag) and the name is capped at 50 characters.
    """
    slug = re.sub(r"\[\d*\]", "", target_label).lower()
    slug = re.sub(r"[^a-z0-9]+", "_", slug).strip("_")
    return f"{prefix}_{slug}"[:50].rstrip("_")


__all__ = [
    "DEFAULT_POLICY",
    "POLICIES",
    "UNTRUNCATABLE",
    "ContentRules",
    "Finding",
    "Policy",
    "Rule",
    "check_value",
    "clean_markup",
    "flag_name",
    "has_markup",
    "remove_markup",
    "sanitise_html",
    "truncate_text",
]
