"""The idempotent load loop against the sandbox CS-Cart users API over HTTP and a real (SQLite) state store."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.sync.sync_test_support import CsCartUsersWriter, customer, linked
from zoho_cscart_sandbox.handle import SandboxHandle
from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.load import LoadJob, load_records, run_load_stage
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.report import RunReport
from zoho_cscart_sync.sync.staging import StagingArea, read_staged_records

pytestmark = pytest.mark.integration

TENANT = "acme_store"


def _job(run_id: str, *, dry_run: bool = False) -> LoadJob:
    return LoadJob(
        tenant=TENANT, entity="customers", direction="zoho_to_cscart", run_id=run_id, match_key="email", dry_run=dry_run
    )


def _writes(sandbox: SandboxHandle) -> dict[str, int]:
    counters = sandbox.counters()
    return {name: counters.get(name, 0) for name in ("POST /api/users", "PUT /api/users/{id}")}


def test_first_load_creates_and_links_every_record(
    sandbox_clean: SandboxHandle, cscart_users: CsCartUsersWriter, state: StateStore
) -> None:
    records = [customer(i) for i in range(5)]
    report = RunReport(TENANT, "run-1")

    counts = load_records(records, job=_job("run-1"), writer=cscart_users, state=state, report=report)

    assert (counts.created, counts.updated, counts.unchanged, counts.failed) == (5, 0, 0, 0)
    assert _writes(sandbox_clean) == {"POST /api/users": 5, "PUT /api/users/{id}": 0}
    for record in records:
        link = state.get_link(TENANT, "customers", zoho_id=record.source_id)
        assert link is not None
        assert link.hash_to_cscart == content_hash(record.payload)
        assert link.natural_keys == {"email": record.payload["email"]}
        user = cscart_users.get_user(link.cscart_id or "")
        assert user["email"] == record.payload["email"]
        assert user["firstname"] == record.payload["firstname"]
    assert state.list_pending(TENANT, "customers", "zoho_to_cscart") == []
    assert report.api_calls == {"cscart /api/users find": 5, "cscart /api/users create": 5}


def test_rerun_of_unchanged_data_makes_no_write(
    sandbox_clean: SandboxHandle, cscart_users: CsCartUsersWriter, state: StateStore
) -> None:
    records = [customer(i) for i in range(8)]
    load_records(records, job=_job("run-1"), writer=cscart_users, state=state, report=RunReport(TENANT, "run-1"))
    before = sandbox_clean.counters()

    # A cleared task re-runs with the same staged records (same run id), a backfill with another run id.
    for run_id in ("run-1", "backfill-1"):
        report = RunReport(TENANT, run_id)
        counts = load_records(records, job=_job(run_id), writer=cscart_users, state=state, report=report)
        assert (counts.unchanged, counts.created, counts.updated) == (8, 0, 0)
        assert report.api_calls == {}

    assert sandbox_clean.counters() == before  # not one call of any kind reached CS-Cart

    # One changed record means exactly one update, nothing else.
    changed = [*records[:3], customer(3, firstname="Renamed"), *records[4:]]
    counts = load_records(
        changed, job=_job("run-2"), writer=cscart_users, state=state, report=RunReport(TENANT, "run-2")
    )
    assert (counts.unchanged, counts.updated, counts.created) == (7, 1, 0)
    assert _writes(sandbox_clean) == {"POST /api/users": 8, "PUT /api/users/{id}": 1}
    link = linked(state, TENANT, zoho_id=records[3].source_id)
    assert cscart_users.get_user(link.cscart_id or "")["firstname"] == "Renamed"


def test_existing_target_record_is_adopted_not_duplicated(
    sandbox_clean: SandboxHandle, cscart_users: CsCartUsersWriter, state: StateStore
) -> None:
    existing_id = cscart_users.create(customer(1).payload)  # e.g. the customer registered in the shop first
    before = _writes(sandbox_clean)

    report = RunReport(TENANT, "run-1")
    counts = load_records(
        [customer(1, firstname="FromZoho")],
        job=_job("run-1"),
        writer=cscart_users,
        state=state,
        report=report,
    )

    assert (counts.created, counts.updated, counts.linked_existing) == (0, 1, 1)
    after = _writes(sandbox_clean)
    assert after["POST /api/users"] == before["POST /api/users"]
    assert after["PUT /api/users/{id}"] == before["PUT /api/users/{id}"] + 1
    assert [u["user_id"] for u in cscart_users.users_with_email(customer(1).payload["email"])] == [existing_id]
    assert linked(state, TENANT, zoho_id=customer(1).source_id).cscart_id == existing_id


def test_two_source_records_with_one_email_never_make_two_customers(
    sandbox_clean: SandboxHandle, cscart_users: CsCartUsersWriter, state: StateStore
) -> None:
    first = customer(1)
    twin = dataclasses.replace(
        customer(2),
        natural_keys=first.natural_keys,
        payload={**customer(2).payload, "email": first.payload["email"]},
    )

    counts = load_records(
        [first, twin], job=_job("run-1"), writer=cscart_users, state=state, report=RunReport(TENANT, "run-1")
    )

    assert (counts.created, counts.failed, counts.quarantined) == (1, 1, 1)
    assert len(cscart_users.users_with_email(first.payload["email"])) == 1
    [entry] = state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert entry.source_id == twin.source_id
    assert entry.field == "email"
    assert first.source_id in entry.reason


def test_rejected_record_is_quarantined_and_retried_next_run(
    sandbox_clean: SandboxHandle, cscart_users: CsCartUsersWriter, state: StateStore
) -> None:
    broken = customer(2)
    broken = dataclasses.replace(broken, payload={k: v for k, v in broken.payload.items() if k != "user_type"})
    records = [customer(1), broken, customer(3)]

    report = RunReport(TENANT, "run-1")
    counts = load_records(records, job=_job("run-1"), writer=cscart_users, state=state, report=report)

    assert (counts.created, counts.failed, counts.quarantined) == (2, 1, 1)  # the rest kept going
    [entry] = state.list_quarantine(TENANT, "customers", "zoho_to_cscart")
    assert (entry.source_id, entry.field, entry.stage, entry.attempts) == (
        broken.source_id,
        "user_type",
        "load",
        1,
    )
    assert "The user_type field is required" in entry.reason
    assert state.quarantined_ids(TENANT, "customers", "zoho_to_cscart") == [broken.source_id]
    assert state.list_pending(TENANT, "customers", "zoho_to_cscart") == []

    # Still broken on the next run: attempts counts up, the record is not dropped.
    counts = load_records(
        [broken], job=_job("run-2"), writer=cscart_users, state=state, report=RunReport(TENANT, "run-2")
    )
    assert counts.failed == 1
    assert state.list_quarantine(TENANT, "customers", "zoho_to_cscart")[0].attempts == 2

    # Fixed at the source: the retried record loads and its quarantine entry is resolved.
    report = RunReport(TENANT, "run-3")
    counts = load_records(
        [customer(1), customer(2), customer(3)],
        job=_job("run-3"),
        writer=cscart_users,
        state=state,
        report=report,
    )
    assert (counts.created, counts.unchanged, counts.failed, counts.quarantined) == (1, 2, 0, 0)
    assert state.quarantined_ids(TENANT, "customers", "zoho_to_cscart") == []
    assert len(cscart_users.users_with_email(customer(2).payload["email"])) == 1


def test_dry_run_writes_nothing_and_stages_the_payloads(
    sandbox_clean: SandboxHandle, cscart_users: CsCartUsersWriter, state: StateStore, tmp_path: Path
) -> None:
    load_records([customer(1)], job=_job("run-1"), writer=cscart_users, state=state, report=RunReport(TENANT, "run-1"))
    records = [customer(1, firstname="Changed"), customer(2), customer(3)]
    writes_before = _writes(sandbox_clean)
    link_before = linked(state, TENANT, zoho_id=customer(1).source_id)

    report = RunReport(TENANT, "dry-1", dry_run=True)
    area = StagingArea(str(tmp_path / "staging"), TENANT, "customers", "dry-1")
    with area.open_stage("would_send_zoho_to_cscart") as would_send:
        counts = load_records(
            records,
            job=_job("dry-1", dry_run=True),
            writer=cscart_users,
            state=state,
            report=report,
            would_send=would_send,
        )
    report.add_would_send(would_send.close())

    assert (counts.created, counts.updated, counts.unchanged) == (2, 1, 0)
    assert _writes(sandbox_clean) == writes_before  # no target write
    assert state.get_link(TENANT, "customers", zoho_id=customer(1).source_id) == link_before  # no state write
    assert state.get_link(TENANT, "customers", zoho_id=customer(2).source_id) is None
    assert state.list_pending(TENANT, "customers", "zoho_to_cscart") == []
    staged = list(read_staged_records(report.would_send[0]))
    assert [(e["action"], e["source_id"]) for e in staged] == [
        ("update", customer(1).source_id),
        ("create", customer(2).source_id),
        ("create", customer(3).source_id),
    ]
    assert staged[0]["payload"]["firstname"] == "Changed"
    assert staged[0]["target_id"] == link_before.cscart_id
    assert report.summary()["would_send"][0]["records"] == 3

    # The real run afterwards takes exactly the decisions the dry run reported.
    counts = load_records(
        records, job=_job("run-2"), writer=cscart_users, state=state, report=RunReport(TENANT, "run-2")
    )
    assert (counts.created, counts.updated, counts.unchanged) == (2, 1, 0)


def test_each_write_stores_its_echo_hash_with_its_link(
    sandbox_clean: SandboxHandle, cscart_users: CsCartUsersWriter, state: StateStore
) -> None:
    """The echo hash (what the opposite direction will read back) is stored by the same write as the link."""
    calls: list[tuple[str, str, bool]] = []

    def read_back_hash(record: MappedRecord, target_id: str, *, created: bool) -> str:
        calls.append((record.source_id, target_id, created))
        user = cscart_users.get_user(target_id)
        return content_hash({name: user[name] for name in record.payload if name in user})

    record = customer(1)
    load_records(
        [record],
        job=_job("run-1"),
        writer=cscart_users,
        state=state,
        report=RunReport(TENANT, "run-1"),
        echo=read_back_hash,
    )
    link = linked(state, TENANT, zoho_id=record.source_id)
    user = cscart_users.get_user(link.cscart_id or "")
    assert calls == [(record.source_id, link.cscart_id, True)]
    assert link.hash_to_cscart == content_hash(record.payload)
    assert link.hash_to_zoho == content_hash({name: user[name] for name in record.payload if name in user})

    # An update is read back too (created=False); an unchanged record is neither written nor read back.
    renamed = customer(1, firstname="Renamed")
    for run_id in ("run-2", "run-3"):
        load_records(
            [renamed],
            job=_job(run_id),
            writer=cscart_users,
            state=state,
            report=RunReport(TENANT, run_id),
            echo=read_back_hash,
        )
    assert calls[1:] == [(record.source_id, link.cscart_id, False)]
    assert linked(state, TENANT, zoho_id=record.source_id).hash_to_zoho != link.hash_to_zoho


def test_load_stage_reads_staged_records_and_reports(
    sandbox_clean: SandboxHandle,
    cscart_users: CsCartUsersWriter,
    state: StateStore,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    area = StagingArea(str(tmp_path / "staging"), TENANT, "customers", "manual__1")
    mapped = area.write_pages(
        "mapped_zoho_to_cscart", [[customer(i).to_staged() for i in range(3)], [customer(3).to_staged()]]
    )

    dry = run_load_stage(mapped, job=_job("manual__1", dry_run=True), writer=cscart_users, state=state, staging=area)
    assert _writes(sandbox_clean) == {"POST /api/users": 0, "PUT /api/users/{id}": 0}
    [would_send] = dry.summary()["would_send"]
    assert would_send["records"] == 4
    assert would_send["stage"] == "would_send_zoho_to_cscart"

    caplog.set_level("INFO", logger="zoho_cscart_sync.sync.load")
    real = run_load_stage(mapped, job=_job("manual__1"), writer=cscart_users, state=state, staging=area)
    assert real.summary()["totals"]["created"] == dry.summary()["totals"]["created"] == 4
    assert _writes(sandbox_clean)["POST /api/users"] == 4
    assert "Sync report: tenant acme_store, run manual__1" in caplog.text

    area.cleanup()
    assert not (tmp_path / "staging" / TENANT / "customers" / "manual__1").exists()
