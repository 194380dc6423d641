"""The sandbox's fast paths for big catalogues answer exactly what the plain scans answer.

Three shortcuts keep a 272,028-item Inventory organisation fast (bench/products_first_sync.py): ``iter_ids`` by id
with ``modified_since`` skips old seed records by binary search, uniqueness checks (SKU, contact name) use an index
of the seed column, and Inventory list pages read one after the other continue the previous page's walk. Each is
checked here against the straightforward computation, on tables with edited, created and deleted records.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from zoho_cscart_sandbox.finance_records import casefolded_text
from zoho_cscart_sandbox.lazy import LazyTable

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
COUNT = 60


def _seed(i: int) -> dict[str, str]:
    return {"item_id": f"9{i:05d}", "sku": f"SKU-{i % 7}" if i % 5 else "", "name": f"Item {i}"}


def _table() -> LazyTable:
    """60 seed records whose modified times are non-decreasing in the index (with ties), like every seed."""
    return LazyTable(
        name="acme_store:items",
        base_count=COUNT,
        build=_seed,
        id_of=lambda i: f"9{i:05d}",
        index_of=lambda rid: int(rid[1:]) if rid.startswith("9") and rid[1:].isdigit() else None,
        base_modified=lambda i: T0 + timedelta(hours=i // 3),
        peek=lambda i, name: _seed(i)[name],
    )


def _written(seed: int) -> LazyTable:
    """A table after random edits (some dated before seed times), creates and deletes."""
    rng = random.Random(seed)
    table = _table()
    for step in range(40):
        action = rng.choice(("edit", "edit", "create", "delete"))
        when = T0 + timedelta(hours=rng.randint(-5, 30), minutes=step)
        if action == "create":
            rid = table.new_id()
            table.put(rid, {"item_id": rid, "sku": rng.choice(["SKU-1", "sku-1", "NEW", ""]), "name": "n"}, when)
        elif action == "edit":
            rid = f"9{rng.randrange(COUNT):05d}"
            record = table.get(rid)
            if record is not None:
                record["sku"] = rng.choice(["SKU-2", "Sku-3", "", "OTHER"])
                table.put(rid, record, when)
        else:
            live = list(table.iter_ids())
            table.delete(rng.choice(live), when)
    return table


def _by_id_reference(table: LazyTable, descending: bool, since: datetime) -> list[str]:
    """What ``iter_ids(order="id", modified_since=since)`` answered before the fast path: a filtered full walk."""
    return [rid for rid in table.iter_ids(descending=descending) if table.modified_at(rid) >= since]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("descending", [False, True])
def test_iter_ids_since_by_id_equals_the_filtered_walk(seed: int, descending: bool) -> None:
    table = _written(seed)
    for hours in (-10, 0, 1, 5, 9.5, 12, 19, 20, 25, 40):
        since = T0 + timedelta(hours=hours)
        assert list(table.iter_ids(descending=descending, modified_since=since)) == _by_id_reference(
            table, descending, since
        )


@pytest.mark.parametrize("seed", range(12))
def test_scan_ids_equal_equals_scan_ids(seed: int) -> None:
    table = _written(seed)
    for wanted in ("sku-1", "sku-2", "sku-3", "", "other", "new", "missing"):
        expected = table.scan_ids("sku", lambda v, w=wanted: casefolded_text(v) == w)
        assert table.scan_ids_equal("sku", casefolded_text, wanted) == expected
    # The index survives later writes: it only ever holds seed values.
    for rid in ("900004", "900005", "900006"):
        table.put(rid, {"item_id": rid, "sku": "late", "name": "x"}, T0)  # a deleted one stays deleted
    assert table.scan_ids_equal("sku", casefolded_text, "late") == table.scan_ids("sku", lambda v: v == "late")


def test_writes_bump_the_table_version() -> None:
    table = _table()
    before = table.version
    table.put("900001", {"item_id": "900001", "sku": "A", "name": "a"}, T0)
    table.delete("900002", T0)
    assert table.version == before + 2


# -- Inventory list pages over HTTP ------------------------------------------------------------------------
def _pages(zoho, params: dict, order: list[int]) -> dict[int, tuple[list[str], bool]]:
    ids = {}
    for page in order:
        body = zoho.inventory("GET", "/items", params={**params, "page": page}).json()
        ids[page] = ([row["item_id"] for row in body["items"]], body["page_context"]["has_more_page"])
    return ids


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": 7, "sort_column": "created_time", "sort_order": "A"},
        {"per_page": 7, "sort_column": "created_time", "sort_order": "D"},
        {"per_page": 9, "sort_column": "last_modified_time"},
        {"per_page": 6, "filter_by": "Status.Active"},
        {"per_page": 5, "last_modified_time": "2026-11-05T00:00:00-0500", "sort_column": "created_time"},
    ],
)
def test_inventory_pages_read_in_order_equal_pages_read_alone(acme_zoho, params: dict) -> None:
    pages = list(range(1, 18))
    # Reverse order never continues a walk; in order, each page continues the previous one.
    alone = _pages(acme_zoho, params, pages[::-1])
    in_order = _pages(acme_zoho, params, pages)
    assert in_order == alone
    assert [i for p in pages for i in in_order[p][0]] == [i for p in pages for i in alone[p][0]]


def test_a_write_between_pages_starts_a_fresh_walk(acme_zoho) -> None:
    params = {"per_page": 10, "sort_column": "created_time", "sort_order": "A"}
    first = acme_zoho.inventory("GET", "/items", params={**params, "page": 1}).json()["items"]
    deleted = first[-1]["item_id"]
    assert acme_zoho.inventory("DELETE", f"/items/{deleted}").status_code == 200
    second = acme_zoho.inventory("GET", "/items", params={**params, "page": 2}).json()["items"]
    assert second[0]["item_id"] == _pages(acme_zoho, params, [2])[2][0][0]
    assert deleted not in [row["item_id"] for row in second]


def test_sku_uniqueness_is_unchanged(acme_zoho) -> None:
    rows = acme_zoho.inventory("GET", "/items", params={"per_page": 200}).json()["items"]
    taken = next(row["sku"] for row in rows if row["sku"])
    clash = acme_zoho.inventory("POST", "/items", json={"name": "Dup", "sku": taken.lower(), "rate": 1})
    assert (clash.status_code, clash.json()["code"]) == (400, 1001)
    created = acme_zoho.inventory("POST", "/items", json={"name": "New", "sku": "NEW-SKU-1", "rate": 1}).json()
    again = acme_zoho.inventory("POST", "/items", json={"name": "New 2", "sku": "new-sku-1", "rate": 1})
    assert again.json()["code"] == 1001
    # Renaming an item's SKU frees the old one and takes the new one.
    item_id = created["item"]["item_id"]
    assert acme_zoho.inventory("PUT", f"/items/{item_id}", json={"sku": "NEW-SKU-2"}).json()["code"] == 0
    assert (
        acme_zoho.inventory("POST", "/items", json={"name": "New 3", "sku": "NEW-SKU-1", "rate": 1}).json()["code"] == 0
    )
    assert (
        acme_zoho.inventory("POST", "/items", json={"name": "New 4", "sku": "new-sku-2", "rate": 1}).json()["code"]
        == 1001
    )
