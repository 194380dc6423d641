"""Shared seed machinery: scales, deterministic randomness, seed timestamps, tenant constants."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from zoho_cscart_sandbox import names
from zoho_cscart_sandbox.clock import (
    SEED_NOW,
    SEED_SPAN,
)
from zoho_cscart_sandbox.credentials import generated_company_id, generated_tenant_number

# Default number of records per collection (traps included). `reset(scale=...)` overrides them.
DEFAULT_SCALE: dict[str, int] = {
    "crm_accounts": 30,
    "crm_contacts": 60,
    "crm_leads": 20,
    "crm_products": 40,
    "crm_sales_orders": 30,
    "inventory_items": 80,
    "inventory_contacts": 40,
    "inventory_salesorders": 40,
    "inventory_adjustments": 5,
    "cscart_products": 120,
    "cscart_users": 60,
    "cscart_orders": 80,
}
# Short scale keys: `products` scales the CS-Cart catalogue and each Inventory organisation's items.
SCALE_ALIASES: dict[str, tuple[str, ...]] = {
    "products": ("cscart_products", "inventory_items"),
    "customers": ("cscart_users", "crm_contacts", "inventory_contacts"),
    "orders": ("cscart_orders", "crm_sales_orders", "inventory_salesorders"),
    "contacts": ("crm_contacts", "inventory_contacts"),
    "items": ("inventory_items",),
    "users": ("cscart_users",),
}


class TenantValues(dict[str, Any]):
    """A per-tenant constant: the samples' values, and for a generated tenant (`tenant_<nnn>`) `derive(n)`.

    Iterating, `len` and `.items()` see the samples only, as before generated tenants existed.
    """

    def __init__(self, values: Mapping[str, Any], derive: Callable[[int], Any]) -> None:
        super().__init__(values)
        self._derive = derive

    def __missing__(self, tenant: str) -> Any:
        number = generated_tenant_number(tenant)
        if number is None:
            raise KeyError(tenant)
        return self._derive(number)


# The traps each collection contains in the default seed (index -> what it reproduces).
TENANT_DOMAINS = TenantValues(
    {"acme_store": "example.com", "northwind_vendor": "example.org"}, lambda n: f"tenant-{n:03d}.example"
)
# An e-mail that is both a CRM contact / Inventory contact of acme_store and a CS-Cart customer.
SHARED_CUSTOMER_EMAIL = "maria.garcia@example.com"
SHARED_INBOX = TenantValues(
    {
        "acme_store": "orders@acme-shared.example.com",
        "northwind_vendor": "office@northwind-shared.example.org",
    },
    lambda n: f"orders@shared.tenant-{n:03d}.example",
)
# Inventory SKU trap of each tenant == code of a CS-Cart product of that tenant's vendor (a generated
# tenant's vendor has no products: its trap SKU is its own).
SKU_CLASH = TenantValues({"acme_store": "CSC-000001", "northwind_vendor": "CSC-000003"}, lambda n: f"GEN-{n:03d}-SKU")
CSCART_VENDOR_OF_TENANT = TenantValues({"acme_store": 1, "northwind_vendor": 2}, generated_company_id)


def resolve_scale(scale: Mapping[str, int] | None) -> dict[str, int]:
    """Default counts overridden by `scale` (aliases expanded, explicit keys win over aliases)."""
    resolved = dict(DEFAULT_SCALE)
    if not scale:
        return resolved
    for key, value in scale.items():
        if key in SCALE_ALIASES:
            for target in SCALE_ALIASES[key]:
                resolved[target] = int(value)
    for key, value in scale.items():
        if key in DEFAULT_SCALE:
            resolved[key] = int(value)
        elif key not in SCALE_ALIASES:
            raise ValueError(f"unknown scale key {key!r}; known: {sorted(DEFAULT_SCALE) + sorted(SCALE_ALIASES)}")
    return resolved


def rng_for(seed: int, *parts: object) -> random.Random:
    """A Random seeded from the record's identity: same seed + same index -> same record, on any machine."""
    digest = hashlib.blake2b(":".join(str(p) for p in (seed, *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def pick(seed: int, *parts: object) -> int:
    """A cheap deterministic integer for (seed, parts) - for fields computed 300,000 times."""
    digest = hashlib.blake2b(":".join(str(p) for p in (seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def seed_modified(index: int, count: int) -> datetime:
    """Non-decreasing in the index: spread over SEED_SPAN before SEED_NOW, whole seconds."""
    step = SEED_SPAN.total_seconds() * (index + 1) / (count + 1)
    return SEED_NOW - SEED_SPAN + timedelta(seconds=int(step))


def seed_created(index: int, count: int) -> datetime:
    step = timedelta(days=60).total_seconds() * index / max(count, 1)
    return SEED_NOW - SEED_SPAN - timedelta(days=60) + timedelta(seconds=int(step))


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)


def email_local(first: str, last: str, index: int) -> str:
    ascii_name = f"{first}.{last}".encode("ascii", "ignore").decode().lower().replace("'", "")
    return f"{ascii_name}.{index}"
