"""The Zoho server: Accounts (OAuth) + CRM v8 + Inventory v1 + Books v3 on one port."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from zoho_cscart_sandbox.knobs import ADMIN_PREFIX, install_admin_routes, install_runtime_middleware
from zoho_cscart_sandbox.zoho_accounts import build_accounts_router
from zoho_cscart_sandbox.zoho_crm import build_crm_router
from zoho_cscart_sandbox.zoho_finance import build_finance_router
from zoho_cscart_sandbox.zoho_state import ZohoState, crm_error, finance_error, organization_of


def _error_response(request: Request, status: int, kind: str) -> Response:
    path = request.url.path
    if path.startswith("/crm/"):
        if status == 429:
            return crm_error(
                429,
                "TOO_MANY_REQUESTS",
                "The number of API requests for the 24 hour period is exceeded or the concurrency limit "
                "of the user for the app is exceeded",
            )
        return crm_error(500, "INTERNAL_ERROR", "Internal Server Error")
    if path.startswith(("/inventory/", "/books/")):
        if status == 429:
            # (U) body text; the status and envelope are documented.
            return finance_error(429, 45, "You have made too many requests. Please try again after some time.")
        return finance_error(500, 1000, "Internal error")
    if status == 429:
        return JSONResponse({"error": "Access Denied", "error_description": "Too many requests"}, status_code=429)
    return JSONResponse({"error": "internal_error"}, status_code=500)


def _limiter(state: ZohoState) -> Callable[[Request], Any]:
    """CRM: in-flight calls per organisation (429 beyond the edition's limit) and an optional per-minute cap.
    Inventory/Books: requests per minute per organisation."""

    async def limit(request: Request) -> Response | Callable[[], None] | None:
        path = request.url.path
        knobs = state.runtime.knobs
        if path.startswith("/crm/"):
            grant = state.grant_for(request)
            if grant is None:
                return None  # the handler answers INVALID_TOKEN
            tenant = grant.tenant
            if state.over_minute_limit((tenant, "crm"), knobs.zoho_requests_per_minute):
                return _error_response(request, 429, "minute")
            key = f"crm:{tenant}"
            if state.runtime.inflight[key] >= knobs.zoho_concurrency_limit:
                return _error_response(request, 429, "concurrency")
            state.runtime.inflight[key] += 1

            def release() -> None:
                state.runtime.inflight[key] -= 1

            return release
        if path.startswith(("/inventory/", "/books/")):
            organization = organization_of(request)
            # Inventory and Books quotas are separate pools (R).
            product = "inventory" if path.startswith("/inventory/") else "books"
            if organization and state.over_minute_limit((organization, product), knobs.finance_requests_per_minute):
                response = _error_response(request, 429, "minute")
                response.headers["Retry-After"] = "60"
                return response
        return None

    return limit


def build_zoho_app(state: ZohoState, *, api_url: Callable[[Request], str] | None = None) -> FastAPI:
    app = FastAPI(title="Zoho sandbox", docs_url=None, redoc_url=None, openapi_url=None)

    def api_url_of(request: Request) -> str:
        return api_url(request) if api_url is not None else str(request.base_url).rstrip("/")

    def on_knobs(body: dict[str, Any]) -> dict[str, Any]:
        """Knobs that are actions, not settings: force-expire tokens, revoke a refresh token."""
        actions: dict[str, Any] = {}
        if body.get("force_expire_tokens"):
            actions["force_expire_tokens"] = state.registry.expire_all()
        elif "force_expire_tokens" in body:
            actions["force_expire_tokens"] = 0
        if "revoke_refresh_token" in body:
            value = str(body["revoke_refresh_token"])
            # Accept a tenant name as well as the token itself.
            revoked = state.registry.revoke_tenant(value) or state.registry.revoke_refresh(value)
            if not revoked:
                raise ValueError(f"no refresh token or tenant {value!r}")
            actions["revoke_refresh_token"] = True
        return actions

    state.runtime.expire_tokens = state.registry.expire_all  # the `expire_tokens_every` schedule
    install_admin_routes(app, state.runtime, on_reset=state.reset, on_knobs=on_knobs)
    install_runtime_middleware(
        app, state.runtime, error_response=_error_response, limiter=_limiter(state), observer=state.observe
    )
    app.include_router(build_accounts_router(state.registry, lambda: state.runtime.knobs, api_url_of))
    app.include_router(build_crm_router(state))
    app.include_router(build_finance_router(state))

    @app.get(f"{ADMIN_PREFIX}/org_requests")
    async def org_requests() -> dict[str, Any]:
        """Inventory/Books requests per organisation as they arrived: total, per wall-clock minute (UTC) and the
        most within any sliding 60 s, whatever the knobs then answered."""
        return state.org_requests()

    @app.get(f"{ADMIN_PREFIX}/tenants")
    async def tenants() -> dict[str, Any]:
        """The Zoho accounts of this reset: the samples and the generated tenants (credentials included)."""
        return {
            "generated": {"tenants": state.generated.count, "tenant_customers": state.generated.customers},
            "zoho": {name: asdict(creds) for name, creds in state.tenants.items()},
        }

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def unknown(request: Request, path: str) -> Response:
        if path.startswith(("inventory/", "books/")):
            return finance_error(404, 5, "Invalid URL Passed")
        return crm_error(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")

    return app
