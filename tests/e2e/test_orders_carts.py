"""Multi-Vendor carts through real DAG runs (dag.test) of the products and then the orders DAG over HTTP.

The sandbox's split cart: parent order 9 (hidden, status ``T``, no vendor) with vendor orders 10 (company 1) and 11
(company 2). ``entities.orders.settings.multivendor_carts`` chooses what goes to Zoho: each vendor order (default)
or the cart's parent once, its status derived from its vendor orders'. A sales order imported from Zoho with the
products of two vendors becomes such a cart in CS-Cart, and its vendor orders never come back to Zoho as new ones.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.customers_support import _cscart_headers, _http_json, directions_of
from tests.e2e.orders_support import SalesOrders, cscart_orders, cscart_set_order_status, make_orders_dags
from tests.e2e.products_support import new_writes

pytestmark = pytest.mark.integration

ACME = "acme_store"
PARENT, VENDOR_ORDERS = "9", ("10", "11")
WHOLE_CARTS = {ACME: {"settings": {"multivendor_carts": "parent_order"}}}


def _lines(order: dict[str, Any]) -> list[tuple[str, float]]:
    return sorted((str(line["product"]), float(line["amount"])) for line in order["products"].values())


def test_parent_order_setting_sends_the_cart_once_with_every_line_and_a_derived_status(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch, WHOLE_CARTS)
    assert dags.products.run(ACME, full_refresh=True).state == "success"
    for order_id in VENDOR_ORDERS:  # the cart is open in both vendors' orders: a draft in Zoho
        cscart_set_order_status(sandbox_clean, order_id, "O")
    placed = cscart_orders(sandbox_clean)
    parent = cscart_orders(sandbox_clean, order_id=PARENT)  # hidden from lists
    assert parent == {}, "CS-Cart lists never show a parent order"
    run = dags.orders.run(ACME, full_refresh=True, direction="cscart_to_zoho")
    assert run.state == "success"
    assert directions_of(run)["cscart_to_zoho"]["failed"] == 0

    reader = SalesOrders(sandbox_clean, ACME)
    by_reference = reader.by_reference()
    assert not {f"CSC-{oid}" for oid in VENDOR_ORDERS} & set(by_reference), "vendor orders of a cart are not sent"
    [row] = by_reference[f"CSC-{PARENT}"]
    cart = reader.salesorder(row["salesorder_id"])
    expected_lines = sorted(line for oid in VENDOR_ORDERS for line in _lines(placed[oid]))
    assert sorted((line["name"], float(line["quantity"])) for line in cart["line_items"]) == expected_lines
    # Orders outside any cart still go one by one.
    assert f"CSC-{placed['1']['order_id']}" in by_reference

    # The status follows the vendor orders: one paid makes the cart confirmed...
    assert cart["status"] == "draft"
    cscart_set_order_status(sandbox_clean, "10", "P")
    assert dags.orders.run(ACME, record_ids=["10"], direction="cscart_to_zoho").state == "success"
    assert reader.salesorder(row["salesorder_id"])["status"] == "confirmed"
    # ...and the cart is void only when every vendor order is (Inventory cannot void a confirmed order back, so
    # the cancellation of one vendor order alone leaves it confirmed).
    cscart_set_order_status(sandbox_clean, "11", "I")
    assert dags.orders.run(ACME, record_ids=["11"], direction="cscart_to_zoho").state == "success"
    assert reader.salesorder(row["salesorder_id"])["status"] == "confirmed"
    cscart_set_order_status(sandbox_clean, "10", "I")
    assert dags.orders.run(ACME, record_ids=["10", "11"], direction="cscart_to_zoho").state == "success"
    assert reader.salesorder(row["salesorder_id"])["status"] == "void"
    assert len(reader.by_reference()[f"CSC-{PARENT}"]) == 1

    # Nothing more to write, by window or in full.
    before = sandbox_clean.counters()
    assert dags.orders.run(ACME, full_refresh=True, direction="cscart_to_zoho").state == "success"
    assert new_writes(before, sandbox_clean.counters()) == {}


def test_vendor_orders_setting_sends_each_vendor_order_even_when_the_parent_is_asked_for(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch)
    assert dags.products.run(ACME, full_refresh=True).state == "success"
    run = dags.orders.run(ACME, record_ids=[PARENT], direction="cscart_to_zoho")
    assert run.state == "success"
    by_reference = SalesOrders(sandbox_clean, ACME).by_reference()
    assert f"CSC-{PARENT}" not in by_reference
    assert all(len(by_reference[f"CSC-{oid}"]) == 1 for oid in VENDOR_ORDERS), sorted(by_reference)
    assert directions_of(run)["cscart_to_zoho"]["created"] == 2


def test_a_vendor_tenant_cannot_send_whole_carts(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    from zoho_cscart_sync.kit.context import EntitySettingsError, entity_settings
    from zoho_cscart_sync.pipelines.orders import ORDERS
    from zoho_cscart_sync.tenants import load_tenant

    vendor = "northwind_vendor"
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch, {vendor: WHOLE_CARTS[ACME]})
    tenant = load_tenant(dags.orders.tenants_dir, vendor)
    assert tenant.company_id is not None
    with pytest.raises(EntitySettingsError) as refused:
        entity_settings(ORDERS, tenant, dags.orders.tenants_dir)
    message = str(refused.value)
    assert vendor in message and "multivendor_carts" in message and "whole-store" in message


def test_a_zoho_order_with_two_vendors_products_is_imported_once_and_its_vendor_orders_never_echo(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch)
    assert dags.products.run(ACME, full_refresh=True).state == "success"
    store = dags.store()
    # Two Inventory items linked to CS-Cart products of different vendors.
    by_vendor: dict[str, str] = {}
    products = _http_json(
        f"{sandbox_clean.cscart_url}/api/products?items_per_page=0&status=A",
        headers=_cscart_headers(sandbox_clean),
    )["products"]
    for product in products:
        link = store.get_link(ACME, "products", cscart_id=str(product["product_id"]))
        if link is not None and link.zoho_id and float(product.get("amount") or 0) > 5:
            by_vendor.setdefault(str(product["company_id"]), link.zoho_id)
    assert len(by_vendor) >= 2, by_vendor
    reader = SalesOrders(sandbox_clean, ACME)
    customer_id = next(iter(reader.salesorders().values()))["customer_id"]
    body = {
        "customer_id": customer_id,
        "reference_number": "WEB-CART-1",
        "line_items": [{"item_id": item, "quantity": 1, "rate": 10} for item in list(by_vendor.values())[:2]],
    }
    created = _http_json(reader._url("salesorders"), headers=reader.headers, method="POST", body=body)["salesorder"]
    reader.set_status(created["salesorder_id"], "confirmed")
    before_orders = set(cscart_orders(sandbox_clean))

    run = dags.orders.run(ACME, full_refresh=True)
    assert run.state == "success"
    parent_id = store.get_link(ACME, "orders", zoho_id=created["salesorder_id"]).cscart_id
    new_orders = {
        oid: o
        for oid, o in cscart_orders(sandbox_clean).items()
        if oid not in before_orders and o["parent_order_id"] == parent_id
    }
    # CS-Cart split it: the link holds the hidden parent order, and each vendor has its own order of the cart.
    assert parent_id not in cscart_orders(sandbox_clean)
    assert {o["company_id"] for o in new_orders.values()} == set(list(by_vendor)[:2]), new_orders
    # Neither vendor order went back to Zoho as a new sales order, in this run or the next.
    references = set(reader.by_reference())
    assert not {f"CSC-{oid}" for oid in new_orders} & references
    before = sandbox_clean.counters()
    assert dags.orders.run(ACME, full_refresh=True).state == "success"
    assert new_writes(before, sandbox_clean.counters()) == {}
    assert not {f"CSC-{oid}" for oid in new_orders} & set(reader.by_reference())
