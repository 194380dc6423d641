"""Client-side rate limits per (system, tenant): requests per minute and concurrent requests.

Each task process enforces the limits for its own requests. Across task processes, the Airflow pool of
the tenant x system (:func:`pool_name`) bounds how many tasks talk to one system at once; with the
default of one slot per pool the per-process limit is the tenant's limit. A pool with N slots means a
tenant may see up to N x ``requests_per_minute``: size the connection extras accordingly.
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
_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class RateLimit:
    """Limits for one (system, tenant); None means "no client-side limit"."""

    requests_per_minute: int | None = None
    concurrency: int | None = None

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any], prefix: str = "") -> RateLimit:
        """Read ``<prefix>requests_per_minute`` and ``<prefix>concurrency`` from connection extras."""
        rpm = extras.get(f"{prefix}requests_per_minute")
        concurrency = extras.get(f"{prefix}concurrency")
        return cls(
            requests_per_minute=int(rpm) if rpm not in (None, "") else None,
            concurrency=int(concurrency) if concurrency not in (None, "") else None,
        )


class RateLimiter:
    """Sliding one-minute window plus a semaphore; ``slot()`` blocks until a request may be sent."""

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
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self._semaphore = threading.BoundedSemaphore(limit.concurrency) if limit.concurrency else None

    def _wait_for_window(self) -> None:
        rpm = self.limit.requests_per_minute
        if not rpm:
            return
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= _WINDOW_SECONDS:
                    self._sent.popleft()
                if len(self._sent) < rpm:
                    self._sent.append(now)
                    return
                delay = _WINDOW_SECONDS - (now - self._sent[0])
            self._sleep(max(delay, 0.001))

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one concurrency slot for the duration of a request, after the per-minute window allows it."""
        if self._semaphore is not None:
            self._semaphore.acquire()
        try:
            self._wait_for_window()
            yield
        finally:
            if self._semaphore is not None:
                self._semaphore.release()


_registry: dict[tuple[str, str], RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(system: str, tenant: str, limit: RateLimit) -> RateLimiter:
    """The process-wide limiter of (system, tenant); hooks of one tenant in one process share it."""
    key = (system, tenant)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None or limiter.limit != limit:
            limiter = RateLimiter(limit)
            _registry[key] = limiter
        return limiter


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
