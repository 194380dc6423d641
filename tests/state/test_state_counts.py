"""Dashboard counts in the state store: the ID map tallied in SQL, and the six tiles stored per run."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.state.models import EntityCounts

T, OTHER, P, C = "acme_store", "northwind_vendor", "products", "customers"
TO_CSCART, TO_ZOHO = "zoho_to_cscart", "cscart_to_zoho"
T0 = datetime(2026, 2, 1, tzinfo=timezone.utc)


def _write(store: StateStore, direction: str, source_id: str, target_id: str, *, tenant: str = T, entity: str = P):
    return store.record_write(
        tenant,
        entity,
        direction,
        source_id=source_id,
        target_id=target_id,
        target_hash=f"h-{source_id}",
        echo_hash=None,
        natural_keys=None,
        flags=None,
        run_id="run-1",
    )


def test_link_tally_counts_live_pairs_and_those_that_came_from_zoho(store: StateStore) -> None:
    for number in range(3):  # imported: Zoho item -> CS-Cart product
        _write(store, TO_CSCART, f"z{number}", f"c{number}")
    for number in range(3, 5):  # pushed: CS-Cart product -> Zoho item
        _write(store, TO_ZOHO, f"c{number}", f"z{number}")
    # A later write the other way keeps where the pair came from.
    _write(store, TO_ZOHO, "c0", "z0")
    _write(store, TO_CSCART, "z3", "c3")
    # Not counted: a deleted pair, a one-sided link, another tenant's and another entity's pairs.
    _write(store, TO_CSCART, "z9", "c9")
    store.mark_deleted(T, P, zoho_id="z9", at=T0)
    store.save_link(T, P, zoho_id="z-alone", cscart_id=None, run_id="run-1")
    _write(store, TO_CSCART, "z0", "c0", tenant=OTHER)
    _write(store, TO_CSCART, "z0", "c0", entity=C)
    # A pair linked outside a sync write (operator tooling, links from before schema v5) has no origin.
    store.save_link(T, P, zoho_id="z-manual", cscart_id="c-manual", run_id="run-1")

    tally = store.link_tally(T, P)

    assert (tally.linked, tally.imported) == (6, 3)
    assert (store.link_tally(OTHER, P).linked, store.link_tally(T, C).imported) == (1, 1)
    assert store.link_tally(T, "orders").linked == 0


def test_link_tally_is_one_aggregate_query_whatever_the_number_of_links(store: StateStore) -> None:
    for number in range(1200):
        store.save_link(T, P, zoho_id=f"z{number}", cscart_id=f"c{number}", run_id="run-1")
    store.link_tally(T, P)  # migrated and warmed up
    statements: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        tally = store.link_tally(T, P)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)

    assert tally.linked == 1200
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "count(" in selects[0].lower(), statements


def _counts(zoho_total: int | None = 145, **changes: Any) -> EntityCounts:
    values: dict[str, Any] = {
        "cscart_total": 272028,
        "synced": 55,
        "not_synced": 271973,
        "zoho_total": zoho_total,
        "not_in_cscart": None if zoho_total is None else zoho_total - 55,
        "already_imported": 50,
        "zoho_counted_run_id": "run-1",
        "zoho_counted_at": T0,
    }
    return EntityCounts(**{**values, **changes})


def test_run_counts_are_kept_per_run_newest_first_and_a_retry_replaces_them(store: StateStore, clock: Any) -> None:
    assert store.latest_run_counts(T, P) is None
    store.save_run_counts(T, P, "run-1", _counts())
    clock.advance(minutes=60)
    store.save_run_counts(T, P, "run-2", _counts(zoho_total=None, zoho_counted_run_id=None, zoho_counted_at=None))
    store.save_run_counts(T, C, "run-9", _counts(cscart_total=32))
    clock.advance(minutes=5)
    store.save_run_counts(T, P, "run-2", _counts(cscart_total=None, not_synced=None))  # the report task retried

    latest = store.latest_run_counts(T, P)
    assert latest is not None
    assert (latest.tenant, latest.entity, latest.run_id, latest.recorded_at) == (T, P, "run-2", clock.now)
    assert latest.counts == _counts(cscart_total=None, not_synced=None)
    assert [row.run_id for row in store.list_run_counts(T, P)] == ["run-2", "run-1"]
    assert [row.run_id for row in store.list_run_counts(T, P, exclude_run_id="run-2")] == ["run-1"]
    assert store.list_run_counts(T, P, limit=1)[0].run_id == "run-2"
    assert store.list_run_counts(T, C)[0].counts.cscart_total == 32
    with pytest.raises(ValueError, match="limit"):
        store.list_run_counts(T, P, limit=0)
