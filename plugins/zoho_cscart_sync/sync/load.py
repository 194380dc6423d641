"""The idempotent load loop shared by every entity and direction.

For each mapped record, in order:

1. **Unchanged**: the link's hash of what we last wrote into the target equals the payload's hash, so no call
   is made at all. This is what makes clearing and re-running a task, or a backfill, free of writes.
2. **Linked**: the target id is known, so the record is updated.
3. **Not linked**: the natural key (e-mail, SKU, order reference) is first checked against the ID map (another
   source record already owning it is a conflict and is quarantined, never guessed), then looked up in the
   target (how, is the target's write strategy: ``find_then_create`` looks first, ``create_then_adopt`` lets
   the target refuse a duplicate and then adopts, ``batch_upsert`` lets the target match); a match is adopted
   and updated, so nothing is created twice. *Pending-write intents* for the creates of a chunk of records
   are stored in one transaction before any of them is sent. If the task is killed before a create's link is
   stored, the retry finds the intent and looks the record up by natural key before creating anything.
   A record *without* natural key (a product without SKU) is looked up by the writer's ``find_created``
   (its exact name, no key, not linked to anything); while such an interrupted create is unresolved, the
   opposite direction holds back its own unlinked records without key (``waiting``), because one of them may
   be the very record that create made, and copying it back would duplicate it.
4. Every confirmed write is recorded in ONE state transaction (:meth:`StateStore.record_write`): the link,
   the hash of what was written, the *echo hash* (what the opposite direction will compute when it reads the
   write back, given by ``echo``), natural keys and flags, the intent cleared, the quarantine entry resolved.
   No crash point leaves a written record half-known.
5. A record the target rejects (:class:`RecordRejected`) or that conflicts in the ID map is quarantined as a
   *content* failure (with the hash of its source, so it waits until the source changes); a write still
   ambiguous after the writer's own look-up, or a transient error that outlived the hook's retries, is
   quarantined as *transient* (retried next run, its intent kept so that run looks it up first). The loop goes
   on with the next record. Any other exception, or :data:`MAX_CONSECUTIVE_TRANSIENT` transient failures in
   a row (the target is down, not one record unlucky), stops the load.

``dry_run`` takes the same decisions, with the same reads, and counts them in the same report, but makes no
target write and no state write; the payloads that would be sent go to staging and are referenced from the
report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal, Protocol

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.http.errors import AmbiguousWriteError, RetryableApiError
from zoho_cscart_sync.state.errors import LinkConflictError, NaturalKeyConflictError
from zoho_cscart_sync.state.models import RecordLink
from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.report import DirectionCounts, RunReport
from zoho_cscart_sync.sync.staging import StagedRef, StageWriter, StagingArea, read_staged_records
from zoho_cscart_sync.sync.state_protocol import SyncStateStore
from zoho_cscart_sync.sync.writer import (
    BatchUpsertWriter,
    FindsCreatedRecords,
    RecordRejected,
    TargetWriter,
    UpsertItem,
)

log = logging.getLogger(__name__)

LINK_LOOKUP_BATCH = 200
"""Records whose links are read from the state store in one query."""

LOAD_STAGE = "load"

MAX_CONSECUTIVE_TRANSIENT = 5
"""Transient per-record failures in a row after which the target is taken to be down and the load stops."""

WAITING_FOR_OPPOSITE = "waiting for the opposite direction"
"""Reason prefix of a record held back while an interrupted keyless create of the other direction is open."""

WriteStrategy = Literal["batch_upsert", "create_then_adopt", "find_then_create"]


class EchoHasher(Protocol):
    """After a confirmed write: the hash the opposite direction will compute when it reads the write back."""

    def __call__(self, record: MappedRecord, target_id: str, *, created: bool) -> str | None: ...


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
    write: WriteStrategy = "find_then_create"
    """How an unlinked record is matched in the target (ignored for batch-upsert writers, which match)."""
    create_only: frozenset[str] = frozenset()
    """Payload fields sent only when a record is created (an item's opening stock): left out of updates and of
    the hash that decides whether a record changed, so they never cause a write of their own."""

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
    echo: EchoHasher | None = None,
    budget_spent: Callable[[], bool] | None = None,
) -> DirectionCounts:
    """Load mapped records idempotently; returns this load's counters (also added to ``report``).

    :param would_send: dry run only: where the payloads that would be sent are staged. The caller closes it
        and adds the reference to the report (:meth:`RunReport.add_would_send`).
    :param echo: computes the echo hash stored with each write (two-way entities); None stores none.
    :param budget_spent: True once this run's call budget for the target is used up: every further record
        that needs a write is counted as ``deferred`` (not sent, not quarantined) for a later run.
    """
    loop = _LoadLoop(job=job, writer=writer, state=state, report=report, would_send=would_send, echo=echo)
    loop.budget_spent = budget_spent
    started = time.monotonic()
    try:
        loop.run(records)
    finally:
        loop.counts.duration_s = time.monotonic() - started
        loop.counts.quarantined = len(loop.quarantine_backlog())
        loop.counts.new_failures = len(loop.failed_now - loop.quarantined_before)
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


def without(payload: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The payload an update sends: without the create-only fields."""
    return {key: value for key, value in payload.items() if key not in fields}


ACTIONS_KEY = "@actions"


def payload_hash_of(
    payload: Mapping[str, Any], create_only: frozenset[str] = frozenset(), actions: Mapping[str, Any] | None = None
) -> str:
    """The hash that decides whether a record changed: the payload without create-only fields (see LoadJob),
    plus the record's actions (a status change is a change); a record without actions hashes as its payload."""
    hashed = without(payload, create_only) if create_only else dict(payload)
    if actions:
        hashed[ACTIONS_KEY] = dict(actions)
    return content_hash(hashed)


def _normalised_key(key_kind: str, value: str) -> str:
    from zoho_cscart_sync.state.natural_keys import normalise_natural_key

    # One rule with the state store (e-mails case-insensitive), so a key claimed here is the key stored there.
    return normalise_natural_key(key_kind, value)


class _LoadLoop:
    def __init__(
        self,
        *,
        job: LoadJob,
        writer: TargetWriter,
        state: SyncStateStore,
        report: RunReport,
        would_send: StageWriter | None,
        echo: EchoHasher | None = None,
    ) -> None:
        if job.dry_run is False and would_send is not None:
            raise ValueError("would_send is only for dry runs")
        self.job = job
        self.sides = Direction.parse(job.direction)
        self.echo = echo
        self.consecutive_transient = 0
        self.writer = writer
        self.state = state
        self.report = report
        self.would_send = would_send
        self.counts = DirectionCounts()
        self.batch_writer = writer if isinstance(writer, BatchUpsertWriter) else None
        self.batch: list[_PlannedUpsert] = []
        self.batch_ids: set[str] = set()
        # Source ids whose intent was left by an interrupted attempt: looked up in the target before a create.
        self.interrupted = {p.source_id for p in state.list_pending(job.tenant, job.entity, job.direction)}
        # Source ids with an intent stored now (interrupted ones, and those this run marked).
        self.pending = set(self.interrupted)
        # An interrupted create without natural key in the opposite direction: its record may already exist on
        # this direction's source side, unlinked; this direction must not copy it back before it is resolved.
        self.opposite_keyless_interrupted = sum(
            1 for p in state.list_pending(job.tenant, job.entity, self.sides.opposite.value) if not p.natural_key
        )
        self.quarantined_before = set(state.quarantined_ids(job.tenant, job.entity, job.direction))
        self.failed_now: set[str] = set()
        self.waiting_now: set[str] = set()  # held back (quarantined as waiting), not failed
        self.resolved_now: set[str] = set()
        # Natural keys this run has decided to create or adopt but whose link is not stored yet (a dry run
        # stores nothing; a batch upsert stores links when the batch is flushed): source id by key.
        self.planned_keys: dict[str, str] = {}
        self.key_owners: dict[str, RecordLink] = {}
        self.budget_spent: Callable[[], bool] | None = None
        if self.interrupted:
            log.warning(
                "%s: %d write(s) of an earlier attempt were interrupted; they are checked in the target "
                "before anything is created",
                job.context,
                len(self.interrupted),
            )

    # -- driving -------------------------------------------------------------------------------------

    def run(self, records: Iterable[MappedRecord]) -> None:
        for chunk in _chunks(records, LINK_LOOKUP_BATCH):
            links = self._links_for(chunk)
            self.key_owners = self._key_owners_for(chunk)
            marked = self._mark_chunk(chunk, links)
            attempted: set[str] = set()
            try:
                for record in chunk:
                    attempted.add(record.source_id)
                    self._load_one(record, links)
            finally:
                # Intents of records never tried (the load stopped): nothing was sent for them.
                self._clear_intents([source_id for source_id in marked if source_id not in attempted])
            if not self.job.dry_run and self.batch_writer is None:
                # Keys written in this chunk are in the state store now (the next chunk's key owners include them);
                # holding them here would grow with the catalogue. Failed records keep theirs: no link stores them.
                self.planned_keys = {k: v for k, v in self.planned_keys.items() if v in self.failed_now}
        self._flush_batch()

    def _mark_chunk(self, chunk: list[MappedRecord], links: dict[str, RecordLink]) -> list[str]:
        """Store the intents of every create this chunk may send, in one transaction, before any is sent."""
        if self.job.dry_run:
            return []
        intents: dict[str, str | None] = {}
        key_kind = self.job.match_key
        for record in chunk:
            link = links.get(record.source_id)
            if record.skip_reason or record.source_id in self.pending:
                continue
            if link is not None and getattr(link, self.sides.target_id_field):
                continue
            intents[record.source_id] = record.natural_keys.get(key_kind) if key_kind else None
        self.state.mark_pending_many(self.job.tenant, self.job.entity, self.job.direction, intents, self.job.run_id)
        self.pending.update(intents)
        return list(intents)

    def _clear_intents(self, source_ids: list[str]) -> None:
        ids = [source_id for source_id in source_ids if source_id in self.pending]
        if not ids or self.job.dry_run:
            return
        self.state.clear_pending_many(self.job.tenant, self.job.entity, self.job.direction, ids)
        self.pending.difference_update(ids)

    def _key_owners_for(self, chunk: list[MappedRecord]) -> dict[str, RecordLink]:
        """Links already claiming the natural keys of a chunk, in one query (keyed by normalised value)."""
        key_kind = self.job.match_key
        if not key_kind:
            return {}
        values = [record.natural_keys[key_kind] for record in chunk if record.natural_keys.get(key_kind)]
        if not values:
            return {}
        return self.state.find_links_by_natural_keys(self.job.tenant, self.job.entity, key_kind, values)

    def quarantine_backlog(self) -> set[str]:
        return (self.quarantined_before - self.resolved_now) | self.failed_now | self.waiting_now

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
        payload_hash = payload_hash_of(record.payload, self.job.create_only, record.actions)
        link = links.get(record.source_id)
        target_id = getattr(link, self.sides.target_id_field) if link else None
        unchanged = link is not None and target_id and getattr(link, self.sides.target_hash_field) == payload_hash
        if not unchanged and self.budget_spent is not None and self.budget_spent():
            self._defer(record)
            return
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
        except (AmbiguousWriteError, RetryableApiError) as exc:
            self._transient_failure(record, exc)
        else:
            self.consecutive_transient = 0

    # -- decisions -----------------------------------------------------------------------------------

    def _defer(self, record: MappedRecord) -> None:
        # Nothing is sent: the intent this run marked goes (an earlier, interrupted one stays for the look-up).
        self.counts.deferred += 1
        if record.source_id not in self.interrupted:
            self._clear_intents([record.source_id])

    def _unchanged(self, record: MappedRecord) -> None:
        self.counts.unchanged += 1
        # Killed after the link was stored but before the intent was cleared: the write is complete.
        self._clear_pending(record)
        self._resolve(record)

    def _create_or_adopt(self, record: MappedRecord, payload_hash: str, links: dict[str, RecordLink]) -> None:
        key_kind = self.job.match_key
        key_value = record.natural_keys.get(key_kind) if key_kind else None
        target_id: str | None = None
        if not key_kind or not key_value:
            if record.source_id in self.interrupted:
                target_id = self._find_created(record, key_kind)
            elif self.opposite_keyless_interrupted:
                self._hold_back(
                    record,
                    f"{WAITING_FOR_OPPOSITE}: {self.opposite_keyless_interrupted} create(s) without "
                    f"{key_kind or 'natural key'} of the opposite direction were interrupted, and this unlinked "
                    "record may be what one of them made; it waits until they are resolved",
                    key_kind,
                )
                return
            self._write(record, payload_hash, target_id, natural_key=None, links=links)
            return
        normalised = _normalised_key(key_kind, key_value)
        claimed_by = self.planned_keys.get(normalised)
        if claimed_by is not None and claimed_by != record.source_id:
            raise RecordRejected(
                f"{key_kind} {key_value!r} is also the {key_kind} of source record {claimed_by} in this run",
                field=key_kind,
            )
        owner = self._key_owner(record, key_kind, key_value)
        target_id = getattr(owner, self.sides.target_id_field) if owner is not None else None
        if target_id is None and self._looks_before_create(record):
            self._count_call("find")
            target_id = self.writer.find_by_natural_key(key_kind, key_value)
            if target_id is not None:
                self.counts.linked_existing += 1
        # The key owners were read once per chunk: keys this run claims are tracked here.
        self.planned_keys[normalised] = record.source_id
        self._write(record, payload_hash, target_id, natural_key=key_value, links=links)

    def _find_created(self, record: MappedRecord, key_kind: str | None) -> str | None:
        """The target record an interrupted create of this keyless record made, if it made one."""
        if self.job.dry_run:
            return None
        if not isinstance(self.writer, FindsCreatedRecords):
            # Nothing identifies the record in the target: creating again could duplicate it.
            raise RecordRejected(
                "an earlier create of this record was interrupted and it has no "
                f"{key_kind or 'natural key'} to look it up in the target; check the target by hand, "
                "then link or resolve it",
                field=key_kind,
            )
        self._count_call("find")
        found = self.writer.find_created(record.payload)
        taken = self.state.get_links(self.job.tenant, self.job.entity, **{f"{self.sides.target_id_field}s": found})
        unlinked = [target_id for target_id in found if target_id not in taken]
        if len(unlinked) > 1:
            raise RecordRejected(
                f"an earlier create of this record was interrupted and {len(unlinked)} unlinked records in the "
                f"target ({', '.join(sorted(unlinked))}) look like it, none with a {key_kind or 'natural key'}; "
                "link one by hand",
                field=key_kind,
            )
        if unlinked:
            self.counts.linked_existing += 1
            return unlinked[0]
        return None  # the create never landed: it is sent again

    def _hold_back(self, record: MappedRecord, reason: str, field: str | None) -> None:
        """Park a record as ``waiting`` (not a failure): nothing is sent, and it is tried again next run."""
        self.counts.waiting += 1
        self.waiting_now.add(record.source_id)
        self._clear_intents([record.source_id])
        log.warning("%s: record %s waits: %s", self.job.context, record.source_id, reason)
        self._park(record, reason, field, kind="waiting")

    def _looks_before_create(self, record: MappedRecord) -> bool:
        if self.job.dry_run:
            return True  # nothing is written, so nothing can refuse a duplicate: look
        if self.batch_writer is not None:
            return False  # a batch upsert matches on the natural key itself
        if self.job.write == "create_then_adopt":
            # The target refuses a duplicate key; only an earlier create that may have landed needs a look.
            return record.source_id in self.interrupted
        return True

    def _key_owner(self, record: MappedRecord, key_kind: str, key_value: str) -> RecordLink | None:
        """The link already claiming the natural key; another source record owning it is a conflict."""
        owner = self.key_owners.get(_normalised_key(key_kind, key_value))
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
            self.batch.append(_PlannedUpsert(record, payload_hash, target_id, natural_key))
            self.batch_ids.add(record.source_id)
            if len(self.batch) >= self.batch_writer.max_batch_size:
                self._flush_batch()
            return
        if target_id is None:
            self._count_call("create")
            try:
                new_id = self.writer.create(record.payload)
            except RecordRejected:
                # The target refused the create, so nothing exists there: the intent can go.
                self._clear_intents([record.source_id])
                raise
            self._apply_actions(record, new_id)
            links[record.source_id] = self._record_write(record, new_id, payload_hash, created=True)
            self._count_outcome("created")
        else:
            self._count_call("update")
            self.writer.update(target_id, without(record.payload, self.job.create_only))
            self._apply_actions(record, target_id)
            links[record.source_id] = self._record_write(record, target_id, payload_hash, created=False)
            self._count_outcome("updated")
        self._note_resolved(record.source_id)

    def _apply_actions(self, record: MappedRecord, target_id: str) -> None:
        """Actions (status changes) go after the write and before it is recorded: a failure leaves the intent,
        so the next attempt finds the record and applies them again."""
        if not record.actions:
            return
        apply = getattr(self.writer, "apply_actions", None)
        if apply is None:
            raise RecordRejected(
                f"{self.writer.label} cannot apply {sorted(record.actions)} (no action support in its writer)",
                field=next(iter(record.actions)),
            )
        self._count_call("action")
        apply(target_id, record.actions)

    def _flush_batch(self) -> None:
        if not self.batch or self.batch_writer is None:
            return
        batch, self.batch = self.batch, []
        self.batch_ids.clear()
        items = [UpsertItem(p.record.source_id, p.record.payload, p.target_id) for p in batch]
        self._count_call("upsert")
        try:
            outcomes = self.batch_writer.upsert_batch(items)
        except (AmbiguousWriteError, RetryableApiError) as exc:
            # An upsert matches on the natural key, so sending the batch again next run is safe.
            for planned in batch:
                self._transient_failure(planned.record, exc, count_towards_outage=False)
            self._note_transient(exc)
            return
        self.consecutive_transient = 0
        if [o.source_id for o in outcomes] != [item.source_id for item in items]:
            raise RuntimeError(
                f"{self.job.context}: {self.writer.label} answered a batch of {len(items)} with "
                f"{len(outcomes)} outcomes in a different order; refusing to guess which record is which"
            )
        for planned, outcome in zip(batch, outcomes, strict=True):
            if outcome.action == "rejected" or not outcome.target_id:
                self._clear_intents([planned.record.source_id])
                self._fail(planned.record, outcome.reason or "rejected by the target", outcome.field)
                continue
            try:
                self._record_write(
                    planned.record, outcome.target_id, planned.payload_hash, created=outcome.action == "created"
                )
            except (LinkConflictError, NaturalKeyConflictError) as exc:
                self._fail(planned.record, f"ID map conflict: {exc}", self.job.match_key)
                continue
            except (AmbiguousWriteError, RetryableApiError) as exc:
                # The write is confirmed; only reading it back for its echo hash failed. Store the link
                # without a new echo hash rather than lose it.
                log.warning(
                    "%s: record %s written, echo read-back failed: %s", self.job.context, planned.record.source_id, exc
                )
                self._record_write(
                    planned.record, outcome.target_id, planned.payload_hash, created=False, with_echo=False
                )
            self._count_outcome("created" if outcome.action == "created" else "updated")
            self._note_resolved(planned.record.source_id)

    # -- effects -------------------------------------------------------------------------------------

    def _record_write(
        self, record: MappedRecord, target_id: str, payload_hash: str, *, created: bool, with_echo: bool = True
    ) -> RecordLink:
        echo_hash = self.echo(record, target_id, created=created) if self.echo is not None and with_echo else None
        link = self.state.record_write(
            self.job.tenant,
            self.job.entity,
            self.job.direction,
            source_id=record.source_id,
            target_id=target_id,
            target_hash=payload_hash,
            echo_hash=echo_hash,
            natural_keys=dict(record.natural_keys) or None,
            flags=record.flags or None,
            run_id=self.job.run_id,
        )
        self.pending.discard(record.source_id)
        return link

    def _transient_failure(self, record: MappedRecord, exc: Exception, *, count_towards_outage: bool = True) -> None:
        """One record's bad luck (a write still ambiguous after its look-up, a 5xx past the retries): it waits
        in quarantine and is retried next run, with its intent kept so that run looks it up first."""
        self._quarantine(record, f"transient failure, retried next run: {exc}", None, kind="transient")
        if count_towards_outage:
            self._note_transient(exc)

    def _note_transient(self, exc: Exception) -> None:
        self.consecutive_transient += 1
        if self.consecutive_transient >= MAX_CONSECUTIVE_TRANSIENT:
            raise RuntimeError(
                f"{self.job.context}: {self.consecutive_transient} records in a row failed transiently "
                f"({exc}); the target looks unavailable, stopping the load (the run retries)"
            ) from exc

    def _clear_pending(self, record: MappedRecord) -> None:
        self._clear_intents([record.source_id])

    def _fail(self, record: MappedRecord, reason: str, field: str | None) -> None:
        # Refused for its content: the same source would be refused again, so it waits for a change.
        self._quarantine(record, reason, field, kind="content")

    def _quarantine(self, record: MappedRecord, reason: str, field: str | None, *, kind: str) -> None:
        """Count a failed record and park it (see the module for the kinds)."""
        self.counts.failed += 1
        self.failed_now.add(record.source_id)
        log.warning("%s: record %s failed (field %s): %s", self.job.context, record.source_id, field or "-", reason)
        self._park(record, reason, field, kind=kind)

    def _park(self, record: MappedRecord, reason: str, field: str | None, *, kind: str) -> None:
        """Store the quarantine entry (none in a dry run): ``content`` entries carry their source hash."""
        if self.job.dry_run:
            return
        self.state.quarantine(
            self.job.tenant,
            self.job.entity,
            self.job.direction,
            record.source_id,
            reason=reason,
            stage=LOAD_STAGE,
            run_id=self.job.run_id,
            field=field,
            kind=kind,
            content_hash=(record.source_hash or content_hash(record.payload)) if kind == "content" else None,
        )

    def _note_resolved(self, source_id: str) -> None:
        # Only ids that were quarantined matter (quarantine_backlog): the set stays as small as the quarantine.
        if source_id in self.quarantined_before:
            self.resolved_now.add(source_id)

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
