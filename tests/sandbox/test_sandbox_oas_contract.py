"""The sandbox's Zoho responses validate against Zoho's OpenAPI files (shared/oas)."""

from __future__ import annotations

import json

import pytest

from tests.sandbox.conftest import add_page_context, books_salesorder_object, salesorder_key

CRM = "https://zohoapis.com"
INVENTORY = "https://www.zohoapis.com/inventory/v1"
BOOKS = "https://www.zohoapis.com/books/v3"


def test_crm_list_get_search_deleted_validate(acme_zoho, oas):
    listed = acme_zoho.crm("GET", "/Contacts", params={"fields": "Last_Name,Email,Account_Name", "per_page": 5})
    assert listed.status_code == 200
    oas.validate("crm-v8/record.json", listed, server=CRM)
    record_id = listed.json()["data"][0]["id"]
    single = acme_zoho.crm("GET", f"/Contacts/{record_id}")
    oas.validate("crm-v8/record.json", single, server=CRM)
    found = acme_zoho.crm("GET", "/Contacts/search", params={"criteria": "(Last_Name:equals:Doe)"})
    assert found.status_code == 200
    oas.validate("crm-v8/record.json", found, server=CRM)
    deleted = acme_zoho.crm("GET", "/Contacts/deleted", params={"type": "all"})
    assert deleted.status_code == 200
    oas.validate("crm-v8/record.json", deleted, server=CRM)


def test_crm_writes_validate(acme_zoho, oas):
    inserted = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "Oas", "Email": "oas@example.com"}]})
    assert inserted.status_code == 201
    oas.validate("crm-v8/record.json", inserted, server=CRM)
    mixed = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "Ok"}, {"First_Name": "NoLast"}]})
    assert mixed.status_code == 207
    oas.validate("crm-v8/record.json", mixed, server=CRM)
    upserted = acme_zoho.crm(
        "POST",
        "/Contacts/upsert",
        json={"data": [{"Last_Name": "Doe", "Email": "jane.doe@example.com"}], "duplicate_check_fields": ["Email"]},
    )
    assert upserted.status_code == 200
    oas.validate("crm-v8/record.json", upserted, server=CRM)


def test_crm_sales_orders_and_products_writes_validate(acme_zoho, oas):
    """What the orders' CRM target sends and reads (sales_orders_in: crm): Products inserted (a duplicate code
    answered with its holder), a Sales_Orders upsert on Subject, the order read back with its lines and totals,
    a line deleted by id, and a duplicate-check field CRM refuses."""
    products = acme_zoho.crm(
        "POST", "/Products", json={"data": [{"Product_Name": "Oas", "Product_Code": "OAS-P1"}] * 2}
    )
    assert products.status_code == 207  # the second has the first's (unique) code
    oas.validate("crm-v8/record.json", products, server=CRM)
    product_id = products.json()["data"][0]["details"]["id"]
    line = {"Product_Name": {"id": product_id}, "Quantity": 2, "List_Price": 3.5}
    body = {"data": [{"Subject": "CSC-OAS", "Ordered_Items": [line, line]}], "duplicate_check_fields": ["Subject"]}
    upserted = acme_zoho.crm("POST", "/Sales_Orders/upsert", json=body)
    assert upserted.status_code == 201
    oas.validate("crm-v8/record.json", upserted, server=CRM)
    order_id = upserted.json()["data"][0]["details"]["id"]
    single = acme_zoho.crm("GET", f"/Sales_Orders/{order_id}")
    oas.validate("crm-v8/record.json", single, server=CRM)
    first, second = (row["id"] for row in single.json()["data"][0]["Ordered_Items"])
    lines = [{**line, "id": first}, {"id": second, "_delete": None}]
    again = {
        "data": [{"id": order_id, "Subject": "CSC-OAS", "Ordered_Items": lines}],
        "duplicate_check_fields": ["Subject"],
    }
    updated = acme_zoho.crm("POST", "/Sales_Orders/upsert", json=again)
    assert updated.status_code == 200
    oas.validate("crm-v8/record.json", updated, server=CRM)
    refused = acme_zoho.crm(
        "POST", "/Contacts/upsert", json={"data": [{"Last_Name": "X"}], "duplicate_check_fields": ["Last_Name"]}
    )
    assert refused.status_code == 400
    oas.validate("crm-v8/record.json", refused, server=CRM)


def test_crm_sales_orders_read_path_validates(acme_zoho, oas):
    """What the orders' CRM source reads (sales_orders_in: crm, Zoho -> CS-Cart): the window's ids by COQL, which
    cannot select line items (zoho_api.md 2.5: refused), then each order by id with its Ordered_Items, and the
    contacts' e-mails and the products' codes by COQL ``in (...)``."""
    window = "select id, Modified_Time from Sales_Orders where id is not null order by Modified_Time asc limit 5"
    listed = acme_zoho.crm("POST", "/coql", json={"select_query": window})
    assert listed.status_code == 200
    oas.validate("crm-v8/coql.json", listed, server=CRM)
    lines = acme_zoho.crm("POST", "/coql", json={"select_query": "select Ordered_Items from Sales_Orders limit 5"})
    assert (lines.status_code, lines.json()["code"]) == (400, "INVALID_QUERY")
    oas.validate("crm-v8/coql.json", lines, server=CRM)
    order_id = listed.json()["data"][0]["id"]
    single = acme_zoho.crm("GET", f"/Sales_Orders/{order_id}")
    assert single.status_code == 200
    oas.validate("crm-v8/record.json", single, server=CRM)
    order = single.json()["data"][0]
    assert order["Ordered_Items"] and all(line["Product_Name"]["id"] for line in order["Ordered_Items"])
    product_ids = ", ".join(f"'{line['Product_Name']['id']}'" for line in order["Ordered_Items"])
    codes = acme_zoho.crm(
        "POST", "/coql", json={"select_query": f"select id, Product_Code from Products where id in ({product_ids})"}
    )
    assert codes.status_code == 200
    oas.validate("crm-v8/coql.json", codes, server=CRM)
    contact = order["Contact_Name"]["id"]
    emails = acme_zoho.crm(
        "POST",
        "/coql",
        json={"select_query": f"select id, Email, First_Name, Last_Name from Contacts where id in ('{contact}')"},
    )
    assert emails.status_code == 200 and emails.json()["data"][0]["id"] == contact
    oas.validate("crm-v8/coql.json", emails, server=CRM)


def test_crm_error_bodies_validate(acme_zoho, oas):
    missing_fields = acme_zoho.crm("GET", "/Contacts")
    assert missing_fields.status_code == 400
    oas.validate("crm-v8/record.json", missing_fields, server=CRM)


def test_coql_validates(acme_zoho, oas):
    response = acme_zoho.crm(
        "POST", "/coql", json={"select_query": "select Last_Name, Email from Contacts where Last_Name = 'Doe' limit 5"}
    )
    assert response.status_code == 200
    oas.validate("crm-v8/coql.json", response, server=CRM)


def test_inventory_items_validate(acme_zoho, oas):
    listed = acme_zoho.inventory("GET", "/items", params={"per_page": 3})
    oas.validate("inventory-v1/items.yml", listed, server=INVENTORY, patch=add_page_context)
    item_id = listed.json()["items"][0]["item_id"]
    oas.validate(
        "inventory-v1/items.yml",
        acme_zoho.inventory("GET", f"/items/{item_id}"),
        server=INVENTORY,
        patch=add_page_context,
    )
    created = acme_zoho.inventory("POST", "/items", json={"name": "Contract Mug", "sku": "OAS-1", "rate": 9.5})
    assert created.status_code == 200
    oas.validate("inventory-v1/items.yml", created, server=INVENTORY, patch=add_page_context)


def test_inventory_contacts_salesorders_adjustments_validate(acme_zoho, oas):
    contacts = acme_zoho.inventory("GET", "/contacts", params={"per_page": 3})
    oas.validate("inventory-v1/contacts.yml", contacts, server=INVENTORY, patch=add_page_context)
    created = acme_zoho.inventory("POST", "/contacts", json={"contact_name": "Contract Co"})
    assert created.status_code == 201
    oas.validate("inventory-v1/contacts.yml", created, server=INVENTORY, patch=add_page_context)
    orders = acme_zoho.inventory("GET", "/salesorders", params={"per_page": 3})
    oas.validate("inventory-v1/salesorders.yml", orders, server=INVENTORY, patch=salesorder_key)
    order_id = orders.json()["salesorders"][0]["salesorder_id"]
    oas.validate(
        "inventory-v1/salesorders.yml",
        acme_zoho.inventory("GET", f"/salesorders/{order_id}"),
        server=INVENTORY,
        patch=salesorder_key,
    )
    item_id = acme_zoho.inventory("GET", "/items").json()["items"][0]["item_id"]
    new_order = acme_zoho.inventory(
        "POST",
        "/salesorders",
        json={
            "customer_id": created.json()["contact"]["contact_id"],
            "line_items": [{"item_id": item_id, "quantity": 2}],
        },
    )
    assert new_order.status_code == 201
    oas.validate("inventory-v1/salesorders.yml", new_order, server=INVENTORY, patch=salesorder_key)
    adjustment = acme_zoho.inventory(
        "POST",
        "/inventoryadjustments",
        json={
            "date": "2026-11-20",
            "reason": "Stocktake",
            "adjustment_type": "quantity",
            "line_items": [{"item_id": item_id, "quantity_adjusted": 3}],
        },
    )
    assert adjustment.status_code == 200
    oas.validate("inventory-v1/inventoryadjustments.yml", adjustment, server=INVENTORY, patch=add_page_context)
    oas.validate(
        "inventory-v1/inventoryadjustments.yml",
        acme_zoho.inventory("GET", "/inventoryadjustments"),
        server=INVENTORY,
        patch=add_page_context,
    )


def test_books_contacts_validate(acme_zoho, oas):
    listed = acme_zoho.books("GET", "/contacts", params={"per_page": 3})
    oas.validate("books-v3/contacts.yml", listed, server=BOOKS)
    created = acme_zoho.books("POST", "/contacts", json={"contact_name": "Books Contract Ltd"})
    assert created.status_code == 201
    oas.validate("books-v3/contacts.yml", created, server=BOOKS)


def test_validator_rejects_a_wrong_body(acme_zoho, oas):
    """The validation is not vacuous: a records body with a non-list `data` fails."""
    from openapi_core.validation.response.exceptions import InvalidData

    response = acme_zoho.crm("GET", "/Contacts", params={"fields": "Last_Name", "per_page": 1})
    response._content = b'{"data": "not-a-list", "info": {}}'
    with pytest.raises(InvalidData):
        oas.validate("crm-v8/record.json", response, server=CRM)


def test_validator_rejects_a_wrong_inventory_body(acme_zoho, oas):
    """Inventory validation is not vacuous either: a wrong type for a declared property fails."""
    from openapi_core.validation.response.exceptions import InvalidData

    response = acme_zoho.inventory("GET", "/items", params={"per_page": 1})
    body = response.json()
    body["items"][0]["rate"] = "eighty"
    response._content = json.dumps(body).encode()
    with pytest.raises(InvalidData):
        oas.validate("inventory-v1/items.yml", response, server=INVENTORY, patch=add_page_context)


def test_inventory_salesorder_orders_pipeline_calls_validate(acme_zoho, oas):
    """The calls the orders pipeline makes: filtered lists, create with a free-text line, update, confirm, void."""
    filtered = acme_zoho.inventory(
        "GET",
        "/salesorders",
        params={"reference_number": "CSC-3", "last_modified_time": "2026-10-01T00:00:00-0500", "per_page": 200},
    )
    assert filtered.status_code == 200 and filtered.json()["salesorders"]
    oas.validate("inventory-v1/salesorders.yml", filtered, server=INVENTORY, patch=salesorder_key)
    contact = acme_zoho.inventory("GET", "/contacts", params={"email": "jane.doe@example.com"})
    assert contact.status_code == 200 and contact.json()["contacts"]
    oas.validate("inventory-v1/contacts.yml", contact, server=INVENTORY, patch=add_page_context)
    customer = acme_zoho.inventory(
        "POST",
        "/contacts",
        json={
            "contact_name": "Contract Shopper",
            "contact_type": "customer",
            "contact_persons": [
                {"first_name": "Con", "email": "contract.shopper@example.com", "is_primary_contact": True}
            ],
        },
    )
    assert customer.status_code == 201
    oas.validate("inventory-v1/contacts.yml", customer, server=INVENTORY, patch=add_page_context)
    item_id = acme_zoho.inventory("GET", "/items").json()["items"][0]["item_id"]
    created = acme_zoho.inventory(
        "POST",
        "/salesorders",
        json={
            "customer_id": customer.json()["contact"]["contact_id"],
            "reference_number": "CSC-4242",
            "line_items": [
                {"item_id": item_id, "quantity": 1, "rate": 12.5},
                {"name": "Shipping", "quantity": 1, "rate": 5},
            ],
        },
    )
    assert created.status_code == 201
    oas.validate("inventory-v1/salesorders.yml", created, server=INVENTORY, patch=salesorder_key)
    order_id = created.json()["salesorder"]["salesorder_id"]
    updated = acme_zoho.inventory("PUT", f"/salesorders/{order_id}", json={"notes": "Grüße"})
    assert updated.status_code == 200
    oas.validate("inventory-v1/salesorders.yml", updated, server=INVENTORY, patch=salesorder_key)
    for status in ("confirmed", "void"):
        changed = acme_zoho.inventory("POST", f"/salesorders/{order_id}/status/{status}")
        assert changed.status_code == 200
        oas.validate("inventory-v1/salesorders.yml", changed, server=INVENTORY, patch=salesorder_key)


def test_books_salesorder_orders_pipeline_calls_validate(acme_zoho, oas):
    """The calls the orders pipeline makes with ``sales_orders_in: books``: lookup by reference, read, create with
    a taxed line and a free-text line, update, open, void (books-v3/sales-order.yml)."""
    from zoho_cscart_sandbox.credentials import ZOHO_TENANTS
    from zoho_cscart_sandbox.seed_finance import organisation_taxes

    filtered = acme_zoho.books("GET", "/salesorders", params={"reference_number": "CSC-3", "per_page": 200})
    assert filtered.status_code == 200 and filtered.json()["salesorders"]
    oas.validate("books-v3/sales-order.yml", filtered, server=BOOKS, patch=books_salesorder_object)
    order_id = filtered.json()["salesorders"][0]["salesorder_id"]
    single = acme_zoho.books("GET", f"/salesorders/{order_id}")
    oas.validate("books-v3/sales-order.yml", single, server=BOOKS, patch=books_salesorder_object)
    contact = acme_zoho.books("GET", "/contacts", params={"email": "jane.doe@example.com"})
    assert contact.status_code == 200 and contact.json()["contacts"]
    oas.validate("books-v3/contacts.yml", contact, server=BOOKS)
    item_id = acme_zoho.inventory("GET", "/items").json()["items"][0]["item_id"]
    [tax_id] = organisation_taxes(ZOHO_TENANTS["acme_store"])
    created = acme_zoho.books(
        "POST",
        "/salesorders",
        json={
            "customer_id": contact.json()["contacts"][0]["contact_id"],
            "reference_number": "CSC-4343",
            "line_items": [
                {"item_id": item_id, "quantity": 1, "rate": 12.5, "tax_id": tax_id},
                {"name": "Gift wrap", "quantity": 1, "rate": 2},
            ],
        },
    )
    assert created.status_code == 201
    oas.validate("books-v3/sales-order.yml", created, server=BOOKS, patch=books_salesorder_object)
    new_id = created.json()["salesorder"]["salesorder_id"]
    updated = acme_zoho.books("PUT", f"/salesorders/{new_id}", json={"notes": "Grüße"})
    assert updated.status_code == 200
    oas.validate("books-v3/sales-order.yml", updated, server=BOOKS, patch=books_salesorder_object)
    for status in ("open", "void"):
        changed = acme_zoho.books("POST", f"/salesorders/{new_id}/status/{status}")
        assert changed.status_code == 201
        oas.validate("books-v3/sales-order.yml", changed, server=BOOKS, patch=books_salesorder_object)


def _salesorder_request_fields(oas_dir, relative: str) -> set[str]:
    """Every property the create (POST /salesorders) request body of an OAS file accepts."""
    import yaml

    spec = yaml.safe_load((oas_dir / relative).read_text())
    schema = spec["paths"]["/salesorders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return set(schema["properties"])


@pytest.mark.parametrize("relative", ["inventory-v1/salesorders.yml", "books-v3/sales-order.yml"])
def test_no_sales_order_api_takes_a_tax_on_the_shipping_charge(oas, relative):
    """The orders pipeline sends no tax for CS-Cart's VAT on shipping (`taxes[id].applies.S`) because neither
    Inventory's nor Books' sales-order create has a field for it (no `shipping_charge_tax_id` or the like): only
    `shipping_charge`. Should Zoho's OAS gain one, this fails and the mapping can send it."""
    fields = _salesorder_request_fields(oas.oas_dir, relative)
    assert "shipping_charge" in fields
    assert not [name for name in fields if "shipping" in name and "tax" in name], fields


def test_only_books_sales_orders_take_a_currency(oas):
    """Inventory's sales-order create has no `currency_id` (the order is in its customer's currency); Books' has
    one (README "Orders": what the orders pipeline does with a CS-Cart order in another currency)."""
    assert "currency_id" not in _salesorder_request_fields(oas.oas_dir, "inventory-v1/salesorders.yml")
    assert "currency_id" in _salesorder_request_fields(oas.oas_dir, "books-v3/sales-order.yml")
