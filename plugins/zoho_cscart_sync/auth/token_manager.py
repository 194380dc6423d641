"""Zoho access tokens shared by every task and run of a tenant, minted as rarely as Zoho's limits demand.

Zoho allows about 10 access-token mints per refresh token per 10 minutes and 15 live tokens; past that
it answers "Access Denied" and blocks the refresh token. So:

* the token is cached (encrypted) in the state store under a salted fingerprint of the credentials (client id,
  secret, refresh token: changed credentials mean a fresh mint), and
  reused by every process until shortly before it expires;
* a cross-process lock (``state.token_lock``) makes concurrent tasks wait for one mint instead of
  stampeding the token endpoint; after the lock the cache is read again;
* the mint log (``record_token_mint``) holds the tokens Zoho issued: a 200 carrying an access token,
  and a request whose answer timed out after it was sent (Zoho may have minted, and counts it). A 429,
  a 5xx, a refused connection or an error body issued nothing and is not logged, so a burst at the
  accounts server cannot use up the budget. A mint that would exceed the budget raises
  :class:`TokenMintBudgetExceeded` before anything is sent;
* 429 and 5xx from the token endpoint are backed off on their own, bounded by the retry policy's
  attempts, ``Retry-After`` ceiling and :data:`MAX_TOKEN_BACKOFF_SECONDS` in total; a 429 that
  outlasts them raises the retryable :class:`RateLimitedError` (not Zoho's 10-minute mint throttle);
* a token the API rejects (401 INVALID_TOKEN) is replaced once: if another process already replaced it,
  that token is used without minting.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import requests

from zoho_cscart_sync.auth.crypto import TokenCipher, TokenDecryptError
from zoho_cscart_sync.http.errors import (
    ZOHO_ACCOUNTS,
    Action,
    ApiError,
    Kind,
    RateLimitedError,
    RetryableApiError,
    TokenMintBudgetExceeded,
    classify,
    error_class_for,
)
from zoho_cscart_sync.http.redaction import redact, register_secrets, truncate
from zoho_cscart_sync.http.retry import RetryPolicy, backoff_seconds, parse_retry_after
from zoho_cscart_sync.state.models import CachedToken

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/v2/token"  # noqa: S105 - a URL path, not a password
REVOKE_PATH = "/oauth/v2/token/revoke"
DEFAULT_MINT_BUDGET = 10
MINT_WINDOW = timedelta(minutes=10)
DEFAULT_REFRESH_MARGIN = timedelta(minutes=5)
# Backoff at the token endpoint happens while the token lock is held, and other tasks wait for that lock
# for 120 s (state.store.DEFAULT_TOKEN_LOCK_TIMEOUT_SECONDS): stop sleeping well before they give up.
MAX_TOKEN_BACKOFF_SECONDS = 60.0
_DEFAULT_TIMEOUT = 30.0


class TokenCacheStore(Protocol):
    """The part of ``zoho_cscart_sync.state.StateStore`` the token manager uses."""

    def get_token(self, cache_key: str) -> CachedToken | None: ...
    def put_token(self, cache_key: str, token: CachedToken) -> None: ...
    def delete_token(self, cache_key: str) -> None: ...
    def token_lock(self, cache_key: str) -> AbstractContextManager[None]: ...
    def record_token_mint(self, cache_key: str, minted_at: datetime) -> None: ...
    def token_mints_since(self, cache_key: str, since: datetime) -> int: ...


@dataclass(frozen=True)
class AccessToken:
    """A decrypted access token; ``value`` is kept out of repr."""

    value: str = field(repr=False)
    api_domain: str
    expires_at: datetime
    minted_at: datetime


@dataclass(frozen=True)
class TokenStatus:
    """What an operator may see about the cached token: never the token itself."""

    cache_key: str
    api_domain: str | None
    expires_at: datetime | None
    minted_at: datetime | None
    mints_in_window: int
    mint_budget: int
    cipher: str

    @property
    def valid(self) -> bool:
        """Whether a cached token exists and has not expired yet."""
        return self.expires_at is not None and self.expires_at > datetime.now(timezone.utc)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view (for the CLI and test_connection)."""
        return {
            "cache_key": self.cache_key,
            "api_domain": self.api_domain,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "minted_at": self.minted_at.isoformat() if self.minted_at else None,
            "valid": self.valid,
            "mints_last_10_min": self.mints_in_window,
            "mint_budget_per_10_min": self.mint_budget,
            "cache_encryption": self.cipher,
        }


_FINGERPRINT_SALT = b"zoho_cscart_sync/token-cache/credentials-fingerprint/v1"


def credentials_fingerprint(accounts_url: str, client_id: str, client_secret: str, refresh_token: str) -> str:
    """Key of the cached access token, its lock and mint log: a salted one-way hash (HMAC-SHA256) of every
    credential the mint uses (tenants sharing one set of credentials share one token and one mint budget).

    A connection whose client id, client secret or refresh token changed finds no cached token and mints, so a
    connection test proves the credentials it holds instead of reusing a token minted with other ones. The
    fingerprint reveals nothing about the secret (it is never stored, logged or shown, only this digest).
    """
    message = "\n".join((accounts_url, client_id, client_secret, refresh_token)).encode()
    digest = hmac.new(_FINGERPRINT_SALT, message, hashlib.sha256).hexdigest()
    return f"zoho:{digest[:40]}"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ZohoTokenManager:
    """Hands out a valid access token for one Zoho connection, minting through the shared cache."""

    def __init__(
        self,
        *,
        tenant: str,
        conn_id: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        accounts_url: str,
        store: TokenCacheStore,
        api_domain_override: str | None = None,
        default_api_domain: str | None = None,
        mint_budget: int = DEFAULT_MINT_BUDGET,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        timeout: float = _DEFAULT_TIMEOUT,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        cipher: TokenCipher | None = None,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tenant = tenant
        self.conn_id = conn_id
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.accounts_url = accounts_url.rstrip("/")
        self.store = store
        self.api_domain_override = api_domain_override.rstrip("/") if api_domain_override else None
        self.default_api_domain = default_api_domain.rstrip("/") if default_api_domain else None
        self.mint_budget = mint_budget
        self.refresh_margin = refresh_margin
        self.timeout = timeout
        self.policy = policy or RetryPolicy(max_attempts=3)
        self._session = session or requests.Session()
        # The token endpoint must never see Airflow's or the user's proxy-auth headers by accident.
        self._session.trust_env = False
        self.cipher = cipher or TokenCipher(client_secret)
        self._clock = clock
        self._sleep = sleep
        # The cached token, its lock and the mint log belong to these exact credentials. Only a mint with the
        # right secret succeeds and is logged, so the mint log still counts what Zoho issued per refresh token.
        self.cache_key = credentials_fingerprint(self.accounts_url, client_id, client_secret, refresh_token)
        self._memo: AccessToken | None = None
        register_secrets(client_secret, refresh_token)

    # ------------------------------------------------------------------ public API
    def access_token(self) -> AccessToken:
        """A token valid for at least the refresh margin: memo, then shared cache, then (locked) mint."""
        if self._memo is not None and self._fresh(self._memo.expires_at, self._memo.minted_at):
            return self._memo
        cached = self._read_cache()
        if cached is not None:
            return cached
        with self.store.token_lock(self.cache_key):
            # Another process may have minted while we waited for the lock.
            cached = self._read_cache()
            if cached is not None:
                return cached
            return self._mint()

    def refresh_after_rejection(self, rejected_token: str) -> AccessToken:
        """Replace a token the API rejected; reuse a newer cached one if another process already minted it."""
        self._memo = None
        with self.store.token_lock(self.cache_key):
            cached = self._read_cache(allow=lambda token: token.value != rejected_token)
            if cached is not None:
                return cached
            self.store.delete_token(self.cache_key)
            return self._mint()

    def status(self) -> TokenStatus:
        """Expiry, API domain and mint count of the cached token, without touching Zoho."""
        cached = self.store.get_token(self.cache_key)
        return TokenStatus(
            cache_key=self.cache_key,
            api_domain=cached.api_domain if cached else None,
            expires_at=cached.expires_at if cached else None,
            minted_at=cached.minted_at if cached else None,
            mints_in_window=self.store.token_mints_since(self.cache_key, self._clock() - MINT_WINDOW),
            mint_budget=self.mint_budget,
            cipher=self.cipher.source,
        )

    def revoke(self) -> None:
        """Disconnect: revoke the refresh token at Zoho (which kills its access tokens) and drop the cache."""
        # Zoho documents `?token=` in the query; the accounts server reads form bodies as well (the SDKs post
        # forms), and a query string would put the refresh token into every URL-logging layer (urllib3's
        # DEBUG log, proxies), so it travels in the body.
        response = self._post(REVOKE_PATH, data={"token": self._refresh_token}, what="revoke")
        body = _json_or_none(response)
        verdict = classify(ZOHO_ACCOUNTS, response.status_code, body)
        if verdict.action is not Action.OK or (isinstance(body, dict) and body.get("status") == "failure"):
            raise self._error(error_class_for(verdict.kind), verdict.message or "revoke failed", verdict, response)
        with self.store.token_lock(self.cache_key):
            self.store.delete_token(self.cache_key)
        self._memo = None
        log.info("Revoked the Zoho refresh token of tenant %s (connection %s)", self.tenant, self.conn_id)

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> str:
        """Reconnect: trade an authorization/self-client grant code for a new refresh token (returned)."""
        register_secrets(code)
        data = {
            "grant_type": "authorization_code",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "code": code,
        }
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        response = self._post(TOKEN_PATH, data=data, what="authorization_code grant")
        body = self._checked_token_body(response)
        refresh_token = body.get("refresh_token")
        if not refresh_token:
            raise ApiError(
                "Zoho returned no refresh_token (authorise with access_type=offline&prompt=consent)",
                tenant=self.tenant,
                conn_id=self.conn_id,
                api=ZOHO_ACCOUNTS,
                method="POST",
                endpoint=self.accounts_url + TOKEN_PATH,
                status=response.status_code,
                kind=Kind.CONFIG,
            )
        register_secrets(str(refresh_token), str(body.get("access_token") or ""))
        return str(refresh_token)

    # ------------------------------------------------------------------ internals
    def _fresh(self, expires_at: datetime, minted_at: datetime) -> bool:
        # A short-lived token (sandbox knob, or a clock skew) must not be "expired on arrival": the margin is
        # at most a tenth of the lifetime.
        lifetime = expires_at - minted_at
        margin = min(self.refresh_margin, lifetime / 10)
        return self._clock() < expires_at - margin

    def _read_cache(self, allow: Callable[[AccessToken], bool] | None = None) -> AccessToken | None:
        cached = self.store.get_token(self.cache_key)
        if cached is None or not self._fresh(cached.expires_at, cached.minted_at):
            return None
        try:
            value = self.cipher.decrypt(cached.access_token_ciphertext)
        except TokenDecryptError:
            log.warning("Cached Zoho token for tenant %s cannot be decrypted; minting a new one", self.tenant)
            return None
        token = AccessToken(value, cached.api_domain, cached.expires_at, cached.minted_at)
        if allow is not None and not allow(token):
            return None
        register_secrets(value)
        self._memo = token
        return token

    def _mint(self) -> AccessToken:
        """Refresh-token grant; caller holds the token lock."""
        data = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token,
        }
        response = self._post(TOKEN_PATH, data=data, what="refresh_token grant", mint=True)
        body = self._checked_token_body(response)
        access_token = body.get("access_token")
        if not access_token:
            raise ApiError(
                "token response has no access_token",
                tenant=self.tenant,
                conn_id=self.conn_id,
                api=ZOHO_ACCOUNTS,
                method="POST",
                endpoint=self.accounts_url + TOKEN_PATH,
                status=response.status_code,
                kind=Kind.AUTH,
            )
        register_secrets(str(access_token))
        minted_at = self._clock()
        # Logged only now that Zoho has issued it: refusals and errors above never reach this line.
        self.store.record_token_mint(self.cache_key, minted_at)
        token = AccessToken(
            value=str(access_token),
            api_domain=self._api_domain(body),
            expires_at=minted_at + timedelta(seconds=_expires_in_seconds(body)),
            minted_at=minted_at,
        )
        self.store.put_token(
            self.cache_key,
            CachedToken(
                access_token_ciphertext=self.cipher.encrypt(token.value),
                api_domain=token.api_domain,
                expires_at=token.expires_at,
                minted_at=token.minted_at,
            ),
        )
        self._memo = token
        log.info(
            "Minted a Zoho access token for tenant %s (connection %s), valid until %s",
            self.tenant,
            self.conn_id,
            token.expires_at.isoformat(),
        )
        return token

    def _api_domain(self, body: dict[str, Any]) -> str:
        # An explicit connection override wins (sandbox, private DC); then what Zoho says for this token;
        # then the previously cached value (a refresh may omit it); then the region default.
        if self.api_domain_override:
            return self.api_domain_override
        if body.get("api_domain"):
            return str(body["api_domain"]).rstrip("/")
        previous = self.store.get_token(self.cache_key)
        if previous is not None and previous.api_domain:
            return previous.api_domain
        if self.default_api_domain:
            return self.default_api_domain
        raise ApiError(
            "no api_domain in the token response and none configured",
            tenant=self.tenant,
            conn_id=self.conn_id,
            api=ZOHO_ACCOUNTS,
            kind=Kind.CONFIG,
        )

    def _checked_token_body(self, response: requests.Response) -> dict[str, Any]:
        body = _json_or_none(response)
        verdict = classify(ZOHO_ACCOUNTS, response.status_code, body)
        if verdict.action is not Action.OK or not isinstance(body, dict):
            raise self._error(
                error_class_for(verdict.kind),
                verdict.message or "unexpected token response",
                verdict,
                response,
            )
        return body

    def _error(self, cls: type[ApiError], message: str, verdict: Any, response: requests.Response) -> ApiError:
        return cls(
            redact(truncate(message), (self._client_secret, self._refresh_token)),
            tenant=self.tenant,
            conn_id=self.conn_id,
            api=ZOHO_ACCOUNTS,
            method="POST",
            endpoint=self.accounts_url + response.request.path_url.split("?", 1)[0],
            status=response.status_code,
            code=verdict.code,
            kind=verdict.kind,
            hint=verdict.hint,
        )

    def _post(
        self,
        path: str,
        *,
        what: str,
        data: dict[str, str] | None = None,
        mint: bool = False,
    ) -> requests.Response:
        """POST to Zoho Accounts with bounded retries on transport errors, 429 and 5xx.

        ``mint``: check the mint budget before every attempt and log an attempt whose answer timed out
        (see the module docstring). Secrets travel only in the form body, never in the URL; logs show
        only the path.
        """
        url = self.accounts_url + path
        slept = 0.0
        for attempt in range(1, self.policy.max_attempts + 1):
            last = attempt == self.policy.max_attempts
            if mint:
                self._check_budget()
            try:
                response = self._session.post(url, data=data, timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as exc:
                log.warning("POST %s (%s) -> %s, attempt %d", url, what, type(exc).__name__, attempt)
                if mint and isinstance(exc, requests.ReadTimeout):
                    # The request was sent whole: Zoho may have minted a token we will never see, and its
                    # limit counts it. A connect timeout or refused connection sent nothing.
                    self.store.record_token_mint(self.cache_key, self._clock())
                wait = backoff_seconds(self.policy, attempt)
                if last or slept + wait > MAX_TOKEN_BACKOFF_SECONDS:
                    raise RetryableApiError(
                        f"{type(exc).__name__} talking to Zoho Accounts",
                        tenant=self.tenant,
                        conn_id=self.conn_id,
                        api=ZOHO_ACCOUNTS,
                        method="POST",
                        endpoint=url,
                        hint="check the connection's region / accounts_url and network access",
                    ) from None
                self._sleep(wait)
                slept += wait
                continue
            log.info("POST %s (%s) -> %s, attempt %d", url, what, response.status_code, attempt)
            if response.status_code == 429:
                # A 429 *status* is load shedding in front of the accounts server: nothing was minted.
                # Zoho's own mint throttle ("Access Denied" in a 200/400 body) is not retried; it is
                # classified as fatal by the caller.
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = backoff_seconds(self.policy, attempt, retry_after)
                too_long = retry_after is not None and retry_after > self.policy.max_retry_after
                if last or too_long or slept + wait > MAX_TOKEN_BACKOFF_SECONDS:
                    raise self._rate_limited(response, retry_after, attempt)
                self._sleep(wait)
                slept += wait
                continue
            if response.status_code >= 500 and not last:
                wait = backoff_seconds(self.policy, attempt)
                if slept + wait <= MAX_TOKEN_BACKOFF_SECONDS:
                    self._sleep(wait)
                    slept += wait
                    continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _rate_limited(self, response: requests.Response, retry_after: float | None, attempts: int) -> ApiError:
        wait = f"; it asked to wait {retry_after:g}s" if retry_after is not None else ""
        return RateLimitedError(
            f"Zoho Accounts answered 429 to {attempts} attempt(s){wait}; no token was issued and the mint "
            "budget was not charged",
            retry_after=retry_after,
            tenant=self.tenant,
            conn_id=self.conn_id,
            api=ZOHO_ACCOUNTS,
            method="POST",
            endpoint=self.accounts_url + response.request.path_url.split("?", 1)[0],
            status=response.status_code,
            kind=Kind.RATE_LIMIT,
            hint="the accounts server is shedding load; the task retry will try again",
        )

    def _check_budget(self) -> None:
        now = self._clock()
        minted = self.store.token_mints_since(self.cache_key, now - MINT_WINDOW)
        if minted >= self.mint_budget:
            raise TokenMintBudgetExceeded(
                f"Zoho issued {minted} access tokens in the last 10 minutes "
                f"(budget {self.mint_budget}); refusing to mint another so Zoho does not block "
                "the refresh token",
                tenant=self.tenant,
                conn_id=self.conn_id,
                api=ZOHO_ACCOUNTS,
                method="POST",
                endpoint=self.accounts_url + TOKEN_PATH,
                kind=Kind.RATE_LIMIT,
                hint="tasks are minting instead of sharing the cached token; retry after the window",
            )


def _expires_in_seconds(body: dict[str, Any]) -> float:
    # Historic responses carried `expires_in` in milliseconds next to `expires_in_sec`; current ones, seconds.
    if "expires_in_sec" in body:
        return float(body["expires_in_sec"])
    return float(body.get("expires_in", 3600))


def _json_or_none(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
