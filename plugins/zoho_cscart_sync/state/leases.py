"""Run leases: at most one DAG run at a time works on a (tenant, entity, direction).

The DAG's ``max_active_runs=1`` does not bind backfills (``airflow backfill create`` runs up to
``--max-active-runs`` runs at once, 10 by default), so overlap is prevented here, in the sync state: the plan task
takes the lease of every direction its run executes, each stage renews it, and the report task releases it.
A lease expires at ``expires_at``, so a run that was killed before its report task blocks the scope for a
bounded time only; a later run then takes the expired lease over. The holder's run id is stored, so a run that
cannot get the lease says which run holds it.

Every operation is one statement that either succeeds or changes nothing (an UPDATE guarded by "mine or
expired", then an INSERT that does nothing on conflict), so two processes can never both hold a lease.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.models import RunLease
from zoho_cscart_sync.state.tables import run_leases


def _scope(tenant: str, entity: str, direction: str) -> sa.ColumnElement[bool]:
    return sa.and_(run_leases.c.tenant == tenant, run_leases.c.entity == entity, run_leases.c.direction == direction)


def get_lease(connection: Connection, tenant: str, entity: str, direction: str) -> RunLease | None:
    row = connection.execute(sa.select(run_leases).where(_scope(tenant, entity, direction))).one_or_none()
    if row is None:
        return None
    return RunLease(
        tenant=row.tenant,
        entity=row.entity,
        direction=row.direction,
        run_id=row.run_id,
        acquired_at=row.acquired_at,
        expires_at=row.expires_at,
    )


def try_acquire(
    connection: Connection,
    tenant: str,
    entity: str,
    direction: str,
    *,
    run_id: str,
    now: datetime,
    expires_at: datetime,
) -> tuple[bool, RunLease | None]:
    """Take (or renew) the lease for ``run_id``; returns (acquired, the lease as it now stands).

    A lease held by ``run_id`` is renewed (its ``acquired_at`` kept); an expired lease of another run is taken
    over; a live lease of another run is left alone and returned, so the caller can name its holder.
    """
    renewed = connection.execute(
        sa.update(run_leases)
        .where(_scope(tenant, entity, direction), run_leases.c.run_id == run_id)
        .values(expires_at=expires_at)
    ).rowcount
    if not renewed:
        taken_over = connection.execute(
            sa.update(run_leases)
            .where(_scope(tenant, entity, direction), run_leases.c.expires_at <= now)
            .values(run_id=run_id, acquired_at=now, expires_at=expires_at)
        ).rowcount
        if not taken_over:
            insert = upsert_insert(connection, run_leases).values(
                tenant=tenant, entity=entity, direction=direction, run_id=run_id, acquired_at=now, expires_at=expires_at
            )
            connection.execute(
                insert.on_conflict_do_nothing(
                    index_elements=[run_leases.c.tenant, run_leases.c.entity, run_leases.c.direction]
                )
            )
    lease = get_lease(connection, tenant, entity, direction)
    return (lease is not None and lease.run_id == run_id), lease


def release(connection: Connection, tenant: str, entity: str, direction: str, *, run_id: str) -> bool:
    """Give the lease up if ``run_id`` holds it; True when it did (a lease taken over by another run stays)."""
    deleted = connection.execute(
        sa.delete(run_leases).where(_scope(tenant, entity, direction), run_leases.c.run_id == run_id)
    ).rowcount
    return bool(deleted)
