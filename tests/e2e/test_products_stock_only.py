""" "Sync stock" runs (trigger param ``stock_only``) through Airflow (dag.test) against the sandbox over HTTP.

A stock-only run moves stock from the tenant's stock master to the other side and nothing else: other changes
of the same products wait for the next ordinary run, the direction that moves no stock reads nothing, the
watermark stays, and running it again writes nothing. Every run here is a full refresh (no wall-clock window).
"""

from __future__ import annotations

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
PRODUCT_ID = "10"


def _linked(dags):
    return {link.cscart_id: link for link in dags.store().list_links(ACME, "products")}


def _watermarks(dags):
    store = dags.store()
    return {d: store.get_watermark(ACME, "products", d) for d in ("zoho_to_cscart", "cscart_to_zoho")}


def test_stock_only_with_zoho_as_master_sets_cscart_amount_alone(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, entity="products")
    assert dags.run(ACME, full_refresh=True).state == "success"
    inventory = InventoryReader(sandbox_clean, ACME)
    item_id = _linked(dags)[PRODUCT_ID].zoho_id
    name_before = cscart_products(sandbox_clean)[PRODUCT_ID]["product"]
    # In Zoho the item gets 7 more in stock and a new name; in CS-Cart another product is renamed.
    inventory.adjust_stock(item_id, 7)
    inventory.update(item_id, {"name": "Renamed In Zoho"})
    cscart_update_product(sandbox_clean, "11", {"product": "Renamed In CS-Cart"})
    stock = int(float(inventory.item(item_id)["stock_on_hand"]))
    marks = _watermarks(dags)

    before = sandbox_clean.counters()
    run = dags.run(ACME, full_refresh=True, stock_only=True)
    after = sandbox_clean.counters()

    assert run.state == "success"
    report = directions_of(run)
    assert report["zoho_to_cscart"].get("stock_adjusted") == 1, report
    product = cscart_products(sandbox_clean)[PRODUCT_ID]
    assert (int(product["amount"]), product["product"]) == (stock, name_before)  # stock only, not the name
    assert new_writes(before, after) == {"PUT /api/products/{id}": 1}
    # CS-Cart is not the stock master: the CS-Cart -> Zoho direction read nothing, so its rename stays behind.
    assert calls_between(before, after, "/inventory/v1/items") >= 1  # the Zoho side was read (all items)
    assert inventory.item(_linked(dags)["11"].zoho_id)["name"] != "Renamed In CS-Cart"
    assert _watermarks(dags) == marks  # the next ordinary run still reads this window

    again = sandbox_clean.counters()
    rerun = dags.run(ACME, full_refresh=True, stock_only=True)
    assert rerun.state == "success"
    assert new_writes(again, sandbox_clean.counters()) == {}

    # The next ordinary run moves what the stock-only run left: the Zoho name, the CS-Cart rename.
    assert dags.run(ACME, full_refresh=True).state == "success"
    assert cscart_products(sandbox_clean)[PRODUCT_ID]["product"] == "Renamed In Zoho"
    assert inventory.item(_linked(dags)["11"].zoho_id)["name"] == "Renamed In CS-Cart"


def test_stock_only_with_cscart_as_master_adjusts_inventory_and_nothing_else(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_customers_dags(
        tmp_path, sandbox_clean, monkeypatch, {ACME: {"settings": {"stock_master": "cscart"}}}, entity="products"
    )
    assert dags.run(ACME, full_refresh=True).state == "success"
    inventory = InventoryReader(sandbox_clean, ACME)
    item_id = _linked(dags)[PRODUCT_ID].zoho_id
    amount = int(cscart_products(sandbox_clean)[PRODUCT_ID]["amount"])
    # A CS-Cart order takes 3 from stock (updated_timestamp untouched); the product is also renamed, and an
    # Inventory item is renamed on the Zoho side.
    cscart_place_order(sandbox_clean, PRODUCT_ID, 3, email="stock.only@example.com")
    cscart_update_product(sandbox_clean, PRODUCT_ID, {"product": "Renamed In CS-Cart"})
    other_item = _linked(dags)["11"].zoho_id
    inventory.update(other_item, {"name": "Renamed In Zoho"})
    marks = _watermarks(dags)

    before = sandbox_clean.counters()
    run = dags.run(ACME, full_refresh=True, stock_only=True)
    after = sandbox_clean.counters()

    assert run.state == "success"
    report = directions_of(run)
    assert report["cscart_to_zoho"].get("stock_adjusted") == 1, report
    item = inventory.item(item_id)
    assert float(item["stock_on_hand"]) == amount - 3
    assert item["name"] != "Renamed In CS-Cart"  # stock only: the rename waits
    assert new_writes(before, after) == {"POST /inventory/v1/inventoryadjustments": 1}
    assert cscart_products(sandbox_clean)["11"]["product"] != "Renamed In Zoho"
    assert _watermarks(dags) == marks

    again = sandbox_clean.counters()
    assert dags.run(ACME, full_refresh=True, stock_only=True).state == "success"
    assert new_writes(again, sandbox_clean.counters()) == {}


def test_only_the_products_dag_offers_stock_only(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    products = make_customers_dags(tmp_path / "p", sandbox_clean, monkeypatch, entity="products")
    customers = make_customers_dags(tmp_path / "c", sandbox_clean, monkeypatch, entity="customers")
    assert products.dag(ACME).params["stock_only"] is False
    assert "stock_only" not in customers.dag(ACME).params
