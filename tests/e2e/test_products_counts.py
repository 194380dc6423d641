"""The products dashboard counts (the seeds' six tiles), stored by real DAG runs and checked against the sandbox.

Every number the runs store is recomputed here from what the sandbox holds, read over its HTTP APIs: CS-Cart's
products (one unpaged read), Zoho Inventory's items (paged to the end), and which of them are twins (both ids of
a pair exist on their sides). Every "change, then run" step is deterministic: a ``full_refresh`` or a
``record_ids`` run, never a window that depends on the wall clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.customers_support import _cscart_headers, _http_json, make_customers_dags, report_of
from tests.e2e.products_support import InventoryReader, calls_between, cscart_products

pytestmark = pytest.mark.integration

ACME = "acme_store"
VENDOR = "northwind_vendor"
VENDOR_COMPANY = "2"
PRODUCTS = "products"


def _run(dags: Any, tenant: str = ACME, **conf: Any) -> dict[str, Any]:
    run = dags.run(tenant, **conf)
    assert run.state == "success", report_of(run)
    return report_of(run)


def _stored(dags: Any, tenant: str = ACME) -> tuple[str, dict[str, Any]]:
    latest = dags.store().latest_run_counts(tenant, PRODUCTS)
    assert latest is not None
    counts = latest.counts
    names = ("cscart_total", "synced", "not_synced", "zoho_total", "not_in_cscart", "already_imported")
    return latest.run_id, {name: getattr(counts, name) for name in names} | {
        "zoho_counted_run_id": counts.zoho_counted_run_id
    }


def _twins(dags: Any, tenant: str, products: dict[str, Any], items: dict[str, Any]) -> list[Any]:
    """Links whose CS-Cart product and Inventory item both exist in the sandbox right now."""
    return [
        link
        for link in dags.store().list_links(tenant, PRODUCTS)
        if link.deleted_at is None and link.cscart_id in products and link.zoho_id in items
    ]


def _expected(
    products: dict[str, Any], items: dict[str, Any], twins: list[Any], imported_items: set[str]
) -> dict[str, int]:
    synced = len(twins)
    return {
        "cscart_total": len(products),
        "synced": synced,
        "not_synced": len(products) - synced,
        "zoho_total": len(items),
        "not_in_cscart": len(items) - synced,
        "already_imported": len([link for link in twins if link.zoho_id in imported_items]),
    }


def test_the_stored_counts_are_what_the_sandbox_holds_run_after_run(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    # A push bigger than the call budget leaves CS-Cart products unsynced (deferred to later runs), and an item whose
    # SKU is too long for CS-Cart stays out of it (quarantined): every tile has something to count.
    budget = {ACME: {"settings": {"inventory_calls_per_run": 10}}}
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, budget, entity=PRODUCTS)
    inventory = InventoryReader(sandbox_clean, ACME)
    inventory.create({"name": "SKU Too Long", "sku": "L" * 65, "rate": 1, "product_type": "goods"})
    items_before = inventory.items()
    assert dags.store().latest_run_counts(ACME, PRODUCTS) is None

    # 1. The first sync reads Inventory in full (full_refresh): the Zoho total is counted in this run. The items that
    # were in Zoho before it are the ones imported into CS-Cart; the CS-Cart products it pushed are new items.
    first = _run(dags, full_refresh=True)
    products, items = cscart_products(sandbox_clean), inventory.items()
    twins = _twins(dags, ACME, products, items)
    run_id, stored = _stored(dags)
    expected = _expected(products, items, twins, set(items_before))
    assert stored == {**expected, "zoho_counted_run_id": run_id}
    assert first["directions"]["cscart_to_zoho"]["deferred"] > 0
    assert 0 < stored["already_imported"] < stored["synced"] < stored["cscart_total"]
    assert stored["not_synced"] > 0 and stored["not_in_cscart"] == 1
    # The CS-Cart total came with the page CS-Cart -> Zoho read anyway: the counts cost no call.
    assert first["counts"]["api_calls"] == {}
    assert {k: v for k, v in first["counts"].items() if k in expected} == expected

    # 2. A new CS-Cart product pushed by a record_ids run: no full read of Zoho, so the Zoho total is carried from run
    # 1 plus the item this run created. No CS-Cart list was read, so its total costs one call of one row.
    created = _http_json(
        f"{sandbox_clean.cscart_url}/api/products",
        headers=_cscart_headers(sandbox_clean),
        method="POST",
        body={"product": "Counted Product", "product_code": "COUNT-1", "price": "9.50", "category_ids": [1]},
    )
    before = sandbox_clean.counters()
    pushed = _run(dags, direction="cscart_to_zoho", record_ids=[str(created["product_id"])])
    assert pushed["directions"]["cscart_to_zoho"]["created"] == 1
    assert calls_between(before, sandbox_clean.counters(), "/api/products") == 2  # the product, then the count
    assert pushed["counts"]["api_calls"] == {"cscart GET /api/products": 1}
    products, items = cscart_products(sandbox_clean), inventory.items()
    second_id, stored = _stored(dags)
    assert second_id != run_id
    assert stored == {
        **_expected(products, items, _twins(dags, ACME, products, items), set(items_before)),
        "zoho_counted_run_id": run_id,
    }

    # 3. An item created in Zoho by a person is invisible to the carried total until Zoho is read in full again.
    new_item = inventory.create({"name": "Made In Zoho", "sku": "COUNT-Z", "rate": 4, "product_type": "goods"})
    _run(dags, direction="cscart_to_zoho", record_ids=[str(created["product_id"])])
    _, stale = _stored(dags)
    assert stale["zoho_total"] == len(items) == len(inventory.items()) - 1
    imported = _run(dags, direction="zoho_to_cscart", full_refresh=True)
    assert imported["directions"]["zoho_to_cscart"]["created"] == 1
    products, items = cscart_products(sandbox_clean), inventory.items()
    third_id, stored = _stored(dags)
    imported_items = set(items_before) | {new_item["item_id"]}
    assert stored == {
        **_expected(products, items, _twins(dags, ACME, products, items), imported_items),
        "zoho_counted_run_id": third_id,
    }
    # The history keeps every run's counts, newest first.
    history = [row.run_id for row in dags.store().list_run_counts(ACME, PRODUCTS)]
    assert history[0] == third_id and history[-1] == run_id and len(history) == 4


def test_a_vendor_tenant_counts_only_its_company(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, entity=PRODUCTS)
    inventory = InventoryReader(sandbox_clean, VENDOR)
    items_before = inventory.items()

    _run(dags, VENDOR, full_refresh=True)

    own = {pid: row for pid, row in cscart_products(sandbox_clean).items() if row["company_id"] == VENDOR_COMPANY}
    assert len(own) < len(cscart_products(sandbox_clean))
    items = inventory.items()
    run_id, stored = _stored(dags, VENDOR)
    expected = _expected(own, items, _twins(dags, VENDOR, own, items), set(items_before))
    assert stored == {**expected, "zoho_counted_run_id": run_id}
