"""The CS-Cart Multi-Vendor REST API (cscart_api.md): router, auth, body decoding, entities.

Reproduced traps: `/api/2.0/...` and `api.php?_d=` URL forms (`/api/2/...` is a 404), HTTP Basic
with e-mail + API key, bodies parsed as JSON only with `Content-Type: application/json` (otherwise
as a query string: fields silently vanish), the error body shape, `params` pagination where a page
past the end returns the last page again (users, categories, vendors), strings everywhere, order
`products` keyed by item id, 200 for a status-only PUT of an unknown order, vendor-key scoping.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from zoho_cscart_sandbox.cscart_catalog import CatalogApi
from zoho_cscart_sandbox.cscart_customers import CustomersApi
from zoho_cscart_sandbox.cscart_orders import OrdersApi
from zoho_cscart_sandbox.cscart_reference import ReferenceApi
from zoho_cscart_sandbox.cscart_state import ApiCaller, CscartState
from zoho_cscart_sandbox.cscart_wire import error, php_json, php_parse_str
from zoho_cscart_sandbox.knobs import ADMIN_PREFIX, install_admin_routes, install_runtime_middleware

ENTITIES = (
    "products",
    "categories",
    "users",
    "orders",
    "vendors",
    "statuses",
    "payments",
    "shippings",
    "taxes",
    "version",
    "versions",
)


class CscartApi(CatalogApi, CustomersApi, OrdersApi, ReferenceApi):
    """Router + auth + body decoding; the entity handlers come from the mixins (`<entity>_<method>`)."""

    def __init__(self, state: CscartState) -> None:
        self.state = state

    # -- plumbing ------------------------------------------------------------------------------
    def authenticate(self, request: Request) -> ApiCaller | Response:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return error(401)
        try:
            email, _, key = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return error(401)
        user = self.state.api_users.get(email.casefold())
        if user is not None and key and user.api_key == key:
            row = self.state.tables["users"].get(str(user.user_id))
            if row is None or row["status"] != "A":
                return error(401)  # disabled or deleted API user
            return ApiCaller(user)
        return error(401)

    async def read_body(self, request: Request) -> dict[str, Any] | Response:
        raw = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in ("application/json", "application/javascript"):
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return error(400, "Syntax error")
            return body if isinstance(body, dict) else {}
        if content_type in ("", "text/plain"):
            # No Content-Type: the body is parsed as a query string. JSON sent this way becomes
            # garbage keys and the real fields silently disappear (cscart_api.md pitfall 1).
            return php_parse_str(raw.decode("utf-8", "replace"))
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            return php_parse_str("&".join(f"{k}={v}" for k, v in form.multi_items()))
        return error(415)

    async def dispatch(self, request: Request, resource: str) -> Response:
        method = request.method
        if method == "OPTIONS":
            return Response(status_code=200)
        if method not in ("GET", "POST", "PUT", "DELETE"):
            return error(405)
        if "//" in resource:
            return error(404)
        segments = resource.strip("/").split("/") if resource.strip("/") else []
        if resource.endswith("//"):
            return error(404)
        version = "2.1"
        if segments and re.fullmatch(r"\d+(\.\d+)?", segments[0]):
            version = segments.pop(0)
            if version not in ("1.0", "2.0", "2.1", "4.0", "4.1"):
                # /api/2/... resolves to namespace v2, which does not exist -> 404 (pitfall 2).
                return error(404, f"The Entity {segments[0] if segments else ''} not found")
        if not segments:
            return error(404)
        caller = self.authenticate(request)
        if isinstance(caller, Response):
            return caller
        entity = segments[0]
        if entity not in ENTITIES:
            return error(404, f"The Entity {entity} not found")
        if entity == "version":
            return php_json({"Version": version})
        if entity == "versions":
            return php_json(["1.0", "2.0", "2.1", "4.0", "4.1"])
        object_id = segments[1] if len(segments) > 1 else None
        child = segments[2] if len(segments) > 2 else None
        if object_id is not None and not object_id.isdigit():
            return error(404)
        if len(segments) > 4 or (
            child is not None
            and (entity, child)
            not in (
                ("vendors", "products"),
                ("vendors", "orders"),
                ("categories", "products"),
            )
        ):
            return error(404)
        denied = self.vendor_denied(caller, method, entity)
        if denied is not None:
            return denied
        body: dict[str, Any] = {}
        if method in ("POST", "PUT"):
            parsed = await self.read_body(request)
            if isinstance(parsed, Response):
                return parsed
            body = parsed
        params = dict(request.query_params) if method == "GET" else body
        if child is not None:
            # Nested collections: /vendors/2/products, /vendors/2/orders, /categories/5/products.
            if caller.is_vendor and entity == "vendors" and int(object_id or 0) != caller.user.company_id:
                return error(403)
            scope_key = "company_id" if entity == "vendors" else "cid"
            params = {**params, scope_key: object_id}
            entity, object_id = child, segments[3] if len(segments) > 3 else None
            if method == "POST" and object_id is None and entity == "products":
                body = {**body, "company_id": params.get("company_id", body.get("company_id"))}
        if method == "POST" and object_id is not None:
            return error(405, "ID must not be defined")
        if method in ("PUT", "DELETE") and object_id is None:
            return error(405, "Object ID undefined")
        if method == "PUT" and not body:
            return error(405, "Missing parameters")
        handler = getattr(self, f"{entity}_{method.lower()}", None)
        if handler is None:
            return error(405)
        result: Response = handler(caller, object_id, params if method == "GET" else body, request)
        return result

    def vendor_denied(self, caller: ApiCaller, method: str, entity: str) -> Response | None:
        if not caller.is_vendor:
            return None
        if self.state.runtime.knobs.vendor_api_access == "catalog_read_only":
            # 4.13.3 / 4.20.1 code: vendors use customer privileges - GET products/categories only.
            if method == "GET" and entity in ("products", "categories"):
                return None
            return error(403)
        if entity in ("statuses", "taxes") and method != "GET":
            return error(403)
        if entity == "categories" and method != "GET":
            return error(403)  # categories are marketplace-wide in Multi-Vendor
        return None


def _error_response(request: Request, status: int, kind: str) -> Response:
    return error(status)


def build_cscart_app(state: CscartState) -> FastAPI:
    app = FastAPI(title="CS-Cart sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    api = CscartApi(state)
    install_admin_routes(app, state.runtime, on_reset=state.reset)
    install_runtime_middleware(app, state.runtime, error_response=_error_response)

    @app.get(f"{ADMIN_PREFIX}/notifications")
    async def notifications() -> dict[str, Any]:
        """The order e-mails status changes would have sent since the last reset (none without notify_*)."""
        return {"notifications": list(state.notifications)}

    methods = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"]

    @app.api_route("/api.php", methods=methods)
    async def front_controller(request: Request) -> Response:
        """Fallback URL without mod_rewrite: api.php?_d=<entity>[/<id>...]."""
        return await api.dispatch(request, request.query_params.get("_d", ""))

    @app.api_route("/api/{resource:path}", methods=methods)
    async def pretty(request: Request, resource: str) -> Response:
        raw_path = request.scope.get("raw_path", b"").decode("latin-1")
        if "//" in raw_path:
            return error(404)
        return await api.dispatch(request, resource)

    return app
