"""The products DAGs of the sample tenants, run through Airflow (dag.test) against the sandbox over HTTP."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.customers_support import directions_of, make_customers_dags
from tests.e2e.products_support import (
    InventoryReader,
    calls_between,
    cscart_place_order,
    cscart_products,
    cscart_update_product,
    new_writes,
)

pytestmark = pytest.mark.integration

ACME = "acme_store"
VENDOR = "northwind_vendor"


@pytest.fixture
def acme(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    return make_customers_dags(tmp_path, sandbox_clean, monkeypatch, entity="products")


def _codes(products: dict) -> Counter:
    return Counter(str(row.get("product_code") or "").strip() for row in products.values())


def test_both_directions_land_every_record_once_and_a_second_run_writes_nothing(acme, sandbox_clean):
    inventory = InventoryReader(sandbox_clean, ACME)
    items_before = inventory.items()
    products_before = cscart_products(sandbox_clean)

    run = acme.run(ACME, full_refresh=True)
    assert run.state == "success"
    report = directions_of(run)
    z2c, c2z = report["zoho_to_cscart"], report["cscart_to_zoho"]

    products = cscart_products(sandbox_clean)
    items = inventory.items()
    # Every Inventory SKU is exactly one CS-Cart product code, and every CS-Cart code exactly one Inventory SKU.
    skus = Counter(str(item.get("sku") or "") for item in items.values())
    codes = _codes(products)
    assert all(codes[sku] == 1 for sku in skus if sku), {sku: codes[sku] for sku in skus if sku and codes[sku] != 1}
    assert all(skus[code] == 1 for code in codes if code), {c: skus[c] for c in codes if c and skus[c] != 1}
    # The SKU trap: the item whose SKU was already a CS-Cart product code adopted that product.
    store = acme.store()
    links = {link.zoho_id: link for link in store.list_links(ACME, "products")}
    clash = next(item for item in items_before.values() if item["sku"] == "CSC-000001")
    assert links[clash["item_id"]].cscart_id == "1"
    assert z2c["linked_existing"] >= 1
    # Items without SKU became products of their own, linked by id.
    no_sku = [item["item_id"] for item in items_before.values() if not item["sku"]]
    assert no_sku and all(links[item_id].cscart_id for item_id in no_sku)
    # Stock, status and services.
    for item_id, item in items_before.items():
        product = products[links[item_id].cscart_id]
        assert product["status"] == ("A" if item["status"] == "active" else "D"), item_id
        if item["product_type"] == "service":
            assert product["tracking"] == "D", item_id
        else:
            assert int(product["amount"]) == int(item["stock_on_hand"]), item_id
    # CS-Cart -> Zoho: the store's own products became items with their stock as opening stock.
    new_items = {item_id: item for item_id, item in items.items() if item_id not in items_before}
    assert c2z["created"] == len(new_items) > 0
    by_sku = {item["sku"]: item for item in new_items.values() if item.get("sku")}
    pushed = [product for product in products_before.values() if product["product_code"] in by_sku]
    assert len(pushed) == len(by_sku)
    for product in pushed:
        item = inventory.item(by_sku[product["product_code"]]["item_id"])
        if product["tracking"] == "B":
            assert (item["product_type"], item["stock_on_hand"]) == ("goods", int(product["amount"])), product
        else:
            assert item["product_type"] == "service" and "stock_on_hand" not in item, product

    counters_before = sandbox_clean.counters()
    rerun = acme.run(ACME, full_refresh=True)
    assert rerun.state == "success"
    again = directions_of(rerun)
    for direction in ("zoho_to_cscart", "cscart_to_zoho"):
        assert again[direction]["created"] == again[direction]["updated"] == 0, again[direction]
    assert new_writes(counters_before, sandbox_clean.counters()) == {}
    assert cscart_products(sandbox_clean) == products


def test_an_idle_run_costs_one_list_call_per_direction_and_a_change_travels_once(acme, sandbox_clean):
    assert acme.run(ACME, full_refresh=True).state == "success"
    inventory = InventoryReader(sandbox_clean, ACME)

    before = sandbox_clean.counters()
    idle = acme.run(ACME)  # manual run: from the watermarks to now
    assert idle.state == "success"
    after = sandbox_clean.counters()
    assert calls_between(before, after, "/api/products") == 1
    assert calls_between(before, after, "/inventory/v1/") == 1
    assert new_writes(before, after) == {}

    # A CS-Cart edit reaches Inventory, and is not echoed back into CS-Cart.
    links = {link.cscart_id: link for link in acme.store().list_links(ACME, "products")}
    product_id = next(pid for pid, link in links.items() if link.zoho_id and pid == "10")
    cscart_update_product(sandbox_clean, product_id, {"product": "Renamed In CS-Cart", "price": "12.34"})
    changed = acme.run(ACME)
    assert changed.state == "success"
    report = directions_of(changed)
    assert report["cscart_to_zoho"]["updated"] == 1, {d: {k: v for k, v in r.items() if v} for d, r in report.items()}
    assert report["zoho_to_cscart"]["updated"] == 0, {d: {k: v for k, v in r.items() if v} for d, r in report.items()}
    item = inventory.item(links[product_id].zoho_id)
    assert (item["name"], float(item["rate"])) == ("Renamed In CS-Cart", 12.34)

    # A Zoho stock movement (fractional) reaches CS-Cart rounded down, and is not echoed back into Zoho.
    inventory.adjust_stock(links[product_id].zoho_id, 2.75)
    moved = acme.run(ACME)
    assert moved.state == "success"
    report = directions_of(moved)
    assert report["zoho_to_cscart"]["updated"] == 1 and report["cscart_to_zoho"]["updated"] == 0, report
    stock = float(inventory.item(links[product_id].zoho_id)["stock_on_hand"])
    assert int(cscart_products(sandbox_clean)[product_id]["amount"]) == int(stock // 1)


def test_vendor_tenant_touches_only_its_company(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, entity="products")
    others_before = {pid: row for pid, row in cscart_products(sandbox_clean).items() if row["company_id"] != "2"}

    run = dags.run(VENDOR, full_refresh=True)
    assert run.state == "success", directions_of(run)

    after = cscart_products(sandbox_clean)
    # Nothing of another company changed, and everything the vendor created is its own.
    assert {pid: row for pid, row in after.items() if pid in others_before} == others_before
    created = {pid: row for pid, row in after.items() if pid not in others_before and row["company_id"] != "2"}
    assert created == {}
    links = list(dags.store().list_links(VENDOR, "products"))
    assert links and all(after[link.cscart_id]["company_id"] == "2" for link in links if link.cscart_id)


def test_a_push_bigger_than_the_call_budget_resumes_run_after_run_and_then_moves_the_watermark(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    budget = 30
    dags = make_customers_dags(
        tmp_path,
        sandbox_clean,
        monkeypatch,
        {ACME: {"direction": "cscart_to_zoho", "settings": {"inventory_calls_per_run": budget}}},
        entity="products",
    )
    store = dags.store()
    products = cscart_products(sandbox_clean)
    to_push = {row["product_code"] for row in products.values()}
    runs = []
    before = sandbox_clean.counters()
    run = dags.run(ACME, full_refresh=True)
    while True:
        after = sandbox_clean.counters()
        assert run.state == "success"
        report = directions_of(run)["cscart_to_zoho"]
        runs.append(report)
        # Each run stays inside its budget of Inventory calls (one create is one call).
        assert calls_between(before, after, "/inventory/v1/") <= budget, report
        backlog = store.get_backlog(ACME, "products", "cscart_to_zoho")
        if not report.get("deferred"):
            break
        assert (
            backlog is not None and backlog.since is None and backlog.done == report["extracted"] - report["deferred"]
        )
        assert store.get_watermark(ACME, "products", "cscart_to_zoho") is None  # held while the backlog lasts
        assert len(runs) < 10, runs
        before = after
        run = dags.run(ACME)  # a manual run without bounds: it reads the backlog too

    assert len(runs) >= 5  # 120 products; 27 a run leave room for one record's worst case (3 calls)
    # Every product was written once: created, or adopted (the seed's item with the same SKU).
    assert sum(r["created"] + r["linked_existing"] for r in runs) == len(products)
    assert store.get_backlog(ACME, "products", "cscart_to_zoho") is None
    assert store.get_watermark(ACME, "products", "cscart_to_zoho") is not None
    items = InventoryReader(sandbox_clean, ACME).items()
    skus = Counter(str(item.get("sku") or "") for item in items.values())
    assert all(skus[code] == 1 for code in to_push if code), {c: skus[c] for c in to_push if c and skus[c] != 1}
    # Progress and ETA were reported on the way.
    assert runs[0]["deferred"] == len(products) - runs[0]["created"] - runs[0]["updated"]


def test_with_cscart_as_stock_master_an_order_moves_inventory_stock_by_an_adjustment(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_customers_dags(
        tmp_path, sandbox_clean, monkeypatch, {ACME: {"settings": {"stock_master": "cscart"}}}, entity="products"
    )
    assert dags.run(ACME, full_refresh=True).state == "success"
    inventory = InventoryReader(sandbox_clean, ACME)
    links = {link.cscart_id: link for link in dags.store().list_links(ACME, "products")}
    product_id = "10"
    item_id = links[product_id].zoho_id
    amount = int(cscart_products(sandbox_clean)[product_id]["amount"])
    assert float(inventory.item(item_id)["stock_on_hand"]) == amount

    # A CS-Cart order takes 3 from stock; CS-Cart does not touch the product's updated_timestamp.
    cscart_place_order(sandbox_clean, product_id, 3, email="stock.buyer@example.com")
    assert int(cscart_products(sandbox_clean)[product_id]["amount"]) == amount - 3

    run = dags.run(ACME)
    assert run.state == "success"
    report = directions_of(run)
    assert report["cscart_to_zoho"]["stock_adjusted"] == 1, report
    assert report["cscart_to_zoho"]["updated"] == 0 and report["zoho_to_cscart"]["updated"] == 0, report
    assert float(inventory.item(item_id)["stock_on_hand"]) == amount - 3

    # CS-Cart's timestamps are whole seconds, so the window right after the order still holds its second (read
    # twice, harmlessly); one more run moves the watermark past it.
    settle = dags.run(ACME)
    assert settle.state == "success" and directions_of(settle)["cscart_to_zoho"]["stock_adjusted"] == 0

    # Zoho's stock changes do not overwrite the master's (CS-Cart keeps its amount) and nothing echoes; Zoho
    # is put right at the product's next order or edit, or at the daily reconciliation.
    inventory.adjust_stock(item_id, 5)
    before = sandbox_clean.counters()
    quiet = dags.run(ACME)
    assert quiet.state == "success"
    assert int(cscart_products(sandbox_clean)[product_id]["amount"]) == amount - 3
    assert new_writes(before, sandbox_clean.counters()) == {}
