"""Client-side rate limits per (system, scope): requests per window (a minute) and concurrent requests.

Scope: Zoho counts Inventory and Books requests per organisation, so their limiters are keyed by the
organisation id (tenants sharing one organisation share a limiter); everything else by tenant.

Threads: a limiter is process-wide (:func:`limiter_for`) and thread-safe, so every thread and hook of a
task process draws from the same window, concurrency slots and 429 pause.

Processes and machines: when the state store is PostgreSQL, a scope with a limit is paced by a
:class:`~zoho_cscart_sync.http.shared_ratelimit.SharedRateLimiter`, whose window, concurrency places and
429 pause live in that database, so the limits hold across task processes, Celery workers and pods. With
a SQLite state store (one machine), ``ZCS_RATE_LIMITS=local``, or while the database is unreachable, each
task process enforces the limits for its own requests only; the Airflow pool of the tenant x system
(:func:`pool_name`) then bounds how many tasks talk to one system at once, and the server's 429 (turned
into a wait for the whole process by :meth:`RateLimiter.pause`) catches the rest.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SYSTEMS = ("zoho", "cscart")
DEFAULT_POOL_SLOTS = 1
WINDOW_SECONDS = 60.0
# A thread waiting for an in-flight request to finish re-checks at least this often (clock changes, pauses).
_RECHECK_SECONDS = 0.5


@dataclass
class SlotTicket:
    """Handed out by :meth:`RateLimiter.slot`; set ``refused`` when the server answered 429."""

    refused: bool = False


@dataclass(frozen=True)
class RateLimit:
    """Limits for one (system, scope); None means "no client-side limit".

    ``requests_per_minute`` counts per ``window_seconds``, which is a minute unless the server uses another
    window (only the sandbox's ``finance_window_seconds`` knob does).
    """

    requests_per_minute: int | None = None
    concurrency: int | None = None
    window_seconds: float = WINDOW_SECONDS

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any], prefix: str = "", default: RateLimit | None = None) -> RateLimit:
        """Read ``<prefix>requests_per_minute``, ``<prefix>concurrency`` and ``<prefix>rate_window_seconds``.

        A missing key keeps ``default``'s value; ``0`` turns a limit off.
        """
        base = default or cls()
        rpm = extras.get(f"{prefix}requests_per_minute")
        concurrency = extras.get(f"{prefix}concurrency")
        window = extras.get(f"{prefix}rate_window_seconds")
        window_seconds = float(window) if window not in (None, "") else base.window_seconds
        if window_seconds <= 0:
            raise ValueError(f"{prefix}rate_window_seconds must be positive")
        return cls(
            requests_per_minute=(int(rpm) or None) if rpm not in (None, "") else base.requests_per_minute,
            concurrency=(int(concurrency) or None) if concurrency not in (None, "") else base.concurrency,
            window_seconds=window_seconds,
        )


class RateLimiter:
    """Sliding window plus a concurrency cap plus a server-ordered pause; ``slot()`` blocks until allowed.

    A request occupies its window place from when it is sent, and the place is dated from when its answer
    arrived: the server counted the request at some moment in between, so a window measured from the
    answer never ends before the server's does (a window measured from the send can, by the request's
    latency, and then the 101st request meets a 429 at the boundary).
    """

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        # Answer times of requests still inside the window, oldest first, and whether the server accepted
        # each (False: it answered 429, and may not have counted it).
        self._done: deque[tuple[float, bool]] = deque()
        self._in_flight = 0
        self._paused_until = float("-inf")
        self._changed = threading.Condition()

    def _expire(self, now: float) -> None:
        while self._done and now - self._done[0][0] >= self.limit.window_seconds:
            self._done.popleft()

    def _blocked_for(self, now: float) -> float | None:
        """None when a request may go now; else seconds to sleep (0.0: until an in-flight one finishes)."""
        if now < self._paused_until:
            return self._paused_until - now
        concurrency, rpm = self.limit.concurrency, self.limit.requests_per_minute
        if concurrency and self._in_flight >= concurrency:
            return 0.0
        if rpm and len(self._done) + self._in_flight >= rpm:
            if not self._done:
                return 0.0  # the whole window is in flight: the first answer dates a place
            return self._done[0][0] + self.limit.window_seconds - now
        return None

    def _acquire(self) -> None:
        while True:
            with self._changed:
                now = self._clock()
                self._expire(now)
                delay = self._blocked_for(now)
                if delay is None:
                    self._in_flight += 1
                    return
                if delay <= 0.0:
                    self._changed.wait(_RECHECK_SECONDS)
                    continue
            self._sleep(max(delay, 0.001))

    def _release(self, ticket: SlotTicket) -> None:
        with self._changed:
            self._in_flight -= 1
            # Refused requests keep their place too: pacing errs on the slow side.
            self._done.append((self._clock(), not ticket.refused))
            self._changed.notify_all()

    @contextmanager
    def slot(self) -> Iterator[SlotTicket]:
        """Hold a window place and a concurrency slot for the duration of one request."""
        self._acquire()
        ticket = SlotTicket()
        try:
            yield ticket
        finally:
            self._release(ticket)

    def window_remaining(self) -> float:
        """Seconds until the oldest request the server accepted in this window leaves it; else a whole window.

        For a 429 without ``Retry-After``: the server counted that accepted request, so when it leaves at
        least one place is free again in a sliding window, and a fixed window has rolled over. A refused
        request proves nothing (the server may not count a 429), and neither does an empty history (other
        processes may have spent the quota), so then the whole window is waited.
        """
        with self._changed:
            now = self._clock()
            self._expire(now)
            accepted = next((answered for answered, ok in self._done if ok), None)
            if accepted is None:
                return self.limit.window_seconds
            return max(accepted + self.limit.window_seconds - now, 0.0)

    def pause(self, seconds: float) -> None:
        """Hold every request of this limiter (all threads) for ``seconds``: the server said the quota is gone."""
        with self._changed:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._changed.notify_all()


_registry: dict[tuple[str, str], RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(system: str, scope: str, limit: RateLimit) -> RateLimiter:
    """The process-wide limiter of (system, scope); hooks and threads of one scope in one process share it.

    ``scope`` is the tenant, or ``org:<organization_id>`` for Zoho Inventory/Books. A changed ``limit``
    (a connection edited between tasks) replaces the limiter. A scope with a limit is shared across
    processes when the shared backend is available (see the module docstring); a scope without one costs
    no database round trip.
    """
    key = (system, scope)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None or limiter.limit != limit:
            limiter = _new_limiter(system, scope, limit)
            _registry[key] = limiter
        return limiter


def _new_limiter(system: str, scope: str, limit: RateLimit) -> RateLimiter:
    if not (limit.requests_per_minute or limit.concurrency):
        return RateLimiter(limit)
    from zoho_cscart_sync.http.shared_ratelimit import SharedRateLimiter, scope_key, shared_backend

    backend = shared_backend()
    if backend is None:
        return RateLimiter(limit)
    return SharedRateLimiter(scope_key(system, scope), limit, backend)


def reset_limiters() -> None:
    """Forget every limiter of this process (tests: the sandbox's reset also forgets the server's quotas).

    The shared backend is resolved again at the next limited request.
    """
    from zoho_cscart_sync.http.shared_ratelimit import forget_shared_backend

    with _registry_lock:
        _registry.clear()
    forget_shared_backend()


def pool_name(tenant: str, system: str) -> str:
    """Airflow pool of one tenant x remote system, e.g. ``zcs__acme_store__zoho``."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")
    return f"zcs__{tenant}__{system}"


def _tenant_name(tenant: object) -> str:
    if isinstance(tenant, str):
        return tenant
    if isinstance(tenant, Mapping):
        return str(tenant.get("tenant_id") or tenant.get("name") or tenant["tenant"])
    for attribute in ("name", "tenant", "tenant_id", "id"):
        value = getattr(tenant, attribute, None)
        if isinstance(value, str):
            return value
    raise TypeError(f"cannot tell the tenant name of {tenant!r}")


def pools_for_tenants(tenants: Iterable[object], *, slots: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Pool definitions for ``airflow pools import`` (a JSON object keyed by name is built from this list).

    ``tenants`` are names, mappings with ``name``, or objects with a ``name`` attribute. ``slots`` maps a
    system to its slot count (default 1: one task per tenant talks to a system at a time, which keeps the
    client-side per-minute limit exact).
    """
    slot_counts = {system: DEFAULT_POOL_SLOTS for system in SYSTEMS}
    slot_counts.update(slots or {})
    pools = []
    for tenant in sorted({_tenant_name(t) for t in tenants}):
        for system in SYSTEMS:
            pools.append(
                {
                    "name": pool_name(tenant, system),
                    "slots": slot_counts[system],
                    "description": f"Zoho/CS-Cart sync: concurrent {system} tasks of tenant {tenant}",
                }
            )
    return pools
