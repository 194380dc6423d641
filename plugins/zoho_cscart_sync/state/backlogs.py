"""Backlogs: the unfinished part of a direction whose run spent its call budget before it read everything.

A target slower than the hour (Zoho Inventory: ~100 requests a minute, no bulk create) cannot take a 272k
catalogue in one run. The run that stops early records where its window began (``since``; None: from the
beginning) and how far it got; every following run of that direction reads from there as well as its own
window, until a run finishes with nothing deferred and clears it. Watermarks wait meanwhile.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.models import Backlog
from zoho_cscart_sync.state.tables import backlogs


def get_backlog(connection: Connection, tenant: str, entity: str, direction: str) -> Backlog | None:
    row = connection.execute(
        sa.select(backlogs).where(
            backlogs.c.tenant == tenant, backlogs.c.entity == entity, backlogs.c.direction == direction
        )
    ).one_or_none()
    if row is None:
        return None
    return Backlog(
        since=row.since, done=int(row.done), total=int(row.total), run_id=row.run_id, updated_at=row.updated_at
    )


def save_backlog(
    connection: Connection,
    tenant: str,
    entity: str,
    direction: str,
    *,
    since: datetime | None,
    done: int,
    total: int,
    run_id: str,
    now: datetime,
) -> None:
    """Record (or move on) the direction's backlog; ``since`` keeps the earliest start ever recorded."""
    existing = get_backlog(connection, tenant, entity, direction)
    if existing is not None and (existing.since is None or (since is not None and existing.since < since)):
        since = existing.since
    values = {"since": since, "done": done, "total": total, "run_id": run_id, "updated_at": now}
    insert = upsert_insert(connection, backlogs).values(tenant=tenant, entity=entity, direction=direction, **values)
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=[backlogs.c.tenant, backlogs.c.entity, backlogs.c.direction], set_=values
        )
    )


def clear_backlog(connection: Connection, tenant: str, entity: str, direction: str | None = None) -> int:
    """Forget the backlog of one direction (finished) or of both (reset synchronisation)."""
    condition = sa.and_(backlogs.c.tenant == tenant, backlogs.c.entity == entity)
    if direction is not None:
        condition = sa.and_(condition, backlogs.c.direction == direction)
    return connection.execute(sa.delete(backlogs).where(condition)).rowcount
