"""Watermarks: per tenant/entity/direction, UTC-aware, and never moving back."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone

import pytest

from zoho_cscart_sync.state import StateStore

T0 = datetime(2026, 2, 1, 8, 30, tzinfo=timezone.utc)


def test_watermark_is_none_before_the_first_load(store: StateStore) -> None:
    assert store.get_watermark("acme_store", "customers", "zoho_to_cscart") is None


def test_watermark_never_moves_back(store: StateStore) -> None:
    store.advance_watermark("acme_store", "orders", "cscart_to_zoho", T0, "run-1")
    store.advance_watermark("acme_store", "orders", "cscart_to_zoho", T0 - timedelta(minutes=5), "run-2")
    assert store.get_watermark("acme_store", "orders", "cscart_to_zoho") == T0

    store.advance_watermark("acme_store", "orders", "cscart_to_zoho", T0, "run-3")
    assert store.get_watermark("acme_store", "orders", "cscart_to_zoho") == T0

    later = T0 + timedelta(microseconds=1)
    store.advance_watermark("acme_store", "orders", "cscart_to_zoho", later, "run-4")
    assert store.get_watermark("acme_store", "orders", "cscart_to_zoho") == later


def test_watermarks_are_kept_per_tenant_entity_and_direction(store: StateStore) -> None:
    store.advance_watermark("acme_store", "products", "zoho_to_cscart", T0, "r")
    store.advance_watermark("acme_store", "products", "cscart_to_zoho", T0 + timedelta(hours=1), "r")
    store.advance_watermark("northwind_vendor", "products", "zoho_to_cscart", T0 + timedelta(hours=2), "r")

    assert store.get_watermark("acme_store", "products", "zoho_to_cscart") == T0
    assert store.get_watermark("acme_store", "products", "cscart_to_zoho") == T0 + timedelta(hours=1)
    assert store.get_watermark("northwind_vendor", "products", "zoho_to_cscart") == T0 + timedelta(hours=2)
    assert store.get_watermark("acme_store", "customers", "zoho_to_cscart") is None


def test_watermark_comes_back_in_utc_whatever_zone_it_was_given_in(store: StateStore) -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    store.advance_watermark(
        "acme_store", "customers", "zoho_to_cscart", datetime(2026, 2, 1, 14, 0, tzinfo=kolkata), "r"
    )
    stored = store.get_watermark("acme_store", "customers", "zoho_to_cscart")
    assert stored == datetime(2026, 2, 1, 8, 30, tzinfo=timezone.utc)
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_watermark_is_refused_with_the_pair_named(store: StateStore) -> None:
    with pytest.raises(ValueError, match=r"acme_store/customers/zoho_to_cscart.*timezone-aware"):
        store.advance_watermark("acme_store", "customers", "zoho_to_cscart", datetime(2026, 2, 1), "r")


def test_unknown_direction_is_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="direction must be one of"):
        store.get_watermark("acme_store", "customers", "both")


def test_concurrent_advances_keep_the_latest_value(store: StateStore) -> None:
    values = [T0 + timedelta(seconds=random.randint(0, 10_000)) for _ in range(40)]
    chunks = [values[i::4] for i in range(4)]

    def advance_all(chunk: list[datetime]) -> None:
        for value in chunk:
            store.advance_watermark("acme_store", "products", "zoho_to_cscart", value, "r")

    threads = [threading.Thread(target=advance_all, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get_watermark("acme_store", "products", "zoho_to_cscart") == max(values)
