"""CS-Cart users (customers, administrators, vendor administrators)."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from zoho_cscart_sandbox.clock import utc_now
from zoho_cscart_sandbox.cscart_state import ApiCaller, CscartResource
from zoho_cscart_sandbox.cscart_wire import error, php_json
from zoho_cscart_sandbox.lazy import LazyTable, Record

USER_ROW_FIELDS = (
    "user_id",
    "user_login",
    "is_root",
    "timestamp",
    "user_type",
    "status",
    "firstname",
    "lastname",
    "email",
    "company",
    "company_id",
    "phone",
    "last_login",
    "company_name",
)
PROFILE_FIELDS = tuple(
    f"{side}_{name}"
    for side in ("b", "s")
    for name in (
        "firstname",
        "lastname",
        "address",
        "address_2",
        "city",
        "county",
        "state",
        "country",
        "zipcode",
        "phone",
    )
)


class UserEmailIndex:
    """Live user ids by case-folded e-mail, so the duplicate-e-mail check of a write is O(1), not a scan.

    Built on first use from the table (the lazily generated seed users' e-mails are computed once, as a
    cached column), then kept in step by the write handlers: `add` after a create, `move` after an e-mail
    change, `remove` after a delete. The index holds no reference to its table (see `email_index`).
    """

    def __init__(self, table: LazyTable) -> None:
        self._ids: dict[str, set[str]] = {}
        table.ensure_column("email")  # seed e-mails by index, so `field` below builds no record
        for record_id in table.iter_ids():
            self.add(record_id, table.field(record_id, "email"))

    def add(self, user_id: str, email: str) -> None:
        self._ids.setdefault(email.casefold(), set()).add(user_id)

    def remove(self, user_id: str, email: str) -> None:
        ids = self._ids.get(email.casefold())
        if ids is not None:
            ids.discard(user_id)
            if not ids:
                del self._ids[email.casefold()]

    def move(self, user_id: str, old_email: str, new_email: str) -> None:
        self.remove(user_id, old_email)
        self.add(user_id, new_email)

    def taken(self, email: str, own_id: str | None = None) -> bool:
        """Whether a live user other than `own_id` has this e-mail (compared case-folded, as CS-Cart does)."""
        return any(user_id != own_id for user_id in self._ids.get(email.casefold(), ()))


# One index per users table: a sandbox reset replaces the table, and the old table's index goes with it.
_EMAIL_INDEXES: weakref.WeakKeyDictionary[LazyTable, UserEmailIndex] = weakref.WeakKeyDictionary()


def email_index(table: LazyTable) -> UserEmailIndex:
    index = _EMAIL_INDEXES.get(table)
    if index is None:
        index = _EMAIL_INDEXES[table] = UserEmailIndex(table)
    return index


class CustomersApi(CscartResource):
    # -- users ---------------------------------------------------------------------------------
    @staticmethod
    def user_row(record: Record) -> Record:
        return {key: record.get(key) for key in USER_ROW_FIELDS}

    def vendor_customer_ids(self, company_id: int) -> set[str]:
        """Customers a vendor may see: those with orders from the vendor's company."""
        return {o["user_id"] for o in self.state.tables["orders"].iter_records() if o["company_id"] == str(company_id)}

    def users_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        table = self.state.tables["users"]
        quirks_420 = self.state.runtime.knobs.cscart_require_user_type
        visible: Callable[[Record], bool] = lambda r: True  # noqa: E731
        if caller.is_vendor:
            company = caller.user.company_id
            customers = self.vendor_customer_ids(company)
            visible = lambda r: r["company_id"] == str(company) or r["user_id"] in customers  # noqa: E731
        if object_id is not None:
            record = table.get(object_id)
            if record is None or not visible(record):
                if quirks_420:
                    # 4.20 quirk: a missing user id answers 200 with an empty list (pitfall 5).
                    return php_json({"users": [], "params": {"page": 1, "items_per_page": "10", "total_items": "0"}})
                return error(404)
            return php_json(self.user_row(record))
        if quirks_420 and not params.get("user_type"):
            return error(400, "The user_type field is required")
        checks: list[Callable[[Record], bool]] = [visible]
        if params.get("user_type"):
            user_type = str(params["user_type"])
            checks.append(lambda r: r["user_type"] == user_type)
        if params.get("email"):
            email = str(params["email"]).casefold()
            checks.append(lambda r: email in r["email"].casefold())  # LIKE %...%: filter exact client-side
        if params.get("status"):
            status = str(params["status"])
            checks.append(lambda r: r["status"] == status)
        if params.get("company_id") not in (None, ""):
            company_filter = str(params["company_id"])
            checks.append(lambda r: r["company_id"] == company_filter)
        if params.get("name"):
            name = str(params["name"]).casefold()
            checks.append(lambda r: name in f"{r['firstname']} {r['lastname']}".casefold())
        sort_by = str(params.get("sort_by") or "name")
        descending = str(params.get("sort_order") or "asc") == "desc"
        filter_key = tuple(sorted((k, str(v)) for k, v in params.items() if k not in ("page", "items_per_page")))

        def compute() -> list[str]:
            rows = [r for r in table.iter_records() if all(c(r) for c in checks)]
            sort_keys: dict[str, Callable[[Record], Any]] = {
                "id": lambda r: int(r["user_id"]),
                "email": lambda r: r["email"].casefold(),
                "date": lambda r: (int(r["timestamp"]), int(r["user_id"])),
                "name": lambda r: (f"{r['firstname']} {r['lastname']}".casefold(), int(r["user_id"])),
            }
            rows.sort(key=sort_keys.get(sort_by, sort_keys["name"]), reverse=descending)
            return [r["user_id"] for r in rows]

        ids = self.state.cached_ids(("users", caller.user.user_id, filter_key), compute)
        chosen, meta = self.paginate(params, ids, len(ids), clamp=True, string_total=True)
        meta.update(
            {
                "user_type": params.get("user_type"),
                "sort_by": sort_by,
                "sort_order": "desc" if descending else "asc",
                "sort_order_rev": "asc" if descending else "desc",
            }
        )
        rows = [self.user_row(r) for r in (table.get(i) for i in chosen) if r is not None]
        return php_json({"users": rows, "params": meta})

    def _email_taken(self, email: str, own_id: str | None = None) -> bool:
        return email_index(self.state.tables["users"]).taken(email, own_id)

    def users_post(self, caller: ApiCaller, _id: str | None, body: dict[str, Any], _r: Request) -> Response:
        if caller.is_vendor:
            return error(403, "Access denied")
        for field in ("email", "user_type", "company_id"):
            if field not in body or (field != "company_id" and not str(body[field]).strip()):
                return error(400, f"The {field} field is required")
        email = str(body["email"]).strip()
        if self._email_taken(email):
            return error(400, "The username or email you have chosen already exists. Please try another one.")
        user_type = str(body["user_type"])
        if user_type not in ("C", "A", "V"):
            return error(400, "The user_type field is invalid")
        table = self.state.tables["users"]
        user_id = table.new_id()
        now = str(int(time.time()))
        profile = {field: str(body.get(field, "")) for field in PROFILE_FIELDS}
        profile["s_address_type"] = str(body.get("s_address_type", ""))
        firstname = str(body.get("firstname") or profile["b_firstname"])
        lastname = str(body.get("lastname") or profile["b_lastname"])
        company_id = str(int(body.get("company_id") or 0))
        record = {
            "user_id": user_id,
            "user_login": str(body.get("user_login") or f"user_{user_id}"),
            "is_root": "N",
            "timestamp": now,
            "user_type": user_type,
            "status": str(body.get("status", "A")),
            "firstname": firstname,
            "lastname": lastname,
            "email": email,
            "company": str(body.get("company", "")),
            "company_id": company_id,
            "phone": str(body.get("phone") or profile["b_phone"]),
            "last_login": "0",
            "company_name": None if company_id == "0" else self.state.vendors.get(int(company_id), {}).get("company"),
            "profile_id": user_id,
            "_profile": profile,
        }
        table.put(user_id, record, utc_now())
        email_index(table).add(user_id, email)
        self.state.touched()
        return php_json({"user_id": int(user_id), "profile_id": int(user_id)}, 201)

    def users_put(self, caller: ApiCaller, object_id: str | None, body: dict[str, Any], _r: Request) -> Response:
        table = self.state.tables["users"]
        record = table.get(object_id or "")
        if record is None:
            return error(404)
        if caller.is_vendor and record["user_id"] != str(caller.user.user_id):
            return error(403, "Access denied")
        old_email = record["email"]
        if "email" in body:
            email = str(body["email"]).strip()
            if self._email_taken(email, record["user_id"]):
                return error(400, "The username or email you have chosen already exists. Please try another one.")
            record["email"] = email
        for key in ("firstname", "lastname", "phone", "company", "status", "user_login"):
            if key in body:
                record[key] = str(body[key])
        for key in (*PROFILE_FIELDS, "s_address_type"):
            if key in body:
                record["_profile"][key] = str(body[key])
        table.put(record["user_id"], record, utc_now())
        if record["email"] != old_email:
            email_index(table).move(record["user_id"], old_email, record["email"])
        self.state.touched()
        return php_json({"user_id": object_id, "profile_id": record["profile_id"]})

    def users_delete(self, caller: ApiCaller, object_id: str | None, _b: dict[str, Any], _r: Request) -> Response:
        if caller.is_vendor:
            return error(403, "Access denied")
        table = self.state.tables["users"]
        user_id = object_id or ""
        email = table.field(user_id, "email") if table.exists(user_id) else None
        if not table.delete(user_id, utc_now()):
            return error(404)
        if email is not None:
            email_index(table).remove(user_id, email)
        self.state.touched()
        return Response(status_code=204)
