"""The CRM sales-order writer (``sales_orders_in: crm``) against the sandbox's CRM over HTTP, with a real state
store: the lines of a linked order are updated in place by their ids (never appended), a status change sends no
lines, and products and contacts are found or created once."""

from __future__ import annotations

import json
from typing import Any

from zoho_cscart_sync.pipelines.crm_order_writer import (
    CRM_ORDER_CONTACTS,
    CRM_PRODUCTS,
    CrmSalesOrderWriter,
    crm_id_map,
)
from zoho_cscart_sync.sync.writer import UpsertItem


def _order(status: str, lines: list[tuple[str, float, float]], *, email: str = "crm.writer@example.com") -> dict:
    return {
        "Subject": "CSC-90001",
        "Status": status,
        "Adjustment": 5.0,
        "$email": email,
        "$customer": "0",
        "$first_name": "Rita",
        "$last_name": "Writer",
        "Ordered_Items": [
            {
                "$product_id": pid,
                "$product_code": f"CRMW-{pid}",
                "$product_name": f"Writer test {pid}",
                "List_Price": price,
                "Quantity": qty,
            }
            for pid, qty, price in lines
        ],
    }


def _sent_lines(wire: Any) -> list[Any]:
    """Ordered_Items of every Sales_Orders upsert sent (None: the record had none)."""
    sent = []
    for request in wire.requests:
        if request.method == "POST" and request.url.split("?")[0].endswith("/Sales_Orders/upsert"):
            body = json.loads(request.body)
            sent.extend(record.get("Ordered_Items") for record in body["data"])
    return sent


def test_lines_of_a_linked_order_are_updated_by_id_and_a_status_change_sends_none(make_zoho_hook, state_store, wire):
    hook = make_zoho_hook("acme_store")
    writer = CrmSalesOrderWriter(hook, crm_id_map(state_store, "acme_store", "run-1"))
    [created] = writer.upsert_batch([UpsertItem("90001", _order("Created", [("901", 2, 10.0), ("902", 1, 4.0)]), None)])
    assert created.action == "created" and created.target_id
    order_id = created.target_id
    assert (writer.products_created, writer.contacts_created) == (2, 1)
    first = hook.crm_get("Sales_Orders", order_id)
    line_ids = [line["id"] for line in first["Ordered_Items"]]
    assert first["Grand_Total"] == 29.0 and first["Contact_Name"]["name"] == "Rita Writer"

    # Fewer lines, another quantity: the first line is updated by its id, the second deleted, none appended.
    changed = _order("Approved", [("901", 3, 10.0)])
    writer = CrmSalesOrderWriter(hook, crm_id_map(state_store, "acme_store", "run-2"))
    [updated] = writer.upsert_batch([UpsertItem("90001", changed, order_id)])
    assert (updated.action, updated.target_id) == ("updated", order_id)
    second = hook.crm_get("Sales_Orders", order_id)
    assert [(line["id"], line["Quantity"]) for line in second["Ordered_Items"]] == [(line_ids[0], 3.0)]
    assert (second["Status"], second["Grand_Total"]) == ("Approved", 35.0)
    # Products and the contact came from the ID map: nothing searched or created again.
    assert (writer.products_created, writer.products_found, writer.contacts_created) == (0, 0, 0)

    # A status change only: the lines are not sent.
    wire.requests.clear()
    [moved] = writer.upsert_batch([UpsertItem("90001", _order("Cancelled", [("901", 3, 10.0)]), order_id)])
    assert moved.action == "updated"
    assert _sent_lines(wire) == [None]
    assert hook.crm_get("Sales_Orders", order_id)["Ordered_Items"] == second["Ordered_Items"]
    assert set(state_store.get_links("acme_store", CRM_PRODUCTS, cscart_ids=["901", "902"])) == {"901", "902"}
    assert set(state_store.get_links("acme_store", CRM_ORDER_CONTACTS, cscart_ids=["crm.writer@example.com"])) == {
        "crm.writer@example.com"
    }


def test_existing_products_and_contacts_are_found_not_created(make_zoho_hook, state_store):
    hook = make_zoho_hook("acme_store")
    seeded = (hook.crm_coql("select id, Product_Code from Products where Product_Code is not null limit 1") or {})[
        "data"
    ][0]
    contact = (hook.crm_coql("select id, Email from Contacts where Email is not null limit 1") or {})["data"][0]
    payload = _order("Created", [("777", 1, 3.0)], email=str(contact["Email"]).upper())
    payload["Ordered_Items"][0]["$product_code"] = seeded["Product_Code"]
    writer = CrmSalesOrderWriter(hook, crm_id_map(state_store, "acme_store", "run-1"))
    [outcome] = writer.upsert_batch([UpsertItem("90002", {**payload, "Subject": "CSC-90002"}, None)])
    assert outcome.action == "created"
    order = hook.crm_get("Sales_Orders", str(outcome.target_id))
    assert order["Ordered_Items"][0]["Product_Name"]["id"] == seeded["id"]
    assert (writer.products_created, writer.products_found, writer.contacts_created) == (0, 1, 0)
    contacts = hook.crm_coql(f"select id, Email from Contacts where Email = '{contact['Email']}' limit 10") or {}
    assert order["Contact_Name"]["id"] == min((row["id"] for row in contacts["data"]), key=int)
