"""Operator views of the state (the console's data layer): keyset pages, counts, run totals, watermarks, tokens."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zoho_cscart_sync.state import CachedToken, StateStore

T, C, P = "acme_store", "customers", "products"
Z2C, C2Z = "zoho_to_cscart", "cscart_to_zoho"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _quarantine(store: StateStore, direction: str, source_id: str, *, kind: str = "content", **extra: str) -> None:
    store.quarantine(
        T, P, direction, source_id, reason=f"bad {source_id}", stage="load", run_id="run-1", kind=kind, **extra
    )


def test_quarantine_pages_follow_the_primary_key_and_skip_resolved_and_other_scopes(store: StateStore, clock) -> None:
    for number in range(7):
        _quarantine(store, Z2C, f"z{number}", field="sku")
    for number in range(3):
        _quarantine(store, C2Z, f"c{number}", kind="transient")
    _quarantine(store, Z2C, "z0")  # a second attempt
    store.resolve_quarantine(T, P, Z2C, "z3")
    store.quarantine(T, C, Z2C, "other-entity", reason="x", stage="load", run_id="run-1")
    store.quarantine("other", P, Z2C, "other-tenant", reason="x", stage="load", run_id="run-1")

    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = store.quarantine_page(T, P, after=after, limit=4)
        seen.extend((row.direction, row.source_id) for row in page)
        if len(page) < 4:
            break
        after = (page[-1].direction, page[-1].source_id)

    assert seen == [(C2Z, "c0"), (C2Z, "c1"), (C2Z, "c2")] + [(Z2C, f"z{n}") for n in (0, 1, 2, 4, 5, 6)]
    first = store.quarantine_page(T, P, direction=Z2C, limit=1)[0]
    assert (first.source_id, first.attempts, first.kind, first.field, first.reason) == (
        "z0",
        2,
        "content",
        None,
        "bad z0",
    )
    assert first.first_seen == first.last_seen == clock.now
    assert [r.source_id for r in store.quarantine_page(T, P, direction=C2Z, after=(C2Z, "c0"), limit=10)] == [
        "c1",
        "c2",
    ]
    assert store.quarantine_counts(T, P) == {(Z2C, "content"): 6, (C2Z, "transient"): 3}
    assert store.open_quarantine_ids(T, P, Z2C, ["z1", "z3", "nope", "c1"]) == ["z1"]


def test_page_sizes_are_bounded(store: StateStore) -> None:
    with pytest.raises(ValueError, match="page size"):
        store.quarantine_page(T, P, limit=0)
    with pytest.raises(ValueError, match="page size"):
        store.flagged_links_page(T, C, "no_email", limit=5000)


def test_flagged_links_page_and_count_carry_the_placeholder_email(store: StateStore) -> None:
    for number in range(5):
        flags = ["no_email"] if number % 2 == 0 else ["crm_account"]
        store.save_link(
            T, C, zoho_id=f"z{number}", cscart_id=f"c{number}", run_id="run-1", flags=flags,
            natural_keys={"email": f"no-email+{number}@{T}.invalid"},
        )  # fmt: skip
    store.save_link(T, C, zoho_id="z9", cscart_id="c9", run_id="run-1", flags=["no_email"])
    store.mark_deleted(T, C, zoho_id="z9", at=T0)

    first = store.flagged_links_page(T, C, "no_email", limit=2)
    rest = store.flagged_links_page(T, C, "no_email", after_id=first[-1].link_id, limit=2)

    assert [link.zoho_id for link in first + rest] == ["z0", "z2", "z4"]
    assert first[0].natural_keys == {"email": f"no-email+0@{T}.invalid"}
    assert store.count_flagged_links(T, C, "no_email") == 3
    assert store.count_flagged_links(T, P, "no_email") == 0


def test_run_totals_sum_every_direction_newest_first(store: StateStore, clock) -> None:
    store.save_run_stats(
        T, P, "run-1",
        {
            Z2C: {"succeeded": True, "created": 5, "updated": 2, "failed": 1, "api_calls": {"a": 3, "b": 4}},
            C2Z: {"succeeded": False, "created": 1, "api_calls": {"c": 2}},
        },
    )  # fmt: skip
    clock.advance(hours=1)
    store.save_run_stats(T, P, "run-2", {Z2C: {"succeeded": True, "updated": 7, "api_calls": {}}})
    store.save_run_stats(T, C, "run-3", {Z2C: {"created": 99}})

    newest, oldest = store.run_totals_page(T, P, limit=10)

    assert (newest.run_id, newest.created, newest.updated, newest.failed, newest.api_calls) == ("run-2", 0, 7, 0, 0)
    assert newest.succeeded
    assert (oldest.run_id, oldest.created, oldest.updated, oldest.failed, oldest.api_calls) == ("run-1", 6, 2, 1, 9)
    assert not oldest.succeeded
    assert oldest.directions == (C2Z, Z2C)
    assert [r.run_id for r in store.run_totals_page(T, P, offset=1, limit=1)] == ["run-1"]
    assert store.count_runs(T, P) == 2


def test_watermarks_and_token_snapshot_never_read_the_token(store: StateStore, clock) -> None:
    store.advance_watermark(T, P, Z2C, T0, "run-1")
    assert [(w.direction, w.value, w.run_id) for w in store.list_watermarks(T, P)] == [(Z2C, T0, "run-1")]
    assert store.list_watermarks(T, C) == []

    key = "zoho:abc"
    assert store.token_snapshot(key, timedelta(minutes=10)).cached is False
    expires = clock.now + timedelta(hours=1)
    store.put_token(key, CachedToken("ciphertext", "https://www.zohoapis.com", expires, clock.now))
    store.record_token_mint(key, clock.now - timedelta(minutes=20))
    store.record_token_mint(key, clock.now - timedelta(minutes=5))
    store.record_token_mint(key, clock.now)

    snapshot = store.token_snapshot(key, timedelta(minutes=10))

    assert (snapshot.cached, snapshot.expires_at, snapshot.minted_at, snapshot.mints_in_window) == (
        True,
        expires,
        clock.now,
        2,
    )
    assert "ciphertext" not in repr(snapshot)
