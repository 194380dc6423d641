"""Inventory/Books pacing: a default per-organisation limit at Zoho's 100 requests/minute, and a 429 that
waits for its window instead of giving up, through the production hook over real HTTP.

The sandbox enforces the quota per organisation and product (``finance_requests_per_window``); its window
is shortened with the ``finance_window_seconds`` knob and the hook's with the ``books_rate_window_seconds``
connection extra, so a test sees several windows in a second or two. The number of requests per window
is never set on the client: it is the default under test. Like Zoho, whose Inventory/Books docs mention no
``Retry-After``, the sandbox sends none here (``finance_retry_after=False``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from zoho_cscart_sync.hooks.config import ZohoConnectionConfig
from zoho_cscart_sync.hooks.zoho import ZohoHook
from zoho_cscart_sync.http.errors import ZOHO_BOOKS, ZOHO_INVENTORY
from zoho_cscart_sync.http.ratelimit import RateLimit

pytestmark = pytest.mark.integration

ZOHO_LIMIT = 100  # Zoho's documented Inventory/Books limit per organisation per minute (zoho_api.md 3.7, 4)
WINDOW = 1.0  # seconds: the sandbox's and the client's shortened "minute"


def _enforce_quota(sandbox: Any) -> None:
    sandbox.set_knobs(
        server="zoho",
        finance_requests_per_window=ZOHO_LIMIT,
        finance_window_seconds=WINDOW,
        finance_retry_after=False,
    )


def _books_contact(i: int) -> dict[str, Any]:
    return {"contact_name": f"Paced Customer {i:04d}", "contact_type": "customer"}


def test_more_than_100_books_writes_in_a_row_all_succeed_without_a_429(sandbox_clean, make_zoho_hook, status_count):
    _enforce_quota(sandbox_clean)
    hook = make_zoho_hook(books_rate_window_seconds=WINDOW)
    hook.api_domain()  # mint first: the test is about Books calls
    writes = 150
    started = time.monotonic()
    created = [hook.books_create("contacts", _books_contact(i)) for i in range(writes)]
    elapsed = time.monotonic() - started
    assert len({contact["contact_id"] for contact in created}) == writes
    assert status_count("429") == 0
    assert sandbox_clean.status_counters("zoho").get("429", 0) == 0
    # The client held back request 101 until the first had left the window: pacing, not luck.
    assert elapsed >= WINDOW
    print(f"\n{writes} Books writes in {elapsed:.2f}s with a {ZOHO_LIMIT}/{WINDOW:g}s quota, 0 x 429")


def test_threads_of_one_task_share_the_organisations_limit(sandbox_clean, make_zoho_hook, status_count):
    _enforce_quota(sandbox_clean)
    hooks = [make_zoho_hook(books_rate_window_seconds=WINDOW) for _ in range(2)]
    for hook in hooks:
        hook.api_domain()
        _ = hook.session  # built before the threads start
    per_thread, threads_per_hook = 40, 2
    created: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(hook: ZohoHook, worker: int) -> None:
        try:
            for i in range(per_thread):
                contact = hook.books_create("contacts", _books_contact(worker * 1000 + i))
                with lock:
                    created.append(contact["contact_id"])
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(hook, index * threads_per_hook + n))
        for index, hook in enumerate(hooks)
        for n in range(threads_per_hook)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert errors == []
    assert len(set(created)) == per_thread * len(threads) == 160
    assert status_count("429") == 0
    assert sandbox_clean.status_counters("zoho").get("429", 0) == 0
    assert elapsed >= WINDOW
    print(f"\n160 Books writes from 4 threads in {elapsed:.2f}s, 0 x 429")


def test_books_429_without_retry_after_waits_for_the_window(sandbox_clean, make_zoho_hook, status_count):
    _enforce_quota(sandbox_clean)
    hook = make_zoho_hook(books_rate_window_seconds=WINDOW)
    hook.api_domain()
    # Another process of the tenant (beyond this process's limiter) spends the organisation's quota.
    other = requests.Session()
    other.headers["Authorization"] = f"Zoho-oauthtoken {sandbox_clean.zoho_access_token('acme_store')}"
    organization_id = sandbox_clean.credentials.zoho_for("acme_store").organization_id
    spent_at = time.monotonic()
    for _ in range(ZOHO_LIMIT):
        response = other.get(
            f"{sandbox_clean.zoho_api_url}/books/v3/contacts",
            params={"organization_id": organization_id, "per_page": 1},
            timeout=10,
        )
        assert response.status_code == 200
    created = hook.books_create("contacts", _books_contact(1))
    waited = time.monotonic() - spent_at
    assert created["contact_id"]
    # One 429, then a wait for the window (not a 10 ms backoff into more 429s), then success.
    assert status_count("429") == 1
    assert waited >= WINDOW
    print(f"\nBooks 429 without Retry-After: one 429, success after {waited:.2f}s")


def test_inventory_and_books_default_to_zohos_100_requests_per_minute(
    zoho_connection: Callable[..., str], sandbox_clean
):
    from airflow.sdk import BaseHook

    def config(**extras: Any) -> ZohoConnectionConfig:
        return ZohoConnectionConfig.from_connection(BaseHook.get_connection(zoho_connection(**extras)))

    default = config()
    assert default.inventory_limit == RateLimit(requests_per_minute=ZOHO_LIMIT)
    assert default.books_limit == RateLimit(requests_per_minute=ZOHO_LIMIT)
    assert default.crm_limit == RateLimit()  # CRM is limited by credits and concurrency, not per minute
    tuned = config(books_requests_per_minute=60, inventory_concurrency=5, books_rate_window_seconds=30)
    assert tuned.books_limit == RateLimit(requests_per_minute=60, window_seconds=30.0)
    assert tuned.inventory_limit == RateLimit(requests_per_minute=ZOHO_LIMIT, concurrency=5)
    assert config(inventory_requests_per_minute=0).inventory_limit == RateLimit(requests_per_minute=None)


def test_limiter_is_shared_per_organisation_not_per_tenant(zoho_connection: Callable[..., str], sandbox_clean):
    conn_id = zoho_connection("acme_store")
    first, second = ZohoHook(conn_id, tenant="acme_store"), ZohoHook(conn_id, tenant="acme_store_eu_shop")
    other_org = ZohoHook(zoho_connection("northwind_vendor"), tenant="northwind_vendor")
    assert first._requester(ZOHO_BOOKS).limiter is second._requester(ZOHO_BOOKS).limiter
    assert first._requester(ZOHO_BOOKS).limiter is not first._requester(ZOHO_INVENTORY).limiter
    assert first._requester(ZOHO_BOOKS).limiter is not other_org._requester(ZOHO_BOOKS).limiter
