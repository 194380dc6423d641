"""Zoho Accounts: POST /oauth/v2/token (refresh_token and authorization_code grants), revoke, limits.

Limits (zoho_api.md 1.4, confirmed): 10 access-token mints per refresh token per 10 minutes (then
"Access Denied" for the rest of the window), 15 live access tokens per refresh token (the 16th
evicts the oldest, which then answers INVALID_TOKEN). Token-endpoint errors are HTTP 200 bodies.

The `token_burst_429` knob makes the token endpoint shed load with HTTP 429 before it looks at the
request, so nothing is minted; `GET /__sandbox__/token_stats` tells how many access tokens were really
issued, which is what a client's mint bookkeeping must match.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from zoho_cscart_sandbox.credentials import ZOHO_TENANTS, ZohoAppCredentials
from zoho_cscart_sandbox.knobs import ADMIN_PREFIX, Knobs

# (U) The body of a load-shedding 429 in front of the accounts server is not documented; the same shape
# as the other sandbox 429s at this endpoint (the `burst_429` knob) keeps clients from telling them apart.
BURST_429_BODY = {"error": "Access Denied", "error_description": "Too many requests"}
THROTTLE_BODY = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}


@dataclass
class RefreshGrant:
    tenant: str
    client_id: str
    scopes: tuple[str, ...]
    revoked: bool = False
    mints: deque[float] = field(default_factory=deque)  # monotonic times of access-token mints
    live: deque[str] = field(default_factory=deque)  # live access tokens, oldest first


@dataclass
class AccessGrant:
    token: str
    tenant: str
    refresh_token: str
    scopes: tuple[str, ...]
    expires_at: float  # monotonic
    revoked: bool = False


@dataclass
class GrantCode:
    tenant: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False


def _new_token() -> str:
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


class TokenRegistry:
    """Refresh tokens, grant codes and access tokens of every sandbox Zoho account."""

    def __init__(self) -> None:
        self.refresh: dict[str, RefreshGrant] = {}
        self.access: dict[str, AccessGrant] = {}
        self.codes: dict[str, GrantCode] = {}
        # Access tokens issued per tenant and per client id since the last reset (evicted and expired
        # ones included).
        self.issued: Counter[str] = Counter()
        self.issued_by_client: Counter[str] = Counter()
        # The Zoho accounts the server knows since the last reset (samples + generated), by tenant and client.
        self.tenants: dict[str, ZohoAppCredentials] = {}
        self.by_client_id: dict[str, ZohoAppCredentials] = {}
        self.reset()

    def reset(self, tenants: Mapping[str, ZohoAppCredentials] | None = None) -> None:
        self.refresh.clear()
        self.access.clear()
        self.codes.clear()
        self.issued.clear()
        self.issued_by_client.clear()
        self.tenants = dict(ZOHO_TENANTS if tenants is None else tenants)
        self.by_client_id = {creds.client_id: creds for creds in self.tenants.values()}
        for creds in self.tenants.values():
            self.refresh[creds.refresh_token] = RefreshGrant(creds.tenant, creds.client_id, creds.scopes)

    def issue_code(self, tenant: str, scopes: Iterable[str], lifetime_seconds: float = 180.0) -> str:
        creds = self.tenants[tenant]
        code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        self.codes[code] = GrantCode(tenant, creds.client_id, tuple(scopes), time.monotonic() + lifetime_seconds)
        return code

    def mint(self, grant: RefreshGrant, refresh_token: str, knobs: Knobs) -> AccessGrant | None:
        """A new access token, or None when the refresh token hit the mint throttle."""
        now = time.monotonic()
        while grant.mints and now - grant.mints[0] >= knobs.token_mint_window_seconds:
            grant.mints.popleft()
        if len(grant.mints) >= knobs.token_mint_limit:
            return None
        grant.mints.append(now)
        access = AccessGrant(
            _new_token(), grant.tenant, refresh_token, grant.scopes, now + knobs.token_lifetime_seconds
        )
        self.access[access.token] = access
        self.issued[grant.tenant] += 1
        self.issued_by_client[grant.client_id] += 1
        grant.live.append(access.token)
        while len(grant.live) > knobs.max_live_tokens:
            evicted = grant.live.popleft()
            self.access.pop(evicted, None)
        return access

    def lookup(self, token: str) -> AccessGrant | None:
        """The live grant behind an access token (None if unknown, expired, evicted or revoked)."""
        access = self.access.get(token)
        if access is None or access.revoked or time.monotonic() >= access.expires_at:
            return None
        refresh = self.refresh.get(access.refresh_token)
        if refresh is None or refresh.revoked:
            return None
        return access

    def expire_all(self) -> int:
        now = time.monotonic()
        for access in self.access.values():
            access.expires_at = min(access.expires_at, now)
        return len(self.access)

    def revoke_refresh(self, refresh_token: str) -> bool:
        grant = self.refresh.get(refresh_token)
        if grant is None:
            return False
        grant.revoked = True
        for token in grant.live:
            if token in self.access:
                self.access[token].revoked = True
        return True

    def revoke_tenant(self, tenant: str) -> bool:
        return any([self.revoke_refresh(rt) for rt, g in list(self.refresh.items()) if g.tenant == tenant])


async def _form(request: Request) -> dict[str, str]:
    """Parameters from the query string (Zoho's doc examples) and/or a form body (the SDKs)."""
    params = dict(request.query_params)
    body = (await request.body()).decode("utf-8", "replace")
    if body:
        params.update(dict(parse_qsl(body, keep_blank_values=True)))
    return params


def build_accounts_router(registry: TokenRegistry, knobs_of: Any, api_url_of: Any) -> APIRouter:
    """`knobs_of()` returns the live Knobs; `api_url_of(request)` the api_domain to hand out."""
    router = APIRouter()

    def token_body(access: AccessGrant, request: Request, refresh_token: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {
            "access_token": access.token,
            "scope": " ".join(access.scopes),
            "api_domain": api_url_of(request),
            "token_type": "Bearer",
            "expires_in": knobs_of().token_lifetime_seconds,
        }
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        return JSONResponse(body)

    @router.post("/oauth/v2/token")
    async def token(request: Request) -> Response:
        knobs = knobs_of()
        if knobs.token_burst_429 > 0:
            knobs.token_burst_429 -= 1
            headers = {"Retry-After": str(knobs.retry_after_seconds)}
            return JSONResponse(BURST_429_BODY, status_code=429, headers=headers)
        params = await _form(request)
        creds = registry.by_client_id.get(params.get("client_id", ""))
        if creds is None:
            return JSONResponse({"error": "invalid_client"})
        if params.get("client_secret") != creds.client_secret:
            return JSONResponse({"error": "invalid_client_secret"})
        grant_type = params.get("grant_type")
        if grant_type == "refresh_token":
            refresh_token = params.get("refresh_token", "")
            grant = registry.refresh.get(refresh_token)
            if grant is None or grant.revoked or grant.client_id != creds.client_id:
                return JSONResponse({"error": "invalid_code"})
            access = registry.mint(grant, refresh_token, knobs)
            if access is None:
                return JSONResponse(THROTTLE_BODY, status_code=knobs.token_throttle_status)
            return token_body(access, request)
        if grant_type == "authorization_code":
            code = registry.codes.get(params.get("code", ""))
            if code is None or code.used or code.client_id != creds.client_id or time.monotonic() >= code.expires_at:
                return JSONResponse({"error": "invalid_code"})
            code.used = True  # grant codes are one-time use
            refresh_token = _new_token()
            grant = RefreshGrant(code.tenant, code.client_id, code.scopes)
            registry.refresh[refresh_token] = grant
            access = registry.mint(grant, refresh_token, knobs)
            if access is None:  # cannot happen for a fresh refresh token; kept for the type checker
                return JSONResponse(THROTTLE_BODY, status_code=knobs.token_throttle_status)
            return token_body(access, request, refresh_token=refresh_token)
        return JSONResponse({"error": "unsupported_grant_type"})

    @router.post("/oauth/v2/token/revoke")
    async def revoke(request: Request) -> Response:
        params = await _form(request)
        token_value = params.get("token", "")
        if registry.revoke_refresh(token_value):
            return JSONResponse({"status": "success"})
        access = registry.access.get(token_value)
        if access is not None:
            access.revoked = True
            return JSONResponse({"status": "success"})
        # (U) body for an unknown token; Zoho answers HTTP 200 for token-endpoint errors.
        return JSONResponse({"status": "failure", "error": "invalid_token"})

    @router.get("/oauth/v2/auth")
    async def authorize(request: Request) -> Response:
        """Consent is implicit in the sandbox: redirect straight back with a one-time grant code."""
        params = dict(request.query_params)
        creds = registry.by_client_id.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if creds is None or not redirect_uri:
            return JSONResponse({"error": "invalid_client"})
        scopes = [s for s in params.get("scope", "").split(",") if s] or list(creds.scopes)
        code = registry.issue_code(creds.tenant, scopes, lifetime_seconds=120)
        query = {"code": code, "location": "us", "accounts-server": str(request.base_url).rstrip("/")}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}", status_code=302)

    @router.get(f"{ADMIN_PREFIX}/token_stats")
    async def token_stats() -> dict[str, Any]:
        """Access tokens issued per tenant and per client id since the reset (a 429, a throttle or an error
        issues none)."""
        return {"issued": dict(registry.issued), "issued_by_client": dict(registry.issued_by_client)}

    @router.post(f"{ADMIN_PREFIX}/grant_code")
    async def self_client_code(request: Request) -> Response:
        """Self Client "Generate Code": a grant code for `tenant` with the given scopes (comma list)."""
        params = await _form(request)
        tenant = params.get("tenant", "")
        if tenant not in registry.tenants:
            return JSONResponse({"error": f"unknown tenant {tenant!r}"}, status_code=400)
        scopes = [s for s in params.get("scope", "").split(",") if s] or list(registry.tenants[tenant].scopes)
        lifetime = float(params.get("lifetime_seconds", "180"))
        return JSONResponse({"code": registry.issue_code(tenant, scopes, lifetime), "scopes": scopes})

    return router
