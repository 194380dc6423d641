"""Zoho targets of the customers load: CRM Contacts / Leads by batch upsert, and Zoho Books contacts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from zoho_cscart_sync.http.errors import AmbiguousWriteError, FatalApiError
from zoho_cscart_sync.sync.writer import RecordRejected, UpsertItem, UpsertOutcome

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.zoho import ZohoHook

CRM_UPSERT_BATCH = 100
BOOKS_CREATE_ATTEMPTS = 3
EMAIL_FIELD = "Email"


@dataclass
class CrmUpsertWriter:
    """Upsert into one CRM module (``Contacts`` or ``Leads``), 100 records a call, matched on Email.

    A record already linked carries its CRM ``id`` so it is updated even when its e-mail changed; a new one
    is matched by ``duplicate_check_fields: ["Email"]``, so a retried batch never creates duplicates.
    """

    hook: ZohoHook
    module: str
    max_batch_size: int = CRM_UPSERT_BATCH
    label: str = ""

    def __post_init__(self) -> None:
        self.label = self.label or f"zoho /crm/v8/{self.module}"

    def upsert_batch(self, items: Sequence[UpsertItem]) -> Sequence[UpsertOutcome]:
        records = [{**item.payload, "id": item.target_id} if item.target_id else dict(item.payload) for item in items]
        results = self.hook.crm_upsert(self.module, records, duplicate_check_fields=[EMAIL_FIELD])
        outcomes: list[UpsertOutcome] = []
        for item, result in zip(items, results, strict=True):
            if result.ok and result.id:
                action: Literal["created", "updated"] = "created" if result.action == "insert" else "updated"
                outcomes.append(UpsertOutcome(item.source_id, action, target_id=result.id))
            else:
                field_name = result.details.get("api_name") if isinstance(result.details, Mapping) else None
                outcomes.append(
                    UpsertOutcome(
                        item.source_id,
                        "rejected",
                        reason=f"Zoho CRM {self.module} refused the record: {result.code} {result.message}".strip(),
                        field=str(field_name) if field_name else None,
                    )
                )
        return outcomes

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        """Dry runs only (a real run lets the upsert match): the CRM id with this e-mail, via COQL."""
        if key_kind != "email":
            return None
        literal = key_value.strip().replace("'", "''")
        body = self.hook.crm_coql(f"select id, Email from {self.module} where Email = '{literal}' limit 2")
        rows = (body or {}).get("data") or []
        exact = [row for row in rows if str(row.get(EMAIL_FIELD) or "").casefold() == key_value.strip().casefold()]
        return str(exact[0]["id"]) if exact else None

    def create(self, payload: Mapping[str, Any]) -> str:
        return self._one(UpsertItem("single", payload, None))

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        self._one(UpsertItem("single", payload, target_id))

    def _one(self, item: UpsertItem) -> str:
        outcome = self.upsert_batch([item])[0]
        if outcome.action == "rejected" or not outcome.target_id:
            raise RecordRejected(outcome.reason or "rejected by Zoho CRM", field=outcome.field)
        return outcome.target_id


@dataclass
class BooksContactWriter:
    """Zoho Books customers (``/books/v3/contacts``). Books has no upsert: look up by e-mail, then write."""

    hook: ZohoHook
    label: str = "zoho /books/v3/contacts"

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        if key_kind != "email":
            return None
        wanted = key_value.strip().casefold()
        matches = [
            str(row["contact_id"])
            for page in self.hook.books_pages("contacts", params={"email": key_value.strip()})
            for row in page
            if str(row.get("email") or "").strip().casefold() == wanted
        ]
        if len(matches) > 1:
            raise RecordRejected(f"several Zoho Books contacts ({', '.join(matches)}) have this e-mail", field="email")
        return matches[0] if matches else None

    def create(self, payload: Mapping[str, Any]) -> str:
        email = _books_email(payload)
        created: dict[str, Any] = {}
        for attempt in range(1, BOOKS_CREATE_ATTEMPTS + 1):
            try:
                created = self.hook.books_create("contacts", payload)
                break
            except AmbiguousWriteError:
                # A 5xx/timeout after the write may have created it: look it up before trying again. Books
                # refuses a second contact with the same name, so the name identifies it when there is no e-mail.
                existing = self.find_by_natural_key("email", email) if email else self._find_by_name(payload)
                if existing is not None:
                    self.update(existing, payload)
                    return existing
                if attempt == BOOKS_CREATE_ATTEMPTS:
                    raise
            except FatalApiError as exc:
                if exc.status == 400:
                    reason = f"Zoho Books refused the contact: {exc}"
                    raise RecordRejected(reason, field=_books_field(exc)) from None
                raise
        contact_id = created.get("contact_id")
        if not contact_id:
            raise RecordRejected("Zoho Books created the contact but returned no contact_id", field="contact_id")
        return str(contact_id)

    def _find_by_name(self, payload: Mapping[str, Any]) -> str | None:
        name = str(payload.get("contact_name") or "").strip()
        if not name:
            return None
        matches = [
            str(row["contact_id"])
            for page in self.hook.books_pages("contacts", params={"contact_name": name})
            for row in page
            if str(row.get("contact_name") or "").strip().casefold() == name.casefold()
        ]
        return matches[0] if len(matches) == 1 else None

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        try:
            self.hook.books_update("contacts", target_id, payload)
        except FatalApiError as exc:
            if exc.status in (400, 404):
                raise RecordRejected(f"Zoho Books refused the update: {exc}", field=_books_field(exc)) from None
            raise


def _books_email(payload: Mapping[str, Any]) -> str | None:
    persons = payload.get("contact_persons") or []
    first = persons[0] if isinstance(persons, list) and persons and isinstance(persons[0], Mapping) else {}
    email = first.get("email")
    return str(email) if email else None


def _books_field(exc: FatalApiError) -> str | None:
    # Books code 3062: 'The contact "<name>" already exists.' names the contact_name field.
    return "contact_name" if exc.code == "3062" or "already exists" in str(exc) else None
