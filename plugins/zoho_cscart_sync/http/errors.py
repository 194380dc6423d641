"""The one error-classification table for Zoho Accounts, CRM, Inventory/Books and CS-Cart, and the exceptions.

Every response (and every transport failure) is classified into an :class:`Action`:

* ``RETRY``: transient; back off with jitter and try again (bounded).
* ``REFRESH_THEN_RETRY``: the access token was rejected; mint/reuse a fresh one once, then retry at once.
* ``RATE_LIMITED``: the server asked us to slow down; wait ``Retry-After`` (or back off) and retry.
* ``FAIL``: retrying cannot help (configuration, permission, bad data); raise with a hint.

Zoho also reports errors inside HTTP 200/400 bodies (the token endpoint answers 200 with ``error``; CRM
answers ``{"status": "error", "code": ...}``; Inventory/Books carry a non-zero numeric ``code``), so the
table is keyed by (api, HTTP status, body code) and looked up from the most to the least specific key.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Action(str, Enum):
    """What the transport does with a response."""

    OK = "ok"
    RETRY = "retry"
    REFRESH_THEN_RETRY = "refresh_then_retry"
    RATE_LIMITED = "rate_limited"
    FAIL = "fail"


class Kind(str, Enum):
    """Why a request failed; decides the exception class and tells the operator where to look."""

    TRANSIENT = "transient"
    RATE_LIMIT = "rate_limit"
    AUTH = "auth"
    CONFIG = "config"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    DATA = "data"


# APIs the table distinguishes (the hooks pass one of these with every request).
ZOHO_ACCOUNTS = "zoho_accounts"
ZOHO_CRM = "zoho_crm"
ZOHO_INVENTORY = "zoho_inventory"
ZOHO_BOOKS = "zoho_books"
CSCART = "cscart"
_ZOHO_FINANCE = (ZOHO_INVENTORY, ZOHO_BOOKS)


@dataclass(frozen=True)
class Rule:
    """One row of the classification table."""

    action: Action
    kind: Kind
    hint: str = ""


_RECONNECT = "reconnect the tenant: `python -m zoho_cscart_sync.cli reconnect --conn-id <id> --code <grant code>`"
_REGION = "check the connection's `region` / `accounts_url` / `api_domain` extras (Zoho data centre)"

# Key: (api or None, HTTP status or None, body code or None). None is a wildcard.
ERROR_TABLE: dict[tuple[str | None, int | None, str | None], Rule] = {
    # --- Zoho Accounts token endpoint: errors come back as HTTP 200 (or 400) with an `error` member.
    (ZOHO_ACCOUNTS, None, "invalid_code"): Rule(
        Action.FAIL,
        Kind.AUTH,
        f"the refresh token was revoked, evicted or belongs to another data centre; {_RECONNECT}",
    ),
    (ZOHO_ACCOUNTS, None, "invalid_client"): Rule(
        Action.FAIL,
        Kind.CONFIG,
        f"wrong client id, or the token call went to the wrong data centre; {_REGION}",
    ),
    (ZOHO_ACCOUNTS, None, "invalid_client_secret"): Rule(
        Action.FAIL, Kind.CONFIG, "wrong client secret (connection password)"
    ),
    (ZOHO_ACCOUNTS, None, "invalid_redirect_uri"): Rule(
        Action.FAIL, Kind.CONFIG, "the redirect URI does not match the one registered for the client"
    ),
    # Zoho blocks the refresh token for the rest of the 10-minute window: hammering only extends it.
    (ZOHO_ACCOUNTS, None, "Access Denied"): Rule(
        Action.FAIL,
        Kind.RATE_LIMIT,
        "Zoho throttled token creation; reuse cached tokens and wait ~10 minutes",
    ),
    (ZOHO_ACCOUNTS, None, "access_denied"): Rule(
        Action.FAIL,
        Kind.RATE_LIMIT,
        "Zoho throttled token creation; reuse cached tokens and wait ~10 minutes",
    ),
    # --- Zoho CRM v8 (`code` strings).
    (ZOHO_CRM, None, "INVALID_TOKEN"): Rule(Action.REFRESH_THEN_RETRY, Kind.AUTH, f"token rejected; {_REGION}"),
    (ZOHO_CRM, None, "AUTHENTICATION_FAILURE"): Rule(Action.REFRESH_THEN_RETRY, Kind.AUTH),
    (ZOHO_CRM, None, "OAUTH_SCOPE_MISMATCH"): Rule(
        Action.FAIL,
        Kind.CONFIG,
        f"the refresh token lacks a required scope; {_RECONNECT} with the needed scopes",
    ),
    (ZOHO_CRM, None, "NO_PERMISSION"): Rule(Action.FAIL, Kind.PERMISSION, "the Zoho user lacks permission"),
    (ZOHO_CRM, None, "TOO_MANY_REQUESTS"): Rule(
        Action.RATE_LIMITED, Kind.RATE_LIMIT, "credits or concurrency exhausted; lower the crm_* limits"
    ),
    (ZOHO_CRM, None, "INTERNAL_ERROR"): Rule(Action.RETRY, Kind.TRANSIENT),
    (ZOHO_CRM, None, "INVALID_URL_PATTERN"): Rule(Action.FAIL, Kind.CONFIG, _REGION),
    (ZOHO_CRM, None, "INVALID_MODULE"): Rule(Action.FAIL, Kind.CONFIG, "unknown CRM module API name"),
    (ZOHO_CRM, None, "REQUIRED_PARAM_MISSING"): Rule(Action.FAIL, Kind.DATA),
    (ZOHO_CRM, None, "DISCRETE_PAGINATION_LIMIT_EXCEEDED"): Rule(
        Action.FAIL, Kind.DATA, "page numbers stop at 2,000 records; continue with page_token"
    ),
    # --- Zoho Inventory / Books (numeric `code`, sent as a string key here).
    (ZOHO_INVENTORY, None, "14"): Rule(Action.REFRESH_THEN_RETRY, Kind.AUTH),
    (ZOHO_BOOKS, None, "14"): Rule(Action.REFRESH_THEN_RETRY, Kind.AUTH),
    # Code 57 means "not authorized"; it is also reported for expired tokens, so refresh once, then fail.
    (ZOHO_INVENTORY, None, "57"): Rule(
        Action.REFRESH_THEN_RETRY, Kind.PERMISSION, "the token lacks ZohoInventory scopes or permission"
    ),
    (ZOHO_BOOKS, None, "57"): Rule(
        Action.REFRESH_THEN_RETRY, Kind.PERMISSION, "the token lacks ZohoBooks scopes or permission"
    ),
    (ZOHO_INVENTORY, None, "1000"): Rule(Action.RETRY, Kind.TRANSIENT),
    (ZOHO_BOOKS, None, "1000"): Rule(Action.RETRY, Kind.TRANSIENT),
    # --- CS-Cart (no body codes; the status says it all).
    (CSCART, 401, None): Rule(
        Action.FAIL,
        Kind.AUTH,
        "wrong API user e-mail (login) or API key (password), or a proxy strips Authorization",
    ),
    (CSCART, 403, None): Rule(
        Action.FAIL, Kind.PERMISSION, "the API user may not do this (vendor keys are scoped to their company)"
    ),
    (CSCART, 404, None): Rule(Action.FAIL, Kind.NOT_FOUND),
    (CSCART, 415, None): Rule(Action.FAIL, Kind.DATA, "CS-Cart needs Content-Type: application/json"),
    # --- Any API, by HTTP status.
    (None, 401, None): Rule(Action.REFRESH_THEN_RETRY, Kind.AUTH),
    (None, 403, None): Rule(Action.FAIL, Kind.PERMISSION),
    (None, 404, None): Rule(Action.FAIL, Kind.NOT_FOUND),
    (None, 408, None): Rule(Action.RETRY, Kind.TRANSIENT),
    (None, 429, None): Rule(Action.RATE_LIMITED, Kind.RATE_LIMIT),
    (None, 500, None): Rule(Action.RETRY, Kind.TRANSIENT),
    (None, 502, None): Rule(Action.RETRY, Kind.TRANSIENT),
    (None, 503, None): Rule(Action.RETRY, Kind.TRANSIENT),
    (None, 504, None): Rule(Action.RETRY, Kind.TRANSIENT),
}
_DEFAULT_4XX = Rule(Action.FAIL, Kind.DATA)
_DEFAULT_5XX = Rule(Action.RETRY, Kind.TRANSIENT)
_OK = Rule(Action.OK, Kind.TRANSIENT)


@dataclass(frozen=True)
class Classification:
    """The outcome of :func:`classify` for one response."""

    action: Action
    kind: Kind
    code: str | None
    message: str
    hint: str = ""


def body_error(api: str, status: int, body: Any) -> tuple[str | None, str]:
    """Extract (code, message) of an error carried in a body, or (None, "") when the body reports success."""
    if not isinstance(body, dict):
        return None, ""
    if api == ZOHO_ACCOUNTS:
        if "error" in body:
            return str(body["error"]), str(body.get("error_description") or body["error"])
        return None, ""
    if api in _ZOHO_FINANCE:
        code = body.get("code")
        if code not in (None, 0, "0"):
            return str(code), str(body.get("message", ""))
        return None, ""
    if api == ZOHO_CRM:
        # Whole-request errors are top-level; per-record errors live in `data[]` and are not ours to raise.
        if body.get("status") == "error" and "code" in body:
            return str(body["code"]), str(body.get("message", ""))
        return None, ""
    if status >= 400:
        message = body.get("message")
        return None, str(message) if message else ""
    return None, ""


def _is_per_record_envelope(body: Any) -> bool:
    rows = body.get("data") if isinstance(body, dict) else None
    return (
        isinstance(rows, list)
        and bool(rows)
        and all(isinstance(row, dict) and "status" in row and "code" in row for row in rows)
    )


def classify(api: str, status: int, body: Any) -> Classification:
    """Classify one response of ``api`` (one of the module constants) by status and body."""
    if api == ZOHO_CRM and _is_per_record_envelope(body):
        # 201/202/207/400 with `data[]` of per-record outcomes: the caller reads each record's status.
        return Classification(_OK.action, _OK.kind, None, "")
    code, message = body_error(api, status, body)
    if code is None and status < 400:
        return Classification(_OK.action, _OK.kind, None, "")
    keys: list[tuple[str | None, int | None, str | None]] = []
    if code is not None:
        keys += [(api, status, code), (api, None, code)]
    keys += [(api, status, None), (None, status, None)]
    for key in keys:
        rule = ERROR_TABLE.get(key)
        if rule is not None:
            return Classification(rule.action, rule.kind, code, message, rule.hint)
    if status >= 500:
        rule = _DEFAULT_5XX
    elif status >= 400:
        rule = _DEFAULT_4XX
    else:
        # A 200 whose body reports an error code the table does not know: fail rather than treat as data.
        rule = _DEFAULT_4XX
    return Classification(rule.action, rule.kind, code, message, rule.hint)


class ApiError(Exception):
    """Base of all hook errors; the message names tenant, connection and endpoint, never a secret."""

    def __init__(
        self,
        message: str,
        *,
        tenant: str,
        conn_id: str,
        api: str,
        method: str = "",
        endpoint: str = "",
        status: int | None = None,
        code: str | None = None,
        kind: Kind = Kind.TRANSIENT,
        hint: str = "",
    ) -> None:
        self.tenant = tenant
        self.conn_id = conn_id
        self.api = api
        self.method = method
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.kind = kind
        self.hint = hint
        where = f"{method} {endpoint}".strip() or api
        status_part = f"HTTP {status}" if status is not None else "no response"
        code_part = f" {code}" if code else ""
        hint_part = f" Hint: {hint}." if hint else ""
        super().__init__(
            f"[{api}] {where} failed for tenant {tenant!r} (connection {conn_id!r}): "
            f"{status_part}{code_part}: {message}.{hint_part}"
        )


class RetryableApiError(ApiError):
    """Transient failure (5xx, timeout, connection reset); raised once the bounded retries are used up."""


class RateLimitedError(RetryableApiError):
    """HTTP 429 (or a Zoho TOO_MANY_REQUESTS code); ``retry_after`` in seconds when the server said so."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **context)


class TokenRejectedError(ApiError):
    """The API rejected the access token (401 INVALID_TOKEN, code 14): refresh once, then retry."""

    def __init__(self, message: str, *, rejected_token: str, **context: Any) -> None:
        # Kept only so the token manager can compare it with the cached one; never rendered.
        self.rejected_token = rejected_token
        super().__init__(message, **context)


class FatalApiError(ApiError):
    """Retrying cannot help: configuration, permission or data error."""


class NotFoundError(FatalApiError):
    """The object does not exist (HTTP 404)."""


class AuthenticationError(FatalApiError):
    """Credentials are wrong, revoked or for another data centre; the operator must act."""


class AmbiguousWriteError(FatalApiError):
    """A non-idempotent write timed out or failed with 5xx: it may or may not have been applied.

    It is never retried blindly (that could create a duplicate); the caller reconciles by natural key.
    """


class TokenMintBudgetExceeded(ApiError):
    """Minting another Zoho access token now would exceed Zoho's per-refresh-token budget."""


class TokenThrottledError(FatalApiError):
    """Zoho Accounts answered "Access Denied": token creation is blocked for the rest of its window."""


class VendorScopeError(FatalApiError):
    """A vendor-level tenant tried to read or write a record of another company_id."""


class PaginationError(FatalApiError):
    """The server's paging information is inconsistent (repeated token, wall without page_token)."""


def error_class_for(kind: Kind) -> type[ApiError]:
    """The exception class a failure of ``kind`` raises once the hook stops trying."""
    if kind is Kind.AUTH:
        return AuthenticationError
    if kind is Kind.NOT_FOUND:
        return NotFoundError
    if kind is Kind.RATE_LIMIT:
        return TokenThrottledError
    if kind is Kind.TRANSIENT:
        # Retries inside the hook are used up; the Airflow task retry may still succeed later.
        return RetryableApiError
    return FatalApiError
