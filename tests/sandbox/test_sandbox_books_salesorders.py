"""Zoho Books sales orders (zoho_api.md 4) and sales-order line taxes in the sandbox.

Books and Inventory are one organisation: the sales orders are the same records (ids interchangeable). Books
says ``open`` where Inventory says ``confirmed`` (``POST /salesorders/{id}/status/open``), answered 201 as the
Books OAS documents. A line's ``tax_id`` must be one of the organisation's taxes; the order's ``tax_total`` is
the lines' tax.
"""

from __future__ import annotations

from zoho_cscart_sandbox import seed
from zoho_cscart_sandbox.credentials import ZOHO_TENANTS
from zoho_cscart_sandbox.seed_finance import organisation_taxes


def _order_body(**extra):
    contact = seed.inventory_contacts("acme_store")[0]
    item = seed.inventory_items("acme_store")[0]
    return {"customer_id": contact["contact_id"], "line_items": [{"item_id": item["item_id"], "quantity": 2}], **extra}


def test_books_salesorder_create_read_list_and_shared_with_inventory(acme_zoho):
    created = acme_zoho.books("POST", "/salesorders", json=_order_body(reference_number="CSC-7001"))
    assert created.status_code == 201, created.text
    order = created.json()["salesorder"]
    assert order["status"] == "draft" and order["reference_number"] == "CSC-7001"
    order_id = order["salesorder_id"]
    assert acme_zoho.books("GET", f"/salesorders/{order_id}").json()["salesorder"]["salesorder_id"] == order_id
    found = acme_zoho.books("GET", "/salesorders", params={"reference_number": "CSC-7001"}).json()["salesorders"]
    assert [row["salesorder_id"] for row in found] == [order_id]
    # The same record in Inventory (one organisation).
    assert acme_zoho.inventory("GET", f"/salesorders/{order_id}").json()["salesorder"]["reference_number"] == "CSC-7001"
    updated = acme_zoho.books("PUT", f"/salesorders/{order_id}", json={"notes": "Grüße"})
    assert updated.status_code == 200 and updated.json()["salesorder"]["notes"] == "Grüße"


def test_books_salesorder_validates_like_inventory(acme_zoho):
    item = seed.inventory_items("acme_store")[0]
    contact = seed.inventory_contacts("acme_store")[0]

    def create(body):
        return acme_zoho.books("POST", "/salesorders", json=body)

    assert create({"line_items": [{"item_id": item["item_id"]}]}).status_code == 400  # no customer
    assert create({"customer_id": "1", "line_items": [{"item_id": item["item_id"]}]}).status_code == 400
    unknown_item = create({"customer_id": contact["contact_id"], "line_items": [{"item_id": "123"}]})
    assert unknown_item.status_code == 400 and unknown_item.json()["code"] == 1002
    other_item = seed.inventory_items("northwind_vendor")[0]["item_id"]
    assert create({"customer_id": contact["contact_id"], "line_items": [{"item_id": other_item}]}).status_code == 400
    assert create({"customer_id": contact["contact_id"]}).status_code == 400  # no lines
    assert create({"customer_id": contact["contact_id"], "line_items": [{"quantity": 1}]}).status_code == 400


def test_books_status_open_and_void_and_what_is_refused(acme_zoho):
    def post(order_id: str, status: str):
        return acme_zoho.books("POST", f"/salesorders/{order_id}/status/{status}")

    def status_in(product: str, order_id: str) -> str:
        call = acme_zoho.books if product == "books" else acme_zoho.inventory
        return str(call("GET", f"/salesorders/{order_id}").json()["salesorder"]["status"])

    order_id = acme_zoho.books("POST", "/salesorders", json=_order_body()).json()["salesorder"]["salesorder_id"]
    opened = post(order_id, "open")
    assert opened.status_code == 201 and opened.json()["message"] == "Sales order status has been changed to Open."
    assert status_in("books", order_id) == "open" and status_in("inventory", order_id) == "confirmed"
    listed = acme_zoho.books("GET", "/salesorders", params={"status": "open"}).json()
    assert order_id in {row["salesorder_id"] for row in listed["salesorders"]}
    assert all(row["status"] == "open" for row in listed["salesorders"])
    twice = post(order_id, "open")
    assert twice.status_code == 400 and twice.json()["code"] != 0
    voided = post(order_id, "void")
    assert voided.status_code == 201 and voided.json()["message"] == "Sales order status has been changed to Void."
    assert status_in("books", order_id) == "void"
    for status in ("open", "void"):
        refused = post(order_id, status)
        assert refused.status_code == 400 and refused.json()["code"] != 0
    assert acme_zoho.books("PUT", f"/salesorders/{order_id}", json={"notes": "late"}).status_code == 400
    draft_id = acme_zoho.books("POST", "/salesorders", json=_order_body()).json()["salesorder"]["salesorder_id"]
    assert post(draft_id, "void").status_code == 201  # draft -> void directly
    # Inventory's word is not a Books route, and an unknown order is 404.
    assert post(draft_id, "confirmed").status_code in (404, 405)
    assert post("4815000000000000000", "void").status_code == 404


def test_line_tax_id_sets_the_tax_and_tax_total(acme_zoho):
    [vat] = organisation_taxes(ZOHO_TENANTS["acme_store"]).values()
    item = seed.inventory_items("acme_store")[1]
    body = _order_body()
    body["line_items"] = [
        {"item_id": item["item_id"], "quantity": 2, "rate": 20.0, "tax_id": vat["tax_id"]},
        {"name": "Gift wrap", "quantity": 1, "rate": 3.0},
    ]
    for call in (acme_zoho.inventory, acme_zoho.books):
        created = call("POST", "/salesorders", json={**body, "shipping_charge": 5})
        assert created.status_code == 201, created.text
        order = created.json()["salesorder"]
        taxed, free = order["line_items"]
        assert (taxed["tax_id"], taxed["tax_name"], taxed["tax_percentage"]) == (vat["tax_id"], "VAT", 10.0)
        assert free["tax_id"] == "" and free["tax_percentage"] == 0
        assert order["sub_total"] == 43.0 and order["tax_total"] == 4.0
        assert order["total"] == 43.0 + 4.0 + 5
        assert order["taxes"] == [{"tax_id": vat["tax_id"], "tax_name": "VAT", "tax_amount": 4.0}]
    # Another organisation's tax, or no tax of this organisation: refused.
    [other] = organisation_taxes(ZOHO_TENANTS["northwind_vendor"]).values()
    for tax_id in (other["tax_id"], "6"):
        body["line_items"][0]["tax_id"] = tax_id
        refused = acme_zoho.inventory("POST", "/salesorders", json=body)
        assert refused.status_code == 400 and "tax_id" in refused.json()["message"]
