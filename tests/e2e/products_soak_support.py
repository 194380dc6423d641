"""Helpers for the products fault soak: a request-counted fault schedule, end-state snapshots of both catalogues,
the state store's links, and the checks every soak scenario ends with.

Like :mod:`tests.e2e.soak_support` (whose run loops, write counters and diffs are reused), everything here talks to
the DAGs (``dag.test()``), the sandbox (its HTTP APIs and admin endpoints) and the state store's public reads,
never to the pipeline's internals.

**Determinism.** Every fault is placed by counting requests, never by the clock: 5xx answers and lost answers are
drawn from the sandbox's ``Random(seed)`` (two draws per request), 429 bursts open every N-th request, one 429
storm follows the N-th served CS-Cart write, and every N-th Zoho API call finds its access token expired. DAG runs
under ``dag.test()`` send their requests one at a time in a fixed order, so a given seed produces the same faults,
the same failed runs and the same end state on every machine (a wall-clock schedule, like the customers soak's
burst thread, moves with the machine's speed). Reading the end state sends requests too: it is done with the
faults off.

The end state of both sides is keyed by natural keys (ids differ between two sandboxes, or two runs of one): CS-Cart
products by ``product_code`` (a product without one by its name), Inventory items by ``sku`` (an item without one by
its name). Ids, timestamps and values derived from ids (a product's ``seo_name`` is ``product-<id>``) are removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.e2e.customers_support import CustomersDags
from tests.e2e.products_support import InventoryReader, cscart_products
from tests.e2e.soak_support import (
    FAULTS_OFF,
    MAX_ATTEMPTS,
    SOAK_CONNECTION_EXTRA,
    Collection,
    EndState,
    RunOutcome,
    diff_states,
    run_once,
    writes_between,
)

ENTITY = "products"
PRODUCTS = "cscart_products"
ITEMS = "inventory_items"
NO_KEY = "(no SKU) "
"""Prefix of the key of a record without SKU (followed by its name)."""

PRODUCT_VOLATILE = frozenset({"product_id", "timestamp", "updated_timestamp", "seo_name"})
ITEM_VOLATILE = frozenset({"item_id", "created_time", "last_modified_time"})

# Client side: the customers soak's (the pipeline's own HTTP retries on, short waits, 4 attempts), with a 2 s read
# timeout: a slow CI machine must not time out a request the schedule did not hang (that would move the faults).
PRODUCTS_CONNECTION_EXTRA: dict[str, Any] = {**SOAK_CONNECTION_EXTRA, "timeout": 2.0}
HANG_SECONDS = 2.5

# Server side, placed by request counts (see the module docstring). 8 % of requests answer 500 and 3 % lose their
# answer *after* the request was applied (held back HANG_SECONDS, longer than the client's read timeout); a 429
# burst of two opens every BURST_EVERY requests on each server; every TOKEN_EVERY Zoho API calls the access token
# expires (401 INVALID_TOKEN: the client mints a new one; a scenario stays well under Zoho's 10 mints per 10
# minutes); and once the store has served a given number of product writes, a 429 storm hits it that outlasts the
# client's retries for LOAD_GIVES_UP records in a row, the point where the load loop stops (sync/load.py
# MAX_CONSECUTIVE_TRANSIENT): a run dies in the middle of the Zoho -> CS-Cart load.
FAIL_5XX_RATE = 0.08
TIMEOUT_RATE = 0.03
BURST_EVERY = 40
BURST_LENGTH = 2
TOKEN_EVERY = 50
LOAD_GIVES_UP = 5
STORM_LENGTH = MAX_ATTEMPTS * LOAD_GIVES_UP
PRODUCTS_SOAK_FAULTS: dict[str, Any] = {
    "fail_5xx_rate": FAIL_5XX_RATE,
    "timeout_rate": TIMEOUT_RATE,
    "hang_phase": "after",
    "hang_seconds": HANG_SECONDS,
    "retry_after_seconds": 1,
    "burst_429_every": BURST_EVERY,
    "burst_429_length": BURST_LENGTH,
    "expire_tokens_every": TOKEN_EVERY,
}
SCHEDULES_OFF: dict[str, Any] = {
    **FAULTS_OFF,
    "burst_429_every": 0,
    "storm_429_after_writes": -1,
    "expire_tokens_every": 0,
}


@contextmanager
def products_soak_faults(sandbox: Any, *, storm_after_writes: int) -> Iterator[None]:
    """The soak's faults on both servers for the body (the storm on CS-Cart only); all off afterwards."""
    sandbox.set_knobs(**PRODUCTS_SOAK_FAULTS)
    sandbox.set_knobs(server="cscart", storm_429_after_writes=storm_after_writes, storm_429_length=STORM_LENGTH)
    try:
        yield
    finally:
        sandbox.set_knobs(**SCHEDULES_OFF)


# -- end state -----------------------------------------------------------------------------------------
def _key(code: Any, name: Any) -> str:
    code = str(code or "").strip()
    return code or f"{NO_KEY}{name}"


def _collect(
    rows: Iterator[Mapping[str, Any]], code_field: str, name_field: str, volatile: frozenset[str]
) -> Collection:
    collection: Collection = {}
    for row in rows:
        record = {k: v for k, v in row.items() if k not in volatile}
        collection.setdefault(_key(row.get(code_field), row.get(name_field)), []).append(record)
    return {
        key: sorted(records, key=lambda r: json.dumps(r, sort_keys=True, default=str))
        for key, records in collection.items()
    }


def products_end_state(sandbox: Any, tenant: str) -> EndState:
    """CS-Cart's products (every company: the tenant is a whole store) and the tenant's Inventory items."""
    products = _collect(iter(cscart_products(sandbox).values()), "product_code", "product", PRODUCT_VOLATILE)
    items = _collect(iter(InventoryReader(sandbox, tenant).items().values()), "sku", "name", ITEM_VOLATILE)
    return EndState({PRODUCTS: products, ITEMS: items})


def duplicate_skus(state: EndState) -> dict[str, dict[str, int]]:
    """SKUs held by more than one record, per side (records without SKU are not SKU duplicates)."""
    found: dict[str, dict[str, int]] = {}
    for name, collection in state.collections.items():
        twice = {key: len(rows) for key, rows in collection.items() if len(rows) > 1 and not key.startswith(NO_KEY)}
        if twice:
            found[name] = twice
    return found


# -- links ---------------------------------------------------------------------------------------------
def link_fingerprints(dags: CustomersDags, tenant: str) -> list[tuple[str, str, str, str]]:
    """Each products link without its ids: (natural keys, flags, hash written to CS-Cart, hash written to Zoho).

    A write stores its link and the echo hash of what it wrote in one transaction, so after any failure and resume
    the links carry the same hashes as a clean run's; a write recorded without its echo (or a link lost) shows here.
    """
    store = dags.store()
    try:
        links = store.list_links(tenant, ENTITY)
        return sorted(
            (
                json.dumps(link.natural_keys, sort_keys=True),
                ",".join(sorted(link.flags)),
                str(link.hash_to_cscart),
                str(link.hash_to_zoho),
            )
            for link in links
            if link.deleted_at is None
        )
    finally:
        store.close()


def unlinked(dags: CustomersDags, tenant: str) -> list[str]:
    """Links missing an id or a hash: each side of a two-way link is written, and read back by the other."""
    store = dags.store()
    try:
        return sorted(
            f"zoho {link.zoho_id} / cscart {link.cscart_id}"
            for link in store.list_links(tenant, ENTITY)
            if link.deleted_at is None
            and not (link.zoho_id and link.cscart_id and link.hash_to_cscart and link.hash_to_zoho)
        )
    finally:
        store.close()


def leftovers(dags: CustomersDags, tenant: str) -> dict[str, int]:
    """What the sync still holds open for products: quarantine entries per (direction, kind, field), and write
    intents never confirmed. A resumed sync holds exactly what a clean run holds (here: nothing)."""
    store = dags.store()
    try:
        found: dict[str, int] = {}
        for entry in store.list_quarantine(tenant, ENTITY):
            key = f"quarantine {entry.direction} {entry.kind} {entry.field or '-'}"
            found[key] = found.get(key, 0) + 1
        for direction in ("zoho_to_cscart", "cscart_to_zoho"):
            pending = len(store.list_pending(tenant, ENTITY, direction))
            if pending:
                found[f"unconfirmed writes {direction}"] = pending
        return found
    finally:
        store.close()


# -- writes --------------------------------------------------------------------------------------------
def catalogue_writes(writes: Mapping[str, int]) -> dict[str, int]:
    """CS-Cart product and Inventory item writes among ``writes_between`` output."""
    return {
        endpoint: count
        for endpoint, count in writes.items()
        if endpoint.split(" ", 1)[1].startswith(("/api/products", "/inventory/v1/items"))
    }


def cscart_product_writes(sandbox: Any) -> int:
    """Product writes the store served so far (since the last reset)."""
    return sum(catalogue_writes(writes_between({}, _cscart_counters(sandbox))).values())


def _cscart_counters(sandbox: Any) -> dict[str, int]:
    return {k: v for k, v in sandbox.counters().items() if k.split(" ", 1)[1].startswith("/api/")}


# -- the check every scenario ends with ------------------------------------------------------------------
@dataclass(frozen=True)
class CleanReference:
    state: EndState
    links: list[tuple[str, str, str, str]]
    leftovers: dict[str, int]


def check_against_reference(
    sandbox: Any, dags: CustomersDags, tenant: str, reference: CleanReference, history: list[str]
) -> list[str]:
    """One more run with the faults off must write nothing; then both catalogues and the links must equal the
        clean run's, no SKU may appear twice on either side, and nothing may be left in quarantine or unconfirmed that
    the clean run does not leave. Returns the problems found (empty: all good)."""
    problems: list[str] = []
    counters_before = sandbox.counters()
    settled: RunOutcome = run_once(dags, tenant, full_refresh=True)
    writes = writes_between(counters_before, sandbox.counters())
    history.append(f"run after recovery (faults off): {settled.describe()}; data writes: {writes or 'none'}")
    if settled.state != "success":
        problems.append(f"the run after recovery did not succeed: {settled.describe()}")
    if writes:
        problems.append(f"the run after recovery still wrote: {writes}")

    after = products_end_state(sandbox, tenant)
    problems.extend(d.describe() for d in diff_states(reference.state, after))
    twice = duplicate_skus(after)
    if twice:
        problems.append(f"SKUs that appear more than once: {twice}")
    links = link_fingerprints(dags, tenant)
    if links != reference.links:
        missing = sorted(set(reference.links) - set(links))
        extra = sorted(set(links) - set(reference.links))
        problems.append(
            f"the links differ from the clean run's ({len(reference.links)} -> {len(links)}): "
            f"{len(missing)} only in the clean run, e.g. {missing[:3]}; {len(extra)} only here, e.g. {extra[:3]}"
        )
    half = unlinked(dags, tenant)
    if half:
        problems.append(f"{len(half)} link(s) without both ids and both hashes: {half[:6]}")
    left = leftovers(dags, tenant)
    if left != reference.leftovers:
        problems.append(f"the sync holds open {left}; after the clean run: {reference.leftovers}")
    return problems
