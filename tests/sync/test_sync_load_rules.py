"""Rules of the load loop that the sandbox cannot provoke on demand, with an in-process target and a real
(SQLite) state store: batch upserts, interrupted creates without a natural key, hard failures, skips, flags.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from tests.sync.sync_test_support import customer, linked
from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.load import WAITING_FOR_OPPOSITE, LoadJob, load_records, staged_mapped_records
from zoho_cscart_sync.sync.records import MappedRecord, direction_sides
from zoho_cscart_sync.sync.report import RunReport
from zoho_cscart_sync.sync.writer import (
    BatchUpsertWriter,
    FindsCreatedRecords,
    RecordRejected,
    TargetWriter,
    UpsertItem,
    UpsertOutcome,
)

TENANT = "northwind_vendor"


class MemoryTarget:
    """A target kept in a dict, matched on e-mail; counts every call."""

    label = "memory contacts"

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.fail_with: Exception | None = None

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        self.calls.append("find")
        return next((i for i, r in self.records.items() if r["email"].lower() == key_value.lower()), None)

    def create(self, payload: Mapping[str, Any]) -> str:
        self.calls.append("create")
        if self.fail_with is not None:
            raise self.fail_with
        new_id = str(len(self.records) + 1)
        self.records[new_id] = dict(payload)
        return new_id

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        self.calls.append("update")
        self.records[target_id] = dict(payload)


class MemoryUpsertTarget(MemoryTarget):
    """Like Zoho CRM /upsert: matches on e-mail itself, at most ``max_batch_size`` records a call."""

    max_batch_size = 3

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []

    def upsert_batch(self, items: Sequence[UpsertItem]) -> Sequence[UpsertOutcome]:
        self.calls.append("upsert")
        self.batch_sizes.append(len(items))
        outcomes = []
        for item in items:
            if "@" not in str(item.payload.get("email", "")):
                outcomes.append(UpsertOutcome(item.source_id, "rejected", reason="invalid e-mail", field="email"))
                continue
            existing = item.target_id or next(
                (i for i, r in self.records.items() if r["email"] == item.payload["email"]), None
            )
            target_id = existing or str(len(self.records) + 1)
            self.records[target_id] = dict(item.payload)
            outcomes.append(UpsertOutcome(item.source_id, "updated" if existing else "created", target_id=target_id))
        return outcomes


def _job(**changes: Any) -> LoadJob:
    job = LoadJob(tenant=TENANT, entity="customers", direction="zoho_to_cscart", run_id="run-1", match_key="email")
    return dataclasses.replace(job, **changes)


def test_writers_satisfy_the_protocols() -> None:
    assert isinstance(MemoryTarget(), TargetWriter)
    assert not isinstance(MemoryTarget(), BatchUpsertWriter)
    assert isinstance(MemoryUpsertTarget(), BatchUpsertWriter)


def test_batch_upsert_sends_at_most_max_batch_size_and_quarantines_rejections(any_state: StateStore) -> None:
    target = MemoryUpsertTarget()
    bad = dataclasses.replace(customer(4), payload={**customer(4).payload, "email": "not-an-email"})
    records = [customer(1), customer(2), customer(3), bad, customer(5), customer(6), customer(7)]
    target.records["77"] = dict(customer(2).payload)  # already in the target, never linked

    report = RunReport(TENANT, "run-1")
    counts = load_records(records, job=_job(), writer=target, state=any_state, report=report)

    assert target.batch_sizes == [3, 3, 1]
    assert "find" not in target.calls  # the upsert matches on e-mail itself: no lookups spent
    assert (counts.created, counts.updated, counts.failed) == (5, 1, 1)
    assert len(target.records) == 6
    assert linked(any_state, TENANT, zoho_id=customer(2).source_id).cscart_id == "77"
    [entry] = any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert (entry.source_id, entry.field, entry.reason) == (bad.source_id, "email", "invalid e-mail")
    assert any_state.list_pending(TENANT, "customers", "zoho_to_cscart") == []
    assert report.api_calls == {"memory contacts upsert": 3}

    # Second run: only the changed record is sent, linked by id.
    changed = [*records[:4], customer(5, firstname="New"), *records[5:]]
    counts = load_records(
        changed, job=_job(run_id="run-2"), writer=target, state=any_state, report=RunReport(TENANT, "r")
    )
    assert (counts.unchanged, counts.updated, counts.created, counts.failed) == (5, 1, 0, 1)
    assert target.batch_sizes[3:] == [2]  # the changed record and the quarantined one, retried


def test_duplicate_natural_key_inside_one_upsert_batch_is_quarantined(any_state: StateStore) -> None:
    target = MemoryUpsertTarget()
    twin = dataclasses.replace(
        customer(2),
        payload={**customer(2).payload, "email": customer(1).payload["email"]},
        natural_keys=customer(1).natural_keys,
    )
    counts = load_records(
        [customer(1), twin], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r")
    )
    assert (counts.created, counts.failed) == (1, 1)
    assert len(target.records) == 1


def test_interrupted_create_without_natural_key_is_quarantined_not_repeated(any_state: StateStore) -> None:
    target = MemoryTarget()
    keyless = dataclasses.replace(customer(1), natural_keys={}, flags=frozenset({"no_email"}))
    # What a killed attempt leaves behind: the intent, no link (the create may or may not have happened).
    any_state.mark_pending(TENANT, "customers", "zoho_to_cscart", keyless.source_id, "run-0", None)

    counts = load_records([keyless], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))

    assert target.calls == []  # nothing created: a second create could duplicate the first
    assert counts.failed == 1
    [entry] = any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert "interrupted" in entry.reason
    assert entry.field == "email"


def test_keyless_record_is_created_once_and_then_unchanged(any_state: StateStore) -> None:
    target = MemoryTarget()
    keyless = dataclasses.replace(customer(1), natural_keys={}, flags=frozenset({"no_email"}))
    report = RunReport(TENANT, "r")
    load_records([keyless], job=_job(), writer=target, state=any_state, report=report)
    load_records([keyless], job=_job(run_id="run-2"), writer=target, state=any_state, report=report)

    assert target.calls == ["create"]
    counts = report.counts("customers", "zoho_to_cscart")
    assert (counts.created, counts.unchanged, counts.flagged, counts.flags["no_email"]) == (1, 1, 2, 2)
    assert linked(any_state, TENANT, zoho_id=keyless.source_id).flags == {"no_email"}


def test_a_failure_that_is_not_about_the_record_stops_the_load_and_keeps_the_intent(any_state: StateStore) -> None:
    target = MemoryTarget()
    target.fail_with = ConnectionError("CS-Cart unreachable")
    report = RunReport(TENANT, "r")

    with pytest.raises(ConnectionError):
        load_records([customer(1), customer(2)], job=_job(), writer=target, state=any_state, report=report)

    assert target.calls == ["find", "create"]  # stopped at the first record, nothing quarantined
    assert any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart") == []
    # The create may have reached the target before the connection broke: the retry must look first.
    assert [p.source_id for p in any_state.list_pending(TENANT, "customers", "zoho_to_cscart")] == [
        customer(1).source_id
    ]
    assert report.counts("customers", "zoho_to_cscart").duration_s > 0  # partial counts still reported


def test_rejected_create_clears_its_intent(any_state: StateStore) -> None:
    target = MemoryTarget()
    target.fail_with = RecordRejected("The email field is invalid", field="email")
    counts = load_records([customer(1)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))
    assert counts.failed == 1
    assert any_state.list_pending(TENANT, "customers", "zoho_to_cscart") == []


def test_skipped_records_are_counted_and_never_written(any_state: StateStore) -> None:
    target = MemoryTarget()
    skipped = dataclasses.replace(customer(1), skip_reason="echo of our own write")
    counts = load_records(
        [skipped, customer(2)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r")
    )
    assert (counts.skipped, counts.created) == (1, 1)
    assert target.calls == ["find", "create"]


def test_dry_run_spots_a_duplicate_natural_key_it_has_not_stored(any_state: StateStore) -> None:
    target = MemoryTarget()
    twin = dataclasses.replace(customer(2), natural_keys=customer(1).natural_keys)
    counts = load_records(
        [customer(1), twin], job=_job(dry_run=True), writer=target, state=any_state, report=RunReport(TENANT, "r")
    )
    assert (counts.created, counts.failed) == (1, 1)
    assert target.calls == ["find"]
    assert any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart") == []  # dry run: nothing stored


def test_cscart_to_zoho_uses_the_other_side_of_the_link(any_state: StateStore) -> None:
    target = MemoryTarget()
    record = MappedRecord(
        source_id="42", payload={"Email": "x@y.z", "Last_Name": "Roe"}, natural_keys={"email": "x@y.z"}
    )
    job = _job(direction="cscart_to_zoho")
    load_records([record], job=job, writer=target, state=any_state, report=RunReport(TENANT, "r"))
    link = any_state.get_link(TENANT, "customers", cscart_id="42")
    assert link is not None
    assert (link.zoho_id, link.hash_to_zoho, link.hash_to_cscart) == ("1", content_hash(record.payload), None)


def test_mapped_records_round_trip_through_staging_form() -> None:
    record = dataclasses.replace(customer(1), flags=frozenset({"no_phone"}), skip_reason=None)
    assert list(staged_mapped_records([record.to_staged()])) == [record]
    with pytest.raises(ValueError, match="lacks 'payload'"):
        MappedRecord.from_staged({"source_id": "1"})


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown sync direction 'both'"):
        direction_sides("both")


def test_same_record_twice_in_one_upsert_batch_is_written_once_then_updated(any_state: StateStore) -> None:
    target = MemoryUpsertTarget()
    records = [customer(1), customer(2, phone="+1 555 0000"), customer(2, phone="+1 555 9999")]
    counts = load_records(records, job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))
    assert (counts.created, counts.updated) == (2, 1)
    assert len(target.records) == 2
    assert target.batch_sizes == [2, 1]
    assert target.records[linked(any_state, TENANT, zoho_id=customer(2).source_id).cscart_id or ""]["phone"] == (
        "+1 555 9999"
    )


def test_linked_record_cannot_take_over_another_records_email(any_state: StateStore) -> None:
    target = MemoryTarget()
    load_records([customer(1), customer(2)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))
    calls_before = list(target.calls)
    # Customer 2 changes its e-mail in Zoho to customer 1's.
    moved = dataclasses.replace(
        customer(2),
        payload={**customer(2).payload, "email": customer(1).payload["email"]},
        natural_keys=customer(1).natural_keys,
    )
    counts = load_records(
        [moved], job=_job(run_id="run-2"), writer=target, state=any_state, report=RunReport(TENANT, "r")
    )
    assert (counts.failed, counts.updated) == (1, 0)
    assert target.calls == calls_before  # refused before any write
    [entry] = any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert entry.field == "email"
    assert customer(1).source_id in entry.reason


def test_several_loads_into_one_report_keep_the_latest_quarantine_backlog(any_state: StateStore) -> None:
    target = MemoryTarget()
    target.fail_with = RecordRejected("The email field is invalid", field="email")
    report = RunReport(TENANT, "r")
    load_records([customer(1)], job=_job(), writer=target, state=any_state, report=report)
    load_records([customer(2)], job=_job(), writer=target, state=any_state, report=report)
    row = report.counts("customers", "zoho_to_cscart")
    assert (row.failed, row.quarantined) == (2, 2)  # two failures, two entries: not 1 + 2

    target.fail_with = None
    load_records([customer(1)], job=_job(), writer=target, state=any_state, report=report)
    assert (row.failed, row.quarantined, row.created) == (2, 1, 1)


def test_create_then_adopt_creates_without_looking_up_unless_an_earlier_create_was_interrupted(
    any_state: StateStore,
) -> None:
    target = MemoryTarget()
    job = _job(write="create_then_adopt")
    load_records([customer(1)], job=job, writer=target, state=any_state, report=RunReport(TENANT, "r"))
    assert target.calls == ["create"]  # the target refuses a duplicate e-mail itself: no look-up needed

    # An intent left by an interrupted attempt: this create may have landed, so it is looked up first.
    any_state.mark_pending(TENANT, "customers", "zoho_to_cscart", customer(2).source_id, "r0", "load-2@example.com")
    target.records["77"] = dict(customer(2).payload)
    target.calls.clear()
    counts = load_records([customer(2)], job=job, writer=target, state=any_state, report=RunReport(TENANT, "r"))
    assert target.calls == ["find", "update"] and counts.linked_existing == 1
    assert linked(any_state, TENANT, zoho_id=customer(2).source_id).cscart_id == "77"


def test_an_ambiguous_write_is_quarantined_as_transient_and_the_load_goes_on(any_state: StateStore) -> None:
    from zoho_cscart_sync.http.errors import AmbiguousWriteError

    class FlakyTarget(MemoryTarget):
        def create(self, payload: Mapping[str, Any]) -> str:
            if payload["email"] == customer(1).payload["email"]:
                self.calls.append("create")
                raise AmbiguousWriteError("timed out", tenant=TENANT, conn_id="c", api="cscart")
            return super().create(payload)

    target = FlakyTarget()
    counts = load_records(
        [customer(1), customer(2)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r")
    )
    assert (counts.failed, counts.created, counts.new_failures) == (1, 1, 1)
    [entry] = any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert (entry.source_id, entry.kind) == (customer(1).source_id, "transient")
    # Its intent stays, so the next run looks it up before creating it again.
    assert [p.source_id for p in any_state.list_pending(TENANT, "customers", "zoho_to_cscart")] == [
        customer(1).source_id
    ]


def test_a_run_of_transient_failures_means_the_target_is_down_and_stops_the_load(any_state: StateStore) -> None:
    from zoho_cscart_sync.http.errors import RetryableApiError

    target = MemoryTarget()
    target.fail_with = RetryableApiError("HTTP 503", tenant=TENANT, conn_id="c", api="cscart")
    with pytest.raises(RuntimeError, match="in a row failed transiently"):
        load_records(
            [customer(i) for i in range(10)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r")
        )
    assert target.calls.count("create") == 5


def test_a_rejected_record_is_quarantined_as_content_with_its_source_hash(any_state: StateStore) -> None:
    target = MemoryTarget()
    target.fail_with = RecordRejected("First_Name is longer than 40", field="First_Name")
    record = dataclasses.replace(customer(1), source_hash="sha256:source")
    load_records([record], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))
    [entry] = any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert (entry.kind, entry.content_hash, entry.field, entry.first_run_id) == (
        "content",
        "sha256:source",
        "First_Name",
        "run-1",
    )


class NamedTarget(MemoryTarget):
    """A MemoryTarget that can recognise what a keyless create made: records named alike, without e-mail."""

    def find_created(self, payload: Mapping[str, Any]) -> list[str]:
        self.calls.append("find_created")
        return [i for i, r in self.records.items() if r["lastname"] == payload["lastname"] and not r.get("email")]


def _keyless(index: int) -> MappedRecord:
    record = customer(index)
    return dataclasses.replace(record, payload={**record.payload, "email": ""}, natural_keys={})


def test_an_interrupted_keyless_create_adopts_the_one_unlinked_record_it_made(any_state: StateStore) -> None:
    target = NamedTarget()
    assert isinstance(target, FindsCreatedRecords) and not isinstance(MemoryTarget(), FindsCreatedRecords)
    # Record 1 is linked already and named like record 2: only the unlinked look-alike is what the lost create made.
    load_records([_keyless(1)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))
    target.records["77"] = {**_keyless(2).payload}
    target.records["1"]["lastname"] = _keyless(2).payload["lastname"]
    any_state.mark_pending(TENANT, "customers", "zoho_to_cscart", _keyless(2).source_id, "r0", None)
    target.calls.clear()

    counts = load_records([_keyless(2)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))

    assert target.calls == ["find_created", "update"]
    assert (counts.created, counts.updated, counts.linked_existing, counts.failed) == (0, 1, 1, 0)
    assert linked(any_state, TENANT, zoho_id=_keyless(2).source_id).cscart_id == "77"
    assert any_state.list_pending(TENANT, "customers", "zoho_to_cscart") == []


def test_an_interrupted_keyless_create_that_never_landed_is_sent_again(any_state: StateStore) -> None:
    target = NamedTarget()
    any_state.mark_pending(TENANT, "customers", "zoho_to_cscart", _keyless(3).source_id, "r0", None)
    counts = load_records([_keyless(3)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))
    assert target.calls == ["find_created", "create"] and counts.created == 1


def test_two_unlinked_look_alikes_of_an_interrupted_keyless_create_go_to_an_operator(any_state: StateStore) -> None:
    target = NamedTarget()
    target.records["77"] = {**_keyless(4).payload}
    target.records["78"] = {**_keyless(4).payload}
    any_state.mark_pending(TENANT, "customers", "zoho_to_cscart", _keyless(4).source_id, "r0", None)
    counts = load_records([_keyless(4)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))
    assert target.calls == ["find_created"] and counts.failed == 1
    [entry] = any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert (entry.kind, entry.field) == ("content", "email")
    assert "77, 78" in entry.reason


def test_unlinked_keyless_records_wait_while_the_opposite_direction_has_an_interrupted_keyless_create(
    any_state: StateStore,
) -> None:
    target = NamedTarget()
    load_records([_keyless(5)], job=_job(), writer=target, state=any_state, report=RunReport(TENANT, "r"))
    any_state.mark_pending(TENANT, "customers", "cscart_to_zoho", "9001", "r0", None)  # the other way, keyless
    target.records["1"]["phone"] = "changed"  # record 5 is linked: its update is not what the other create made
    changed_five = dataclasses.replace(_keyless(5), payload={**_keyless(5).payload, "phone": "+1 555 7777"})
    target.calls.clear()

    report = RunReport(TENANT, "r")
    counts = load_records(
        [changed_five, _keyless(6), customer(7)],
        job=_job(run_id="run-2"),
        writer=target,
        state=any_state,
        report=report,
    )

    # The linked keyless record is updated and the keyed one created; the unlinked keyless one waits, unsent.
    assert target.calls == ["update", "find", "create"]
    assert (counts.updated, counts.created, counts.waiting, counts.failed, counts.new_failures) == (1, 1, 1, 0, 0)
    [entry] = any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert (entry.source_id, entry.kind) == (_keyless(6).source_id, "waiting")
    assert entry.reason.startswith(WAITING_FOR_OPPOSITE)
    assert any_state.list_pending(TENANT, "customers", "zoho_to_cscart") == []  # nothing sent, no intent left

    # Resolved on the other side: the record goes on the next run and leaves the quarantine.
    any_state.clear_pending(TENANT, "customers", "cscart_to_zoho", "9001")
    counts = load_records([_keyless(6)], job=_job(run_id="run-3"), writer=target, state=any_state, report=report)
    assert counts.created == 1
    assert any_state.list_quarantine(TENANT, "customers", "zoho_to_cscart") == []
