"""Quarantine: records that failed, kept with reason and attempt counts until a later run succeeds."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.models import QuarantineEntry
from zoho_cscart_sync.state.tables import quarantine as quarantine_table

_KEY = (
    quarantine_table.c.tenant,
    quarantine_table.c.entity,
    quarantine_table.c.direction,
    quarantine_table.c.source_id,
)


def quarantine(
    connection: Connection,
    tenant: str,
    entity: str,
    direction: str,
    source_id: str,
    *,
    reason: str,
    stage: str,
    field: str | None,
    run_id: str,
    now: datetime,
    kind: str = "transient",
    content_hash: str | None = None,
) -> None:
    """Record a failure. A repeat failure counts one more attempt and keeps first_seen; a failure after
    the entry was resolved opens a new episode (attempts 1, first_seen now)."""
    insert = upsert_insert(connection, quarantine_table).values(
        tenant=tenant,
        entity=entity,
        direction=direction,
        source_id=source_id,
        reason=reason,
        stage=stage,
        field=field,
        run_id=run_id,
        attempts=1,
        first_seen=now,
        last_seen=now,
        resolved_at=None,
        kind=kind,
        content_hash=content_hash,
        first_run_id=run_id,
    )
    still_open = quarantine_table.c.resolved_at.is_(None)
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={
                "reason": insert.excluded.reason,
                "stage": insert.excluded.stage,
                "field": insert.excluded.field,
                "run_id": insert.excluded.run_id,
                "attempts": sa.case((still_open, quarantine_table.c.attempts + 1), else_=1),
                "first_seen": sa.case((still_open, quarantine_table.c.first_seen), else_=insert.excluded.first_seen),
                "last_seen": insert.excluded.last_seen,
                "resolved_at": None,
                "kind": insert.excluded.kind,
                "content_hash": insert.excluded.content_hash,
                "first_run_id": sa.case(
                    (still_open, quarantine_table.c.first_run_id), else_=insert.excluded.first_run_id
                ),
            },
        )
    )


def resolve_many(
    connection: Connection, tenant: str, entity: str, direction: str, source_ids: list[str], now: datetime
) -> None:
    """Close the open entries of ``source_ids`` (no error for ids without one)."""
    if not source_ids:
        return
    connection.execute(
        sa.update(quarantine_table)
        .where(
            quarantine_table.c.tenant == tenant,
            quarantine_table.c.entity == entity,
            quarantine_table.c.direction == direction,
            quarantine_table.c.source_id.in_(source_ids),
            quarantine_table.c.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )


def resolve(connection: Connection, tenant: str, entity: str, direction: str, source_id: str, now: datetime) -> None:
    """Close the open entry for ``source_id`` (kept for history; no error when none is open)."""
    connection.execute(
        sa.update(quarantine_table)
        .where(
            quarantine_table.c.tenant == tenant,
            quarantine_table.c.entity == entity,
            quarantine_table.c.direction == direction,
            quarantine_table.c.source_id == source_id,
            quarantine_table.c.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )


def resolve_all(connection: Connection, tenant: str, entity: str, now: datetime) -> int:
    """Close every open entry of the pair (reset synchronisation re-sends those records anyway)."""
    result = connection.execute(
        sa.update(quarantine_table)
        .where(
            quarantine_table.c.tenant == tenant,
            quarantine_table.c.entity == entity,
            quarantine_table.c.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )
    return result.rowcount


def list_entries(
    connection: Connection,
    tenant: str | None,
    entity: str | None,
    direction: str | None,
    include_resolved: bool,
) -> list[QuarantineEntry]:
    """Entries matching the given filters, oldest first within each tenant/entity/direction."""
    statement = sa.select(quarantine_table)
    if tenant is not None:
        statement = statement.where(quarantine_table.c.tenant == tenant)
    if entity is not None:
        statement = statement.where(quarantine_table.c.entity == entity)
    if direction is not None:
        statement = statement.where(quarantine_table.c.direction == direction)
    if not include_resolved:
        statement = statement.where(quarantine_table.c.resolved_at.is_(None))
    statement = statement.order_by(*_KEY[:3], quarantine_table.c.first_seen, quarantine_table.c.source_id)
    return [
        QuarantineEntry(
            tenant=row.tenant,
            entity=row.entity,
            direction=row.direction,
            source_id=row.source_id,
            reason=row.reason,
            stage=row.stage,
            field=row.field,
            run_id=row.run_id,
            attempts=row.attempts,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            resolved_at=row.resolved_at,
            kind=row.kind,
            content_hash=row.content_hash,
            first_run_id=row.first_run_id,
        )
        for row in connection.execute(statement)
    ]


def open_source_ids(connection: Connection, tenant: str, entity: str, direction: str) -> list[str]:
    """Source ids still quarantined for the pair and direction, oldest failure first."""
    return list(
        connection.execute(
            sa.select(quarantine_table.c.source_id)
            .where(
                quarantine_table.c.tenant == tenant,
                quarantine_table.c.entity == entity,
                quarantine_table.c.direction == direction,
                quarantine_table.c.resolved_at.is_(None),
            )
            .order_by(quarantine_table.c.first_seen, quarantine_table.c.source_id)
        ).scalars()
    )
