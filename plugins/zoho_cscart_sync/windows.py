"""The run-window rule: one function decides what a run reads, for every way a run can start.

| run                                   | window                                                    |
|---------------------------------------|-----------------------------------------------------------|
| scheduled, backfill                   | exactly the data interval ``[start, end)``; window params |
|                                       | (since, until, full_refresh, record_ids) are refused      |
| manual with an explicit data interval | exactly that interval (REST / UI "Specify Manually")      |
| manual with ``since`` and/or ``until``| ``[since or watermark or start_date, until or run_after)``|
| manual without them                   | ``[last successful watermark or start_date, run_after)``  |
| ``full_refresh``                      | everything up to the window end (``since`` is None)       |
| ``record_ids``                        | just those records; the window is not used                |

The end of a manual window is the run's ``run_after`` (when it was triggered), never ``now()``, so
re-running a run reads the same window again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any


class RunWindowError(ValueError):
    """The run's parameters cannot form a window (e.g. since >= until)."""


class WindowMode(str, Enum):
    INTERVAL = "interval"  # scheduled and backfill runs
    MANUAL = "manual"  # manual trigger without explicit bounds: watermark -> trigger time
    EXPLICIT = "explicit"  # manual trigger with since/until
    FULL_REFRESH = "full_refresh"
    RECORDS = "records"  # record_ids


@dataclass(frozen=True)
class RunWindow:
    """What one direction of one run reads. ``since`` None means 'from the beginning'."""

    since: datetime | None
    until: datetime
    mode: WindowMode
    record_ids: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Small, JSON-serialisable form for XCom."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "mode": self.mode.value,
            "record_ids": list(self.record_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunWindow:
        since = data.get("since")
        return cls(
            since=parse_datetime(since) if since else None,
            until=parse_datetime(data["until"]),
            mode=WindowMode(data["mode"]),
            record_ids=tuple(data.get("record_ids") or ()),
        )

    def with_backlog(self, backlog_since: datetime | None) -> RunWindow:
        """This window widened back to an unfinished backlog's start (``None``: from the beginning).

        A run that spent its call budget before writing everything leaves a backlog; scheduled and manual runs
        then read their own window plus the unfinished part, until the backlog is done. Explicit windows
        (``since``/``until``), full refreshes and ``record_ids`` runs read exactly what they were asked.
        """
        if self.mode not in (WindowMode.INTERVAL, WindowMode.MANUAL) or self.since is None:
            return self
        if backlog_since is not None and backlog_since >= self.since:
            return self
        return replace(self, since=backlog_since)

    @property
    def advances_watermark(self) -> bool:
        """Only windowed reads move the watermark; a record_ids run says nothing about other records."""
        return self.mode is not WindowMode.RECORDS


def parse_datetime(value: str | datetime) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` allowed) into an aware UTC datetime; naive means UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise RunWindowError(f"not an ISO-8601 datetime: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def resolve_window(
    *,
    run_type: str,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    run_after: datetime,
    params: Mapping[str, Any],
    watermark: datetime | None,
    start_date: datetime,
    explicit_interval: tuple[datetime, datetime] | None = None,
) -> RunWindow:
    """Apply the run-window rule (see the module docstring) for one direction of one run.

    ``explicit_interval``: the data interval a manual run was given explicitly (see
    ``run_guards.explicit_manual_interval``); it is the window, and ``since``/``until``/``full_refresh`` are refused
    with it.
    """
    record_ids: Sequence[str] = params.get("record_ids") or ()
    since_param = params.get("since")
    until_param = params.get("until")
    full_refresh = bool(params.get("full_refresh"))

    if record_ids:
        cleaned = tuple(dict.fromkeys(str(r).strip() for r in record_ids if str(r).strip()))
        if not cleaned:
            raise RunWindowError("record_ids contains only empty values")
        return RunWindow(since=None, until=parse_datetime(run_after), mode=WindowMode.RECORDS, record_ids=cleaned)

    is_interval_run = run_type in ("scheduled", "backfill")
    if is_interval_run or explicit_interval is not None:
        given = [
            name
            for name, value in (("since", since_param), ("until", until_param), ("full_refresh", full_refresh))
            if value
        ]
        if given:
            what = f"a {run_type} run" if is_interval_run else "a manual run with an explicit data interval"
            raise RunWindowError(
                f"{', '.join(repr(k) for k in given)} cannot be used on {what}: it reads exactly its data interval"
            )
    if explicit_interval is not None and not is_interval_run:
        start, end = parse_datetime(explicit_interval[0]), parse_datetime(explicit_interval[1])
        if start >= end:
            raise RunWindowError(f"empty data interval [{start.isoformat()}, {end.isoformat()})")
        return RunWindow(since=start, until=end, mode=WindowMode.EXPLICIT)
    if is_interval_run:
        if data_interval_start is None or data_interval_end is None:
            raise RunWindowError(f"a {run_type} run has no data interval")
        start, end = parse_datetime(data_interval_start), parse_datetime(data_interval_end)
        if start >= end:
            # A zero-width interval means the DAG was given a trigger timetable: refuse rather than read nothing.
            raise RunWindowError(f"empty data interval [{start.isoformat()}, {end.isoformat()})")
        return RunWindow(since=start, until=end, mode=WindowMode.INTERVAL)

    until = parse_datetime(until_param) if until_param else parse_datetime(run_after)
    if full_refresh:
        if since_param:
            raise RunWindowError("full_refresh reads everything: leave 'since' empty")
        return RunWindow(since=None, until=until, mode=WindowMode.FULL_REFRESH)
    if since_param:
        since = parse_datetime(since_param)
        mode = WindowMode.EXPLICIT
    else:
        since = parse_datetime(watermark) if watermark else parse_datetime(start_date)
        mode = WindowMode.EXPLICIT if until_param else WindowMode.MANUAL
        if mode is WindowMode.MANUAL and since >= until:
            # Already synced up to (or past) the trigger time: an empty window, nothing to read.
            return RunWindow(since=until, until=until, mode=mode)
    if since >= until:
        raise RunWindowError(f"'since' ({since.isoformat()}) must be before 'until' ({until.isoformat()})")
    return RunWindow(since=since, until=until, mode=mode)
