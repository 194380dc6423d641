"""ZohoHook: Zoho CRM v8, Inventory v1 and Books v3 over one ``zoho`` Airflow Connection.

The hook subclasses the HTTP provider's ``HttpHook`` for its connection plumbing but builds its own
``requests.Session``: the provider would turn every unknown extra (the refresh token!) into a request
header. Every call goes through :class:`~zoho_cscart_sync.http.client.ApiRequester` (limits, timeout,
classification, bounded retries, one token refresh on 401).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import requests
from airflow.providers.http.hooks.http import HttpHook

from zoho_cscart_sync.auth.oauth import ZohoOAuth
from zoho_cscart_sync.auth.token_manager import TokenStatus, ZohoTokenManager
from zoho_cscart_sync.hooks import crm_query
from zoho_cscart_sync.hooks.config import ConnectionConfigError, ZohoConnectionConfig, lookup_connection
from zoho_cscart_sync.hooks.endpoints import endpoint_template
from zoho_cscart_sync.http import pagination
from zoho_cscart_sync.http.client import ApiRequester, ApiResponse, RequestContext
from zoho_cscart_sync.http.errors import (
    ZOHO_BOOKS,
    ZOHO_CRM,
    ZOHO_INVENTORY,
    ApiError,
    FatalApiError,
    Kind,
    NotFoundError,
)
from zoho_cscart_sync.http.ratelimit import RateLimit, limiter_for

if TYPE_CHECKING:
    import tenacity

    from zoho_cscart_sync.state import StateStore

CRM_BASE = "/crm/v8"
INVENTORY_BASE = "/inventory/v1"
BOOKS_BASE = "/books/v3"
CRM_WRITE_BATCH = 100
CRM_MAX_FIELDS = 50
# Response keys of single objects in Inventory/Books (`salesorder`, not `sales_order`, in the real API).
FINANCE_OBJECT_KEYS: Mapping[str, str] = {
    "items": "item",
    "contacts": "contact",
    "salesorders": "salesorder",
    "inventoryadjustments": "inventory_adjustment",
    "invoices": "invoice",
    "organizations": "organization",
}


@dataclass(frozen=True)
class WriteResult:
    """Outcome of one record of a CRM write batch, in request order."""

    index: int
    status: str
    code: str
    message: str
    id: str | None
    action: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether Zoho accepted the record."""
        return self.status == "success"


def crm_datetime(value: datetime) -> str:
    """CRM datetime with a colon offset (``2026-11-20T00:00:00+00:00``), as If-Modified-Since/COQL want it."""
    return _aware(value).astimezone(timezone.utc).isoformat(timespec="seconds")


def finance_datetime(value: datetime) -> str:
    """Inventory/Books ``last_modified_time`` filter format: ``%Y-%m-%dT%H:%M:%S%z`` (offset w/o colon)."""
    return _aware(value).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S%z")


def parse_zoho_datetime(value: str) -> datetime:
    """Parse CRM (``+05:30``) and Inventory/Books (``+0530``) timestamps into aware datetimes."""
    return datetime.fromisoformat(value)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass timezone-aware (UTC) datetimes")
    return value


class ZohoHook(HttpHook):
    """Zoho CRM / Inventory / Books for one tenant.

    :param conn_id: a ``zoho`` connection (login = client id, password = client secret, extras:
        ``refresh_token``, ``region``, ``organization_id``, optional ``accounts_url`` / ``api_domain``).
    :param tenant: tenant id for logs, errors, limits and the token cache (defaults to ``conn_id``).
    :param state: the state store holding the shared token cache (default ``StateStore.default()``).
    :param wait: tenacity wait strategy replacing the backoff (tests pass ``tenacity.wait_none()``).
    """

    conn_name_attr = "conn_id"
    default_conn_name = "zoho_default"
    conn_type = "zoho"
    hook_name = "Zoho (CRM / Inventory / Books)"

    def __init__(
        self,
        conn_id: str = default_conn_name,
        *,
        tenant: str | None = None,
        state: StateStore | None = None,
        wait: tenacity.wait.wait_base | None = None,
    ) -> None:
        super().__init__(method="GET", http_conn_id=conn_id)
        self.conn_id = conn_id
        self.tenant = tenant or conn_id
        self._state = state
        self._wait = wait
        self.calls: Counter[str] = Counter()
        """Calls made through this hook per endpoint (``zoho POST /crm/v8/Contacts/upsert``), for the report."""

    # ------------------------------------------------------------------ plumbing
    @cached_property
    def config(self) -> ZohoConnectionConfig:
        """The validated connection (looked up on first use, never at import or construction)."""
        return ZohoConnectionConfig.from_connection(lookup_connection(self.conn_id))

    @cached_property
    def state(self) -> StateStore:
        """The state store with the shared token cache."""
        if self._state is None:
            from zoho_cscart_sync.state import StateStore

            self._state = StateStore.default()
        return self._state

    @cached_property
    def token_manager(self) -> ZohoTokenManager:
        """Shared access-token cache for this connection's refresh token."""
        config = self.config
        return ZohoTokenManager(
            tenant=self.tenant,
            conn_id=self.conn_id,
            client_id=config.client_id,
            client_secret=config.client_secret,
            refresh_token=config.refresh_token,
            accounts_url=config.accounts_url,
            store=self.state,
            api_domain_override=config.api_domain_override,
            default_api_domain=config.default_api_domain,
            mint_budget=config.mint_budget,
            timeout=config.timeout,
            policy=config.retry,
        )

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """A session signed with the shared Zoho token. Extras are deliberately NOT copied into headers."""
        session = requests.Session()
        session.auth = ZohoOAuth(self.token_manager)
        session.headers["Accept"] = "application/json"
        if headers:
            session.headers.update(headers)
        if self.keep_alive_adapter is not None:
            session.mount("https://", self.keep_alive_adapter)
            session.mount("http://", self.keep_alive_adapter)
        return session

    @cached_property
    def session(self) -> requests.Session:
        """The hook's session (one per hook instance, reused by every call)."""
        return self.get_conn()

    def _requester(self, api: str) -> ApiRequester:
        limits: dict[str, RateLimit] = {
            ZOHO_CRM: self.config.crm_limit,
            ZOHO_INVENTORY: self.config.inventory_limit,
            ZOHO_BOOKS: self.config.books_limit,
        }
        # Zoho counts Inventory/Books requests per organisation: tenants (and hooks, and threads) of one
        # organisation in this process draw from one limiter. Without an organisation the call fails anyway.
        scope = self.tenant
        if api in (ZOHO_INVENTORY, ZOHO_BOOKS) and self.config.organization_id:
            scope = f"org:{self.config.organization_id}"
        return ApiRequester(
            self.session,
            RequestContext(self.tenant, self.conn_id, (self.config.client_secret, self.config.refresh_token)),
            limiter=limiter_for(api, scope, limits[api]),
            policy=self.config.retry,
            timeout=self.config.timeout,
            refresh_token=self.token_manager.refresh_after_rejection,
            wait=self._wait,
        )

    def api_domain(self) -> str:
        """The API domain of the current token (mints or reuses the shared token)."""
        return self.token_manager.access_token().api_domain

    def _call(
        self,
        api: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> ApiResponse:
        self.calls[f"zoho {method} {endpoint_template(path)}"] += 1
        return self._requester(api).request(
            api,
            method,
            f"{self.api_domain()}{path}",
            params=params,
            json=json,
            headers=headers,
            idempotent=idempotent,
        )

    def _context(self, api: str, path: str) -> dict[str, str]:
        return {"tenant": self.tenant, "conn_id": self.conn_id, "api": api, "endpoint": path}

    # ------------------------------------------------------------------ CRM reads
    def crm_pages(
        self,
        module: str,
        *,
        fields: Sequence[str],
        modified_since: datetime | None = None,
        sort_by: str = "Modified_Time",
        per_page: int = pagination.CRM_MAX_PER_PAGE,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``module`` sorted ascending by ``sort_by``; ``page_token`` past 2,000; 304/204 -> nothing.

        ``modified_since`` becomes ``If-Modified-Since`` (inclusive: records modified at or after it).
        """
        path = f"{CRM_BASE}/{module}"
        params = {"fields": self._fields(fields), "sort_by": sort_by, "sort_order": "asc"}
        headers = {"If-Modified-Since": crm_datetime(modified_since)} if modified_since else None

        def fetch(page_params: dict[str, Any]) -> Any:
            return self._call(ZOHO_CRM, "GET", path, params=page_params, headers=headers).body

        yield from pagination.crm_pages(fetch, params, per_page=per_page, context=self._context(ZOHO_CRM, path))

    def crm_window(
        self,
        module: str,
        *,
        fields: Sequence[str],
        since: datetime | None,
        until: datetime | None,
        strategy: str = "coql",
        batch_size: int = crm_query.COQL_MAX_ROWS,
    ) -> Iterator[list[dict[str, Any]]]:
        """Records with ``since <= Modified_Time < until`` (half-open: adjacent windows never overlap).

        ``strategy="coql"`` (default): keyset COQL on (Modified_Time, id): correct under concurrent edits and
        the cheapest in credits (see :mod:`zoho_cscart_sync.hooks.crm_query`). ``strategy="list"``: for
        fields COQL cannot select (line items): ``If-Modified-Since`` + sort by Modified_Time + local filter,
        stopping at the first record past ``until``.
        """
        if strategy == "coql":
            yield from crm_query.coql_window(
                self.crm_coql, module, fields, since=since, until=until, batch_size=batch_size
            )
        elif strategy == "list":
            wanted = list(dict.fromkeys([*fields, "Modified_Time"]))
            since_floor = crm_query.floor_second(since) if since is not None else None
            pages = self.crm_pages(module, fields=wanted, modified_since=since_floor, sort_by="Modified_Time")
            yield from crm_query.list_window(pages, since=since, until=until)
        else:
            raise ValueError(f"unknown crm_window strategy {strategy!r}; use 'coql' or 'list'")

    def crm_coql(self, select_query: str) -> dict[str, Any] | None:
        """Run one COQL query (``POST /crm/v8/coql``); None when nothing matches (204)."""
        body = self._call(ZOHO_CRM, "POST", f"{CRM_BASE}/coql", json={"select_query": select_query}).body
        return body if isinstance(body, dict) else None

    def crm_get(self, module: str, record_id: str) -> dict[str, Any] | None:
        """One record with all fields, or None when it does not exist."""
        try:
            body = self._call(ZOHO_CRM, "GET", f"{CRM_BASE}/{module}/{record_id}").body
        except NotFoundError:
            return None
        except FatalApiError as exc:
            # An unknown id may also come back as INVALID_DATA "the id given seems to be invalid".
            if exc.code == "INVALID_DATA":
                return None
            raise
        records = (body or {}).get("data") or []
        return records[0] if records else None

    def crm_search(
        self, module: str, criteria: str, *, fields: Sequence[str] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``GET /{module}/search?criteria=...``; search is capped at 2,000 results by Zoho."""
        path = f"{CRM_BASE}/{module}/search"
        params: dict[str, Any] = {"criteria": criteria}
        if fields:
            params["fields"] = self._fields(fields)

        def fetch(page_params: dict[str, Any]) -> Any:
            return self._call(ZOHO_CRM, "GET", path, params=page_params).body

        yield from pagination.crm_pages(fetch, params, context=self._context(ZOHO_CRM, path))

    def crm_deleted(
        self, module: str, *, since: datetime | None, deleted_type: str = "all"
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of deleted records (``type=all|recycle|permanent``) deleted at or after ``since``."""
        path = f"{CRM_BASE}/{module}/deleted"
        headers = {"If-Modified-Since": crm_datetime(since)} if since else None

        def fetch(page_params: dict[str, Any]) -> Any:
            return self._call(ZOHO_CRM, "GET", path, params=page_params, headers=headers).body

        for page in pagination.crm_pages(fetch, {"type": deleted_type}, context=self._context(ZOHO_CRM, path)):
            if since is not None:
                page = [
                    row
                    for row in page
                    if not row.get("deleted_time") or parse_zoho_datetime(str(row["deleted_time"])) >= since
                ]
            if page:
                yield page

    # ------------------------------------------------------------------ CRM writes
    def crm_upsert(
        self,
        module: str,
        records: Sequence[Mapping[str, Any]],
        *,
        duplicate_check_fields: Sequence[str],
        trigger: Sequence[str] = (),
    ) -> list[WriteResult]:
        """Upsert in batches of <= 100; one :class:`WriteResult` per input record, in input order.

        Upsert is keyed by ``duplicate_check_fields``, so a retried batch updates instead of duplicating.
        ``trigger`` defaults to none (no workflows/approvals/blueprints fired by the sync).
        """
        return self._crm_write(
            "POST",
            f"{CRM_BASE}/{module}/upsert",
            records,
            extra={"duplicate_check_fields": list(duplicate_check_fields), "trigger": list(trigger)},
        )

    def crm_insert(
        self, module: str, records: Sequence[Mapping[str, Any]], *, trigger: Sequence[str] = ()
    ) -> list[WriteResult]:
        """Insert records (``POST /{module}``) in batches of <= 100. Not idempotent: a caller whose answer is lost
        looks the records up before sending them again. Unique fields answer ``DUPLICATE_DATA`` with the holder
        in ``details.duplicate_record``."""
        return self._crm_write("POST", f"{CRM_BASE}/{module}", records, extra={"trigger": list(trigger)})

    def crm_update(
        self, module: str, records: Sequence[Mapping[str, Any]], *, trigger: Sequence[str] = ()
    ) -> list[WriteResult]:
        """Update records (each carries ``id``) in batches of <= 100."""
        return self._crm_write("PUT", f"{CRM_BASE}/{module}", records, extra={"trigger": list(trigger)})

    def _crm_write(
        self, method: str, path: str, records: Sequence[Mapping[str, Any]], *, extra: Mapping[str, Any]
    ) -> list[WriteResult]:
        results: list[WriteResult] = []
        for start in range(0, len(records), CRM_WRITE_BATCH):
            batch = [dict(record) for record in records[start : start + CRM_WRITE_BATCH]]
            body = self._call(ZOHO_CRM, method, path, json={"data": batch, **extra}).body or {}
            rows = body.get("data")
            if not isinstance(rows, list) or len(rows) != len(batch):
                raise FatalApiError(
                    f"expected {len(batch)} per-record results, got {len(rows) if isinstance(rows, list) else 0}",
                    tenant=self.tenant,
                    conn_id=self.conn_id,
                    api=ZOHO_CRM,
                    method=method,
                    endpoint=path,
                    kind=Kind.DATA,
                )
            for offset, row in enumerate(rows):
                details = row.get("details") or {}
                results.append(
                    WriteResult(
                        index=start + offset,
                        status=str(row.get("status", "error")),
                        code=str(row.get("code", "")),
                        message=str(row.get("message", "")),
                        id=str(details["id"]) if row.get("status") == "success" and details.get("id") else None,
                        action=row.get("action"),
                        details=details,
                    )
                )
        return results

    # ------------------------------------------------------------------ Inventory / Books
    def inventory_pages(
        self,
        resource: str,
        *,
        params: Mapping[str, Any] | None = None,
        modified_since: datetime | None = None,
        modified_until: datetime | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of an Inventory list (``items``, ``contacts``, ``salesorders``...), via ``page_context``.

        ``modified_since`` / ``modified_until`` select ``since <= last_modified_time < until``.
        """
        yield from self._finance_pages(ZOHO_INVENTORY, INVENTORY_BASE, resource, params, modified_since, modified_until)

    def books_pages(
        self,
        resource: str,
        *,
        params: Mapping[str, Any] | None = None,
        modified_since: datetime | None = None,
        modified_until: datetime | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of a Books list (``contacts``, ``salesorders``...); window as for :meth:`inventory_pages`."""
        yield from self._finance_pages(ZOHO_BOOKS, BOOKS_BASE, resource, params, modified_since, modified_until)

    def inventory_get(self, resource: str, object_id: str) -> dict[str, Any] | None:
        """One Inventory object, or None when it does not exist."""
        return self._finance_get(ZOHO_INVENTORY, INVENTORY_BASE, resource, object_id)

    def books_get(self, resource: str, object_id: str) -> dict[str, Any] | None:
        """One Books object, or None when it does not exist."""
        return self._finance_get(ZOHO_BOOKS, BOOKS_BASE, resource, object_id)

    def inventory_create(self, resource: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Create an Inventory object and return it; not retried after a timeout/5xx (AmbiguousWriteError)."""
        return self._finance_write(ZOHO_INVENTORY, INVENTORY_BASE, "POST", resource, None, payload)

    def inventory_update(self, resource: str, object_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Update an Inventory object by id; returns it."""
        return self._finance_write(ZOHO_INVENTORY, INVENTORY_BASE, "PUT", resource, object_id, payload)

    def books_create(self, resource: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Create a Books object; returns it."""
        return self._finance_write(ZOHO_BOOKS, BOOKS_BASE, "POST", resource, None, payload)

    def books_update(self, resource: str, object_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Update a Books object by id; returns it."""
        return self._finance_write(ZOHO_BOOKS, BOOKS_BASE, "PUT", resource, object_id, payload)

    def inventory_mark(self, resource: str, object_id: str, status: str) -> None:
        """``POST /inventory/v1/<resource>/<id>/<status>`` (``active`` / ``inactive``): status is not an edit."""
        self._finance_mark(ZOHO_INVENTORY, INVENTORY_BASE, resource, object_id, status)

    def books_mark(self, resource: str, object_id: str, status: str) -> None:
        """``POST /books/v3/<resource>/<id>/<status>`` (``active`` / ``inactive``)."""
        self._finance_mark(ZOHO_BOOKS, BOOKS_BASE, resource, object_id, status)

    def inventory_status(self, resource: str, object_id: str, status: str) -> None:
        """``POST /inventory/v1/<resource>/<id>/status/<status>`` (sales orders: ``confirmed`` / ``void``)."""
        self._finance_status(ZOHO_INVENTORY, INVENTORY_BASE, resource, object_id, status, ("confirmed", "void"))

    def books_status(self, resource: str, object_id: str, status: str) -> None:
        """``POST /books/v3/<resource>/<id>/status/<status>`` (sales orders: ``open`` / ``void``; Books says open
        where Inventory says confirmed, zoho_api.md 4)."""
        self._finance_status(ZOHO_BOOKS, BOOKS_BASE, resource, object_id, status, ("open", "void"))

    def _finance_status(
        self, api: str, base: str, resource: str, object_id: str, status: str, allowed: tuple[str, ...]
    ) -> None:
        if status not in allowed:
            raise ValueError(f"{resource} status must be {' or '.join(allowed)}, got {status!r}")
        # Idempotent in effect (a second identical call is refused, not applied twice), so it may be retried.
        self._call(api, "POST", f"{base}/{resource}/{object_id}/status/{status}", params=self._organization_params())

    def _finance_mark(self, api: str, base: str, resource: str, object_id: str, status: str) -> None:
        if status not in ("active", "inactive"):
            raise ValueError(f"{resource} status must be active or inactive, got {status!r}")
        # Marking is idempotent (the same status twice is harmless), so it may be retried.
        self._call(api, "POST", f"{base}/{resource}/{object_id}/{status}", params=self._organization_params())

    def _organization_params(self) -> dict[str, str]:
        if not self.config.organization_id:
            raise ConnectionConfigError(self.conn_id, "extra.organization_id", "is required for Inventory/Books")
        return {"organization_id": self.config.organization_id}

    def _finance_pages(
        self,
        api: str,
        base: str,
        resource: str,
        params: Mapping[str, Any] | None,
        modified_since: datetime | None,
        modified_until: datetime | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        path = f"{base}/{resource}"
        query: dict[str, Any] = {**self._organization_params(), **(params or {})}
        if "sort_column" not in query:
            # Creation order does not change when records are edited mid-scan (last_modified_time would).
            query.update(sort_column="created_time", sort_order="A")
        # last_modified_time has whole seconds: a record stamped with the second the window starts in may have
        # changed after the start's fraction (a manual run's start is its predecessor's trigger time), so the
        # window starts at that whole second: such a record is read by both neighbouring windows (unchanged
        # content costs no write), never by neither.
        since_floor = crm_query.floor_second(modified_since) if modified_since is not None else None
        if since_floor is not None:
            query["last_modified_time"] = finance_datetime(since_floor)

        def fetch(page_params: dict[str, Any]) -> Any:
            return self._call(api, "GET", path, params=page_params).body

        def inside(row: Mapping[str, Any]) -> bool:
            # The server filter is documented as "modified after" (R); re-check locally so a server that
            # ignores or rounds it costs calls but never widens the window. Rows without a time are kept.
            raw = row.get("last_modified_time")
            if not raw:
                return True
            modified = parse_zoho_datetime(str(raw))
            return (since_floor is None or modified >= since_floor) and (
                modified_until is None or modified < modified_until
            )

        list_key = resource.rsplit("/", 1)[-1]
        for page in pagination.zoho_finance_pages(fetch, query, list_key=list_key, context=self._context(api, path)):
            page = [row for row in page if inside(row)]
            if page:
                yield page

    def _finance_get(self, api: str, base: str, resource: str, object_id: str) -> dict[str, Any] | None:
        try:
            body = self._call(api, "GET", f"{base}/{resource}/{object_id}", params=self._organization_params()).body
        except NotFoundError:
            return None
        return _finance_object(resource, body)

    def _finance_write(
        self,
        api: str,
        base: str,
        method: str,
        resource: str,
        object_id: str | None,
        payload: Mapping[str, Any],
    ) -> dict[str, Any]:
        path = f"{base}/{resource}" + (f"/{object_id}" if object_id else "")
        body = self._call(
            api,
            method,
            path,
            params=self._organization_params(),
            json=dict(payload),
            idempotent=method != "POST",
        ).body
        return _finance_object(resource, body)

    # ------------------------------------------------------------------ operations
    def token_status(self) -> TokenStatus:
        """When the cached token expires, its API domain and recent mints; never the token itself."""
        return self.token_manager.status()

    def revoke(self) -> None:
        """Disconnect: revoke the refresh token at Zoho and drop the cached access token."""
        self.token_manager.revoke()

    def reconnect(self, code: str, *, redirect_uri: str | None = None) -> str:
        """Exchange a grant code for a new refresh token (returned; store it in the connection)."""
        return self.token_manager.exchange_code(code, redirect_uri)

    def test_connection(self) -> tuple[bool, str]:
        """Cheap end-to-end check used by the UI Test button and ``airflow connections test``.

        Reuses (or mints) the shared token and reads one CRM contact id; with ``organization_id`` also one
        Inventory item. Returns the token expiry so the operator sees it on the connection page.
        """
        try:
            self._call(ZOHO_CRM, "GET", f"{CRM_BASE}/Contacts", params={"fields": "id", "per_page": 1})
            checked = "CRM"
            if self.config.organization_id:
                self._call(
                    ZOHO_INVENTORY,
                    "GET",
                    f"{INVENTORY_BASE}/items",
                    params={**self._organization_params(), "per_page": 1},
                )
                checked += " + Inventory"
            status = self.token_status()
        except (ApiError, ConnectionConfigError) as exc:
            return False, str(exc)
        expires = status.expires_at.isoformat() if status.expires_at else "unknown"
        return True, f"Zoho {checked} reachable at {status.api_domain}; access token valid until {expires}"

    @staticmethod
    def _fields(fields: Sequence[str]) -> str:
        if not fields:
            raise ValueError("Zoho CRM list calls need at least one field (the `fields` parameter is mandatory)")
        if len(fields) > CRM_MAX_FIELDS:
            raise ValueError(f"Zoho CRM accepts at most {CRM_MAX_FIELDS} fields per call, got {len(fields)}")
        return ",".join(fields)


def _finance_object(resource: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    key = FINANCE_OBJECT_KEYS.get(resource.rsplit("/", 1)[-1])
    if key and isinstance(body.get(key), dict):
        return dict(body[key])
    return dict(body)
