"""Zoho Inventory v1 / Books v3: organization_id, page_context, string ids, +0530 timestamps, traps, limits."""

from __future__ import annotations

import json
import re

import requests

from zoho_cscart_sandbox import seed

NO_COLON_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")


def test_organization_id_is_required(acme_zoho):
    url = f"{acme_zoho.sandbox.zoho_api_url}/inventory/v1/items"
    missing = acme_zoho.session.get(url, timeout=10)
    assert missing.status_code == 400 and missing.json()["code"] == 6041
    header = acme_zoho.session.get(
        url, headers={"X-com-zoho-inventory-organizationid": acme_zoho.creds.organization_id}, timeout=10
    )
    assert header.status_code == 200


def test_auth_errors_use_numeric_codes(sandbox_clean):
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    url = f"{sandbox_clean.zoho_api_url}/inventory/v1/items"
    response = requests.get(url, params={"organization_id": creds.organization_id}, timeout=10)  # no token
    assert (response.status_code, response.json()["code"]) == (401, 14)


def test_pagination_uses_has_more_page_and_caps_per_page(acme_zoho):
    first = acme_zoho.inventory("GET", "/items", params={"per_page": 50}).json()
    assert first["code"] == 0 and first["message"] == "success"
    assert first["page_context"]["has_more_page"] is True and len(first["items"]) == 50
    last = acme_zoho.inventory("GET", "/items", params={"per_page": 50, "page": 2}).json()
    assert last["page_context"]["has_more_page"] is False and len(last["items"]) == 30
    capped = acme_zoho.inventory("GET", "/items", params={"per_page": 500}).json()
    assert capped["page_context"]["per_page"] == 200


def test_ids_are_strings_beyond_2_53_and_timestamps_have_no_colon(acme_zoho):
    raw = acme_zoho.inventory("GET", "/items", params={"per_page": 1}).text
    item = json.loads(raw)["items"][0]
    assert isinstance(item["item_id"], str) and int(item["item_id"]) > 2**53
    assert f'"item_id":"{item["item_id"]}"' in raw.replace(" ", "")
    assert NO_COLON_OFFSET.match(item["last_modified_time"]) and item["last_modified_time"].endswith("-0500")
    northwind_item = seed.inventory_items("northwind_vendor")[0]
    assert northwind_item["created_time"].endswith("+0530")


def test_item_traps(acme_zoho):
    items = {i["item_id"]: i for i in seed.inventory_items("acme_store")}
    rows = acme_zoho.inventory("GET", "/items", params={"per_page": 200}).json()["items"]
    assert [r["item_id"] for r in rows] == list(items)
    assert rows[1]["sku"] == ""  # item without SKU
    assert rows[2]["sku"] == "CSC-000001"  # SKU already used as a CS-Cart product code
    assert rows[3]["status"] == "inactive"
    assert rows[4]["product_type"] == "service" and "stock_on_hand" not in rows[4]
    assert "<strong>" in rows[5]["description"]
    assert "☕" in rows[6]["name"]
    inactive = acme_zoho.inventory("GET", "/items", params={"filter_by": "Status.Inactive"}).json()["items"]
    assert {r["status"] for r in inactive} == {"inactive"} and rows[3]["item_id"] in {r["item_id"] for r in inactive}
    services = acme_zoho.inventory("GET", "/items", params={"filter_by": "ItemType.Service"}).json()["items"]
    assert rows[4]["item_id"] in {r["item_id"] for r in services}


def test_item_create_duplicate_sku_and_status_endpoints(acme_zoho):
    created = acme_zoho.inventory(
        "POST", "/items", json={"name": "New Mug", "sku": "NEW-1", "rate": 12, "initial_stock": 7}
    )
    item = created.json()["item"]
    assert created.json()["message"] == "The item has been added." and item["stock_on_hand"] == 7
    duplicate = acme_zoho.inventory("POST", "/items", json={"name": "Other", "sku": "new-1"})
    assert duplicate.status_code == 400 and duplicate.json()["code"] == 1001
    inactive = acme_zoho.inventory("POST", f"/items/{item['item_id']}/inactive")
    assert inactive.json()["message"] == "The item has been marked as Inactive."
    assert acme_zoho.inventory("GET", f"/items/{item['item_id']}").json()["item"]["status"] == "inactive"
    sku = acme_zoho.inventory("GET", "/items", params={"sku": "NEW-1"}).json()["items"]
    assert [r["item_id"] for r in sku] == [item["item_id"]]
    assert acme_zoho.inventory("GET", "/items/3850050000199999999").status_code == 404


def test_stock_changes_through_adjustments_only(acme_zoho):
    item = seed.inventory_items("acme_store")[0]
    ignored = acme_zoho.inventory("PUT", f"/items/{item['item_id']}", json={"stock_on_hand": 999, "rate": 1.5})
    assert ignored.json()["item"]["stock_on_hand"] == item["stock_on_hand"]
    assert ignored.json()["item"]["rate"] == 1.5
    adjustment = acme_zoho.inventory(
        "POST",
        "/inventoryadjustments",
        json={
            "date": "2026-11-20",
            "reason": "Recount",
            "adjustment_type": "quantity",
            "line_items": [{"item_id": item["item_id"], "quantity_adjusted": -5}],
        },
    )
    assert adjustment.json()["inventory_adjustment"]["line_items"][0]["quantity_adjusted"] == -5
    after = acme_zoho.inventory("GET", f"/items/{item['item_id']}").json()["item"]
    assert after["stock_on_hand"] == item["stock_on_hand"] - 5
    service = seed.inventory_items("acme_store")[4]
    refused = acme_zoho.inventory(
        "POST",
        "/inventoryadjustments",
        json={
            "date": "2026-11-20",
            "reason": "x",
            "adjustment_type": "quantity",
            "line_items": [{"item_id": service["item_id"], "quantity_adjusted": 1}],
        },
    )
    assert refused.status_code == 400


def test_last_modified_time_filter(acme_zoho):
    items = seed.inventory_items("acme_store")
    pivot = items[70]["last_modified_time"]
    rows = acme_zoho.inventory("GET", "/items", params={"last_modified_time": pivot}).json()["items"]
    assert [r["item_id"] for r in rows] == [i["item_id"] for i in items[70:]]


def test_sales_orders_statuses_and_transitions(acme_zoho):
    orders = seed.inventory_salesorders("acme_store")
    assert {o["status"] for o in orders} == {"draft", "confirmed", "void", "closed", "fulfilled"}
    assert any(o["reference_number"] for o in orders) and any(not o["reference_number"] for o in orders)
    draft = next(o for o in orders if o["status"] == "draft")
    confirmed = acme_zoho.inventory("POST", f"/salesorders/{draft['salesorder_id']}/status/confirmed")
    assert confirmed.json()["message"] == "Sales order status has been changed to 'Confirmed'."
    again = acme_zoho.inventory("POST", f"/salesorders/{draft['salesorder_id']}/status/confirmed")
    assert again.status_code == 400
    voided = acme_zoho.inventory("POST", f"/salesorders/{draft['salesorder_id']}/status/void")
    assert voided.json()["message"] == "The status of the Sales Order has been changed to void."
    listed = acme_zoho.inventory("GET", "/salesorders", params={"filter_by": "Status.Void"}).json()["salesorders"]
    assert draft["salesorder_id"] in {o["salesorder_id"] for o in listed}


def test_sales_order_create_with_reference_number(acme_zoho):
    contact = seed.inventory_contacts("acme_store")[0]
    item = seed.inventory_items("acme_store")[0]
    created = acme_zoho.inventory(
        "POST",
        "/salesorders",
        json={
            "customer_id": contact["contact_id"],
            "reference_number": "CSC-ORDER-555",
            "line_items": [{"item_id": item["item_id"], "quantity": 2}],
        },
    )
    order = created.json()["salesorder"]
    assert created.status_code == 201 and order["status"] == "draft"
    assert order["total"] == round(item["rate"] * 2, 2)
    found = acme_zoho.inventory("GET", "/salesorders", params={"reference_number": "CSC-ORDER-555"}).json()
    assert [o["salesorder_id"] for o in found["salesorders"]] == [order["salesorder_id"]]
    no_lines = acme_zoho.inventory("POST", "/salesorders", json={"customer_id": contact["contact_id"]})
    assert no_lines.status_code == 400


def test_contact_traps_and_books_shares_inventory_contacts(acme_zoho):
    contacts = seed.inventory_contacts("acme_store")
    assert contacts[1]["contact_persons"][0]["email"] == ""
    assert contacts[2]["contact_persons"][0]["email"] == contacts[3]["contact_persons"][0]["email"]
    shared = acme_zoho.inventory("GET", "/contacts", params={"email": contacts[2]["contact_persons"][0]["email"]})
    assert len(shared.json()["contacts"]) == 2
    created = acme_zoho.books(
        "POST",
        "/contacts",
        json={"contact_name": "Books Only Ltd", "contact_persons": [{"first_name": "B", "email": "b@example.com"}]},
    )
    contact_id = created.json()["contact"]["contact_id"]
    via_inventory = acme_zoho.inventory("GET", f"/contacts/{contact_id}").json()["contact"]
    assert via_inventory["contact_persons"][0]["email"] == "b@example.com"
    duplicate = acme_zoho.inventory("POST", "/contacts", json={"contact_name": "books only ltd"})
    assert duplicate.status_code == 400


def test_per_org_requests_per_minute(acme_zoho, northwind_zoho):
    acme_zoho.sandbox.set_knobs(finance_requests_per_minute=3)
    statuses = [acme_zoho.inventory("GET", "/items", params={"per_page": 1}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert northwind_zoho.inventory("GET", "/items").status_code == 200  # other organisation, own quota
    assert acme_zoho.books("GET", "/contacts").status_code == 200  # Books quota is a separate pool
