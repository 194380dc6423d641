"""Backlogs: where a direction that spent its call budget must read from until its push is done."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.windows import RunWindow, WindowMode

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def test_backlog_keeps_its_earliest_start_and_its_latest_progress(store: StateStore) -> None:
    assert store.get_backlog("acme_store", "products", "cscart_to_zoho") is None
    store.save_backlog("acme_store", "products", "cscart_to_zoho", since=T0, done=10, total=100, run_id="r1")
    store.save_backlog("acme_store", "products", "cscart_to_zoho", since=T0 + HOUR, done=20, total=101, run_id="r2")

    backlog = store.get_backlog("acme_store", "products", "cscart_to_zoho")
    assert backlog is not None
    assert (backlog.since, backlog.done, backlog.total, backlog.run_id) == (T0, 20, 101, "r2")

    # "From the beginning" (a full refresh that deferred) is the earliest start of all.
    store.save_backlog("acme_store", "products", "cscart_to_zoho", since=None, done=5, total=300, run_id="r3")
    store.save_backlog("acme_store", "products", "cscart_to_zoho", since=T0, done=30, total=300, run_id="r4")
    backlog = store.get_backlog("acme_store", "products", "cscart_to_zoho")
    assert backlog is not None and backlog.since is None and backlog.done == 30

    # Other directions and tenants are untouched; finishing clears one direction, a reset all of the pair.
    store.save_backlog("acme_store", "products", "zoho_to_cscart", since=T0, done=1, total=2, run_id="r5")
    store.clear_backlog("acme_store", "products", "cscart_to_zoho")
    assert store.get_backlog("acme_store", "products", "cscart_to_zoho") is None
    assert store.get_backlog("acme_store", "products", "zoho_to_cscart") is not None
    store.reset_sync("acme_store", "products")
    assert store.get_backlog("acme_store", "products", "zoho_to_cscart") is None


def test_a_backlog_widens_scheduled_and_manual_windows_only() -> None:
    interval = RunWindow(since=T0 + 5 * HOUR, until=T0 + 6 * HOUR, mode=WindowMode.INTERVAL)
    assert interval.with_backlog(T0).since == T0
    assert interval.with_backlog(None).since is None
    assert interval.with_backlog(T0 + 7 * HOUR) == interval  # a backlog inside the window changes nothing
    manual = RunWindow(since=T0 + 6 * HOUR, until=T0 + 6 * HOUR, mode=WindowMode.MANUAL)
    assert manual.with_backlog(T0).since == T0
    for mode in (WindowMode.EXPLICIT, WindowMode.FULL_REFRESH):
        asked = RunWindow(since=T0 + 5 * HOUR if mode is WindowMode.EXPLICIT else None, until=T0 + 6 * HOUR, mode=mode)
        assert asked.with_backlog(T0) == asked
    by_ids = RunWindow(since=None, until=T0, mode=WindowMode.RECORDS, record_ids=("1",))
    assert by_ids.with_backlog(T0) == by_ids
