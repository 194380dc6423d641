"""Modified-time windows over Zoho CRM: COQL keyset paging on (Modified_Time, id), and the list fallback.

Why COQL keyset is the default for ``crm_window``:

* Correct under concurrent edits. Offset paging (``page``/``page_token`` sorted by Modified_Time) shifts
  when a record of the window is edited mid-scan (it jumps to the end) and the next page silently skips
  one record. A keyset query ("Modified_Time >= last seen") has no offsets to shift.
* Cheaper. One COQL call returns up to 2,000 rows for 1-3 credits; the list API needs 10 calls (10
  credits) for the same rows. No 2,000-record wall and no 10,000-row OFFSET cap either.
* Same-second ties are handled: the next batch starts *at* the last second seen and skips the ids already
  returned for it; a second holding a whole batch is paged by id.

COQL cannot select line items or multi-select lookups (zoho_api.md 2.5); callers needing them use the
``list`` strategy (If-Modified-Since + local filter) or fetch each record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

COQL_MAX_ROWS = 2000
COQL_MAX_REACH = 10_000
MODIFIED = "Modified_Time"

RunCoql = Callable[[str], Any]


def coql_datetime(value: datetime) -> str:
    """A COQL datetime literal, UTC with a colon offset."""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def floor_second(value: datetime) -> datetime:
    """Round down to a whole second (Zoho timestamps have no fractions)."""
    return value.replace(microsecond=0)


def ceil_second(value: datetime) -> datetime:
    """Round up to a whole second, so ``< ceil(until)`` never drops a record inside ``[.., until)``."""
    return value if value.microsecond == 0 else floor_second(value) + timedelta(seconds=1)


def parse_modified(record: dict[str, Any]) -> datetime:
    """The record's Modified_Time as an aware datetime (CRM renders it in the API user's offset)."""
    return datetime.fromisoformat(str(record[MODIFIED]))


def _where(*conditions: str) -> str:
    # COQL wants criteria parenthesised in pairs: ((a and b) and c).
    expression = conditions[0]
    for condition in conditions[1:]:
        expression = f"({expression} and {condition})"
    return expression


def coql_window(
    run: RunCoql,
    module: str,
    fields: Sequence[str],
    *,
    since: datetime | None,
    until: datetime | None,
    batch_size: int = COQL_MAX_ROWS,
) -> Iterator[list[dict[str, Any]]]:
    """Batches of records with ``since <= Modified_Time < until`` via keyset COQL queries.

    ``run(select_query)`` returns the COQL body (``data`` + ``info.more_records``) or None when empty.
    """
    columns = ", ".join(dict.fromkeys([*fields, MODIFIED]))
    cursor = floor_second(since) if since is not None else None
    cursor_inclusive = True
    seen_at_cursor: set[str] = set()
    upper = f"{MODIFIED} < '{coql_datetime(ceil_second(until))}'" if until is not None else None
    while True:
        conditions = []
        if cursor is not None:
            conditions.append(f"{MODIFIED} {'>=' if cursor_inclusive else '>'} '{coql_datetime(cursor)}'")
        if upper:
            conditions.append(upper)
        where = _where(*conditions) if conditions else "id is not null"
        body = run(f"select {columns} from {module} where {where} order by {MODIFIED} asc limit {batch_size}")
        rows: list[dict[str, Any]] = (body or {}).get("data") or []
        fresh = [
            row
            for row in rows
            if not (cursor is not None and parse_modified(row) == cursor and str(row["id"]) in seen_at_cursor)
            and _inside(row, since, until)
        ]
        if fresh:
            yield fresh
        if not rows or not ((body or {}).get("info") or {}).get("more_records"):
            return
        last = parse_modified(rows[-1])
        if cursor is not None and last == cursor:
            # A whole batch shares one second: page that second by id, then continue strictly after it.
            yield from _one_second(run, module, columns, cursor, seen_at_cursor, batch_size, since, until)
            cursor_inclusive = False
            seen_at_cursor = set()
            continue
        cursor, cursor_inclusive = last, True
        seen_at_cursor = {str(row["id"]) for row in rows if parse_modified(row) == last}


def _one_second(
    run: RunCoql,
    module: str,
    columns: str,
    second: datetime,
    already: set[str],
    batch_size: int,
    since: datetime | None,
    until: datetime | None,
) -> Iterator[list[dict[str, Any]]]:
    offset = 0
    while True:
        if offset + batch_size > COQL_MAX_REACH:
            raise ValueError(f"more than {COQL_MAX_REACH} records modified in the second {second.isoformat()}")
        body = run(
            f"select {columns} from {module} where {MODIFIED} = '{coql_datetime(second)}' "
            f"order by id asc limit {offset}, {batch_size}"
        )
        rows: list[dict[str, Any]] = (body or {}).get("data") or []
        fresh = [row for row in rows if str(row["id"]) not in already and _inside(row, since, until)]
        if fresh:
            yield fresh
        if not rows or not ((body or {}).get("info") or {}).get("more_records"):
            return
        offset += batch_size


def list_window(
    pages: Iterator[list[dict[str, Any]]], *, since: datetime | None, until: datetime | None
) -> Iterator[list[dict[str, Any]]]:
    """Filter list-API pages (sorted by Modified_Time ascending) to the window; stop past ``until``.

    Used for what COQL cannot serve (line items, multi-select lookups). Known limit, stated plainly: when
    another record of the window is edited mid-scan it jumps to the end and offset paging can skip the
    record that slides into its place; prefer the COQL strategy wherever it can select the fields.
    """
    for page in pages:
        keep = [row for row in page if _inside(row, since, until)]
        keep.sort(key=lambda row: (parse_modified(row), str(row.get("id", ""))))
        if keep:
            yield keep
        if until is not None and any(parse_modified(row) >= until for row in page):
            return


def _inside(row: dict[str, Any], since: datetime | None, until: datetime | None) -> bool:
    # Modified_Time has whole seconds: a record stamped with the second the window starts in may have changed
    # after the start's fraction, so it belongs here too (read by both neighbouring windows, never by neither).
    modified = parse_modified(row)
    return (since is None or modified >= floor_second(since)) and (until is None or modified < until)
