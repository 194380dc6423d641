"""Seed records of a Zoho Inventory/Books organisation (items, contacts, sales orders, adjustments)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zoho_cscart_sandbox import names
from zoho_cscart_sandbox.clock import (
    finance_datetime,
)
from zoho_cscart_sandbox.credentials import ZohoAppCredentials
from zoho_cscart_sandbox.lazy import MISSING, LazyTable, Record
from zoho_cscart_sandbox.seed_common import (
    SHARED_CUSTOMER_EMAIL,
    SHARED_INBOX,
    SKU_CLASH,
    TENANT_DOMAINS,
    TenantValues,
    email_local,
    person,
    rng_for,
    seed_created,
    seed_modified,
)

FINANCE_KIND_DIGIT = {
    "items": "1",
    "contacts": "2",
    "salesorders": "3",
    "inventoryadjustments": "4",
    "persons": "5",
}

INVENTORY_SO_STATUSES = ("draft", "confirmed", "void", "closed", "fulfilled")
FINANCE_TAX_DIGIT = "9"
"""Kind digit of the organisation's tax ids (``<prefix>009<index>``, the same 19-digit shape as other ids)."""


def organisation_taxes(creds: ZohoAppCredentials) -> dict[str, Record]:
    """The organisation's taxes by tax_id (Settings > Taxes): one 10 % VAT, the rate of the CS-Cart seed's VAT.

    A sales-order line's ``tax_id`` must be one of these (finance_records.build_salesorder); the tax on a line is
    its ``item_total`` times the rate. Fixed, not scaled, not writable through the API (the sync never creates
    taxes: tenants map CS-Cart tax ids to these, ``defaults.zoho_tax_map``).
    """
    tax_id = f"{creds.finance_id_prefix}00{FINANCE_TAX_DIGIT}{1:08d}"
    return {tax_id: {"tax_id": tax_id, "tax_name": "VAT", "tax_percentage": 10.0, "tax_type": "tax"}}


# Sales order index 6 (confirmed) carries the reference the orders pipeline writes: "CSC-<CS-Cart order_id>",
# for a seed CS-Cart order of the tenant's vendor (order 3: vendor 1, status C; order 4: vendor 2, status F).
SO_FROM_CSCART_INDEX = 6
SO_FROM_CSCART_ORDER = TenantValues({"acme_store": 3, "northwind_vendor": 4}, lambda n: 100_000 + n)
SO_UNICODE_NOTES_INDEX = 4


@dataclass(frozen=True)
class FinanceContext:
    creds: ZohoAppCredentials
    seed: int
    counts: Mapping[str, int]

    @property
    def tenant(self) -> str:
        return self.creds.tenant

    @property
    def offset(self) -> int:
        return self.creds.utc_offset_minutes

    def finance_id(self, kind: str, index: int) -> str:
        # 19-digit string ids (they exceed 2^53: JSON clients must keep them as strings).
        return f"{self.creds.finance_id_prefix}00{FINANCE_KIND_DIGIT[kind]}{index:08d}"

    def index_of(self, kind: str, record_id: str) -> int | None:
        prefix = f"{self.creds.finance_id_prefix}00{FINANCE_KIND_DIGIT[kind]}"
        if len(record_id) != 19 or not record_id.startswith(prefix) or not record_id[len(prefix) :].isdigit():
            return None
        return int(record_id[len(prefix) :])

    def stamps(self, kind_key: str, index: int) -> dict[str, str]:
        count = self.counts[kind_key]
        return {
            "created_time": finance_datetime(seed_created(index, count), self.offset),
            "last_modified_time": finance_datetime(seed_modified(index, count), self.offset),
        }

    # Items ------------------------------------------------------------------------------------
    def item_name(self, index: int) -> str:
        if index == 6:
            return "Café Crème ☕ Mug — “Limited”"
        if index == 4:
            return "Gift Wrapping Service"
        rng = rng_for(self.seed, self.tenant, "item", index)
        return f"{rng.choice(names.PRODUCT_ADJECTIVES)} {rng.choice(names.PRODUCT_NOUNS)} {index}"

    def item_sku(self, index: int) -> str:
        if index in (1, 4):
            return ""  # no SKU (index 4 is a service)
        if index == 2:
            return SKU_CLASH[self.tenant]
        return f"{self.tenant[:2].upper()}-SKU-{index:06d}"

    def item_rate(self, index: int) -> float:
        rng = rng_for(self.seed, self.tenant, "item-rate", index)
        return round(rng.uniform(2, 300), 2)

    def build_item(self, index: int) -> Record:
        rng = rng_for(self.seed, self.tenant, "item-body", index)
        is_service = index == 4 or (index > 10 and index % 23 == 0)
        rate = self.item_rate(index)
        record: Record = {
            "item_id": self.finance_id("items", index),
            "name": self.item_name(index),
            "item_name": self.item_name(index),
            "sku": self.item_sku(index),
            "unit": "pcs",
            "status": "inactive" if index == 3 or (index > 10 and index % 17 == 0) else "active",
            "source": "user",
            "item_type": "sales" if is_service else "inventory",
            "product_type": "service" if is_service else "goods",
            "rate": rate,
            "purchase_rate": round(rate * 0.55, 2),
            "description": "<p><strong>Handmade</strong> &amp; fair-trade<br>Dishwasher safe</p>" if index == 5 else "",
            "is_taxable": True,
            "tax_id": "",
            "tax_name": "",
            "tax_percentage": 0,
            "brand": "",
            "manufacturer": "",
            "part_number": "",
            "has_attachment": False,
            "image_name": "",
            "image_type": "",
            "is_linked_with_zohocrm": False,
            "zcrm_product_id": "",
            "custom_fields": [],
            **self.stamps("inventory_items", index),
        }
        if not is_service:
            stock = float(rng.randint(0, 400))
            record.update(
                {
                    "track_inventory": True,
                    "stock_on_hand": stock,
                    "available_stock": stock,
                    "actual_available_stock": stock,
                }
            )
        return record

    # Contacts ---------------------------------------------------------------------------------
    def contact_identity(self, index: int) -> tuple[str, str, str, str, random.Random]:
        """First/last name, e-mail, company (and the rng, for the rest of the record)."""
        rng = rng_for(self.seed, self.tenant, "fin-contact", index)
        domain = TENANT_DOMAINS[self.tenant]
        first, last = person(rng)
        email = f"{email_local(first, last, index)}@{domain}"
        company = ""
        if index == 0:
            first, last, email, company = "Jane", "Doe", f"jane.doe@{domain}", "Acme Berlin GmbH"
        elif index == 1:
            first, last, email = "Nomail", "Customer", ""
        elif index in (2, 3):
            first, last = ("Order", "Desk") if index == 2 else ("Accounts", "Payable")
            email = SHARED_INBOX[self.tenant]
        elif index == 4:
            first, last, email = "Zoë", "Ångström 🚀", f"zoe.angstrom@{domain}"
        elif index == 5:
            first, last = "María", "García"
            email = SHARED_CUSTOMER_EMAIL if self.tenant == "acme_store" else f"maria.garcia@{domain}"
        return first, last, email, company, rng

    def contact_name(self, index: int) -> str:
        first, last, _email, company, _rng = self.contact_identity(index)
        if company:
            return company
        # Contact names are unique per organisation (creates with a taken name are rejected).
        return f"{first} {last}" if index < 6 else f"{first} {last} {index}"

    def build_contact(self, index: int) -> Record:
        first, last, email, company, rng = self.contact_identity(index)
        city, state, country, zipcode = rng.choice(names.CITIES)
        address = {
            "attention": f"{first} {last}",
            "address": f"{rng.randint(1, 300)} {rng.choice(names.STREETS)}",
            "street2": "",
            "city": city,
            "state": state,
            "zip": zipcode,
            "country": country,
            "phone": "",
            "fax": "",
        }
        contact_name = self.contact_name(index)
        persons = [
            {
                "contact_person_id": self.finance_id("persons", index),
                "salutation": "",
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": f"+1 555 02{index % 100:02d}",
                "mobile": "",
                "is_primary_contact": True,
            }
        ]
        return {
            "contact_id": self.finance_id("contacts", index),
            "contact_name": contact_name,
            "company_name": company,
            "contact_type": "customer",
            "customer_sub_type": "business" if company else "individual",
            "status": "inactive" if index > 5 and index % 13 == 0 else "active",
            "payment_terms": 0,
            "payment_terms_label": "Due on Receipt",
            "currency_id": f"{self.creds.finance_id_prefix}00000000001",
            "currency_code": "USD",
            "currency_symbol": "$",
            # Integers per the OAS (it types these amounts as integer).
            "outstanding_receivable_amount": 0,
            "unused_credits_receivable_amount": 0,
            "is_linked_with_zohocrm": False,
            "website": "",
            "notes": "",
            "billing_address": address,
            "shipping_address": dict(address),
            "contact_persons": persons,
            "custom_fields": [],
            **self.stamps("inventory_contacts", index),
        }

    def peek(self, kind: str, index: int, name: str) -> Any:
        """Fields used for uniqueness checks, computed without building the record."""
        if kind == "items" and name == "sku":
            return self.item_sku(index)
        if kind == "items" and name == "name":
            return self.item_name(index)
        if kind == "contacts" and name == "contact_name":
            return self.contact_name(index)
        if kind == "salesorders" and name == "salesorder_number":
            return f"SO-{index + 1:05d}"
        if kind == "salesorders" and name == "reference_number":
            return self.so_reference(index)
        if kind == "contacts" and name == "email":
            # The primary contact person's e-mail (list rows show it as `email`; GET /contacts?email= reads it).
            return self.contact_identity(index)[2]
        return MISSING

    def so_reference(self, index: int) -> str:
        if index == SO_FROM_CSCART_INDEX:
            return f"CSC-{SO_FROM_CSCART_ORDER[self.tenant]}"
        return f"CSC-ORDER-{1000 + index}" if index % 4 == 1 else ""

    # Sales orders -----------------------------------------------------------------------------
    def build_salesorder(self, index: int) -> Record:
        items, contacts = self.counts["inventory_items"], self.counts["inventory_contacts"]
        contact = self.build_contact(index % max(contacts, 1))
        lines: list[Record] = []
        for line in range(1 + index % 3):
            item_index = (index * 2 + line) % max(items, 1)
            if item_index == 4:  # keep the service item out of goods orders except on purpose
                item_index = (item_index + 1) % max(items, 1)
            quantity = float(1 + (index + line) % 3)
            rate = self.item_rate(item_index)
            lines.append(
                {
                    "line_item_id": f"{self.creds.finance_id_prefix}006{index:06d}{line:02d}",
                    "item_id": self.finance_id("items", item_index),
                    "name": self.item_name(item_index),
                    "sku": self.item_sku(item_index),
                    "description": "",
                    "item_order": line,
                    "bcy_rate": rate,
                    "rate": rate,
                    "quantity": quantity,
                    "unit": "pcs",
                    "quantity_invoiced": 0.0,
                    "quantity_packed": 0.0,
                    "quantity_shipped": 0.0,
                    "tax_id": "",
                    "tax_name": "",
                    "tax_type": "tax",
                    "tax_percentage": 0,
                    "discount": 0.0,
                    "item_total": round(rate * quantity, 2),
                    "is_invoiced": False,
                }
            )
        status = INVENTORY_SO_STATUSES[index % len(INVENTORY_SO_STATUSES)]
        total = round(sum(line["item_total"] for line in lines), 2)
        stamps = self.stamps("inventory_salesorders", index)
        return {
            "salesorder_id": self.finance_id("salesorders", index),
            "salesorder_number": f"SO-{index + 1:05d}",
            "reference_number": self.so_reference(index),
            "date": stamps["created_time"][:10],
            "shipment_date": "",
            "status": status,
            "order_status": status,
            "invoiced_status": "not_invoiced",
            "paid_status": "unpaid",
            "shipped_status": "fulfilled" if status in ("fulfilled", "closed") else "pending",
            "customer_id": contact["contact_id"],
            "customer_name": contact["contact_name"],
            "email": contact["contact_persons"][0]["email"],
            "company_name": contact["company_name"],
            "currency_id": contact["currency_id"],
            "currency_code": "USD",
            "currency_symbol": "$",
            "exchange_rate": 1.0,
            "discount": 0.0,
            "discount_amount": 0.0,
            "is_discount_before_tax": True,
            "discount_type": "entity_level",
            "delivery_method": "",
            "line_items": lines,
            "shipping_charge": 0.0,
            "adjustment": 0.0,
            "sub_total": total,
            "tax_total": 0.0,
            "total": total,
            "taxes": [],
            "price_precision": 2,
            "billing_address": contact["billing_address"],
            "shipping_address": contact["shipping_address"],
            "notes": "Geschenkverpackung bitte 🎁 — 请在门口留下" if index == SO_UNICODE_NOTES_INDEX else "",
            "terms": "",
            "sales_channel": "direct_sales",
            "custom_fields": [],
            **stamps,
        }

    # Inventory adjustments --------------------------------------------------------------------
    def build_adjustment(self, index: int) -> Record:
        item_index = (index * 5) % max(self.counts["inventory_items"], 1)
        if item_index == 4:
            item_index = 0
        quantity = float(index + 1) * (-1 if index % 2 else 1)
        stamps = self.stamps("inventory_adjustments", index)
        return {
            "inventory_adjustment_id": self.finance_id("inventoryadjustments", index),
            "date": stamps["created_time"][:10],
            "reason": "Stocktake" if index % 2 == 0 else "Damaged goods",
            "description": "",
            "reference_number": f"REF-IA-{index + 1:05d}",
            "adjustment_type": "quantity",
            "status": "adjusted",
            "total": 0.0,
            "line_items": [
                {
                    "line_item_id": f"{self.creds.finance_id_prefix}007{index:06d}00",
                    "item_id": self.finance_id("items", item_index),
                    "name": self.item_name(item_index),
                    "quantity_adjusted": quantity,
                    "unit": "pcs",
                }
            ],
            **stamps,
        }


FINANCE_SCALE_KEY = {
    "items": "inventory_items",
    "contacts": "inventory_contacts",
    "salesorders": "inventory_salesorders",
    "inventoryadjustments": "inventory_adjustments",
}


def finance_tables(creds: ZohoAppCredentials, seed: int, counts: Mapping[str, int]) -> dict[str, LazyTable]:
    ctx = FinanceContext(creds, seed, counts)
    builders = {
        "items": ctx.build_item,
        "contacts": ctx.build_contact,
        "salesorders": ctx.build_salesorder,
        "inventoryadjustments": ctx.build_adjustment,
    }
    tables: dict[str, LazyTable] = {}
    for kind, build in builders.items():
        count = counts[FINANCE_SCALE_KEY[kind]]
        tables[kind] = LazyTable(
            name=f"{creds.tenant}:{kind}",
            base_count=count,
            build=build,
            id_of=lambda i, k=kind: ctx.finance_id(k, i),
            index_of=lambda rid, k=kind: ctx.index_of(k, rid),
            base_modified=lambda i, c=count: seed_modified(i, c),
            peek=lambda i, name, k=kind: ctx.peek(k, i, name),
        )
    return tables
