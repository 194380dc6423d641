"""The products traps (issue 10), each through real DAG runs (dag.test) against the sandbox over HTTP.

Every test ends with a run that must write nothing. Every "change, then run" step is deterministic: runs are
full refreshes (everything modified before the trigger time) or ``record_ids`` runs, never a manual window that
starts at the previous run's trigger time (a change in the same second could fall before it).

Each run passes every trigger parameter: ``dag.test()`` runs the tasks in this process on the DAG object the
test holds, and Airflow's ``process_params`` resolves a run's conf into the DAG's own ``Param`` objects, so a
parameter left out would silently keep the previous run's value (a dry run would stay dry).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.e2e.customers_support import _cscart_headers, _http_json, directions_of, make_customers_dags
from tests.e2e.products_support import (
    InventoryReader,
    cscart_products,
    cscart_update_product,
    new_writes,
)

pytestmark = pytest.mark.integration

ACME = "acme_store"
VENDOR = "northwind_vendor"
Z2C, C2Z = "zoho_to_cscart", "cscart_to_zoho"
BOTH = (Z2C, C2Z)

# Seed records (sandbox/zoho_cscart_sandbox/seed.py, TRAPS): acme_store Inventory items and CS-Cart products.
ITEM_GOODS = "3850050000100000000"  # goods with SKU, stock 116
ITEM_NO_SKU = "3850050000100000001"  # goods without SKU
ITEM_SKU_OF_PRODUCT_1 = "3850050000100000002"  # SKU CSC-000001 = CS-Cart product 1 (company 1)
ITEM_INACTIVE = "3850050000100000003"
ITEM_SERVICE = "3850050000100000004"  # service, no SKU, no stock fields
ITEM_UNICODE = "3850050000100000006"  # "Café Crème ☕ Mug — “Limited”"
ITEM_PLAIN = "3850050000100000008"  # active goods with SKU
NORTHWIND_ITEM_SKU_OF_PRODUCT_3 = "4600000000100000002"  # SKU CSC-000003 = CS-Cart product 3 (company 2)
PRODUCT_NO_CODE = "4"
PRODUCT_DISABLED = "5"
PRODUCT_NEGATIVE = "7"  # amount -4
PRODUCT_UNTRACKED = "8"  # tracking D
PRODUCT_UNICODE_HTML = "9"  # Unicode name, HTML description with a <script>
PRODUCT_PLAIN = "10"

RUN_DEFAULTS: dict[str, Any] = {
    "since": None,
    "until": None,
    "full_refresh": False,
    "direction": "configured",
    "dry_run": False,
    "record_ids": None,
}


def _dags(tmp_path, sandbox, monkeypatch, overrides: dict | None = None):
    return make_customers_dags(tmp_path, sandbox, monkeypatch, overrides, entity="products")


def _run(dags, tenant: str = ACME, **conf: Any) -> dict[str, dict[str, Any]]:
    """One successful run with every parameter given (see the module docstring); returns its report."""
    run = dags.run(tenant, **{**RUN_DEFAULTS, **conf})
    assert run.state == "success"
    return directions_of(run)


def _sync(dags, tenant: str = ACME, **conf: Any) -> dict[str, dict[str, Any]]:
    return _run(dags, tenant, full_refresh=True, **conf)


def _assert_next_run_writes_nothing(dags, sandbox, tenant: str = ACME) -> dict[str, dict[str, Any]]:
    before = sandbox.counters()
    report = _sync(dags, tenant)
    assert new_writes(before, sandbox.counters()) == {}
    for counts in report.values():
        assert (counts["created"], counts["updated"], counts["new_failures"]) == (0, 0, 0), counts
    return report


def _links(dags, tenant: str = ACME) -> list:
    return list(dags.store().list_links(tenant, "products"))


def _by_zoho(dags, tenant: str = ACME) -> dict[str, Any]:
    return {link.zoho_id: link for link in _links(dags, tenant) if link.zoho_id}


def _by_cscart(dags, tenant: str = ACME) -> dict[str, Any]:
    return {link.cscart_id: link for link in _links(dags, tenant) if link.cscart_id}


def _quarantine(dags, direction: str, tenant: str = ACME) -> dict[str, Any]:
    return dags.store().open_quarantine(tenant, "products", direction)


def _cscart_create_product(sandbox, body: dict[str, Any]) -> str:
    answer = _http_json(
        f"{sandbox.cscart_url}/api/products", headers=_cscart_headers(sandbox), method="POST", body=body
    )
    return str(answer["product_id"])


def _mark_item(inventory: InventoryReader, item_id: str, status: str) -> None:
    _http_json(inventory._url(f"items/{item_id}/{status}"), headers=inventory.headers, method="POST", body={})


def _put_in_item_group(sandbox, tenant: str, item_id: str, group_id: str, group_name: str) -> None:
    """Make an item a member of an item group, as Zoho lists such an item (``group_id``, ``group_name``).

    Groups are made with ``POST /itemgroups`` in Zoho, which the sandbox does not serve, and its ``POST /items``
    ignores ``group_id``: the test sets the two fields in the in-process sandbox state, modification time kept.
    """
    if sandbox.servers is None:
        pytest.skip("needs the in-process sandbox")
    table = sandbox.servers.zoho_state.finance[tenant]["items"]
    record = table.get(item_id)
    record.update({"group_id": group_id, "group_name": group_name})
    table.put(item_id, record, table.modified_at(item_id))


# -- items without SKU --------------------------------------------------------------------------------------


def test_items_without_sku_are_linked_by_id_created_once_and_updated_in_place(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    inventory = InventoryReader(sandbox_clean, ACME)
    _sync(dags)
    links = _by_zoho(dags)
    products = cscart_products(sandbox_clean)
    # Zoho -> CS-Cart: each item without SKU became one product without code, linked by id only.
    for item_id in (ITEM_NO_SKU, ITEM_SERVICE):
        link = links[item_id]
        assert link.natural_keys == {} and products[link.cscart_id]["product_code"] == "", link
    assert Counter(row["product_code"] for row in products.values())[""] == 3  # product 4 + the two items
    # CS-Cart -> Zoho: the product without code became one item without SKU, linked by id only.
    no_code_item = _by_cscart(dags)[PRODUCT_NO_CODE].zoho_id
    assert inventory.item(no_code_item).get("sku", "") == ""
    assert _by_cscart(dags)[PRODUCT_NO_CODE].natural_keys == {}

    # A later change on each side updates the same record in place: nothing is created.
    items_before, products_before = len(inventory.items()), len(cscart_products(sandbox_clean))
    inventory.update(ITEM_NO_SKU, {"name": "Eco Sneakers 1 (renamed in Zoho)"})
    cscart_update_product(sandbox_clean, PRODUCT_NO_CODE, {"product": "Organic Desk Lamp (renamed in CS-Cart)"})
    report = _sync(dags)
    assert (report[Z2C]["created"], report[Z2C]["updated"]) == (0, 1), report[Z2C]
    assert (report[C2Z]["created"], report[C2Z]["updated"]) == (0, 1), report[C2Z]
    assert cscart_products(sandbox_clean)[links[ITEM_NO_SKU].cscart_id]["product"] == "Eco Sneakers 1 (renamed in Zoho)"
    assert inventory.item(no_code_item)["name"] == "Organic Desk Lamp (renamed in CS-Cart)"
    assert (len(inventory.items()), len(cscart_products(sandbox_clean))) == (items_before, products_before)
    assert _by_zoho(dags)[ITEM_NO_SKU].cscart_id == links[ITEM_NO_SKU].cscart_id

    _assert_next_run_writes_nothing(dags, sandbox_clean)


# -- two records with one SKU --------------------------------------------------------------------------------


def test_two_records_with_one_sku_quarantine_the_second_naming_the_sku_and_the_first(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    inventory = InventoryReader(sandbox_clean, ACME)
    # Inventory refuses a second item with one SKU, but not one that differs by a blank the mapping strips.
    first = inventory.create({"name": "Trap Dup A", "sku": "TRAP-DUP-1", "rate": 10, "product_type": "goods"})
    second = inventory.create({"name": "Trap Dup B", "sku": "TRAP-DUP-1 ", "rate": 11, "product_type": "goods"})
    after = inventory.create({"name": "Trap After Dup", "sku": "TRAP-AFTER-DUP", "rate": 12, "product_type": "goods"})
    # CS-Cart does not refuse a second product with one code at all.
    twins = [
        _cscart_create_product(
            sandbox_clean,
            {"product": f"CSC Dup {n}", "product_code": "TRAP-CSC-DUP", "price": "5", "category_ids": [8]},
        )
        for n in ("X", "Y")
    ]

    report = _sync(dags)
    links, by_cscart = _by_zoho(dags), _by_cscart(dags)
    products = cscart_products(sandbox_clean)
    # Zoho -> CS-Cart: the first item is a product, the second waits in quarantine naming the SKU and the first.
    assert products[links[first["item_id"]].cscart_id]["product_code"] == "TRAP-DUP-1"
    assert second["item_id"] not in links
    entry = _quarantine(dags, Z2C)[second["item_id"]]
    assert (entry.field, entry.kind) == ("sku", "content")
    assert entry.reason == f"sku 'TRAP-DUP-1' is also the sku of source record {first['item_id']} in this run"
    assert [row["product_code"] for row in products.values()].count("TRAP-DUP-1") == 1
    # The rest goes on: every other item was written (80 seed items: 79 created, 1 adopted product 1).
    assert products[links[after["item_id"]].cscart_id]["product_code"] == "TRAP-AFTER-DUP"
    assert (report[Z2C]["created"], report[Z2C]["linked_existing"], report[Z2C]["failed"]) == (81, 1, 1)
    # CS-Cart -> Zoho: one twin is an item, the other waits in quarantine naming the SKU and the one linked.
    linked = [product_id for product_id in twins if product_id in by_cscart]
    assert len(linked) == 1
    waiting = next(product_id for product_id in twins if product_id not in linked)
    entry = _quarantine(dags, C2Z)[waiting]
    assert entry.reason == f"sku 'TRAP-CSC-DUP' is also the sku of source record {linked[0]} in this run"
    assert [item.get("sku") for item in inventory.items().values()].count("TRAP-CSC-DUP") == 1
    assert (report[C2Z]["created"], report[C2Z]["failed"]) == (120, 1)

    again = _assert_next_run_writes_nothing(dags, sandbox_clean)
    assert again[Z2C]["waiting"] == again[C2Z]["waiting"] == 1  # refused content waits for a change
    assert set(_quarantine(dags, Z2C)) == {second["item_id"]} and set(_quarantine(dags, C2Z)) == {waiting}

    # A third item with the SKU, in a later run: quarantined naming the item that owns the SKU since.
    third = inventory.create({"name": "Trap Dup C", "sku": " TRAP-DUP-1", "rate": 13, "product_type": "goods"})
    report = _sync(dags)
    assert (report[Z2C]["created"], report[Z2C]["updated"], report[Z2C]["failed"]) == (0, 0, 1), report[Z2C]
    entry = _quarantine(dags, Z2C)[third["item_id"]]
    assert entry.reason == f"sku 'TRAP-DUP-1' already belongs to zoho record {first['item_id']}"
    _assert_next_run_writes_nothing(dags, sandbox_clean)


def test_skus_longer_than_cscart_allows_are_quarantined_never_cut_into_one(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch, {ACME: {"direction": Z2C}})
    inventory = InventoryReader(sandbox_clean, ACME)
    prefix = "L" * 64  # CS-Cart's product_code is varchar(64): cut to 64, these two SKUs would be one
    long_items = [
        inventory.create({"name": f"Trap Long {n}", "sku": f"{prefix}-{n}", "rate": 10, "product_type": "goods"})
        for n in ("A", "B")
    ]

    report = _sync(dags)
    assert report[Z2C]["failed"] == 2, report[Z2C]
    quarantine = _quarantine(dags, Z2C)
    for item in long_items:
        entry = quarantine[item["item_id"]]
        assert (entry.field, entry.kind) == ("product_code", "content"), entry
        assert "66 characters, the target allows 64" in entry.reason, entry.reason
        assert item["item_id"] not in _by_zoho(dags)
    assert not [row for row in cscart_products(sandbox_clean).values() if row["product_code"].startswith(prefix)]

    _assert_next_run_writes_nothing(dags, sandbox_clean)


# -- an SKU that another vendor's product has ----------------------------------------------------------------


def test_vendor_tenant_cannot_see_another_company_s_sku_and_creates_its_own_product(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    inventory = InventoryReader(sandbox_clean, VENDOR)
    item = inventory.create({"name": "Northwind Desk Lamp", "sku": "CSC-000001", "rate": 9, "product_type": "goods"})
    before = cscart_products(sandbox_clean)
    assert before["1"]["company_id"] == "1" and before["1"]["product_code"] == "CSC-000001"

    report = _sync(dags, VENDOR)
    after = cscart_products(sandbox_clean)
    links = _by_zoho(dags, VENDOR)
    # Company 1's product with the SKU is invisible to company 2's key: the vendor gets a product of its own.
    own = after[links[item["item_id"]].cscart_id]
    assert (own["company_id"], own["product_code"], own["product"]) == ("2", "CSC-000001", "Northwind Desk Lamp")
    assert after["1"] == before["1"]
    assert all(after[pid] == row for pid, row in before.items() if row["company_id"] != "2")
    # Its own company's product with an item's SKU (the northwind seed trap) is adopted, not duplicated.
    assert links[NORTHWIND_ITEM_SKU_OF_PRODUCT_3].cscart_id == "3"
    assert report[Z2C]["linked_existing"] == 1 and report[Z2C]["failed"] == 0
    assert all(after[link.cscart_id]["company_id"] == "2" for link in _links(dags, VENDOR) if link.cscart_id)

    _assert_next_run_writes_nothing(dags, sandbox_clean, VENDOR)


def test_store_importing_for_a_vendor_refuses_another_company_s_product_with_the_sku(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _dags(
        tmp_path, sandbox_clean, monkeypatch, {ACME: {"direction": Z2C, "defaults": {"product_company_id": 2}}}
    )
    before = cscart_products(sandbox_clean)

    report = _sync(dags)
    entry = _quarantine(dags, Z2C)[ITEM_SKU_OF_PRODUCT_1]
    assert (entry.field, entry.kind) == ("sku", "content")
    assert entry.reason == (
        "SKU 'CSC-000001' belongs to CS-Cart product 1 of company 1, outside this tenant's company_id 2: "
        "it is neither adopted nor changed"
    )
    after = cscart_products(sandbox_clean)
    assert after["1"] == before["1"]  # never adopted, never changed
    assert ITEM_SKU_OF_PRODUCT_1 not in _by_zoho(dags)
    assert [row["product_code"] for row in after.values()].count("CSC-000001") == 1
    # Everything else is imported under the tenant's company.
    assert (report[Z2C]["created"], report[Z2C]["linked_existing"], report[Z2C]["failed"]) == (79, 0, 1)
    assert {after[link.cscart_id]["company_id"] for link in _links(dags)} == {"2"}

    again = _assert_next_run_writes_nothing(dags, sandbox_clean)
    assert again[Z2C]["waiting"] == 1


# -- inactive items ------------------------------------------------------------------------------------------


def test_inactive_items_become_disabled_products(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch, {ACME: {"direction": Z2C}})
    inventory = InventoryReader(sandbox_clean, ACME)
    _sync(dags)
    links = _by_zoho(dags)
    assert cscart_products(sandbox_clean)[links[ITEM_INACTIVE].cscart_id]["status"] == "D"
    assert cscart_products(sandbox_clean)[links[ITEM_PLAIN].cscart_id]["status"] == "A"

    _mark_item(inventory, ITEM_PLAIN, "inactive")  # Zoho's own endpoint (status is not an item field)
    report = _sync(dags)
    assert (report[Z2C]["created"], report[Z2C]["updated"]) == (0, 1), report[Z2C]
    assert cscart_products(sandbox_clean)[links[ITEM_PLAIN].cscart_id]["status"] == "D"

    _mark_item(inventory, ITEM_PLAIN, "active")
    report = _sync(dags)
    assert report[Z2C]["updated"] == 1
    assert cscart_products(sandbox_clean)[links[ITEM_PLAIN].cscart_id]["status"] == "A"

    _assert_next_run_writes_nothing(dags, sandbox_clean)


def test_disabled_cscart_products_become_inactive_items(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch, {ACME: {"direction": C2Z}})
    inventory = InventoryReader(sandbox_clean, ACME)
    assert cscart_products(sandbox_clean)[PRODUCT_DISABLED]["status"] == "D"

    _sync(dags)
    by_cscart = _by_cscart(dags)
    assert inventory.item(by_cscart[PRODUCT_PLAIN].zoho_id)["status"] == "active"
    assert inventory.item(by_cscart[PRODUCT_DISABLED].zoho_id)["status"] == "inactive"

    _assert_next_run_writes_nothing(dags, sandbox_clean)


# -- services, negative and fractional stock -----------------------------------------------------------------


def test_services_carry_no_stock_in_either_direction(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    inventory = InventoryReader(sandbox_clean, ACME)
    assert "stock_on_hand" not in inventory.item(ITEM_SERVICE)
    _sync(dags)
    service_product = _by_zoho(dags)[ITEM_SERVICE].cscart_id
    row = cscart_products(sandbox_clean)[service_product]
    # No amount is sent: the product does not track inventory and keeps CS-Cart's default amount.
    assert (row["tracking"], row["amount"]) == ("D", "0")
    # CS-Cart -> Zoho: a product that does not track inventory is a service item without stock.
    untracked_item = inventory.item(_by_cscart(dags)[PRODUCT_UNTRACKED].zoho_id)
    assert (untracked_item["product_type"], untracked_item["item_type"]) == ("service", "sales")
    assert "stock_on_hand" not in untracked_item

    # An update of the service sends no amount either: a store-side amount stays as it is.
    cscart_update_product(sandbox_clean, service_product, {"amount": 7})
    inventory.update(ITEM_SERVICE, {"rate": 7.5})
    report = _sync(dags)
    assert report[Z2C]["updated"] == 1 and report[C2Z]["updated"] == 0, report
    row = cscart_products(sandbox_clean)[service_product]
    assert (row["tracking"], row["amount"], row["price"]) == ("D", "7", "7.50")

    _assert_next_run_writes_nothing(dags, sandbox_clean)


def test_negative_stock_is_copied_both_ways(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    inventory = InventoryReader(sandbox_clean, ACME)
    inventory.adjust_stock(ITEM_GOODS, -3 - float(inventory.item(ITEM_GOODS)["stock_on_hand"]))
    assert float(inventory.item(ITEM_GOODS)["stock_on_hand"]) == -3
    assert cscart_products(sandbox_clean)[PRODUCT_NEGATIVE]["amount"] == "-4"

    _sync(dags)
    assert cscart_products(sandbox_clean)[_by_zoho(dags)[ITEM_GOODS].cscart_id]["amount"] == "-3"
    item = inventory.item(_by_cscart(dags)[PRODUCT_NEGATIVE].zoho_id)  # the opening stock of a new item
    assert float(item["stock_on_hand"]) == -4

    _assert_next_run_writes_nothing(dags, sandbox_clean)


def test_fractional_stock_is_rounded_down_to_whole_units(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    inventory = InventoryReader(sandbox_clean, ACME)
    _sync(dags)
    product_id = _by_zoho(dags)[ITEM_GOODS].cscart_id
    assert cscart_products(sandbox_clean)[product_id]["amount"] == "116"

    inventory.adjust_stock(ITEM_GOODS, 2.75 - 116)
    assert float(inventory.item(ITEM_GOODS)["stock_on_hand"]) == 2.75
    report = _sync(dags)
    assert (report[Z2C]["updated"], report[C2Z]["updated"]) == (1, 0), report
    assert cscart_products(sandbox_clean)[product_id]["amount"] == "2"
    assert float(inventory.item(ITEM_GOODS)["stock_on_hand"]) == 2.75  # Zoho's own count is never rewritten

    _assert_next_run_writes_nothing(dags, sandbox_clean)


# -- prices as strings -----------------------------------------------------------------------------------------


def test_prices_as_strings_cause_no_rewrite_loop(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    inventory = InventoryReader(sandbox_clean, ACME)
    _sync(dags)
    links, by_cscart = _by_zoho(dags), _by_cscart(dags)

    # Zoho rates as strings (another integration wrote them so), one with more decimals than CS-Cart keeps;
    # a CS-Cart price with one decimal. CS-Cart answers prices as strings with two decimals.
    inventory.update(ITEM_GOODS, {"rate": "19.90"})
    inventory.update(ITEM_PLAIN, {"rate": "12.345"})
    cscart_update_product(sandbox_clean, PRODUCT_PLAIN, {"price": "15.5"})
    assert inventory.item(ITEM_GOODS)["rate"] == "19.90"
    report = _sync(dags)
    assert (report[Z2C]["updated"], report[C2Z]["updated"]) == (2, 1), report
    products = cscart_products(sandbox_clean)
    assert products[links[ITEM_GOODS].cscart_id]["price"] == "19.90"
    assert products[links[ITEM_PLAIN].cscart_id]["price"] == "12.35"  # half-up to CS-Cart's two decimals
    assert products[PRODUCT_PLAIN]["price"] == "15.50"
    assert inventory.item(by_cscart[PRODUCT_PLAIN].zoho_id)["rate"] == 15.5
    assert inventory.item(ITEM_PLAIN)["rate"] == "12.345"  # the rounded price is not written back to Zoho

    _assert_next_run_writes_nothing(dags, sandbox_clean)


# -- Unicode and HTML in names ---------------------------------------------------------------------------------


def test_unicode_names_are_kept_and_markup_in_names_is_removed_and_flagged(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    inventory = InventoryReader(sandbox_clean, ACME)
    marked_item = inventory.create(
        {"name": "<b>Bold</b> Teapot &amp; Cups", "sku": "TRAP-HTML", "rate": 20, "product_type": "goods"}
    )
    marked_product = _cscart_create_product(
        sandbox_clean,
        {"product": "<i>Italic</i> Lamp <script>alert(1)</script>", "product_code": "TRAP-CSC-HTML", "price": "9"},
    )

    report = _sync(dags)
    links, by_cscart = _by_zoho(dags), _by_cscart(dags)
    products = cscart_products(sandbox_clean)
    # Names are plain text on both sides: tags and scripts removed, entities decoded, the record flagged.
    assert products[links[marked_item["item_id"]].cscart_id]["product"] == "Bold Teapot & Cups"
    assert links[marked_item["item_id"]].flags == {"markup_removed_product"}
    assert report[Z2C]["flags"] == {"markup_removed_product": 1}
    assert inventory.item(by_cscart[marked_product].zoho_id)["name"] == "Italic Lamp"
    assert by_cscart[marked_product].flags == {"markup_removed_name"}
    assert report[C2Z]["flags"] == {"markup_removed_name": 1}
    # The source keeps its markup: the cleaned copy is not written back.
    assert inventory.item(marked_item["item_id"])["name"] == "<b>Bold</b> Teapot &amp; Cups"
    # Unicode names travel unchanged; a CS-Cart HTML description becomes Zoho plain text without the script.
    assert products[links[ITEM_UNICODE].cscart_id]["product"] == "Café Crème ☕ Mug — “Limited”"
    unicode_item = inventory.item(by_cscart[PRODUCT_UNICODE_HTML].zoho_id)
    assert unicode_item["name"] == "Crème Brûlée Set 🍮 — “Édition”"
    assert unicode_item["description"] == "Made with love & butter."

    _assert_next_run_writes_nothing(dags, sandbox_clean)


# -- item groups -------------------------------------------------------------------------------------------------


def test_an_item_of_an_item_group_is_a_product_of_its_own_flagged_item_group(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch, {ACME: {"direction": Z2C}})
    inventory = InventoryReader(sandbox_clean, ACME)
    variants = [
        inventory.create({"name": f"Trap Tee - {size}", "sku": f"TRAP-TEE-{size}", "rate": 20, "product_type": "goods"})
        for size in ("S", "M")
    ]
    for variant in variants:
        _put_in_item_group(sandbox_clean, ACME, variant["item_id"], "3850050000900000001", "Trap Tee")
    assert inventory.item(variants[0]["item_id"])["group_id"] == "3850050000900000001"

    report = _sync(dags)
    links = _by_zoho(dags)
    products = cscart_products(sandbox_clean)
    for variant, size in zip(variants, ("S", "M"), strict=True):
        link = links[variant["item_id"]]
        assert link.flags == {"item_group"}, link
        row = products[link.cscart_id]
        assert (row["product"], row["product_code"], row["product_type"]) == (
            f"Trap Tee - {size}",
            f"TRAP-TEE-{size}",
            "P",
        )
    assert report[Z2C]["flags"] == {"item_group": 2}
    assert not any(link.flags for item_id, link in links.items() if item_id not in {v["item_id"] for v in variants})

    _assert_next_run_writes_nothing(dags, sandbox_clean)


# -- record_ids and dry runs -----------------------------------------------------------------------------------


def test_a_record_ids_run_zoho_to_cscart_syncs_just_those_items(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    store = dags.store()
    inventory = InventoryReader(sandbox_clean, ACME)
    _sync(dags)
    links, by_cscart = _by_zoho(dags), _by_cscart(dags)
    watermarks = {d: store.get_watermark(ACME, "products", d) for d in BOTH}
    new_item = inventory.create({"name": "Trap Record Ids", "sku": "TRAP-RIDS", "rate": 3, "product_type": "goods"})
    inventory.update(ITEM_GOODS, {"name": "Eco Backpack 0 (record_ids)"})
    inventory.update(ITEM_PLAIN, {"name": "Not in the record_ids"})
    cscart_update_product(sandbox_clean, PRODUCT_PLAIN, {"product": "Organic T-shirt (not sent)"})

    before = sandbox_clean.counters()
    report = _run(dags, record_ids=[ITEM_GOODS, new_item["item_id"]], direction=Z2C)
    assert set(report) == {Z2C}
    assert (report[Z2C]["extracted"], report[Z2C]["created"], report[Z2C]["updated"]) == (2, 1, 1), report
    assert new_writes(before, sandbox_clean.counters()) == {"POST /api/products": 1, "PUT /api/products/{id}": 1}
    products = cscart_products(sandbox_clean)
    assert products[links[ITEM_GOODS].cscart_id]["product"] == "Eco Backpack 0 (record_ids)"
    assert products[_by_zoho(dags)[new_item["item_id"]].cscart_id]["product_code"] == "TRAP-RIDS"
    assert products[links[ITEM_PLAIN].cscart_id]["product"] == "Rugged Yoga Mat 8"  # not in the record_ids
    assert inventory.item(by_cscart[PRODUCT_PLAIN].zoho_id)["name"] == "Organic T-shirt (10)"  # other direction
    assert {d: store.get_watermark(ACME, "products", d) for d in BOTH} == watermarks  # record_ids never move them

    # The next full run writes only the changes the record_ids run did not cover, then nothing.
    report = _sync(dags)
    assert (report[Z2C]["created"], report[Z2C]["updated"], report[C2Z]["created"], report[C2Z]["updated"]) == (
        0,
        1,
        0,
        1,
    ), report
    assert cscart_products(sandbox_clean)[links[ITEM_PLAIN].cscart_id]["product"] == "Not in the record_ids"

    _assert_next_run_writes_nothing(dags, sandbox_clean)


def test_a_record_ids_run_cscart_to_zoho_syncs_just_those_products(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    store = dags.store()
    inventory = InventoryReader(sandbox_clean, ACME)
    items_before = inventory.items()

    before = sandbox_clean.counters()
    report = _run(dags, record_ids=[PRODUCT_PLAIN], direction=C2Z)
    assert set(report) == {C2Z}
    assert (report[C2Z]["extracted"], report[C2Z]["created"], report[C2Z]["updated"]) == (1, 1, 0), report
    assert new_writes(before, sandbox_clean.counters()) == {"POST /inventory/v1/items": 1}
    created = {item_id: item for item_id, item in inventory.items().items() if item_id not in items_before}
    assert [item["sku"] for item in created.values()] == ["CSC-000010"]
    assert _by_cscart(dags)[PRODUCT_PLAIN].zoho_id in created
    assert store.get_watermark(ACME, "products", C2Z) is None  # record_ids never move it

    before = sandbox_clean.counters()
    again = _run(dags, record_ids=[PRODUCT_PLAIN], direction=C2Z)
    assert new_writes(before, sandbox_clean.counters()) == {}
    assert again[C2Z]["unchanged"] == 1


def test_dry_runs_write_nothing_in_either_direction_and_report_what_a_real_run_writes(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _dags(tmp_path, sandbox_clean, monkeypatch)
    store = dags.store()
    inventory = InventoryReader(sandbox_clean, ACME)
    products_before, items_before = cscart_products(sandbox_clean), inventory.items()

    before = sandbox_clean.counters()
    dry = _sync(dags, dry_run=True)
    assert new_writes(before, sandbox_clean.counters()) == {}
    assert (cscart_products(sandbox_clean), inventory.items()) == (products_before, items_before)
    assert _links(dags) == [] and all(store.get_watermark(ACME, "products", d) is None for d in BOTH)
    assert (dry[Z2C]["created"], dry[Z2C]["linked_existing"]) == (79, 1)
    # Nothing was created in CS-Cart, so the dry CS-Cart -> Zoho sees the store's own 120 products only.
    assert (dry[C2Z]["extracted"], dry[C2Z]["created"], dry[C2Z]["linked_existing"]) == (120, 119, 1)

    real = _sync(dags)
    assert (real[Z2C]["created"], real[Z2C]["linked_existing"], real[C2Z]["created"]) == (79, 1, 119)

    # A change on each side: the dry run reports one update per direction and sends none.
    inventory.update(ITEM_GOODS, {"name": "Eco Backpack 0 (dry)"})
    cscart_update_product(sandbox_clean, PRODUCT_PLAIN, {"product": "Organic T-shirt (dry)"})
    before = sandbox_clean.counters()
    dry = _sync(dags, dry_run=True)
    assert new_writes(before, sandbox_clean.counters()) == {}
    for direction in BOTH:
        assert (dry[direction]["created"], dry[direction]["updated"]) == (0, 1), dry
    assert cscart_products(sandbox_clean)[_by_zoho(dags)[ITEM_GOODS].cscart_id]["product"] == "Eco Backpack 0"
    assert inventory.item(_by_cscart(dags)[PRODUCT_PLAIN].zoho_id)["name"] == "Organic T-shirt (10)"

    before = sandbox_clean.counters()
    real = _sync(dags)
    assert new_writes(before, sandbox_clean.counters()) == {
        "PUT /api/products/{id}": 1,
        "PUT /inventory/v1/items/{id}": 1,
    }
    assert (real[Z2C]["updated"], real[C2Z]["updated"]) == (1, 1)

    _assert_next_run_writes_nothing(dags, sandbox_clean)


# -- conflicts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("master", ["zoho", "cscart"])
def test_a_product_edited_on_both_sides_ends_as_the_master_has_it(
    tmp_path, sandbox_clean, monkeypatch, airflow_db, master
):
    overrides = {} if master == "zoho" else {ACME: {"master": master}}  # zoho is the default
    dags = _dags(tmp_path, sandbox_clean, monkeypatch, overrides)
    inventory = InventoryReader(sandbox_clean, ACME)
    _sync(dags)
    item_id = _by_cscart(dags)[PRODUCT_PLAIN].zoho_id

    cscart_update_product(sandbox_clean, PRODUCT_PLAIN, {"product": "Edited in CS-Cart", "price": "1.11"})
    inventory.update(item_id, {"name": "Edited in Zoho", "rate": 2.22})
    before = sandbox_clean.counters()
    report = _sync(dags)
    assert report[Z2C]["conflicts"] == 1, report
    product, item = cscart_products(sandbox_clean)[PRODUCT_PLAIN], inventory.item(item_id)
    if master == "zoho":
        # Zoho's version overwrites the CS-Cart edit; the CS-Cart edit is reported, not sent to Zoho.
        assert new_writes(before, sandbox_clean.counters()) == {"PUT /api/products/{id}": 1}
        assert (report[Z2C]["updated"], report[C2Z]["updated"]) == (1, 0)
        assert (product["product"], product["price"]) == ("Edited in Zoho", "2.22")
        assert (item["name"], item["rate"]) == ("Edited in Zoho", 2.22)
    else:
        # CS-Cart's version wins: the Zoho edit is skipped, and CS-Cart's version is sent to Zoho.
        assert new_writes(before, sandbox_clean.counters()) == {"PUT /inventory/v1/items/{id}": 1}
        assert (report[Z2C]["skipped"], report[Z2C]["updated"], report[C2Z]["updated"]) == (1, 0, 1)
        assert (product["product"], product["price"]) == ("Edited in CS-Cart", "1.11")
        assert (item["name"], item["rate"]) == ("Edited in CS-Cart", 1.11)

    again = _assert_next_run_writes_nothing(dags, sandbox_clean)
    assert again[Z2C]["conflicts"] == 0
