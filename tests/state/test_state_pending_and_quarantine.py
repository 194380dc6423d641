"""Pending writes (crash-safe creates) and the quarantine of failed records."""

from __future__ import annotations

from typing import Any

import pytest

from zoho_cscart_sync.state import StateStore

T, C, ORD = "acme_store", "customers", "orders"
TO_CSCART, TO_ZOHO = "zoho_to_cscart", "cscart_to_zoho"


def test_pending_write_is_listed_until_cleared(store: StateStore, clock: Any) -> None:
    store.mark_pending(T, C, TO_CSCART, "z1", "run-1", "a@example.com")
    marked_at = clock.now
    clock.advance(seconds=1)
    store.mark_pending(T, C, TO_CSCART, "z2", "run-1", None)
    pending = store.list_pending(T, C, TO_CSCART)
    assert [(p.source_id, p.run_id, p.natural_key) for p in pending] == [
        ("z1", "run-1", "a@example.com"),
        ("z2", "run-1", None),
    ]
    assert pending[0].marked_at == marked_at
    assert (pending[0].tenant, pending[0].entity, pending[0].direction) == (T, C, TO_CSCART)

    store.clear_pending(T, C, TO_CSCART, "z1")
    assert [p.source_id for p in store.list_pending(T, C, TO_CSCART)] == ["z2"]
    store.clear_pending(T, C, TO_CSCART, "z1")  # clearing twice is harmless


def test_marking_again_keeps_one_entry_with_the_latest_run(store: StateStore) -> None:
    store.mark_pending(T, C, TO_CSCART, "z1", "run-1", "a@example.com")
    store.mark_pending(T, C, TO_CSCART, "z1", "run-2", "a@example.com")
    assert [(p.source_id, p.run_id) for p in store.list_pending(T, C, TO_CSCART)] == [("z1", "run-2")]


def test_pending_writes_are_kept_per_direction(store: StateStore) -> None:
    store.mark_pending(T, C, TO_CSCART, "1", "r", None)
    assert store.list_pending(T, C, TO_ZOHO) == []
    assert store.list_pending("northwind_vendor", C, TO_CSCART) == []


def test_quarantine_counts_attempts_and_keeps_first_seen(store: StateStore, clock: Any) -> None:
    first = clock.now
    store.quarantine(T, ORD, TO_ZOHO, "1001", reason="HTTP 400 INVALID_DATA", stage="load", run_id="r1", field="Email")
    last = clock.advance(hours=1)
    store.quarantine(T, ORD, TO_ZOHO, "1001", reason="HTTP 400 MANDATORY_NOT_FOUND", stage="load", run_id="r2")

    [entry] = store.list_quarantine(T, ORD, TO_ZOHO)
    assert entry.attempts == 2
    assert entry.first_seen == first
    assert entry.last_seen == last
    assert (entry.reason, entry.stage, entry.field, entry.run_id) == (
        "HTTP 400 MANDATORY_NOT_FOUND",
        "load",
        None,
        "r2",
    )
    assert entry.resolved_at is None


def test_quarantined_ids_are_retried_until_resolved(store: StateStore, clock: Any) -> None:
    store.quarantine(T, ORD, TO_ZOHO, "1002", reason="r", stage="transform", run_id="r1")
    clock.advance(minutes=1)
    store.quarantine(T, ORD, TO_ZOHO, "1001", reason="r", stage="load", run_id="r1")
    store.quarantine(T, ORD, TO_CSCART, "z9", reason="r", stage="load", run_id="r1")
    assert store.quarantined_ids(T, ORD, TO_ZOHO) == ["1002", "1001"]  # oldest failure first

    store.resolve_quarantine(T, ORD, TO_ZOHO, "1002")
    assert store.quarantined_ids(T, ORD, TO_ZOHO) == ["1001"]
    assert [e.source_id for e in store.list_quarantine(T, ORD, TO_ZOHO)] == ["1001"]
    resolved = [e for e in store.list_quarantine(T, ORD, TO_ZOHO, include_resolved=True) if e.source_id == "1002"]
    assert resolved[0].resolved_at == clock.now
    store.resolve_quarantine(T, ORD, TO_ZOHO, "never-quarantined")  # harmless


def test_failing_again_after_resolution_starts_a_new_episode(store: StateStore, clock: Any) -> None:
    store.quarantine(T, ORD, TO_ZOHO, "1001", reason="r", stage="load", run_id="r1")
    store.quarantine(T, ORD, TO_ZOHO, "1001", reason="r", stage="load", run_id="r2")
    store.resolve_quarantine(T, ORD, TO_ZOHO, "1001")
    again = clock.advance(days=2)
    store.quarantine(T, ORD, TO_ZOHO, "1001", reason="new failure", stage="load", run_id="r9")
    [entry] = store.list_quarantine(T, ORD, TO_ZOHO)
    assert (entry.attempts, entry.first_seen, entry.last_seen, entry.resolved_at) == (1, again, again, None)
    assert store.quarantined_ids(T, ORD, TO_ZOHO) == ["1001"]


def test_list_quarantine_filters(store: StateStore) -> None:
    store.quarantine(T, ORD, TO_ZOHO, "1", reason="r", stage="load", run_id="r")
    store.quarantine(T, C, TO_CSCART, "2", reason="r", stage="load", run_id="r")
    store.quarantine("northwind_vendor", ORD, TO_ZOHO, "3", reason="r", stage="load", run_id="r")
    assert sorted(e.source_id for e in store.list_quarantine()) == ["1", "2", "3"]
    assert sorted(e.source_id for e in store.list_quarantine(tenant=T)) == ["1", "2"]
    assert [e.source_id for e in store.list_quarantine(entity=C)] == ["2"]
    assert sorted(e.source_id for e in store.list_quarantine(direction=TO_ZOHO)) == ["1", "3"]


def test_quarantine_needs_a_reason_and_a_stage(store: StateStore) -> None:
    with pytest.raises(ValueError, match="reason must not be empty"):
        store.quarantine(T, ORD, TO_ZOHO, "1", reason=" ", stage="load", run_id="r")
    with pytest.raises(ValueError, match="direction must be one of"):
        store.quarantine(T, ORD, "both", "1", reason="r", stage="load", run_id="r")
