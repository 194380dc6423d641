"""Product targets of the load loop: CS-Cart products and Zoho Inventory items.

Neither system refuses a second record with one SKU, so an unlinked record is looked up by SKU before it is
created (``find_then_create``): by one call per SKU, or, when a run has more unlinked records than the
catalogue has pages, from one read of the whole list (:mod:`~zoho_cscart_sync.pipelines.sku_index`).

SKUs are compared as the systems store them: surrounding blanks removed (the mappings strip them), case kept
(``ABC-1`` and ``abc-1`` are two products; CS-Cart's ``pcode`` filter is a case-insensitive substring search,
so its answer is filtered exactly here). Two records with one SKU in the target are never guessed between:
the record is quarantined naming both.

**Scope.** A vendor tenant's CS-Cart key sees only its own company's products (the hook adds and checks
``company_id``). A whole-store tenant that assigns imports to a vendor (``defaults.product_company_id``) adopts
an SKU match only inside that company: a product of another company with the SKU is refused and named. No
update ever sends ``company_id``: an edit never moves a product between companies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.http.errors import AmbiguousWriteError, FatalApiError, NotFoundError
from zoho_cscart_sync.pipelines.sku_index import SkuIndex
from zoho_cscart_sync.sync.writer import RecordRejected, linked_record_gone

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.cscart import CsCartHook
    from zoho_cscart_sync.hooks.zoho import ZohoHook

log = logging.getLogger(__name__)

PRODUCTS = "products"
ITEMS = "items"
SKU = "sku"
LEAN_PRODUCT_LIST = {"get_features": 0, "get_additional": 0, "get_icon": 0, "get_detailed": 0}
"""List flags that leave images and features out of CS-Cart product pages (smaller, faster pages)."""


@dataclass
class _SkuLookups:
    """Per-SKU lookups, or one read of the whole list when that is cheaper (decided by :meth:`plan`)."""

    list_pages: Callable[[], Iterator[list[dict[str, Any]]]]
    lookup: Callable[[str], list[tuple[str, str]]]
    code_field: str
    id_field: str
    owner_field: str
    index: SkuIndex | None = None

    def plan(self, expected_lookups: int) -> None:
        """Read the whole list into an index when it takes fewer calls than ``expected_lookups``.

        The list's length is not known in advance (Inventory gives no total): pages are read until the end
        or until half the expected lookups are spent, and then the index is dropped (at most half the
        lookups wasted; a catalogue much larger than the run's new records is never read whole).
        """
        if expected_lookups < 2 or self.index is not None:
            return
        index = SkuIndex()
        budget = max(1, expected_lookups // 2)
        for pages, page in enumerate(self.list_pages(), start=1):
            index.add_rows(page, code_field=self.code_field, id_field=self.id_field, owner_field=self.owner_field)
            if pages >= budget:
                log.info("SKU index given up after %d pages: per-SKU lookups are cheaper for this run", pages)
                index.close()
                return
        index.finish()
        self.index = index

    def matches(self, code: str) -> list[tuple[str, str]]:
        if self.index is not None:
            return self.index.matches(code)
        return self.lookup(code)

    def created(self, code: str, record_id: str, owner: str) -> None:
        if self.index is not None:
            self.index.add(code, record_id, owner)

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None


def _one_match(matches: list[tuple[str, str]], code: str, what: str) -> tuple[str, str] | None:
    if len(matches) > 1:
        ids = ", ".join(sorted(record_id for record_id, _ in matches))
        raise RecordRejected(f"several {what} ({ids}) have the SKU {code!r}; link one by hand", field="sku")
    return matches[0] if matches else None


@dataclass
class CsCartProductWriter:
    """Find, create and update CS-Cart products of one tenant (see the module docstring for scope)."""

    hook: CsCartHook
    tenant: str
    company_id: int | None = None
    """Company the tenant's products belong to (vendor tenants; a store's ``product_company_id``)."""
    label: str = "cscart /api/products"
    adopted_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    """product id -> the row as it was when found by SKU (a PUT keeps the fields it does not send)."""
    keep_rows: bool = True
    """Read an adopted product before updating it (for the echo hash); the kit turns it off for one-way
    tenants, where nothing reads the product back."""
    lookups: _SkuLookups = field(init=False)

    def __post_init__(self) -> None:
        self.lookups = _SkuLookups(
            list_pages=lambda: self.hook.pages(PRODUCTS, params=dict(LEAN_PRODUCT_LIST), items_per_page=200),
            lookup=self._lookup,
            code_field="product_code",
            id_field="product_id",
            owner_field="company_id",
        )

    def plan_lookups(self, expected: int) -> None:
        self.lookups.plan(expected)

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        if key_kind != SKU:
            return None
        match = _one_match(self.lookups.matches(key_value), key_value, "CS-Cart products")
        if match is None:
            return None
        product_id, owner = match
        if self.company_id is not None and owner != str(self.company_id):
            whose = "the marketplace (company 0)" if owner in ("", "0") else f"company {owner}"
            raise RecordRejected(
                f"SKU {key_value!r} belongs to CS-Cart product {product_id} of {whose}, outside this tenant's "
                f"company_id {self.company_id}: it is neither adopted nor changed",
                field="sku",
            )
        if self.keep_rows:
            # The row as it is now: the update keeps what it does not send, and the echo hash must know it.
            row = self.hook.get(PRODUCTS, product_id)
            if row is not None:
                self.adopted_rows[product_id] = row
        return product_id

    def create(self, payload: Mapping[str, Any]) -> str:
        code = str(payload.get("product_code") or "").strip()
        try:
            product_id = self.hook.create(PRODUCTS, payload)
        except AmbiguousWriteError:
            # The create may have been applied: a product with this SKU now is that create.
            existing = self.find_by_natural_key(SKU, code) if code else None
            if existing is None:
                raise
            self.update(existing, payload)
            return existing
        except FatalApiError as exc:
            if exc.status == 400:
                raise RecordRejected(f"CS-Cart refused the product: {exc}", field=None) from None
            raise
        self.lookups.created(code, product_id, str(payload.get("company_id") or self.company_id or ""))
        return product_id

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        body = {key: value for key, value in payload.items() if key != "company_id"}
        try:
            self.hook.update(PRODUCTS, target_id, body)
        except NotFoundError:
            raise linked_record_gone("CS-Cart product", target_id, "product_id") from None
        except FatalApiError as exc:
            if exc.status == 400:
                raise RecordRejected(f"CS-Cart refused the product update: {exc}", field=None) from None
            raise

    def read(self, target_id: str) -> dict[str, Any] | None:
        """The product as CS-Cart holds it now (conflict checks)."""
        return self.hook.get(PRODUCTS, target_id)

    def find_created(self, payload: Mapping[str, Any]) -> list[str]:
        """Products without SKU named exactly like ``payload`` in this tenant's scope (an interrupted create of a
        product without SKU): name search (``q`` in names only), filtered exactly here."""
        name = str(payload.get("product") or "")
        if not name.strip():
            return []
        params: dict[str, Any] = {
            **LEAN_PRODUCT_LIST,
            "q": name,
            "pname": "Y",
            "pshort": "N",
            "pfull": "N",
            "pkeywords": "N",
            "pcode_from_q": "N",
            "match": "exact",
        }
        if self.company_id is not None:
            params["company_id"] = self.company_id
        found = [
            str(row["product_id"])
            for page in self.hook.pages(PRODUCTS, params=params, items_per_page=50)
            for row in page
            if str(row.get("product") or "") == name
            and not str(row.get("product_code") or "").strip()
            and (self.company_id is None or str(row.get("company_id") or "") == str(self.company_id))
        ]
        if self.keep_rows:
            for product_id in found:  # as for an SKU match: the echo hash must know what the update keeps
                row = self.hook.get(PRODUCTS, product_id)
                if row is not None:
                    self.adopted_rows[product_id] = row
        return found

    def _lookup(self, code: str) -> list[tuple[str, str]]:
        matches: list[tuple[str, str]] = []
        params = {**LEAN_PRODUCT_LIST, "pcode": code.strip()}
        for page in self.hook.pages(PRODUCTS, params=params, items_per_page=50):
            matches.extend(
                (str(row["product_id"]), str(row.get("company_id") or ""))
                for row in page
                if str(row.get("product_code") or "").strip() == code.strip()
            )
        return matches

    def close(self) -> None:
        self.lookups.close()


@dataclass
class InventoryItemWriter:
    """Find, create and update Zoho Inventory items (no upsert, no bulk create, ~100 requests a minute).

    Inventory refuses a second item with one SKU in an organisation (code 1001, zoho_api.md 3.2), so a new
    record is created first and only a refused create costs a lookup, after which the existing item is
    adopted and updated (the kit's ``create_then_adopt``): a first push of N products costs N calls.
    """

    hook: ZohoHook
    label: str = "zoho /inventory/v1/items"
    adopted: int = 0
    written_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    """item id -> the item as Inventory answered the last write (what the other direction reads back); only
    the last one is kept, so a catalogue-sized push holds one item."""

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        if key_kind != SKU:
            return None
        match = _one_match(self._lookup(key_value), key_value, "Zoho Inventory items")
        return match[0] if match else None

    def create(self, payload: Mapping[str, Any]) -> str:
        code = str(payload.get("sku") or "").strip()
        try:
            item = self.hook.inventory_create(ITEMS, payload)
        except AmbiguousWriteError:
            # The create may have been applied: an item with this SKU now is that create.
            existing = self.find_by_natural_key(SKU, code) if code else None
            if existing is None:
                raise
            return self._adopt(existing, payload)
        except FatalApiError as exc:
            if exc.status == 400 and code and _duplicate_sku(exc):
                existing = self.find_by_natural_key(SKU, code)
                if existing is None:
                    raise RecordRejected(
                        f"Zoho Inventory says the SKU {code!r} exists, but no item has exactly this SKU "
                        "(SKUs differing only in case are one SKU to Inventory)",
                        field="sku",
                    ) from None
                return self._adopt(existing, payload)
            if exc.status == 400:
                raise RecordRejected(f"Zoho Inventory refused the item: {exc}", field=None) from None
            raise
        item_id = str(item.get("item_id") or "")
        if not item_id:
            raise RecordRejected("Zoho Inventory created the item but returned no item_id", field="item_id")
        self.written_rows = {item_id: dict(item)}  # only the last answer: the echo is computed right after
        return item_id

    def _adopt(self, item_id: str, payload: Mapping[str, Any]) -> str:
        self.update(item_id, payload)
        self.adopted += 1
        return item_id

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        # Stock is never part of an item edit: initial_stock is create-only (ProductsQuirks.create_only_fields).
        try:
            item = self.hook.inventory_update(ITEMS, target_id, payload)
        except NotFoundError:
            raise linked_record_gone("Zoho Inventory item", target_id, "item_id") from None
        except FatalApiError as exc:
            if exc.status in (400, 404):
                field_name = "sku" if _duplicate_sku(exc) else None
                raise RecordRejected(f"Zoho Inventory refused the item update: {exc}", field=field_name) from None
            raise
        self.written_rows = {target_id: dict(item)}

    def apply_actions(self, target_id: str, actions: Mapping[str, Any]) -> None:
        """Mark the item active / inactive when its status is not the wanted one (one call, only then)."""
        wanted = actions.get("status")
        if wanted is None:
            return
        answered = self.written_rows.get(target_id)
        if answered is not None and answered.get("status") == wanted:
            return
        try:
            self.hook.inventory_mark(ITEMS, target_id, str(wanted))
        except FatalApiError as exc:
            if exc.status in (400, 404):
                raise RecordRejected(f"Zoho Inventory refused status {wanted!r}: {exc}", field="status") from None
            raise
        if answered is not None:
            answered["status"] = wanted  # what the other direction will read back

    def read(self, target_id: str) -> dict[str, Any] | None:
        """The item as Inventory holds it now (conflict checks)."""
        return self.hook.inventory_get(ITEMS, target_id)

    def find_created(self, payload: Mapping[str, Any]) -> list[str]:
        """Items without SKU named exactly like ``payload`` (an interrupted create of an item without SKU);
        Inventory's ``name`` filter ignores case, so the answer is filtered exactly here."""
        name = str(payload.get("name") or "")
        if not name.strip():
            return []
        return [
            str(row["item_id"])
            for page in self.hook.inventory_pages(ITEMS, params={"name": name, "per_page": 200})
            for row in page
            if str(row.get("name") or "") == name and not str(row.get("sku") or "").strip()
        ]

    def _lookup(self, code: str) -> list[tuple[str, str]]:
        return [
            (str(row["item_id"]), "")
            for page in self.hook.inventory_pages(ITEMS, params={"sku": code.strip(), "per_page": 200})
            for row in page
            if str(row.get("sku") or "").strip() == code.strip()
        ]

    def close(self) -> None:
        """Nothing held (the CS-Cart writer's index needs closing; the protocol is shared)."""


def _duplicate_sku(exc: FatalApiError) -> bool:
    text = str(exc).lower()
    return exc.code == "1001" or ("sku" in text and "already exists" in text)
