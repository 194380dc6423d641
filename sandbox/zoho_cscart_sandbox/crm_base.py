"""What the CRM handlers share: limits, module rules, auth, field projection and paging."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from zoho_cscart_sandbox.credentials import zoho_creds
from zoho_cscart_sandbox.crm_fields import STANDARD_FIELDS
from zoho_cscart_sandbox.lazy import LazyTable, Record
from zoho_cscart_sandbox.zoho_accounts import AccessGrant
from zoho_cscart_sandbox.zoho_state import ZohoState, crm_error, crm_scope_ok

BASE = "/crm/v8"
MAX_FIELDS = 50
MAX_PER_PAGE = 200
# (R) page-number access reaches only the first 2,000 records; beyond that use page_token.
PAGE_WALL = 2000
MAX_WRITE_RECORDS = 100
PAGE_TOKEN_LIFETIME = timedelta(hours=24)  # (U) ~24 h per the OAS `page_token_expiry` field
SORTABLE = {"id": "id", "Created_Time": "id", "Modified_Time": "modified"}

MANDATORY = {
    "Accounts": ("Account_Name",),
    "Contacts": ("Last_Name",),
    "Leads": ("Last_Name",),
    "Products": ("Product_Name",),
    # (U) the exact mandatory set is layout dependent; Subject + at least one line item is the likeliest.
    "Sales_Orders": ("Subject", "Ordered_Items"),
}
# System duplicate-check fields used by upsert when `duplicate_check_fields` is absent (Kaizen #56).
UPSERT_DEFAULT = {
    "Accounts": ("Account_Name",),
    "Contacts": ("Email",),
    "Leads": ("Email",),
    "Products": ("Product_Name",),
    "Sales_Orders": ("Subject",),
}
# Fields marked "do not allow duplicates" in this sandbox org (insert answers DUPLICATE_DATA).
# E-mail is NOT unique in Contacts: the seed has two contacts sharing one, as real orgs do.
UNIQUE_FIELDS = {"Products": ("Product_Code",)}
LOOKUPS = {
    "Accounts": {"Parent_Account": "Accounts"},
    "Contacts": {"Account_Name": "Accounts"},
    "Sales_Orders": {"Account_Name": "Accounts", "Contact_Name": "Contacts"},
}
# Line-item (subform) fields: COQL cannot select or filter them (zoho_api.md 2.5); GET by id returns them.
LINE_ITEM_FIELDS = {"Sales_Orders": ("Ordered_Items",)}
EMAIL_FIELDS = ("Email", "Secondary_Email")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
READ_ONLY = {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "Full_Name"}


def display_name(module: str, record: Record) -> str:
    for key in ("Full_Name", "Account_Name", "Product_Name", "Subject"):
        value = record.get(key)
        if isinstance(value, str):
            return value
    return record.get("id", "")


def values_equal(stored: Any, wanted: str) -> bool:
    if isinstance(stored, dict):
        return wanted in (str(stored.get("id", "")), str(stored.get("name", "")))
    if stored is None:
        return False
    return str(stored).casefold() == wanted.casefold()


class CrmBase:
    """State access and helpers used by both the read and the write handlers."""

    def __init__(self, state: ZohoState) -> None:
        self.state = state

    # -- helpers -------------------------------------------------------------------------------
    def table(self, tenant: str, module: str) -> LazyTable | None:
        return self.state.crm[tenant].get(module)

    def offset(self, tenant: str) -> int:
        return zoho_creds(tenant).utc_offset_minutes

    def auth(self, request: Request, module: str, operation: str) -> AccessGrant | Response:
        return self.state.crm_auth(request, lambda scopes: crm_scope_ok(scopes, module, operation))

    def record_fields(self, table: LazyTable) -> set[str]:
        """The keys every record of the table carries (those of a seed record)."""
        return table.record_keys() | {"id"}

    def known_fields(self, table: LazyTable) -> set[str]:
        """Field names valid in `fields`, COQL and duplicate checks: the records' keys and the module's
        standard fields (a standard field the seed leaves out reads as null)."""
        module = table.name.split(":", 1)[1]
        return self.record_fields(table) | STANDARD_FIELDS.get(module, frozenset())

    @staticmethod
    def project(record: Record, wanted: list[str] | None) -> Record:
        if wanted is None:
            return record
        projected = {name: record.get(name) for name in wanted}
        projected["id"] = record["id"]
        return projected

    def info(self, per_page: int, count: int, page: int, more: bool, sort_by: str, sort_order: str) -> Record:
        return {
            "per_page": per_page,
            "count": count,
            "page": page,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "more_records": more,
            # Token keys are omitted (not null) when absent: the OAS types them as non-nullable strings.
            "call": False,
            "email": False,
        }

    def parse_fields(self, raw: str | None, table: LazyTable, *, required: bool) -> list[str] | Response | None:
        if raw is None or not raw.strip():
            if required:
                return crm_error(
                    400,
                    "REQUIRED_PARAM_MISSING",
                    "One of the expected parameter is missing",
                    {"param_name": "fields"},
                )
            return None
        wanted = [f.strip() for f in raw.split(",") if f.strip()]
        if len(wanted) > MAX_FIELDS:
            return crm_error(400, "LIMIT_EXCEEDED", "maximum 50 fields can be requested", {"limit": MAX_FIELDS})
        known = self.known_fields(table)
        for name in wanted:
            if name not in known:
                # (U) unknown API names in `fields` are rejected rather than silently ignored.
                return crm_error(400, "INVALID_DATA", "invalid data", {"api_name": name, "param_name": "fields"})
        return wanted

    def parse_paging(self, request: Request) -> tuple[int, int] | Response:
        try:
            page = int(request.query_params.get("page", "1"))
            per_page = int(request.query_params.get("per_page", str(MAX_PER_PAGE)))
        except ValueError:
            return crm_error(400, "INVALID_DATA", "invalid data", {"param_name": "page"})
        if per_page < 1 or per_page > MAX_PER_PAGE:
            return crm_error(400, "INVALID_DATA", "invalid data", {"param_name": "per_page", "maximum_length": 200})
        if page < 1:
            return crm_error(400, "INVALID_DATA", "invalid data", {"param_name": "page"})
        return page, per_page
