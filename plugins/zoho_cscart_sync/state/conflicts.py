"""Lost conflicts: the change that lost when both sides of a linked record changed since the last sync.

The load stage (``kit/loadstage.py``) decides a conflict by the tenant's ``master`` and records the losing change
here, outside dry runs. Retention: one row per (tenant, entity, losing direction, record); a later conflict on the
same record replaces it (run, time) and counts ``occurrences``, so the table is bounded by the number of linked
records and needs no pruning. Lists are keyset pages along the primary key, as the quarantine's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.tables import lost_conflicts


@dataclass(frozen=True)
class LostConflict:
    """One record's latest lost change: ``direction`` and ``source_id`` name the losing side, ``master`` the winner."""

    direction: str
    source_id: str
    target_id: str
    master: str
    run_id: str
    decided_at: datetime
    occurrences: int


def record(
    connection: Connection,
    tenant: str,
    entity: str,
    direction: str,
    source_id: str,
    *,
    target_id: str,
    master: str,
    run_id: str,
    now: datetime,
) -> None:
    """Store (or replace) the record's latest lost change; ``occurrences`` += 1 when it lost before."""
    insert = upsert_insert(connection, lost_conflicts).values(
        tenant=tenant,
        entity=entity,
        direction=direction,
        source_id=source_id,
        target_id=target_id,
        master=master,
        run_id=run_id,
        decided_at=now,
        occurrences=1,
    )
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=[
                lost_conflicts.c.tenant,
                lost_conflicts.c.entity,
                lost_conflicts.c.direction,
                lost_conflicts.c.source_id,
            ],
            set_={
                "target_id": insert.excluded.target_id,
                "master": insert.excluded.master,
                "run_id": insert.excluded.run_id,
                "decided_at": insert.excluded.decided_at,
                "occurrences": lost_conflicts.c.occurrences + 1,
            },
        )
    )


def page(
    connection: Connection, tenant: str, entity: str, *, after: tuple[str, str] | None, limit: int
) -> list[LostConflict]:
    """The pair's lost conflicts in (direction, source id) order, the ``limit`` after the key ``after``."""
    clauses = [lost_conflicts.c.tenant == tenant, lost_conflicts.c.entity == entity]
    if after is not None:
        after_direction, after_id = after
        clauses.append(
            sa.or_(
                lost_conflicts.c.direction > after_direction,
                sa.and_(lost_conflicts.c.direction == after_direction, lost_conflicts.c.source_id > after_id),
            )
        )
    rows = connection.execute(
        sa.select(
            lost_conflicts.c.direction,
            lost_conflicts.c.source_id,
            lost_conflicts.c.target_id,
            lost_conflicts.c.master,
            lost_conflicts.c.run_id,
            lost_conflicts.c.decided_at,
            lost_conflicts.c.occurrences,
        )
        .where(*clauses)
        .order_by(lost_conflicts.c.direction, lost_conflicts.c.source_id)
        .limit(limit)
    )
    return [LostConflict(**row._asdict()) for row in rows]


def count(connection: Connection, tenant: str, entity: str) -> int:
    """How many records of the pair have a lost conflict stored."""
    total = connection.execute(
        sa.select(sa.func.count())
        .select_from(lost_conflicts)
        .where(lost_conflicts.c.tenant == tenant, lost_conflicts.c.entity == entity)
    ).scalar_one()
    return int(total)
