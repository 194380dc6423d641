"""CsCartHook: the CS-Cart / Multi-Vendor REST API over one ``cscart`` Airflow Connection.

HTTP Basic with the API user's e-mail and API key. For a vendor-level tenant (``company_id`` set) every
read of a company-owned entity is filtered to that company, every row and object read is checked, and
every write forces the company: touching another vendor's record raises :class:`VendorScopeError`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import requests
from airflow.providers.http.hooks.http import HttpHook

from zoho_cscart_sync.hooks.config import ConnectionConfigError, CsCartConnectionConfig, lookup_connection
from zoho_cscart_sync.hooks.endpoints import endpoint_template
from zoho_cscart_sync.http import pagination
from zoho_cscart_sync.http.client import ApiRequester, ApiResponse, RequestContext
from zoho_cscart_sync.http.errors import (
    CSCART,
    ApiError,
    FatalApiError,
    Kind,
    NotFoundError,
    VendorScopeError,
)
from zoho_cscart_sync.http.ratelimit import limiter_for

if TYPE_CHECKING:
    import tenacity

# Entities whose rows carry the owning vendor's company_id in Multi-Vendor (cscart_api.md section 6).
VENDOR_SCOPED_ENTITIES = frozenset({"products", "orders", "shipments"})
# Entities a vendor tenant must never write: they define the marketplace itself.
MARKETPLACE_ENTITIES = frozenset({"vendors", "stores", "companies"})
ID_FIELDS: Mapping[str, str] = {
    "products": "product_id",
    "users": "user_id",
    "orders": "order_id",
    "categories": "category_id",
    "vendors": "company_id",
    "shipments": "shipment_id",
    "statuses": "status_id",
    "payments": "payment_id",
    "shippings": "shipping_id",
    "taxes": "tax_id",
}


class CsCartHook(HttpHook):
    """CS-Cart REST API for one tenant (a whole store, or one vendor when ``company_id`` is given).

    :param conn_id: a ``cscart`` connection (host = store base URL, login = API user e-mail, password =
        API key; extras ``api_path``, ``api_version``, ``timeout``, rate limits).
    :param tenant: tenant id for logs, errors and limits (defaults to ``conn_id``).
    :param company_id: the vendor's company_id for a vendor-level tenant (from the tenant file).
    :param wait: tenacity wait strategy replacing the backoff (tests pass ``tenacity.wait_none()``).
    """

    conn_name_attr = "conn_id"
    default_conn_name = "cscart_default"
    conn_type = "cscart"
    hook_name = "CS-Cart / Multi-Vendor"

    def __init__(
        self,
        conn_id: str = default_conn_name,
        *,
        tenant: str | None = None,
        company_id: int | None = None,
        wait: tenacity.wait.wait_base | None = None,
    ) -> None:
        super().__init__(method="GET", http_conn_id=conn_id)
        self.conn_id = conn_id
        self.tenant = tenant or conn_id
        self.company_id = company_id
        self._wait = wait
        self.calls: Counter[str] = Counter()
        """Calls made through this hook per endpoint (``cscart GET /api/users/{id}``), for the run report."""

    # ------------------------------------------------------------------ plumbing
    @cached_property
    def config(self) -> CsCartConnectionConfig:
        """The validated connection (looked up on first use)."""
        return CsCartConnectionConfig.from_connection(lookup_connection(self.conn_id))

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """A Basic-auth session. Extras are deliberately NOT copied into headers."""
        session = requests.Session()
        session.auth = requests.auth.HTTPBasicAuth(self.config.email, self.config.api_key)
        session.headers["Accept"] = "application/json"
        if headers:
            session.headers.update(headers)
        if self.keep_alive_adapter is not None:
            session.mount("https://", self.keep_alive_adapter)
            session.mount("http://", self.keep_alive_adapter)
        return session

    @cached_property
    def session(self) -> requests.Session:
        """The hook's session (one per hook instance)."""
        return self.get_conn()

    @cached_property
    def requester(self) -> ApiRequester:
        """Request executor with the tenant's CS-Cart limits."""
        return ApiRequester(
            self.session,
            RequestContext(self.tenant, self.conn_id, (self.config.api_key,)),
            limiter=limiter_for(CSCART, self.tenant, self.config.limit),
            policy=self.config.retry,
            timeout=self.config.timeout,
            wait=self._wait,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> ApiResponse:
        self.calls[f"cscart {method} {endpoint_template('/api/' + path)}"] += 1
        # `json=` makes requests send Content-Type: application/json; without it CS-Cart parses the body
        # as a query string and silently drops fields.
        return self.requester.request(
            CSCART, method, f"{self.config.api_url}/{path}", params=params, json=json, idempotent=idempotent
        )

    @property
    def is_vendor(self) -> bool:
        """Whether this tenant is one vendor of a Multi-Vendor marketplace."""
        return self.company_id is not None

    # ------------------------------------------------------------------ vendor scoping
    def _scope_error(self, entity: str, message: str, *, method: str = "GET") -> VendorScopeError:
        return VendorScopeError(
            message,
            tenant=self.tenant,
            conn_id=self.conn_id,
            api=CSCART,
            method=method,
            endpoint=f"{self.config.api_url}/{entity}",
            kind=Kind.PERMISSION,
            hint=f"vendor tenant {self.tenant!r} may only touch company_id {self.company_id}",
        )

    def _check_owner(self, entity: str, record: Mapping[str, Any], *, method: str = "GET") -> None:
        if not self.is_vendor or entity not in VENDOR_SCOPED_ENTITIES:
            return
        owner = record.get("company_id")
        if owner is None or str(owner) != str(self.company_id):
            record_id = record.get(ID_FIELDS.get(entity, "id"), "?")
            raise self._scope_error(
                entity,
                f"{entity} {record_id} belongs to company_id {owner}, not {self.company_id}",
                method=method,
            )

    def _scoped_payload(self, entity: str, payload: Mapping[str, Any], method: str) -> dict[str, Any]:
        body = dict(payload)
        if not self.is_vendor:
            return body
        if entity in MARKETPLACE_ENTITIES:
            raise self._scope_error(entity, f"a vendor tenant may not write {entity}", method=method)
        if entity in VENDOR_SCOPED_ENTITIES:
            given = body.get("company_id")
            if given not in (None, "") and str(given) != str(self.company_id):
                raise self._scope_error(
                    entity,
                    f"payload company_id {given} differs from the tenant's {self.company_id}",
                    method=method,
                )
            body["company_id"] = self.company_id
        return body

    # ------------------------------------------------------------------ reads
    def pages(
        self,
        entity: str,
        *,
        params: Mapping[str, Any] | None = None,
        items_per_page: int = 100,
        on_total: Callable[[int], None] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``GET /api/<entity>`` (``users`` needs ``user_type`` in params on 4.20).

        Stops correctly on entities that repeat their last page for an out-of-range page number. ``on_total``
        receives the first page's ``params.total_items`` (the size of the whole filtered list), so a reader that
        stops after one page still learns it without a call of its own.
        """
        query = self._scoped_list_params(entity, params)

        def fetch(page_params: dict[str, Any]) -> Any:
            body = self._call("GET", entity, params=page_params).body
            if on_total is not None and page_params.get("page") == 1:
                total = _total_items(body)
                if total is not None:
                    on_total(total)
            return body

        list_key = entity.rsplit("/", 1)[-1]
        for page in pagination.cscart_pages(fetch, query, list_key=list_key, items_per_page=items_per_page):
            for row in page:
                self._check_owner(entity, row)
            yield page

    def count(self, entity: str, *, params: Mapping[str, Any] | None = None) -> int | None:
        """How many records ``GET /api/<entity>`` lists with ``params`` (a vendor: its own company's), in one call
        of one row (``params.total_items``); None when the answer carries no total."""
        query = {**self._scoped_list_params(entity, params), "page": 1, "items_per_page": 1}
        return _total_items(self._call("GET", entity, params=query).body)

    def _scoped_list_params(self, entity: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """List parameters with a vendor tenant's ``company_id`` forced on the entities vendors own."""
        query = dict(params or {})
        if self.is_vendor and entity in VENDOR_SCOPED_ENTITIES:
            requested = query.get("company_id")
            if requested not in (None, "") and str(requested) != str(self.company_id):
                raise self._scope_error(entity, f"cannot list company_id {requested}")
            query["company_id"] = self.company_id
        return query

    def window_pages(
        self,
        entity: str,
        *,
        since: datetime | None,
        until: datetime | None,
        params: Mapping[str, Any] | None = None,
        items_per_page: int = 100,
    ) -> Iterator[list[dict[str, Any]]]:
        """Records of ``entity`` changed in ``[since, until)``, by the cheapest correct filter CS-Cart has.

        * ``orders``: ``updated_at_from`` / ``updated_at_to`` (unix, inclusive; ``updated_at`` is not in list
          rows, so the server's filter is trusted).
        * ``products``: ``updated_in_hours`` (hour granularity, relative to the server's clock, plus an hour
          of slack) narrows the scan; ``updated_timestamp`` is then filtered exactly here. Stock changes made
          by orders do not bump ``updated_timestamp`` (cscart_api.md 3.1): sync stock separately.
        * everything else (``users``...): CS-Cart has no modified-time filter, so this is a full scan and the
          caller detects changes by content hash.

        Pages are read backwards over a sort key edits do not change, so nothing is skipped when records
        leave the result set mid-scan (see :func:`pagination.cscart_pages_backward`).
        """
        query = dict(params or {})
        if self.is_vendor and entity in VENDOR_SCOPED_ENTITIES:
            query["company_id"] = self.company_id
        exact_filter: str | None = None
        if entity == "orders":
            if since is not None:
                query["updated_at_from"] = math.floor(since.timestamp())
            if until is not None:
                query["updated_at_to"] = math.ceil(until.timestamp()) - 1
            query.update(sort_by="order_id", sort_order="asc")
        elif entity == "products":
            if since is not None:
                hours = math.ceil((datetime.now(timezone.utc) - since).total_seconds() / 3600) + 1
                query["updated_in_hours"] = max(1, hours)
            query.update(sort_by="timestamp", sort_order="asc")
            exact_filter = "updated_timestamp"
        elif entity == "users":
            query.setdefault("sort_by", "id")
            query.setdefault("sort_order", "asc")

        def fetch(page_params: dict[str, Any]) -> Any:
            return self._call("GET", entity, params=page_params).body

        context = {"tenant": self.tenant, "conn_id": self.conn_id, "api": CSCART, "endpoint": entity}
        list_key = entity.rsplit("/", 1)[-1]
        for page in pagination.cscart_pages_backward(
            fetch, query, list_key=list_key, items_per_page=items_per_page, context=context
        ):
            for row in page:
                self._check_owner(entity, row)
            if exact_filter is not None:
                page = [row for row in page if _in_window(row.get(exact_filter), since, until)]
            if page:
                yield page

    def get(self, entity: str, obj_id: int | str) -> dict[str, Any] | None:
        """One object, or None when it does not exist; another vendor's object raises VendorScopeError."""
        try:
            body = self._call("GET", f"{entity}/{obj_id}").body
        except NotFoundError:
            return None
        if not isinstance(body, dict):
            return None
        wrapped = body.get(entity)
        if isinstance(wrapped, list):
            # CS-Cart 4.20 answers GET /users/<missing id> with 200 {"users": [], "params": ...}.
            if not wrapped:
                return None
            body = wrapped[0]
        self._check_owner(entity, body)
        return body

    # ------------------------------------------------------------------ writes
    def create(self, entity: str, payload: Mapping[str, Any]) -> str:
        """Create an object and return its new id (as a string).

        Never retried after a read timeout or 5xx (it may have been created): AmbiguousWriteError is raised
        so the caller can look the record up by its natural key before trying again.
        """
        body = self._scoped_payload(entity, payload, "POST")
        response = self._call("POST", entity, json=body, idempotent=False)
        return self._new_id(entity, response)

    def update(self, entity: str, obj_id: int | str, payload: Mapping[str, Any]) -> None:
        """Partially update an object. For a vendor tenant the object's owner is checked first (one GET)."""
        body = self._scoped_payload(entity, payload, "PUT")
        if self.is_vendor and entity in VENDOR_SCOPED_ENTITIES:
            existing = self.get(entity, obj_id)
            if existing is None:
                raise NotFoundError(
                    f"{entity} {obj_id} does not exist or is not visible to vendor company_id {self.company_id}",
                    tenant=self.tenant,
                    conn_id=self.conn_id,
                    api=CSCART,
                    method="PUT",
                    endpoint=f"{self.config.api_url}/{entity}/{obj_id}",
                    status=404,
                    kind=Kind.NOT_FOUND,
                )
        self._call("PUT", f"{entity}/{obj_id}", json=body)

    def _new_id(self, entity: str, response: ApiResponse) -> str:
        body = response.body if isinstance(response.body, dict) else {}
        id_field = ID_FIELDS.get(entity)
        value = body.get(id_field) if id_field else None
        if value is None:
            # Vendors answer {"company_id": N} with 200; other entities name their id field `<x>_id`.
            value = next((v for k, v in body.items() if k.endswith("_id")), None)
        if value in (None, "", 0, "0"):
            raise FatalApiError(
                f"create returned no id (HTTP {response.status})",
                tenant=self.tenant,
                conn_id=self.conn_id,
                api=CSCART,
                method="POST",
                endpoint=f"{self.config.api_url}/{entity}",
                status=response.status,
                kind=Kind.DATA,
            )
        return str(value)

    # ------------------------------------------------------------------ operations
    def test_connection(self) -> tuple[bool, str]:
        """Cheap check for the UI Test button / ``airflow connections test``: one product row."""
        try:
            params: dict[str, Any] = {"items_per_page": 1, "get_features": 0, "get_additional": 0}
            if self.is_vendor:
                params["company_id"] = self.company_id
            response = self._call("GET", "products", params=params)
        except (ApiError, ConnectionConfigError) as exc:
            return False, str(exc)
        total = (response.body or {}).get("params", {}).get("total_items", "?")
        return (
            True,
            f"CS-Cart API at {self.config.api_url} reachable as {self.config.email}; {total} products visible",
        )


def _total_items(body: Any) -> int | None:
    """``params.total_items`` of a list answer (CS-Cart sends a string for most entities), or None."""
    meta = body.get("params") if isinstance(body, Mapping) else None
    raw = meta.get("total_items") if isinstance(meta, Mapping) else None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _in_window(unix_value: Any, since: datetime | None, until: datetime | None) -> bool:
    try:
        seconds = int(unix_value)
    except (TypeError, ValueError):
        return True  # no timestamp to judge by: keep the row rather than drop it silently
    # Whole seconds: a row stamped with the second the window starts in may have changed after its fraction, so it
    # is read by both neighbouring windows rather than by neither.
    return (since is None or seconds >= math.floor(since.timestamp())) and (
        until is None or seconds < until.timestamp()
    )
