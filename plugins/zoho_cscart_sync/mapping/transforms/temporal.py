"""Date and time transforms between ISO 8601 (Zoho) and unix seconds (CS-Cart)."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from zoho_cscart_sync.mapping.errors import TransformError
from zoho_cscart_sync.mapping.transforms.base import TransformArgs, TransformContext, is_empty

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class IsoToUnixArgs(TransformArgs):
    #: Only for naive inputs; Zoho always sends an offset, so a naive value is otherwise an error.
    assume_timezone: str | None = None

    @field_validator("assume_timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            _zone(zone)
        return zone


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def iso_datetime_to_unix(value: Any, args: IsoToUnixArgs, ctx: TransformContext) -> Any:
    """``2024-01-23T20:00:17+0200`` / ``...+05:30`` / ``...Z`` / ``2024-01-23`` (UTC midnight) -> int seconds."""
    if is_empty(value):
        return None
    if not isinstance(value, str):
        raise TransformError(f"iso_datetime_to_unix expects an ISO 8601 string, got {type(value).__name__}")
    text = value.strip()
    try:
        if _DATE_ONLY.match(text):
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=timezone.utc)
        else:
            # Python 3.11 reads both "+05:30" (CRM) and "+0530" (Inventory/Books) offsets and "Z".
            parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TransformError(f"not an ISO 8601 date/time: {text!r}") from exc
    if parsed.tzinfo is None:
        if args.assume_timezone is None:
            raise TransformError(f"date/time {text!r} has no UTC offset and no assume_timezone is configured")
        parsed = parsed.replace(tzinfo=_zone(args.assume_timezone))
    return int(parsed.timestamp())


class UnixToIsoArgs(TransformArgs):
    format: Literal["datetime", "date"] = "datetime"
    timezone: str = "UTC"
    #: ``colon`` gives ``+05:30`` (CRM); ``compact`` gives ``+0530`` (Inventory / Books).
    offset_style: Literal["colon", "compact"] = "colon"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        _zone(zone)
        return zone


def unix_to_iso(value: Any, args: UnixToIsoArgs, ctx: TransformContext) -> Any:
    """Unix seconds (int or digit string) -> ISO 8601 in ``timezone``; CS-Cart's ``0`` means unset -> ``None``."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise TransformError("unix_to_iso expects unix seconds, got bool")
    try:
        seconds = int(value) if isinstance(value, int) else int(str(value).strip())
    except ValueError as exc:
        raise TransformError(f"not unix seconds: {value!r}") from exc
    if seconds < 0:
        raise TransformError(f"negative unix timestamp {seconds}")
    if seconds == 0:
        return None
    moment = datetime.fromtimestamp(seconds, tz=_zone(args.timezone))
    if args.format == "date":
        return moment.date().isoformat()
    text = moment.isoformat(timespec="seconds")
    if args.offset_style == "compact":
        text = text[:-3] + text[-2:]
    return text
