"""The "Not in CS-Cart" list: Zoho records a Zoho -> CS-Cart run read and left without a CS-Cart twin.

Called by the runner after the direction's load (``SpecPipeline.load``), outside dry runs and stock-only runs. It
re-reads the run's own staged Zoho records (no API call), ``PAGE`` at a time: one batched link lookup per page and,
for a page with records left without a twin, one batched upsert (``StateStore.note_unlinked``); a page whose records
are all linked (the usual case) costs the lookup only. A record is listed when it has no live link with a CS-Cart id
after the load, whatever kept it back (skipped by a rule or an import filter, waiting for a prerequisite,
quarantined, not written), with a label from its Zoho fields and why (the skip reasons are read from the mapped
records only when a page needs them). Records Zoho's deleted feed reports are unlisted; after a full read, listed
records of the streams read that the read did not find are unlisted too (gone from Zoho); and every load ends with
one sweep that unlists the records linked since, by this run or by the opposite direction.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from itertools import islice
from typing import Any

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.kit.context import EntityRun
from zoho_cscart_sync.state.unlinked import UnlinkedSeen
from zoho_cscart_sync.sync.staging import StagedRef, read_staged_records

log = logging.getLogger(__name__)

PAGE = 200
NAME_FIELDS = ("name", "Account_Name", "Full_Name", "customer_name", "contact_name", "company_name", "item_name")
"""Zoho fields naming a record, first found wins (Inventory items, CRM Accounts / Contacts, sales orders)."""
KEY_FIELDS = ("sku", "Email", "email", "salesorder_number", "reference_number")
"""Zoho fields identifying a record to a person, shown after the name."""


def record_label(row: Mapping[str, Any]) -> str | None:
    """``name · key`` of a Zoho record (e.g. ``Blue mug · BM-1``, ``Jane Roe · jane@example.com``), None if neither."""
    name = next((str(row[f]).strip() for f in NAME_FIELDS if str(row.get(f) or "").strip()), "")
    if not name:
        name = " ".join(str(row.get(f) or "").strip() for f in ("First_Name", "Last_Name")).strip()
    key = next((str(row[f]).strip() for f in KEY_FIELDS if str(row.get(f) or "").strip()), "")
    label = " · ".join(part for part in (name, key) if part)
    return label or None


class _SkipReasons:
    """Skip reasons of the run's mapped records for the first target, in a private temporary SQLite file."""

    def __init__(self, mapped: StagedRef, target: str) -> None:
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("CREATE TABLE skipped (id TEXT PRIMARY KEY, reason TEXT NOT NULL)")
        items = (
            (str(item["record"]["source_id"]), str(item["record"]["skip_reason"]))
            for item in read_staged_records(mapped)
            if item.get("target") == target and (item.get("record") or {}).get("skip_reason")
        )
        self._db.executemany("INSERT OR REPLACE INTO skipped VALUES (?, ?)", items)

    def of(self, ids: list[str]) -> dict[str, str]:
        marks = ",".join("?" * len(ids))
        return dict(self._db.execute(f"SELECT id, reason FROM skipped WHERE id IN ({marks})", ids).fetchall())

    def close(self) -> None:
        self._db.close()


def note_unlinked(run: EntityRun, mapped: Mapping[str, Any]) -> dict[str, int]:
    """List the run's staged Zoho records still without a CS-Cart twin, unlist the linked and deleted ones; returns
    ``{listed, unlisted}`` for the log."""
    streams: Mapping[str, StagedRef] = mapped.get("streams") or {}
    targets = run.targets()
    if (
        run.direction is not Direction.ZOHO_TO_CSCART
        or run.ctx.dry_run
        or not run.quirks.writes_records()
        or not targets
        or not streams
    ):
        return {}
    store, tenant, entity, run_id = run.store, run.tenant_id, run.entity, run.ctx.run_id
    listed = unlisted = 0
    skipped: _SkipReasons | None = None  # read from the mapped records only once a page has an unlinked record
    try:
        for stream in run.direction_spec.streams:
            ref = streams.get(stream.name)
            if not ref or not ref.get("records"):
                continue
            rows = iter(read_staged_records(ref))
            while page := list(islice(rows, PAGE)):
                ids = [str(row[stream.id_field]) for row in page]
                links = store.get_links(tenant, entity, zoho_ids=ids)
                unlinked = [
                    (zoho_id, row)
                    for zoho_id, row in zip(ids, page, strict=True)
                    if not (zoho_id in links and links[zoho_id].cscart_id and links[zoho_id].deleted_at is None)
                ]
                if not unlinked:
                    continue  # the usual page: all linked (listed ones among them leave by the sweep below)
                skipped = skipped or _SkipReasons(mapped["mapped"], targets[0].name)
                reasons = skipped.of([zoho_id for zoho_id, _ in unlinked])
                seen = [
                    UnlinkedSeen(zoho_id, stream.name, record_label(row), reasons.get(zoho_id) or "not written yet")
                    for zoho_id, row in unlinked
                ]
                store.note_unlinked(tenant, entity, seen=seen, run_id=run_id)
                listed += len(seen)
    finally:
        if skipped is not None:
            skipped.close()
    deleted = mapped.get("deleted")
    if deleted and deleted.get("records"):
        rows = iter(read_staged_records(deleted))
        while page := list(islice(rows, PAGE)):
            store.note_unlinked(tenant, entity, gone=[str(row["id"]) for row in page], run_id=run_id)
    read_in_full = mapped.get("read_in_full")
    if read_in_full:
        unlisted += store.prune_unlinked(tenant, entity, list(read_in_full), run_id)
    unlisted += store.sweep_unlinked(tenant, entity)
    log.info("%s: %d Zoho record(s) of this run listed as not in CS-Cart; %d unlisted", run.label, listed, unlisted)
    return {"listed": listed, "unlisted": unlisted}
