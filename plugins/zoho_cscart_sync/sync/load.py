"""The idempotent load loop shared by every entity and direction.

For each mapped record, in order:

1. **Unchanged**: the link's hash of what we last wrote into the target equals the payload's hash, so no call
   is made at all. This is what makes clearing and re-running a task, or a backfill, free of writes.
2. **Linked**: the target id is known, so the record is updated.
3. **Not linked**: the natural key (e-mail, SKU, order reference) is first checked against the ID map (another
   source record already owning it is a conflict and is quarantined, never guessed), then looked up in the
   target; a match is adopted and updated, so nothing is created twice. Only then is the record created, with
   a *pending-write intent* stored before the create and the link stored after it. If the task is killed
   between the two, the retry finds the pending intent, looks the record up by natural key and adopts it.
4. A record the target rejects (:class:`RecordRejected`) or that conflicts in the ID map is quarantined with
   its reason and field, and the loop goes on. A record in quarantine that now loads (or is found already in
   sync) is resolved. Any other exception stops the load, because it would fail every record.

``dry_run`` takes the same decisions, with the same reads, and counts them in the same report, but makes no
target write and no state write; the payloads that would be sent go to staging and are referenced from the
report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from zoho_cscart_sync.state.errors import LinkConflictError, NaturalKeyConflictError
from zoho_cscart_sync.state.models import RecordLink
from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.records import MappedRecord, direction_sides
from zoho_cscart_sync.sync.report import DirectionCounts, RunReport
from zoho_cscart_sync.sync.staging import StagedRef, StageWriter, StagingArea, read_staged_records
from zoho_cscart_sync.sync.state_protocol import SyncStateStore
from zoho_cscart_sync.sync.writer import BatchUpsertWriter, RecordRejected, TargetWriter, UpsertItem

log = logging.getLogger(__name__)

LINK_LOOKUP_BATCH = 200
"""Records whose links are read from the state store in one query."""

LOAD_STAGE = "load"


@dataclass(frozen=True)
class LoadJob:
    """Which records a load writes where.

    ``match_key`` is the natural-key kind used to find a record in the target when it is not linked yet
    (``email`` for customers, ``sku`` for products, ``order_ref`` for orders); None when the target has none.
    """

    tenant: str
    entity: str
    direction: str
    run_id: str
    match_key: str | None
    dry_run: bool = False

    @property
    def context(self) -> str:
        return f"tenant {self.tenant!r}, {self.entity} {self.direction}"


@dataclass
class _PlannedUpsert:
    record: MappedRecord
    payload_hash: str
    target_id: str | None
    natural_key: str | None


def load_records(
    records: Iterable[MappedRecord],
    *,
    job: LoadJob,
    writer: TargetWriter,
    state: SyncStateStore,
    report: RunReport,
    would_send: StageWriter | None = None,
) -> DirectionCounts:
    """Load mapped records idempotently; returns this load's counters (also added to ``report``).

    :param would_send: dry run only: where the payloads that would be sent are staged. The caller closes it
        and adds the reference to the report (:meth:`RunReport.add_would_send`).
    """
    loop = _LoadLoop(job=job, writer=writer, state=state, report=report, would_send=would_send)
    started = time.monotonic()
    try:
        loop.run(records)
    finally:
        loop.counts.duration_s = time.monotonic() - started
        loop.counts.quarantined = len(loop.quarantine_backlog())
        row = report.counts(job.entity, job.direction)
        row.add(loop.counts)
        row.quarantined = loop.counts.quarantined  # this load read the backlog after any earlier one
    return loop.counts


def run_load_stage(
    mapped: StagedRef,
    *,
    job: LoadJob,
    writer: TargetWriter,
    state: SyncStateStore,
    staging: StagingArea,
) -> RunReport:
    """The whole load stage of one direction: staged mapped records in, a (partial) run report out.

    In a dry run the payloads that would be sent are staged as ``would_send_<direction>`` and referenced from
    the report. The report's table is logged; return ``report.summary()`` through XCom.
    """
    report = RunReport(job.tenant, job.run_id, dry_run=job.dry_run)
    records = staged_mapped_records(read_staged_records(mapped))
    if job.dry_run:
        with staging.open_stage(f"would_send_{job.direction}") as would_send:
            load_records(records, job=job, writer=writer, state=state, report=report, would_send=would_send)
        report.add_would_send(would_send.close())
    else:
        load_records(records, job=job, writer=writer, state=state, report=report)
    log.info("%s: load finished\n%s", job.context, report.as_table())
    return report


def _chunks(records: Iterable[MappedRecord], size: int) -> Iterator[list[MappedRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _normalised_key(key_kind: str, value: str) -> str:
    # E-mails are case-insensitive (the state store normalises them the same way); other keys are exact.
    return value.strip().lower() if key_kind == "email" else value.strip()


class _LoadLoop:
    def __init__(
        self,
        *,
        job: LoadJob,
        writer: TargetWriter,
        state: SyncStateStore,
        report: RunReport,
        would_send: StageWriter | None,
    ) -> None:
        if job.dry_run is False and would_send is not None:
            raise ValueError("would_send is only for dry runs")
        self.job = job
        self.sides = direction_sides(job.direction)
        self.writer = writer
        self.state = state
        self.report = report
        self.would_send = would_send
        self.counts = DirectionCounts()
        self.batch_writer = writer if isinstance(writer, BatchUpsertWriter) else None
        self.batch: list[_PlannedUpsert] = []
        self.batch_ids: set[str] = set()
        # Source ids with a stored pending-write intent: left by an interrupted attempt, or marked by this one.
        self.pending = {p.source_id for p in state.list_pending(job.tenant, job.entity, job.direction)}
        self.quarantined_before = set(state.quarantined_ids(job.tenant, job.entity, job.direction))
        self.failed_now: set[str] = set()
        self.resolved_now: set[str] = set()
        # Natural keys this run has decided to create or adopt but whose link is not stored yet (a dry run
        # stores nothing; a batch upsert stores links when the batch is flushed): source id by key.
        self.planned_keys: dict[str, str] = {}
        if self.pending:
            log.warning(
                "%s: %d write(s) of an earlier attempt were interrupted; they are checked in the target "
                "before anything is created",
                job.context,
                len(self.pending),
            )

    # -- driving -------------------------------------------------------------------------------------

    def run(self, records: Iterable[MappedRecord]) -> None:
        for chunk in _chunks(records, LINK_LOOKUP_BATCH):
            links = self._links_for(chunk)
            for record in chunk:
                self._load_one(record, links)
        self._flush_batch()

    def quarantine_backlog(self) -> set[str]:
        return (self.quarantined_before - self.resolved_now) | self.failed_now

    def _links_for(self, chunk: list[MappedRecord]) -> dict[str, RecordLink]:
        ids = [record.source_id for record in chunk]
        id_field = self.sides.source_id_field
        found = self.state.get_links(self.job.tenant, self.job.entity, **{f"{id_field}s": ids})
        # Keyed by the source id whatever key the store used.
        return {getattr(link, id_field): link for link in found.values() if getattr(link, id_field)}

    def _load_one(self, record: MappedRecord, links: dict[str, RecordLink]) -> None:
        if record.skip_reason:
            self.counts.skipped += 1
            return
        if record.flags:
            self.counts.flagged += 1
            self.counts.flags.update(record.flags)
        if record.source_id in self.batch_ids:
            # The same record twice in one extract: its first write must be linked before the second is judged.
            self._flush_batch()
            links.update(self._links_for([record]))
        payload_hash = content_hash(record.payload)
        link = links.get(record.source_id)
        target_id = getattr(link, self.sides.target_id_field) if link else None
        try:
            if link is not None and target_id:
                if getattr(link, self.sides.target_hash_field) == payload_hash:
                    self._unchanged(record)
                else:
                    self._check_changed_key(record, link)
                    self._write(record, payload_hash, target_id, natural_key=None, links=links)
            else:
                self._create_or_adopt(record, payload_hash, links)
        except RecordRejected as exc:
            self._fail(record, exc.reason, exc.field)
        except (LinkConflictError, NaturalKeyConflictError) as exc:
            self._fail(record, f"ID map conflict: {exc}", self.job.match_key)

    # -- decisions -----------------------------------------------------------------------------------

    def _unchanged(self, record: MappedRecord) -> None:
        self.counts.unchanged += 1
        # Killed after the link was stored but before the intent was cleared: the write is complete.
        self._clear_pending(record)
        self._resolve(record)

    def _create_or_adopt(self, record: MappedRecord, payload_hash: str, links: dict[str, RecordLink]) -> None:
        key_kind = self.job.match_key
        key_value = record.natural_keys.get(key_kind) if key_kind else None
        if not key_kind or not key_value:
            if record.source_id in self.pending:
                # The earlier create may or may not have reached the target and nothing identifies the
                # record there: creating again could duplicate it, so an operator has to decide.
                raise RecordRejected(
                    "an earlier create of this record was interrupted and it has no "
                    f"{key_kind or 'natural key'} to look it up in the target; check the target by hand, "
                    "then link or resolve it",
                    field=key_kind,
                )
            self._write(record, payload_hash, None, natural_key=None, links=links)
            return
        normalised = _normalised_key(key_kind, key_value)
        claimed_by = self.planned_keys.get(normalised)
        if claimed_by is not None and claimed_by != record.source_id:
            raise RecordRejected(
                f"{key_kind} {key_value!r} is also the {key_kind} of source record {claimed_by} in this run",
                field=key_kind,
            )
        owner = self._key_owner(record, key_kind, key_value)
        target_id: str | None = getattr(owner, self.sides.target_id_field) if owner is not None else None
        if target_id is None and (self.batch_writer is None or self.job.dry_run):
            # A batch upsert matches on the natural key itself; everything else must look before creating.
            self._count_call("find")
            target_id = self.writer.find_by_natural_key(key_kind, key_value)
            if target_id is not None:
                self.counts.linked_existing += 1
        if self.job.dry_run or self.batch_writer is not None:
            # Otherwise the stored link itself claims the key before the next record is looked at.
            self.planned_keys[normalised] = record.source_id
        self._write(record, payload_hash, target_id, natural_key=key_value, links=links)

    def _key_owner(self, record: MappedRecord, key_kind: str, key_value: str) -> RecordLink | None:
        """The link already claiming the natural key; another source record owning it is a conflict."""
        owner = self.state.find_link_by_natural_key(self.job.tenant, self.job.entity, key_kind, key_value)
        if owner is not None:
            owner_source = getattr(owner, self.sides.source_id_field)
            if owner_source and owner_source != record.source_id:
                raise RecordRejected(
                    f"{key_kind} {key_value!r} already belongs to {self.sides.source} record {owner_source}",
                    field=key_kind,
                )
        return owner

    def _check_changed_key(self, record: MappedRecord, link: RecordLink) -> None:
        # A linked record whose natural key changed (a new e-mail) must not take over another record's key:
        # checked before the update, because afterwards the target would already hold the clash.
        key_kind = self.job.match_key
        new_value = record.natural_keys.get(key_kind) if key_kind else None
        if not key_kind or not new_value:
            return
        old_value = link.natural_keys.get(key_kind)
        if old_value is None or _normalised_key(key_kind, old_value) != _normalised_key(key_kind, new_value):
            self._key_owner(record, key_kind, new_value)

    def _write(
        self,
        record: MappedRecord,
        payload_hash: str,
        target_id: str | None,
        *,
        natural_key: str | None,
        links: dict[str, RecordLink],
    ) -> None:
        action = "update" if target_id else "create"
        if self.job.dry_run:
            self._stage_would_send(action, record, target_id)
            self._count_outcome("updated" if target_id else "created")
            self._resolve(record)
            return
        if self.batch_writer is not None:
            if target_id is None:
                self._mark_pending(record, natural_key)
            self.batch.append(_PlannedUpsert(record, payload_hash, target_id, natural_key))
            self.batch_ids.add(record.source_id)
            if len(self.batch) >= self.batch_writer.max_batch_size:
                self._flush_batch()
            return
        if target_id is None:
            self._mark_pending(record, natural_key)
            self._count_call("create")
            try:
                new_id = self.writer.create(record.payload)
            except RecordRejected:
                # The target refused the create, so nothing exists there: the intent can go.
                self._clear_pending(record)
                raise
            links[record.source_id] = self._save_link(record, new_id, payload_hash)
            self._clear_pending(record)
            self._count_outcome("created")
        else:
            self._count_call("update")
            self.writer.update(target_id, record.payload)
            links[record.source_id] = self._save_link(record, target_id, payload_hash)
            self._clear_pending(record)
            self._count_outcome("updated")
        self._resolve(record)

    def _flush_batch(self) -> None:
        if not self.batch or self.batch_writer is None:
            return
        batch, self.batch = self.batch, []
        self.batch_ids.clear()
        self.planned_keys.clear()
        items = [UpsertItem(p.record.source_id, p.record.payload, p.target_id) for p in batch]
        self._count_call("upsert")
        outcomes = self.batch_writer.upsert_batch(items)
        if [o.source_id for o in outcomes] != [item.source_id for item in items]:
            raise RuntimeError(
                f"{self.job.context}: {self.writer.label} answered a batch of {len(items)} with "
                f"{len(outcomes)} outcomes in a different order; refusing to guess which record is which"
            )
        for planned, outcome in zip(batch, outcomes, strict=True):
            if outcome.action == "rejected" or not outcome.target_id:
                self._clear_pending(planned.record)
                self._fail(planned.record, outcome.reason or "rejected by the target", outcome.field)
                continue
            try:
                self._save_link(planned.record, outcome.target_id, planned.payload_hash)
            except (LinkConflictError, NaturalKeyConflictError) as exc:
                self._fail(planned.record, f"ID map conflict: {exc}", self.job.match_key)
                continue
            self._clear_pending(planned.record)
            self._count_outcome("created" if outcome.action == "created" else "updated")
            self._resolve(planned.record)

    # -- effects -------------------------------------------------------------------------------------

    def _save_link(self, record: MappedRecord, target_id: str, payload_hash: str) -> RecordLink:
        ids = {self.sides.source_id_field: record.source_id, self.sides.target_id_field: target_id}
        return self.state.save_link(
            self.job.tenant,
            self.job.entity,
            natural_keys=dict(record.natural_keys) or None,
            flags=record.flags or None,
            run_id=self.job.run_id,
            **ids,
            **{self.sides.target_hash_field: payload_hash},
        )

    def _mark_pending(self, record: MappedRecord, natural_key: str | None) -> None:
        self.state.mark_pending(
            self.job.tenant,
            self.job.entity,
            self.job.direction,
            record.source_id,
            self.job.run_id,
            natural_key,
        )
        self.pending.add(record.source_id)

    def _clear_pending(self, record: MappedRecord) -> None:
        if self.job.dry_run or record.source_id not in self.pending:
            return  # no intent stored: spare the state store a write
        self.state.clear_pending(self.job.tenant, self.job.entity, self.job.direction, record.source_id)
        self.pending.discard(record.source_id)

    def _fail(self, record: MappedRecord, reason: str, field: str | None) -> None:
        self.counts.failed += 1
        self.failed_now.add(record.source_id)
        log.warning("%s: record %s failed (field %s): %s", self.job.context, record.source_id, field or "-", reason)
        if not self.job.dry_run:
            self.state.quarantine(
                self.job.tenant,
                self.job.entity,
                self.job.direction,
                record.source_id,
                reason=reason,
                stage=LOAD_STAGE,
                run_id=self.job.run_id,
                field=field,
            )

    def _resolve(self, record: MappedRecord) -> None:
        if record.source_id not in self.quarantined_before or record.source_id in self.resolved_now:
            return
        self.resolved_now.add(record.source_id)
        if not self.job.dry_run:
            self.state.resolve_quarantine(self.job.tenant, self.job.entity, self.job.direction, record.source_id)

    def _stage_would_send(self, action: str, record: MappedRecord, target_id: str | None) -> None:
        if self.would_send is None:
            return
        entry: dict[str, Any] = {
            "action": action,
            "source_id": record.source_id,
            "target": self.writer.label,
            "payload": record.payload,
        }
        if target_id:
            entry["target_id"] = target_id
        self.would_send.write(entry)

    def _count_call(self, operation: str) -> None:
        self.report.add_api_call(f"{self.writer.label} {operation}")

    def _count_outcome(self, outcome: str) -> None:
        setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)


def staged_mapped_records(staged: Iterable[Mapping[str, Any]]) -> Iterator[MappedRecord]:
    """Turn staged map-stage output (see :meth:`MappedRecord.to_staged`) back into records, lazily."""
    for item in staged:
        yield MappedRecord.from_staged(item)
