"""Read-only queries for the operator console (``zoho_cscart_sync.console``) and the CLI: one page at a time.

Every list is read a page at a time with keyset pagination along an index the tables already have, so a page
costs the same on page 1 and on page 5,000 and whatever the tenant's size:

* quarantine: the primary key ``(tenant, entity, direction, source_id)``, open entries only; newest last seen
  first along ``ix_zcs_quarantine_open_recent`` (v9, a partial index of the open entries);
* flagged links (the no-e-mail placeholders): the links' primary key ``id``, with the flag filter;
* run statistics: ``ix_zcs_run_stats_recent (tenant, entity, recorded_at)``, newest first.

Counts are single aggregate queries (no rows are listed to count them); the open quarantine per (direction, kind)
reads the partial index ``ix_zcs_quarantine_open_kinds`` (v9) alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.models import RunLease
from zoho_cscart_sync.state.tables import (
    links,
    natural_keys,
    quarantine,
    run_leases,
    run_stats,
    token_cache,
    token_mints,
    watermarks,
)


@dataclass(frozen=True)
class QuarantineRow:
    """One open quarantine entry as an operator sees it."""

    direction: str
    source_id: str
    kind: str
    reason: str
    field: str | None
    stage: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    run_id: str


@dataclass(frozen=True)
class FlaggedLink:
    """A link carrying a flag (e.g. ``no_email``) with its natural keys."""

    link_id: int
    zoho_id: str | None
    cscart_id: str | None
    natural_keys: dict[str, str]
    last_synced_at: datetime


@dataclass(frozen=True)
class RunTotals:
    """One run's statistics summed over its directions (created / updated / failed / API calls)."""

    run_id: str
    recorded_at: datetime
    created: int
    updated: int
    failed: int
    api_calls: int
    succeeded: bool
    directions: tuple[str, ...]


@dataclass(frozen=True)
class WatermarkRow:
    """Where a direction's next scheduled run starts reading."""

    direction: str
    value: datetime
    run_id: str
    updated_at: datetime


@dataclass(frozen=True)
class TokenSnapshot:
    """What an operator may see of a cached Zoho access token: never the token, only times and counts."""

    cached: bool
    expires_at: datetime | None
    minted_at: datetime | None
    mints_in_window: int


_QUARANTINE_ROW = tuple(quarantine.c[name] for name in QuarantineRow.__dataclass_fields__)
"""The columns of a :class:`QuarantineRow`, in its order."""


def _open_quarantine(tenant: str, entity: str, direction: str | None, kind: str | None = None) -> list[Any]:
    clauses = [quarantine.c.tenant == tenant, quarantine.c.entity == entity, quarantine.c.resolved_at.is_(None)]
    if direction is not None:
        clauses.append(quarantine.c.direction == direction)
    if kind is not None:
        clauses.append(quarantine.c.kind == kind)
    return clauses


def quarantine_page(
    connection: Connection,
    tenant: str,
    entity: str,
    *,
    direction: str | None,
    after: tuple[str, str] | None,
    limit: int,
    kind: str | None = None,
) -> list[QuarantineRow]:
    """Open entries in primary-key order (direction, source id), the ``limit`` after the key ``after``; ``kind``
    keeps one kind only (a filter along the same key order, so pages stay keyset pages)."""
    clauses = _open_quarantine(tenant, entity, direction, kind)
    if after is not None:
        after_direction, after_id = after
        clauses.append(
            sa.or_(
                quarantine.c.direction > after_direction,
                sa.and_(quarantine.c.direction == after_direction, quarantine.c.source_id > after_id),
            )
        )
    rows = connection.execute(
        sa.select(*_QUARANTINE_ROW)
        .where(*clauses)
        .order_by(quarantine.c.direction, quarantine.c.source_id)
        .limit(limit)
    )
    return [QuarantineRow(**row._asdict()) for row in rows]


def quarantine_recent_page(
    connection: Connection,
    tenant: str,
    entity: str,
    *,
    direction: str | None,
    before: tuple[datetime, str, str] | None,
    limit: int,
    kind: str | None = None,
) -> list[QuarantineRow]:
    """Open entries newest last seen first (ties by direction, source id, descending), the ``limit`` after the key
    ``before`` (last seen, direction, source id): a range scan of ``ix_zcs_quarantine_open_recent`` (schema v9)."""
    clauses = _open_quarantine(tenant, entity, direction, kind)
    if before is not None:
        seen, before_direction, before_id = before
        clauses.append(quarantine.c.last_seen <= seen)  # bounds the index range; the OR below picks the exact key
        clauses.append(
            sa.or_(
                quarantine.c.last_seen < seen,
                sa.and_(
                    quarantine.c.last_seen == seen,
                    sa.or_(
                        quarantine.c.direction < before_direction,
                        sa.and_(quarantine.c.direction == before_direction, quarantine.c.source_id < before_id),
                    ),
                ),
            )
        )
    rows = connection.execute(
        sa.select(*_QUARANTINE_ROW)
        .where(*clauses)
        .order_by(quarantine.c.last_seen.desc(), quarantine.c.direction.desc(), quarantine.c.source_id.desc())
        .limit(limit)
    )
    return [QuarantineRow(**row._asdict()) for row in rows]


def quarantine_counts(connection: Connection, tenant: str, entity: str) -> dict[tuple[str, str], int]:
    """Open entries per (direction, kind), in one grouped COUNT."""
    rows = connection.execute(
        sa.select(quarantine.c.direction, quarantine.c.kind, sa.func.count())
        .where(*_open_quarantine(tenant, entity, None))
        .group_by(quarantine.c.direction, quarantine.c.kind)
    )
    return {(str(direction), str(kind)): int(count) for direction, kind, count in rows}


def quarantine_ids(
    connection: Connection, tenant: str, entity: str, direction: str, source_ids: Sequence[str]
) -> list[str]:
    """Of ``source_ids``, those with an open entry in ``direction`` (what a retry may ask for)."""
    if not source_ids:
        return []
    found = connection.execute(
        sa.select(quarantine.c.source_id).where(
            *_open_quarantine(tenant, entity, direction), quarantine.c.source_id.in_(list(source_ids))
        )
    ).scalars()
    return sorted(str(value) for value in found)


def _flag_clauses(tenant: str, entity: str, flag: str) -> list[Any]:
    return [
        links.c.tenant == tenant,
        links.c.entity == entity,
        links.c.deleted_at.is_(None),
        links.c.flags.like(f"%,{flag},%"),
    ]


def flagged_links_page(
    connection: Connection, tenant: str, entity: str, flag: str, *, after_id: int, limit: int
) -> list[FlaggedLink]:
    """Live links carrying ``flag``, by link id after ``after_id``, with their natural keys (one more query)."""
    rows = connection.execute(
        sa.select(links.c.id, links.c.zoho_id, links.c.cscart_id, links.c.last_synced_at)
        .where(*_flag_clauses(tenant, entity, flag), links.c.id > after_id)
        .order_by(links.c.id)
        .limit(limit)
    ).all()
    keys: dict[int, dict[str, str]] = {int(row.id): {} for row in rows}
    if keys:
        for link_id, kind, value in connection.execute(
            sa.select(natural_keys.c.link_id, natural_keys.c.key_kind, natural_keys.c.key_value).where(
                natural_keys.c.link_id.in_(list(keys))
            )
        ):
            keys[int(link_id)][str(kind)] = str(value)
    return [
        FlaggedLink(
            link_id=int(row.id),
            zoho_id=row.zoho_id,
            cscart_id=row.cscart_id,
            natural_keys=keys[int(row.id)],
            last_synced_at=row.last_synced_at,
        )
        for row in rows
    ]


def count_flagged_links(connection: Connection, tenant: str, entity: str, flag: str) -> int:
    """How many live links carry ``flag``."""
    count = connection.execute(
        sa.select(sa.func.count()).select_from(links).where(*_flag_clauses(tenant, entity, flag))
    ).scalar_one()
    return int(count)


@dataclass(frozen=True)
class DirectionTotals:
    """One direction's created / updated / failed / API calls in one run's statistics."""

    created: int
    updated: int
    failed: int
    api_calls: int
    succeeded: bool


def direction_totals(stats: dict[str, Any]) -> dict[str, DirectionTotals]:
    """A run's statistics (``{direction: {created, updated, failed, api_calls, succeeded, ...}}``) per direction."""
    totals: dict[str, DirectionTotals] = {}
    for direction, numbers in sorted(stats.items()):
        if not isinstance(numbers, dict):
            continue
        totals[direction] = DirectionTotals(
            created=int(numbers.get("created") or 0),
            updated=int(numbers.get("updated") or 0),
            failed=int(numbers.get("failed") or 0),
            api_calls=sum(int(value) for value in (numbers.get("api_calls") or {}).values()),
            succeeded=bool(numbers.get("succeeded", True)),
        )
    return totals


def _totals(run_id: str, recorded_at: datetime, encoded: str) -> RunTotals:
    per_direction = direction_totals(json.loads(encoded))
    numbers = per_direction.values()
    return RunTotals(
        run_id,
        recorded_at,
        sum(n.created for n in numbers),
        sum(n.updated for n in numbers),
        sum(n.failed for n in numbers),
        sum(n.api_calls for n in numbers),
        all(n.succeeded for n in numbers),
        tuple(per_direction),
    )


def run_totals_page(connection: Connection, tenant: str, entity: str, *, offset: int, limit: int) -> list[RunTotals]:
    """Runs' statistics summed over directions, newest first (``ix_zcs_run_stats_recent``)."""
    rows = connection.execute(
        sa.select(run_stats.c.run_id, run_stats.c.recorded_at, run_stats.c.stats)
        .where(run_stats.c.tenant == tenant, run_stats.c.entity == entity)
        .order_by(run_stats.c.recorded_at.desc(), run_stats.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_totals(row.run_id, row.recorded_at, row.stats) for row in rows]


def count_runs(connection: Connection, tenant: str, entity: str) -> int:
    """How many runs stored statistics for the pair."""
    count = connection.execute(
        sa.select(sa.func.count())
        .select_from(run_stats)
        .where(run_stats.c.tenant == tenant, run_stats.c.entity == entity)
    ).scalar_one()
    return int(count)


def list_watermarks(connection: Connection, tenant: str, entity: str) -> list[WatermarkRow]:
    """The pair's watermarks, one per direction that ever completed."""
    rows = connection.execute(
        sa.select(watermarks.c.direction, watermarks.c.value, watermarks.c.run_id, watermarks.c.updated_at)
        .where(watermarks.c.tenant == tenant, watermarks.c.entity == entity)
        .order_by(watermarks.c.direction)
    )
    return [WatermarkRow(**row._asdict()) for row in rows]


def live_leases(connection: Connection, tenant: str, entity: str, now: datetime) -> list[RunLease]:
    """The pair's run leases that have not expired at ``now``, by direction: the runs working on it right now."""
    rows = connection.execute(
        sa.select(run_leases)
        .where(run_leases.c.tenant == tenant, run_leases.c.entity == entity, run_leases.c.expires_at > now)
        .order_by(run_leases.c.direction)
    )
    return [
        RunLease(
            tenant=row.tenant,
            entity=row.entity,
            direction=row.direction,
            run_id=row.run_id,
            acquired_at=row.acquired_at,
            expires_at=row.expires_at,
        )
        for row in rows
    ]


def token_snapshot(connection: Connection, cache_key: str, since: datetime) -> TokenSnapshot:
    """Expiry and mint times of the cached token of ``cache_key`` (the ciphertext is not even read)."""
    row = connection.execute(
        sa.select(token_cache.c.expires_at, token_cache.c.minted_at).where(token_cache.c.cache_key == cache_key)
    ).one_or_none()
    mints = connection.execute(
        sa.select(sa.func.count())
        .select_from(token_mints)
        .where(token_mints.c.cache_key == cache_key, token_mints.c.minted_at >= since)
    ).scalar_one()
    return TokenSnapshot(
        cached=row is not None,
        expires_at=row.expires_at if row is not None else None,
        minted_at=row.minted_at if row is not None else None,
        mints_in_window=int(mints),
    )
