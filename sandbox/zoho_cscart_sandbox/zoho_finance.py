"""Zoho Inventory v1 (items, contacts, sales orders, inventory adjustments) and Books v3 (contacts, sales orders).

Inventory and Books are one finance platform: an organisation's contacts and sales orders are shared, ids are
the same (zoho_api.md 4, (R)). A sales order Inventory calls ``confirmed`` is ``open`` in Books: the record keeps
Inventory's word and Books' routes translate it in and out (status calls ``/status/open``, the ``status``
list filter, every sales order they answer with). The envelope is `{"code": 0, "message": ..., <resource>: ...}`
with `page_context` on lists, ids are strings and timestamps carry an offset without colon (`-0500`).

Quota: with the `finance_requests_per_window` knob every authenticated call counts against its
organisation's quota for its product (Inventory and Books apart, as the middleware's per-minute knob does),
over a `finance_window_seconds` window. Zoho's reported figure is 100 requests per minute per organisation
(zoho_api.md 3.7 and 4, (R)); the window is a knob so that tests of client-side pacing take seconds.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from zoho_cscart_sandbox.clock import parse_zoho_datetime, utc_now
from zoho_cscart_sandbox.credentials import ZohoAppCredentials
from zoho_cscart_sandbox.finance_records import (
    build_adjustment,
    build_contact,
    build_item,
    build_salesorder,
    save_record,
)
from zoho_cscart_sandbox.finance_resources import (
    ADJUSTMENTS,
    CONTACTS,
    ITEMS,
    MAX_PER_PAGE,
    SALESORDERS,
    Resource,
    indexed_ids,
    list_filter,
    list_row,
    read_json_body,
)
from zoho_cscart_sandbox.lazy import LazyTable, Record
from zoho_cscart_sandbox.zoho_state import ZohoState, finance_error

T = TypeVar("T")


@dataclass
class _Cursor:
    table: LazyTable
    version: int
    position: int  # where in the list the next item of `rest` is
    rest: Iterator[Any]


@dataclass
class ListCursors:
    """Where the last reads of each list stopped, so that reading page after page costs one page each.

    A list page is the slice ``[start, stop)`` of a generated sequence (ids in order, or the records matching
    a filter); without a cursor, page ``p`` walks ``p * per_page`` items before its own, which makes reading
    a 300,000-item list page by page quadratic. A cursor is reused only for the same table, unchanged since
    (its write ``version``), the same query and the exact next position, so the answer is the same slice
    the walk from the start would give; anything else starts a fresh walk.
    """

    limit: int = 8
    cursors: OrderedDict[tuple[Any, ...], _Cursor] = field(default_factory=OrderedDict)

    def take(
        self, table: LazyTable, query: tuple[Any, ...], start: int, stop: int, stream: Callable[[], Iterator[T]]
    ) -> list[T]:
        """Items ``[start, stop)`` of ``stream()``; the walk is kept for a read starting at ``stop - 1``."""
        key = (id(table), query)
        cursor = self.cursors.pop(key, None)
        fresh = cursor is not None and cursor.table is table and cursor.version == table.version
        if cursor is not None and fresh and cursor.position == start:
            rest: Iterator[Any] = cursor.rest
        else:
            rest = islice(stream(), start, None)
        taken = list(islice(rest, stop - start))
        if len(taken) == stop - start:
            # Pages overlap by one item (the look-ahead that tells whether there is a next page).
            self.cursors[key] = _Cursor(table, table.version, stop - 1, chain(taken[-1:], rest))
            while len(self.cursors) > self.limit:
                self.cursors.popitem(last=False)
        return taken


def _ordered(table: LazyTable, ids: list[str], order: str, descending: bool, since: datetime | None) -> list[str]:
    """A few candidate ids (id order) as the list walk would give them: modified since `since`, in `order`."""
    live = [i for i in ids if since is None or table.modified_at(i) >= since]
    if order == "modified":
        rank = {record_id: n for n, record_id in enumerate(live)}
        live.sort(key=lambda record_id: (table.modified_at(record_id), rank[record_id]))
    return live[::-1] if descending else live


class Finance:
    def __init__(self, state: ZohoState) -> None:
        self.state = state
        self.cursors = ListCursors()

    def auth(
        self, request: Request, product: str, resource: Resource, operation: str
    ) -> tuple[ZohoAppCredentials, dict[str, LazyTable]] | Response:
        checked = self.state.finance_auth(request, product, resource.scope, operation)
        if isinstance(checked, Response):
            return checked
        _grant, org = checked
        over_quota = self.quota(org.organization_id, product)
        if over_quota is not None:
            return over_quota
        return org, self.state.finance[org.tenant]

    def quota(self, organization_id: str, product: str) -> Response | None:
        """None when the organisation's per-window quota admits one more call, else the 429 to answer."""
        runtime = self.state.runtime
        knobs = runtime.knobs
        wait = runtime.admit(
            ("finance", organization_id, product), knobs.finance_requests_per_window, knobs.finance_window_seconds
        )
        if wait is None:
            return None
        # (U) body text and code, the same as the middleware's per-minute 429; the status and the
        # {code, message} envelope are documented (zoho_api.md 3.6).
        response = finance_error(429, 45, "You have made too many requests. Please try again after some time.")
        if knobs.finance_retry_after:
            # Retry-After takes whole seconds; rounding up never invites a retry that is still too early.
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    # -- reading -------------------------------------------------------------------------------
    async def list(self, request: Request, product: str, resource: Resource) -> Response:
        checked = self.auth(request, product, resource, "READ")
        if isinstance(checked, Response):
            return checked
        _org, tables = checked
        table = tables[resource.kind]
        params = request.query_params
        try:
            page = max(int(params.get("page", "1")), 1)
            # (R) 200 is the effective maximum; larger values are capped, not rejected.
            per_page = min(max(int(params.get("per_page", "200")), 1), MAX_PER_PAGE)
        except ValueError:
            return finance_error(400, 2, "Invalid value passed for page")
        since: datetime | None = None
        if params.get("last_modified_time"):
            since = parse_zoho_datetime(params["last_modified_time"])
            if since is None:
                return finance_error(400, 2, "Invalid value passed for last_modified_time")
        if product == "books" and resource is SALESORDERS and params.get("status"):
            params = _with_status(params, books_to_stored(params["status"]))
        predicate = list_filter(resource, params)
        if isinstance(predicate, Response):
            return predicate
        # A key filter (contacts' email, sales orders' reference_number / salesorder_ids) narrows the walk to
        # the ids an index gives; the predicate then checks the rest on those few records.
        candidates = indexed_ids(resource, table, params)
        sort_column = params.get("sort_column")
        sort_order = params.get("sort_order", "A")
        descending = sort_order == "D"
        start, stop = (page - 1) * per_page, page * per_page + 1
        chunk: list[Record]
        if sort_column in (None, "created_time", "last_modified_time"):
            # Sandbox choice: without sort_column the order is creation order (cheap at any scale).
            order = "modified" if sort_column == "last_modified_time" else "id"
            query = (resource.kind, tuple(sorted((k, v) for k, v in params.multi_items() if k != "page")))

            def ids() -> Iterator[str]:
                if candidates is not None:
                    return iter(_ordered(table, candidates, order, descending, since))
                return table.iter_ids(order=order, descending=descending, modified_since=since)

            if predicate is None:
                taken = self.cursors.take(table, query, start, stop, ids)
                records: Iterator[Record] = (r for r in (table.get(i) for i in taken) if r)
                chunk = [list_row(resource, r) for r in records]
            else:

                def matches() -> Iterator[Record]:
                    return (r for r in (table.get(i) for i in ids()) if r is not None and predicate(r))

                chunk = [list_row(resource, r) for r in self.cursors.take(table, query, start, stop, matches)]
        else:
            source = (
                (r for r in (table.get(i) for i in _ordered(table, candidates, "id", False, since)) if r is not None)
                if candidates is not None
                else table.iter_records(modified_since=since)
            )
            matched = [r for r in source if predicate is None or predicate(r)]
            matched.sort(key=lambda r: str(r.get(sort_column, "")).casefold(), reverse=descending)
            chunk = [list_row(resource, r) for r in matched[start:stop]]
        page_context = {
            "page": page,
            "per_page": per_page,
            "has_more_page": len(chunk) > per_page,
            "report_name": resource.report_name,
            "applied_filter": params.get("filter_by", "Status.All"),
            "custom_fields": [],
            "sort_column": sort_column or "created_time",
            "sort_order": "D" if descending else "A",
        }
        rows = [as_seen_by(product, resource, row) for row in chunk[:per_page]]
        return JSONResponse({"code": 0, "message": "success", resource.plural: rows, "page_context": page_context})

    async def get(self, request: Request, product: str, resource: Resource, record_id: str) -> Response:
        checked = self.auth(request, product, resource, "READ")
        if isinstance(checked, Response):
            return checked
        _org, tables = checked
        record = tables[resource.kind].get(record_id)
        if record is None:
            return self.not_found(resource)
        return JSONResponse({"code": 0, "message": "success", resource.singular: as_seen_by(product, resource, record)})

    async def item_details(self, request: Request) -> Response:
        checked = self.auth(request, "inventory", ITEMS, "READ")
        if isinstance(checked, Response):
            return checked
        _org, tables = checked
        ids = [i for i in request.query_params.get("item_ids", "").split(",") if i]
        items = [r for r in (tables["items"].get(i) for i in ids) if r is not None]
        return JSONResponse({"code": 0, "message": "success", "items": items})

    async def organizations(self, request: Request, product: str) -> Response:
        grant = self.state.grant_for(request)
        if grant is None:
            return finance_error(
                401,
                14,
                "The request could not be authenticated as the authentication value "
                "you entered is invalid. Enter a valid authentication value and try again.",
            )
        from zoho_cscart_sandbox.credentials import zoho_creds

        creds = zoho_creds(grant.tenant)
        offset = creds.utc_offset_minutes
        organization = {
            "organization_id": creds.organization_id,
            "name": grant.tenant.replace("_", " ").title(),
            "contact_name": "Sandbox Admin",
            "email": f"finance@{grant.tenant}.example",
            "is_default_org": True,
            "language_code": "en",
            "fiscal_year_start_month": 0,
            "account_created_date": "2024-01-01",
            "time_zone": f"UTC{offset // 60:+03d}:{abs(offset) % 60:02d}",
            "is_org_active": True,
            "currency_id": f"{creds.finance_id_prefix}00000000001",
            "currency_code": "USD",
            "currency_symbol": "$",
            "currency_format": "###,##0.00",
            "price_precision": 2,
        }
        return JSONResponse({"code": 0, "message": "success", "organizations": [organization]})

    @staticmethod
    def not_found(resource: Resource) -> Response:
        # (C) HTTP 404 for an unknown resource; (R) code/message modelled on Zoho's "does not exist" errors.
        return finance_error(404, 1002, f"{resource.singular.replace('_', ' ').title()} does not exist.")

    # -- writing -------------------------------------------------------------------------------
    async def create(self, request: Request, product: str, resource: Resource) -> Response:
        checked = self.auth(request, product, resource, "CREATE")
        if isinstance(checked, Response):
            return checked
        org, tables = checked
        body = await read_json_body(request)
        if isinstance(body, Response):
            return body
        builder = {
            ITEMS: build_item,
            CONTACTS: build_contact,
            SALESORDERS: build_salesorder,
            ADJUSTMENTS: build_adjustment,
        }[resource]
        built = builder(org, tables, body, None, request)
        if isinstance(built, Response):
            return built
        record = save_record(org, tables[resource.kind], built, created=True)
        return JSONResponse(
            {"code": 0, "message": resource.created, resource.singular: as_seen_by(product, resource, record)},
            status_code=resource.create_status,
        )

    async def update(self, request: Request, product: str, resource: Resource, record_id: str) -> Response:
        checked = self.auth(request, product, resource, "UPDATE")
        if isinstance(checked, Response):
            return checked
        org, tables = checked
        existing = tables[resource.kind].get(record_id)
        if existing is None:
            return self.not_found(resource)
        body = await read_json_body(request)
        if isinstance(body, Response):
            return body
        builder = {
            ITEMS: build_item,
            CONTACTS: build_contact,
            SALESORDERS: build_salesorder,
            ADJUSTMENTS: build_adjustment,
        }[resource]
        built = builder(org, tables, body, existing, request)
        if isinstance(built, Response):
            return built
        record = save_record(org, tables[resource.kind], built, created=False)
        return JSONResponse(
            {"code": 0, "message": resource.updated, resource.singular: as_seen_by(product, resource, record)}
        )

    async def delete(self, request: Request, product: str, resource: Resource, record_id: str) -> Response:
        checked = self.auth(request, product, resource, "DELETE")
        if isinstance(checked, Response):
            return checked
        _org, tables = checked
        if not tables[resource.kind].delete(record_id, utc_now()):
            return self.not_found(resource)
        return JSONResponse({"code": 0, "message": resource.deleted})

    async def set_status(
        self, request: Request, product: str, resource: Resource, record_id: str, status: str
    ) -> Response:
        operation = "CREATE"  # (C) mark-active/inactive and status endpoints need the .CREATE scope
        checked = self.auth(request, product, resource, operation)
        if isinstance(checked, Response):
            return checked
        org, tables = checked
        record = tables[resource.kind].get(record_id)
        if record is None:
            return self.not_found(resource)
        status_code = 200
        if resource is SALESORDERS:
            stored = books_to_stored(status) if product == "books" else status
            refused = salesorder_transition_refused(record["status"], stored, product)
            if refused is not None:
                return refused
            record["order_status"] = stored
            if product == "books":
                # (C) Books OAS: 201 and "Sales order status has been changed to Open." / "... to Void."
                status_code = 201
                message = f"Sales order status has been changed to {status.title()}."
            else:
                message = (
                    "Sales order status has been changed to 'Confirmed'."
                    if status == "confirmed"
                    else "The status of the Sales Order has been changed to void."
                )
            status = stored
        else:
            message = f"The {resource.singular} has been marked as {status.title()}."
        record["status"] = status
        save_record(org, tables[resource.kind], record, created=False)
        return JSONResponse({"code": 0, "message": message}, status_code=status_code)


BOOKS_STATUS = {"confirmed": "open"}
"""Inventory's word -> Books' word for a sales order's status (the others are the same word)."""


def books_to_stored(status: str) -> str:
    """A Books sales-order status as the shared record keeps it (Inventory's word: ``open`` -> ``confirmed``)."""
    return next((stored for stored, books in BOOKS_STATUS.items() if books == status), status)


def as_seen_by(product: str, resource: Resource, record: Record) -> Record:
    """A sales order as Books shows it (``open`` for ``confirmed``); anything else unchanged."""
    if product != "books" or resource is not SALESORDERS:
        return record
    shown = dict(record)
    for key in ("status", "order_status"):
        if key in shown:
            shown[key] = BOOKS_STATUS.get(str(shown[key]), shown[key])
    # (C) the Books OAS types discounts (the order's, a line's) as text ("12.5%" or "190"); Inventory as numbers.
    if "discount" in shown and not isinstance(shown["discount"], str):
        shown["discount"] = f"{shown['discount']}"
    if isinstance(shown.get("line_items"), list):
        shown["line_items"] = [
            {**line, "discount": f"{line['discount']}"} if not isinstance(line.get("discount", ""), str) else line
            for line in shown["line_items"]
        ]
    return shown


def _with_status(params: Any, status: str) -> Any:
    from starlette.datastructures import QueryParams

    return QueryParams([*((k, v) for k, v in params.multi_items() if k != "status"), ("status", status)])


def salesorder_transition_refused(current: str, wanted: str, product: str = "inventory") -> Response | None:
    """The sales order status machine of `status/confirmed` (Books: `status/open`) and `status/void`
    (zoho_api.md 3.5 and 4); ``current`` and ``wanted`` in Inventory's words.

    (C) draft -> confirmed (open), draft or confirmed (open) -> void. (U) everything else is refused with HTTP
    400 and a non-zero code (zoho_api.md 3.6: validation errors are 400 + code); the codes and texts are the
    sandbox's, in the product's words. A void order cannot be confirmed, voided again or edited;
    closed/fulfilled orders (shipped or invoiced) cannot be voided.
    """
    open_word = "marked as open" if product == "books" else "confirmed"
    if wanted == "confirmed":
        if current == "void":
            return finance_error(400, 36015, f"A void sales order cannot be {open_word}.")
        if current != "draft":
            return finance_error(400, 36014, f"Only draft sales orders can be {open_word}.")
        return None
    if current == "void":
        return finance_error(400, 36016, "The sales order is already void.")
    if current not in ("draft", "confirmed"):
        shown = BOOKS_STATUS.get(current, current) if product == "books" else current
        return finance_error(400, 36017, f"A {shown} sales order cannot be marked as void.")
    return None


def build_finance_router(state: ZohoState) -> APIRouter:
    finance = Finance(state)
    router = APIRouter()

    def add(product: str, resource: Resource, *, writable: bool = True, statuses: tuple[str, ...] = ()) -> None:
        base = f"/{product}/{'v1' if product == 'inventory' else 'v3'}/{resource.kind}"

        async def list_route(request: Request) -> Response:
            return await finance.list(request, product, resource)

        async def get_route(request: Request, record_id: str) -> Response:
            return await finance.get(request, product, resource, record_id)

        async def create_route(request: Request) -> Response:
            return await finance.create(request, product, resource)

        async def update_route(request: Request, record_id: str) -> Response:
            return await finance.update(request, product, resource, record_id)

        async def delete_route(request: Request, record_id: str) -> Response:
            return await finance.delete(request, product, resource, record_id)

        router.add_api_route(base, list_route, methods=["GET"])
        router.add_api_route(base + "/{record_id}", get_route, methods=["GET"])
        router.add_api_route(base, create_route, methods=["POST"])
        if writable:
            router.add_api_route(base + "/{record_id}", update_route, methods=["PUT"])
        router.add_api_route(base + "/{record_id}", delete_route, methods=["DELETE"])
        for status in statuses:
            path = base + "/{record_id}/" + ("status/" if resource is SALESORDERS else "") + status
            router.add_api_route(path, status_route_for(product, resource, status), methods=["POST"])

    def status_route_for(product: str, resource: Resource, status: str) -> Callable[..., Any]:
        async def status_route(request: Request, record_id: str) -> Response:
            return await finance.set_status(request, product, resource, record_id, status)

        return status_route

    add("inventory", ITEMS, statuses=("active", "inactive"))
    add("inventory", CONTACTS, statuses=("active", "inactive"))
    add("inventory", SALESORDERS, statuses=("confirmed", "void"))
    add("inventory", ADJUSTMENTS, writable=False)
    add("books", CONTACTS, statuses=("active", "inactive"))
    add("books", SALESORDERS, statuses=("open", "void"))

    async def item_details(request: Request) -> Response:
        return await finance.item_details(request)

    async def inventory_orgs(request: Request) -> Response:
        return await finance.organizations(request, "inventory")

    async def books_orgs(request: Request) -> Response:
        return await finance.organizations(request, "books")

    router.add_api_route("/inventory/v1/itemdetails", item_details, methods=["GET"])
    router.add_api_route("/inventory/v1/organizations", inventory_orgs, methods=["GET"])
    router.add_api_route("/books/v3/organizations", books_orgs, methods=["GET"])
    return router
