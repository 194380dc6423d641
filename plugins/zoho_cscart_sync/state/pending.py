"""Pending writes: marked before a create is sent, cleared once its link is saved.

If the task dies in between, the retry finds the mark and must look the record up (by natural key or by
the source id stored on the target) before creating it again, so an interrupted load never duplicates.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.models import PendingWrite
from zoho_cscart_sync.state.tables import pending_writes


def mark_pending(
    connection: Connection,
    tenant: str,
    entity: str,
    direction: str,
    source_id: str,
    run_id: str,
    natural_key: str | None,
    now: datetime,
) -> None:
    """Record (or refresh) the mark for ``source_id``."""
    insert = upsert_insert(connection, pending_writes).values(
        tenant=tenant,
        entity=entity,
        direction=direction,
        source_id=source_id,
        run_id=run_id,
        natural_key=natural_key,
        marked_at=now,
    )
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=[
                pending_writes.c.tenant,
                pending_writes.c.entity,
                pending_writes.c.direction,
                pending_writes.c.source_id,
            ],
            set_={"run_id": run_id, "natural_key": natural_key, "marked_at": now},
        )
    )


def clear_pending_many(connection: Connection, tenant: str, entity: str, direction: str, source_ids: list[str]) -> None:
    """Remove the marks of ``source_ids`` (no error for ids without one)."""
    if not source_ids:
        return
    connection.execute(
        sa.delete(pending_writes).where(
            pending_writes.c.tenant == tenant,
            pending_writes.c.entity == entity,
            pending_writes.c.direction == direction,
            pending_writes.c.source_id.in_(source_ids),
        )
    )


def clear_pending(connection: Connection, tenant: str, entity: str, direction: str, source_id: str) -> None:
    """Remove the mark (no error when there is none)."""
    connection.execute(
        sa.delete(pending_writes).where(
            pending_writes.c.tenant == tenant,
            pending_writes.c.entity == entity,
            pending_writes.c.direction == direction,
            pending_writes.c.source_id == source_id,
        )
    )


def list_pending(connection: Connection, tenant: str, entity: str, direction: str) -> list[PendingWrite]:
    """Every unconfirmed write of the pair and direction, oldest first."""
    rows = connection.execute(
        sa.select(pending_writes)
        .where(
            pending_writes.c.tenant == tenant,
            pending_writes.c.entity == entity,
            pending_writes.c.direction == direction,
        )
        .order_by(pending_writes.c.marked_at, pending_writes.c.source_id)
    )
    return [
        PendingWrite(
            tenant=row.tenant,
            entity=row.entity,
            direction=row.direction,
            source_id=row.source_id,
            run_id=row.run_id,
            natural_key=row.natural_key,
            marked_at=row.marked_at,
        )
        for row in rows
    ]
