"""Connection extras parsed in one typed place (precedence: hook arguments > connection extras > defaults).

Nothing here ever becomes a request header: the HTTP provider's default of sending unknown extras as
headers would leak a refresh token, so the hooks build their sessions from these dataclasses only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zoho_cscart_sync.auth.regions import DEFAULT_REGION, data_centre
from zoho_cscart_sync.http.client import DEFAULT_TIMEOUT_SECONDS
from zoho_cscart_sync.http.ratelimit import RateLimit
from zoho_cscart_sync.http.retry import RetryPolicy

# Zoho Inventory and Zoho Books accept 100 requests per minute per organisation and answer 429 beyond it
# (shared/reference/zoho_api.md 3.7: "100 requests per minute per organization", and 4: Books "Per-minute
# 100 req/org"; both marked (R), from secondary summaries of Zoho's API-limit pages, section 8). Without a
# client-side default the first load of a tenant with more than ~100 customers ran into the wall. The
# limiter is per organisation (see hooks.zoho), one for Inventory and one for Books, as the sandbox counts
# them; if Zoho pools the two, the 429 that follows waits for the window (http.client.WINDOWED_429_APIS).
ZOHO_FINANCE_DEFAULT_LIMIT = RateLimit(requests_per_minute=100)

log = logging.getLogger(__name__)


def lookup_connection(conn_id: str) -> Any:
    """The Airflow Connection ``conn_id``, wherever Airflow keeps it.

    Inside a task the Task SDK finds every connection (environment, secrets backend, metadata DB through the
    execution API). An operator's command (``cli``, the console) runs outside a task, where the Task SDK sees the
    environment and secrets backends only: a connection added with ``airflow connections add`` (the metadata DB)
    is then read through Airflow core, which may read the DB there. Raises ``AirflowNotFoundException``.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        try:
            from airflow.models.connection import Connection

            return Connection.get_connection_from_secrets(conn_id)
        except Exception as core_error:  # noqa: BLE001 - in a task the DB is off limits: the SDK's answer stands
            log.debug("connection %r not found through Airflow core either: %s", conn_id, type(core_error).__name__)
        raise


class ConnectionConfigError(ValueError):
    """A connection is missing a field or has an invalid extra; the message names the connection and field."""

    def __init__(self, conn_id: str, field_name: str, problem: str) -> None:
        self.conn_id = conn_id
        self.field_name = field_name
        super().__init__(f"connection {conn_id!r}: field {field_name!r} {problem}")


def normalized_extras(conn: Any, conn_type: str) -> dict[str, Any]:
    """The connection extras with the legacy UI prefix (``extra__<type>__<name>``) removed; plain keys win."""
    extras: Mapping[str, Any] = conn.extra_dejson or {}
    prefix = f"extra__{conn_type}__"
    normalized = {key[len(prefix) :]: value for key, value in extras.items() if key.startswith(prefix)}
    normalized.update({key: value for key, value in extras.items() if not key.startswith(prefix)})
    return normalized


def _required(conn_id: str, name: str, value: Any) -> str:
    if value in (None, ""):
        raise ConnectionConfigError(conn_id, name, "is required")
    return str(value)


def _float(conn_id: str, extras: Mapping[str, Any], name: str, default: float) -> float:
    value = extras.get(name)
    if value in (None, ""):
        return default
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        raise ConnectionConfigError(conn_id, name, f"must be a number, got {value!r}") from None
    if parsed <= 0:
        raise ConnectionConfigError(conn_id, name, "must be positive")
    return parsed


def _rate_limit(
    conn_id: str, extras: Mapping[str, Any], prefix: str = "", default: RateLimit | None = None
) -> RateLimit:
    try:
        return RateLimit.from_extras(extras, prefix, default)
    except (TypeError, ValueError):
        raise ConnectionConfigError(
            conn_id,
            f"{prefix}requests_per_minute/{prefix}concurrency/{prefix}rate_window_seconds",
            "must be integers (the window a positive number of seconds)",
        ) from None


def _retry_policy(conn_id: str, extras: Mapping[str, Any]) -> RetryPolicy:
    try:
        policy = RetryPolicy.from_extras(extras)
    except (TypeError, ValueError):
        raise ConnectionConfigError(conn_id, "max_attempts/backoff_*", "must be numbers") from None
    if policy.max_attempts < 1:
        raise ConnectionConfigError(conn_id, "max_attempts", "must be at least 1")
    return policy


@dataclass(frozen=True)
class ZohoConnectionConfig:
    """A ``zoho`` connection: login = client id, password = client secret, extras below."""

    conn_id: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    region: str
    accounts_url: str
    api_domain_override: str | None
    default_api_domain: str
    organization_id: str | None
    timeout: float
    retry: RetryPolicy
    crm_limit: RateLimit
    inventory_limit: RateLimit
    books_limit: RateLimit
    mint_budget: int

    @classmethod
    def from_connection(cls, conn: Any) -> ZohoConnectionConfig:
        """Validate an Airflow Connection (``login``, ``password``, ``extra_dejson``)."""
        conn_id = str(conn.conn_id)
        extras = normalized_extras(conn, "zoho")
        region = str(extras.get("region") or DEFAULT_REGION)
        try:
            dc = data_centre(region)
        except ValueError as exc:
            raise ConnectionConfigError(conn_id, "region", str(exc)) from None
        organization_id = extras.get("organization_id")
        mint_budget = extras.get("max_token_mints_per_10_min", 10)
        try:
            mint_budget = int(mint_budget)
        except (TypeError, ValueError):
            raise ConnectionConfigError(conn_id, "max_token_mints_per_10_min", "must be an integer") from None
        if not 1 <= mint_budget <= 10:
            raise ConnectionConfigError(conn_id, "max_token_mints_per_10_min", "must be between 1 and 10")
        return cls(
            conn_id=conn_id,
            client_id=_required(conn_id, "login (client id)", conn.login),
            client_secret=_required(conn_id, "password (client secret)", conn.password),
            refresh_token=_required(conn_id, "extra.refresh_token", extras.get("refresh_token")),
            region=region,
            accounts_url=str(extras.get("accounts_url") or dc.accounts_url).rstrip("/"),
            api_domain_override=str(extras["api_domain"]).rstrip("/") if extras.get("api_domain") else None,
            default_api_domain=dc.api_domain,
            organization_id=str(organization_id) if organization_id not in (None, "") else None,
            timeout=_float(conn_id, extras, "timeout", DEFAULT_TIMEOUT_SECONDS),
            retry=_retry_policy(conn_id, extras),
            crm_limit=_rate_limit(conn_id, extras, "crm_"),
            inventory_limit=_rate_limit(conn_id, extras, "inventory_", ZOHO_FINANCE_DEFAULT_LIMIT),
            books_limit=_rate_limit(conn_id, extras, "books_", ZOHO_FINANCE_DEFAULT_LIMIT),
            mint_budget=mint_budget,
        )


@dataclass(frozen=True)
class CsCartConnectionConfig:
    """A ``cscart`` connection: host = store base URL, login = API user e-mail, password = API key."""

    conn_id: str
    base_url: str
    email: str
    api_key: str = field(repr=False)
    api_path: str
    timeout: float
    retry: RetryPolicy
    limit: RateLimit

    @property
    def api_url(self) -> str:
        """``{base_url}/{api_path}``, e.g. https://shop.example/api or .../api/2.0."""
        return f"{self.base_url}/{self.api_path}"

    @classmethod
    def from_connection(cls, conn: Any) -> CsCartConnectionConfig:
        """Validate an Airflow Connection; ``host`` may carry the scheme (https://shop.example)."""
        conn_id = str(conn.conn_id)
        extras = normalized_extras(conn, "cscart")
        host = _required(conn_id, "host (store base URL)", conn.host).rstrip("/")
        if "://" not in host:
            scheme = conn.schema if conn.schema in ("http", "https") else "https"
            host = f"{scheme}://{host}"
        if conn.port:
            host = f"{host}:{conn.port}"
        api_path = str(extras.get("api_path") or "api").strip("/")
        version = extras.get("api_version")
        if version not in (None, ""):
            version = str(version)
            # `/api/2/...` resolves to a namespace that does not exist (404); only X.Y versions work.
            if "." not in version:
                raise ConnectionConfigError(conn_id, "extra.api_version", f"must look like 2.0, got {version!r}")
            api_path = f"{api_path}/{version}"
        return cls(
            conn_id=conn_id,
            base_url=host,
            email=_required(conn_id, "login (API user e-mail)", conn.login),
            api_key=_required(conn_id, "password (API key)", conn.password),
            api_path=api_path,
            timeout=_float(conn_id, extras, "timeout", DEFAULT_TIMEOUT_SECONDS),
            retry=_retry_policy(conn_id, extras),
            limit=_rate_limit(conn_id, extras),
        )
