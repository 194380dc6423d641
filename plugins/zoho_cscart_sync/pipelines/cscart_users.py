"""CS-Cart customers (``/api/users``, user_type C) as a target of the load loop.

Cheapest duplicate-safe create: CS-Cart itself refuses a second user with the same e-mail (HTTP 400, "The
username or email you have chosen already exists"), so a record that is not linked yet is created *first*
and only a refused create costs a lookup by e-mail, after which the existing user is adopted and updated.
Looking every record up before creating it would double the calls of a first sync for nothing (the kit's
``create_then_adopt`` strategy: the load loop looks up first only for a dry run or an interrupted create).

**Vendor isolation.** A vendor tenant never writes a user outside its ``company_id``: a match by e-mail that
belongs to another company — including marketplace-wide customers (company 0) — is refused ("e-mail belongs
to a customer of company N") and quarantined, never adopted. No update (adoption or not) sends ``company_id``:
on a real store that would move a shared customer into the vendor.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.http.errors import AmbiguousWriteError, FatalApiError, NotFoundError
from zoho_cscart_sync.sync.writer import RecordRejected, linked_record_gone

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.cscart import CsCartHook

log = logging.getLogger(__name__)

USERS = "users"
CUSTOMER = "C"
DUPLICATE_EMAIL_MARKER = "already exists"
CREATE_ATTEMPTS = 3
# Other user types share the e-mail namespace with customers (the uniqueness check spans all users).
_OTHER_USER_TYPES = {"A": "administrator", "V": "vendor administrator"}


class CustomersAccessError(PermissionError):
    """CS-Cart refused to create customers for this connection (HTTP 403): it fails every record alike."""

    def __init__(self, tenant: str, conn_id: str) -> None:
        super().__init__(
            f"tenant {tenant!r}: CS-Cart answered 403 to POST /api/users for connection {conn_id!r}. Vendor API "
            "keys cannot manage customers in CS-Cart 4.13+; give the tenant's CS-Cart connection a "
            "marketplace-administrator API user (the pipeline keeps a vendor tenant to its own company_id)."
        )


@dataclass
class CsCartUserWriter:
    """Find, create, update and deactivate CS-Cart customers of one tenant.

    ``company_id`` (vendor tenants) restricts adoption to customers of that very company: another vendor's
    or a marketplace-wide customer is never touched.
    """

    hook: CsCartHook
    tenant: str
    company_id: int | None = None
    label: str = "cscart /api/users"
    adopted: int = 0
    #: user id -> the row as it was before this run adopted it (a PUT keeps the fields it does not send).
    adopted_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    # -- TargetWriter ------------------------------------------------------------------------------
    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        if key_kind != "email":
            return None
        found = self.find_customer(key_value)
        return found["user_id"] if found else None

    def create(self, payload: Mapping[str, Any]) -> str:
        email = str(payload.get("email") or "")
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                self._count("POST")
                return self.hook.create(USERS, payload)
            except AmbiguousWriteError:
                # The create may have been applied (5xx or timeout after the write): look before retrying.
                existing = self.find_customer(email) if email else None
                if existing is not None:
                    log.info(
                        "tenant %s: CS-Cart user %s found after an ambiguous create", self.tenant, existing["user_id"]
                    )
                    return self._adopt(existing, payload)
                if attempt == CREATE_ATTEMPTS:
                    raise
            except NotFoundError:
                raise
            except FatalApiError as exc:
                if exc.status == 403:
                    raise CustomersAccessError(self.tenant, self.hook.conn_id) from exc
                if exc.status == 400 and DUPLICATE_EMAIL_MARKER in str(exc):
                    return self._adopt_duplicate(email, payload)
                if exc.status == 400:
                    raise RecordRejected(_cscart_message(exc), field=_field_named_in(str(exc))) from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def read(self, target_id: str) -> dict[str, Any] | None:
        """The user as CS-Cart holds it now (conflict checks), None when it no longer exists."""
        self._count("GET")
        return self.hook.get(USERS, target_id)

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        # An update never moves a user between companies (see the module docstring).
        payload = {key: value for key, value in payload.items() if key != "company_id"}
        try:
            self._count("PUT")
            self.hook.update(USERS, target_id, payload)
        except NotFoundError:
            raise linked_record_gone("CS-Cart user", target_id, "user_id") from None
        except FatalApiError as exc:
            if exc.status == 400:
                field_name = "email" if DUPLICATE_EMAIL_MARKER in str(exc) else _field_named_in(str(exc))
                raise RecordRejected(_cscart_message(exc), field=field_name) from None
            raise

    # -- helpers -----------------------------------------------------------------------------------
    def deactivate(self, target_id: str) -> bool:
        """Set the user's status to D (disabled); False when the user no longer exists."""
        try:
            self._count("PUT")
            self.hook.update(USERS, target_id, {"status": "D"})
        except NotFoundError:
            return False
        return True

    def find_customer(self, email: str) -> dict[str, Any] | None:
        """The customer whose e-mail equals ``email`` (case-insensitive), else None.

        CS-Cart's ``email`` filter is a LIKE %...% search, so matches are filtered exactly here.
        """
        matches = self._exact_matches(email, CUSTOMER)
        if len(matches) > 1:
            ids = ", ".join(sorted(m["user_id"] for m in matches))
            raise RecordRejected(f"several CS-Cart customers ({ids}) have this e-mail", field="email")
        if not matches:
            return None
        found = matches[0]
        owner = str(found.get("company_id") or "0")
        if self.company_id is not None and owner != str(self.company_id):
            whose = "the marketplace (company 0)" if owner == "0" else f"company {owner}"
            raise RecordRejected(
                f"e-mail belongs to a customer of {whose}: CS-Cart user {found['user_id']} is outside this "
                f"vendor tenant's company_id {self.company_id}, so it is neither adopted nor changed",
                field="email",
            )
        return found

    def _adopt_duplicate(self, email: str, payload: Mapping[str, Any]) -> str:
        existing = self.find_customer(email)
        if existing is None:
            for user_type, what in _OTHER_USER_TYPES.items():
                if self._exact_matches(email, user_type):
                    raise RecordRejected(f"the e-mail belongs to a CS-Cart {what} account", field="email")
            raise RecordRejected("CS-Cart refused the e-mail as already taken", field="email")
        return self._adopt(existing, payload)

    def _adopt(self, existing: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
        user_id = str(existing["user_id"])
        self.update(user_id, payload)
        self.adopted += 1
        self.adopted_rows[user_id] = dict(existing)
        return user_id

    def _exact_matches(self, email: str, user_type: str) -> list[dict[str, Any]]:
        wanted = email.strip().casefold()
        self._count("GET")
        matches: list[dict[str, Any]] = []
        for page in self.hook.pages(USERS, params={"user_type": user_type, "email": email.strip()}, items_per_page=50):
            matches.extend(
                {**row, "user_id": str(row["user_id"])}
                for row in page
                if str(row.get("email") or "").strip().casefold() == wanted
            )
        return matches

    def _count(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1


def _cscart_message(exc: FatalApiError) -> str:
    text = str(exc)
    # "... HTTP 400: Bad Request: The email field is required." -> the part after the status.
    return text.split("HTTP 400", 1)[-1].lstrip(": ").strip() or text


def _field_named_in(message: str) -> str | None:
    # CS-Cart says "The <field> field is required" / "The <field> field is invalid".
    marker = message.find(" field is")
    if marker == -1:
        return None
    words = message[:marker].split()
    return words[-1] if words else None
