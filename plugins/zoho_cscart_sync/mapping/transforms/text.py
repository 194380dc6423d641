"""Text transforms: whitespace, case, length, HTML, joining."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from pydantic import Field

from zoho_cscart_sync.mapping.errors import TransformError
from zoho_cscart_sync.mapping.paths import get_path
from zoho_cscart_sync.mapping.transforms.base import NoArgs, TransformArgs, TransformContext, is_empty


def _require_text(value: Any, transform: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TransformError(f"{transform} expects text, got {type(value).__name__}")
    # Numbers are accepted as text because CS-Cart and Zoho disagree on which fields are numeric.
    return value if isinstance(value, str) else str(value)


def strip(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """Trim surrounding whitespace; ``None`` stays ``None``."""
    return None if value is None else _require_text(value, "strip").strip()


def lower(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """Lower-case (Unicode aware)."""
    return None if value is None else _require_text(value, "lower").lower()


def upper(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """Upper-case (Unicode aware)."""
    return None if value is None else _require_text(value, "upper").upper()


def to_str(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """Numbers and ids to their string form (CS-Cart ids arrive as strings, Zoho's sometimes as numbers)."""
    return None if value is None else _require_text(value, "to_str")


class TruncateArgs(TransformArgs):
    max_length: int = Field(ge=1)
    ellipsis: str = ""


def truncate(value: Any, args: TruncateArgs, ctx: TransformContext) -> Any:
    """Cut to ``max_length`` characters (code points, so emoji are never split into invalid bytes)."""
    if value is None:
        return None
    text = _require_text(value, "truncate")
    if len(text) <= args.max_length:
        return text
    keep = max(args.max_length - len(args.ellipsis), 0)
    return text[:keep] + args.ellipsis[: args.max_length]


class _TextCollector(HTMLParser):
    _BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"})
    _DROPPED_TAGS = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._DROPPED_TAGS:
            self._dropping += 1
        elif tag in self._BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._DROPPED_TAGS:
            self._dropping = max(self._dropping - 1, 0)
        elif tag in self._BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def html_to_text(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """Visible text of an HTML fragment: tags removed, entities decoded, scripts dropped, blank lines folded."""
    if value is None:
        return None
    collector = _TextCollector()
    collector.feed(_require_text(value, "html_to_text"))
    collector.close()
    text = html.unescape("".join(collector.parts)).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


class FieldsArgs(TransformArgs):
    fields: list[str] = Field(min_length=1)
    separator: str = " "


def _values_of(value: Any, fields: list[str], ctx: TransformContext, *, include_value: bool) -> list[Any]:
    values = [value] if include_value else []
    values.extend(get_path(ctx.record, name) for name in fields)
    return values


def concat(value: Any, args: FieldsArgs, ctx: TransformContext) -> Any:
    """Join the non-empty values of ``source`` (if any) then ``fields`` with ``separator``."""
    parts = [
        _require_text(item, "concat").strip()
        for item in _values_of(value, args.fields, ctx, include_value=True)
        if not is_empty(item)
    ]
    return args.separator.join(parts) if parts else None


class AffixArgs(TransformArgs):
    prefix: str = ""
    suffix: str = ""


def affix(value: Any, args: AffixArgs, ctx: TransformContext) -> Any:
    """``prefix + value + suffix`` (e.g. ``CSC-`` before a CS-Cart order id); empty stays empty."""
    if is_empty(value):
        return None
    return f"{args.prefix}{_require_text(value, 'affix')}{args.suffix}"
