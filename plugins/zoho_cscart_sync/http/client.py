"""One request: limits, timeout, classification, bounded retries, a single token refresh, clean logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import tenacity

from zoho_cscart_sync.http.errors import (
    ZOHO_BOOKS,
    ZOHO_INVENTORY,
    Action,
    AmbiguousWriteError,
    ApiError,
    Kind,
    RateLimitedError,
    RetryableApiError,
    TokenRejectedError,
    classify,
    error_class_for,
)
from zoho_cscart_sync.http.ratelimit import RateLimiter
from zoho_cscart_sync.http.redaction import redact, sanitize_url, truncate
from zoho_cscart_sync.http.retry import RetryPolicy, build_retrying, parse_retry_after

log = logging.getLogger(__name__)

# Zoho answers 204 (nothing found) and 304 (nothing modified) with empty bodies: never json() them.
EMPTY_STATUSES = frozenset({204, 304})
DEFAULT_TIMEOUT_SECONDS = 30.0
_CONNECT_TIMEOUT_SECONDS = 10.0
# APIs whose 429 means "this organisation's requests for the current minute are used up" (Zoho Inventory
# and Books: 100 requests per minute per organisation, zoho_api.md 3.7 and 4). Their docs promise no
# Retry-After, and the exponential backoff (about 1 + 2 + 4 + 8 s over five attempts) gives up long before
# the minute is over, so such a 429 waits for the window instead. CRM's 429s are concurrency and credits.
WINDOWED_429_APIS = frozenset({ZOHO_INVENTORY, ZOHO_BOOKS})


@dataclass(frozen=True)
class ApiResponse:
    """A classified-as-OK response: status, parsed JSON body (None when empty) and headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class RequestContext:
    """Who is calling, for logs and exception messages."""

    tenant: str
    conn_id: str
    secrets: tuple[str, ...] = ()


class ApiRequester:
    """Sends requests for one hook: shared by every call of that hook instance.

    ``refresh_token`` (Zoho only) is called with the rejected access token when the API answers 401
    INVALID_TOKEN; the request is then retried once with the new token.
    """

    def __init__(
        self,
        session: requests.Session,
        context: RequestContext,
        *,
        limiter: RateLimiter,
        policy: RetryPolicy,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        refresh_token: Callable[[str], object] | None = None,
        wait: tenacity.wait.wait_base | None = None,
    ) -> None:
        self.session = session
        self.context = context
        self.limiter = limiter
        self.policy = policy
        self.timeout = timeout
        self.refresh_token = refresh_token
        self.wait = wait

    def request(
        self,
        api: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> ApiResponse:
        """Send one logical request; raise an :class:`ApiError` subclass when it cannot succeed.

        ``idempotent=False`` (creates) retries only failures that certainly happened before the server
        processed the request (connect errors, 401, 429); a read timeout or 5xx raises AmbiguousWriteError.
        """
        refreshed = False
        while True:
            retrying = build_retrying(
                self.policy, wait=self.wait, describe=f"{method} {sanitize_url(url)} [{self.context.tenant}]"
            )
            attempts = iter(range(1, self.policy.max_attempts + 1))

            def attempt_once(attempts: Iterator[int] = attempts) -> ApiResponse:
                return self._attempt(api, method, url, params, json, headers, idempotent, next(attempts, 0))

            try:
                return retrying(attempt_once)
            except TokenRejectedError as exc:
                if refreshed or self.refresh_token is None:
                    raise self._error(
                        error_class_for(exc.kind),
                        "the access token was rejected again right after a refresh"
                        if refreshed
                        else "the credentials were rejected",
                        api=api,
                        method=method,
                        url=url,
                        status=exc.status,
                        code=exc.code,
                        kind=exc.kind,
                        hint=exc.hint or "check the connection's region/api_domain and the token scopes",
                    ) from None
                refreshed = True
                log.info("%s %s: access token rejected (%s); refreshing once", method, sanitize_url(url), exc.code)
                self.refresh_token(exc.rejected_token)

    def _attempt(
        self,
        api: str,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        idempotent: bool,
        attempt: int,
    ) -> ApiResponse:
        started = time.monotonic()
        try:
            with self.limiter.slot() as ticket:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=dict(headers or {}),
                    timeout=(min(_CONNECT_TIMEOUT_SECONDS, self.timeout), self.timeout),
                    allow_redirects=False,
                )
                ticket.refused = response.status_code == 429
        except requests.ConnectTimeout as exc:
            raise self._transport_error(RetryableApiError, api, method, url, exc, attempt) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            if idempotent:
                raise self._transport_error(RetryableApiError, api, method, url, exc, attempt) from None
            raise self._transport_error(AmbiguousWriteError, api, method, url, exc, attempt) from None
        elapsed = time.monotonic() - started
        shown_url = sanitize_url(response.request.url or url)
        log.info(
            "%s %s -> %s (attempt %d/%d, %.2fs)",
            method,
            shown_url,
            response.status_code,
            attempt,
            self.policy.max_attempts,
            elapsed,
        )
        body = _parse_body(response)
        verdict = classify(api, response.status_code, body)
        if verdict.action is Action.OK:
            return ApiResponse(response.status_code, body, response.headers)
        message = redact(truncate(verdict.message or response.reason or ""), self.context.secrets)
        common: dict[str, Any] = {
            "api": api,
            "method": method,
            "url": url,
            "status": response.status_code,
            "code": verdict.code,
            "kind": verdict.kind,
            "hint": verdict.hint,
        }
        if verdict.action is Action.REFRESH_THEN_RETRY:
            sent = response.request.headers.get("Authorization", "")
            raise TokenRejectedError(message, rejected_token=sent.split(" ", 1)[-1], **self._context_kwargs(**common))
        if verdict.action is Action.RATE_LIMITED:
            if not idempotent and response.status_code != 429:
                raise self._error(AmbiguousWriteError, message, **common)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if api in WINDOWED_429_APIS and response.status_code == 429:
                retry_after = self._wait_for_window(retry_after, api, method, url)
            raise RateLimitedError(message, retry_after=retry_after, **self._context_kwargs(**common))
        if verdict.action is Action.RETRY:
            if not idempotent:
                raise self._error(AmbiguousWriteError, message, **common)
            raise self._error(RetryableApiError, message, **common)
        raise self._error(error_class_for(verdict.kind), message, **common)

    def _wait_for_window(self, retry_after: float | None, api: str, method: str, url: str) -> float:
        """The wait for a per-minute 429: ``Retry-After``, else the rest of the window; pauses every thread.

        The pause holds the other threads of this process too: their requests would only collect more 429s
        (and use up their attempts) before the window rolls over. A wait above ``max_retry_after`` is not
        taken; the retry predicate then stops the request instead of sleeping a task slot away.
        """
        wait = retry_after if retry_after is not None else self.limiter.window_remaining()
        if wait <= self.policy.max_retry_after:
            self.limiter.pause(wait)
        log.warning(
            "%s %s [%s]: %s per-minute quota used up; waiting %.1fs for the window (%s)",
            method,
            sanitize_url(url),
            self.context.tenant,
            api,
            wait,
            "Retry-After" if retry_after is not None else "no Retry-After: rest of the window",
        )
        return wait

    def _context_kwargs(self, *, url: str, **rest: Any) -> dict[str, Any]:
        return {
            "tenant": self.context.tenant,
            "conn_id": self.context.conn_id,
            "endpoint": sanitize_url(url),
            **rest,
        }

    def _error(self, cls: type[ApiError], message: str, **rest: Any) -> ApiError:
        return cls(message, **self._context_kwargs(**rest))

    def _transport_error(
        self, cls: type[ApiError], api: str, method: str, url: str, exc: Exception, attempt: int
    ) -> ApiError:
        log.warning(
            "%s %s -> %s (attempt %d/%d)",
            method,
            sanitize_url(url),
            type(exc).__name__,
            attempt,
            self.policy.max_attempts,
        )
        return self._error(
            cls,
            f"{type(exc).__name__} after {self.timeout:g}s timeout"
            if isinstance(exc, requests.Timeout)
            else type(exc).__name__,
            api=api,
            method=method,
            url=url,
            kind=Kind.TRANSIENT,
        )


def _parse_body(response: requests.Response) -> Any:
    if response.status_code in EMPTY_STATUSES or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return {"message": response.text[:300]} if response.status_code >= 400 else None
