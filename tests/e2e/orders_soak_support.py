"""Helpers for the orders fault soak: the scenario's two phases, end-state snapshots of both sides' orders and of the
Inventory contacts orders are billed to, duplicate counts, links, and a crash between the remote write and the
state-store write.

Like :mod:`tests.e2e.soak_support` and :mod:`tests.e2e.products_soak_support` (whose run loops, request-counted
fault knobs and diffs are reused), everything here talks to the DAGs (``dag.test()``), the sandbox (its HTTP APIs
and admin endpoints) and the state store's public reads. The one exception is :func:`crash_before_state_write`: a
task killed after a remote write and before its state-store write cannot be staged from outside the process
under ``dag.test()`` (the tasks run in the test's process), so the store's ``record_write`` is replaced for one run
by a function that raises instead of storing, on the N-th write of one entity and direction: exactly what a worker
dying at that instant leaves behind (the remote record exists, the ID map does not know it, the intent stays).

**The scenario** (tenant ``acme_store``, orders ``direction: both``, products linked first by a clean products run):

* *phase 1*: the first orders sync of the seed (every CS-Cart order becomes a sales order ``CSC-<id>``, every
  confirmed / fulfilled / closed Zoho sales order a CS-Cart order, an Inventory contact per new e-mail);
* :func:`apply_transitions`, the same edits on every sandbox, by natural keys: CS-Cart statuses moved (draft ->
  confirmed, confirmed -> void, draft -> confirmed, void -> open, which Inventory refuses with a reason), two new
  CS-Cart orders (a guest with a new e-mail, so a new contact; a known e-mail, so none), a Zoho draft confirmed (a
  new import) and an imported Zoho order voided (its CS-Cart order follows);
* *phase 2*: the sync of those changes.

**End state** (ids, timestamps and numbers the servers generate removed): CS-Cart orders (imported ones by their
admin note ``Zoho SO-...``, the store's own by order id, lines as a sorted list without cart ids); Zoho sales orders
(ours by reference ``CSC-<id>``, the others by their seeded number), read whole; Inventory contacts by e-mail, read
whole.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.customers_support import CustomersDags, _http_json
from tests.e2e.orders_support import OrdersDags, SalesOrders, cscart_orders, cscart_set_order_status
from tests.e2e.products_soak_support import PRODUCTS_SOAK_FAULTS, SCHEDULES_OFF, STORM_LENGTH
from tests.e2e.products_support import cscart_place_order
from tests.e2e.soak_support import Collection, EndState, RunOutcome, diff_states, run_once, writes_between

ENTITY = "orders"
CONTACTS = "order_contacts"
TENANT = "acme_store"
OUR_REFERENCE = re.compile(r"CSC-\d+")
IMPORT_NOTE = "Zoho "

CSCART_ORDER_VOLATILE = frozenset({"order_id", "timestamp", "updated_at"})
CSCART_LINE_VOLATILE = frozenset({"item_id", "cart_id", "order_id"})
SALESORDER_VOLATILE = (
    "salesorder_id",
    "salesorder_number",
    "customer_id",
    "line_item_id",
    "item_id",
    "created_time",
    "last_modified_time",
)
CONTACT_VOLATILE = ("contact_id", "contact_person_id", "created_time", "last_modified_time")

NEW_GUEST = "soak.new.guest@example.org"
"""The e-mail of the guest order placed between the phases: no Inventory contact has it, so one is created."""


# -- faults ------------------------------------------------------------------------------------------------
TOKEN_EVERY = 200
"""Zoho API calls between two expiries of every access token. The products soak's 50 would make a first orders sync
(a read of every sales order, contact look-ups) mint about ten tokens a run, past Zoho's 10 mints per 10 minutes
over a few runs; at 200 a token still expires in every run."""
ORDERS_SOAK_FAULTS: dict[str, Any] = {**PRODUCTS_SOAK_FAULTS, "expire_tokens_every": TOKEN_EVERY}


@contextmanager
def orders_soak_faults(sandbox: Any, *, storm_after_writes: int) -> Iterator[None]:
    """The products soak's request-counted faults on both servers (see :mod:`tests.e2e.products_soak_support`),
    tokens expiring every ``TOKEN_EVERY`` Zoho calls, and (``storm_after_writes`` >= 0) one CS-Cart 429 storm longer
    than the client's retries once the store has served that many writes; all off afterwards."""
    sandbox.set_knobs(**ORDERS_SOAK_FAULTS)
    sandbox.set_knobs(server="cscart", storm_429_after_writes=storm_after_writes, storm_429_length=STORM_LENGTH)
    try:
        yield
    finally:
        sandbox.set_knobs(**SCHEDULES_OFF)


# -- the changes between the two phases ----------------------------------------------------------------------
@dataclass(frozen=True)
class Transitions:
    cscart_status: dict[str, str]  # CS-Cart order id -> the status it is moved to
    placed: dict[str, str]  # CS-Cart order id of a new order -> its e-mail
    zoho_status: dict[str, str]  # Zoho salesorder_number -> the status it is moved to

    def describe(self) -> str:
        return (
            f"CS-Cart statuses {self.cscart_status}; new CS-Cart orders {self.placed}; Zoho statuses {self.zoho_status}"
        )


CSCART_MOVES = {"1": "P", "2": "I", "8": "C", "4": "O"}
"""Seed order -> new status: 1 O->P (draft -> confirmed), 2 P->I (confirmed -> void), 8 Y->C (draft -> confirmed),
4 F->O (void -> draft: Inventory cannot, the order is refused with the reason, field ``status``)."""


def apply_transitions(sandbox: Any, tenant: str = TENANT) -> Transitions:
    """The same edits on any sandbox of the seed, after phase 1 (chosen by natural keys, never by generated ids)."""
    for order_id, status in CSCART_MOVES.items():
        cscart_set_order_status(sandbox, order_id, status)
    product_id = "1"  # a seeded product with a code: linked by the products sync
    placed = {
        cscart_place_order(sandbox, product_id, 2, email=NEW_GUEST): NEW_GUEST,
        cscart_place_order(sandbox, product_id, 1, email="maria.garcia@example.com"): "maria.garcia@example.com",
    }
    reader = SalesOrders(sandbox, tenant)
    native = sorted(
        (row for row in reader.salesorders().values() if not OUR_REFERENCE.fullmatch(str(row["reference_number"]))),
        key=lambda row: str(row["salesorder_number"]),
    )
    imported = {str(o.get("details") or "") for o in cscart_orders(sandbox).values()}
    draft = next(row for row in native if row["status"] == "draft")
    confirmed = next(
        row for row in native if row["status"] == "confirmed" and f"{IMPORT_NOTE}{row['salesorder_number']}" in imported
    )
    moves = {str(draft["salesorder_number"]): "confirmed", str(confirmed["salesorder_number"]): "void"}
    by_number = {str(row["salesorder_number"]): str(row["salesorder_id"]) for row in native}
    for number, status in moves.items():
        reader.set_status(by_number[number], status)
    return Transitions(dict(CSCART_MOVES), placed, moves)


# -- end state -----------------------------------------------------------------------------------------------
def _sorted(collection: Collection) -> Collection:
    return {
        key: sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str)) for key, rows in collection.items()
    }


def _strip(value: Any, volatile: tuple[str, ...]) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip(v, volatile) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [_strip(v, volatile) for v in value]
    return value


def cscart_order_key(row: Mapping[str, Any]) -> str:
    note = str(row.get("details") or "")
    return note if note.startswith(IMPORT_NOTE) else f"order {row['order_id']}"


def cscart_side(sandbox: Any) -> Collection:
    """Every CS-Cart order the lists show (parents hidden), whole, by natural key."""
    orders: Collection = {}
    for row in cscart_orders(sandbox).values():
        record = {k: v for k, v in row.items() if k not in CSCART_ORDER_VOLATILE and k != "products"}
        lines = [
            {k: v for k, v in line.items() if k not in CSCART_LINE_VOLATILE}
            for line in (row.get("products") or {}).values()
        ]
        record["products"] = sorted(lines, key=lambda line: json.dumps(line, sort_keys=True, default=str))
        orders.setdefault(cscart_order_key(row), []).append(record)
    return _sorted(orders)


def salesorder_key(row: Mapping[str, Any]) -> str:
    reference = str(row.get("reference_number") or "")
    return reference if OUR_REFERENCE.fullmatch(reference) else f"number {row['salesorder_number']}"


def zoho_side(sandbox: Any, tenant: str) -> tuple[Collection, Collection]:
    """(sales orders, Inventory contacts) of the tenant's organisation, each read whole, by natural key."""
    reader = SalesOrders(sandbox, tenant)
    orders: Collection = {}
    for salesorder_id, row in reader.salesorders().items():
        orders.setdefault(salesorder_key(row), []).append(_strip(reader.salesorder(salesorder_id), SALESORDER_VOLATILE))
    contacts: Collection = {}
    for contact_id, row in inventory_contacts(reader).items():
        full = reader.get(f"contacts/{contact_id}")["contact"]
        contacts.setdefault(contact_key(row), []).append(_strip(full, CONTACT_VOLATILE))
    return _sorted(orders), _sorted(contacts)


def inventory_contacts(reader: SalesOrders) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        body = _http_json(reader._url("contacts", page=page, per_page=200), headers=reader.headers)
        found.update((str(row["contact_id"]), row) for row in body["contacts"])
        if not body.get("page_context", {}).get("has_more_page"):
            return found
        page += 1


def contact_key(row: Mapping[str, Any]) -> str:
    email = str(row.get("email") or "").strip().casefold()
    return email or f"(no e-mail) {row.get('contact_name')}"


def orders_end_state(sandbox: Any, tenant: str = TENANT) -> EndState:
    salesorders, contacts = zoho_side(sandbox, tenant)
    return EndState({"cscart_orders": cscart_side(sandbox), "zoho_salesorders": salesorders, "contacts": contacts})


# -- duplicates ----------------------------------------------------------------------------------------------
def contacts_per_email(sandbox: Any, tenant: str = TENANT) -> Counter[str]:
    reader = SalesOrders(sandbox, tenant)
    return Counter(contact_key(row) for row in inventory_contacts(reader).values())


def duplicates(sandbox: Any, seeded_contacts: Counter[str], tenant: str = TENANT) -> list[str]:
    """No second sales order per CS-Cart order (by reference), no second CS-Cart order per Zoho sales order (by the
    admin note), no second Inventory contact per e-mail (beyond what the seed itself holds)."""
    problems: list[str] = []
    by_reference = Counter(
        str(row.get("reference_number") or "") for row in SalesOrders(sandbox, tenant).salesorders().values()
    )
    twice = {ref: n for ref, n in by_reference.items() if OUR_REFERENCE.fullmatch(ref) and n > 1}
    if twice:
        problems.append(f"CS-Cart orders sent to Zoho more than once (sales orders per reference): {twice}")
    notes = Counter(str(o.get("details") or "") for o in cscart_orders(sandbox).values())
    twice = {note: n for note, n in notes.items() if note.startswith(IMPORT_NOTE) and n > 1}
    if twice:
        problems.append(f"Zoho sales orders imported more than once (CS-Cart orders per admin note): {twice}")
    contacts = contacts_per_email(sandbox, tenant)
    twice = {email: n for email, n in contacts.items() if n > max(seeded_contacts.get(email, 0), 1)}
    if twice:
        problems.append(
            f"Inventory contacts created twice for one e-mail (count now, seed: {seeded_contacts}): {twice}"
        )
    return problems


# -- links and what the sync holds open ------------------------------------------------------------------------
def link_fingerprints(dags: CustomersDags, tenant: str = TENANT) -> dict[str, list[str]]:
    """Each orders and order-contacts link by its natural keys and flags, with which ids it holds (ids differ between
    sandboxes; so do the hashes of a sales order, which name its contact's generated id)."""
    store = dags.store()
    try:
        found: dict[str, list[str]] = {}
        for entity in (ENTITY, CONTACTS):
            found[entity] = sorted(
                json.dumps(
                    [link.natural_keys, sorted(link.flags), bool(link.zoho_id), bool(link.cscart_id)], sort_keys=True
                )
                for link in store.list_links(tenant, entity)
                if link.deleted_at is None
            )
        return found
    finally:
        store.close()


def leftovers(dags: CustomersDags, tenant: str = TENANT) -> dict[str, int]:
    """Quarantine entries per (direction, kind, field, source id: seeded ids are the same on every sandbox) and
    unconfirmed writes per direction."""
    store = dags.store()
    try:
        found: dict[str, int] = {}
        for entity in (ENTITY, CONTACTS):
            for entry in store.list_quarantine(tenant, entity):
                key = f"{entity} quarantine {entry.direction} {entry.kind} {entry.field or '-'} {entry.source_id}"
                found[key] = found.get(key, 0) + 1
            for direction in ("zoho_to_cscart", "cscart_to_zoho"):
                pending = len(store.list_pending(tenant, entity, direction))
                if pending:
                    found[f"{entity} unconfirmed writes {direction}"] = pending
        return found
    finally:
        store.close()


# -- a crash between the remote write and the state-store write ---------------------------------------------------
@dataclass
class CrashLog:
    points: tuple[tuple[str, str, int], ...]  # (entity, direction, the N-th state write of the pair that dies)
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    crashed_on: dict[tuple[str, str], str] = field(default_factory=dict)  # source id whose write was never stored


@contextmanager
def crash_before_state_write(*points: tuple[str, str, int]) -> Iterator[CrashLog]:
    """For the body, the N-th state-store write of each (entity, direction, N) raises instead of being stored: the
    remote write it records happened, and the task dies (an exception the load does not handle) before the ID map
    knows it, as when a worker is killed at that instant."""
    from zoho_cscart_sync.state.store import StateStore

    log = CrashLog(points)
    at = {(entity, direction): n for entity, direction, n in points}
    real = StateStore.record_write

    def record_write(self: Any, tenant: str, entity: str, direction: str, **kwargs: Any) -> Any:
        pair = (entity, direction)
        if pair in at:
            log.seen[pair] += 1
            if log.seen[pair] == at[pair]:
                log.crashed_on[pair] = str(kwargs.get("source_id"))
                raise RuntimeError(f"injected crash: worker killed before storing the write of {kwargs['source_id']}")
        return real(self, tenant, entity, direction, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StateStore, "record_write", record_write)
        yield log


# -- the check every scenario ends with ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CleanReference:
    state: EndState
    links: dict[str, list[str]]
    leftovers: dict[str, int]
    transitions: Transitions
    phase_writes: list[dict[str, int]]  # data writes per endpoint of phase 1 and phase 2


def synced_products(dags: OrdersDags, tenant: str = TENANT) -> None:
    outcome = run_once(dags.products, tenant, full_refresh=True)
    assert outcome.state == "success", f"the products run (faults off) failed: {outcome.describe()}"


def check_against_reference(
    sandbox: Any,
    dags: OrdersDags,
    reference: CleanReference,
    transitions: Transitions,
    seeded_contacts: Counter[str],
    history: list[str],
    tenant: str = TENANT,
) -> list[str]:
    """One more run with the faults off must write nothing; then both sides must equal the clean run's field for
    field, with no duplicate on either side, the same links and the same leftovers. Returns the problems found."""
    problems: list[str] = []
    if transitions != reference.transitions:
        problems.append(f"the edits between the phases differ: {transitions.describe()} vs the clean run's")
    before = sandbox.counters()
    settled: RunOutcome = run_once(dags.orders, tenant, full_refresh=True)
    writes = writes_between(before, sandbox.counters())
    history.append(f"run after recovery (faults off): {settled.describe()}; data writes: {writes or 'none'}")
    if settled.state != "success":
        problems.append(f"the run after recovery did not succeed: {settled.describe()}")
    if writes:
        problems.append(f"the run after recovery still wrote: {writes}")
    problems += duplicates(sandbox, seeded_contacts, tenant)
    problems.extend(d.describe() for d in diff_states(reference.state, orders_end_state(sandbox, tenant)))
    links = link_fingerprints(dags.orders, tenant)
    for entity, expected in reference.links.items():
        if links.get(entity) != expected:
            missing = sorted(set(expected) - set(links.get(entity, [])))
            extra = sorted(set(links.get(entity, [])) - set(expected))
            problems.append(
                f"{entity} links differ from the clean run's: only in the clean run {missing[:4]}, only here "
                f"{extra[:4]}"
            )
    left = leftovers(dags.orders, tenant)
    if left != reference.leftovers:
        problems.append(f"the sync holds open {left}; after the clean run: {reference.leftovers}")
    return problems
