"""Zoho records not in CS-Cart: what the console's "Import selected" and the CLI's ``unlinked`` / ``import`` list.

The sync kit (``kit/unlinked.py``) notes, after each Zoho -> CS-Cart load, every Zoho record the run staged that is
still without a live CS-Cart twin (skipped, waiting, quarantined, not written), with a label and why, one batched
upsert per page of records; the records of that page that are linked now, and those Zoho reports deleted, are removed
in the same statement batch. Between runs a link can also come from elsewhere (CS-Cart -> Zoho adopting the Zoho
record by its SKU), so the reads leave out listed records that have a live link (an anti-join on the links' unique
``(tenant, entity, zoho_id)``) and each Zoho -> CS-Cart load sweeps them out.

Lists are keyset pages on the primary key ``(tenant, entity, zoho_id)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.tables import links, quarantine, unlinked

LABEL_MAX = 255
REASON_MAX = 1000
ZOHO_TO_CSCART = "zoho_to_cscart"


@dataclass(frozen=True)
class UnlinkedSeen:
    """One Zoho record a run staged and left without a CS-Cart twin; ``reason`` is the skip reason, if it was
    skipped (a quarantine entry, when there is one, says why instead)."""

    zoho_id: str
    stream: str
    label: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class UnlinkedRecord:
    """A Zoho record not in CS-Cart as the console and the CLI show it."""

    zoho_id: str
    stream: str
    label: str | None
    reason: str | None
    first_seen: datetime
    last_seen: datetime
    run_id: str


def _clip(text: str | None, size: int) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _quarantine_reasons(connection: Connection, tenant: str, entity: str, ids: Sequence[str]) -> dict[str, str]:
    rows = connection.execute(
        sa.select(quarantine.c.source_id, quarantine.c.kind, quarantine.c.reason).where(
            quarantine.c.tenant == tenant,
            quarantine.c.entity == entity,
            quarantine.c.direction == ZOHO_TO_CSCART,
            quarantine.c.resolved_at.is_(None),
            quarantine.c.source_id.in_(list(ids)),
        )
    )
    return {str(source_id): f"quarantined ({kind}): {reason}" for source_id, kind, reason in rows}


def note(
    connection: Connection,
    tenant: str,
    entity: str,
    *,
    seen: Sequence[UnlinkedSeen],
    gone: Sequence[str],
    run_id: str,
    now: datetime,
) -> None:
    """Upsert ``seen`` (first seen kept; label, reason, run and last seen replaced) and delete ``gone``."""
    if seen:
        reasons = _quarantine_reasons(connection, tenant, entity, [item.zoho_id for item in seen])
        insert = upsert_insert(connection, unlinked)
        values = [
            {
                "tenant": tenant,
                "entity": entity,
                "zoho_id": item.zoho_id,
                "stream": item.stream,
                "label": _clip(item.label, LABEL_MAX),
                "reason": _clip(reasons.get(item.zoho_id) or item.reason, REASON_MAX),
                "first_seen": now,
                "last_seen": now,
                "run_id": run_id,
            }
            for item in {item.zoho_id: item for item in seen}.values()
        ]
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[unlinked.c.tenant, unlinked.c.entity, unlinked.c.zoho_id],
                set_={
                    "stream": insert.excluded.stream,
                    "label": insert.excluded.label,
                    "reason": insert.excluded.reason,
                    "last_seen": insert.excluded.last_seen,
                    "run_id": insert.excluded.run_id,
                },
            ),
            values,
        )
    if gone:
        connection.execute(
            unlinked.delete().where(
                unlinked.c.tenant == tenant, unlinked.c.entity == entity, unlinked.c.zoho_id.in_(list(gone))
            )
        )


def _linked() -> Any:
    """EXISTS a live link of the listed record with a CS-Cart twin (uses ``uq_zcs_links_zoho_id``)."""
    return (
        sa.select(sa.literal(1))
        .where(
            links.c.tenant == unlinked.c.tenant,
            links.c.entity == unlinked.c.entity,
            links.c.zoho_id == unlinked.c.zoho_id,
            links.c.cscart_id.is_not(None),
            links.c.deleted_at.is_(None),
        )
        .exists()
    )


def sweep(connection: Connection, tenant: str, entity: str) -> int:
    """Delete the pair's listed records that are linked now (by any direction); returns how many."""
    result = connection.execute(
        unlinked.delete().where(unlinked.c.tenant == tenant, unlinked.c.entity == entity, _linked())
    )
    return int(result.rowcount or 0)


def prune_unseen(connection: Connection, tenant: str, entity: str, streams: Sequence[str], run_id: str) -> int:
    """After a full read of ``streams`` by run ``run_id``: delete what that read no longer found (gone from Zoho)."""
    if not streams:
        return 0
    result = connection.execute(
        unlinked.delete().where(
            unlinked.c.tenant == tenant,
            unlinked.c.entity == entity,
            unlinked.c.stream.in_(list(streams)),
            unlinked.c.run_id != run_id,
        )
    )
    return int(result.rowcount or 0)


def page(connection: Connection, tenant: str, entity: str, *, after: str | None, limit: int) -> list[UnlinkedRecord]:
    """Listed records without a live CS-Cart twin, by Zoho id after ``after`` (keyset on the primary key)."""
    clauses = [unlinked.c.tenant == tenant, unlinked.c.entity == entity, ~_linked()]
    if after is not None:
        clauses.append(unlinked.c.zoho_id > after)
    rows = connection.execute(
        sa.select(
            unlinked.c.zoho_id,
            unlinked.c.stream,
            unlinked.c.label,
            unlinked.c.reason,
            unlinked.c.first_seen,
            unlinked.c.last_seen,
            unlinked.c.run_id,
        )
        .where(*clauses)
        .order_by(unlinked.c.zoho_id)
        .limit(limit)
    )
    return [UnlinkedRecord(**row._asdict()) for row in rows]


def count(connection: Connection, tenant: str, entity: str) -> int:
    """How many listed records of the pair have no live CS-Cart twin."""
    total = connection.execute(
        sa.select(sa.func.count())
        .select_from(unlinked)
        .where(unlinked.c.tenant == tenant, unlinked.c.entity == entity, ~_linked())
    ).scalar_one()
    return int(total)


def listed_ids(connection: Connection, tenant: str, entity: str, zoho_ids: Sequence[str]) -> list[str]:
    """Of ``zoho_ids``, those listed and still without a live CS-Cart twin (what "Import selected" sends)."""
    if not zoho_ids:
        return []
    found = connection.execute(
        sa.select(unlinked.c.zoho_id).where(
            unlinked.c.tenant == tenant,
            unlinked.c.entity == entity,
            unlinked.c.zoho_id.in_(list(zoho_ids)),
            ~_linked(),
        )
    ).scalars()
    listed = {str(value) for value in found}
    return [value for value in zoho_ids if value in listed]
