"""Zoho records not in CS-Cart (schema v9): noted per page, unlisted when linked or gone, keyset pages; and the open
quarantine newest last seen first (v9 index), paged by key."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.state.unlinked import UnlinkedSeen

T, P, C = "acme_store", "products", "customers"
Z2C, C2Z = "zoho_to_cscart", "cscart_to_zoho"


def _ids(rows) -> list[str]:
    return [row.zoho_id for row in rows]


def test_noted_records_are_listed_with_label_and_reason_and_first_seen_is_kept(store: StateStore, clock) -> None:
    store.quarantine(T, P, Z2C, "z2", reason="price must be a number", stage="load", run_id="r1", kind="content")
    store.note_unlinked(
        T, P, run_id="r1",
        seen=[UnlinkedSeen("z1", "items", "Blue mug · BM-1", "status 'inactive' is not imported"),
              UnlinkedSeen("z2", "items", "Red mug · RM-1")],
    )  # fmt: skip
    first = clock.now
    rows = store.unlinked_page(T, P)
    assert _ids(rows) == ["z1", "z2"]
    assert (rows[0].stream, rows[0].label, rows[0].reason, rows[0].run_id) == (
        "items", "Blue mug · BM-1", "status 'inactive' is not imported", "r1"
    )  # fmt: skip
    assert rows[1].reason == "quarantined (content): price must be a number"  # the quarantine says why
    clock.advance(hours=1)
    store.note_unlinked(T, P, run_id="r2", seen=[UnlinkedSeen("z1", "items", "Blue mug (renamed)")])
    row = store.unlinked_page(T, P, limit=1)[0]
    assert (row.label, row.reason, row.run_id, row.first_seen, row.last_seen) == (
        "Blue mug (renamed)", None, "r2", first, clock.now
    )  # fmt: skip
    assert store.count_unlinked(T, P) == 2 and store.count_unlinked(T, C) == 0


def test_linked_records_leave_the_list_whichever_way_they_were_linked(store: StateStore) -> None:
    store.note_unlinked(T, P, run_id="r1", seen=[UnlinkedSeen(f"z{n}", "items") for n in range(4)])
    store.note_unlinked(T, P, run_id="r2", gone=["z0"])  # linked (or deleted in Zoho) by the run that saw it
    # Linked by the other direction (a CS-Cart product adopted the Zoho item): hidden at once, swept by the next load.
    store.save_link(T, P, zoho_id="z1", cscart_id="101", run_id="r3")
    # A link without a CS-Cart twin, or a deleted one, does not count as "in CS-Cart".
    store.save_link(T, P, zoho_id="z2", cscart_id="102", run_id="r3")
    store.mark_deleted(T, P, zoho_id="z2", at=store._clock())
    assert _ids(store.unlinked_page(T, P)) == ["z2", "z3"] and store.count_unlinked(T, P) == 2
    assert store.listed_unlinked_ids(T, P, ["z3", "z1", "nope", "z2"]) == ["z3", "z2"]
    assert store.sweep_unlinked(T, P) == 1
    with store.engine.connect() as connection:
        left = connection.execute(sa.text("SELECT zoho_id FROM zcs_unlinked ORDER BY zoho_id")).scalars().all()
    assert left == ["z2", "z3"]


def test_a_full_read_unlists_what_it_no_longer_finds_in_its_streams(store: StateStore) -> None:
    store.note_unlinked(T, C, run_id="r1", seen=[UnlinkedSeen("a1", "accounts"), UnlinkedSeen("c1", "contacts")])
    store.note_unlinked(T, C, run_id="r2", seen=[UnlinkedSeen("a2", "accounts")])
    assert store.prune_unlinked(T, C, ["accounts"], "r2") == 1  # a1 is gone from Zoho; contacts were not read
    assert _ids(store.unlinked_page(T, C)) == ["a2", "c1"]


def test_unlinked_pages_follow_the_key(store: StateStore) -> None:
    store.note_unlinked(T, P, run_id="r1", seen=[UnlinkedSeen(f"z{n:03d}", "items") for n in range(7)])
    store.note_unlinked(T, C, run_id="r1", seen=[UnlinkedSeen("other", "contacts")])
    pages, after = [], None
    while True:
        rows = store.unlinked_page(T, P, after=after, limit=3)
        if not rows:
            break
        pages.append(_ids(rows))
        after = rows[-1].zoho_id
    assert pages == [["z000", "z001", "z002"], ["z003", "z004", "z005"], ["z006"]]


def test_quarantine_newest_last_seen_first_is_paged_by_key(store: StateStore, clock) -> None:
    for number in range(5):
        store.quarantine(T, P, Z2C if number % 2 else C2Z, f"s{number}", reason="x", stage="load", run_id="r1")
        clock.advance(minutes=1)
    clock.now -= timedelta(minutes=1)
    store.quarantine(T, P, Z2C, "s1", reason="again", stage="load", run_id="r2")  # seen again: newest (tie with s4)
    store.quarantine(T, P, Z2C, "s9", reason="x", stage="load", run_id="r2")
    store.resolve_quarantine(T, P, Z2C, "s9")  # closed entries are not listed
    order, before = [], None
    while True:
        rows = store.quarantine_recent_page(T, P, before=before, limit=2)
        if not rows:
            break
        order.extend(row.source_id for row in rows)
        before = (rows[-1].last_seen, rows[-1].direction, rows[-1].source_id)
    assert order == ["s1", "s4", "s3", "s2", "s0"]
    assert [r.source_id for r in store.quarantine_recent_page(T, P, direction=Z2C)] == ["s1", "s3"]
    assert [r.source_id for r in store.quarantine_recent_page(T, P, direction=C2Z, limit=1)] == ["s4"]


def test_the_open_quarantine_reads_use_the_v9_indexes(store: StateStore) -> None:
    if store.engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner chooses by statistics; the bench measures it at 272k
    store.migrate()
    with store.engine.connect() as connection:
        kinds = connection.execute(
            sa.text(
                "EXPLAIN QUERY PLAN SELECT direction, kind, count(*) FROM zcs_quarantine WHERE tenant = 'a' "
                "AND entity = 'b' AND resolved_at IS NULL GROUP BY direction, kind"
            )
        ).all()
        recent = connection.execute(
            sa.text(
                "EXPLAIN QUERY PLAN SELECT * FROM zcs_quarantine WHERE tenant = 'a' AND entity = 'b' "
                "AND resolved_at IS NULL ORDER BY last_seen DESC, direction DESC, source_id DESC LIMIT 50"
            )
        ).all()
    assert "COVERING INDEX ix_zcs_quarantine_open_kinds" in " ".join(str(row[-1]) for row in kinds)
    plan = " ".join(str(row[-1]) for row in recent)
    assert "ix_zcs_quarantine_open_recent" in plan and "TEMP B-TREE" not in plan
