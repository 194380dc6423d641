"""Run statistics, reset synchronisation and the operator listings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.state.listings import (
    FLAGGED_LINK_COLUMNS,
    QUARANTINE_COLUMNS,
    no_email_rows,
    quarantine_rows,
)

T, C, P = "acme_store", "customers", "products"
TO_CSCART, TO_ZOHO = "zoho_to_cscart", "cscart_to_zoho"
T0 = datetime(2026, 2, 1, tzinfo=timezone.utc)


def test_run_stats_newest_first_with_limit(store: StateStore, clock: Any) -> None:
    for number in range(3):
        store.save_run_stats(T, C, f"run-{number}", {"extracted": number, "api_calls": {"GET /api/users": 2}})
        clock.advance(minutes=60)
    store.save_run_stats(T, P, "run-x", {"extracted": 99})

    recent = store.list_run_stats(T, C, limit=2)
    assert [row["run_id"] for row in recent] == ["run-2", "run-1"]
    assert recent[0]["stats"] == {"extracted": 2, "api_calls": {"GET /api/users": 2}}
    assert recent[0]["recorded_at"] == clock.now - timedelta(minutes=60)
    assert (recent[0]["tenant"], recent[0]["entity"]) == (T, C)
    assert len(store.list_run_stats(T, C)) == 3


def test_a_retried_run_replaces_its_stats(store: StateStore) -> None:
    store.save_run_stats(T, C, "run-1", {"failed": 1})
    store.save_run_stats(T, C, "run-1", {"failed": 0, "finished": T0})
    assert [row["stats"] for row in store.list_run_stats(T, C)] == [
        {"failed": 0, "finished": "2026-02-01T00:00:00+00:00"}
    ]


def test_non_json_stats_are_refused_naming_the_run(store: StateStore) -> None:
    with pytest.raises(ValueError, match=r"acme_store/customers run run-1: statistics are not JSON"):
        store.save_run_stats(T, C, "run-1", {"bad": object()})


def _populate(store: StateStore) -> None:
    for entity in (C, P):
        store.save_link(
            T,
            entity,
            zoho_id="z1",
            cscart_id="c1",
            natural_keys={"email" if entity == C else "sku": "A@example.com" if entity == C else "SKU-1"},
            hash_to_cscart="hc",
            hash_to_zoho="hz",
            run_id="r1",
        )
        for direction in (TO_CSCART, TO_ZOHO):
            store.advance_watermark(T, entity, direction, T0, "r1")
        store.quarantine(T, entity, TO_CSCART, "z7", reason="bad", stage="load", run_id="r1")
    store.mark_pending(T, C, TO_CSCART, "z8", "r1", "b@example.com")


def test_reset_sync_re_sends_everything_without_losing_the_id_map(store: StateStore) -> None:
    _populate(store)
    store.reset_sync(T, C)

    link = store.get_link(T, C, zoho_id="z1")
    assert link is not None
    assert (link.cscart_id, link.hash_to_cscart, link.hash_to_zoho) == ("c1", None, None)
    assert link.natural_keys == {"email": "a@example.com"}
    assert store.get_watermark(T, C, TO_CSCART) is None
    assert store.get_watermark(T, C, TO_ZOHO) is None
    assert store.quarantined_ids(T, C, TO_CSCART) == []
    assert [e.source_id for e in store.list_quarantine(T, C, include_resolved=True)] == ["z7"]
    # Pending writes still guard against duplicate creates.
    assert [p.source_id for p in store.list_pending(T, C, TO_CSCART)] == ["z8"]

    # The other entity of the tenant is untouched.
    product = store.get_link(T, P, zoho_id="z1")
    assert product is not None
    assert (product.hash_to_cscart, product.hash_to_zoho) == ("hc", "hz")
    assert store.get_watermark(T, P, TO_ZOHO) == T0
    assert store.quarantined_ids(T, P, TO_CSCART) == ["z7"]


def test_re_sending_after_reset_updates_the_existing_link(store: StateStore) -> None:
    _populate(store)
    store.reset_sync(T, C)
    # The engine re-sends z1: it finds the link by id (or by e-mail) and saves the new hash on it.
    found = store.find_link_by_natural_key(T, C, "email", "a@example.com")
    assert found is not None
    assert found.cscart_id == "c1"
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", hash_to_cscart="hc2", run_id="r2")
    assert [(link.zoho_id, link.hash_to_cscart) for link in store.list_links(T, C)] == [("z1", "hc2")]


def test_quarantine_rows_for_operators(store: StateStore, clock: Any) -> None:
    store.quarantine(T, C, TO_CSCART, "z7", reason="e-mail rejected", stage="load", run_id="r1", field="email")
    [row] = quarantine_rows(store, tenant=T)
    assert tuple(row) == QUARANTINE_COLUMNS
    assert row["source_id"] == "z7"
    assert row["field"] == "email"
    assert row["attempts"] == "1"
    assert row["first_seen"] == clock.now.isoformat(timespec="seconds")
    assert row["resolved_at"] == ""
    store.resolve_quarantine(T, C, TO_CSCART, "z7")
    assert quarantine_rows(store, tenant=T) == []
    assert len(quarantine_rows(store, tenant=T, include_resolved=True)) == 1


def test_no_email_rows_list_live_flagged_customers(store: StateStore) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", flags={"no_email"}, run_id="r")
    store.save_link(T, C, zoho_id="z2", cscart_id="c2", natural_keys={"email": "x@example.com"}, run_id="r")
    store.save_link(T, C, zoho_id="z3", cscart_id="c3", flags={"no_email"}, run_id="r")
    store.mark_deleted(T, C, zoho_id="z3", at=T0)
    rows = no_email_rows(store, T)
    assert [tuple(row) for row in rows] == [FLAGGED_LINK_COLUMNS]
    assert [(row["zoho_id"], row["cscart_id"], row["flags"]) for row in rows] == [("z1", "c1", "no_email")]
