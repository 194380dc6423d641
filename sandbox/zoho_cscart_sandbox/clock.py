"""Time: the seed's fixed "now", the server clock, and the vendors' timestamp formats."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

# Seed records carry modified times spread over the days before this instant, so that windowed
# extraction can be tested deterministically. Writes use the real server clock (always later).
SEED_NOW = datetime(2026, 11, 20, 0, 0, 0, tzinfo=timezone.utc)
# Seed modified times are spread over this many days before SEED_NOW.
SEED_SPAN = timedelta(days=30)


def utc_now() -> datetime:
    """The server clock (writes stamp records with it)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def tz_from_minutes(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def crm_datetime(value: datetime, offset_minutes: int) -> str:
    """CRM renders datetimes in the API user's time zone with a colon offset: 2026-11-19T10:30:47-05:00."""
    return value.astimezone(tz_from_minutes(offset_minutes)).isoformat(timespec="seconds")


def finance_datetime(value: datetime, offset_minutes: int) -> str:
    """Inventory/Books render timestamps in the org's zone with an offset without colon: ...T10:30:47-0500."""
    return value.astimezone(tz_from_minutes(offset_minutes)).strftime("%Y-%m-%dT%H:%M:%S%z")


def finance_date(value: datetime, offset_minutes: int) -> str:
    return value.astimezone(tz_from_minutes(offset_minutes)).strftime("%Y-%m-%d")


def unix(value: datetime) -> int:
    return int(value.timestamp())


def parse_zoho_datetime(text: str) -> datetime | None:
    """Parse the datetime forms Zoho accepts: ISO 8601 with ':'/no-colon offsets or 'Z', or an HTTP date.

    Returns None when the text is not a datetime (callers answer with the vendor's error shape).
    """
    text = text.strip()
    if not text:
        return None
    candidate = text.replace("Z", "+00:00") if text.endswith("Z") else text
    # "+0530" (Inventory style) -> "+05:30" so fromisoformat accepts it on every Python version.
    if len(candidate) >= 5 and candidate[-5] in "+-" and candidate[-4:].isdigit() and "T" in candidate:
        candidate = candidate[:-2] + ":" + candidate[-2:]
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        # A datetime without offset is read as UTC (the likeliest reading; Zoho documents offsets).
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
