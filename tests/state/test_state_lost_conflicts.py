"""Lost conflicts (schema v8): one row per record and losing direction, replaced by the next; keyset pages."""

from __future__ import annotations

import pytest

from zoho_cscart_sync.state import StateStore

T, C, P = "acme_store", "customers", "products"
Z2C, C2Z = "zoho_to_cscart", "cscart_to_zoho"


def test_a_lost_conflict_is_stored_and_a_later_one_on_the_record_replaces_it(store: StateStore, clock) -> None:
    store.record_lost_conflict(T, C, Z2C, "z1", target_id="u1", master="cscart", run_id="run-1")
    first_at = clock.now
    (row,) = store.lost_conflicts_page(T, C)
    assert (row.direction, row.source_id, row.target_id, row.master, row.run_id, row.occurrences) == (
        Z2C,
        "z1",
        "u1",
        "cscart",
        "run-1",
        1,
    )
    assert row.decided_at == first_at

    clock.advance(hours=1)
    store.record_lost_conflict(T, C, Z2C, "z1", target_id="u1", master="cscart", run_id="run-2")
    (row,) = store.lost_conflicts_page(T, C)
    assert (row.run_id, row.occurrences, row.decided_at) == ("run-2", 2, clock.now)
    assert store.count_lost_conflicts(T, C) == 1

    # The same record losing in the other direction (the tenant switched master) is its own row.
    store.record_lost_conflict(T, C, C2Z, "u1", target_id="z1", master="zoho", run_id="run-3")
    assert store.count_lost_conflicts(T, C) == 2


def test_lost_conflict_pages_follow_the_key_and_stay_in_their_scope(store: StateStore) -> None:
    for number in range(5):
        store.record_lost_conflict(T, C, Z2C, f"z{number}", target_id=f"u{number}", master="cscart", run_id="r")
    for number in range(2):
        store.record_lost_conflict(T, C, C2Z, f"u{number}", target_id=f"z{number}", master="zoho", run_id="r")
    store.record_lost_conflict(T, P, Z2C, "other-entity", target_id="x", master="cscart", run_id="r")
    store.record_lost_conflict("other", C, Z2C, "other-tenant", target_id="x", master="cscart", run_id="r")

    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = store.lost_conflicts_page(T, C, after=after, limit=3)
        seen.extend((row.direction, row.source_id) for row in page)
        if len(page) < 3:
            break
        after = (page[-1].direction, page[-1].source_id)
    assert seen == [(C2Z, "u0"), (C2Z, "u1")] + [(Z2C, f"z{n}") for n in range(5)]
    assert store.count_lost_conflicts(T, C) == 7
    assert store.count_lost_conflicts(T, P) == 1

    with pytest.raises(ValueError, match="page size"):
        store.lost_conflicts_page(T, C, limit=0)
    with pytest.raises(ValueError, match="direction must be one of"):
        store.record_lost_conflict(T, C, "sideways", "z", target_id="u", master="zoho", run_id="r")


def test_reset_synchronisation_keeps_lost_conflicts(store: StateStore) -> None:
    store.record_lost_conflict(T, C, Z2C, "z1", target_id="u1", master="cscart", run_id="r")
    store.reset_sync(T, C)
    assert store.count_lost_conflicts(T, C) == 1
