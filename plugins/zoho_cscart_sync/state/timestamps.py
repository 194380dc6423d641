"""UTC-only timestamps: one column type for SQLite and PostgreSQL, and the checks on datetimes we accept."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


def utc_now() -> datetime:
    """The current time as a UTC-aware datetime (the store's default clock)."""
    return datetime.now(timezone.utc)


def require_utc(value: datetime, what: str) -> datetime:
    """Return ``value`` converted to UTC; a naive datetime is refused because its zone would be a guess."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(timezone.utc)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that always goes in and comes out as a UTC-aware datetime.

    PostgreSQL keeps it as ``timestamptz``. SQLite has no time zones, so the value is stored as naive UTC
    text (SQLAlchemy's fixed-width format, which sorts correctly as text) and the zone is re-attached on
    the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        as_utc = require_utc(value, "timestamp")
        if dialect.name == "sqlite":
            return as_utc.replace(tzinfo=None)
        return as_utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
