"""Inventory/Books record builders: validate a request body and merge it into a new or existing record."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from zoho_cscart_sandbox.clock import finance_date, finance_datetime, utc_now
from zoho_cscart_sandbox.credentials import ZohoAppCredentials
from zoho_cscart_sandbox.lazy import LazyTable, Record
from zoho_cscart_sandbox.seed_finance import organisation_taxes
from zoho_cscart_sandbox.zoho_state import finance_error


def casefolded_text(value: object) -> str:
    """How Inventory compares SKUs and contact names for uniqueness: as text, case-insensitively."""
    return str(value or "").casefold()


def save_record(org: ZohoAppCredentials, table: LazyTable, record: Record, created: bool) -> Record:
    id_field = {
        "items": "item_id",
        "contacts": "contact_id",
        "salesorders": "salesorder_id",
        "inventoryadjustments": "inventory_adjustment_id",
    }[table.name.split(":")[1]]
    now = utc_now()
    stamp = finance_datetime(now, org.utc_offset_minutes)
    if created:
        record["created_time"] = stamp
    record["last_modified_time"] = stamp
    table.put(record[id_field], record, now)
    return record


def build_item(
    org: ZohoAppCredentials,
    tables: dict[str, LazyTable],
    body: Record,
    existing: Record | None,
    request: Request,
) -> Record | Response:
    table = tables["items"]
    name = body.get("name", existing["name"] if existing else None)
    if not name:
        return finance_error(400, 4, "Please enter a name for the item.")  # (U) code/text
    sku = body.get("sku", existing.get("sku", "") if existing else "")
    if sku:
        own_id = existing["item_id"] if existing else None
        for other_id in table.scan_ids_equal("sku", casefolded_text, casefolded_text(sku)):
            if other_id != own_id:
                # (U) duplicate-SKU code/text; SKUs are unique per organisation (C).
                return finance_error(400, 1001, f'The SKU "{sku}" already exists. Please enter a unique SKU.')
    product_type = body.get("product_type", existing["product_type"] if existing else "goods")
    if product_type not in ("goods", "service", "digital_service"):
        return finance_error(400, 2, "Invalid value passed for product_type")
    record = existing or {
        "item_id": table.new_id(),
        "status": "active",
        "source": "user",
        "unit": "pcs",
        "description": "",
        "is_taxable": True,
        "tax_id": "",
        "tax_name": "",
        "tax_percentage": 0,
        "custom_fields": [],
        "is_linked_with_zohocrm": False,
        "zcrm_product_id": "",
    }
    for key in (
        "name",
        "sku",
        "unit",
        "rate",
        "purchase_rate",
        "description",
        "item_type",
        "product_type",
        "is_taxable",
        "tax_id",
        "reorder_level",
        "upc",
        "ean",
        "isbn",
        "part_number",
        "brand",
        "manufacturer",
        "custom_fields",
    ):
        if key in body:
            record[key] = body[key]
    record["item_name"] = record["name"]
    record.setdefault("item_type", "sales" if product_type == "service" else "inventory")
    record["product_type"] = product_type
    if product_type == "goods":
        if existing is None or "stock_on_hand" not in record:
            initial = body.get("initial_stock")
            if initial is None:
                initial = sum(float(loc.get("initial_stock", 0)) for loc in body.get("locations", []) or [])
            stock = float(initial or 0)
            record.update(
                {
                    "track_inventory": True,
                    "stock_on_hand": stock,
                    "available_stock": stock,
                    "actual_available_stock": stock,
                }
            )
        # (U) stock_on_hand is read-only on update: stock changes go through inventory adjustments.
    else:
        for key in ("track_inventory", "stock_on_hand", "available_stock", "actual_available_stock"):
            record.pop(key, None)
    return record


def build_contact(
    org: ZohoAppCredentials,
    tables: dict[str, LazyTable],
    body: Record,
    existing: Record | None,
    request: Request,
) -> Record | Response:
    table = tables["contacts"]
    contact_name = body.get("contact_name", existing["contact_name"] if existing else None)
    if not contact_name:
        return finance_error(400, 4, "Please enter the contact name.")  # (U) code/text
    own_id = existing["contact_id"] if existing else None
    for other_id in table.scan_ids_equal("contact_name", casefolded_text, casefolded_text(contact_name)):
        if other_id != own_id:
            # (U) duplicate contact names are rejected by default.
            return finance_error(400, 3062, f'The contact "{contact_name}" already exists.')
    record = existing or {
        "contact_id": table.new_id(),
        "contact_type": "customer",
        "customer_sub_type": "individual",
        "status": "active",
        "payment_terms": 0,
        "payment_terms_label": "Due on Receipt",
        "currency_id": f"{org.finance_id_prefix}00000000001",
        "currency_code": "USD",
        "currency_symbol": "$",
        "outstanding_receivable_amount": 0,
        "unused_credits_receivable_amount": 0,
        "is_linked_with_zohocrm": False,
        "website": "",
        "notes": "",
        "company_name": "",
        "billing_address": {},
        "shipping_address": {},
        "contact_persons": [],
        "custom_fields": [],
    }
    for key in (
        "contact_name",
        "company_name",
        "contact_type",
        "customer_sub_type",
        "website",
        "notes",
        "payment_terms",
        "billing_address",
        "shipping_address",
        "custom_fields",
    ):
        if key in body:
            record[key] = body[key]
    if "contact_persons" in body:
        persons = []
        for n, person in enumerate(body["contact_persons"] or []):
            persons.append(
                {
                    "contact_person_id": person.get("contact_person_id") or f"{record['contact_id'][:-2]}{n:02d}",
                    "salutation": person.get("salutation", ""),
                    "first_name": person.get("first_name", ""),
                    "last_name": person.get("last_name", ""),
                    "email": person.get("email", ""),
                    "phone": person.get("phone", ""),
                    "mobile": person.get("mobile", ""),
                    "is_primary_contact": bool(person.get("is_primary_contact", n == 0)),
                }
            )
        record["contact_persons"] = persons
    return record


def build_salesorder(
    org: ZohoAppCredentials,
    tables: dict[str, LazyTable],
    body: Record,
    existing: Record | None,
    request: Request,
) -> Record | Response:
    table = tables["salesorders"]
    customer_id = body.get("customer_id", existing["customer_id"] if existing else None)
    if not customer_id:
        return finance_error(400, 4, "Please select a customer.")  # (U) code/text
    if existing is not None and existing["status"] == "void":
        return finance_error(400, 36010, "Void sales orders cannot be edited.")  # (U) code/text
    customer = tables["contacts"].get(str(customer_id))
    if customer is None:
        return finance_error(400, 1002, "Contact does not exist.")
    if customer.get("contact_type") == "vendor":
        # (U) a sales order's customer must be a customer contact, not a vendor.
        return finance_error(400, 4, "Please select a valid customer.")
    lines_in = body.get("line_items", None if existing is None else existing["line_items"])
    if not lines_in or not isinstance(lines_in, list):
        return finance_error(400, 4, "Please add at least one line item.")  # (U) code/text
    lines = []
    taxes = organisation_taxes(org)
    # Line ids unique across orders: derived from the order's id (a new order's id is the table's next one).
    order_id = existing["salesorder_id"] if existing else table.new_id()
    for n, line in enumerate(lines_in):
        if not isinstance(line, dict):
            return finance_error(400, 4, "Invalid value passed for line_items")
        item: Record | None = None
        if line.get("item_id"):
            item = tables["items"].get(str(line["item_id"]))
            if item is None:
                return finance_error(400, 1002, f"Item does not exist (line_items[{n}].item_id).")
        elif not line.get("name"):
            # (S) the OAS requires no item_id in a line (its properties are all optional); a line without
            # one must at least carry a name (a free-text line, as in Zoho's UI). Without either: refused.
            return finance_error(400, 4, f"Please enter an item name or select an item (line_items[{n}]).")
        try:
            quantity = float(line.get("quantity", 1))
            rate = float(line.get("rate", item.get("rate", 0) if item else 0))
        except (TypeError, ValueError):
            return finance_error(400, 2, f"Invalid value passed for line_items[{n}] rate or quantity")
        tax: Record | None = None
        if line.get("tax_id"):
            # (U) an id that is not one of the organisation's taxes is refused like other invalid ids.
            tax = taxes.get(str(line["tax_id"]))
            if tax is None:
                return finance_error(400, 2, f"Invalid value passed for tax_id (line_items[{n}].tax_id).")
        lines.append(
            {
                "line_item_id": line.get("line_item_id") or f"{org.finance_id_prefix}08{order_id[-7:]}{n:02d}",
                "item_id": item["item_id"] if item else "",
                "name": line.get("name", item["name"] if item else ""),
                "sku": item.get("sku", "") if item else "",
                "description": line.get("description", ""),
                "item_order": n,
                "bcy_rate": rate,
                "rate": rate,
                "quantity": quantity,
                "unit": line.get("unit") or (item.get("unit", "pcs") if item else ""),
                "quantity_invoiced": 0.0,
                "quantity_packed": 0.0,
                "quantity_shipped": 0.0,
                "tax_id": tax["tax_id"] if tax else "",
                "tax_name": tax["tax_name"] if tax else "",
                "tax_type": "tax",
                "tax_percentage": tax["tax_percentage"] if tax else 0,
                "discount": 0.0,
                "item_total": round(rate * quantity, 2),
                "is_invoiced": False,
            }
        )
    ignore_auto = request.query_params.get("ignore_auto_number_generation") == "true"
    number = body.get("salesorder_number")
    if existing is None:
        if ignore_auto and not number:
            return finance_error(400, 4, "Please enter the sales order number.")
        if not ignore_auto:
            number = f"SO-{table.count() + 1:05d}-{table.new_id()[-4:]}"
    own_id = existing["salesorder_id"] if existing else None
    if number:
        for other_id in table.scan_ids("salesorder_number", lambda v: v == number):
            if other_id != own_id:
                return finance_error(400, 36004, "Sales Order number already exists.")  # (U) code/text
    now = utc_now()
    sub_total = round(sum(line["item_total"] for line in lines), 2)
    # An entity-level discount (zoho_api.md 3.5 create body): an amount ("5.00", 5) or a percentage ("20.00%") of
    # the sub total. A malformed one is refused like the API's other field validation errors.
    discount_in = body.get("discount", existing.get("discount", 0) if existing else 0)
    try:
        text = str(discount_in or 0).strip()
        discount_amount = round(sub_total * float(text[:-1]) / 100, 2) if text.endswith("%") else float(text)
    except ValueError:
        return finance_error(400, 2, "Invalid value passed for discount")
    # Tax per line: item_total times the line tax's rate (S: on the line before the entity-level discount; the
    # sandbox has no tax on shipping). `taxes` sums it per tax, as the API's read shows.
    tax_amounts: dict[str, float] = {}
    for line in lines:
        if line["tax_id"]:
            amount = line["item_total"] * float(line["tax_percentage"]) / 100
            tax_amounts[line["tax_id"]] = tax_amounts.get(line["tax_id"], 0.0) + amount
    order_taxes = [
        {"tax_id": tax_id, "tax_name": taxes[tax_id]["tax_name"], "tax_amount": round(amount, 2)}
        for tax_id, amount in tax_amounts.items()
    ]
    tax_total = round(sum(entry["tax_amount"] for entry in order_taxes), 2)
    total = round(
        sub_total
        + tax_total
        - discount_amount
        + float(body.get("shipping_charge", 0) or 0)
        + float(body.get("adjustment", 0) or 0),
        2,
    )
    record = existing or {
        "salesorder_id": table.new_id(),
        "status": "draft",
        "order_status": "draft",
        "invoiced_status": "not_invoiced",
        "paid_status": "unpaid",
        "shipped_status": "pending",
        "currency_id": customer["currency_id"],
        "currency_code": "USD",
        "currency_symbol": "$",
        "exchange_rate": 1.0,
        "discount": 0.0,
        "discount_amount": 0.0,
        "is_discount_before_tax": True,
        "discount_type": "entity_level",
        "delivery_method": "",
        "taxes": [],
        "price_precision": 2,
        "notes": "",
        "terms": "",
        "sales_channel": "direct_sales",
        "custom_fields": [],
        "shipment_date": "",
        "reference_number": "",
        "shipping_charge": 0.0,
        "adjustment": 0.0,
    }
    for key in (
        "reference_number",
        "date",
        "shipment_date",
        "notes",
        "terms",
        "delivery_method",
        "shipping_charge",
        "adjustment",
        "custom_fields",
        "discount",
        "discount_type",
        "is_discount_before_tax",
    ):
        if key in body:
            record[key] = body[key]
    record["discount_amount"] = discount_amount
    if number:
        record["salesorder_number"] = number
    record.setdefault("date", finance_date(now, org.utc_offset_minutes))
    record.update(
        {
            "customer_id": customer["contact_id"],
            "customer_name": customer["contact_name"],
            "email": next((p["email"] for p in customer["contact_persons"] if p.get("is_primary_contact")), ""),
            "company_name": customer["company_name"],
            "line_items": lines,
            "sub_total": sub_total,
            "tax_total": tax_total,
            "taxes": order_taxes,
            "total": total,
            "billing_address": customer["billing_address"],
            "shipping_address": customer["shipping_address"],
        }
    )
    return record


def build_adjustment(
    org: ZohoAppCredentials,
    tables: dict[str, LazyTable],
    body: Record,
    existing: Record | None,
    request: Request,
) -> Record | Response:
    if existing is not None:
        return finance_error(400, 2, "Adjusted inventory adjustments cannot be edited in the sandbox.")
    for field in ("date", "reason", "adjustment_type", "line_items"):
        if not body.get(field):
            return finance_error(400, 4, f"Please enter {field}.")  # (U) code/text
    if body["adjustment_type"] not in ("quantity", "value"):
        return finance_error(400, 2, "Invalid value passed for adjustment_type")
    items = tables["items"]
    lines = []
    updates: list[Record] = []
    for n, line in enumerate(body["line_items"]):
        item = items.get(str(line.get("item_id", "")))
        if item is None:
            return finance_error(400, 1002, f"Item does not exist (line_items[{n}].item_id).")
        if item.get("product_type") != "goods":
            return finance_error(400, 2, f"Stock cannot be adjusted for service item {item['item_id']}.")
        delta = float(line.get("quantity_adjusted", 0))
        if body["adjustment_type"] == "quantity":
            # (U) quantity_adjusted is a signed delta.
            for key in ("stock_on_hand", "available_stock", "actual_available_stock"):
                item[key] = float(item.get(key, 0)) + delta
            updates.append(item)
        lines.append(
            {
                "line_item_id": f"{org.finance_id_prefix}009{n:09d}",
                "item_id": item["item_id"],
                "name": item["name"],
                "quantity_adjusted": delta,
                "unit": item.get("unit", "pcs"),
            }
        )
    for item in updates:
        save_record(org, items, item, created=False)
    return {
        "inventory_adjustment_id": tables["inventoryadjustments"].new_id(),
        "date": body["date"],
        "reason": body["reason"],
        "description": body.get("description", ""),
        "reference_number": body.get("reference_number", ""),
        "adjustment_type": body["adjustment_type"],
        "status": "adjusted",
        "total": 0.0,
        "line_items": lines,
    }
