"""State of the Zoho server: tokens, per-tenant CRM modules and finance organisations, limits."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from zoho_cscart_sandbox import seed as seed_data
from zoho_cscart_sandbox.clock import SEED_NOW
from zoho_cscart_sandbox.credentials import GeneratedTenants, ZohoAppCredentials, zoho_tenants
from zoho_cscart_sandbox.knobs import ServerRuntime
from zoho_cscart_sandbox.lazy import LazyTable
from zoho_cscart_sandbox.zoho_accounts import AccessGrant, TokenRegistry


def crm_error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    """CRM whole-request error: a top-level object, not wrapped in `data`."""
    return JSONResponse({"code": code, "details": details or {}, "message": message, "status": "error"}, status)


def finance_error(status: int, code: int, message: str) -> JSONResponse:
    """Inventory/Books error envelope: numeric `code` and `message`."""
    return JSONResponse({"code": code, "message": message}, status)


@dataclass
class PageCursor:
    tenant: str
    module: str
    order: str
    descending: bool
    modified_since: Any
    offset: int
    expires_at: float


# The window the per-organisation traffic counters slide over: Zoho's Inventory/Books quota window.
ORG_TRAFFIC_WINDOW_SECONDS = 60.0


@dataclass
class OrgTraffic:
    """Requests one organisation sent to one product (Inventory or Books), as they arrived."""

    total: int = 0
    # Requests per wall-clock minute (UTC, "2026-11-20T10:07").
    per_minute: Counter[str] = field(default_factory=Counter)
    # The most requests that arrived within any ORG_TRAFFIC_WINDOW_SECONDS (a sliding window).
    max_in_window: int = 0
    recent: deque[float] = field(default_factory=deque)

    def add(self, now: float, wall: float) -> None:
        self.total += 1
        self.per_minute[time.strftime("%Y-%m-%dT%H:%M", time.gmtime(wall))] += 1
        self.recent.append(now)
        while now - self.recent[0] >= ORG_TRAFFIC_WINDOW_SECONDS:
            self.recent.popleft()
        self.max_in_window = max(self.max_in_window, len(self.recent))

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "max_in_window": self.max_in_window, "per_minute": dict(self.per_minute)}


def organization_of(request: Request) -> str:
    """The organisation an Inventory/Books request names (query parameter or header), or ""."""
    return (
        request.query_params.get("organization_id")
        or request.headers.get("x-com-zoho-inventory-organizationid")
        or request.headers.get("x-com-zoho-books-organizationid")
        or ""
    )


class ZohoState:
    def __init__(self) -> None:
        self.runtime = ServerRuntime("zoho")
        self.registry = TokenRegistry()
        self.crm: dict[str, dict[str, LazyTable]] = {}
        self.finance: dict[str, dict[str, LazyTable]] = {}
        self.page_tokens: dict[str, PageCursor] = {}
        self.minute_windows: dict[tuple[str, str], deque[float]] = {}
        # (tenant, module, id) -> monotonic time of the last write, for the search-index lag knob.
        self.written_at: dict[tuple[str, str, str], float] = {}
        # (tenant, module, id) -> display name kept for GET /deleted.
        self.deleted_names: dict[tuple[str, str, str], str] = {}
        self.seed = 0
        # The Zoho accounts of this reset: the samples plus the generated tenants, by tenant and organisation.
        self.generated = GeneratedTenants()
        self.tenants: dict[str, ZohoAppCredentials] = {}
        self.by_organization: dict[str, ZohoAppCredentials] = {}
        # (organization_id, "inventory" | "books") -> what arrived, for GET /__sandbox__/org_requests.
        self.org_traffic: dict[tuple[str, str], OrgTraffic] = {}
        self.reset(0, None)

    def reset(self, seed: int, scale: dict[str, int] | None, generated: GeneratedTenants | None = None) -> None:
        counts = seed_data.resolve_scale(scale)
        self.seed = seed
        self.generated = generated or GeneratedTenants()
        self.tenants = zoho_tenants(self.generated)
        self.by_organization = {creds.organization_id: creds for creds in self.tenants.values()}
        self.org_traffic.clear()
        self.registry.reset(self.tenants)
        self.page_tokens.clear()
        self.minute_windows.clear()
        self.written_at.clear()
        self.deleted_names.clear()
        self.crm = {t: seed_data.crm_tables(c, seed, counts) for t, c in self.tenants.items()}
        self.finance = {t: seed_data.finance_tables(c, seed, counts) for t, c in self.tenants.items()}
        # Seeded deletions so that GET /deleted has something before any test deletes.
        for tenant, tables in self.crm.items():
            contacts = tables["Contacts"]
            if contacts.base_count > 9:
                record_id = seed_data.CrmContext(self.tenants[tenant], seed, counts).record_id("Contacts", 9)
                record = contacts.get(record_id)
                if record is not None:
                    self.deleted_names[(tenant, "Contacts", record_id)] = record["Full_Name"]
                    contacts.delete(record_id, SEED_NOW - timedelta(days=1))

    # -- limits --------------------------------------------------------------------------------
    def observe(self, request: Request) -> None:
        """Count an Inventory/Books request against its organisation as it arrives (before any knob)."""
        path = request.url.path
        if not path.startswith(("/inventory/", "/books/")):
            return
        organization = organization_of(request)
        if not organization:
            return
        product = "inventory" if path.startswith("/inventory/") else "books"
        traffic = self.org_traffic.get((organization, product))
        if traffic is None:
            traffic = self.org_traffic[(organization, product)] = OrgTraffic()
        traffic.add(time.monotonic(), time.time())

    def org_requests(self) -> dict[str, Any]:
        organizations: dict[str, dict[str, Any]] = {}
        for (organization, product), traffic in sorted(self.org_traffic.items()):
            organizations.setdefault(organization, {})[product] = traffic.as_dict()
        return {"window_seconds": ORG_TRAFFIC_WINDOW_SECONDS, "organizations": organizations}

    def over_minute_limit(self, key: tuple[str, str], limit: int) -> bool:
        if limit <= 0:
            return False
        now = time.monotonic()
        window = self.minute_windows.setdefault(key, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= limit:
            return True
        window.append(now)
        return False

    # -- auth ----------------------------------------------------------------------------------
    def bearer_token(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme == "Zoho-oauthtoken" or (scheme == "Bearer" and self.runtime.knobs.accept_bearer):
            return token.strip() or None
        return None

    def grant_for(self, request: Request) -> AccessGrant | None:
        token = self.bearer_token(request)
        return None if token is None else self.registry.lookup(token)

    def crm_auth(self, request: Request, scope_ok: Callable[[tuple[str, ...]], bool]) -> AccessGrant | Response:
        if not request.headers.get("authorization"):
            return crm_error(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        grant = self.grant_for(request)
        if grant is None:
            return crm_error(401, "INVALID_TOKEN", "invalid oauth token")
        if not scope_ok(grant.scopes):
            return crm_error(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
        return grant

    def finance_auth(
        self, request: Request, product: str, resource: str, operation: str
    ) -> tuple[AccessGrant, ZohoAppCredentials] | Response:
        """Token + organisation check for Inventory ("inventory") and Books ("books")."""
        grant = self.grant_for(request)
        if grant is None:
            return finance_error(
                401,
                14,
                "The request could not be authenticated as the authentication value you entered is invalid. "
                "Enter a valid authentication value and try again.",
            )
        if not finance_scope_ok(grant.scopes, product, resource, operation):
            return finance_error(401, 57, "You are not authorized to perform this operation")
        header = "x-com-zoho-inventory-organizationid" if product == "inventory" else "x-com-zoho-books-organizationid"
        organization_id = request.query_params.get("organization_id") or request.headers.get(header, "")
        if not organization_id:
            # (U) exact code/text for a missing organization_id; the API rejects such calls.
            return finance_error(400, 6041, "organization_id is required. Pass organization_id as a query parameter.")
        org = self.by_organization.get(organization_id)
        if org is None or org.tenant != grant.tenant:
            # (R) text seen in real clients when the org does not belong to the token's user.
            return finance_error(
                400, 6041, f"This user is not associated with the CompanyID/CompanyName:{organization_id}."
            )
        return grant, org


def crm_scope_ok(scopes: tuple[str, ...], module: str, operation: str) -> bool:
    """ZohoCRM.modules.ALL | ZohoCRM.modules.<module>.<ALL|op> (WRITE covers CREATE and UPDATE)."""
    name = module.lower().replace("_", "")
    accepted = {"ZohoCRM.modules.ALL", f"ZohoCRM.modules.{name}.ALL", f"ZohoCRM.modules.{name}.{operation}"}
    if operation in ("CREATE", "UPDATE"):
        accepted.add(f"ZohoCRM.modules.{name}.WRITE")
    return any(scope in accepted for scope in scopes)


def finance_scope_ok(scopes: tuple[str, ...], product: str, resource: str, operation: str) -> bool:
    prefix = "ZohoInventory" if product == "inventory" else "ZohoBooks"
    accepted = {
        f"{prefix}.FullAccess.all",
        f"{prefix}.fullaccess.all",
        f"{prefix}.{resource}.ALL",
        f"{prefix}.{resource}.{operation}",
    }
    return any(scope in accepted for scope in scopes)
