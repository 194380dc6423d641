"""Knobs (latency, faults, limits), per-endpoint call counters and the middleware that applies them."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from zoho_cscart_sandbox.credentials import DEFAULT_TENANT_CUSTOMERS, GeneratedTenants

ADMIN_PREFIX = "/__sandbox__"
VENDOR_ACCESS_MODES = ("company_scoped", "catalog_read_only")


@dataclass
class Knobs:
    """Tunable behaviour of one server. Defaults: no faults, no latency, documented limits."""

    latency_ms: int = 0
    # Fraction of API requests answered 500 (deterministic: drawn from a Random seeded by reset(seed)).
    fail_5xx_rate: float = 0.0
    # Fraction of API requests whose answer is held back `hang_seconds` (the client times out).
    timeout_rate: float = 0.0
    hang_seconds: float = 30.0
    # "after": the request is processed (a write IS applied) and then the answer hangs - the nasty
    # real-world case where a retry duplicates the write. "before": hang, then process.
    hang_phase: str = "after"
    # The next N API requests answer 429 with Retry-After.
    burst_429: int = 0
    # Scripted write failure (a store that goes down mid-load): the next N writes (POST/PUT/PATCH/DELETE
    # other than token mints and COQL reads, counted from the moment the knob is set) are processed, and
    # every write after them answers 500 *without* being applied. -1 = off.
    fail_writes_after: int = -1
    # Fault schedules counted in requests, not seconds: a seeded client that sends the same requests meets
    # the same faults on every run (a schedule on the wall clock shifts with the machine's speed). Each counts
    # from the moment its knob is set.
    # Every N-th API request opens a 429 burst of `burst_429_length` requests, itself included. 0 = off.
    burst_429_every: int = 0
    burst_429_length: int = 2
    # Once N writes (as `fail_writes_after` counts them) were served, the next `storm_429_length` API requests
    # answer 429: a rate-limit storm that lands in the middle of a load, once. -1 = off.
    storm_429_after_writes: int = -1
    storm_429_length: int = 8
    # Zoho: every N-th API request other than a token call finds every live access token expired (it is
    # answered INVALID_TOKEN, as when a token's hour ends mid-run). 0 = off.
    expire_tokens_every: int = 0
    # The next write whose body (as sent) contains this text is applied and answered like a timeout
    # (`hang_seconds`, `hang_phase`), once; then the knob clears itself. "" = off. A scripted lost answer.
    hang_write_containing: str = ""
    retry_after_seconds: int = 1
    # Zoho Accounts: access-token lifetime and the documented limits (zoho_api.md 1.4).
    token_lifetime_seconds: int = 3600
    token_mint_limit: int = 10
    token_mint_window_seconds: int = 600
    max_live_tokens: int = 15
    # HTTP status of the "Access Denied" throttle body: 200 per Kaizen #43 (one client says 400).
    token_throttle_status: int = 200
    # Zoho CRM: in-flight calls per organisation (Enterprise edition: 20) and an optional per-minute cap.
    zoho_concurrency_limit: int = 20
    zoho_requests_per_minute: int = 0
    # Zoho Inventory/Books: requests per minute per organisation (0 = off; the reported real value is 100).
    finance_requests_per_minute: int = 0
    # The same per-organisation quota (Inventory and Books counted apart), applied by the finance routes
    # with a window tests can shorten, so a client's pacing is checked in seconds instead of minutes.
    # 0 = off. The 429 carries `Retry-After` (seconds until a slot frees) unless `finance_retry_after` is
    # false: Zoho documents no Retry-After for Inventory/Books (zoho_api.md 3.6/3.7), so clients must cope.
    finance_requests_per_window: int = 0
    finance_window_seconds: float = 60.0
    finance_retry_after: bool = True
    # Zoho Accounts: the next N token-endpoint calls answer HTTP 429 with `Retry-After` (load shedding in
    # front of the accounts server: nothing is minted, nothing counts against the mint limit). API calls
    # are unaffected; `burst_429` hits every endpoint.
    token_burst_429: int = 0
    # CRM search index lag: records written less than this many seconds ago are not found by search.
    search_index_lag_seconds: float = 0.0
    # Accept "Authorization: Bearer" besides "Zoho-oauthtoken" (some clients report it works on Inventory).
    accept_bearer: bool = False
    # CS-Cart: default items_per_page (store setting "Elements per page": 10 in 4.13.3, 50 in 4.20.1).
    cscart_items_per_page: int = 10
    # CS-Cart vendor API keys: "company_scoped" (older 4.x: CRUD limited to the vendor's company) or
    # "catalog_read_only" (4.13.3/4.20.1 code: GET products/categories only, 403 elsewhere).
    vendor_api_access: str = "company_scoped"
    # CS-Cart 4.20 rejects GET /api/users without user_type (400); 4.13.3 does not.
    cscart_require_user_type: bool = True

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown knob {name!r}; known knobs: {sorted(known)}")
            current = getattr(self, name)
            if isinstance(current, bool):
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "y")
            elif isinstance(current, int):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            else:
                value = str(value)
            setattr(self, name, value)
        if self.hang_phase not in ("after", "before"):
            raise ValueError("hang_phase must be 'after' or 'before'")
        if self.vendor_api_access not in VENDOR_ACCESS_MODES:
            raise ValueError(f"vendor_api_access must be one of {VENDOR_ACCESS_MODES}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_DIGITS = re.compile(r"^\d+$")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that read or mint rather than change data.
_NOT_WRITES = ("/oauth/", "/coql")


def is_write(method: str, path: str) -> bool:
    """A request that changes data (what `fail_writes_after` counts): not a token mint, not a COQL query."""
    return method.upper() in _WRITE_METHODS and not any(part in path for part in _NOT_WRITES)


_CSCART_VERSION = re.compile(r"^/api/\d+(\.\d+)?/")


def endpoint_template(method: str, path: str, query: str = "") -> str:
    """'GET /crm/v8/Contacts/5725767000200000001' -> 'GET /crm/v8/Contacts/{id}'.

    CS-Cart's version segment is dropped (/api/2.0/products == /api/products) and the
    `api.php?_d=products/5` fallback is folded into the same template.
    """
    if path.endswith("/api.php"):
        for part in query.split("&"):
            if part.startswith("_d="):
                path = "/api/" + part[3:].strip("/")
    path = _CSCART_VERSION.sub("/api/", path)
    segments = ["{id}" if _DIGITS.match(s) else s for s in path.rstrip("/").split("/")]
    return f"{method} {'/'.join(segments) or '/'}"


@dataclass
class ScheduleCounters:
    requests: int = 0  # API requests since `burst_429_every` was set
    writes: int = 0  # writes served since `storm_429_after_writes` was set
    storm_fired: bool = False
    token_requests: int = 0  # Zoho API requests (token calls excluded) since `expire_tokens_every` was set


class ServerRuntime:
    """Per-server knobs, counters and the deterministic fault sequence."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.knobs = Knobs()
        self.counters: Counter[str] = Counter()
        self.status_counters: Counter[str] = Counter()
        # Requests per endpoint template whose answer was held back by `timeout_rate` (for "after": applied).
        self.hung: Counter[str] = Counter()
        self._faults = random.Random(0)
        self.inflight: Counter[str] = Counter()
        # Sliding windows of admitted requests (monotonic times) per limit key, for `admit`.
        self.windows: dict[tuple[str, ...], deque[float]] = {}
        # Writes let through since `fail_writes_after` was last set.
        self.writes_let_through = 0
        # Request-counted fault schedules (see the knobs): requests / writes seen since each knob was set.
        self.schedule = ScheduleCounters()
        # Zoho: expires every live access token (set by the server that issues them).
        self.expire_tokens: Callable[[], object] | None = None

    def reset(self, seed: int) -> None:
        self.knobs = Knobs()
        self.counters.clear()
        self.status_counters.clear()
        self.hung.clear()
        self._faults = random.Random(seed)
        self.inflight.clear()
        self.windows.clear()
        self.writes_let_through = 0
        self.schedule = ScheduleCounters()

    def restart_schedules(self, changed: Iterable[str]) -> None:
        """Setting a schedule's knob restarts its count (so a test knows which request meets the fault)."""
        changed = set(changed)
        if changed & {"burst_429_every", "burst_429_length"}:
            self.schedule.requests = 0
        if changed & {"storm_429_after_writes", "storm_429_length"}:
            self.schedule.writes = 0
            self.schedule.storm_fired = False
        if "expire_tokens_every" in changed:
            self.schedule.token_requests = 0

    def before_request(self, path: str) -> None:
        """Apply the request-counted schedules to the request about to be answered."""
        knobs, schedule = self.knobs, self.schedule
        if knobs.burst_429_every > 0:
            schedule.requests += 1
            if schedule.requests % knobs.burst_429_every == 0:
                knobs.burst_429 = max(knobs.burst_429, knobs.burst_429_length)
        if knobs.expire_tokens_every > 0 and self.expire_tokens is not None and "/oauth/" not in path:
            schedule.token_requests += 1
            if schedule.token_requests % knobs.expire_tokens_every == 0:
                self.expire_tokens()

    def write_served(self, method: str, path: str) -> None:
        """Count a write that reaches its handler; the storm starts after the one that completes its count."""
        knobs, schedule = self.knobs, self.schedule
        if knobs.storm_429_after_writes < 0 or schedule.storm_fired or not is_write(method, path):
            return
        schedule.writes += 1
        if schedule.writes >= knobs.storm_429_after_writes:
            knobs.burst_429 = max(knobs.burst_429, knobs.storm_429_length)
            schedule.storm_fired = True

    def write_refused(self, method: str, path: str) -> bool:
        """True when `fail_writes_after` says this write must fail; otherwise a write is counted as let through."""
        limit = self.knobs.fail_writes_after
        if limit < 0 or not is_write(method, path):
            return False
        if self.writes_let_through >= limit:
            return True
        self.writes_let_through += 1
        return False

    def admit(self, key: tuple[str, ...], limit: int, window_seconds: float) -> float | None:
        """Count one request against `limit` per sliding `window_seconds` for `key` (0 = no limit).

        Returns None when admitted, else the seconds until the oldest counted request leaves the window.
        A refused request is not counted ((U) the sandbox's choice: whether Zoho charges a 429 is not documented).
        """
        if limit <= 0:
            return None
        now = time.monotonic()
        window = self.windows.setdefault(key, deque())
        while window and now - window[0] >= window_seconds:
            window.popleft()
        if len(window) >= limit:
            return max(window[0] + window_seconds - now, 0.0)
        window.append(now)
        return None

    def draw(self) -> tuple[bool, bool]:
        """(answer 500?, hang?) for the next API request; two draws per request keep the sequence stable."""
        fail, hang = self._faults.random(), self._faults.random()
        return fail < self.knobs.fail_5xx_rate, hang < self.knobs.timeout_rate


ErrorBody = Callable[[Request, int, str], Response]
Limiter = Callable[[Request], Awaitable["Response | Callable[[], None] | None"]]


def install_runtime_middleware(
    app: FastAPI,
    runtime: ServerRuntime,
    *,
    error_response: ErrorBody,
    limiter: Limiter | None = None,
    observer: Callable[[Request], None] | None = None,
) -> None:
    """Count every API request, then apply 429 bursts, 5xx faults, limits, latency and hangs.

    `observer` sees every API request as it arrives, before any knob answers it (per-organisation counts).
    """

    @app.middleware("http")
    async def apply_runtime(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(ADMIN_PREFIX):
            return await call_next(request)
        key = endpoint_template(request.method, path, request.url.query)
        runtime.counters[key] += 1
        if observer is not None:
            observer(request)
        knobs = runtime.knobs
        fail, hang = runtime.draw()
        runtime.before_request(path)
        if knobs.burst_429 > 0:
            knobs.burst_429 -= 1
            response = error_response(request, 429, "burst")
            response.headers["Retry-After"] = str(knobs.retry_after_seconds)
            return _counted(runtime, response)
        if fail:
            return _counted(runtime, error_response(request, 500, "fault"))
        if runtime.write_refused(request.method, path):
            return _counted(runtime, error_response(request, 500, "fault"))
        release: Callable[[], None] | None = None
        if limiter is not None:
            limited = await limiter(request)
            if isinstance(limited, Response):
                return _counted(runtime, limited)
            release = limited
        runtime.write_served(request.method, path)
        if knobs.hang_write_containing and is_write(request.method, path):
            body = (await request.body()).decode("utf-8", "replace")
            if knobs.hang_write_containing in body:
                knobs.hang_write_containing = ""
                hang = True
        try:
            if knobs.latency_ms:
                await asyncio.sleep(knobs.latency_ms / 1000)
            if hang:
                runtime.hung[key] += 1
            if hang and knobs.hang_phase == "before":
                await asyncio.sleep(knobs.hang_seconds)
            response = await call_next(request)
            if hang and knobs.hang_phase == "after":
                await asyncio.sleep(knobs.hang_seconds)
        finally:
            if release is not None:
                release()
        return _counted(runtime, response)


def _counted(runtime: ServerRuntime, response: Response) -> Response:
    runtime.status_counters[str(response.status_code)] += 1
    return response


def install_admin_routes(
    app: FastAPI,
    runtime: ServerRuntime,
    *,
    on_reset: Callable[[int, dict[str, int] | None, GeneratedTenants], None],
    on_knobs: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """/__sandbox__/{health,reset,knobs,counters} on one server.

    `reset` takes `{"seed", "scale", "tenants", "tenant_customers"}`: `tenants: N` adds the generated tenants
    tenant_001 ... tenant_N (credentials.GeneratedTenants); send the same body to both servers.
    """

    @app.get(f"{ADMIN_PREFIX}/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "server": runtime.name}

    @app.post(f"{ADMIN_PREFIX}/reset")
    async def reset(request: Request) -> JSONResponse:
        body = await _json_body(request)
        seed = int(body.get("seed", 0))
        scale = body.get("scale")
        try:
            generated = GeneratedTenants(
                int(body.get("tenants") or 0), int(body.get("tenant_customers", DEFAULT_TENANT_CUSTOMERS))
            )
            on_reset(seed, scale, generated)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        runtime.reset(seed)
        return JSONResponse({"status": "reset", "seed": seed})

    @app.get(f"{ADMIN_PREFIX}/knobs")
    async def get_knobs() -> dict[str, Any]:
        return runtime.knobs.as_dict()

    @app.post(f"{ADMIN_PREFIX}/knobs")
    async def set_knobs(request: Request) -> JSONResponse:
        body = await _json_body(request)
        try:
            actions = on_knobs(body) if on_knobs is not None else {}
            runtime.knobs.update({k: v for k, v in body.items() if k not in actions})
            if "fail_writes_after" in body:
                runtime.writes_let_through = 0
            runtime.restart_schedules(body)
        except (ValueError, KeyError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(runtime.knobs.as_dict())

    @app.get(f"{ADMIN_PREFIX}/counters")
    async def counters() -> dict[str, Any]:
        return {
            "endpoints": dict(runtime.counters),
            "statuses": dict(runtime.status_counters),
            "writes_let_through": runtime.writes_let_through,
            "hung": dict(runtime.hung),
        }


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    import json

    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("admin endpoints take a JSON object")
    return value
