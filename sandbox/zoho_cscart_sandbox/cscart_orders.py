"""CS-Cart orders: lists hiding parent/incomplete orders, multi-vendor splits, status changes, stock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from zoho_cscart_sandbox import seed as seed_data
from zoho_cscart_sandbox.clock import utc_now
from zoho_cscart_sandbox.cscart_customers import PROFILE_FIELDS
from zoho_cscart_sandbox.cscart_state import ApiCaller, CscartResource
from zoho_cscart_sandbox.cscart_wire import error, php_json
from zoho_cscart_sandbox.lazy import Record

ORDER_ROW_FIELDS = (
    "order_id",
    "issuer_id",
    "user_id",
    "is_parent_order",
    "parent_order_id",
    "company_id",
    "timestamp",
    "firstname",
    "lastname",
    "email",
    "phone",
    "status",
    "total",
    "invoice_id",
    "credit_memo_id",
)
STATUS_INVENTORY = {letter: inventory for _id, letter, _name, inventory, _paid in seed_data.CSCART_STATUSES}
STATUS_INVENTORY.update({"N": "I", "T": "I"})
NOTIFY_FLAGS = {"notify_user": "customer", "notify_department": "department", "notify_vendor": "vendor"}
# (U) where the orders department's e-mails go (a store setting, `company_orders_department`).
ORDERS_DEPARTMENT_EMAIL = "orders-department@marketplace.example"


def php_truthy(value: Any) -> bool:
    """PHP's `!empty($value)`: how `fn_get_notification_rules` reads the notify_* flags.

    (S) cscart_api.md 5.4 says e-mails go out only when a flag is truthy; in PHP "N", "false" and "no"
    are truthy too (only "", "0", 0, false, null and empty arrays are not).
    """
    if value is None or value is False:
        return False
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value not in ("", "0")
    if isinstance(value, list | dict):
        return bool(value)
    return True


def unix_param(value: Any) -> int:
    """PHP's `(int)` of a unix-seconds query value: junk reads as 0 instead of failing the request."""
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return 0


class OrdersApi(CscartResource):
    # -- orders --------------------------------------------------------------------------------
    @staticmethod
    def order_detail(record: Record) -> Record:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def orders_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        table = self.state.tables["orders"]
        if object_id is not None:
            record = table.get(object_id)
            if record is None or (caller.is_vendor and record["company_id"] != str(caller.user.company_id)):
                return error(404)
            return php_json(self.order_detail(record))
        checks: list[Callable[[Record], bool]] = [lambda r: r["is_parent_order"] != "Y"]
        if str(params.get("include_incompleted", "")) not in ("1", "true", "Y"):
            checks.append(lambda r: r["status"] != "N")
        company = caller.user.company_id if caller.is_vendor else params.get("company_id")
        if company not in (None, ""):
            checks.append(lambda r: r["company_id"] == str(company))
        if params.get("status"):
            statuses = set(str(params["status"]).split(","))
            checks.append(lambda r: r["status"] in statuses)
        if params.get("user_id") not in (None, ""):
            users = set(str(params["user_id"]).split(","))
            checks.append(lambda r: r["user_id"] in users)
        if params.get("email"):
            email = str(params["email"]).casefold()
            checks.append(lambda r: email in r["email"].casefold())
        if params.get("parent_order_id") not in (None, ""):
            parent_order = str(params["parent_order_id"])
            checks.append(lambda r: r["parent_order_id"] == parent_order)
        if params.get("order_id"):
            wanted = set(str(params["order_id"]).split(","))
            checks.append(lambda r: r["order_id"] in wanted)
        # (C) cscart_api.md 3.1: raw unix ints, both bounds inclusive.
        if params.get("updated_at_from") not in (None, ""):
            updated_from = unix_param(params["updated_at_from"])
            checks.append(lambda r: int(r["updated_at"]) >= updated_from)
        if params.get("updated_at_to") not in (None, ""):
            updated_to = unix_param(params["updated_at_to"])
            checks.append(lambda r: int(r["updated_at"]) <= updated_to)
        # time_from/time_to are ignored unless period is set (pitfall 6); they filter creation time.
        if params.get("period") == "C":
            if params.get("time_from") not in (None, ""):
                low = unix_param(params["time_from"])
                checks.append(lambda r: int(r["timestamp"]) >= low)
            if params.get("time_to") not in (None, ""):
                high = unix_param(params["time_to"])
                checks.append(lambda r: int(r["timestamp"]) <= high)
        sort_by = str(params.get("sort_by") or "date")
        descending = str(params.get("sort_order") or "desc") == "desc"
        filter_key = tuple(sorted((k, str(v)) for k, v in params.items() if k not in ("page", "items_per_page")))

        def compute() -> list[str]:
            # A linear pass over the orders (cached until the next write): orders are not among the tables
            # the 272k scale knobs make big (DEFAULT_SCALE has 80), so this stays out of the measurements.
            rows = [r for r in table.iter_records() if all(c(r) for c in checks)]
            keys: dict[str, Callable[[Record], Any]] = {
                "order_id": lambda r: int(r["order_id"]),
                "date": lambda r: (int(r["timestamp"]), int(r["order_id"])),
                "status": lambda r: (r["status"], int(r["order_id"])),
                "total": lambda r: (float(r["total"]), int(r["order_id"])),
                "email": lambda r: (r["email"].casefold(), int(r["order_id"])),
            }
            rows.sort(key=keys.get(sort_by, keys["date"]), reverse=descending)
            return [r["order_id"] for r in rows]

        ids = self.state.cached_ids(("orders", caller.user.user_id, filter_key), compute)
        chosen, meta = self.paginate(params, ids, len(ids), clamp=False, string_total=True)
        full = str(params.get("get_orders_data", "")) in ("1", "true", "Y")
        records = [r for r in (table.get(i) for i in chosen) if r is not None]
        rows = [self.order_detail(r) if full else {k: r.get(k) for k in ORDER_ROW_FIELDS} for r in records]
        meta.update(
            {
                "include_incompleted": False,
                "sort_by": sort_by,
                "sort_order": "desc" if descending else "asc",
                "sort_order_rev": "asc" if descending else "desc",
            }
        )
        return php_json({"orders": rows, "params": meta})

    def _adjust_stock(self, order: Record, old_status: str | None, new_status: str) -> None:
        """Stock follows the status's `inventory` param; it does NOT bump products' updated_timestamp."""
        before = STATUS_INVENTORY.get(old_status, "I") if old_status else "I"
        after = STATUS_INVENTORY.get(new_status, "I")
        if before == after:
            return
        sign = -1 if after == "D" else 1
        products = self.state.tables["products"]
        for line in order["products"].values():
            product = products.get(line["product_id"])
            if product is None or product["tracking"] == "D":
                continue
            product["amount"] = str(int(product["amount"]) + sign * int(line["amount"]))
            # Written to the overlay with its OLD modified time: invisible to updated_in_hours (pitfall 9).
            products.put(product["product_id"], product, products.modified_at(product["product_id"]))

    def orders_post(self, caller: ApiCaller, _id: str | None, body: dict[str, Any], _r: Request) -> Response:
        users = self.state.tables["users"]
        user: Record | None = None
        if str(body.get("user_id") or "0") != "0":
            user = users.get(str(body["user_id"]))
            if user is None:
                return error(400, "The User not found")
            profile = dict(user["_profile"])
            email = user["email"]
        elif isinstance(body.get("user_data"), dict):
            data = body["user_data"]
            if not data.get("email"):
                return error(400, "The email field is required")
            profile = {field: str(data.get(field, "")) for field in PROFILE_FIELDS}
            profile["s_address_type"] = ""
            email = str(data["email"])
        else:
            return error(400, "The user_id/user_data field is required")
        if not body.get("payment_id"):
            return error(400, "The payment_id field is required")
        if not any(p["payment_id"] == str(body["payment_id"]) for p in seed_data.CSCART_PAYMENTS):
            return error(400, "The payment_id field is invalid")
        lines_in = body.get("products")
        if not isinstance(lines_in, dict) or not lines_in:
            return error(400, "The products field is required")
        shipping_id = str(body.get("shipping_id") or "")
        if not shipping_id:
            return error(400, "The shipping_id field is required")
        if not any(s["shipping_id"] == shipping_id for s in seed_data.CSCART_SHIPPINGS):
            return error(403, "No shipping methods are available")
        products = self.state.tables["products"]
        by_vendor: dict[str, list[tuple[Record, int]]] = {}
        for line in lines_in.values():
            product = products.get(str((line or {}).get("product_id", "")))
            if product is None or product["status"] == "D":
                return error(400, "Order couldn't be created")
            if caller.is_vendor and product["company_id"] != str(caller.user.company_id):
                return error(403, "Access denied")
            amount = int(float(line.get("amount", 1)))
            by_vendor.setdefault(product["company_id"], []).append((product, amount))
        orders = self.state.tables["orders"]
        now = int(time.time())

        def make_order(company_id: str, lines: list[tuple[Record, int]], parent_id: str, is_parent: bool) -> Record:
            order_id = orders.new_id()
            items: dict[str, Record] = {}
            for n, (product, amount) in enumerate(lines):
                item_id = str(
                    1_000_000_000 + (int(order_id) * 7919 + n * 104_729 + int(product["product_id"])) % 3_000_000_000
                )
                price = float(product["price"])  # price always comes from the catalogue
                items[item_id] = {
                    "item_id": item_id,
                    "order_id": order_id,
                    "product_id": product["product_id"],
                    "product_code": product["product_code"],
                    "price": f"{price:.2f}",
                    "amount": str(amount),
                    "extra": {
                        "product": product["product"],
                        "company_id": product["company_id"],
                        "base_price": f"{price:.2f}",
                    },
                    "product": product["product"],
                    "product_status": product["status"],
                    "deleted_product": False,
                    "discount": 0,
                    "company_id": product["company_id"],
                    "base_price": price,
                    "original_price": price,
                    "cart_id": item_id,
                    "tax_value": 0,
                    "subtotal": round(price * amount, 2),
                    "display_subtotal": round(price * amount, 2),
                    "shipped_amount": 0,
                    "shipment_amount": str(amount),
                }
            subtotal = round(sum(i["subtotal"] for i in items.values()), 2)
            shipping_cost = 5.0 * (1 if not is_parent else len(by_vendor))
            record = {
                "order_id": order_id,
                "is_parent_order": "Y" if is_parent else "N",
                "parent_order_id": parent_id,
                "company_id": company_id,
                "issuer_id": None,
                "user_id": user["user_id"] if user else "0",
                "total": f"{subtotal + shipping_cost:.2f}",
                "subtotal": f"{subtotal:.2f}",
                "discount": 0,
                "subtotal_discount": 0,
                "payment_surcharge": 0,
                "shipping_ids": shipping_id,
                "shipping_cost": f"{shipping_cost:.2f}",
                "timestamp": str(now),
                "updated_at": str(now),
                "status": "T" if is_parent else "O",
                "notes": str(body.get("notes", "")),
                "details": str(body.get("details", "")),
                "promotions": [],
                "promotion_ids": "",
                "firstname": profile["b_firstname"],
                "lastname": profile["b_lastname"],
                "company": "",
                "email": email,
                "phone": profile["b_phone"],
                **profile,
                "fax": "",
                "url": "",
                "payment_id": str(body["payment_id"]),
                "tax_exempt": "N",
                "lang_code": "en",
                "ip_address": "127.0.0.1",
                "repaid": "0",
                "validation_code": "",
                "localization_id": "0",
                "profile_id": user["profile_id"] if user else "0",
                "storefront_id": "1",
                "products": items,
                "taxes": [],
                "tax_subtotal": 0,
                "display_subtotal": subtotal,
                "display_shipping_cost": f"{shipping_cost:.2f}",
                "shipping": [
                    {
                        "shipping_id": shipping_id,
                        "shipping": "Custom shipping method",
                        "group_key": 0,
                        "rate": shipping_cost,
                    }
                ],
                "need_shipping": True,
                "need_shipment": True,
                "shipment_ids": [],
                "fields": [],
                # The create's optional `currency` (cscart_api.md 5.4) is the currency the customer chose.
                "secondary_currency": str(body.get("currency") or "USD"),
                "invoice_id": None,
                "credit_memo_id": None,
            }
            orders.put(order_id, record, utc_now())
            return record

        if len(by_vendor) == 1:
            company_id, lines = next(iter(by_vendor.items()))
            order = make_order(company_id, lines, "0", False)
            self._adjust_stock(order, None, "O")
            self.state.touched()
            return php_json({"order_id": int(order["order_id"]), "order_data": self.order_detail(order)}, 201)
        all_lines = [line for lines in by_vendor.values() for line in lines]
        parent = make_order("0", all_lines, "0", True)
        children = [make_order(cid, lines, parent["order_id"], False) for cid, lines in sorted(by_vendor.items())]
        for child in children:
            self._adjust_stock(child, None, "O")
        self.state.touched()
        return php_json(
            {
                "order_id": int(parent["order_id"]),
                "order_data": self.order_detail(parent),
                "suborder_ids": [int(c["order_id"]) for c in children],
                "suborders_data": [self.order_detail(c) for c in children],
            },
            201,
        )

    def orders_put(self, caller: ApiCaller, object_id: str | None, body: dict[str, Any], _r: Request) -> Response:
        if caller.is_vendor and self.state.runtime.knobs.vendor_api_access != "company_scoped":
            return error(403)
        orders = self.state.tables["orders"]
        record = orders.get(object_id or "")
        status_only = "status" in body and set(body) - set(NOTIFY_FLAGS) == {"status"}
        if record is not None and caller.is_vendor and record["company_id"] != str(caller.user.company_id):
            return error(403, "Access denied")
        notify = {recipient for flag, recipient in NOTIFY_FLAGS.items() if php_truthy(body.get(flag))}
        if status_only:
            # Fast path: no existence check - 200 even for an unknown order or status letter.
            if record is not None:
                self._change_status(record, str(body["status"]), notify)
                if record["is_parent_order"] == "Y":
                    # Linear over the orders: they are not scaled (see orders_get).
                    for child in orders.iter_records():
                        if child["parent_order_id"] == record["order_id"]:
                            self._change_status(child, str(body["status"]), notify)
                self.state.touched()
            return php_json({"order_id": object_id})
        if record is None:
            return error(404)
        for key in ("notes", "details", "email", "firstname", "lastname", "phone", *PROFILE_FIELDS):
            if key in body:
                record[key] = str(body[key])
        record["updated_at"] = str(int(time.time()))
        orders.put(record["order_id"], record, utc_now())
        if "status" in body:
            self._change_status(record, str(body["status"]), notify)
        self.state.touched()
        return php_json({"order_id": object_id})

    def _change_status(self, record: Record, status: str, notify: set[str]) -> None:
        """`fn_change_order_status`: nothing happens when the status is already `status` (U: CS-Cart returns
        early then - no stock move, no `updated_at`, no e-mail); otherwise stock follows the statuses'
        `inventory` params and an e-mail goes to each recipient whose notify_* flag was truthy."""
        old = record["status"]
        if old == status:
            return
        record["status"] = status
        record["updated_at"] = str(int(time.time()))
        if record["is_parent_order"] != "Y":
            self._adjust_stock(record, old, status)
            self._notify(record, old, status, notify)
        self.state.tables["orders"].put(record["order_id"], record, utc_now())

    def _notify(self, record: Record, old: str, status: str, recipients: set[str]) -> None:
        """Record the e-mails CS-Cart would send (the admin API reads them: GET /__sandbox__/notifications)."""
        vendor = self.state.vendors.get(int(record["company_id"] or 0))
        addresses = {
            "customer": record.get("email", ""),
            "department": ORDERS_DEPARTMENT_EMAIL,
            "vendor": vendor["email"] if vendor else "",
        }
        for recipient in ("customer", "department", "vendor"):
            if recipient in recipients and addresses[recipient]:
                self.state.notifications.append(
                    {
                        "order_id": record["order_id"],
                        "status_from": old,
                        "status_to": status,
                        "recipient": recipient,
                        "email": addresses[recipient],
                        "at": int(time.time()),
                    }
                )

    def orders_delete(self, caller: ApiCaller, object_id: str | None, _b: dict[str, Any], _r: Request) -> Response:
        if caller.is_vendor:
            return error(403, "Access denied")
        if not self.state.tables["orders"].delete(object_id or "", utc_now()):
            return error(404)
        self.state.touched()
        return Response(status_code=204)
