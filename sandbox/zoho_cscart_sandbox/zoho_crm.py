"""Zoho CRM v8 records API: list, get, search, COQL, insert/update/upsert, delete, deleted records."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from datetime import datetime
from itertools import islice

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from zoho_cscart_sandbox import coql
from zoho_cscart_sandbox.clock import crm_datetime, parse_zoho_datetime, utc_now
from zoho_cscart_sandbox.crm_base import (
    BASE,
    LINE_ITEM_FIELDS,
    LOOKUPS,
    PAGE_TOKEN_LIFETIME,
    PAGE_WALL,
    SORTABLE,
    values_equal,
)
from zoho_cscart_sandbox.crm_criteria import search_predicate
from zoho_cscart_sandbox.crm_writes import CrmWrites
from zoho_cscart_sandbox.lazy import Record
from zoho_cscart_sandbox.zoho_state import PageCursor, ZohoState, crm_error, crm_scope_ok


class Crm(CrmWrites):
    """Read handlers (list, get, count, search, COQL, deleted) on top of the write handlers."""

    # -- list ----------------------------------------------------------------------------------
    async def list_records(self, request: Request, module: str) -> Response:
        grant = self.auth(request, module, "READ")
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, module)
        if table is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        params = request.query_params
        wanted = self.parse_fields(params.get("fields"), table, required=True)
        if isinstance(wanted, Response):
            return wanted
        paging = self.parse_paging(request)
        if isinstance(paging, Response):
            return paging
        page, per_page = paging
        sort_by = params.get("sort_by", "id")
        sort_order = params.get("sort_order", "desc")
        if sort_by not in SORTABLE or sort_order not in ("asc", "desc"):
            return crm_error(400, "INVALID_DATA", "invalid data", {"param_name": "sort_by"})
        since: datetime | None = None
        header = request.headers.get("if-modified-since")
        if header:
            since = parse_zoho_datetime(header)
            if since is None:
                return crm_error(400, "INVALID_DATA", "invalid data", {"header_name": "If-Modified-Since"})
        page_token = params.get("page_token")
        if page_token and "page" in params:
            return crm_error(
                400,
                "INVALID_DATA",
                "page and page_token cannot be given together",
                {"param_name": "page_token"},
            )
        order, descending = SORTABLE[sort_by], sort_order == "desc"
        if page_token:
            cursor = self.state.page_tokens.get(page_token)
            if cursor is None or cursor.expires_at < time.monotonic() or cursor.tenant != grant.tenant:
                return crm_error(400, "INVALID_DATA", "invalid page token", {"param_name": "page_token"})
            if cursor.module != module:
                return crm_error(400, "INVALID_DATA", "invalid page token", {"param_name": "page_token"})
            order, descending, since, offset = (
                cursor.order,
                cursor.descending,
                cursor.modified_since,
                cursor.offset,
            )
        else:
            if page * per_page > PAGE_WALL:
                # (R) code from Zoho v7+/v8 docs; the OAS does not enumerate it.
                return crm_error(
                    400,
                    "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "cannot fetch more than 2000 records. use page_token param",
                    {"limit": PAGE_WALL},
                )
            offset = (page - 1) * per_page
        ids_param = params.get("ids")
        if ids_param:
            id_stream: Iterator[str] = (rid for rid in ids_param.split(",") if table.exists(rid.strip()))
        else:
            id_stream = table.iter_ids(order=order, descending=descending, modified_since=since)
        chunk = list(islice(id_stream, offset, offset + per_page + 1))
        more = len(chunk) > per_page
        records = [table.get(rid) for rid in chunk[:per_page]]
        data = [self.project(r, wanted) for r in records if r is not None]
        if not data:
            return Response(status_code=304 if header else 204)
        info = self.info(per_page, len(data), page if not page_token else 0, more, sort_by, sort_order)
        if more:
            token = secrets.token_hex(24)
            expiry = utc_now() + PAGE_TOKEN_LIFETIME
            self.state.page_tokens[token] = PageCursor(
                grant.tenant,
                module,
                order,
                descending,
                since,
                offset + per_page,
                time.monotonic() + PAGE_TOKEN_LIFETIME.total_seconds(),
            )
            info["next_page_token"] = token
            info["page_token_expiry"] = crm_datetime(expiry, self.offset(grant.tenant))
        if page_token:
            info.pop("page", None)
        return JSONResponse({"data": data, "info": info})

    async def get_record(self, request: Request, module: str, record_id: str) -> Response:
        grant = self.auth(request, module, "READ")
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, module)
        if table is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        if not record_id.isdigit():
            return crm_error(400, "INVALID_DATA", "the id given seems to be invalid", {"api_name": "id"})
        record = table.get(record_id)
        if record is None:
            return Response(status_code=204)  # (U) 204 vs INVALID_DATA for an unknown id
        return JSONResponse({"data": [record]})

    async def count(self, request: Request, module: str) -> Response:
        grant = self.auth(request, module, "READ")
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, module)
        if table is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        return JSONResponse({"count": table.count()})

    # -- search --------------------------------------------------------------------------------
    async def search(self, request: Request, module: str) -> Response:
        grant = self.auth(request, module, "READ")
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, module)
        if table is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        params = request.query_params
        paging = self.parse_paging(request)
        if isinstance(paging, Response):
            return paging
        page, per_page = paging
        wanted = self.parse_fields(params.get("fields"), table, required=False)
        if isinstance(wanted, Response):
            return wanted
        try:
            predicate = search_predicate(params)
        except ValueError as exc:
            return crm_error(400, "INVALID_QUERY", "invalid query formed", {"reason": str(exc)})
        if predicate is None:
            return crm_error(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param_name": "criteria"},
            )
        lag = self.state.runtime.knobs.search_index_lag_seconds
        now = time.monotonic()

        def indexed(record_id: str) -> bool:
            written = self.state.written_at.get((grant.tenant, module, record_id))
            return written is None or now - written >= lag

        candidates: Iterator[str]
        if params.get("email") and module in ("Contacts", "Leads"):
            # The e-mail columns are cached per table: an e-mail lookup stays fast at 300,000 contacts.
            email = params["email"]
            found = set(table.scan_ids("Email", lambda v: values_equal(v, email)))
            found |= set(table.scan_ids("Secondary_Email", lambda v: values_equal(v, email)))
            candidates = iter(sorted(found, key=lambda rid: (len(rid), rid)))
        else:
            candidates = table.iter_ids(order="id")
        records = (table.get(rid) for rid in candidates if indexed(rid))
        matches: Iterator[Record] = (r for r in records if r is not None and predicate(r))
        # (U) search results are capped at 2,000 records.
        offset = (page - 1) * per_page
        if offset >= PAGE_WALL:
            return Response(status_code=204)
        chunk = list(islice(islice(matches, PAGE_WALL), offset, offset + per_page + 1))
        if not chunk:
            return Response(status_code=204)
        data = [self.project(r, wanted) for r in chunk[:per_page]]
        return JSONResponse(
            {"data": data, "info": self.info(per_page, len(data), page, len(chunk) > per_page, "id", "asc")}
        )

    # -- COQL ----------------------------------------------------------------------------------
    async def coql(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
            query_text = body["select_query"]
        except (ValueError, KeyError, TypeError):
            return crm_error(400, "INVALID_DATA", "body", {"expected_data_type": "jsonobject"})
        try:
            query = coql.parse(query_text)
        except coql.CoqlError as exc:
            return crm_error(400, exc.code, exc.message, exc.details)
        grant = self.state.crm_auth(
            request,
            lambda scopes: (
                ("ZohoCRM.coql.READ" in scopes or "ZohoCRM.coql.ALL" in scopes)
                and crm_scope_ok(scopes, query.module, "READ")
            ),
        )
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, query.module)
        if table is None:
            return crm_error(400, "INVALID_QUERY", "invalid query formed", {"clause": "from"})
        known = self.known_fields(table)
        for name in query.referenced_fields():
            if name.split(".")[0] not in known:
                return crm_error(400, "INVALID_QUERY", "invalid query formed", {"column_name": name})
            if name.split(".")[0] in LINE_ITEM_FIELDS.get(query.module, ()):
                # COQL does not support line items (zoho_api.md 2.5, COQL limitations): a sales order's lines are
                # read with GET /Sales_Orders/{id}. (U) the exact code of the refusal.
                return crm_error(400, "INVALID_QUERY", "invalid query formed", {"column_name": name})
        tables = self.state.crm[grant.tenant]
        lookups = LOOKUPS.get(query.module, {})

        def related(field: str, record_id: str) -> Record | None:
            target = lookups.get(field)
            return tables[target].get(record_id) if target else None

        try:
            rows, more = coql.execute(query, table, related)
        except coql.CoqlError as exc:
            return crm_error(400, exc.code, exc.message, exc.details)
        if not rows:
            return Response(status_code=204)
        return JSONResponse({"data": rows, "info": {"count": len(rows), "more_records": more}})

    async def deleted(self, request: Request, module: str) -> Response:
        grant = self.auth(request, module, "READ")
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, module)
        if table is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        kind = request.query_params.get("type", "all")
        if kind not in ("all", "recycle", "permanent"):
            return crm_error(400, "INVALID_DATA", "invalid data", {"param_name": "type"})
        paging = self.parse_paging(request)
        if isinstance(paging, Response):
            return paging
        page, per_page = paging
        since = None
        header = request.headers.get("if-modified-since")
        if header:
            since = parse_zoho_datetime(header)
        owner = self.state_owner(grant.tenant)
        entries = [
            {
                "id": record_id,
                "display_name": self.state.deleted_names.get((grant.tenant, module, record_id)),
                "type": "recycle",
                "deleted_by": {"name": owner["name"], "id": owner["id"]},
                "created_by": {"name": owner["name"], "id": owner["id"]},
                "deleted_time": crm_datetime(at, self.offset(grant.tenant)),
            }
            for record_id, at in table.deleted_items()
            if since is None or at >= since
        ]
        if kind == "permanent":
            entries = []  # nothing is purged from the recycle bin during a sandbox session
        chunk = entries[(page - 1) * per_page : page * per_page + 1]
        if not chunk:
            return Response(status_code=304 if header else 204)
        data = chunk[:per_page]
        info = {"per_page": per_page, "count": len(data), "page": page, "more_records": len(chunk) > per_page}
        return JSONResponse({"data": data, "info": info})


def build_crm_router(state: ZohoState) -> APIRouter:
    crm = Crm(state)
    router = APIRouter()
    router.add_api_route(f"{BASE}/coql", crm.coql, methods=["POST"])
    router.add_api_route(BASE + "/{module}/search", crm.search, methods=["GET"])
    router.add_api_route(BASE + "/{module}/deleted", crm.deleted, methods=["GET"])
    router.add_api_route(BASE + "/{module}/upsert", crm.upsert, methods=["POST"])
    router.add_api_route(BASE + "/{module}/actions/count", crm.count, methods=["GET"])
    router.add_api_route(BASE + "/{module}", crm.list_records, methods=["GET"])
    router.add_api_route(BASE + "/{module}", crm.insert, methods=["POST"])
    router.add_api_route(BASE + "/{module}", crm.update, methods=["PUT"])
    router.add_api_route(BASE + "/{module}", crm.delete, methods=["DELETE"])
    router.add_api_route(BASE + "/{module}/{record_id}", crm.get_record, methods=["GET"])

    async def update_one(request: Request, module: str, record_id: str) -> Response:
        return await crm.update(request, module, record_id)

    async def delete_one(request: Request, module: str, record_id: str) -> Response:
        return await crm.delete(request, module, record_id)

    router.add_api_route(BASE + "/{module}/{record_id}", update_one, methods=["PUT"])
    router.add_api_route(BASE + "/{module}/{record_id}", delete_one, methods=["DELETE"])
    return router
