"""Client-side limits with a fake clock, and the Airflow pool helpers."""

from __future__ import annotations

import threading
import time

import pytest

from zoho_cscart_sync.http.ratelimit import RateLimit, RateLimiter, limiter_for, pool_name, pools_for_tenants


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_requests_per_minute_window_blocks_the_excess_request():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(requests_per_minute=3), clock=clock.time, sleep=clock.sleep)
    sent_at = []
    for _ in range(7):
        with limiter.slot():
            sent_at.append(clock.now)
        clock.now += 1.0
    assert sent_at[:3] == [0.0, 1.0, 2.0]
    # The 4th waits until the first leaves the 60 s window, and so on: never more than 3 in any 60 s.
    assert sent_at[3] == pytest.approx(60.0)
    for i in range(len(sent_at)):
        in_window = [t for t in sent_at if sent_at[i] <= t < sent_at[i] + 60]
        assert len(in_window) <= 3


def test_concurrency_limit_caps_in_flight_requests():
    limiter = RateLimiter(RateLimit(concurrency=2))
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal in_flight, peak
        with limiter.slot():
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.02)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2


def test_unlimited_by_default():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(), clock=clock.time, sleep=clock.sleep)
    for _ in range(1000):
        with limiter.slot():
            pass
    assert clock.sleeps == []


def test_limiter_is_shared_per_system_and_tenant():
    limit = RateLimit(requests_per_minute=10)
    assert limiter_for("zoho_crm", "acme_store", limit) is limiter_for("zoho_crm", "acme_store", limit)
    assert limiter_for("zoho_crm", "acme_store", limit) is not limiter_for("zoho_crm", "northwind_vendor", limit)
    assert limiter_for("cscart", "acme_store", limit) is not limiter_for("zoho_crm", "acme_store", limit)


def test_rate_limit_from_extras():
    extras = {"crm_requests_per_minute": "90", "crm_concurrency": 5, "requests_per_minute": 30}
    assert RateLimit.from_extras(extras, "crm_") == RateLimit(90, 5)
    assert RateLimit.from_extras(extras) == RateLimit(30, None)


def test_pools_for_tenants():
    class Tenant:
        def __init__(self, name: str) -> None:
            self.name = name

    pools = pools_for_tenants(["northwind_vendor", Tenant("acme_store"), {"name": "acme_store"}], slots={"zoho": 2})
    assert [p["name"] for p in pools] == [
        "zcs__acme_store__zoho",
        "zcs__acme_store__cscart",
        "zcs__northwind_vendor__zoho",
        "zcs__northwind_vendor__cscart",
    ]
    assert {p["name"]: p["slots"] for p in pools}["zcs__acme_store__zoho"] == 2
    assert {p["name"]: p["slots"] for p in pools}["zcs__acme_store__cscart"] == 1
    assert all(p["description"] for p in pools)
    assert pool_name("acme_store", "cscart") == "zcs__acme_store__cscart"
    with pytest.raises(ValueError, match="unknown system"):
        pool_name("acme_store", "shopify")
