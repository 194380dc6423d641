"""Dashboard counts: the ID map tallied in SQL, and the six tiles stored per run (``zcs_run_counts``).

The ID map holds a row per synced record (272k for a big catalogue), so the tally is one ``COUNT`` query over
the tenant's and entity's links; nothing is listed. The derived tiles are computed by the sync kit
(``kit/counts.py``) and kept here one row per run, so a dashboard reads the latest row or a history.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.models import EntityCounts, LinkTally, RunCounts
from zoho_cscart_sync.state.tables import links, run_counts

IMPORT_ORIGIN = "zoho_to_cscart"
"""A link's ``origin`` when the pair was first linked by the Zoho -> CS-Cart direction."""

_TILE_COLUMNS = tuple(field.name for field in dataclasses.fields(EntityCounts))
"""The columns of a run's counts row: every field of :class:`EntityCounts`, in its order."""


def link_tally(connection: Connection, tenant: str, entity: str) -> LinkTally:
    """Live links with both ids, and how many of them came from Zoho, in one aggregate query."""
    row = connection.execute(
        sa.select(
            sa.func.count().label("linked"),
            sa.func.count(sa.case((links.c.origin == IMPORT_ORIGIN, 1))).label("imported"),
        ).where(
            links.c.tenant == tenant,
            links.c.entity == entity,
            links.c.zoho_id.is_not(None),
            links.c.cscart_id.is_not(None),
            links.c.deleted_at.is_(None),
        )
    ).one()
    return LinkTally(linked=int(row.linked), imported=int(row.imported))


def save(connection: Connection, tenant: str, entity: str, run_id: str, counts: EntityCounts, now: datetime) -> None:
    """Store the run's counts; a retried report task of the same run replaces them."""
    values = {name: getattr(counts, name) for name in _TILE_COLUMNS}
    insert = upsert_insert(connection, run_counts).values(
        tenant=tenant, entity=entity, run_id=run_id, recorded_at=now, **values
    )
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=[run_counts.c.tenant, run_counts.c.entity, run_counts.c.run_id],
            set_={name: getattr(insert.excluded, name) for name in (*_TILE_COLUMNS, "recorded_at")},
        )
    )


def recent(
    connection: Connection, tenant: str, entity: str, limit: int, exclude_run_id: str | None = None
) -> list[RunCounts]:
    """The latest ``limit`` runs' counts, newest first (optionally leaving one run out)."""
    statement = sa.select(run_counts).where(run_counts.c.tenant == tenant, run_counts.c.entity == entity)
    if exclude_run_id is not None:
        statement = statement.where(run_counts.c.run_id != exclude_run_id)
    rows = connection.execute(
        statement.order_by(run_counts.c.recorded_at.desc(), run_counts.c.id.desc()).limit(limit)
    ).all()
    return [
        RunCounts(
            tenant=row.tenant,
            entity=row.entity,
            run_id=row.run_id,
            recorded_at=row.recorded_at,
            counts=EntityCounts(**{name: getattr(row, name) for name in _TILE_COLUMNS}),
        )
        for row in rows
    ]
