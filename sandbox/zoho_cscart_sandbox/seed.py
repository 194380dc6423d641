"""Deterministic seed data for the sandbox: built by index on demand, traps at fixed low indexes.

Every collection is a `LazyTable`: record `i` is computed from (seed, tenant, collection, i), so a
scale of 300,000 products costs no memory until pages are read. The first records of each
collection are the traps real stores have (see `TRAPS`); the rest is generated.

Public helpers for golden tests (no HTTP): `zoho_contacts(tenant)`, `zoho_accounts(tenant)`,
`zoho_leads(tenant)`, `zoho_products(tenant)`, `zoho_sales_orders(tenant)`, `inventory_items(tenant)`,
`inventory_contacts(tenant)`, `inventory_salesorders(tenant)`, `books_contacts(tenant)`,
`cscart_products()`, `cscart_users()`, `cscart_orders()`, `cscart_categories()`, `cscart_vendors()`.
Each returns the records of the default seed in the API's read shape.
"""

from __future__ import annotations

from zoho_cscart_sandbox.credentials import zoho_creds
from zoho_cscart_sandbox.lazy import LazyTable, Record
from zoho_cscart_sandbox.seed_common import (
    CSCART_VENDOR_OF_TENANT,
    DEFAULT_SCALE,
    SCALE_ALIASES,
    SHARED_CUSTOMER_EMAIL,
    SHARED_INBOX,
    SKU_CLASH,
    TENANT_DOMAINS,
    pick,
    resolve_scale,
    rng_for,
    seed_created,
    seed_modified,
)
from zoho_cscart_sandbox.seed_crm import CRM_SALES_ORDER_STATUSES, CrmContext, crm_tables
from zoho_cscart_sandbox.seed_cscart import (
    CSCART_CATEGORIES,
    CSCART_LISTED_STATUSES,
    CSCART_PAYMENTS,
    CSCART_SHIPPINGS,
    CSCART_STATUSES,
    CSCART_TAXES,
    CSCART_VENDORS,
    CscartContext,
    category_record,
    cscart_tables,
    vendor_record,
)
from zoho_cscart_sandbox.seed_finance import INVENTORY_SO_STATUSES, FinanceContext, finance_tables

__all__ = [
    "CRM_SALES_ORDER_STATUSES",
    "CSCART_CATEGORIES",
    "CSCART_LISTED_STATUSES",
    "CSCART_PAYMENTS",
    "CSCART_SHIPPINGS",
    "CSCART_STATUSES",
    "CSCART_TAXES",
    "CSCART_VENDORS",
    "CSCART_VENDOR_OF_TENANT",
    "DEFAULT_SCALE",
    "INVENTORY_SO_STATUSES",
    "SCALE_ALIASES",
    "SHARED_CUSTOMER_EMAIL",
    "SHARED_INBOX",
    "SKU_CLASH",
    "TENANT_DOMAINS",
    "TRAPS",
    "CrmContext",
    "CscartContext",
    "FinanceContext",
    "books_contacts",
    "category_record",
    "crm_tables",
    "cscart_categories",
    "cscart_orders",
    "cscart_products",
    "cscart_tables",
    "cscart_users",
    "cscart_vendors",
    "finance_tables",
    "inventory_adjustments",
    "inventory_contacts",
    "inventory_items",
    "inventory_salesorders",
    "pick",
    "resolve_scale",
    "rng_for",
    "seed_created",
    "seed_modified",
    "vendor_record",
    "zoho_accounts",
    "zoho_contacts",
    "zoho_leads",
    "zoho_products",
    "zoho_sales_orders",
]

TRAPS: dict[str, dict[int, str]] = {
    "crm_accounts": {
        0: "hierarchy root",
        1: "hierarchy level 2",
        2: "hierarchy level 3",
        3: "Unicode/emoji name",
    },
    "crm_contacts": {
        0: "linked to a level-3 account",
        1: "no e-mail",
        2: "shares an e-mail with index 3",
        3: "shares an e-mail with index 2",
        4: "Unicode/emoji name",
        5: "CJK name",
        6: "HTML description",
        7: "e-mail that is also a CS-Cart customer",
    },
    "crm_products": {
        1: "no Product_Code",
        2: "code that is a CS-Cart product code",
        3: "inactive",
        4: "HTML",
    },
    "inventory_items": {
        0: "goods with SKU",
        1: "no SKU",
        2: "SKU that already exists as a CS-Cart product code",
        3: "inactive",
        4: "service (no stock fields)",
        5: "HTML description",
        6: "Unicode/emoji name",
    },
    "inventory_contacts": {
        1: "no e-mail",
        2: "shares an e-mail with index 3",
        3: "shares an e-mail",
        4: "Unicode",
    },
    "cscart_products": {
        0: "code equal to the acme_store Inventory SKU trap",
        2: "vendor 2 code equal to the northwind_vendor Inventory SKU trap",
        3: "no product code",
        4: "disabled (D)",
        5: "hidden (H)",
        6: "negative stock",
        7: "stock not tracked (tracking D)",
        8: "Unicode name + HTML description",
    },
    "cscart_users": {0: "root admin", 1: "vendor admin company 1", 2: "vendor admin company 2"},
    # Statuses cycle O P C F D B I Y by index; company 2 when index % 4 == 3; notes with an emoji when
    # index % 10 == 5; the first customers are María García and Zoë Ångström.
    "cscart_orders": {
        8: "multi-vendor parent order (T, hidden from lists)",
        9: "sub-order of 8, vendor 1",
        10: "sub-order of 8, vendor 2",
        11: "incomplete order (N, hidden unless include_incompleted=1)",
        12: "guest order (user_id 0)",
        13: "product discount on a line + an order-level subtotal_discount",
        14: "VAT tax line (taxes keyed by tax_id, tax on products and shipping)",
        16: "a line whose product has no product code (no Zoho counterpart by SKU)",
        17: "Unicode billing/shipping address and notes",
    },
    "inventory_salesorders": {
        4: "Unicode notes and a Unicode customer",
        6: 'confirmed, reference_number "CSC-<CS-Cart order_id>" (acme_store: CSC-3, northwind_vendor: CSC-4)',
    },
}


# ---------------------------------------------------------------------------------------------
# Helpers for golden tests: the default seed's records, no HTTP.
# ---------------------------------------------------------------------------------------------
def _all(table: LazyTable) -> list[Record]:
    return list(table.iter_records())


def _crm(tenant: str, module: str, seed: int) -> list[Record]:
    return _all(crm_tables(zoho_creds(tenant), seed, resolve_scale(None))[module])


def _finance(tenant: str, kind: str, seed: int) -> list[Record]:
    return _all(finance_tables(zoho_creds(tenant), seed, resolve_scale(None))[kind])


def zoho_accounts(tenant: str, seed: int = 0) -> list[Record]:
    return _crm(tenant, "Accounts", seed)


def zoho_contacts(tenant: str, seed: int = 0) -> list[Record]:
    return _crm(tenant, "Contacts", seed)


def zoho_leads(tenant: str, seed: int = 0) -> list[Record]:
    return _crm(tenant, "Leads", seed)


def zoho_products(tenant: str, seed: int = 0) -> list[Record]:
    return _crm(tenant, "Products", seed)


def zoho_sales_orders(tenant: str, seed: int = 0) -> list[Record]:
    return _crm(tenant, "Sales_Orders", seed)


def inventory_items(tenant: str, seed: int = 0) -> list[Record]:
    return _finance(tenant, "items", seed)


def inventory_contacts(tenant: str, seed: int = 0) -> list[Record]:
    return _finance(tenant, "contacts", seed)


def books_contacts(tenant: str, seed: int = 0) -> list[Record]:
    """Books and Inventory are one finance platform: an organisation's contacts are shared."""
    return _finance(tenant, "contacts", seed)


def inventory_salesorders(tenant: str, seed: int = 0) -> list[Record]:
    return _finance(tenant, "salesorders", seed)


def inventory_adjustments(tenant: str, seed: int = 0) -> list[Record]:
    return _finance(tenant, "inventoryadjustments", seed)


def _public_user(record: Record) -> Record:
    return {k: v for k, v in record.items() if not k.startswith("_") and k != "profile_id"}


def cscart_products(seed: int = 0) -> list[Record]:
    return _all(cscart_tables(seed, resolve_scale(None))["products"])


def cscart_users(seed: int = 0) -> list[Record]:
    return [_public_user(u) for u in _all(cscart_tables(seed, resolve_scale(None))["users"])]


def cscart_orders(seed: int = 0) -> list[Record]:
    return _all(cscart_tables(seed, resolve_scale(None))["orders"])


def cscart_categories() -> list[Record]:
    return [category_record(cid, parent, name) for cid, parent, name in CSCART_CATEGORIES]


def cscart_vendors() -> list[Record]:
    return [vendor_record(v) for v in CSCART_VENDORS]
