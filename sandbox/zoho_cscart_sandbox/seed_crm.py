"""Seed records of the Zoho CRM modules (Accounts, Contacts, Leads, Products, Sales_Orders)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from zoho_cscart_sandbox import names
from zoho_cscart_sandbox.clock import (
    crm_datetime,
    finance_date,
)
from zoho_cscart_sandbox.credentials import ZohoAppCredentials
from zoho_cscart_sandbox.lazy import MISSING, LazyTable, Record
from zoho_cscart_sandbox.seed_common import (
    SHARED_CUSTOMER_EMAIL,
    SHARED_INBOX,
    SKU_CLASH,
    TENANT_DOMAINS,
    email_local,
    person,
    rng_for,
    seed_created,
    seed_modified,
)

CRM_MODULE_DIGIT = {"Accounts": "1", "Contacts": "2", "Leads": "3", "Products": "4", "Sales_Orders": "5"}
CRM_MODULE_SCALE_KEY = {
    "Accounts": "crm_accounts",
    "Contacts": "crm_contacts",
    "Leads": "crm_leads",
    "Products": "crm_products",
    "Sales_Orders": "crm_sales_orders",
}
CRM_SALES_ORDER_STATUSES = ("Created", "Approved", "Delivered", "Cancelled")


@dataclass(frozen=True)
class CrmContext:
    creds: ZohoAppCredentials
    seed: int
    counts: Mapping[str, int]

    @property
    def tenant(self) -> str:
        return self.creds.tenant

    @property
    def offset(self) -> int:
        return self.creds.utc_offset_minutes

    def record_id(self, module: str, index: int) -> str:
        return f"{self.creds.crm_id_prefix}000{CRM_MODULE_DIGIT[module]}{index:08d}"

    def index_of(self, module: str, record_id: str) -> int | None:
        prefix = f"{self.creds.crm_id_prefix}000{CRM_MODULE_DIGIT[module]}"
        if len(record_id) != 19 or not record_id.startswith(prefix) or not record_id[len(prefix) :].isdigit():
            return None
        return int(record_id[len(prefix) :])

    @property
    def owner(self) -> dict[str, str]:
        return {
            "name": "Sandbox Admin",
            "id": f"{self.creds.crm_id_prefix}000000000001",
            "email": f"crm-admin@{TENANT_DOMAINS[self.tenant]}",
        }

    def count(self, module: str) -> int:
        return self.counts[CRM_MODULE_SCALE_KEY[module]]

    def system_fields(self, module: str, index: int) -> Record:
        count = self.count(module)
        owner = self.owner
        return {
            "id": self.record_id(module, index),
            "Owner": owner,
            "Created_By": {"name": owner["name"], "id": owner["id"], "email": owner["email"]},
            "Modified_By": {"name": owner["name"], "id": owner["id"], "email": owner["email"]},
            "Created_Time": crm_datetime(seed_created(index, count), self.offset),
            "Modified_Time": crm_datetime(seed_modified(index, count), self.offset),
            "Tag": [],
            "$approved": True,
            "$editable": True,
            "$state": "save",
            "$approval_state": "approved",
            "$currency_symbol": "$",
        }

    # Accounts ---------------------------------------------------------------------------------
    def account_name(self, index: int) -> str:
        roots = {
            "acme_store": ("Acme Holdings", "Acme Europe", "Acme Berlin GmbH", "Ünïcødé Trading 🚀 Ltd"),
            "northwind_vendor": (
                "Northwind Group",
                "Northwind Retail",
                "Northwind Café Østergade",
                "Nørd Ħandel 🛒",
            ),
        }.get(self.tenant)
        if roots is None:  # a generated tenant: the same three-level hierarchy and a Unicode name
            label = self.tenant.replace("_", " ").title()
            roots = (f"{label} Holdings", f"{label} Europe", f"{label} Berlin GmbH", f"{label} Ünïcødé 🚀")
        if index < len(roots):
            return roots[index]
        rng = rng_for(self.seed, self.tenant, "account", index)
        return f"{rng.choice(names.COMPANY_WORDS)} {rng.choice(names.COMPANY_KINDS)} {index}"

    def account_parent_index(self, index: int) -> int | None:
        if index in (1, 2):
            return index - 1
        if index >= 4 and index % 3 == 0:
            return index // 3  # always a lower index, so the parent exists
        return None

    def build_account(self, index: int) -> Record:
        rng = rng_for(self.seed, self.tenant, "account-body", index)
        city, state, country, zipcode = rng.choice(names.CITIES)
        parent = self.account_parent_index(index)
        record = self.system_fields("Accounts", index)
        record.update(
            {
                "Account_Name": self.account_name(index),
                "Parent_Account": None
                if parent is None
                else {"name": self.account_name(parent), "id": self.record_id("Accounts", parent)},
                "Account_Type": rng.choice(("Customer", "Reseller", "Partner")),
                "Phone": f"+1 555 {rng.randint(1000, 9999)}",
                "Website": None,
                "Billing_Street": f"{rng.randint(1, 200)} {rng.choice(names.STREETS)}",
                "Billing_City": city,
                "Billing_State": state,
                "Billing_Code": zipcode,
                "Billing_Country": country,
                "Shipping_Street": None,
                "Shipping_City": None,
                "Shipping_State": None,
                "Shipping_Code": None,
                "Shipping_Country": None,
                "Description": None,
            }
        )
        return record

    # Contacts ---------------------------------------------------------------------------------
    def contact_identity(self, index: int) -> tuple[str, str, str | None, str | None, int | None, random.Random]:
        """Name, e-mail, description, account index (and the rng, for the rest of the record)."""
        rng = rng_for(self.seed, self.tenant, "contact", index)
        domain = TENANT_DOMAINS[self.tenant]
        first, last = person(rng)
        email: str | None = f"{email_local(first, last, index)}@{domain}"
        description: str | None = None
        accounts = self.count("Accounts")
        account_index: int | None = None if index % 5 == 4 or accounts == 0 else index % accounts
        if index == 0:
            first, last, email, account_index = (
                "Jane",
                "Doe",
                f"jane.doe@{domain}",
                2 if accounts > 2 else None,
            )
        elif index == 1:
            first, last, email = "Nomail", "Person", None
        elif index in (2, 3):
            first, last = ("Order", "Desk") if index == 2 else ("Accounts", "Payable")
            email = SHARED_INBOX[self.tenant]
        elif index == 4:
            first, last, email = "Zoë", "Ångström 🚀", f"zoe.angstrom@{domain}"
        elif index == 5:
            first, last, email = "小龙", "李", f"li.xiaolong@{domain}"
        elif index == 6:
            first, last, email = "Hannah", "Markup", f"hannah.markup@{domain}"
            description = (
                '<p>Prefers <b>express</b> shipping &amp; gift wrap.<br/><a href="https://x.example">x</a></p>'
            )
        elif index == 7:
            first, last = "María", "García"
            email = SHARED_CUSTOMER_EMAIL if self.tenant == "acme_store" else f"maria.garcia@{domain}"
        return first, last, email, description, account_index, rng

    def build_contact(self, index: int) -> Record:
        first, last, email, description, account_index, rng = self.contact_identity(index)
        city, state, country, zipcode = rng.choice(names.CITIES)
        record = self.system_fields("Contacts", index)
        record.update(
            {
                "First_Name": first,
                "Last_Name": last,
                "Full_Name": f"{first} {last}",
                "Email": email,
                "Secondary_Email": None,
                "Phone": None if index % 7 == 3 else f"+1 555 01{index % 100:02d}",
                "Mobile": None,
                # Standard Contacts fields (zoho_api.md 2.10) the shipped mapping reads; empty in the seed.
                "Home_Phone": None,
                "Other_Phone": None,
                "Date_of_Birth": None,
                "Account_Name": None
                if account_index is None
                else {
                    "name": self.account_name(account_index),
                    "id": self.record_id("Accounts", account_index),
                },
                "Mailing_Street": f"{rng.randint(1, 300)} {rng.choice(names.STREETS)}",
                "Mailing_City": city,
                "Mailing_State": state,
                "Mailing_Zip": zipcode,
                "Mailing_Country": country,
                "Description": description,
                "Email_Opt_Out": False,
                "Lead_Source": rng.choice(("Web Download", "Online Store", "Partner", None)),
            }
        )
        return record

    # Leads ------------------------------------------------------------------------------------
    def build_lead(self, index: int) -> Record:
        rng = rng_for(self.seed, self.tenant, "lead", index)
        first, last = person(rng)
        email: str | None = f"lead.{email_local(first, last, index)}@{TENANT_DOMAINS[self.tenant]}"
        if index == 1:
            email = None
        if index == 2:
            first, last = "Émilie", "Čapek 🌸"
        record = self.system_fields("Leads", index)
        record.update(
            {
                "First_Name": first,
                "Last_Name": last,
                "Full_Name": f"{first} {last}",
                "Email": email,
                "Company": f"{rng.choice(names.COMPANY_WORDS)} {rng.choice(names.COMPANY_KINDS)}",
                "Lead_Status": rng.choice(("Not Contacted", "Contacted", "Qualified")),
                "Phone": None,
                "Description": None,
            }
        )
        return record

    def peek(self, module: str, index: int, name: str) -> Any:
        """Fields used for duplicate checks, computed without building the record."""
        if module == "Contacts" and name == "Secondary_Email":
            return None
        if module == "Contacts" and name in ("Email", "First_Name", "Last_Name"):
            first, last, email, *_rest = self.contact_identity(index)
            return {"Email": email, "First_Name": first, "Last_Name": last}[name]
        if module == "Accounts" and name == "Account_Name":
            return self.account_name(index)
        if module == "Products" and name == "Product_Code":
            return self.crm_product_code(index)
        if module == "Products" and name == "Product_Name":
            return self.crm_product_name(index)
        if module == "Sales_Orders" and name == "Subject":
            return f"SO {self.tenant} {index:05d}"
        return MISSING

    # Products ---------------------------------------------------------------------------------
    def crm_product_code(self, index: int) -> str | None:
        if index == 1:
            return None
        if index == 2:
            return SKU_CLASH[self.tenant]
        return f"{self.creds.crm_id_prefix[:3]}-P-{index:05d}"

    def crm_product_name(self, index: int) -> str:
        rng = rng_for(self.seed, self.tenant, "crm-product", index)
        return f"{rng.choice(names.PRODUCT_ADJECTIVES)} {rng.choice(names.PRODUCT_NOUNS)} #{index}"

    def crm_product_price(self, index: int) -> float:
        rng = rng_for(self.seed, self.tenant, "crm-product-price", index)
        return round(rng.uniform(3, 250), 2)

    def build_product(self, index: int) -> Record:
        rng = rng_for(self.seed, self.tenant, "crm-product-body", index)
        record = self.system_fields("Products", index)
        record.update(
            {
                "Product_Name": self.crm_product_name(index),
                "Product_Code": self.crm_product_code(index),
                "Product_Active": index != 3,
                "Unit_Price": self.crm_product_price(index),
                "Qty_in_Stock": float(rng.randint(0, 500)),
                "Product_Category": rng.choice(("Apparel", "Home", "Electronics")),
                "Description": "<ul><li>100% <em>cotton</em></li><li>Machine wash</li></ul>" if index == 4 else None,
                "Taxable": True,
                "Manufacturer": None,
            }
        )
        return record

    # Sales orders -----------------------------------------------------------------------------
    def build_sales_order(self, index: int) -> Record:
        rng = rng_for(self.seed, self.tenant, "crm-so", index)
        accounts, contacts, products = self.count("Accounts"), self.count("Contacts"), self.count("Products")
        items: list[Record] = []
        for line in range(1 + index % 3):
            product_index = (index * 3 + line) % max(products, 1)
            quantity = float(1 + (index + line) % 4)
            price = self.crm_product_price(product_index)
            items.append(
                {
                    "id": f"{self.creds.crm_id_prefix}0009{index:06d}{line:02d}",
                    "Product_Name": {
                        "name": self.crm_product_name(product_index),
                        "id": self.record_id("Products", product_index),
                    },
                    "Quantity": quantity,
                    "List_Price": price,
                    "Discount": 0.0,
                    "Total": round(quantity * price, 2),
                    "Net_Total": round(quantity * price, 2),
                    "Description": None,
                    "Line_Tax": [],
                }
            )
        sub_total = round(sum(item["Total"] for item in items), 2)
        record = self.system_fields("Sales_Orders", index)
        record.update(
            {
                "Subject": f"SO {self.tenant} {index:05d}",
                "SO_Number": f"{index + 1:06d}",
                "Status": CRM_SALES_ORDER_STATUSES[index % len(CRM_SALES_ORDER_STATUSES)],
                "Account_Name": {
                    "name": self.account_name(index % accounts),
                    "id": self.record_id("Accounts", index % accounts),
                }
                if accounts
                else None,
                "Contact_Name": {
                    "name": self.build_contact(index % contacts)["Full_Name"],
                    "id": self.record_id("Contacts", index % contacts),
                }
                if contacts
                else None,
                "Ordered_Items": items,
                "Sub_Total": sub_total,
                "Grand_Total": sub_total,
                "Discount": 0.0,
                "Tax": 0.0,
                "Adjustment": 0.0,
                "Due_Date": finance_date(seed_modified(index, self.count("Sales_Orders")) + timedelta(days=14), 0),
                "Billing_Street": None,
                "Billing_City": rng.choice(names.CITIES)[0],
                "Billing_State": None,
                "Billing_Code": None,
                "Billing_Country": None,
                "Purchase_Order": None,
                "Description": None,
            }
        )
        return record


def crm_tables(creds: ZohoAppCredentials, seed: int, counts: Mapping[str, int]) -> dict[str, LazyTable]:
    """The five CRM modules of one Zoho account."""
    ctx = CrmContext(creds, seed, counts)
    builders = {
        "Accounts": ctx.build_account,
        "Contacts": ctx.build_contact,
        "Leads": ctx.build_lead,
        "Products": ctx.build_product,
        "Sales_Orders": ctx.build_sales_order,
    }
    tables: dict[str, LazyTable] = {}
    for module, build in builders.items():
        count = ctx.count(module)
        tables[module] = LazyTable(
            name=f"{creds.tenant}:{module}",
            base_count=count,
            build=build,
            id_of=lambda i, m=module: ctx.record_id(m, i),
            index_of=lambda rid, m=module: ctx.index_of(m, rid),
            base_modified=lambda i, c=count: seed_modified(i, c),
            peek=lambda i, name, m=module: ctx.peek(m, i, name),
        )
    return tables
