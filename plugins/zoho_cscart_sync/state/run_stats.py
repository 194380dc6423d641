"""Per-run statistics (the run report's numbers), one row per tenant, entity and run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.tables import run_stats


def _json_default(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"run statistics must be JSON values, got {type(value).__name__}")


def encode_stats(stats: Mapping[str, Any]) -> str:
    """JSON text of the statistics (datetimes as ISO 8601)."""
    return json.dumps(dict(stats), sort_keys=True, default=_json_default)


def save(connection: Connection, tenant: str, entity: str, run_id: str, encoded_stats: str, now: datetime) -> None:
    """Store the run's statistics; a retried task of the same run replaces them."""
    insert = upsert_insert(connection, run_stats).values(
        tenant=tenant, entity=entity, run_id=run_id, recorded_at=now, stats=encoded_stats
    )
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=[run_stats.c.tenant, run_stats.c.entity, run_stats.c.run_id],
            set_={"stats": insert.excluded.stats, "recorded_at": insert.excluded.recorded_at},
        )
    )


def recent(connection: Connection, tenant: str, entity: str, limit: int) -> list[dict[str, Any]]:
    """The latest ``limit`` runs, newest first, as {tenant, entity, run_id, recorded_at, stats}."""
    rows = connection.execute(
        sa.select(
            run_stats.c.tenant,
            run_stats.c.entity,
            run_stats.c.run_id,
            run_stats.c.recorded_at,
            run_stats.c.stats,
        )
        .where(run_stats.c.tenant == tenant, run_stats.c.entity == entity)
        .order_by(run_stats.c.recorded_at.desc(), run_stats.c.id.desc())
        .limit(limit)
    )
    return [
        {
            "tenant": row.tenant,
            "entity": row.entity,
            "run_id": row.run_id,
            "recorded_at": row.recorded_at,
            "stats": json.loads(row.stats),
        }
        for row in rows
    ]
