"""Inventory/Books resources and list filtering (status filters, text filters, list-row shapes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

from zoho_cscart_sandbox.lazy import LazyTable, Record
from zoho_cscart_sandbox.zoho_state import finance_error

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Resource:
    kind: str  # table name and URL segment
    singular: str
    plural: str
    id_field: str
    scope: str
    create_status: int
    created: str
    updated: str
    deleted: str
    report_name: str


ITEMS = Resource(
    "items",
    "item",
    "items",
    "item_id",
    "items",
    200,
    "The item has been added.",
    "Item information has been saved.",
    "The item has been deleted.",
    "Items",
)
CONTACTS = Resource(
    "contacts",
    "contact",
    "contacts",
    "contact_id",
    "contacts",
    201,
    "The contact has been created",
    "Contact information has been saved.",
    "The contact has been deleted.",
    "Contacts",
)
SALESORDERS = Resource(
    "salesorders",
    "salesorder",
    "salesorders",
    "salesorder_id",
    "salesorders",
    201,
    "Sales Order has been created.",
    "Sales Order has been updated.",
    "The Sales Order has been deleted.",
    "Sales Orders",
)
ADJUSTMENTS = Resource(
    "inventoryadjustments",
    "inventory_adjustment",
    "inventory_adjustments",
    "inventory_adjustment_id",
    "inventoryadjustments",
    200,
    "Inventory Adjustment has been added",
    "Inventory Adjustment has been updated",
    "Inventory Adjustment(s) has been deleted",
    "Inventory Adjustments",
)

CONTACT_ROW_FIELDS = (
    "contact_id",
    "contact_name",
    "company_name",
    "contact_type",
    "customer_sub_type",
    "status",
    "payment_terms",
    "payment_terms_label",
    "currency_id",
    "currency_code",
    "outstanding_receivable_amount",
    "unused_credits_receivable_amount",
    "created_time",
    "last_modified_time",
)
SO_ROW_FIELDS = (
    "salesorder_id",
    "customer_id",
    "customer_name",
    "email",
    "company_name",
    "salesorder_number",
    "reference_number",
    "date",
    "shipment_date",
    "currency_code",
    "total",
    "created_time",
    "last_modified_time",
    "status",
    "order_status",
    "invoiced_status",
    "paid_status",
    "shipped_status",
    "sales_channel",
    "delivery_method",
)
ITEM_STATUS_FILTERS = {"Status.All": None, "Status.Active": "active", "Status.Inactive": "inactive"}
SO_STATUS_FILTERS = {
    "Status.All": None,
    "Status.Draft": "draft",
    "Status.Confirmed": "confirmed",
    "Status.Open": "confirmed",
    "Status.Void": "void",
    "Status.Closed": "closed",
    "Status.Fulfilled": "fulfilled",
}


def primary_email(record: Record) -> str:
    """The primary contact person's e-mail: what a contact list row shows as `email`."""
    primary = next((p for p in record.get("contact_persons", []) if p.get("is_primary_contact")), None)
    return str(primary.get("email") or "") if primary else ""


def _casefolded(value: object) -> str:
    return str(value or "").casefold()


def indexed_ids(resource: Resource, table: LazyTable, params: Any) -> list[str] | None:
    """The ids (in id order) a list's key filter allows, read from an index instead of a pass over the table.

    None when the query has no such filter. Contacts are among the tables the 272k scale knobs make big, so
    `email` (exact) is answered from the table's cached seed column plus the written records; sales orders
    are not scaled (orders stay small), but `reference_number` (exact) and `salesorder_ids` are keyed too.
    The list's other filters still apply to these candidates (list_filter).
    """
    if resource is CONTACTS and params.get("email") is not None:
        return table.scan_ids_equal("email", _casefolded, _casefolded(params["email"]), value_of=primary_email)
    if resource is SALESORDERS and params.get("salesorder_ids") is not None:
        wanted = {i.strip() for i in str(params["salesorder_ids"]).split(",") if i.strip()}
        # Finance ids are fixed-width digit strings: (length, text) order is id (creation) order.
        return sorted((i for i in wanted if table.exists(i)), key=lambda i: (len(i), i))
    if resource is SALESORDERS and params.get("reference_number") is not None:
        return table.scan_ids_equal("reference_number", _casefolded, _casefolded(params["reference_number"]))
    return None


def list_row(resource: Resource, record: Record) -> Record:
    if resource is CONTACTS:
        row = {key: record.get(key) for key in CONTACT_ROW_FIELDS}
        primary = next((p for p in record.get("contact_persons", []) if p.get("is_primary_contact")), None)
        row.update(
            {
                "first_name": primary.get("first_name", "") if primary else "",
                "last_name": primary.get("last_name", "") if primary else "",
                "email": primary.get("email", "") if primary else "",
                "phone": primary.get("phone", "") if primary else "",
                "mobile": primary.get("mobile", "") if primary else "",
            }
        )
        return row
    if resource is SALESORDERS:
        row = {key: record.get(key) for key in SO_ROW_FIELDS}
        row["quantity"] = sum(line["quantity"] for line in record["line_items"])
        return row
    if resource is ADJUSTMENTS:
        return {k: v for k, v in record.items() if k != "line_items"}
    return record


def _matches_text(value: Any, wanted: str, mode: str) -> bool:
    if not isinstance(value, str):
        return False
    value, wanted = value.casefold(), wanted.casefold()
    if mode == "startswith":
        return value.startswith(wanted)
    if mode == "contains":
        return wanted in value
    return value == wanted


def list_filter(resource: Resource, params: Any) -> Callable[[Record], bool] | Response | None:
    """A predicate for the list's filter parameters, None when there are none (then pages are sliced
    from the id stream and only the page's records are built)."""
    checks: list[Callable[[Record], bool]] = []
    filter_by = params.get("filter_by")
    if filter_by:
        if resource is SALESORDERS:
            if filter_by not in SO_STATUS_FILTERS:
                return finance_error(400, 2, "Invalid value passed for filter_by")
            status = SO_STATUS_FILTERS[filter_by]
        elif filter_by.startswith("ItemType.") and resource is ITEMS:
            kinds = {"ItemType.Service": "service", "ItemType.Inventory": "goods", "ItemType.All": None}
            if filter_by not in kinds:
                return finance_error(400, 2, "Invalid value passed for filter_by")
            product_type = kinds[filter_by]
            if product_type:
                checks.append(lambda r: r.get("product_type") == product_type)
            status = None
        else:
            if filter_by not in ITEM_STATUS_FILTERS:
                return finance_error(400, 2, "Invalid value passed for filter_by")
            status = ITEM_STATUS_FILTERS[filter_by]
        if status:
            checks.append(lambda r: r.get("status") == status)
    if params.get("status"):
        wanted_status = params["status"]
        checks.append(lambda r: r.get("status") == wanted_status)
    text_fields = {
        ITEMS: ("name", "sku"),
        CONTACTS: ("contact_name", "company_name", "email", "first_name", "last_name"),
        SALESORDERS: ("salesorder_number", "reference_number", "customer_name"),
        ADJUSTMENTS: ("reference_number", "reason"),
    }[resource]
    for name in text_fields:
        for suffix, mode in (("", "equals"), ("_startswith", "startswith"), ("_contains", "contains")):
            value = params.get(name + suffix)
            if value is None:
                continue
            if resource is CONTACTS and name == "email" and mode == "equals":
                # (S) exact e-mail: the primary contact person's, case-insensitively (the row's `email`).
                checks.append(_primary_email_check(value))
                continue
            person_field = resource is CONTACTS and name in ("email", "first_name", "last_name")
            checks.append(_text_check(name, value, mode, person_field))
    if params.get("customer_id"):
        customer = params["customer_id"]
        checks.append(lambda r: r.get("customer_id") == customer)
    if resource is SALESORDERS and params.get("salesorder_ids") is not None:
        ids = {i.strip() for i in str(params["salesorder_ids"]).split(",") if i.strip()}
        checks.append(lambda r: r.get("salesorder_id") in ids)
    if params.get("search_text"):
        text = params["search_text"]
        checks.append(lambda r: any(_matches_text(r.get(n), text, "contains") for n in text_fields))
    if not checks:
        return None
    return lambda r: all(check(r) for check in checks)


def _primary_email_check(value: str) -> Callable[[Record], bool]:
    return lambda r: _matches_text(primary_email(r), value, "equals")


def _text_check(name: str, value: str, mode: str, person_field: bool) -> Callable[[Record], bool]:
    """Match a field (or, for contacts, any contact person's field) against a text filter."""
    if person_field:
        return lambda r: any(_matches_text(p.get(name), value, mode) for p in r.get("contact_persons", []))
    return lambda r: _matches_text(r.get(name), value, mode)


async def read_json_body(request: Request) -> Record | Response:
    """A JSON object body, or the legacy form field `JSONString={...}`."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    try:
        if "application/x-www-form-urlencoded" in content_type or raw.startswith(b"JSONString="):
            raw = dict(parse_qsl(raw.decode())).get("JSONString", "").encode()
        body = json.loads(raw or b"null")
    except ValueError:
        return finance_error(400, 4, "Invalid value passed for JSONString")
    if not isinstance(body, dict):
        return finance_error(400, 4, "Invalid value passed for JSONString")
    return body
