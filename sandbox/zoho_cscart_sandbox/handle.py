"""The test/benchmark handle: URLs, credentials and the admin calls (reset, knobs, counters) over HTTP."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from zoho_cscart_sandbox.credentials import (
    DEFAULT_TENANT_CUSTOMERS,
    SANDBOX_CREDENTIALS,
    GeneratedTenants,
    SandboxCredentials,
    generated_tenant_number,
    sandbox_credentials,
)
from zoho_cscart_sandbox.knobs import ADMIN_PREFIX
from zoho_cscart_sandbox.seed_common import resolve_scale
from zoho_cscart_sandbox.server import SandboxServers

# Knobs that only mean something on one server; all others (latency, faults, bursts) go to both
# unless `server=` says otherwise.
ZOHO_ONLY_KNOBS = frozenset(
    {
        "token_lifetime_seconds",
        "token_mint_limit",
        "token_mint_window_seconds",
        "max_live_tokens",
        "token_throttle_status",
        "zoho_concurrency_limit",
        "zoho_requests_per_minute",
        "finance_requests_per_minute",
        "search_index_lag_seconds",
        "accept_bearer",
        "force_expire_tokens",
        "revoke_refresh_token",
        "expire_tokens_every",
    }
)
CSCART_ONLY_KNOBS = frozenset({"cscart_items_per_page", "vendor_api_access", "cscart_require_user_type"})


def _call(method: str, url: str, payload: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"sandbox admin call {method} {url} failed: {exc.code} {exc.read()!r}") from exc


@dataclass
class SandboxHandle:
    """What the `sandbox` fixture yields."""

    zoho_url: str
    cscart_url: str
    credentials: SandboxCredentials = SANDBOX_CREDENTIALS
    # The in-process servers when the handle started them (None for an external `start`ed sandbox).
    servers: SandboxServers | None = field(default=None, repr=False)

    @property
    def zoho_accounts_url(self) -> str:
        """POST {zoho_accounts_url}/oauth/v2/token (same port as the API in this sandbox)."""
        return self.zoho_url

    @property
    def zoho_api_url(self) -> str:
        """The api_domain: {zoho_api_url}/crm/v8/..., /inventory/v1/..., /books/v3/..."""
        return self.zoho_url

    def _admin(self, server: str) -> str:
        return (self.zoho_url if server == "zoho" else self.cscart_url) + ADMIN_PREFIX

    def reset(
        self,
        seed: int = 0,
        scale: dict[str, int] | None = None,
        *,
        tenants: int = 0,
        tenant_customers: int = DEFAULT_TENANT_CUSTOMERS,
    ) -> None:
        """Fresh seed data, default knobs, zero counters, all tokens dropped - on both servers.

        `tenants=N` adds the generated tenants tenant_001 ... tenant_N (each its own Zoho client, organisation
        and CRM account, and its own CS-Cart vendor company with `tenant_customers` customers); `credentials`
        then has theirs too.
        """
        generated = GeneratedTenants(tenants, tenant_customers)
        body = {"seed": seed, "scale": scale, "tenants": tenants, "tenant_customers": tenant_customers}
        for server in ("zoho", "cscart"):
            _call("POST", f"{self._admin(server)}/reset", body)
        self.credentials = sandbox_credentials(generated, resolve_scale(scale)["cscart_users"])

    @property
    def generated_tenants(self) -> list[str]:
        """tenant_001 ... tenant_N of the last `reset(tenants=N)` through this handle."""
        return [name for name in self.credentials.zoho if generated_tenant_number(name) is not None]

    def org_requests(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Inventory/Books requests per organisation as they arrived, since the reset:
        ``{organization_id: {"books": {"total", "max_in_window", "per_minute": {"2026-11-20T10:07": n}}}}``
        (`max_in_window`: the most within any sliding 60 s)."""
        return dict(_call("GET", f"{self._admin('zoho')}/org_requests")["organizations"])

    def token_mints(self) -> dict[str, int]:
        """Access tokens minted per Zoho client id since the reset (a throttled or refused call mints none)."""
        return dict(_call("GET", f"{self._admin('zoho')}/token_stats")["issued_by_client"])

    def set_knobs(self, server: str | None = None, **knobs: Any) -> None:
        """Set knobs; server-specific ones go to their server, generic ones to both (or to `server`)."""
        targets: dict[str, dict[str, Any]] = {"zoho": {}, "cscart": {}}
        for name, value in knobs.items():
            if name in ZOHO_ONLY_KNOBS:
                targets["zoho"][name] = value
            elif name in CSCART_ONLY_KNOBS:
                targets["cscart"][name] = value
            elif server is not None:
                targets[server][name] = value
            else:
                targets["zoho"][name] = value
                targets["cscart"][name] = value
        for target, values in targets.items():
            if values:
                _call("POST", f"{self._admin(target)}/knobs", values)

    def knobs(self, server: str = "zoho") -> dict[str, Any]:
        return dict(_call("GET", f"{self._admin(server)}/knobs"))

    def counters(self) -> dict[str, int]:
        """API calls per endpoint template on both servers, e.g. {"GET /crm/v8/Contacts": 3, ...}."""
        merged: dict[str, int] = {}
        for server in ("zoho", "cscart"):
            merged.update(_call("GET", f"{self._admin(server)}/counters")["endpoints"])
        return merged

    def writes_let_through(self, server: str) -> int:
        """Writes one server let through since its `fail_writes_after` knob was last set."""
        return int(_call("GET", f"{self._admin(server)}/counters").get("writes_let_through", 0))

    def status_counters(self, server: str) -> dict[str, int]:
        """Responses per HTTP status on one server (faults and limits included)."""
        return dict(_call("GET", f"{self._admin(server)}/counters")["statuses"])

    def hung_counters(self, server: str) -> dict[str, int]:
        """Requests per endpoint template whose answer `timeout_rate` held back (hang_phase "after": applied)."""
        return dict(_call("GET", f"{self._admin(server)}/counters").get("hung", {}))

    def cscart_notifications(self) -> list[dict[str, Any]]:
        """E-mails CS-Cart order status changes would have sent since the last reset, oldest first.

        Each is ``{order_id, status_from, status_to, recipient (customer|department|vendor), email, at}``;
        a status change sends one per truthy ``notify_user`` / ``notify_department`` / ``notify_vendor`` flag.
        """
        return list(_call("GET", f"{self._admin('cscart')}/notifications")["notifications"])

    def grant_code(self, tenant: str, scopes: list[str] | None = None, lifetime_seconds: float = 180) -> str:
        """A Self Client grant code for the authorization_code grant (optionally with narrower scopes)."""
        query = {"tenant": tenant, "lifetime_seconds": str(lifetime_seconds)}
        if scopes:
            query["scope"] = ",".join(scopes)
        url = f"{self.zoho_url}{ADMIN_PREFIX}/grant_code?{urllib.parse.urlencode(query)}"
        return str(_call("POST", url)["code"])

    def zoho_access_token(self, tenant: str) -> str:
        """Mint an access token over HTTP with the tenant's refresh token (counts as a mint)."""
        creds = self.credentials.zoho_for(tenant)
        form = urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "refresh_token": creds.refresh_token,
            }
        ).encode()
        token_url = f"{self.zoho_accounts_url}/oauth/v2/token"
        request = urllib.request.Request(token_url, data=form, method="POST")  # noqa: S310 - loopback only
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            body = json.loads(response.read())
        if "access_token" not in body:
            raise RuntimeError(f"token mint failed for {tenant}: {body.get('error')}")
        return str(body["access_token"])


def start_in_process(zoho_port: int = 0, cscart_port: int = 0) -> SandboxHandle:
    """Start both servers in this process (background threads) and return their handle."""
    servers = SandboxServers(zoho_port=zoho_port, cscart_port=cscart_port)
    servers.start()
    return SandboxHandle(zoho_url=servers.zoho_url, cscart_url=servers.cscart_url, servers=servers)
