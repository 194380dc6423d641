"""Load: mapped records into each target, in dependency order, through the one idempotent load loop.

Order: target by target (CRM before Books), route by route (Contacts before Leads), stream by stream in the
declared order (accounts before contacts), and in a hierarchy level by level (roots first). Before a record
is written:

* **requirements**: what it requires must be linked in the target, else it waits in quarantine (kind
  ``waiting``) with the reason, and is checked again next run;
* **conflicts** (two-way entities, in Zoho -> CS-Cart, which runs first): a linked record about to be
  updated whose target copy also changed since the last sync (its current hash differs from the echo hash
  the last sync stored) is a conflict; the entity's ``master`` wins and the other change is reported;
* **echo**: every write stores, in the same transaction as its link, the hash the opposite direction will
  compute when it reads the write back (``TargetSpec``'s reader mapping and the quirks' ``read_back``).

Then deletions reported by the source's deleted feed are applied to the first target, per the entity's
delete policy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from itertools import islice
from typing import Any

from zoho_cscart_sync.kit.context import EntityRun
from zoho_cscart_sync.kit.hierarchy import CYCLE
from zoho_cscart_sync.kit.spec import StreamSpec, TargetSpec
from zoho_cscart_sync.kit.writers import build_writer
from zoho_cscart_sync.sync.load import EchoHasher, LoadJob, load_records, payload_hash_of
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.report import RunReport
from zoho_cscart_sync.sync.staging import StagedRef, read_staged_records
from zoho_cscart_sync.sync.writer import TargetWriter

log = logging.getLogger(__name__)

LINK_BATCH = 200
WAITING_PREFIX = "waiting: its "
LOAD_STAGE = "load"


class _TargetPass:
    """Loading one (target, route): the writer, the load job and what conflicts read."""

    def __init__(self, run: EntityRun, target: TargetSpec, route: str | None, report: RunReport) -> None:
        self.run = run
        self.target = target
        self.route = route
        self.report = report
        self.namespace = run.namespace(target)
        self.writer: TargetWriter = build_writer(run, target, route)
        self.job = LoadJob(
            tenant=run.tenant_id,
            entity=self.namespace,
            direction=run.direction.value,
            run_id=run.ctx.run_id,
            match_key=target.match_key,
            dry_run=run.ctx.dry_run,
            write=target.write,
            create_only=run.quirks.create_only_fields(target),
        )
        self.rows_before: dict[str, Mapping[str, Any]] = {}  # target rows read before updating (conflicts)
        self.planned: set[str] = set()  # dry run: records it would create count as linked for their dependants
        self.echo_reader = (
            run.mapping(run.direction.opposite, target.reader_mapping)
            if run.two_way and target.reader_mapping
            else None
        )
        # The opposite direction decides "changed" without its target's create-only fields: so does its echo.
        opposite_targets = run.spec.direction(run.direction.opposite).targets if self.echo_reader else ()
        self.echo_create_only = run.quirks.create_only_fields(opposite_targets[0]) if opposite_targets else frozenset()
        if hasattr(self.writer, "keep_rows"):
            # Rows read back for echo hashes cost calls and memory: only when the opposite direction reads.
            self.writer.keep_rows = self.echo_reader is not None

    # -- echo ------------------------------------------------------------------------------------------
    def echo(self) -> EchoHasher | None:
        if self.echo_reader is None:
            return None
        reader = self.echo_reader
        run = self.run

        def echo_hash(record: MappedRecord, target_id: str, *, created: bool) -> str | None:
            # A writer that keeps the target's answer to the write (Inventory returns the item) gives the
            # record exactly as it will be read back; otherwise the entity computes it (or reads it).
            answered = getattr(self.writer, "written_rows", {}).pop(target_id, None)
            if answered is not None:
                return self.observed_hash(answered)
            # Rows read before this write are used once, here (popped: a catalogue-sized load holds none).
            before = getattr(self.writer, "adopted_rows", {}).pop(target_id, None) or self.rows_before.pop(
                target_id, None
            )
            row = run.quirks.read_back(self.target, self.route, record, target_id, created=created, before=before)
            if row is None:
                return None
            return self.observed_hash(row) if reader is not None else None

        return echo_hash

    def observed_hash(self, row: Mapping[str, Any]) -> str | None:
        """Hash of a target record as the opposite direction maps it (None when that mapping fails)."""
        assert self.echo_reader is not None
        mapped = self.echo_reader.apply(row, tenant=self.run.tenant_id)
        return payload_hash_of(mapped.payload, self.echo_create_only, mapped.actions) if mapped.ok else None


def load(run: EntityRun, mapped: Mapping[str, Any]) -> tuple[RunReport, dict[str, Any]]:
    """Load every target; returns the report and extra counters (conflicts, deactivated, waiting)."""
    report = RunReport(tenant=run.tenant_id, run_id=run.ctx.run_id, dry_run=run.ctx.dry_run)
    extra: dict[str, int] = {"conflicts": 0, "deactivated": 0}
    ref: StagedRef = mapped["mapped"]
    first_pass: _TargetPass | None = None
    for target in run.targets() if run.quirks.writes_records() else ():
        budget = call_budget(run, target)
        budget_spent = None
        if budget is not None and not run.ctx.dry_run:
            target_api = TARGET_API[target.system]

            def budget_spent(api: tuple[str, str] = target_api, limit: int = budget) -> bool:
                # Checked before each record, which may cost up to RECORD_CALLS_AT_MOST: a hard ceiling.
                return calls_to(run, api) + RECORD_CALLS_AT_MOST > limit

            extra["call_budget"] = budget
        for route in run.quirks.routes(target):
            target_pass = _TargetPass(run, target, route, report)
            first_pass = first_pass or target_pass
            _plan_lookups(run, target_pass, ref)
            for stream in run.streams():
                for depth in _levels(stream, int(mapped.get("max_depth", 0))):
                    records = _ready(run, target_pass, ref, stream, depth, report)
                    if run.two_way and run.direction.source == "zoho" and target_pass.echo_reader is not None:
                        records = _apply_conflict_policy(run, target_pass, records, extra)
                    load_records(
                        records,
                        job=target_pass.job,
                        writer=target_pass.writer,
                        state=run.store,
                        report=report,
                        echo=target_pass.echo(),
                        budget_spent=budget_spent,
                    )
            run.quirks.adjust_counts(
                target, report.counts(target_pass.namespace, run.direction.value), target_pass.writer
            )
            close = getattr(target_pass.writer, "close", None)
            if close is not None:
                close()
    if first_pass is not None and mapped.get("deleted") and not run.ctx.dry_run:
        extra["deactivated"] = _apply_deletions(run, first_pass, mapped["deleted"])
    extra.update(run.quirks.after_load(mapped))
    return report, extra


TARGET_API = {
    "zoho_inventory": ("zoho", "/inventory/"),
    "zoho_books": ("zoho", "/books/"),
    "zoho_crm": ("zoho", "/crm/"),
    "cscart": ("cscart", "/"),
}
"""Hook and path prefix of a target system's calls in the hooks' counters (``zoho POST /inventory/v1/items``)."""

RECORD_CALLS_AT_MOST = 3
"""Most calls one record's write can cost: a create refused as a duplicate, the look-up, the update."""

BUDGET_MINUTES = 50
"""Default call budget of a paced target: what its rate limit allows in 50 minutes, so an hourly run that
spends it (paced by the hook's limiter) still ends before the next one starts."""


def call_budget(run: EntityRun, target: TargetSpec) -> int | None:
    """Calls this run may spend on ``target``: the tenant's setting, else 50 minutes at the target's limit."""
    if target.call_budget is None:
        return None
    configured = run.setting(target.call_budget)
    if configured is not None:
        return int(configured)
    limit = run.zoho.config.inventory_limit if target.system == "zoho_inventory" else run.zoho.config.books_limit
    per_minute = limit.requests_per_minute if limit is not None else None
    return int(BUDGET_MINUTES * per_minute) if per_minute else None


def calls_to(run: EntityRun, api: tuple[str, str]) -> int:
    """Calls this task made so far on endpoints of one API (counted by the hooks, extract/map not included)."""
    hook, path = api
    total = 0
    for endpoint, count in run.api_calls().items():
        parts = endpoint.split(" ", 2)
        if len(parts) == 3 and parts[0] == hook and parts[2].startswith(path):
            total += count
    return total


def _plan_lookups(run: EntityRun, target_pass: _TargetPass, ref: StagedRef) -> None:
    """Tell a writer that can index the target (``plan_lookups``) how many records it will look up by key."""
    plan = getattr(target_pass.writer, "plan_lookups", None)
    if plan is None or target_pass.target.write != "find_then_create":
        return
    unlinked = 0
    field = run.direction.target_id_field
    items = (
        item
        for item in read_staged_records(ref)
        if item["target"] == target_pass.target.name and item.get("route") == target_pass.route
    )
    while chunk := list(islice(items, LINK_BATCH)):
        ids = [str(MappedRecord.from_staged(item["record"]).source_id) for item in chunk]
        links = run.store.get_links(run.tenant_id, target_pass.namespace, **{f"{run.direction.source}_ids": ids})
        unlinked += sum(1 for i in ids if not (i in links and getattr(links[i], field)))
    plan(unlinked)


def _levels(stream: StreamSpec, max_depth: int) -> list[int | None]:
    if stream.requires is not None and stream.requires.stream == stream.name:
        return [*range(max_depth + 1), CYCLE]  # parents first, cycles last (they wait)
    return [None]


def _ready(
    run: EntityRun, target_pass: _TargetPass, ref: StagedRef, stream: StreamSpec, depth: int | None, report: RunReport
) -> Iterator[MappedRecord]:
    """Records of one stream (and depth) for this target whose requirement is met; the others wait."""

    def items() -> Iterator[dict[str, Any]]:
        for item in read_staged_records(ref):
            if item["stream"] != stream.name or item["target"] != target_pass.target.name:
                continue
            if item.get("route") != target_pass.route:
                continue
            if depth is not None and item["depth"] != depth:
                continue
            yield item

    iterator = items()
    while chunk := list(islice(iterator, LINK_BATCH)):
        yield from _ready_chunk(run, target_pass, stream, chunk, report)


def _ready_chunk(
    run: EntityRun, target_pass: _TargetPass, stream: StreamSpec, chunk: list[dict[str, Any]], report: RunReport
) -> Iterator[MappedRecord]:
    requirement = stream.requires
    required = {str(item["requires"]) for item in chunk if item.get("requires")}
    met: set[str] = set()
    if requirement is not None and required:
        entity = requirement.entity or run.entity
        links = run.store.get_links(run.tenant_id, entity, **{f"{run.direction.source}_ids": sorted(required)})
        field = run.direction.target_id_field
        met = {i for i, link in links.items() if getattr(link, field) and link.deleted_at is None}
        if run.ctx.dry_run:
            met |= target_pass.planned
    counts = report.counts(target_pass.namespace, run.direction.value)
    for item in chunk:
        record = MappedRecord.from_staged(item["record"])
        needed = item.get("requires")
        if item["depth"] == CYCLE and requirement is not None:
            _wait(
                run,
                target_pass,
                record,
                requirement.field,
                f"its {requirement.label} chain loops back on itself (a cycle in the source)",
                counts,
            )
            continue
        if record.skip_reason or not needed or needed in met:
            if run.ctx.dry_run and not record.skip_reason:
                target_pass.planned.add(record.source_id)
            yield record
            continue
        assert requirement is not None
        why = _why_missing(run, target_pass, str(needed))
        reason = f"{WAITING_PREFIX}{requirement.label} {needed} is not in {_system_label(run)}: {why}"
        _wait(run, target_pass, record, requirement.field, reason, counts)


def _system_label(run: EntityRun) -> str:
    return "CS-Cart" if run.direction.target == "cscart" else "Zoho"


def _why_missing(run: EntityRun, target_pass: _TargetPass, required_id: str) -> str:
    entries = run.store.open_quarantine(run.tenant_id, target_pass.namespace, run.direction.value)
    entry = entries.get(required_id)
    if entry is not None:
        if entry.reason.startswith(WAITING_PREFIX):
            return "it is waiting for its own prerequisite"
        return f"it is in quarantine ({entry.reason})"
    source = "Zoho" if run.direction.source == "zoho" else "CS-Cart"
    return f"it could not be read from {source} (deleted, or not visible to this connection)"


def _wait(run: EntityRun, target_pass: _TargetPass, record: MappedRecord, field: str, reason: str, counts: Any) -> None:
    counts.waiting += 1
    log.warning("%s: record %s waits: %s", run.label, record.source_id, reason)
    if run.ctx.dry_run:
        return
    run.store.quarantine(
        run.tenant_id,
        target_pass.namespace,
        run.direction.value,
        record.source_id,
        reason=reason,
        stage=LOAD_STAGE,
        run_id=run.ctx.run_id,
        field=field,
        kind="waiting",
    )


def _apply_conflict_policy(
    run: EntityRun, target_pass: _TargetPass, records: Iterable[MappedRecord], extra: dict[str, int]
) -> Iterator[MappedRecord]:
    """Both sides changed since the last sync: the master's version wins, the other change is reported.

    Only linked records about to be updated are checked, with one read of the target record each: it is mapped
    the way the opposite direction would, and compared with the echo hash the last sync stored.
    """
    direction = run.direction
    reader_writer: Any = target_pass.writer
    iterator = iter(records)
    while chunk := list(islice(iterator, LINK_BATCH)):
        links = run.store.get_links(
            run.tenant_id, target_pass.namespace, **{f"{direction.source}_ids": [r.source_id for r in chunk]}
        )
        for record in chunk:
            link = links.get(record.source_id)
            target_id = getattr(link, direction.target_id_field) if link is not None else None
            last_echo = getattr(link, direction.source_hash_field) if link is not None else None
            if (
                record.skip_reason
                or link is None
                or not target_id
                or last_echo is None
                or getattr(link, direction.target_hash_field)
                == payload_hash_of(record.payload, target_pass.job.create_only, record.actions)
            ):
                yield record
                continue
            row = reader_writer.read(target_id)
            if row is not None:
                target_pass.rows_before[target_id] = row
            if row is None or target_pass.observed_hash(row) == last_echo:
                yield record  # the target copy is unchanged since the last sync: no conflict
                continue
            extra["conflicts"] += 1
            where = f"{direction.source} {record.source_id} / {direction.target} {target_id}"
            _record_lost_conflict(run, target_pass, record.source_id, target_id)
            if run.master == direction.source:
                log.warning(
                    "%s: CONFLICT on %s: both changed since the last sync; %s is master, its version overwrites "
                    "the other change",
                    run.label,
                    where,
                    direction.source,
                )
                yield record
                continue
            log.warning(
                "%s: CONFLICT on %s: both changed since the last sync; %s is master, this change is not applied "
                "and the %s version is sent back by the opposite direction",
                run.label,
                where,
                direction.target,
                direction.target,
            )
            yield replace(
                record,
                skip_reason=f"conflict: {direction.target} is master for {run.entity}; this change is not applied",
            )


def _record_lost_conflict(run: EntityRun, target_pass: _TargetPass, source_id: str, target_id: str) -> None:
    """Store the losing change (README "Lost conflicts"): the target's when the source is master, else the source's.

    Not in dry runs. The fields that differed are not stored: the last synced version is kept as a hash only.
    """
    if run.ctx.dry_run:
        return
    direction = run.direction
    if run.master == direction.source:
        lost_direction, lost_id, winner_id = direction.opposite, target_id, source_id
    else:
        lost_direction, lost_id, winner_id = direction, source_id, target_id
    run.store.record_lost_conflict(
        run.tenant_id,
        target_pass.namespace,
        lost_direction.value,
        lost_id,
        target_id=winner_id,
        master=run.master,
        run_id=run.ctx.run_id,
    )


def _apply_deletions(run: EntityRun, target_pass: _TargetPass, ref: StagedRef) -> int:
    """Apply the entity's delete policy to the target records of source records deleted in the window."""
    policy = run.setting(run.direction_spec.delete_policy) if run.direction_spec.delete_policy else "ignore"
    direction = run.direction
    deactivated = 0
    rows = iter(read_staged_records(ref))
    while chunk := list(islice(rows, LINK_BATCH)):
        links = run.store.get_links(
            run.tenant_id, target_pass.namespace, **{f"{direction.source}_ids": [str(r["id"]) for r in chunk]}
        )
        for row in chunk:
            link = links.get(str(row["id"]))
            target_id = getattr(link, direction.target_id_field) if link is not None else None
            if link is None or link.deleted_at is not None or not target_id:
                continue
            if policy == "deactivate":
                if getattr(target_pass.writer, "deactivate")(target_id):  # noqa: B009 - optional capability
                    deactivated += 1
                else:
                    log.warning(
                        "%s: target record %s of deleted source record %s is already gone",
                        run.label,
                        target_id,
                        row["id"],
                    )
            # The deletion time comes from the source feed, never from the clock of this task.
            at = datetime.fromisoformat(str(row["deleted_time"])) if row.get("deleted_time") else run.ctx.window.until
            run.store.mark_deleted(
                run.tenant_id, target_pass.namespace, **{f"{direction.source}_id": str(row["id"])}, at=at
            )
    return deactivated
