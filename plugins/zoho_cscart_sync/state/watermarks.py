"""Watermarks: per tenant, entity and direction, the source timestamp up to which records were loaded."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.tables import watermarks


def get_watermark(connection: Connection, tenant: str, entity: str, direction: str) -> datetime | None:
    """The stored watermark, or None when the pair has never completed a load in that direction."""
    value: datetime | None = connection.execute(
        sa.select(watermarks.c.value).where(
            watermarks.c.tenant == tenant,
            watermarks.c.entity == entity,
            watermarks.c.direction == direction,
        )
    ).scalar_one_or_none()
    return value


def advance_watermark(
    connection: Connection,
    tenant: str,
    entity: str,
    direction: str,
    value: datetime,
    run_id: str,
    now: datetime,
) -> bool:
    """Store ``value`` unless the stored watermark is already later; True when it moved.

    One atomic upsert with a WHERE on the conflict branch, so two racing runs can never move it back.
    """
    insert = upsert_insert(connection, watermarks).values(
        tenant=tenant, entity=entity, direction=direction, value=value, run_id=run_id, updated_at=now
    )
    statement = insert.on_conflict_do_update(
        index_elements=[watermarks.c.tenant, watermarks.c.entity, watermarks.c.direction],
        set_={"value": insert.excluded.value, "run_id": insert.excluded.run_id, "updated_at": now},
        where=watermarks.c.value < insert.excluded.value,
    )
    return connection.execute(statement).rowcount == 1


def clear_watermarks(connection: Connection, tenant: str, entity: str) -> int:
    """Forget both directions' watermarks of the pair (reset synchronisation); returns rows removed."""
    result = connection.execute(
        sa.delete(watermarks).where(watermarks.c.tenant == tenant, watermarks.c.entity == entity)
    )
    return result.rowcount
