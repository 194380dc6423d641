"""Seed records of the CS-Cart Multi-Vendor store (vendors 1 and 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from zoho_cscart_sandbox import names
from zoho_cscart_sandbox.clock import (
    SEED_NOW,
    unix,
)
from zoho_cscart_sandbox.credentials import GeneratedTenants, generated_company_id, generated_vendor_user
from zoho_cscart_sandbox.lazy import MISSING, LazyTable, Record
from zoho_cscart_sandbox.seed_common import (
    SHARED_CUSTOMER_EMAIL,
    email_local,
    person,
    pick,
    rng_for,
    seed_created,
    seed_modified,
)

# CS-Cart order statuses (install data) + Y (call requests add-on). T (parent) and N (incomplete)
# are seeded separately because lists hide them.
CSCART_LISTED_STATUSES = ("O", "P", "C", "F", "D", "B", "I", "Y")
CSCART_CATEGORIES: tuple[tuple[int, int, str], ...] = (
    (1, 0, "Apparel"),
    (2, 1, "T-shirts"),
    (3, 1, "Hoodies"),
    (4, 0, "Home & Kitchen"),
    (5, 4, "Mugs"),
    (6, 0, "Electronics"),
    (7, 6, "Headphones"),
    (8, 0, "Gifts 🎁"),
)
CSCART_VENDORS: tuple[dict[str, Any], ...] = (
    {
        "company_id": 1,
        "company": "Acme Outfitters",
        "email": "owner@acme-outfitters.example",
        "city": "Boston",
        "state": "MA",
        "country": "US",
        "zipcode": "02134",
        "phone": "+1 617 555 0101",
    },
    {
        "company_id": 2,
        "company": "Northwind Traders",
        "email": "api@northwind-traders.example",
        "city": "Pune",
        "state": "MH",
        "country": "IN",
        "zipcode": "411001",
        "phone": "+91 20 5555 0102",
    },
)
CSCART_PAYMENTS: tuple[dict[str, Any], ...] = (
    {"payment_id": "1", "company_id": "0", "payment": "Credit card", "status": "A", "position": "10"},
    {"payment_id": "2", "company_id": "0", "payment": "Phone ordering", "status": "A", "position": "20"},
    {
        "payment_id": "3",
        "company_id": "2",
        "payment": "Cash on delivery (Northwind)",
        "status": "A",
        "position": "30",
    },
)
CSCART_SHIPPINGS: tuple[dict[str, Any], ...] = (
    {
        "shipping_id": "1",
        "company_id": "0",
        "shipping": "Custom shipping method",
        "status": "A",
        "delivery_time": "3-5 days",
        "rate_calculation": "M",
        "position": "0",
    },
    {
        "shipping_id": "2",
        "company_id": "0",
        "shipping": "Courier",
        "status": "A",
        "delivery_time": "1 day",
        "rate_calculation": "M",
        "position": "10",
    },
)
CSCART_TAXES: tuple[dict[str, Any], ...] = (
    {
        "tax_id": "6",
        "tax": "VAT",
        "status": "A",
        "address_type": "S",
        "price_includes_tax": "N",
        "priority": "0",
        "regnumber": "",
        "display_including_tax": "N",
    },
)
# status_id, letter, description, inventory (D decrease / I increase), payment_received
CSCART_STATUSES: tuple[tuple[int, str, str, str, str], ...] = (
    (1, "P", "Paid", "D", "Y"),
    (2, "C", "Complete", "D", "Y"),
    (3, "O", "Open", "D", "N"),
    (4, "F", "Failed", "I", "N"),
    (5, "D", "Declined", "I", "N"),
    (6, "B", "Backordered", "I", "N"),
    (7, "I", "Canceled", "I", "N"),
    (11, "Y", "Awaiting call", "D", "N"),
)


# Order traps at fixed indexes (order_id = index + 1); see TRAPS["cscart_orders"] in seed.py.
ORDER_PARENT, ORDER_CHILDREN, ORDER_INCOMPLETE, ORDER_GUEST = 8, (9, 10), 11, 12
ORDER_DISCOUNT, ORDER_TAX, ORDER_NO_SKU_PRODUCT, ORDER_UNICODE_ADDRESS = 13, 14, 16, 17
NO_SKU_PRODUCT_INDEX = 3  # the catalogue's product without a code: the Zoho side cannot match it by SKU
VAT_RATE = 0.10  # CSCART_TAXES' VAT, 10 % on top of the price (price_includes_tax N)


def generated_vendor(number: int) -> dict[str, Any]:
    """The vendor company of generated tenant n (`reset(tenants=N)`), in the shape of CSCART_VENDORS."""
    return {
        "company_id": generated_company_id(number),
        "company": f"Tenant {number:03d} Traders",
        "email": f"api@tenant-{number:03d}.vendors.example",
        "city": "Springfield",
        "state": "IL",
        "country": "US",
        "zipcode": "62701",
        "phone": f"+1 217 555 {number:04d}",
    }


@dataclass(frozen=True)
class CscartContext:
    seed: int
    counts: Mapping[str, int]
    # Extra vendor companies, each with its vendor administrator and customers, after the seed's users.
    generated: GeneratedTenants = field(default_factory=GeneratedTenants)

    def stamp(self, key: str, index: int) -> tuple[int, int]:
        count = self.counts[key]
        return unix(seed_created(index, count)), unix(seed_modified(index, count))

    # Products ---------------------------------------------------------------------------------
    def product_company(self, index: int) -> int:
        return 2 if index % 3 == 2 else 1

    def product_code(self, index: int) -> str:
        return "" if index == 3 else f"CSC-{index + 1:06d}"

    def product_name(self, index: int) -> str:
        if index == 8:
            return "Crème Brûlée Set 🍮 — “Édition”"
        value = pick(self.seed, "cscart-product", index)
        adjective = names.PRODUCT_ADJECTIVES[value % len(names.PRODUCT_ADJECTIVES)]
        noun = names.PRODUCT_NOUNS[(value >> 16) % len(names.PRODUCT_NOUNS)]
        return f"{adjective} {noun} ({index + 1})"

    def product_price(self, index: int) -> str:
        return f"{2 + pick(self.seed, 'cscart-price', index) % 29800 / 100:.2f}"

    def peek_product(self, index: int, name: str) -> Any:
        """Fields of a seed product computed without building it (sorting/filtering 300,000 is cheap)."""
        if name == "product_id":
            return str(index + 1)
        if name == "product":
            return self.product_name(index)
        if name == "product_code":
            return self.product_code(index)
        if name == "company_id":
            return str(self.product_company(index))
        if name in ("price", "base_price"):
            return self.product_price(index)
        if name == "status":
            return {4: "D", 5: "H"}.get(index, "A")
        if name in ("timestamp", "updated_timestamp"):
            created, updated = self.stamp("cscart_products", index)
            return str(created if name == "timestamp" else updated)
        return MISSING

    def build_product(self, index: int) -> Record:
        rng = rng_for(self.seed, "cscart-product-body", index)
        product_id = index + 1
        created, updated = self.stamp("cscart_products", index)
        category = rng.choice((2, 3, 5, 7, 8))
        amount = rng.randint(0, 300)
        if index == 6:
            amount = -4
        status = {4: "D", 5: "H"}.get(index, "A")
        price = self.product_price(index)
        name = self.product_name(index)
        return {
            "product_id": str(product_id),
            "product": name,
            "product_type": "P",
            "parent_product_id": "0",
            "product_code": self.product_code(index),
            "status": status,
            "company_id": str(self.product_company(index)),
            "list_price": "0.00",
            "amount": str(amount),
            "weight": "0.000",
            "length": "0",
            "width": "0",
            "height": "0",
            "shipping_freight": "0.00",
            "low_avail_limit": "0",
            "timestamp": str(created),
            "updated_timestamp": str(updated),
            "usergroup_ids": "0",
            "is_edp": "N",
            "tracking": "D" if index == 7 else "B",
            "free_shipping": "N",
            "zero_price_action": "R",
            "is_returnable": "Y",
            "avail_since": "0",
            "out_of_stock_actions": "N",
            "min_qty": "0",
            "max_qty": "0",
            "qty_step": "0",
            "list_qty_count": "0",
            "tax_ids": "6",
            "options_type": "P",
            "exceptions_type": "F",
            "details_layout": "default",
            "price": price,
            "base_price": price,
            "category_ids": [category],
            "main_category": category,
            "seo_name": f"product-{product_id}",
            "full_description": '<p>Made with <b>love</b> &amp; butter.</p><script>alert("x")</script>'
            if index == 8
            else f"<p>{name}</p>",
            "short_description": "",
            "product_features": [],
            "variation_features": [],
            "selected_options": [],
            "has_options": False,
            "product_options": [],
            "discounts": {"A": 0, "P": 0},
            "qty_content": [],
        }

    # Users ------------------------------------------------------------------------------------
    def build_user(self, index: int) -> Record:
        from zoho_cscart_sandbox.credentials import CSCART_ADMIN, CSCART_VENDOR_ACME, CSCART_VENDOR_NORTHWIND

        if index >= self.counts["cscart_users"]:
            return self.build_generated_user(index - self.counts["cscart_users"])
        rng = rng_for(self.seed, "cscart-user", index)
        user_id = index + 1
        created, last_login = self.stamp("cscart_users", index)
        first, last = person(rng)
        email = f"{email_local(first, last, index)}@shoppers.example"
        user_type, company_id, is_root, status, phone = "C", 0, "N", "A", f"+1 555 03{index % 100:02d}"
        special = {0: CSCART_ADMIN, 1: CSCART_VENDOR_ACME, 2: CSCART_VENDOR_NORTHWIND}
        if index in special:
            api_user = special[index]
            user_type, company_id, is_root, email = (
                api_user.user_type,
                api_user.company_id,
                "Y",
                api_user.email,
            )
            first, last = ("Store", "Admin") if index == 0 else ("Vendor", "Admin")
        elif index == 3:
            first, last, email = "María", "García", SHARED_CUSTOMER_EMAIL
        elif index == 4:
            first, last, email = "Zoë", "Ångström 🚀", "zoe.angstrom@shoppers.example"
        elif index == 5:
            first, last, phone = "Phoneless", "Shopper", ""
        elif index == 6:
            first, last, status = "Disabled", "Customer", "D"
        elif index == 7:
            first, last, email = "Jane", "Doe", "jane.doe@example.com"
        city, state, country, zipcode = rng.choice(names.CITIES)
        street = f"{rng.randint(1, 300)} {rng.choice(names.STREETS)}"
        profile = {
            "b_firstname": first,
            "b_lastname": last,
            "b_address": street,
            "b_address_2": "",
            "b_city": city,
            "b_county": "",
            "b_state": state,
            "b_country": country,
            "b_zipcode": zipcode,
            "b_phone": phone,
            "s_firstname": first,
            "s_lastname": last,
            "s_address": street,
            "s_address_2": "",
            "s_city": city,
            "s_county": "",
            "s_state": state,
            "s_country": country,
            "s_zipcode": zipcode,
            "s_phone": phone,
            "s_address_type": "",
        }
        company_name = None if company_id == 0 else CSCART_VENDORS[company_id - 1]["company"]
        return {
            "user_id": str(user_id),
            "user_login": f"user_{user_id}",
            "is_root": is_root,
            "timestamp": str(created),
            "user_type": user_type,
            "status": status,
            "firstname": first,
            "lastname": last,
            "email": email,
            "company": "",
            "company_id": str(company_id),
            "phone": phone,
            "last_login": str(last_login),
            "company_name": company_name,
            "profile_id": str(user_id),
            "_profile": profile,  # internal: b_*/s_* live in user_profiles, not in API user rows
        }

    def build_generated_user(self, offset: int) -> Record:
        """User `offset` of the generated vendors' block: per vendor its administrator, then its customers."""
        generated = self.generated
        number, position = divmod(offset, generated.users_per_tenant)
        number += 1
        company_id = generated_company_id(number)
        user_id = self.counts["cscart_users"] + offset + 1
        rng = rng_for(self.seed, "cscart-generated-user", number, position)
        created = unix(seed_created(position, generated.users_per_tenant))
        last_login = unix(seed_modified(position, generated.users_per_tenant))
        if position == 0:
            api_user = generated_vendor_user(number, generated, self.counts["cscart_users"])
            first, last, email, user_type, is_root = "Vendor", "Admin", api_user.email, "V", "Y"
        else:
            first, last = person(rng)
            email = f"{email_local(first, last, position)}@tenant-{number:03d}.shoppers.example"
            user_type, is_root = "C", "N"
        phone = f"+1 555 07{position % 100:02d}"
        city, state, country, zipcode = rng.choice(names.CITIES)
        street = f"{rng.randint(1, 300)} {rng.choice(names.STREETS)}"
        profile = {
            f"{side}_{name}": value
            for side in ("b", "s")
            for name, value in (
                ("firstname", first),
                ("lastname", last),
                ("address", street),
                ("address_2", ""),
                ("city", city),
                ("county", ""),
                ("state", state),
                ("country", country),
                ("zipcode", zipcode),
                ("phone", phone),
            )
        }
        profile["s_address_type"] = ""
        return {
            "user_id": str(user_id),
            "user_login": f"user_{user_id}",
            "is_root": is_root,
            "timestamp": str(created),
            "user_type": user_type,
            "status": "A",
            "firstname": first,
            "lastname": last,
            "email": email,
            "company": "",
            "company_id": str(company_id),
            "phone": phone,
            "last_login": str(last_login),
            "company_name": generated_vendor(number)["company"],
            "profile_id": str(user_id),
            "_profile": profile,
        }

    # Orders -----------------------------------------------------------------------------------
    @staticmethod
    def order_money(index: int, lines: Mapping[str, Record], subtotal: float, shipping: float) -> dict[str, Any]:
        """Total, discounts and taxes of an order; only the discount and tax traps have non-zero ones.

        Decimal columns of the orders table come back as strings ("5.00"); untouched ones stay the 0 the
        reference's skeleton shows, so a reader meets both forms (cscart_api.md 5.4, pitfall 10).
        """
        money: dict[str, Any] = {
            "total": f"{subtotal + shipping:.2f}",
            "discount": 0,
            "subtotal_discount": 0,
            "taxes": [],
            "tax_subtotal": 0,
        }
        if index == ORDER_DISCOUNT:
            # Product discounts (per unit, in each line's `discount`) plus an order-level coupon of 5.00.
            product_discounts = sum(float(line["discount"]) * int(line["amount"]) for line in lines.values())
            money.update(
                {
                    "discount": f"{product_discounts:.2f}",
                    "subtotal_discount": "5.00",
                    "total": f"{subtotal - 5.0 + shipping:.2f}",
                    "promotion_ids": "1",
                }
            )
        if index == ORDER_TAX:
            on_products = round(sum(line["tax_value"] for line in lines.values()), 2)
            on_shipping = round(shipping * VAT_RATE, 2)
            tax = round(on_products + on_shipping, 2)
            money.update(
                {
                    "total": f"{subtotal + shipping + tax:.2f}",
                    "tax_subtotal": tax,
                    # `taxes` is an object keyed by tax_id when the order has taxes (an empty list otherwise).
                    "taxes": {
                        "6": {
                            "rate_type": "P",
                            "rate_value": f"{VAT_RATE * 100:.3f}",
                            "price_includes_tax": "N",
                            "regnumber": "",
                            "priority": 0,
                            "tax_subtotal": tax,
                            "description": "VAT",
                            "applies": {
                                "P": on_products,
                                "S": on_shipping,
                                "items": {"P": {item_id: True for item_id in lines}, "S": {"0": {"1": True}}},
                            },
                        }
                    },
                }
            )
        return money

    def order_shape(self, index: int) -> tuple[str, str, int | None]:
        """(status, is_parent_order, parent index) for the order at `index`."""
        # Index 8 is a multi-vendor parent order (T, hidden) with children at 9 (vendor 1) and 10
        # (vendor 2); index 11 is an incomplete order (N, hidden unless include_incompleted=1).
        if index == 8:
            return "T", "Y", None
        if index in (9, 10):
            return CSCART_LISTED_STATUSES[index % len(CSCART_LISTED_STATUSES)], "N", 8
        if index == 11:
            return "N", "N", None
        return CSCART_LISTED_STATUSES[index % len(CSCART_LISTED_STATUSES)], "N", None

    def build_order(self, index: int) -> Record:
        rng = rng_for(self.seed, "cscart-order", index)
        order_id = index + 1
        created, updated = self.stamp("cscart_orders", index)
        status, is_parent, parent = self.order_shape(index)
        users, products = self.counts["cscart_users"], self.counts["cscart_products"]
        guest = index == ORDER_GUEST
        user_index = 3 + index % max(users - 3, 1)
        user = self.build_user(user_index) if not guest else None
        company_id = 1 if index == 9 else 2 if index == 10 else (2 if index % 4 == 3 else 1)
        lines: dict[str, Record] = {}
        candidate = index
        for line in range(1 + index % 3):
            product_index = (candidate * 7 + line * 3) % max(products, 1)
            if index == ORDER_NO_SKU_PRODUCT and line == 0 and products > NO_SKU_PRODUCT_INDEX:
                product_index = NO_SKU_PRODUCT_INDEX  # vendor 1's product without a code
            # Keep each sub-order on its vendor's products (products of vendor 2 have index % 3 == 2).
            while self.product_company(product_index) != company_id and is_parent == "N":
                product_index = (product_index + 1) % max(products, 1)
            item_id = str(1_000_000_000 + (order_id * 7919 + line * 104_729) % 3_000_000_000)
            base_price = self.product_price(product_index)
            amount = 1 + (index + line) % 3
            # Order 14's first line had a 10 % catalogue discount: price is what was paid per unit.
            unit_discount = round(float(base_price) * 0.1, 2) if index == ORDER_DISCOUNT and line == 0 else 0.0
            price = f"{float(base_price) - unit_discount:.2f}"
            lines[item_id] = {
                "item_id": item_id,
                "order_id": str(order_id),
                "product_id": str(product_index + 1),
                "product_code": self.product_code(product_index),
                "price": price,
                "amount": str(amount),
                "extra": {
                    "product": self.product_name(product_index),
                    "company_id": str(company_id),
                    "base_price": base_price,
                },
                "product": self.product_name(product_index),
                "product_status": "A",
                "deleted_product": False,
                "discount": unit_discount if unit_discount else 0,
                "company_id": str(company_id),
                "base_price": float(base_price),
                "original_price": float(base_price),
                "cart_id": item_id,
                "tax_value": round(float(price) * amount * VAT_RATE, 2) if index == ORDER_TAX else 0,
                "subtotal": round(float(price) * amount, 2),
                "display_subtotal": round(float(price) * amount, 2),
                "shipped_amount": 0,
                "shipment_amount": str(amount),
            }
        shipping_cost = 5.0
        if is_parent == "Y":
            # A parent order holds every line of its cart: its vendor orders' lines (and their shipping).
            children = [self.build_order(child) for child in (9, 10)]
            lines = {
                key: {**line, "order_id": str(order_id)}
                for child in children
                for key, line in child["products"].items()
            }
            shipping_cost = 5.0 * len(children)
        subtotal = round(sum(line["subtotal"] for line in lines.values()), 2)
        money = self.order_money(index, lines, subtotal, shipping_cost)
        profile = (
            dict(user["_profile"])
            if user
            else {
                "b_firstname": "Guest",
                "b_lastname": "Buyer",
                "b_address": "1 Guest Lane",
                "b_address_2": "",
                "b_city": "Boston",
                "b_county": "",
                "b_state": "MA",
                "b_country": "US",
                "b_zipcode": "02134",
                "b_phone": "",
                "s_firstname": "Guest",
                "s_lastname": "Buyer",
                "s_address": "1 Guest Lane",
                "s_address_2": "",
                "s_city": "Boston",
                "s_county": "",
                "s_state": "MA",
                "s_country": "US",
                "s_zipcode": "02134",
                "s_phone": "",
                "s_address_type": "",
            }
        )
        notes = "Leave at the door 🚪" if index % 10 == 5 else ""
        if index == ORDER_UNICODE_ADDRESS:
            for prefix in ("b_", "s_"):
                profile.update(
                    {
                        f"{prefix}address": "Königstraße 12, Hinterhaus 2. OG",
                        f"{prefix}address_2": "c/o Łukasz Żółć",
                        f"{prefix}city": "München",
                        f"{prefix}state": "BY",
                        f"{prefix}country": "DE",
                        f"{prefix}zipcode": "80331",
                    }
                )
            notes = "Bitte klingeln 🔔 — 请放在门口, merci à Zoë"
        return {
            "order_id": str(order_id),
            "is_parent_order": is_parent,
            "parent_order_id": str(parent + 1) if parent is not None else "0",
            "company_id": "0" if is_parent == "Y" else str(company_id),
            "issuer_id": None,
            "user_id": "0" if guest else str(user["user_id"] if user else 0),
            "total": money["total"],
            "subtotal": f"{subtotal:.2f}",
            "discount": money["discount"],
            "subtotal_discount": money["subtotal_discount"],
            "payment_surcharge": 0,
            "shipping_ids": "1",
            "shipping_cost": f"{shipping_cost:.2f}",
            "timestamp": str(created),
            "updated_at": str(updated),
            "status": status,
            "notes": notes,
            "details": "",
            "promotions": [],
            "promotion_ids": money.get("promotion_ids", ""),
            "firstname": profile["b_firstname"],
            "lastname": profile["b_lastname"],
            "company": "",
            "email": user["email"] if user else "guest.buyer@example.net",
            "phone": profile["b_phone"],
            **profile,
            "fax": "",
            "url": "",
            "payment_id": "1" if rng.random() < 0.5 else "2",
            "tax_exempt": "N",
            "lang_code": "en",
            "ip_address": "127.0.0.1",
            "repaid": "0",
            "validation_code": "",
            "localization_id": "0",
            "profile_id": str(user["profile_id"]) if user else "0",
            "storefront_id": "1",
            "products": lines,
            "taxes": money["taxes"],
            "tax_subtotal": money["tax_subtotal"],
            "display_subtotal": subtotal,
            "display_shipping_cost": f"{shipping_cost:.2f}",
            "shipping": [
                {
                    "shipping_id": "1",
                    "shipping": "Custom shipping method",
                    "group_key": 0,
                    "rate": shipping_cost,
                }
            ],
            "need_shipping": True,
            "need_shipment": True,
            "shipment_ids": [],
            "fields": [],
            "secondary_currency": "USD",
            "invoice_id": None,
            "credit_memo_id": None,
        }


def _int_index(record_id: str) -> int | None:
    return int(record_id) - 1 if record_id.isdigit() and int(record_id) > 0 else None


def cscart_tables(
    seed: int, counts: Mapping[str, int], generated: GeneratedTenants | None = None
) -> dict[str, LazyTable]:
    ctx = CscartContext(seed, counts, generated or GeneratedTenants())
    builders = {"products": ctx.build_product, "users": ctx.build_user, "orders": ctx.build_order}
    keys = {"products": "cscart_products", "users": "cscart_users", "orders": "cscart_orders"}
    tables: dict[str, LazyTable] = {}
    for entity, build in builders.items():
        count = counts[keys[entity]]
        if entity == "users":  # the generated vendors' users follow the seed's
            count += ctx.generated.count * ctx.generated.users_per_tenant
        tables[entity] = LazyTable(
            name=f"cscart:{entity}",
            base_count=count,
            build=build,
            id_of=lambda i: str(i + 1),
            index_of=_int_index,
            # the seed's own spread (generated users share the last seed user's time): samples stay as they are
            base_modified=lambda i, c=counts[keys[entity]]: seed_modified(min(i, c), c),
            peek=ctx.peek_product if entity == "products" else None,
        )
    return tables


def category_record(category_id: int, parent_id: int, name: str) -> Record:
    id_path = f"{parent_id}/{category_id}" if parent_id else str(category_id)
    return {
        "category_id": str(category_id),
        "parent_id": str(parent_id),
        "id_path": id_path,
        "category": name,
        "description": "",
        "company_id": "0",
        "status": "A",
        "position": str(category_id * 10),
        "product_count": "0",
        "timestamp": str(unix(SEED_NOW - timedelta(days=200))),
        "usergroup_ids": "0",
        "seo_name": name.lower().replace(" ", "-"),
        "level": 2 if parent_id else 1,
        "lang_code": "en",
    }


def vendor_record(vendor: Mapping[str, Any]) -> Record:
    return {
        "company_id": str(vendor["company_id"]),
        "lang_code": "en",
        "email": vendor["email"],
        "company": vendor["company"],
        "timestamp": str(unix(SEED_NOW - timedelta(days=365))),
        "status": "A",
        "seo_name": vendor["company"].lower().replace(" ", "-"),
        "seo_path": "",
        "average_rating": None,
        "address": "1 Vendor Street",
        "city": vendor["city"],
        "state": vendor["state"],
        "country": vendor["country"],
        "zipcode": vendor["zipcode"],
        "phone": vendor["phone"],
        "url": "",
        "storefront": "",
        "company_description": "",
    }
