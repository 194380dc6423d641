"""Seed data: every trap the issue lists, determinism, and the lazy 300,000-product generator."""

from __future__ import annotations

import time
import tracemalloc

from zoho_cscart_sandbox import seed
from zoho_cscart_sandbox.clock import SEED_NOW
from zoho_cscart_sandbox.lazy import LazyTable


def test_account_hierarchy_three_levels_deep():
    for tenant in ("acme_store", "northwind_vendor"):
        accounts = {a["id"]: a for a in seed.zoho_accounts(tenant)}
        depths = []
        for account in accounts.values():
            depth, current = 1, account
            while current["Parent_Account"] is not None:
                current = accounts[current["Parent_Account"]["id"]]
                depth += 1
            depths.append(depth)
        assert max(depths) >= 3
    names = {a["Account_Name"]: a for a in seed.zoho_accounts("acme_store")}
    assert names["Acme Berlin GmbH"]["Parent_Account"]["name"] == "Acme Europe"
    assert names["Acme Europe"]["Parent_Account"]["name"] == "Acme Holdings"


def test_contacts_without_email_sharing_email_unicode_and_html():
    for tenant in ("acme_store", "northwind_vendor"):
        contacts = seed.zoho_contacts(tenant)
        emails = [c["Email"] for c in contacts if c["Email"]]
        assert any(c["Email"] is None for c in contacts)
        assert len(emails) - len(set(emails)) >= 1
        assert any("🚀" in c["Full_Name"] for c in contacts)
        assert any(any(ord(ch) > 0x3000 for ch in c["Full_Name"]) for c in contacts)
        assert any(c["Description"] and "<b>" in c["Description"] for c in contacts)
    cscart_emails = {u["email"] for u in seed.cscart_users()}
    assert seed.SHARED_CUSTOMER_EMAIL in {c["Email"] for c in seed.zoho_contacts("acme_store")} & cscart_emails


def test_items_without_sku_clashing_sku_inactive_service_html():
    cscart_codes = {p["product_code"]: p for p in seed.cscart_products()}
    for tenant, vendor in seed.CSCART_VENDOR_OF_TENANT.items():
        items = seed.inventory_items(tenant)
        assert any(i["sku"] == "" and i["product_type"] == "goods" for i in items)
        clashing = [i for i in items if i["sku"] and i["sku"] in cscart_codes]
        assert clashing and all(cscart_codes[i["sku"]]["company_id"] == str(vendor) for i in clashing)
        assert any(i["status"] == "inactive" for i in items)
        assert any(i["product_type"] == "service" and "stock_on_hand" not in i for i in items)
        assert any("<strong>" in i["description"] for i in items)


def test_cscart_catalogue_traps_and_two_vendors():
    products = seed.cscart_products()
    assert {p["company_id"] for p in products} == {"1", "2"}
    assert [v["company_id"] for v in seed.cscart_vendors()] == ["1", "2"]
    assert any(p["product_code"] == "" for p in products)
    assert {p["status"] for p in products} == {"A", "D", "H"}
    assert any(int(p["amount"]) < 0 for p in products)
    assert any(p["tracking"] == "D" for p in products)
    assert any("<script>" in p["full_description"] and "🍮" in p["product"] for p in products)


def test_orders_in_every_status():
    cscart = seed.cscart_orders()
    assert {o["status"] for o in cscart} >= {"O", "P", "C", "F", "D", "B", "I", "Y", "T", "N"}
    assert any(o["user_id"] == "0" for o in cscart)  # guest order
    assert {o["Status"] for o in seed.zoho_sales_orders("acme_store")} == set(seed.CRM_SALES_ORDER_STATUSES)
    assert {o["status"] for o in seed.inventory_salesorders("acme_store")} == set(seed.INVENTORY_SO_STATUSES)


def test_modified_times_are_before_seed_now_and_spread_over_days():
    contacts = seed.zoho_contacts("acme_store")
    assert contacts[0]["Modified_Time"].endswith("-05:00")
    days = {c["Modified_Time"][:10] for c in contacts}
    assert len(days) > 20
    assert max(int(p["updated_timestamp"]) for p in seed.cscart_products()) < SEED_NOW.timestamp()


def test_seed_is_deterministic_and_seed_dependent():
    assert seed.zoho_contacts("acme_store") == seed.zoho_contacts("acme_store")
    assert seed.cscart_orders(seed=3) == seed.cscart_orders(seed=3)
    assert seed.cscart_products(seed=0)[50] != seed.cscart_products(seed=1)[50]
    assert seed.cscart_products(seed=0)[0]["product_code"] == seed.cscart_products(seed=1)[0]["product_code"]


def test_three_hundred_thousand_products_are_generated_on_demand():
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    tables = seed.cscart_tables(0, seed.resolve_scale({"products": 300_000}))
    products: LazyTable = tables["products"]
    sample = [products.get(str(i)) for i in (1, 150_000, 272_028, 300_000)]
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert products.count() == 300_000 and products.materialized_count() == 0
    assert products.get("300001") is None
    assert [p["product_id"] for p in sample] == ["1", "150000", "272028", "300000"]
    assert sample == [
        seed.cscart_tables(0, seed.resolve_scale({"products": 300_000}))["products"].get(p["product_id"])
        for p in sample
    ]
    assert after - before < 5_000_000  # nothing like 300,000 built records is held


def test_reset_to_large_scale_over_http_is_fast_and_lazy(sandbox_clean, cscart_admin):
    started = time.monotonic()
    sandbox_clean.reset(scale={"products": 300_000})
    assert time.monotonic() - started < 5
    deep = cscart_admin(
        "GET", "/products", params={"items_per_page": 100, "page": 3000, "sort_by": "timestamp", "sort_order": "asc"}
    ).json()
    assert deep["params"]["total_items"] == "300000"
    assert [p["product_id"] for p in deep["products"]][-1] == "300000"
    table = sandbox_clean.servers.cscart_state.tables["products"]
    assert table.materialized_count() == 0
    zoho_items = sandbox_clean.servers.zoho_state.finance["acme_store"]["items"]
    assert zoho_items.count() == 300_000 and zoho_items.materialized_count() == 0
    sandbox_clean.reset()
