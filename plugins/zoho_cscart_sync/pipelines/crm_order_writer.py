"""CS-Cart orders -> Zoho CRM ``Sales_Orders`` (``entities.orders.settings.sales_orders_in: crm``).

**One upsert per 100 orders.** A sales order's ``Subject`` is ``CSC-<order id>``, and ``Subject`` is one of the
system duplicate-check fields CRM's upsert takes for ``Sales_Orders`` (zoho_api.md 2.6), so the orders of a batch go
in one ``POST /crm/v8/Sales_Orders/upsert`` with ``duplicate_check_fields: ["Subject"]``: an order already in CRM is
updated, never created twice, and a batch whose answer was lost is sent once more at once (the upsert matches what
the lost call created). A linked order carries its CRM ``id``.

**Products.** A CRM line's ``Product_Name`` is a lookup to CRM ``Products`` (no sync here keeps CRM Products:
products go to Inventory items). Per batch: the CS-Cart product ids the lines name are read from the ID map
(namespace ``crm_products``: CS-Cart product id -> CRM product id); the others are searched by ``Product_Code`` (the
CS-Cart product code; ``CSC-P<product id>`` for a product without code, so it can be found again) with one COQL
``in (...)`` per 50 codes, and those CRM does not have are inserted, 100 a call. An org where ``Product_Code`` is
unique answers a duplicate with its holder, which is adopted; an insert whose answer is lost is searched for again
before anything is sent twice. Every product found or created is remembered, so later orders cost nothing.

**Contact.** ``Contact_Name`` is the customer's CRM contact: a registered customer's link in the customers ID map
when it is a CRM *contact* (not a lead, not an account), else the CRM contact with the order's e-mail (ID map
``crm_order_contacts``, then one COQL per 50 e-mails, the oldest when several share it), else one created by an
upsert on ``Email`` (guests too: idempotent, 100 a call). An order without e-mail and without a linked contact goes
without ``Contact_Name``.

**Lines on update.** CRM keeps a line by its id: a line sent without ``id`` on an update is a new line (zoho_api.md
2.10; the exact v8 semantics are marked U, so the writer never relies on "replace all"). Updating a linked order
reads it first (one GET) and, when its lines differ from the wanted ones, sends each wanted line with the id of the
line at its position and ``_delete`` for the lines left over; when they are equal (a status change) the lines are
not sent at all.

**Tax.** A CRM line tax (``Line_Tax``) names a tax configured in the CRM org, which no tenant map here knows: the
tax CS-Cart adds to the order (``tax_subtotal``, shipping tax included) is added to the ``Adjustment`` (which holds
the shipping cost), so CRM's ``Grand_Total`` is CS-Cart's total.

The payload's ``$``-fields are the writer's own (the mapping's ``custom`` targets): ``$email``, ``$customer``,
``$first_name``, ``$last_name``, ``$tax`` and, per line, ``$product_id``, ``$product_code``, ``$product_name``;
they become ``Contact_Name``, the ``Adjustment`` and ``Product_Name``, and are never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from zoho_cscart_sync.http.errors import AmbiguousWriteError
from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.writer import RecordRejected, SinglesThroughBatch, UpsertItem, UpsertOutcome

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.zoho import WriteResult, ZohoHook
    from zoho_cscart_sync.kit.context import EntityRun

log = logging.getLogger(__name__)

SALES_ORDERS = "Sales_Orders"
PRODUCTS = "Products"
CONTACTS = "Contacts"
SUBJECT = "Subject"
ORDER_REF = "order_ref"
CRM_PRODUCTS = "crm_products"
"""ID map of CRM Products made or found for order lines: CS-Cart side the product id."""
CRM_ORDER_CONTACTS = "crm_order_contacts"
"""ID map of CRM contacts found or created for orders by e-mail: CS-Cart side the lower-cased e-mail."""
CUSTOMERS = "customers"
NOT_CONTACT_FLAGS = frozenset({"crm_lead", "crm_account"})
"""Customers-link flags whose CRM record is not a contact (a lead, or an account imported from CRM)."""
BATCH = 100
COQL_IN_MAX = 50
"""Values one COQL ``in (...)`` takes."""
NO_CODE_PREFIX = "CSC-P"
LINE_KEYS = ("Quantity", "List_Price", "Discount", "Description", "Line_Tax")
"""Line fields compared with the order's current lines (besides the product) to decide whether lines are sent."""


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _chunks(values: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def product_code(line: Mapping[str, Any]) -> str:
    """The CRM ``Product_Code`` of a line's product: its CS-Cart code, else ``CSC-P<product id>``."""
    code = str(line.get("$product_code") or "").strip()
    return code or f"{NO_CODE_PREFIX}{line.get('$product_id')}"


@dataclass
class IdMap:
    """The sync state's ID map for one namespace (CS-Cart key -> CRM id), read in bulk, written per record."""

    linked: Callable[[str, list[str]], dict[str, str]]
    remember: Callable[[str, str, str], None]
    """``remember(namespace, cscart key, crm id)``."""
    customer_contacts: Callable[[list[str]], dict[str, str]]
    """CS-Cart user ids -> their CRM contact id in the customers ID map (contacts only)."""


@dataclass
class CrmSalesOrderWriter(SinglesThroughBatch):
    """Batch upsert of CRM ``Sales_Orders`` with their products and contacts (see the module docstring)."""

    hook: ZohoHook
    ids: IdMap
    max_batch_size: int = BATCH
    label: str = f"zoho /crm/v8/{SALES_ORDERS}"
    products_found: int = 0
    products_created: int = 0
    contacts_created: int = 0
    _product_ids: dict[str, str] = field(default_factory=dict)
    _contact_ids: dict[str, str] = field(default_factory=dict)

    # -- the load loop's calls ---------------------------------------------------------------------------
    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        """Dry runs only (a real run lets the upsert match): the CRM sales order with this Subject."""
        if key_kind != ORDER_REF:
            return None
        body = self.hook.crm_coql(
            f"select id, Subject from {SALES_ORDERS} where Subject = {_literal(key_value)} limit 2"
        )
        rows = [row for row in (body or {}).get("data") or [] if str(row.get(SUBJECT) or "") == key_value]
        if len(rows) > 1:
            raise RecordRejected(
                f"several Zoho CRM sales orders ({', '.join(str(r['id']) for r in rows)}) have Subject {key_value!r}",
                field=SUBJECT,
            )
        return str(rows[0]["id"]) if rows else None

    def upsert_batch(self, items: Sequence[UpsertItem]) -> Sequence[UpsertOutcome]:
        refused: dict[int, UpsertOutcome] = {}
        products = self._products(items, refused)
        contacts = self._contacts([item for n, item in enumerate(items) if n not in refused])
        records: list[dict[str, Any]] = []
        sent: list[int] = []
        for n, item in enumerate(items):
            if n in refused:
                continue
            try:
                records.append(self._record(item, products, contacts))
            except RecordRejected as exc:
                refused[n] = UpsertOutcome(item.source_id, "rejected", reason=exc.reason, field=exc.field)
                continue
            sent.append(n)
        results: list[WriteResult] = []
        if records:
            try:
                results = self.hook.crm_upsert(SALES_ORDERS, records, duplicate_check_fields=[SUBJECT])
            except AmbiguousWriteError:
                # Matched on Subject: sending the same batch again updates what the lost call may have created.
                log.warning("%s: upsert answer lost; sending the batch of %d again", self.label, len(records))
                results = self.hook.crm_upsert(SALES_ORDERS, records, duplicate_check_fields=[SUBJECT])
        by_index = dict(zip(sent, results, strict=True))
        outcomes: list[UpsertOutcome] = []
        for n, item in enumerate(items):
            if n in refused:
                outcomes.append(refused[n])
                continue
            result = by_index[n]
            if result.ok and result.id:
                action: Literal["created", "updated"] = "created" if result.action == "insert" else "updated"
                outcomes.append(UpsertOutcome(item.source_id, action, target_id=result.id))
                continue
            details = result.details if isinstance(result.details, Mapping) else {}
            outcomes.append(
                UpsertOutcome(
                    item.source_id,
                    "rejected",
                    reason=f"Zoho CRM Sales_Orders refused the order: {result.code} {result.message} {dict(details)}",
                    field=str(details.get("api_name")) if details.get("api_name") else None,
                )
            )
        return outcomes

    def close(self) -> None:
        """Nothing held."""

    # -- one record ------------------------------------------------------------------------------------
    def _record(self, item: UpsertItem, products: Mapping[str, str], contacts: Mapping[str, str]) -> dict[str, Any]:
        record = {key: value for key, value in item.payload.items() if not key.startswith("$")}
        tax = _number(item.payload.get("$tax"))
        if tax:
            # The order's tax, which CRM line taxes cannot carry (the mapping's comment): in the Adjustment.
            record["Adjustment"] = round(_number(record.get("Adjustment")) + tax, 2)
        contact = contacts.get(item.source_id)
        if contact:
            record["Contact_Name"] = {"id": contact}
        lines = [
            {
                **{key: value for key, value in line.items() if not key.startswith("$")},
                "Product_Name": {"id": products[str(line["$product_id"])]},
            }
            for line in item.payload.get("Ordered_Items") or []
        ]
        record["Ordered_Items"] = lines
        if item.target_id:
            record["id"] = item.target_id
            current = self.hook.crm_get(SALES_ORDERS, item.target_id)
            if current is None:
                raise RecordRejected(
                    f"Zoho CRM sales order {item.target_id} linked to this order no longer exists (or the tenant "
                    "switched sales_orders_in and the link is another app's); reset the sync of this record to "
                    "create it again",
                    field="id",
                )
            old = [row for row in current.get("Ordered_Items") or [] if isinstance(row, Mapping)]
            if _same_lines(old, lines):
                del record["Ordered_Items"]
            else:
                record["Ordered_Items"] = [
                    {**line, "id": str(old[n]["id"])} if n < len(old) and old[n].get("id") else line
                    for n, line in enumerate(lines)
                ] + [{"id": str(row["id"]), "_delete": None} for row in old[len(lines) :] if row.get("id")]
        return record

    # -- products --------------------------------------------------------------------------------------
    def _products(self, items: Sequence[UpsertItem], refused: dict[int, UpsertOutcome]) -> dict[str, str]:
        """CS-Cart product id -> CRM product id for every line of the batch (found or created; see the docstring).
        Orders with a product CRM refused are put in ``refused``."""
        wanted: dict[str, dict[str, Any]] = {}
        for item in items:
            for line in item.payload.get("Ordered_Items") or []:
                wanted.setdefault(str(line["$product_id"]), dict(line))
        missing = [pid for pid in wanted if pid not in self._product_ids]
        if missing:
            self._product_ids.update(self.ids.linked(CRM_PRODUCTS, missing))
        missing = [pid for pid in wanted if pid not in self._product_ids]
        problems: dict[str, str] = {}
        if missing:
            by_code: dict[str, list[str]] = {}
            for pid in missing:
                by_code.setdefault(product_code(wanted[pid]), []).append(pid)
            found = self._find_products(list(by_code))
            self.products_found += len(found)
            to_create = [code for code in by_code if code not in found]
            created, problems = self._create_products(to_create, {code: wanted[by_code[code][0]] for code in to_create})
            for code, crm_id in {**found, **created}.items():
                for pid in by_code[code]:
                    self._product_ids[pid] = crm_id
                    self.ids.remember(CRM_PRODUCTS, pid, crm_id)
            problems = {pid: problems[code] for code, pids in by_code.items() if code in problems for pid in pids}
        for n, item in enumerate(items):
            for line in item.payload.get("Ordered_Items") or []:
                pid = str(line["$product_id"])
                if pid in problems:
                    refused[n] = UpsertOutcome(item.source_id, "rejected", reason=problems[pid], field="Product_Name")
                    break
        return dict(self._product_ids)

    def _find_products(self, codes: list[str]) -> dict[str, str]:
        """Product_Code -> CRM product id (the oldest when several share a code), one COQL per 50 codes."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(codes), COQL_IN_MAX):
            values = ", ".join(_literal(code) for code in chunk)
            query = f"select id, Product_Code from {PRODUCTS} where Product_Code in ({values}) limit 2000"
            for row in (self.hook.crm_coql(query) or {}).get("data") or []:
                code, crm_id = str(row.get("Product_Code") or ""), str(row["id"])
                if code in chunk and (code not in found or int(crm_id) < int(found[code])):
                    found[code] = crm_id
        return found

    def _create_products(
        self, codes: list[str], lines: Mapping[str, Mapping[str, Any]]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Insert the CRM Products of ``codes`` (100 a call): (code -> id, code -> why CRM refused it)."""
        created: dict[str, str] = {}
        problems: dict[str, str] = {}
        for chunk in _chunks(codes, BATCH):
            records = [
                {
                    "Product_Name": str(lines[code].get("$product_name") or code).strip()[:120] or code,
                    "Product_Code": code,
                    "Unit_Price": lines[code].get("List_Price"),
                    "Product_Active": True,
                }
                for code in chunk
            ]
            try:
                results = self.hook.crm_insert(PRODUCTS, records)
            except AmbiguousWriteError:
                found = self._find_products(chunk)  # what the lost call made is found, the rest is sent again
                created.update(found)
                rest = [code for code in chunk if code not in found]
                if rest:
                    results = self.hook.crm_insert(PRODUCTS, [r for r in records if r["Product_Code"] in rest])
                    chunk = rest
                else:
                    continue
            for code, result in zip(chunk, results, strict=True):
                holder = (result.details or {}).get("duplicate_record") if not result.ok else None
                if result.ok and result.id:
                    created[code] = result.id
                    self.products_created += 1
                elif result.code == "DUPLICATE_DATA" and isinstance(holder, Mapping) and holder.get("id"):
                    created[code] = str(holder["id"])  # Product_Code is unique in this org: its holder is ours
                    self.products_found += 1
                else:
                    problems[code] = (
                        f"Zoho CRM refused the product {code!r} of this order: {result.code} {result.message} "
                        f"{dict(result.details or {})}"
                    )
        return created, problems

    # -- contacts --------------------------------------------------------------------------------------
    def _contacts(self, items: Sequence[UpsertItem]) -> dict[str, str]:
        """Order (source id) -> CRM contact id (see the module docstring)."""
        chosen: dict[str, str] = {}
        users = sorted(
            {str(i.payload.get("$customer")) for i in items if str(i.payload.get("$customer") or "0") != "0"}
        )
        by_user = self.ids.customer_contacts(users) if users else {}
        by_email: dict[str, list[UpsertItem]] = {}
        for item in items:
            user = str(item.payload.get("$customer") or "0")
            if user in by_user:
                chosen[item.source_id] = by_user[user]
                continue
            email = str(item.payload.get("$email") or "").strip().casefold()
            if email:
                by_email.setdefault(email, []).append(item)
        emails = [email for email in by_email if email not in self._contact_ids]
        if emails:
            self._contact_ids.update(self.ids.linked(CRM_ORDER_CONTACTS, emails))
        emails = [email for email in by_email if email not in self._contact_ids]
        if emails:
            found = self._find_contacts(emails)
            for email, crm_id in found.items():
                self._remember_contact(email, crm_id)
            new = [email for email in emails if email not in found]
            for chunk in _chunks(new, BATCH):
                records = [_contact_record(email, by_email[email][0].payload) for email in chunk]
                results = self.hook.crm_upsert(CONTACTS, records, duplicate_check_fields=["Email"])
                for email, result in zip(chunk, results, strict=True):
                    if result.ok and result.id:
                        self.contacts_created += result.action == "insert"
                        self._remember_contact(email, result.id)
                    else:
                        log.warning(
                            "%s: CRM refused the contact of %s: %s %s", self.label, email, result.code, result.message
                        )
        for email, orders in by_email.items():
            for item in orders:
                if email in self._contact_ids:
                    chosen[item.source_id] = self._contact_ids[email]
        return chosen

    def _remember_contact(self, email: str, crm_id: str) -> None:
        self._contact_ids[email] = crm_id
        self.ids.remember(CRM_ORDER_CONTACTS, email, crm_id)

    def _find_contacts(self, emails: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(emails), COQL_IN_MAX):
            values = ", ".join(_literal(email) for email in chunk)
            body = self.hook.crm_coql(f"select id, Email from {CONTACTS} where Email in ({values}) limit 2000")
            for row in (body or {}).get("data") or []:
                email, crm_id = str(row.get("Email") or "").strip().casefold(), str(row["id"])
                if email in chunk and (email not in found or int(crm_id) < int(found[email])):
                    found[email] = crm_id  # several contacts share it: the oldest, the same one every run
        return found


def _contact_record(email: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    first = str(payload.get("$first_name") or "").strip()
    last = str(payload.get("$last_name") or "").strip() or email
    record = {"Email": email, "Last_Name": last}
    if first:
        record["First_Name"] = first
    return record


def _number(value: Any) -> float:
    try:
        return round(float(value or 0), 2)
    except (TypeError, ValueError):
        return 0.0


def _same_lines(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the order's current CRM lines are the wanted ones (product, quantity, price, discount)."""
    if len(old) != len(new):
        return False
    for current, wanted in zip(old, new, strict=True):
        product = current.get("Product_Name")
        if not isinstance(product, Mapping) or str(product.get("id")) != wanted["Product_Name"]["id"]:
            return False
        for key in ("Quantity", "List_Price", "Discount"):
            if key in wanted and _number(current.get(key)) != _number(wanted[key]):
                return False
        if "Description" in wanted and (current.get("Description") or None) != (wanted["Description"] or None):
            return False
    return True


def crm_id_map(store: Any, tenant: str, run_id: str, direction: str = "cscart_to_zoho") -> IdMap:
    """The writer's ID-map access through the sync state store."""

    def linked(namespace: str, keys: list[str]) -> dict[str, str]:
        links = store.get_links(tenant, namespace, cscart_ids=keys)
        return {key: str(link.zoho_id) for key, link in links.items() if link.zoho_id and link.deleted_at is None}

    def remember(namespace: str, key: str, crm_id: str) -> None:
        link = store.get_link(tenant, namespace, cscart_id=key)
        if link is not None and link.zoho_id == crm_id:
            return
        store.record_write(
            tenant,
            namespace,
            direction,
            source_id=key,
            target_id=crm_id,
            target_hash=content_hash({"key": key}),  # what identifies the record here
            echo_hash=None,
            natural_keys=None,
            flags=None,
            run_id=run_id,
        )

    def customer_contacts(user_ids: list[str]) -> dict[str, str]:
        links = store.get_links(tenant, CUSTOMERS, cscart_ids=user_ids)
        return {
            user: str(link.zoho_id)
            for user, link in links.items()
            if link.zoho_id and link.deleted_at is None and not (set(link.flags or ()) & NOT_CONTACT_FLAGS)
        }

    return IdMap(linked, remember, customer_contacts)


def build_crm_sales_order_writer(run: EntityRun) -> CrmSalesOrderWriter:
    """The writer with the run's hook and its ID-map access."""
    return CrmSalesOrderWriter(run.zoho, crm_id_map(run.store, run.tenant_id, run.ctx.run_id, run.direction.value))
