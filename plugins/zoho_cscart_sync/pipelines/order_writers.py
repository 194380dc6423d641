"""Order targets of the load loop: Zoho Inventory (or Books) sales orders and CS-Cart orders, plus the contacts
orders are billed to.

**Inventory or Books.** One writer serves both (:class:`FinanceApi`: the hook's ``inventory_*`` or ``books_*``
calls and the word for an open order, Inventory ``confirmed``, Books ``open``); an organisation's contacts and
sales orders are the same records in both apps (zoho_api.md 4).

**Sales orders (CS-Cart -> Zoho).** Inventory has no upsert and does not refuse a second sales order with one
``reference_number``, so an unlinked order is looked up by its reference (``CSC-<order id>``) before it is
created (``find_then_create``); a create whose answer is lost is looked up the same way before anything is sent
again. When a run has more unlinked orders than the organisation has pages of ``CSC-`` sales orders (a first
sync), those are read once (``reference_number_startswith=CSC-``, 200 a call) instead of one look-up per order.
The status is an action: Inventory moves an order ``draft -> confirmed -> void`` only through its status calls,
and what it cannot do (back to draft, out of void) is refused with the reason, never dropped silently. Resuming
after a failure: an order found by its reference that is void already (an attempt created and voided it and died
before its link was stored) is adopted without an edit, which Zoho would refuse; a status call sent again after its
answer was lost, which Zoho refuses to repeat, stands when the order has the wanted status
(tests/e2e/test_orders_fault_soak.py).

**Contacts.** An order's customer in Inventory is an Inventory contact, a different record from the CRM contact
the customers sync keeps. One contact per e-mail (registered customers and guests alike), found by e-mail or
created, and kept in the ID map under ``order_contacts`` (CS-Cart side: the lower-cased e-mail). The contact list
is read alongside, one page per look-up at most: once it is read to its end (an organisation with few contacts,
or a run with many new e-mails) every e-mail is answered from it, so a run never spends more than twice the
cheaper of "a look-up per e-mail" and "the whole list". A create answered with an error is looked up by e-mail, and
sent again (``CONTACT_CREATE_ATTEMPTS``) only when it did not land: contacts are made while mapping, where one error
fails the direction's whole map.

**CS-Cart orders (Zoho -> CS-Cart).** CS-Cart takes every order and starts it as ``O``; the status is set with
a status-only PUT (no e-mail unless the tenant asks, ``notify_*``), which CS-Cart answers 200 even for an order
that does not exist, so the order is read back to verify it (for an order created in the same run, only the first
of each status letter: the order exists, and the read checks that the store knows the letter). An imported order
is created once; afterwards only its status follows Zoho (a full PUT would recalculate and replace its lines).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.http.errors import AmbiguousWriteError, FatalApiError, NotFoundError
from zoho_cscart_sync.sync.writer import RecordRejected, linked_record_gone

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.cscart import CsCartHook
    from zoho_cscart_sync.hooks.zoho import ZohoHook

log = logging.getLogger(__name__)

SALESORDERS = "salesorders"
ORDERS = "orders"
ORDER_REF = "order_ref"
SETTABLE_ZOHO_STATUSES = ("draft", "confirmed", "void")
"""What Inventory lets an API client set: ``draft`` (a new order), then ``/status/confirmed`` and ``/status/void``;
``fulfilled`` / ``closed`` follow from packages, shipments and invoices (zoho_api.md 3.5)."""


@dataclass(frozen=True)
class FinanceApi:
    """The Zoho finance app a sales-order writer talks to: Inventory or Books (one organisation, shared contacts
    and sales orders; zoho_api.md 4). Books says ``open`` where Inventory says ``confirmed``."""

    name: str
    """``Zoho Inventory`` / ``Zoho Books`` (messages)."""
    prefix: str
    """The hook's method prefix: ``inventory`` (``inventory_pages``, ``inventory_status``...) or ``books``."""
    path: str
    """The API's path, for the writer's label."""
    open_status: str
    """The status of an order that is an order (no longer a draft): ``confirmed`` / ``open``."""

    @property
    def transitions(self) -> dict[tuple[str, str], str]:
        """(current, wanted) -> the status call; everything else cannot be done by API."""
        return {
            ("draft", self.open_status): self.open_status,
            ("draft", "void"): "void",
            (self.open_status, "void"): "void",
        }

    def pages(self, hook: ZohoHook, resource: str, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        pages: Iterator[list[dict[str, Any]]] = getattr(hook, f"{self.prefix}_pages")(resource, params=params)
        return pages

    def get(self, hook: ZohoHook, resource: str, object_id: str) -> dict[str, Any] | None:
        row: dict[str, Any] | None = getattr(hook, f"{self.prefix}_get")(resource, object_id)
        return row

    def create(self, hook: ZohoHook, resource: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = getattr(hook, f"{self.prefix}_create")(resource, payload)
        return row

    def update(self, hook: ZohoHook, resource: str, object_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = getattr(hook, f"{self.prefix}_update")(resource, object_id, payload)
        return row

    def status(self, hook: ZohoHook, resource: str, object_id: str, status: str) -> None:
        getattr(hook, f"{self.prefix}_status")(resource, object_id, status)


INVENTORY = FinanceApi("Zoho Inventory", "inventory", "/inventory/v1", "confirmed")
BOOKS = FinanceApi("Zoho Books", "books", "/books/v3", "open")
SETTABLE_BOOKS_STATUSES = ("draft", "open", "void")
"""What Books lets an API client set: ``draft`` (a new order), ``/status/open`` and ``/status/void``."""
FREE_LINE = "free-line:"
"""Item id prefix the orders quirk gives a line whose product is not in Zoho (``missing_products:
description_line``): sent as a line with name, rate and quantity and no item."""
OUR_REFERENCE_PREFIX = "CSC-"
"""Every reference the sync gives a sales order starts with this (``CSC-<order id>``, the mapping's ``affix``)."""
LIST_PAGE = 200
"""Rows per Zoho list call (Inventory's and Books' maximum)."""
NEWEST_ORDERS_SCANNED = 500
"""CS-Cart orders (newest first) searched for an interrupted import: CS-Cart cannot filter by the admin note."""


@dataclass
class InventorySalesOrderWriter:
    """Find, create and update Zoho Inventory (or, ``api=BOOKS``, Zoho Books) sales orders, and move their status
    (see the module docstring)."""

    hook: ZohoHook
    api: FinanceApi = INVENTORY
    written_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    """sales order id -> the API's answer to the last write (its status decides the status call)."""
    label: str = ""
    references: dict[str, list[str]] | None = None
    """Every ``CSC-`` reference of the organisation -> its sales order ids, when this run read them all
    (:meth:`plan_lookups`); None: one look-up per order."""

    def __post_init__(self) -> None:
        self.label = self.label or f"zoho {self.api.path}/{SALESORDERS}"

    def plan_lookups(self, expected: int) -> None:
        """Read every ``CSC-`` sales order once when that takes fewer calls than ``expected`` look-ups.

        Zoho gives no total: pages are read until the end or until half the expected look-ups are spent, and
        then the index is dropped (at most half the look-ups wasted; an organisation with many more of the sync's
        sales orders than the run has new orders is never read whole).
        """
        if expected < 2 or self.references is not None:
            return
        references: dict[str, list[str]] = {}
        budget = max(1, expected // 2)
        params = {"reference_number_startswith": OUR_REFERENCE_PREFIX, "per_page": LIST_PAGE}
        for pages, page in enumerate(self.api.pages(self.hook, SALESORDERS, params), start=1):
            for row in page:
                reference = str(row.get("reference_number") or "")
                if reference.startswith(OUR_REFERENCE_PREFIX):
                    references.setdefault(reference, []).append(str(row["salesorder_id"]))
            if pages >= budget:
                log.info("%s: reference index given up after %d pages: look-ups are cheaper", self.label, pages)
                return
        self.references = references

    adopted: str | None = None
    """The sales order :meth:`find_by_natural_key` last found (the load loop adopts it: :meth:`update` follows)."""

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        self.adopted = self._find(key_value, indexed=True) if key_kind == ORDER_REF else None
        return self.adopted

    def _find(self, key_value: str, *, indexed: bool) -> str | None:
        if indexed and self.references is not None and key_value.startswith(OUR_REFERENCE_PREFIX):
            matches = list(self.references.get(key_value, ()))
        else:
            matches = [
                str(row["salesorder_id"])
                for page in self.api.pages(
                    self.hook, SALESORDERS, {"reference_number": key_value, "per_page": LIST_PAGE}
                )
                for row in page
                if str(row.get("reference_number") or "") == key_value
            ]
        if len(matches) > 1:
            raise RecordRejected(
                f"several Zoho sales orders ({', '.join(sorted(matches))}) have reference {key_value!r}; "
                "void the extra ones in Zoho, then retry",
                field="reference_number",
            )
        if matches:
            row = self.api.get(self.hook, SALESORDERS, matches[0])
            if row is not None:
                self.written_rows = {matches[0]: dict(row)}
        return matches[0] if matches else None

    def create(self, payload: Mapping[str, Any]) -> str:
        reference = str(payload.get("reference_number") or "")
        try:
            order = self.api.create(self.hook, SALESORDERS, _wire(payload))
        except AmbiguousWriteError:
            # Asked live: the index was read before this create, which may have landed.
            existing = self._find(reference, indexed=False) if reference else None
            if existing is None:
                raise
            self.update(existing, payload)
            self._indexed(reference, existing)
            return existing
        except FatalApiError as exc:
            if exc.status == 400:
                raise RecordRejected(f"{self.api.name} refused the sales order: {exc}", field=_field_of(exc)) from None
            raise
        order_id = str(order.get("salesorder_id") or "")
        if not order_id:
            raise RecordRejected(f"{self.api.name} created the sales order but returned no id", field="salesorder_id")
        self.written_rows = {order_id: dict(order)}
        self._indexed(reference, order_id)
        return order_id

    def _indexed(self, reference: str, order_id: str) -> None:
        if self.references is not None and reference.startswith(OUR_REFERENCE_PREFIX):
            known = self.references.setdefault(reference, [])
            if order_id not in known:
                known.append(order_id)

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        adopted, self.adopted = self.adopted == target_id, None
        if adopted and str((self.written_rows.get(target_id) or {}).get("status") or "") == "void":
            # Found by its reference and already void: an earlier attempt created and voided it and was interrupted
            # before its link was stored (or a person voided it). Zoho cannot edit a void order, so it is adopted as
            # it is; apply_actions then refuses any status but void, with the reason.
            log.warning(
                "%s: sales order %s found by its reference is void: adopted without an edit", self.label, target_id
            )
            return
        try:
            order = self.api.update(self.hook, SALESORDERS, target_id, _wire(payload))
        except NotFoundError:
            raise linked_record_gone("Zoho sales order", target_id, "salesorder_id") from None
        except FatalApiError as exc:
            if exc.status == 400 and "void" in str(exc).lower():
                raise RecordRejected(
                    f"Zoho sales order {target_id} is void: {self.api.name} cannot edit a void sales order or "
                    "move it out of void; change it in Zoho by hand",
                    field="status",
                ) from None
            if exc.status == 400:
                raise RecordRejected(
                    f"{self.api.name} refused the sales order update: {exc}", field=_field_of(exc)
                ) from None
            raise
        self.written_rows = {target_id: dict(order)}

    def apply_actions(self, target_id: str, actions: Mapping[str, Any]) -> None:
        """Move the order to the wanted status with the API's status calls (one call, only when it differs)."""
        wanted = actions.get("status")
        if wanted is None:
            return
        current = str((self.written_rows.get(target_id) or {}).get("status") or "")
        if not current:
            row = self.api.get(self.hook, SALESORDERS, target_id)
            current = str((row or {}).get("status") or "")
        if current == wanted:
            return
        transitions = self.api.transitions
        call = transitions.get((current, str(wanted)))
        if call is None:
            raise RecordRejected(
                f"{self.api.name} cannot move a sales order from {current or 'unknown'} to {wanted} by API "
                f"(it can: {', '.join(f'{a} -> {b}' for a, b in transitions)}); change it in Zoho by hand",
                field="status",
            )
        try:
            self.api.status(self.hook, SALESORDERS, target_id, call)
        except FatalApiError as exc:
            if exc.status == 400 and self._status_now(target_id) == wanted:
                # The HTTP client sent the call again after an answer was lost, and Zoho refuses to repeat it
                # (36014 "Only draft sales orders can be confirmed", 36016 for void): the first call landed.
                log.warning("%s: sales order %s is %s already (%s)", self.label, target_id, wanted, exc)
            elif exc.status in (400, 404):
                raise RecordRejected(f"{self.api.name} refused status {wanted!r}: {exc}", field="status") from None
            else:
                raise
        if target_id in self.written_rows:
            self.written_rows[target_id]["status"] = wanted

    def _status_now(self, target_id: str) -> str:
        row = self.api.get(self.hook, SALESORDERS, target_id)
        return str((row or {}).get("status") or "")

    def close(self) -> None:
        """Nothing held."""


CONTACT_CREATE_ATTEMPTS = 3
"""Contact creates sent for one e-mail when each fails without landing (an e-mail look-up after each shows none)."""


@dataclass
class ListedAlongside:
    """Ids by a lower-cased key (an e-mail): read from the whole list alongside the look-ups, one list page per
    look-up at most. Once the list is read to its end (few records: often its first page), every key is answered
    from it at no call; a large list costs at most as many pages as there were look-ups. Several records with one
    key: the first listed (the oldest), as a look-up answers."""

    list_pages: Callable[[], Iterator[list[dict[str, Any]]]]
    """The whole list, oldest first, ``page_size`` rows a page."""
    lookup: Callable[[str], str | None]
    """One key asked live."""
    key_of: Callable[[Mapping[str, Any]], str]
    id_of: Callable[[Mapping[str, Any]], str]
    page_size: int = LIST_PAGE
    listing: Iterator[list[dict[str, Any]]] | None = None
    listed: dict[str, str] | None = None
    list_complete: bool = False
    pages_read: int = 0
    lookups: int = 0

    def find(self, key: str) -> str | None:
        """From the list when it was read to its end, else by a look-up; before a look-up, the next page of the
        list is read if the list has cost fewer calls than the look-ups so far."""
        if not self.list_complete and self.pages_read <= self.lookups:
            self._read_page()
        if self.list_complete and self.listed is not None:
            return self.listed.get(key)
        if self.listed is not None and key in self.listed:
            return self.listed[key]
        self.lookups += 1
        return self.lookup(key)

    def note(self, key: str, record_id: str) -> None:
        """A record made or found after the list was read: later keys see it."""
        if self.listed is not None:
            self.listed.setdefault(key, record_id)

    def _read_page(self) -> None:
        if self.listing is None:
            self.listing = self.list_pages()
            self.listed = {}
        page = next(self.listing, None)
        if page is None:
            self.list_complete = True
            return
        self.pages_read += 1
        assert self.listed is not None
        for row in page:
            self.listed.setdefault(self.key_of(row), self.id_of(row))
        if len(page) < self.page_size:
            self.list_complete = True


def lower_email(row: Mapping[str, Any]) -> str:
    return str(row.get("email") or "").strip().casefold()


@dataclass
class InventoryContacts:
    """The Inventory (Books) contact an order is billed to, by e-mail: from the ID map, found, or created."""

    hook: ZohoHook
    linked: Callable[[str], str | None]
    """The contact id the ID map holds for a lower-cased e-mail."""
    remember: Callable[[str, str], None]
    """Store e-mail -> contact id in the ID map (after a find or a create)."""
    dry_run: bool = False
    found: dict[str, str] = field(default_factory=dict)
    api: FinanceApi = INVENTORY
    """The app the contacts are looked up and created through; Inventory and Books share an organisation's
    contacts, so the ID map holds for both."""

    directory: ListedAlongside = field(init=False)
    """The contact list read alongside the e-mail look-ups."""

    def __post_init__(self) -> None:
        self.directory = ListedAlongside(
            list_pages=lambda: self.api.pages(self.hook, "contacts", {"per_page": LIST_PAGE}),
            lookup=self._lookup,
            key_of=lower_email,
            id_of=lambda row: str(row["contact_id"]),
        )

    def contact_for(
        self, email: str, name: str, addresses: Mapping[str, Mapping[str, str]] | None = None
    ) -> str | None:
        """The contact of ``email``; a new one is created with ``addresses`` (``billing_address`` /
        ``shipping_address``: the first order's), which Zoho gives the contact's sales orders by default. An
        existing contact is the customer's own record: its addresses are left as they are."""
        key = email.strip().casefold()
        if not key:
            return None
        if key in self.found:
            return self.found[key]
        contact_id = self.linked(key) or self.directory.find(key)
        if contact_id is None:
            if self.dry_run:
                return f"(new contact for {key})"
            contact_id = self._create(key, name.strip() or key, addresses or {})
        if not self.dry_run:
            self.remember(key, contact_id)
        self.found[key] = contact_id
        return contact_id

    def _lookup(self, email: str) -> str | None:
        matches = [
            str(row["contact_id"])
            for page in self.api.pages(self.hook, "contacts", {"email": email, "per_page": LIST_PAGE})
            for row in page
            if str(row.get("email") or "").strip().casefold() == email
        ]
        # Several contacts with one e-mail: the oldest (first listed) is used, the same one every run.
        return matches[0] if matches else None

    def _create(self, email: str, name: str, addresses: Mapping[str, Mapping[str, str]]) -> str:
        first, _, last = name.partition(" ")
        body: dict[str, Any] = {
            "contact_type": "customer",
            "contact_persons": [
                {"first_name": first, "last_name": last or first, "email": email, "is_primary_contact": True}
            ],
            **{kind: dict(address) for kind, address in addresses.items() if any(address.values())},
        }
        names = [name, f"{name} ({email})"]
        unanswered = 0
        while names:
            try:
                created = self.api.create(self.hook, "contacts", {**body, "contact_name": names[0]})
            except AmbiguousWriteError:
                again = self._lookup(email)  # asked live: the list was read before this create
                if again is not None:
                    self.directory.note(email, again)
                    return again
                # The look-up shows the create did not land (a 5xx before the write): it is sent again. The contact
                # is made while mapping, where one error fails the whole direction's map, not one order.
                unanswered += 1
                if unanswered >= CONTACT_CREATE_ATTEMPTS:
                    raise
                continue
            except FatalApiError as exc:
                if exc.status == 400 and ("already exists" in str(exc) or exc.code == "3062"):
                    names.pop(0)  # Inventory refuses a second contact with one name: the e-mail tells them apart
                    continue
                raise
            self.directory.note(email, str(created["contact_id"]))
            return str(created["contact_id"])
        raise RecordRejected(f"{self.api.name} refused every name tried for the contact of {email}", field="email")


@dataclass
class CsCartOrderWriter:
    """Create CS-Cart orders from Zoho sales orders and keep their status (see the module docstring)."""

    hook: CsCartHook
    notify: Mapping[str, bool] = field(default_factory=dict)
    """``notify_user`` / ``notify_department`` / ``notify_vendor`` of status changes (all off by default)."""
    label: str = "cscart /api/orders"
    created: set[str] = field(default_factory=set)
    """Orders this writer created in this run (they exist: their status PUT needs no read to prove it)."""
    letters_seen: set[str] = field(default_factory=set)
    """Status letters a read-back showed the store keeps (a status PUT of an unknown letter also answers 200)."""

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        """The newest order whose admin note is ``key_value`` (an interrupted import of that sales order)."""
        if key_kind != ORDER_REF:
            return None
        scanned = 0
        params = {"sort_by": "order_id", "sort_order": "desc", "get_orders_data": 1}
        for page in self.hook.pages(ORDERS, params=params, items_per_page=100):
            for row in page:
                if str(row.get("details") or "") == key_value:
                    return str(row["order_id"])
            scanned += len(page)
            if scanned >= NEWEST_ORDERS_SCANNED:
                break
        return None

    def create(self, payload: Mapping[str, Any]) -> str:
        try:
            order_id = self.hook.create(ORDERS, payload)
        except AmbiguousWriteError:
            existing = self.find_by_natural_key(ORDER_REF, str(payload.get("details") or ""))
            if existing is None:
                raise
            return existing
        except FatalApiError as exc:
            if exc.status in (400, 403):
                raise RecordRejected(f"CS-Cart refused the order: {exc}", field=_field_of(exc)) from None
            raise
        self.created.add(str(order_id))
        return order_id

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        # Everything but the status is create-only (OrdersQuirks.create_only_fields): nothing to send here.
        if payload:
            raise RecordRejected(
                f"CS-Cart order {target_id}: only its status follows Zoho after the import ({sorted(payload)})",
                field=None,
            )

    def apply_actions(self, target_id: str, actions: Mapping[str, Any]) -> None:
        """A status-only PUT, then a read: CS-Cart answers 200 even for an order that does not exist, or for a status
        letter it does not know. An order created in this run exists, so its read is skipped once a read showed
        the store keeps that letter."""
        wanted = actions.get("status")
        if wanted is None:
            return
        # CS-Cart reads the flags PHP-truthy ("N" would send the e-mail): a flag is sent only when it is on.
        flags = {name: "Y" for name, on in self.notify.items() if on}
        self.hook.update(ORDERS, target_id, {"status": wanted, **flags})
        if target_id in self.created and str(wanted) in self.letters_seen:
            return
        row = self.hook.get(ORDERS, target_id)
        if row is None:
            raise linked_record_gone("CS-Cart order", target_id, "order_id")
        if str(row.get("status")) != str(wanted):
            raise RecordRejected(
                f"CS-Cart kept order {target_id} in status {row.get('status')!r} instead of {wanted!r} "
                "(is the status letter defined in the store?)",
                field="status",
            )
        self.letters_seen.add(str(wanted))

    def close(self) -> None:
        """Nothing held."""


def _wire(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The body Inventory gets: a line whose product is not in Zoho goes without ``item_id`` (free text)."""
    lines = payload.get("line_items")
    if not isinstance(lines, list) or not any(str(line.get("item_id", "")).startswith(FREE_LINE) for line in lines):
        return dict(payload)
    free = [
        {key: value for key, value in line.items() if key != "item_id"}
        if str(line.get("item_id", "")).startswith(FREE_LINE)
        else line
        for line in lines
    ]
    return {**payload, "line_items": free}


def _field_of(exc: FatalApiError) -> str | None:
    text = str(exc)
    for name in ("customer_id", "item_id", "line_items", "reference_number", "user_id", "payment_id", "products"):
        if name in text:
            return name
    return None
