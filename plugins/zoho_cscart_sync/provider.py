"""Provider metadata: makes Airflow list the `zoho` and `cscart` connection types (form fields, Test button).

Airflow 3.2+ reads connection-form fields declaratively (``conn-fields`` / ``ui-field-behaviour``) from
this dictionary, so the UI never imports the hooks to draw the form.
"""

from __future__ import annotations

from typing import Any

from zoho_cscart_sync import __version__


def _field(label: str, description: str, kind: str = "string", *, secret: bool = False, **schema: Any) -> dict:
    field_schema: dict[str, Any] = {"type": [kind, "null"], **schema}
    if secret:
        # `format: password` makes the UI mask the value and Airflow treat it as sensitive.
        field_schema["format"] = "password"
    return {"label": label, "description": description, "schema": field_schema}


_RETRY_AND_TIMEOUT_FIELDS = {
    "timeout": _field("Request timeout (s)", "Read timeout of every request (default 30).", "number"),
    "max_attempts": _field("Max attempts", "Tries per request for transient errors (default 5).", "integer"),
    "backoff_initial_seconds": _field("Backoff start (s)", "First backoff step (default 1).", "number"),
    "backoff_max_seconds": _field("Backoff cap (s)", "Largest backoff step (default 60).", "number"),
    "max_retry_after_seconds": _field(
        "Max Retry-After (s)",
        "A server asking to wait longer fails the call instead (default 120).",
        "number",
    ),
}

ZOHO_CONNECTION_FIELDS: dict[str, Any] = {
    "refresh_token": _field(
        "Refresh token",
        "Offline refresh token of the Zoho API client (Self Client or access_type=offline).",
        secret=True,
    ),
    "region": _field(
        "Region (data centre)",
        "com, eu, in, com.au, jp, ca, sa, com.cn, uk; picks the accounts server and API domain.",
        default="com",
    ),
    "organization_id": _field("Organization id", "Zoho Inventory / Books organization_id."),
    "accounts_url": _field("Accounts URL override", "e.g. the sandbox or a private data centre."),
    "api_domain": _field("API domain override", "Overrides the api_domain Zoho returns with each token."),
    "crm_requests_per_minute": _field("CRM requests/minute", "Client-side cap per task process.", "integer"),
    "crm_concurrency": _field("CRM concurrency", "Concurrent CRM requests per task process.", "integer"),
    "inventory_requests_per_minute": _field("Inventory requests/minute", "Zoho's limit: 100/org.", "integer"),
    "inventory_concurrency": _field("Inventory concurrency", "Concurrent Inventory requests.", "integer"),
    "books_requests_per_minute": _field("Books requests/minute", "Zoho's limit: 100/org.", "integer"),
    "books_concurrency": _field("Books concurrency", "Concurrent Books requests.", "integer"),
    "max_token_mints_per_10_min": _field(
        "Token mints per 10 min", "Refuse to mint past this (Zoho allows 10 per refresh token).", "integer"
    ),
    **_RETRY_AND_TIMEOUT_FIELDS,
}

CSCART_CONNECTION_FIELDS: dict[str, Any] = {
    "api_path": _field("API path", "Path of the API front controller (default `api`).", default="api"),
    "api_version": _field("API version", "Optional X.Y version segment, e.g. 2.0 (never `2`)."),
    "requests_per_minute": _field("Requests/minute", "Client-side cap per task process.", "integer"),
    "concurrency": _field("Concurrency", "Concurrent requests per task process.", "integer"),
    **_RETRY_AND_TIMEOUT_FIELDS,
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow's ProvidersManager reads through the entry point."""
    return {
        "package-name": "zoho-cscart-sync",
        "name": "Zoho <-> CS-Cart sync",
        "description": "Zoho CRM / Inventory / Books and CS-Cart connection types and hooks.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "zoho",
                "hook-class-name": "zoho_cscart_sync.hooks.zoho.ZohoHook",
                "hook-name": "Zoho (CRM / Inventory / Books)",
                "conn-fields": ZOHO_CONNECTION_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "port"],
                    "relabeling": {"login": "Client ID", "password": "Client secret"},
                    "placeholders": {
                        "login": "1000.XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                        "password": "client secret",
                    },
                },
            },
            {
                "connection-type": "cscart",
                "hook-class-name": "zoho_cscart_sync.hooks.cscart.CsCartHook",
                "hook-name": "CS-Cart / Multi-Vendor",
                "conn-fields": CSCART_CONNECTION_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "Store base URL",
                        "login": "API user e-mail",
                        "password": "API key",
                    },
                    "placeholders": {"host": "https://shop.example", "login": "admin@shop.example"},
                },
            },
        ],
    }
