"""The "Not in CS-Cart" list the kit keeps after a Zoho -> CS-Cart load (``kit/unlinked.py``): from the run's staged
Zoho records, with why each one was not written; linked, deleted and (after a full read) vanished records unlisted."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.kit.spec import StreamSpec
from zoho_cscart_sync.kit.unlinked import note_unlinked, record_label
from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.staging import StagingArea

T, P = "acme_store", "products"
ITEMS = StreamSpec(
    name="items", system="zoho_inventory", resource="items", id_field="item_id", mapping="m", window="finance_modified"
)


@pytest.fixture
def store(tmp_path):
    with StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}") as store:
        yield store


def _run(store, *, direction=Direction.ZOHO_TO_CSCART, dry_run=False, run_id="r1"):
    return SimpleNamespace(
        direction=direction,
        direction_spec=SimpleNamespace(streams=(ITEMS,)),
        ctx=SimpleNamespace(dry_run=dry_run, run_id=run_id),
        quirks=SimpleNamespace(writes_records=lambda: True),
        targets=lambda: (SimpleNamespace(name="cscart_products"),),
        store=store,
        tenant_id=T,
        entity=P,
        label=f"tenant {T} {P} {direction.value}",
    )


def _mapped(tmp_path, rows, *, skipped=None, deleted=(), read_in_full=None, run_id="r1"):
    staging = StagingArea(str(tmp_path / "staging"), T, P, run_id)
    items = staging.write_pages("zoho_to_cscart.items", [rows])
    mapped = staging.write_pages(
        "zoho_to_cscart.mapped",
        [[{"stream": "items", "target": "cscart_products", "route": None, "depth": 0, "requires": None,
           "record": MappedRecord(source_id=str(row["item_id"]), payload={},
                                  skip_reason=(skipped or {}).get(str(row["item_id"]))).to_staged()}
          for row in rows]],
    )  # fmt: skip
    gone = staging.write_pages("zoho_to_cscart.deleted", [[{"id": i, "stream": "items"} for i in deleted]])
    return {"mapped": mapped, "streams": {"items": items}, "deleted": gone, "read_in_full": read_in_full}


def test_unwritten_zoho_records_are_listed_with_label_and_why(tmp_path, store):
    rows = [
        {"item_id": "1", "name": "Blue mug", "sku": "BM-1"},  # written: linked by the load
        {"item_id": "2", "name": "Red mug", "sku": "RM-1"},  # skipped by a rule
        {"item_id": "3", "name": "Green mug"},  # quarantined
        {"item_id": "4", "sku": "NO-NAME"},  # neither (a stopped run)
    ]
    store.save_link(T, P, zoho_id="1", cscart_id="101", run_id="r1")
    store.quarantine(T, P, "zoho_to_cscart", "3", reason="price must be a number", stage="map", run_id="r1",
                     kind="content")  # fmt: skip
    mapped = _mapped(tmp_path, rows, skipped={"2": "status 'inactive' is not in import_statuses"})
    assert note_unlinked(_run(store), mapped) == {"listed": 3, "unlisted": 0}
    listed = {row.zoho_id: (row.label, row.reason, row.run_id) for row in store.unlinked_page(T, P)}
    assert listed == {
        "2": ("Red mug · RM-1", "status 'inactive' is not in import_statuses", "r1"),
        "3": ("Green mug", "quarantined (content): price must be a number", "r1"),
        "4": ("NO-NAME", "not written yet", "r1"),
    }


def test_a_later_run_unlists_what_it_linked_what_zoho_deleted_and_what_a_full_read_did_not_find(tmp_path, store):
    rows = [{"item_id": str(n), "name": f"item {n}"} for n in range(1, 5)]
    note_unlinked(_run(store), _mapped(tmp_path, rows))
    assert store.count_unlinked(T, P) == 4
    store.save_link(T, P, zoho_id="1", cscart_id="101", run_id="r2")  # imported by run r2
    # r2 reads in full and finds 1, 2 and 3 (3 deleted in Zoho meanwhile, per the deleted feed); 4 is gone.
    mapped = _mapped(tmp_path / "r2", rows[:3], deleted=["3"], read_in_full={"items": 3}, run_id="r2")
    result = note_unlinked(_run(store, run_id="r2"), mapped)
    assert [row.zoho_id for row in store.unlinked_page(T, P)] == ["2"]
    # 2 and 3 listed (3 then unlisted as deleted), 4 pruned by the full read, 1 swept out as linked.
    assert result == {"listed": 2, "unlisted": 2}


def test_nothing_is_listed_by_a_dry_run_or_the_other_direction(tmp_path, store):
    mapped = _mapped(tmp_path, [{"item_id": "9", "name": "x"}])
    assert note_unlinked(_run(store, dry_run=True), mapped) == {}
    assert note_unlinked(_run(store, direction=Direction.CSCART_TO_ZOHO), mapped) == {}
    assert store.count_unlinked(T, P) == 0


def test_labels_from_the_zoho_fields_of_each_entity():
    assert record_label({"name": "Blue mug", "sku": "BM-1"}) == "Blue mug · BM-1"
    assert record_label({"Account_Name": "Acme GmbH"}) == "Acme GmbH"
    assert record_label({"First_Name": "Jane", "Last_Name": "Roe", "Email": "jane@x.example"}) == (
        "Jane Roe · jane@x.example"
    )
    assert record_label({"salesorder_number": "SO-00012", "customer_name": "Acme"}) == "Acme · SO-00012"
    assert record_label({"item_id": "1"}) is None
