"""Zoho targets of the customers load: CRM Contacts / Leads by batch upsert, and Zoho Books contacts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from zoho_cscart_sync.http.errors import AmbiguousWriteError, FatalApiError
from zoho_cscart_sync.sync.writer import RecordRejected, SinglesThroughBatch, UpsertItem, UpsertOutcome

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.zoho import ZohoHook

CRM_UPSERT_BATCH = 100
BOOKS_CREATE_ATTEMPTS = 3
EMAIL_FIELD = "Email"


@dataclass
class CrmUpsertWriter(SinglesThroughBatch):
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


@dataclass
class BooksContactWriter:
    """Zoho Books customers (``/books/v3/contacts``). Books has no upsert: look up by e-mail, then write.

    **Two customers with one name.** Books refuses a second contact with a name it already has (code 3062),
    while a store may well have two "Anna Schmidt". Both reach Books, and which one keeps the bare name must
    not depend on the order the records happened to be sent in (a resumed run must end exactly like a clean
    one): the customer with the alphabetically smaller e-mail keeps the bare name, the other is named
    ``"<name> (<e-mail>)"``. The holder of the bare name is renamed only when this sync created it
    (``owns``); a contact someone else created in Books keeps its name, and ours gets the suffix. A customer
    without an e-mail cannot be told apart and stays quarantined with Books' reason.
    """

    hook: ZohoHook
    owns: Callable[[str], bool] = field(default=lambda contact_id: False)
    """True when the Books contact id is linked by this tenant's sync (we created or adopted it)."""
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
        try:
            return self._create(payload)
        except _NameTaken as clash:
            return self._write_despite_name_clash(payload, None, clash)

    def _create(self, payload: Mapping[str, Any]) -> str:
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
                    self._update(existing, payload)
                    return existing
                if attempt == BOOKS_CREATE_ATTEMPTS:
                    raise
            except FatalApiError as exc:
                _raise_refused(exc, "Zoho Books refused the contact")
                raise
        contact_id = created.get("contact_id")
        if not contact_id:
            raise RecordRejected("Zoho Books created the contact but returned no contact_id", field="contact_id")
        return str(contact_id)

    def _find_by_name(self, payload: Mapping[str, Any]) -> str | None:
        holder = self._name_holder(str(payload.get("contact_name") or ""))
        return str(holder["contact_id"]) if holder else None

    def _name_holder(self, name: str) -> dict[str, Any] | None:
        name = name.strip()
        if not name:
            return None
        matches = [
            row
            for page in self.hook.books_pages("contacts", params={"contact_name": name})
            for row in page
            if str(row.get("contact_name") or "").strip().casefold() == name.casefold()
        ]
        return dict(matches[0]) if len(matches) == 1 else None

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        try:
            self._update(target_id, payload)
        except _NameTaken as clash:
            self._write_despite_name_clash(payload, target_id, clash)

    def apply_actions(self, target_id: str, actions: Mapping[str, Any]) -> None:
        """Mark the contact active / inactive (Books takes status by its own call, never in an edit)."""
        wanted = actions.get("status")
        if wanted is None:
            return
        try:
            self.hook.books_mark("contacts", target_id, str(wanted))
        except FatalApiError as exc:
            if exc.status in (400, 404):
                raise RecordRejected(f"Zoho Books refused status {wanted!r}: {exc}", field="status") from None
            raise

    def _update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        try:
            self.hook.books_update("contacts", target_id, payload)
        except FatalApiError as exc:
            if exc.status == 404:
                raise RecordRejected(f"Zoho Books refused the update: {exc}", field=None) from None
            _raise_refused(exc, "Zoho Books refused the update")
            raise

    def _write_despite_name_clash(self, payload: Mapping[str, Any], target_id: str | None, clash: _NameTaken) -> str:
        """Apply the one-name rule (class docstring): rename the holder or suffix this contact, then write."""
        name = str(payload.get("contact_name") or "").strip()
        email = (_books_email(payload) or "").strip()
        holder = self._name_holder(name)
        holder_id = str(holder["contact_id"]) if holder else None
        if not email or holder_id is None or holder_id == target_id:
            raise RecordRejected(clash.reason, field="contact_name") from None
        holder_email = str(holder.get("email") or "").strip() if holder else ""
        if holder_email and email.casefold() < holder_email.casefold() and self.owns(holder_id):
            self._update(holder_id, {"contact_name": _suffixed(name, holder_email)})
            final = dict(payload)
        else:
            final = {**payload, "contact_name": _suffixed(name, email)}
        try:
            if target_id is None:
                return self._create(final)
            self._update(target_id, final)
            return target_id
        except _NameTaken as again:
            raise RecordRejected(again.reason, field="contact_name") from None


class _NameTaken(RecordRejected):
    """Books code 3062: another contact already has this contact_name."""


def _suffixed(name: str, email: str) -> str:
    return f"{name} ({email})"


def _raise_refused(exc: FatalApiError, what: str) -> None:
    """Turn a 400 into a per-record refusal (a name clash gets its own type); other errors propagate."""
    if exc.status != 400:
        return
    if exc.code == "3062" or "already exists" in str(exc):
        raise _NameTaken(f"{what}: {exc}", field="contact_name") from None
    raise RecordRejected(f"{what}: {exc}", field=None) from None


def _books_email(payload: Mapping[str, Any]) -> str | None:
    persons = payload.get("contact_persons") or []
    first = persons[0] if isinstance(persons, list) and persons and isinstance(persons[0], Mapping) else {}
    email = first.get("email")
    return str(email) if email else None
