"""Orders: CS-Cart orders <-> Zoho Inventory (or Books, or CRM) sales orders — a declaration.

Everything generic (staging, map-or-quarantine, waiting for related records, report, watermarks) is the sync
kit's. What orders declares:

* **CS-Cart -> Zoho**: orders changed in the window (CS-Cart's ``updated_at_from`` / ``updated_at_to``, so an idle run
  costs one call), read with their lines (``get_orders_data=1``), optionally only some statuses (``export_statuses``).
  CS-Cart lists never show Multi-Vendor parent orders: a whole-store tenant sends each vendor's child order (or the
  cart's parent, ``multivendor_carts``), a vendor tenant only its own company's (its key sees nothing else). Each
  becomes an Inventory sales order with reference ``CSC-<order id>``, looked up by that reference before any create,
  so a create whose answer was lost never becomes two. The customer is the Inventory contact of the order's e-mail
  (found or created, guests too; only for an order that maps cleanly, ``creates_on_resolve``: one that waits creates
  no contact); each line's item comes from the products ID map, and an order with a product not in Zoho yet *waits*
  (quarantine kind ``waiting``, "products record N has no counterpart yet") and is tried again every run until the
  products sync links it. The CS-Cart status goes through ``order_status_map`` (``draft`` / ``confirmed`` / ``void``:
  all Inventory lets an API client set; the plan task refuses a tenant whose map names anything else, from the
  sales-order field catalogue) and every later CS-Cart status change moves the Zoho order, or is refused with the
  reason when Inventory cannot (out of void, back to draft).
* **Zoho -> CS-Cart**: sales orders modified in the window, read whole (the list has no lines), created in
  CS-Cart when their status is one of ``import_statuses`` (default confirmed, fulfilled, closed), with the
  products of the products ID map, the CS-Cart customer with the contact's e-mail (else a guest order with
  that e-mail), payment and shipping from the tenant's maps, and the status from ``zoho_order_status_map``
  (status-only PUT, no e-mail unless ``notify_*``). Afterwards only the status follows Zoho.

**Multi-Vendor carts** (``multivendor_carts``). A cart with products of several vendors is one hidden parent order
(status ``T``, no vendor) plus one order per vendor. ``vendor_orders`` (the default) sends each vendor order; a
parent fetched by id (``record_ids``) stands for its vendor orders. ``parent_order`` (whole-store tenants only)
sends the cart once instead: every vendor order read stands for its parent (one GET of the parent and one list of
its vendor orders per cart and run), with all the cart's lines, and a status derived from its vendor orders'
statuses through ``order_status_map``: confirmed if any is confirmed, void if all are void, else draft (the
letter sent is the first vendor order's that gives that status). Choose before the first sync: switching later
sends the same purchases again under the other ids.

**Zoho Books** (``sales_orders_in: books``): the CS-Cart -> Zoho target is Books' sales orders instead, the same
writer over Books' API (``order_writers.BOOKS``), the contacts found or created through Books (one organisation:
contacts and sales orders are shared). ``order_status_map`` keeps Inventory's words; the Books mapping turns
``confirmed`` into Books' ``open``. Zoho -> CS-Cart reads Books' sales orders (stream ``books_salesorders``).

**Zoho CRM** (``sales_orders_in: crm``): CS-Cart -> Zoho writes CRM ``Sales_Orders`` (``crm_order_writer``), and
Zoho -> CS-Cart reads them (stream ``crm_salesorders``; a CRM-only organisation has no Inventory): the window's ids
by keyset COQL, each order read whole by id (COQL cannot select line items), the contacts' e-mails and names and
the unlinked line products' codes by COQL per 50 (``_crm_orders``). CRM's Status is read in Inventory's words
(``crm_salesorder_status_to_inventory``), so ``import_statuses`` keeps one vocabulary. A line's CS-Cart product is
the ``crm_products`` link the CRM target keeps, else the CS-Cart product with the CRM Product's ``Product_Code``
(``GET /api/products?pcode=``, once per code and run); with neither the order waits (``MissingLinkError``). An order
skipped whatever it maps to (Subject ``CSC-<digits>``, or new in a status not imported) resolves nothing for real.

**Line taxes.** Each line carries the Zoho tax ``defaults.zoho_tax_map`` gives the CS-Cart taxes that apply to it
(the order's ``taxes[id].applies.items.P`` name its cart items: transform ``parent_keys_containing``); an unmapped
tax keeps the order waiting until the tenant maps it. CS-Cart's tax on the shipping charge (``applies.S``) is not
sent: neither Inventory's nor Books' sales orders have a field for a tax on ``shipping_charge``.

**Currency.** CS-Cart keeps an order's amounts in the store's primary currency (``secondary_currency`` is the one the
customer viewed prices in), and a Zoho sales order is in its customer's currency, the organisation's: amounts are
sent as they are, so the organisation's currency must be the store's primary one (the README's deployment note).

**Echo.** An order is mastered where it was placed: one that went CS-Cart -> Zoho is flagged
``order_from_cscart`` and never comes back as a new CS-Cart order (nor is a Zoho edit of it copied back), and one
imported from Zoho (``order_from_zoho``) is never sent to Zoho again. A sales order whose reference is
``CSC-<digits>`` and that is not linked yet is a CS-Cart order whose create is not confirmed: it is skipped.

**Stock.** A CS-Cart order moves CS-Cart's stock (statuses O/P/C take, F/D/B/I return). With ``stock_master:
cscart`` the products sync pushes that movement to Inventory as adjustments (it reads the orders changed in its
window); with ``stock_master: zoho`` CS-Cart's amount is overwritten by Inventory's at the next products run, so
an order imported from Zoho does not count twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.kit.quirks import EntityQuirks
from zoho_cscart_sync.kit.runner import SpecPipeline
from zoho_cscart_sync.kit.spec import (
    CountsSpec,
    DirectionSpec,
    EntitySettings,
    EntitySpec,
    StreamSpec,
    TargetSpec,
)
from zoho_cscart_sync.mapping.transforms.base import IdResolver
from zoho_cscart_sync.pipelines.crm_order_writer import CRM_PRODUCTS
from zoho_cscart_sync.pipelines.order_writers import (
    BOOKS,
    FREE_LINE,
    INVENTORY,
    LIST_PAGE,
    FinanceApi,
    InventoryContacts,
    ListedAlongside,
    lower_email,
)
from zoho_cscart_sync.state.models import RecordLink
from zoho_cscart_sync.sync.hashing import content_hash

ENTITY = "orders"
CONTACTS_NAMESPACE = "order_contacts"
"""ID map of the Inventory contacts orders are billed to: CS-Cart side the lower-cased e-mail."""
FROM_CSCART = "order_from_cscart"
FROM_ZOHO = "order_from_zoho"
CSCART_REFERENCE = re.compile(r"^CSC-\d+$")
CSCART_STATUSES = ("O", "P", "C", "F", "D", "B", "I", "Y")
log = logging.getLogger(__name__)

ORDER_STATUSES = "order_statuses"
"""The run option limiting a run to some statuses (``zoho_cscart_sync.params.RUN_OPTIONS``)."""
CRM_CONTACT = "_contact"
"""Field the orders pipeline adds to a CRM sales order: its Contact_Name's ``Email``, ``First_Name``, ``Last_Name``."""
COQL_IN_MAX = 50
"""Values one COQL ``in (...)`` takes."""
STATUS_WORDS = {
    "zoho_books": ("books_salesorders", "books_salesorder_status_to_inventory"),
    "zoho_crm": ("crm_salesorders", "crm_salesorder_status_to_inventory"),
}
"""Per source system, the mapping and the value map turning its sales-order status into Inventory's word (the one
``import_statuses``, ``order_statuses`` and ``zoho_order_status_map`` use)."""
CUSTOMERS = {"user_type": "C"}
"""CS-Cart's customers (``users`` needs ``user_type`` on 4.20)."""
CRM_STATUS_FIELD = "Status"
CRM_REFERENCE_FIELD = "Subject"
CART_STATUS_RANK = {"void": 0, "draft": 1, "confirmed": 2}
"""A parent order's Zoho status from its vendor orders': the highest rank among them (any confirmed: confirmed;
all void: void; else draft)."""


class OrdersSettings(EntitySettings):
    """``entities.orders.settings`` (see the README's orders table)."""

    export_statuses: list[str] | None = None
    """CS-Cart statuses whose new orders are sent to Zoho (None: every status). A linked order's later status
    changes always follow."""
    import_statuses: list[str] = Field(default_factory=lambda: ["confirmed", "fulfilled", "closed"])
    """Zoho sales-order statuses that are imported as new CS-Cart orders (drafts are not orders yet), in Inventory's
    words (Books' ``open`` and CRM's Approved are ``confirmed``, CRM's Delivered ``fulfilled``)."""
    missing_products: Literal["wait", "description_line"] = "wait"
    """CS-Cart -> Zoho, a line whose product is not in Zoho yet: ``wait`` (the order waits in quarantine until the
    products sync links the product) or ``description_line`` (the order goes now, that line as a free-text line
    with the product's name, price and quantity; it gets its item when the product is linked)."""
    sales_orders_in: Literal["inventory", "books", "crm"] = "inventory"
    """CS-Cart -> Zoho target: Zoho Inventory sales orders, Zoho Books sales orders (the same organisation:
    contacts are shared; Books' ``open`` is Inventory's ``confirmed``, so ``order_status_map`` keeps Inventory's
    words), or Zoho CRM ``Sales_Orders`` (``crm_order_writer``: Subject ``CSC-<id>``, the customer's CRM contact,
    CRM Products found or created; Inventory's words become CRM's Created / Approved /
    Cancelled). Zoho -> CS-Cart reads the sales orders through the same app (an organisation without Inventory has no
    Inventory API): Books' ``open`` and CRM's Created / Approved / Delivered / Cancelled read in Inventory's words."""
    multivendor_carts: Literal["vendor_orders", "parent_order"] = "vendor_orders"
    """CS-Cart -> Zoho, a Multi-Vendor cart split into vendor orders: send each ``vendor_orders`` (default), or
    the cart's ``parent_order`` once (whole-store tenants; see the module docstring)."""
    notify_user: bool = False
    notify_department: bool = False
    notify_vendor: bool = False
    """E-mails CS-Cart sends when the sync sets an imported order's status (none by default)."""

    @field_validator("export_statuses")
    @classmethod
    def _known_letters(cls, value: list[str] | None) -> list[str] | None:
        unknown = [letter for letter in value or [] if not re.fullmatch(r"[A-Z]", letter)]
        if unknown:
            raise ValueError(f"CS-Cart order statuses are single capital letters ({', '.join(CSCART_STATUSES)}...)")
        return value

    @model_validator(mode="after")
    def _parent_orders_need_the_whole_store(self, info: ValidationInfo) -> OrdersSettings:
        tenant = (info.context or {}).get("tenant")
        if self.multivendor_carts == "parent_order" and getattr(tenant, "company_id", None) is not None:
            raise ValueError(
                "multivendor_carts: parent_order needs a whole-store tenant; a vendor tenant (company_id "
                f"{tenant.company_id}) sends its own vendor orders only"  # type: ignore[union-attr]
            )
        return self


ADDRESS_FIELDS = {
    "attention": ("firstname", "lastname"),
    "address": ("address",),
    "street2": ("address_2",),
    "city": ("city",),
    "state": ("state",),
    "zip": ("zipcode",),
    "country": ("country",),
    "phone": ("phone",),
}
"""Zoho contact address field -> CS-Cart order profile fields (after the ``b_`` / ``s_`` prefix)."""


def _addresses(row: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The order's billing (``b_*``) and shipping (``s_*``) addresses in Zoho's contact-address shape."""
    return {
        kind: {
            field: " ".join(str(row.get(prefix + part) or "").strip() for part in parts).strip()
            for field, parts in ADDRESS_FIELDS.items()
        }
        for kind, prefix in (("billing_address", "b_"), ("shipping_address", "s_"))
    }


def _link_flags(link: RecordLink | None) -> frozenset[str]:
    return frozenset(link.flags) if link is not None else frozenset()


def _lookup_id(value: Any) -> str | None:
    """The id of a CRM lookup (``{"name", "id"}``), or None."""
    found = value.get("id") if isinstance(value, Mapping) else None
    return str(found) if found not in (None, "") else None


class OrdersQuirks(EntityQuirks):
    """What orders needs beyond its declaration (see the module docstring)."""

    creates_on_resolve = frozenset({CONTACTS_NAMESPACE})

    def __init__(self, run: Any) -> None:
        super().__init__(run)
        self._contacts: InventoryContacts | None = None
        self._users: ListedAlongside | None = None
        self._carts_read: set[str] = set()
        self._crm_contacts: dict[str, dict[str, Any]] = {}
        self._crm_product_codes: dict[str, str | None] = {}
        self._cscart_by_code: dict[str, str | None] = {}

    def source_pages(self, stream: StreamSpec, pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        if stream.system == "zoho_crm":
            return self._crm_orders(pages)
        if stream.system != "cscart":
            return pages
        return self._carts(stream, pages)

    # -- CRM sales orders (sales_orders_in: crm) -------------------------------------------------------------
    def _crm_orders(self, pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        """CRM sales orders as staged (the extract task; the map task reads them): with their contact's e-mail and
        names (``_contact``), as a lookup carries only name and id, the contacts of a page read with one COQL per
        50 (once per run each); and each line's product with its ``Product_Code`` when it is not linked yet (read
        alike), for :meth:`_crm_product`."""
        for page in pages:
            contact_ids = {
                contact_id
                for contact_id in (_lookup_id(row.get("Contact_Name")) for row in page)
                if contact_id is not None and contact_id not in self._crm_contacts
            }
            for contact in self._crm_select("id, Email, First_Name, Last_Name", "Contacts", sorted(contact_ids)):
                self._crm_contacts[str(contact["id"])] = {
                    key: contact.get(key) for key in ("Email", "First_Name", "Last_Name")
                }
            self._learn_product_codes(page)
            yield [
                {
                    **row,
                    CRM_CONTACT: self._crm_contacts.get(_lookup_id(row.get("Contact_Name")) or "") or {},
                    "Ordered_Items": [self._with_code(line) for line in row.get("Ordered_Items") or []],
                }
                for row in page
            ]

    def _with_code(self, line: Any) -> Any:
        product = line.get("Product_Name") if isinstance(line, Mapping) else None
        code = self._crm_product_codes.get(_lookup_id(product) or "")
        if not isinstance(product, Mapping) or not code or product.get("Product_Code"):
            return line
        return {**line, "Product_Name": {**product, "Product_Code": code}}

    def _learn_product_codes(self, page: list[dict[str, Any]]) -> None:
        """Product_Code of the CRM Products on the page's lines that are neither linked nor known yet: from the
        line's lookup when CRM gives it there, else one COQL per 50."""
        wanted: set[str] = set()
        for row in page:
            for line in row.get("Ordered_Items") or []:
                product = line.get("Product_Name") if isinstance(line, Mapping) else None
                product_id = _lookup_id(product)
                if product_id is None or product_id in self._crm_product_codes:
                    continue
                if isinstance(product, Mapping) and product.get("Product_Code"):
                    self._crm_product_codes[product_id] = str(product["Product_Code"])
                else:
                    wanted.add(product_id)
        if not wanted:
            return
        store, tenant = self.run.store, self.run.tenant_id
        linked = store.get_links(tenant, CRM_PRODUCTS, zoho_ids=sorted(wanted))
        unknown = sorted(i for i in wanted if i not in linked or linked[i].deleted_at is not None)
        for product in self._crm_select("id, Product_Code", "Products", unknown):
            self._crm_product_codes[str(product["id"])] = str(product.get("Product_Code") or "").strip() or None

    def _crm_select(self, columns: str, module: str, ids: list[str]) -> Iterator[dict[str, Any]]:
        for start in range(0, len(ids), COQL_IN_MAX):
            chunk = ids[start : start + COQL_IN_MAX]
            literals = ", ".join("'" + value.replace("'", "''") + "'" for value in chunk)
            body = self.run.zoho.crm_coql(f"select {columns} from {module} where id in ({literals}) limit 200")
            yield from (body or {}).get("data") or []

    def _crm_product(self, row: Mapping[str, Any], crm_product_id: str) -> str | None:
        """The CS-Cart product of a CRM Product on ``row``'s lines: the ``crm_products`` link the CRM target keeps,
        else the CS-Cart product whose code is the CRM Product's ``Product_Code`` (a product made in CRM by
        people); None: the order waits until one exists."""
        linked = self.resolve_id(CRM_PRODUCTS, crm_product_id)
        if linked is not None:
            return linked
        for line in row.get("Ordered_Items") or []:
            product = line.get("Product_Name") if isinstance(line, Mapping) else None
            if _lookup_id(product) == crm_product_id and isinstance(product, Mapping):
                code = str(product.get("Product_Code") or "").strip()
                return self._cscart_product_with_code(code) if code else None
        return None

    def _cscart_product_with_code(self, code: str) -> str | None:
        """The CS-Cart product with exactly this code (``pcode`` matches a substring: the answer is checked), the
        oldest of several; once per code and run."""
        if code not in self._cscart_by_code:
            wanted = code.casefold()
            matches = [
                str(product["product_id"])
                for page in self.run.cscart.pages("products", params={"pcode": code}, items_per_page=50)
                for product in page
                if str(product.get("product_code") or "").strip().casefold() == wanted
            ]
            if len(matches) > 1:
                log.warning("%s: CS-Cart products %s share code %r; using the oldest", self.run.label, matches, code)
            self._cscart_by_code[code] = min(matches, key=int) if matches else None
        return self._cscart_by_code[code]

    def _carts(self, stream: StreamSpec, pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        """Vendor orders and parent orders as ``multivendor_carts`` says (a cart read once per run)."""
        whole_carts = self.settings.multivendor_carts == "parent_order"
        for page in pages:
            rows: list[dict[str, Any]] = []
            for row in page:
                is_parent = str(row.get("is_parent_order") or "N") == "Y"
                parent_id = str(row.get("order_id") if is_parent else row.get("parent_order_id") or "0")
                if not is_parent and (parent_id == "0" or not whole_carts):
                    rows.append(row)
                    continue
                if parent_id in self._carts_read:
                    continue
                self._carts_read.add(parent_id)
                vendor_orders = self._vendor_orders(stream, parent_id)
                if not whole_carts:
                    rows.extend(vendor_orders)  # a parent asked for by id: its vendor orders go
                    continue
                parent = row if is_parent else self.run.cscart.get(stream.resource, parent_id)
                if parent is None:
                    log.warning("%s: parent order %s of order %s not found", self.run.label, parent_id, row["order_id"])
                    continue
                rows.append(self._whole_cart(parent, vendor_orders))
            if rows:
                yield rows

    def _vendor_orders(self, stream: StreamSpec, parent_id: str) -> list[dict[str, Any]]:
        params = {**stream.read_params, "parent_order_id": parent_id}
        return [
            row for page in self.run.cscart.pages(stream.resource, params=params, items_per_page=100) for row in page
        ]

    def _whole_cart(self, parent: Mapping[str, Any], vendor_orders: list[dict[str, Any]]) -> dict[str, Any]:
        """The parent order as sent: its status from its vendor orders' (see ``CART_STATUS_RANK``)."""
        statuses = [str(row.get("status")) for row in sorted(vendor_orders, key=lambda r: int(r["order_id"]))]
        table = self.run.mapping(Direction.CSCART_TO_ZOHO, "inventory_salesorders").value_maps[
            "cscart_order_status_to_zoho"
        ]
        best: tuple[int, str] | None = None
        for letter in statuses:
            known, zoho_status = table.lookup(letter)
            if not known:
                best = (99, letter)  # an unmapped letter: the mapping names it and the cart is refused
                break
            rank = CART_STATUS_RANK.get(str(zoho_status), -1)
            if best is None or rank > best[0]:
                best = (rank, letter)
        stamps = [int(row.get("updated_at") or 0) for row in vendor_orders] + [int(parent.get("updated_at") or 0)]
        return {
            **parent,
            "status": best[1] if best else str(parent.get("status")),
            "vendor_order_statuses": {str(row["order_id"]): str(row.get("status")) for row in vendor_orders},
            "updated_at": str(max(stamps)),
        }

    @property
    def settings(self) -> OrdersSettings:
        settings = self.run.settings
        assert isinstance(settings, OrdersSettings)
        return settings

    def flags(self, stream: StreamSpec, route: str | None) -> frozenset[str]:
        return frozenset({FROM_CSCART if self.run.direction is Direction.CSCART_TO_ZOHO else FROM_ZOHO})

    def create_only_fields(self, target: TargetSpec) -> frozenset[str]:
        if target.system != "cscart":
            return frozenset()
        # An imported order is created once; then only its status (an action) follows Zoho: a full PUT would
        # recalculate the order and replace its lines.
        mapping = self.run.mapping(self.run.direction, target.mapping or self._source_mapping)
        return frozenset(field.target.split(".", 1)[0] for field in mapping.fields if not field.is_action) | {
            "products"
        }

    @property
    def _source_mapping(self) -> str:
        """The Zoho -> CS-Cart mapping variant of the tenant's sales-order app."""
        return {"books": "books_salesorders", "crm": "crm_salesorders"}.get(
            self.settings.sales_orders_in, "inventory_salesorders"
        )

    def resolver_for(self, stream: StreamSpec, row: Mapping[str, Any]) -> IdResolver:
        # A skipped order never gets here (listed_skip decides before mapping): what is resolved is for real.
        def resolve(entity: str, source_id: str) -> str | None:
            if entity == CONTACTS_NAMESPACE:
                return self._contact_of(row, source_id)
            if entity == "customers" and self.run.direction is Direction.ZOHO_TO_CSCART:
                if stream.system == "zoho_crm":
                    # A CRM contact the customers sync linked is that CS-Cart customer, whatever its e-mail.
                    return self.resolve_id(entity, source_id) or self._cscart_user_of(row)
                return self._cscart_user_of(row)
            if entity == CRM_PRODUCTS:
                return self._crm_product(row, source_id)
            linked = self.resolve_id(entity, source_id)
            if linked is None and entity == "products" and self._free_lines:
                return f"{FREE_LINE}{source_id}"  # the writer sends it as a line without item
            return linked

        return resolve

    @property
    def _api(self) -> FinanceApi:
        return BOOKS if self.settings.sales_orders_in == "books" else INVENTORY

    def _contact_of(self, row: Mapping[str, Any], email: str) -> str | None:
        if self._contacts is None:
            store, tenant, direction = self.run.store, self.run.tenant_id, self.run.direction.value

            def linked(key: str) -> str | None:
                link = store.get_link(tenant, CONTACTS_NAMESPACE, cscart_id=key)
                return link.zoho_id if link is not None and link.deleted_at is None else None

            def remember(key: str, contact_id: str) -> None:
                link = store.get_link(tenant, CONTACTS_NAMESPACE, cscart_id=key)
                if link is not None and link.zoho_id == contact_id:
                    return
                store.record_write(
                    tenant,
                    CONTACTS_NAMESPACE,
                    direction,
                    source_id=key,
                    target_id=contact_id,
                    target_hash=content_hash({"email": key}),  # what identifies the contact here
                    echo_hash=None,
                    natural_keys={"email": key},
                    flags=None,
                    run_id=self.run.ctx.run_id,
                )

            self._contacts = InventoryContacts(
                self.run.zoho, linked, remember, dry_run=self.run.ctx.dry_run, api=self._api
            )
        first = str(row.get("b_firstname") or row.get("firstname") or "").strip()
        last = str(row.get("b_lastname") or row.get("lastname") or "").strip()
        return self._contacts.contact_for(email, f"{first} {last}".strip(), _addresses(row))

    @property
    def _free_lines(self) -> bool:
        return self.run.direction is Direction.CSCART_TO_ZOHO and self.settings.missing_products == "description_line"

    def _cscart_user_of(self, row: Mapping[str, Any]) -> str:
        """The CS-Cart customer with the sales order's e-mail, else ``"0"`` (a guest order with that e-mail). The
        customer list is read alongside the e-mail look-ups (a store with few customers: one call in all)."""
        email = str(row.get("email") or (row.get(CRM_CONTACT) or {}).get("Email") or "").strip().casefold()
        if not email:
            return "0"
        if self._users is None:
            self._users = ListedAlongside(
                list_pages=lambda: self.run.cscart.pages(
                    "users", params={**CUSTOMERS, "sort_by": "id", "sort_order": "asc"}, items_per_page=LIST_PAGE
                ),
                lookup=self._cscart_user_lookup,
                key_of=lower_email,
                id_of=lambda user: str(user["user_id"]),
            )
        return self._users.find(email) or "0"

    def _cscart_user_lookup(self, email: str) -> str | None:
        matches = [
            str(user["user_id"])
            for page in self.run.cscart.pages("users", params={**CUSTOMERS, "email": email}, items_per_page=50)
            for user in page
            if lower_email(user) == email
        ]
        return min(matches, key=int) if matches else None

    def _inventory_word(self, stream: StreamSpec, status: str) -> str:
        """A Books or CRM sales-order status in Inventory's words (settings and run options use them)."""
        if stream.system not in STATUS_WORDS:
            return status
        variant, table_name = STATUS_WORDS[stream.system]
        table = self.run.mapping(Direction.ZOHO_TO_CSCART, variant).value_maps[table_name]
        known, word = table.lookup(status)
        return str(word) if known else status

    def listed_skip(self, stream: StreamSpec, row: Mapping[str, Any], link: RecordLink | None) -> str | None:
        # Decided on status, reference and link alone, before mapping: a skipped order resolves nothing (no contact,
        # customer or product is looked up or created for it, an unknown product does not keep it waiting), and
        # a sales order whose list row says it is skipped is not read whole (a CRM window's COQL selects Status and
        # Subject for this). A row without them cannot tell: its whole record decides.
        if stream.system == "zoho_crm" and CRM_STATUS_FIELD not in row and CRM_REFERENCE_FIELD not in row:
            return None
        return self._skip(stream, row, link)

    def _skip(self, stream: StreamSpec, row: Mapping[str, Any], link: RecordLink | None) -> str | None:
        flags = _link_flags(link)
        crm = stream.system == "zoho_crm"
        status = str(row.get(CRM_STATUS_FIELD if crm else "status") or "")
        # Settings and run options use Inventory's words; Books says "open" for "confirmed", CRM "Approved".
        word = self._inventory_word(stream, status)
        chosen = self.run.ctx.options.get(ORDER_STATUSES) or []
        if chosen and status not in chosen and word not in chosen:
            return f"status {status!r} is not among this run's order_statuses ({', '.join(chosen)})"
        if self.run.direction is Direction.CSCART_TO_ZOHO:
            if FROM_ZOHO in flags:
                return f"imported from Zoho sales order {link.zoho_id if link else '?'}; Zoho is its master"
            parent_id = str(row.get("parent_order_id") or "0")
            if link is None and parent_id != "0":
                # A sales order imported with several vendors' products became a parent order (the link) plus
                # these vendor orders: they are that sales order, not new ones.
                cart = self.run.store.get_link(self.run.tenant_id, ENTITY, cscart_id=parent_id)
                if FROM_ZOHO in _link_flags(cart):
                    zoho_id = cart.zoho_id if cart else "?"
                    return f"vendor order of CS-Cart order {parent_id}, imported from Zoho sales order {zoho_id}"
            wanted = self.settings.export_statuses
            if link is None and wanted is not None and str(row.get("status")) not in wanted:
                return f"status {row.get('status')!r} is not in entities.orders.settings.export_statuses"
            return None
        if FROM_CSCART in flags:
            return f"sent from CS-Cart order {link.cscart_id if link else '?'}; CS-Cart is its master"
        if link is None:
            reference = str(row.get(CRM_REFERENCE_FIELD if crm else "reference_number") or "")
            if CSCART_REFERENCE.match(reference.strip()):
                return f"sales order {reference} was made from a CS-Cart order whose link is not confirmed yet"
            if word not in self.settings.import_statuses:
                return f"status {status!r} is not in entities.orders.settings.import_statuses"
        return None


ORDERS = EntitySpec(
    entity=ENTITY,
    settings_model=OrdersSettings,
    quirks="zoho_cscart_sync.pipelines.orders:OrdersQuirks",
    # Dashboard: CS-Cart orders in the tenant's scope (parents hidden), and Zoho sales orders (counted at full reads).
    counts=CountsSpec(cscart_stream="orders", zoho_streams=("salesorders", "books_salesorders", "crm_salesorders")),
    directions=(
        DirectionSpec(
            direction=Direction.ZOHO_TO_CSCART,
            overridable="inventory_salesorders",
            streams=(
                StreamSpec(
                    name="salesorders",
                    system="zoho_inventory",
                    resource="salesorders",
                    id_field="salesorder_id",
                    mapping="inventory_salesorders",
                    window="finance_modified",
                    full_records=True,
                    enabled_when=("sales_orders_in", "inventory"),
                ),
                # The same organisation's sales orders through Books (sales_orders_in: books): an organisation
                # without Zoho Inventory has no Inventory API to read them from.
                StreamSpec(
                    name="books_salesorders",
                    system="zoho_books",
                    resource="salesorders",
                    id_field="salesorder_id",
                    mapping="books_salesorders",
                    window="finance_modified",
                    full_records=True,
                    enabled_when=("sales_orders_in", "books"),
                ),
                # CRM Sales_Orders (sales_orders_in: crm): a CRM-only organisation has no Inventory. The window's
                # ids by keyset COQL, each order read whole by id (COQL cannot select line items).
                StreamSpec(
                    name="crm_salesorders",
                    system="zoho_crm",
                    resource="Sales_Orders",
                    id_field="id",
                    mapping="crm_salesorders",
                    window="crm_coql",
                    full_records=True,
                    list_fields=(CRM_STATUS_FIELD, CRM_REFERENCE_FIELD),
                    enabled_when=("sales_orders_in", "crm"),
                ),
            ),
            targets=(
                TargetSpec(
                    name="cscart_orders",
                    system="cscart",
                    resource="orders",
                    match_key="order_ref",
                    write="create_then_adopt",
                ),
            ),
        ),
        DirectionSpec(
            direction=Direction.CSCART_TO_ZOHO,
            overridable="inventory_salesorders",
            streams=(
                StreamSpec(
                    name="orders",
                    system="cscart",
                    resource="orders",
                    id_field="order_id",
                    mapping="inventory_salesorders",
                    window="cscart_updated_at",
                    read_params={"get_orders_data": 1},
                ),
            ),
            targets=(
                TargetSpec(
                    name="inventory_salesorders",
                    system="zoho_inventory",
                    resource="salesorders",
                    match_key="order_ref",
                    write="find_then_create",
                    enabled_when=("sales_orders_in", "inventory"),
                ),
                # The same orders as Zoho Books sales orders instead (entities.orders.settings.sales_orders_in).
                TargetSpec(
                    name="books_salesorders",
                    system="zoho_books",
                    resource="salesorders",
                    match_key="order_ref",
                    write="find_then_create",
                    mapping="books_salesorders",
                    enabled_when=("sales_orders_in", "books"),
                ),
                # Zoho CRM Sales_Orders instead: 100 orders a /upsert call matched on Subject (crm_order_writer).
                TargetSpec(
                    name="crm_sales_orders",
                    system="zoho_crm",
                    resource="Sales_Orders",
                    match_key="order_ref",
                    write="batch_upsert",
                    mapping="crm_salesorders",
                    enabled_when=("sales_orders_in", "crm"),
                ),
            ),
        ),
    ),
)

PIPELINE = SpecPipeline(ORDERS)
