"""The kit's dashboard counts (``kit/counts.py``): where each tile's number comes from, run after run."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from zoho_cscart_sync.kit.counts import DirectionOutcome, entity_counts
from zoho_cscart_sync.kit.spec import CountsSpec
from zoho_cscart_sync.pipelines.products import PRODUCTS
from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.windows import RunWindow, WindowMode

T, P = "acme_store", "products"
Z2C, C2Z = "zoho_to_cscart", "cscart_to_zoho"
UNTIL = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
DECLARED = CountsSpec(cscart_stream="products", zoho_streams=("items",))


@pytest.fixture
def store(tmp_path) -> StateStore:
    return StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")


def _link(store: StateStore, direction: str, number: int) -> None:
    source, target = (f"z{number}", f"c{number}") if direction == Z2C else (f"c{number}", f"z{number}")
    store.record_write(
        T,
        P,
        direction,
        source_id=source,
        target_id=target,
        target_hash="h",
        echo_hash=None,
        natural_keys=None,
        flags=None,
        run_id="r",
    )


def _window(full: bool) -> RunWindow:
    if full:
        return RunWindow(since=None, until=UNTIL, mode=WindowMode.FULL_REFRESH)
    return RunWindow(since=UNTIL.replace(hour=11), until=UNTIL, mode=WindowMode.INTERVAL)


def _outcome(*, full: bool = False, listed: dict | None = None, read: dict | None = None, **report: int):
    extracted = {"source_totals": {"listed": listed or {}, "read_in_full": read}}
    return DirectionOutcome(_window(full), extracted, {"report": report, "failed_run": False})


class CountCalls:
    def __init__(self, total: int | None) -> None:
        self.total, self.calls = total, 0

    def __call__(self) -> int | None:
        self.calls += 1
        return self.total


def _counts(store: StateStore, run_id: str, outcomes: dict[str, Any], count: CountCalls, dry_run: bool = False):
    counts = entity_counts(
        DECLARED,
        tenant=T,
        entity=P,
        run_id=run_id,
        dry_run=dry_run,
        outcomes=outcomes,
        store=store,
        count_cscart=count,
    )
    if not dry_run:
        store.save_run_counts(T, P, run_id, counts)
    return counts


def test_a_full_read_counts_zoho_and_later_runs_carry_it_with_their_own_creates(store: StateStore) -> None:
    for number in range(3):
        _link(store, Z2C, number)
    for number in range(3, 5):
        _link(store, C2Z, number)
    count = CountCalls(999)

    # Run 1: Zoho -> CS-Cart read 10 items in full; CS-Cart -> Zoho listed 40 products and created 2 items after it.
    first = _counts(
        store,
        "run-1",
        {Z2C: _outcome(full=True, read={"items": 10}), C2Z: _outcome(listed={"products": 40}, created=2)},
        count,
    )
    assert (first.cscart_total, first.synced, first.not_synced) == (40, 5, 35)
    assert (first.zoho_total, first.not_in_cscart, first.already_imported) == (12, 7, 3)
    assert (first.zoho_counted_run_id, first.zoho_counted_at) == ("run-1", UNTIL)
    assert count.calls == 0  # the CS-Cart total came with the page CS-Cart -> Zoho read

    # Run 2: an incremental run creates one more item; Zoho is not read in full, so run 1's count is carried.
    _link(store, C2Z, 5)
    second = _counts(store, "run-2", {Z2C: _outcome(), C2Z: _outcome(listed={"products": 41}, created=1)}, count)
    assert (second.zoho_total, second.not_in_cscart, second.synced) == (13, 7, 6)
    assert (second.zoho_counted_run_id, second.zoho_counted_at) == ("run-1", UNTIL)

    # A retried report task of run 2 must not add its creates twice: it carries from run 1, not from itself.
    again = _counts(store, "run-2", {Z2C: _outcome(), C2Z: _outcome(listed={"products": 41}, created=1)}, count)
    assert again == second

    # Run 3: only Zoho -> CS-Cart with record_ids: no CS-Cart list read, so one count call; nothing created in Zoho.
    third = _counts(store, "run-3", {Z2C: _outcome()}, count)
    assert (third.cscart_total, third.zoho_total, count.calls) == (999, 13, 1)


def test_zoho_total_is_unknown_until_a_full_read_and_never_below_the_linked_pairs(store: StateStore) -> None:
    for number in range(4):
        _link(store, Z2C, number)
    count = CountCalls(None)  # CS-Cart answered without a total
    unknown = _counts(store, "run-1", {Z2C: _outcome(), C2Z: _outcome(created=0)}, count)
    assert (unknown.cscart_total, unknown.not_synced, unknown.zoho_total, unknown.not_in_cscart) == (
        None,
        None,
        None,
        None,
    )
    assert (unknown.synced, unknown.already_imported, count.calls) == (4, 4, 1)

    _counts(store, "run-2", {Z2C: _outcome(full=True, read={"items": 4})}, count)
    for number in range(4, 7):  # people created 3 items in Zoho; incremental runs imported them
        _link(store, Z2C, number)
    floor = _counts(store, "run-3", {Z2C: _outcome()}, count)
    assert (floor.zoho_total, floor.not_in_cscart) == (7, 0)


def test_a_failed_or_dry_run_counts_nothing_of_its_own(store: StateStore) -> None:
    count = CountCalls(10)
    failed_read = DirectionOutcome(_window(True), {"source_totals": {"read_in_full": {"items": 50}}}, None)
    counts = _counts(store, "run-1", {Z2C: failed_read}, count)
    assert counts.zoho_total is None  # a read whose direction did not complete is not a count

    dry = _counts(
        store,
        "run-2",
        {Z2C: _outcome(full=True, read={"items": 8}), C2Z: _outcome(listed={"products": 10}, created=5)},
        count,
        dry_run=True,
    )
    assert dry.zoho_total == 8  # what it read, not the 5 items it would have created
    assert store.latest_run_counts(T, P) is not None and store.latest_run_counts(T, P).run_id == "run-1"


def test_the_entities_declare_their_counts() -> None:
    from zoho_cscart_sync.pipelines.customers import CUSTOMERS

    assert PRODUCTS.counts == DECLARED
    assert CUSTOMERS.counts == CountsSpec(cscart_stream="users", zoho_streams=("accounts", "contacts"))
    with pytest.raises(KeyError, match="no stream 'item'"):  # a misspelt stream would count nothing
        type(PRODUCTS)(
            entity=P,
            settings_model=PRODUCTS.settings_model,
            directions=PRODUCTS.directions,
            quirks=PRODUCTS.quirks,
            counts=CountsSpec(cscart_stream="products", zoho_streams=("item",)),
        )
