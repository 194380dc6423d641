"""Client-side limits with a fake clock, and the Airflow pool helpers."""

from __future__ import annotations

import threading
import time

import pytest

from zoho_cscart_sync.http.ratelimit import (
    RateLimit,
    RateLimiter,
    limiter_for,
    pool_name,
    pools_for_tenants,
    reset_limiters,
)


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


def test_window_is_dated_from_the_answer_so_it_never_ends_before_the_servers():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(requests_per_minute=2), clock=clock.time, sleep=clock.sleep)
    with limiter.slot():
        clock.now += 5.0  # the first request takes 5 s: the server counted it somewhere in [0, 5]
    with limiter.slot():
        pass
    with limiter.slot():
        sent_third = clock.now
    assert sent_third == pytest.approx(65.0)  # 60 s after the first answer, not after its send


def test_in_flight_requests_hold_their_window_places():
    limiter = RateLimiter(RateLimit(requests_per_minute=2))
    entered = threading.Event()
    release = threading.Event()
    third_sent = threading.Event()

    def slow() -> None:
        with limiter.slot():
            entered.set()
            release.wait(5)

    holders = [threading.Thread(target=slow) for _ in range(2)]
    for holder in holders:
        holder.start()
    entered.wait(5)

    def third() -> None:
        with limiter.slot():
            third_sent.set()

    waiter = threading.Thread(target=third, daemon=True)
    waiter.start()
    # Two requests in flight fill a 2-per-minute window: the third may not go although none has finished.
    assert not third_sent.wait(0.3)
    release.set()
    for holder in holders:
        holder.join()
    assert not third_sent.wait(0.3)  # both answered now, and both still count for 60 s


def test_pause_holds_every_caller_until_it_ends():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(requests_per_minute=100), clock=clock.time, sleep=clock.sleep)
    limiter.pause(42.0)
    limiter.pause(10.0)  # a shorter pause never shortens a longer one
    with limiter.slot():
        assert clock.now == pytest.approx(42.0)


def test_window_remaining_counts_from_the_oldest_accepted_request():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(requests_per_minute=100), clock=clock.time, sleep=clock.sleep)
    assert limiter.window_remaining() == 60.0  # nothing of ours in the window: wait all of it
    with limiter.slot() as ticket:
        ticket.refused = True  # a 429 the server may not have counted proves nothing
    clock.now = 10.0
    assert limiter.window_remaining() == 60.0
    with limiter.slot():
        pass  # accepted at t=10
    clock.now = 30.0
    with limiter.slot():
        pass
    assert limiter.window_remaining() == pytest.approx(40.0)  # t=10 leaves the window at t=70
    clock.now = 71.0
    assert limiter.window_remaining() == pytest.approx(19.0)  # now t=30 is the oldest accepted


def test_finance_style_defaults_and_overrides_from_extras():
    default = RateLimit(requests_per_minute=100)
    assert RateLimit.from_extras({}, "books_", default) == default
    assert RateLimit.from_extras({"books_requests_per_minute": 0}, "books_", default) == RateLimit()
    assert RateLimit.from_extras({"books_rate_window_seconds": "2.5"}, "books_", default) == RateLimit(100, None, 2.5)
    with pytest.raises(ValueError, match="books_rate_window_seconds must be positive"):
        RateLimit.from_extras({"books_rate_window_seconds": 0}, "books_", default)


def test_reset_limiters_forgets_every_limiter():
    limit = RateLimit(requests_per_minute=10)
    before = limiter_for("zoho_books", "org:1", limit)
    reset_limiters()
    assert limiter_for("zoho_books", "org:1", limit) is not before
