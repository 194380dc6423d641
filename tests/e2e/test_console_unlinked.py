"""The "Not in CS-Cart" list kept by real DAG runs against the sandbox: after a full Zoho -> CS-Cart read it holds
exactly the Inventory items that did not reach CS-Cart (as many as the stored ``not_in_cscart`` tile), with why; a
``record_ids`` run that imports one takes it off the list, and the console's "Import selected" conf is such a run."""

from __future__ import annotations

import pytest

from tests.e2e.customers_support import make_customers_dags, report_of
from tests.e2e.products_support import InventoryReader

pytestmark = pytest.mark.integration

ACME = "acme_store"
PRODUCTS = "products"
Z2C = "zoho_to_cscart"


def test_the_list_holds_what_a_full_read_left_out_and_an_import_run_takes_it_off(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, entity=PRODUCTS)
    inventory = InventoryReader(sandbox_clean, ACME)
    long_sku = inventory.create({"name": "SKU Too Long", "sku": "L" * 65, "rate": 1, "product_type": "goods"})

    run = dags.run(ACME, direction=Z2C, full_refresh=True)
    assert run.state == "success", report_of(run)
    store = dags.store()
    [listed] = store.unlinked_page(ACME, PRODUCTS)
    assert listed.zoho_id == long_sku["item_id"] and listed.stream == "items"
    assert listed.label == f"SKU Too Long · {'L' * 65}"
    assert listed.reason is not None and listed.reason.startswith("quarantined (content):")
    assert listed.run_id == run.run_id
    latest = store.latest_run_counts(ACME, PRODUCTS)
    assert latest is not None and latest.counts.not_in_cscart == store.count_unlinked(ACME, PRODUCTS) == 1

    # Fixed in Zoho, then imported by the run "Import selected" asks for on this two-way DAG: Zoho -> CS-Cart, its id.
    inventory.update(long_sku["item_id"], {"sku": "FIXED-1"})
    imported = dags.run(ACME, direction=Z2C, record_ids=[long_sku["item_id"]])
    assert report_of(imported)["directions"][Z2C]["created"] == 1
    assert store.unlinked_page(ACME, PRODUCTS) == [] and store.count_unlinked(ACME, PRODUCTS) == 0
