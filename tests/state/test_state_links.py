"""The ID map: one row per id, batched lookups, natural keys, hashes, flags, deletes."""

from __future__ import annotations

import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from zoho_cscart_sync.state import LinkConflictError, NaturalKeyConflictError, StateStore, links, tables

T, C, P = "acme_store", "customers", "products"


@contextmanager
def count_selects(store: StateStore) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_saved_link_is_found_from_either_side(store: StateStore, clock: Any) -> None:
    saved = store.save_link(T, C, zoho_id="5725767000000411001", cscart_id="12", hash_to_cscart="h-c", run_id="run-1")
    assert store.get_link(T, C, zoho_id="5725767000000411001") == saved
    assert store.get_link(T, C, cscart_id="12") == saved
    assert saved.tenant == T
    assert saved.entity == C
    assert saved.hash_to_cscart == "h-c"
    assert saved.hash_to_zoho is None
    assert saved.flags == frozenset()
    assert saved.natural_keys == {}
    assert saved.last_synced_at == clock.now
    assert saved.deleted_at is None


def test_unknown_ids_give_none(store: StateStore) -> None:
    assert store.get_link(T, C, zoho_id="nope") is None
    assert store.get_link(T, C, cscart_id="nope") is None


def test_integer_cscart_ids_are_stored_as_text(store: StateStore) -> None:
    store.save_link(T, P, zoho_id="z", cscart_id=42, run_id="r")  # type: ignore[arg-type]
    link = store.get_link(T, P, cscart_id="42")
    assert link is not None
    assert link.cscart_id == "42"


def test_saving_again_updates_the_one_row_and_keeps_what_was_not_given(store: StateStore, clock: Any) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", hash_to_cscart="h1", hash_to_zoho="k1", run_id="r1")
    clock.advance(minutes=5)
    updated = store.save_link(T, C, zoho_id="z1", cscart_id="c1", hash_to_cscart="h2", run_id="r2")
    assert (updated.hash_to_cscart, updated.hash_to_zoho) == ("h2", "k1")
    assert updated.last_synced_at == clock.now
    # Saving by one id alone finds the same row too.
    store.save_link(T, C, zoho_id="z1", cscart_id=None, hash_to_zoho="k2", run_id="r3")
    assert [(link.zoho_id, link.cscart_id, link.hash_to_zoho) for link in store.list_links(T, C)] == [
        ("z1", "c1", "k2")
    ]


def test_ids_belonging_to_two_different_links_are_refused(store: StateStore) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", run_id="r")
    store.save_link(T, C, zoho_id="z2", cscart_id="c2", run_id="r")
    with pytest.raises(LinkConflictError, match=r"acme_store/customers: cannot link zoho_id='z1', cscart_id='c2'"):
        store.save_link(T, C, zoho_id="z1", cscart_id="c2", run_id="r")
    assert store.get_link(T, C, zoho_id="z1").cscart_id == "c1"  # type: ignore[union-attr]
    assert store.get_link(T, C, zoho_id="z2").cscart_id == "c2"  # type: ignore[union-attr]


def test_a_recreated_counterpart_is_relinked_on_the_same_row(store: StateStore) -> None:
    store.save_link(T, P, zoho_id="z1", cscart_id="c-old", run_id="r")
    store.save_link(T, P, zoho_id="z1", cscart_id="c-new", run_id="r")
    assert store.get_link(T, P, cscart_id="c-old") is None
    assert store.get_link(T, P, cscart_id="c-new").zoho_id == "z1"  # type: ignore[union-attr]
    assert len(list(store.list_links(T, P))) == 1


def test_the_database_itself_refuses_two_rows_for_one_id(store: StateStore, clock: Any) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", run_id="r")
    now = clock.now
    row = {"tenant": T, "entity": C, "run_id": "r", "created_at": now, "last_synced_at": now, "flags": ""}
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(tables.links.insert().values(zoho_id="z1", cscart_id="other", **row))
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(tables.links.insert().values(zoho_id="other", cscart_id="c1", **row))


def test_links_are_scoped_by_tenant_and_entity(store: StateStore) -> None:
    store.save_link(T, C, zoho_id="1", cscart_id="1", run_id="r")
    store.save_link("northwind_vendor", C, zoho_id="1", cscart_id="1", hash_to_zoho="nw", run_id="r")
    store.save_link(T, "orders", zoho_id="1", cscart_id="1", hash_to_zoho="ord", run_id="r")
    assert store.get_link(T, C, zoho_id="1").hash_to_zoho is None  # type: ignore[union-attr]
    assert store.get_link("northwind_vendor", C, zoho_id="1").hash_to_zoho == "nw"  # type: ignore[union-attr]
    assert store.get_link(T, "orders", cscart_id="1").hash_to_zoho == "ord"  # type: ignore[union-attr]


def test_exactly_one_id_is_required_for_lookups(store: StateStore) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        store.get_link(T, C)
    with pytest.raises(ValueError, match="exactly one"):
        store.get_link(T, C, zoho_id="z", cscart_id="c")
    with pytest.raises(ValueError, match="exactly one"):
        store.get_links(T, C, zoho_ids=["z"], cscart_ids=["c"])
    with pytest.raises(ValueError, match="needs a zoho_id or a cscart_id"):
        store.save_link(T, C, zoho_id=None, cscart_id=None, run_id="r")


def test_get_links_is_batched_in_chunks(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(8):
        store.save_link(
            T, P, zoho_id=f"z{number}", cscart_id=f"c{number}", natural_keys={"sku": f"S{number}"}, run_id="r"
        )
    monkeypatch.setattr(links, "LOOKUP_CHUNK", 3)
    wanted = [f"c{number}" for number in range(8)] + ["missing", "c0"]
    with count_selects(store) as selects:
        found = store.get_links(T, P, cscart_ids=wanted)
    assert sorted(found) == [f"c{number}" for number in range(8)]
    assert found["c5"].zoho_id == "z5"
    assert found["c5"].natural_keys == {"sku": "S5"}
    # 9 distinct ids in chunks of 3: 3 link queries + 3 natural-key queries, not one per id.
    assert len(selects) == 6


def test_get_links_query_count_does_not_grow_with_the_page(store: StateStore) -> None:
    for number in range(30):
        store.save_link(T, C, zoho_id=f"z{number}", cscart_id=f"c{number}", run_id="r")
    with count_selects(store) as selects:
        found = store.get_links(T, C, zoho_ids=[f"z{number}" for number in range(30)])
    assert len(found) == 30
    assert len(selects) == 2
    assert store.get_links(T, C, zoho_ids=[]) == {}


def test_emails_match_case_insensitively(store: StateStore) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", natural_keys={"email": "  Jane.Doe@Example.COM "}, run_id="r")
    for spelling in ("jane.doe@example.com", "JANE.DOE@EXAMPLE.COM", " Jane.Doe@example.com"):
        found = store.find_link_by_natural_key(T, C, "email", spelling)
        assert found is not None
        assert found.zoho_id == "z1"
    assert store.get_link(T, C, zoho_id="z1").natural_keys == {"email": "jane.doe@example.com"}  # type: ignore[union-attr]
    assert store.find_link_by_natural_key(T, C, "email", "other@example.com") is None


def test_natural_keys_are_looked_up_in_batches(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(7):
        store.save_link(
            T,
            C,
            zoho_id=f"z{number}",
            cscart_id=f"c{number}",
            natural_keys={"email": f"u{number}@x.org"},
            run_id="r",
        )
    monkeypatch.setattr(links, "LOOKUP_CHUNK", 4)
    asked = [f"U{number}@X.org" for number in range(7)] + ["nobody@x.org"]
    with count_selects(store) as selects:
        found = store.find_links_by_natural_keys(T, C, "email", asked)
    assert sorted(found) == [f"u{number}@x.org" for number in range(7)]
    assert found["u3@x.org"].cscart_id == "c3"
    assert len(selects) == 4  # 2 chunks x (links + their natural keys), not one query per e-mail
    assert store.find_links_by_natural_keys(T, C, "email", []) == {}


def test_skus_keep_their_case(store: StateStore) -> None:
    store.save_link(T, P, zoho_id="z1", cscart_id="c1", natural_keys={"sku": "AB-1"}, run_id="r")
    store.save_link(T, P, zoho_id="z2", cscart_id="c2", natural_keys={"sku": "ab-1"}, run_id="r")
    assert store.find_link_by_natural_key(T, P, "sku", "AB-1").zoho_id == "z1"  # type: ignore[union-attr]
    assert store.find_link_by_natural_key(T, P, "sku", " ab-1 ").zoho_id == "z2"  # type: ignore[union-attr]


def test_a_natural_key_cannot_be_claimed_by_two_live_links(store: StateStore) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", natural_keys={"email": "a@example.com"}, run_id="r")
    with pytest.raises(
        NaturalKeyConflictError,
        match=r"acme_store/customers: natural key email='a@example.com' already belongs to the link "
        r"zoho_id='z1', cscart_id='c1'; refusing to give it to zoho_id='z2', cscart_id='c2'",
    ):
        store.save_link(T, C, zoho_id="z2", cscart_id="c2", natural_keys={"email": "A@example.com"}, run_id="r")
    # The failed save rolled back entirely: no half-created second link.
    assert store.get_link(T, C, zoho_id="z2") is None
    assert store.find_link_by_natural_key(T, C, "email", "a@example.com").zoho_id == "z1"  # type: ignore[union-attr]


def test_the_database_itself_refuses_one_natural_key_for_two_links(store: StateStore) -> None:
    first = store.save_link(T, C, zoho_id="z1", cscart_id="c1", natural_keys={"email": "a@example.com"}, run_id="r")
    store.save_link(T, C, zoho_id="z2", cscart_id="c2", run_id="r")
    with store.engine.connect() as connection:
        second_id = connection.execute(sa.select(tables.links.c.id).where(tables.links.c.zoho_id == "z2")).scalar_one()
    assert first.natural_keys == {"email": "a@example.com"}
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(
            tables.natural_keys.insert().values(
                tenant=T, entity=C, key_kind="email", key_value="a@example.com", link_id=second_id
            )
        )


def test_natural_keys_given_replace_the_stored_ones(store: StateStore) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", natural_keys={"email": "old@example.com"}, run_id="r")
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", run_id="r")  # None keeps them
    assert store.find_link_by_natural_key(T, C, "email", "old@example.com") is not None
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", natural_keys={"email": "new@example.com"}, run_id="r")
    assert store.find_link_by_natural_key(T, C, "email", "old@example.com") is None
    assert store.find_link_by_natural_key(T, C, "email", "new@example.com").zoho_id == "z1"  # type: ignore[union-attr]
    # The old address is free again for another customer.
    store.save_link(T, C, zoho_id="z2", cscart_id="c2", natural_keys={"email": "old@example.com"}, run_id="r")


def test_a_deleted_links_natural_key_passes_to_the_new_record(store: StateStore, clock: Any) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", natural_keys={"email": "a@example.com"}, run_id="r")
    store.mark_deleted(T, C, cscart_id="c1", at=clock.now)
    store.save_link(T, C, zoho_id="z1b", cscart_id="c9", natural_keys={"email": "a@example.com"}, run_id="r")
    assert store.find_link_by_natural_key(T, C, "email", "a@example.com").cscart_id == "c9"  # type: ignore[union-attr]
    assert store.get_link(T, C, cscart_id="c1").natural_keys == {}  # type: ignore[union-attr]


def test_bad_natural_key_kind_is_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="natural key kind"):
        store.save_link(T, C, zoho_id="z1", cscart_id="c1", natural_keys={"E-Mail": "a@example.com"}, run_id="r")
    with pytest.raises(ValueError, match="natural key email must not be empty"):
        store.save_link(T, C, zoho_id="z1", cscart_id="c1", natural_keys={"email": "  "}, run_id="r")


def test_flags_are_set_replaced_kept_and_filtered_exactly(store: StateStore) -> None:
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", flags={"no_email"}, run_id="r")
    store.save_link(T, C, zoho_id="z2", cscart_id="c2", flags={"no_email_verified"}, run_id="r")
    store.save_link(T, C, zoho_id="z3", cscart_id="c3", run_id="r")
    assert [link.zoho_id for link in store.list_links(T, C, flag="no_email")] == ["z1"]

    store.save_link(T, C, zoho_id="z1", cscart_id="c1", hash_to_zoho="h", run_id="r")  # flags kept
    assert store.get_link(T, C, zoho_id="z1").flags == frozenset({"no_email"})  # type: ignore[union-attr]
    store.save_link(T, C, zoho_id="z1", cscart_id="c1", flags=set(), run_id="r")  # flags cleared
    assert list(store.list_links(T, C, flag="no_email")) == []
    with pytest.raises(ValueError, match="flag must match"):
        store.save_link(T, C, zoho_id="z1", cscart_id="c1", flags={"a,b"}, run_id="r")


def test_mark_deleted_keeps_the_first_time_and_saving_revives(store: StateStore, clock: Any) -> None:
    store.save_link(T, P, zoho_id="z1", cscart_id="c1", run_id="r")
    first = clock.now
    store.mark_deleted(T, P, zoho_id="z1", at=first)
    store.mark_deleted(T, P, cscart_id="c1", at=clock.advance(hours=1))
    assert store.get_link(T, P, zoho_id="z1").deleted_at == first  # type: ignore[union-attr]
    store.mark_deleted(T, P, zoho_id="unknown", at=first)  # nothing to mark is not an error
    revived = store.save_link(T, P, zoho_id="z1", cscart_id="c1", run_id="r2")
    assert revived.deleted_at is None


def test_list_links_streams_pages_in_id_order(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(8):
        store.save_link(T, C, zoho_id=f"z{number}", cscart_id=f"c{number}", run_id="r")
    store.save_link(T, P, zoho_id="other", cscart_id="other", run_id="r")
    monkeypatch.setattr(links, "LOOKUP_CHUNK", 3)
    listed = store.list_links(T, C)
    assert isinstance(listed, types.GeneratorType)
    assert [link.zoho_id for link in listed] == [f"z{number}" for number in range(8)]


def test_concurrent_saves_of_one_record_leave_one_row(store: StateStore) -> None:
    errors: list[BaseException] = []

    def save(number: int) -> None:
        try:
            store.save_link(T, C, zoho_id="z-race", cscart_id="c-race", hash_to_cscart=f"h{number}", run_id="r")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [link.zoho_id for link in store.list_links(T, C)] == ["z-race"]
