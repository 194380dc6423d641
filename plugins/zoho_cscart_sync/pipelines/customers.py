"""Customers: Zoho CRM Accounts/Contacts <-> CS-Cart customers, and CS-Cart -> Zoho Books — a declaration.

Everything generic (staging, map-or-quarantine, prerequisites, conflicts, echo, deletions, report,
watermarks) is the sync kit's. What customers declares:

* **Zoho -> CS-Cart**: CRM Accounts (keyset COQL) and Contacts (list API: COQL returns lookups as bare ids and
  the contact's account *name* is mapped) modified in the window; accounts require their parent account
  (a hierarchy: parents first at any depth, missing ancestors fetched by id) and contacts their account;
  written to CS-Cart users by ``create_then_adopt`` (CS-Cart refuses a second user with one e-mail, so a create
  is only looked up first after an interrupted attempt); CRM deletions deactivate the user
  (``on_zoho_delete``).
* **CS-Cart -> Zoho**: CS-Cart customers (``user_type=C``; the users API has no modified filter, so a full
  scan compared by hash) upserted into CRM Contacts — or Leads for customers who never ordered
  (``cscart_customers_to: leads_for_non_buyers``) — 100 a call, and optionally into Zoho Books
  (``also_to_books``, find-then-create: Books has no upsert).

The genuine quirks (:class:`CustomersQuirks`): sub-accounts fold into their root when not imported on their
own; Leads for non-buyers; CS-Cart edits of users imported from Zoho *Accounts* are not sent back (accounts
are maintained in Zoho); a customer with only a placeholder e-mail has nothing to match on in Zoho; and how a
written CS-Cart user or CRM contact reads back (for echo hashes).

**Conflicts** (both sides changed since the last sync). Zoho -> CS-Cart runs first and compares the CS-Cart
user with what the last sync left there; if it changed too, ``entities.customers.master`` decides. ``zoho``:
the Zoho version is written and the overwritten CS-Cart change is reported (``conflicts``). ``cscart``: the
Zoho change is not applied; the CS-Cart version is sent to Zoho by the CS-Cart -> Zoho pass of the same run.

**Vendor tenants** (``kind: vendor``). CS-Cart 4.13+ answers 403 to a vendor API key on ``/api/users``, so
the tenant's CS-Cart connection must be a marketplace-administrator API user; the pipeline confines itself
to the tenant's ``company_id`` (see :mod:`~zoho_cscart_sync.pipelines.cscart_users`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import ValidationInfo, model_validator

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.kit.quirks import EntityQuirks
from zoho_cscart_sync.kit.runner import SpecPipeline
from zoho_cscart_sync.kit.spec import (
    CountsSpec,
    DirectionSpec,
    EntitySettings,
    EntitySpec,
    Requirement,
    StreamSpec,
    TargetSpec,
)
from zoho_cscart_sync.state.models import RecordLink
from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.staging import StagedRef, read_staged_records
from zoho_cscart_sync.tenants import TenantKind

ENTITY = "customers"
BOOKS_ENTITY = "customers_books"
"""ID-map namespace of CS-Cart user <-> Zoho Books contact links (a user has one CRM and one Books twin)."""
ACCOUNT_FLAG = "crm_account"
"""Link flag: the CS-Cart customer was imported from a Zoho CRM Account (not a Contact)."""
LEAD_FLAG = "crm_lead"
"""Link flag: the CS-Cart customer was exported to Zoho CRM Leads (a non-buyer)."""
CONTACTS = "Contacts"
LEADS = "Leads"
ORDERS_PER_PAGE = 200


class CustomersSettings(EntitySettings):
    """``entities.customers.settings`` (see the README's customers table)."""

    import_sub_accounts: bool | None = None
    """Import child accounts as customers (admin seed) or only show them (vendor seed). Default: true for a
    store, false for a vendor."""
    cscart_customers_to: Literal["contacts", "leads_for_non_buyers"] = "contacts"
    also_to_books: bool = False
    on_zoho_delete: Literal["deactivate", "ignore"] = "deactivate"

    @model_validator(mode="before")
    @classmethod
    def _default_by_tenant_kind(cls, data: Any, info: ValidationInfo) -> Any:
        tenant = (info.context or {}).get("tenant")
        if isinstance(data, dict) and data.get("import_sub_accounts") is None and tenant is not None:
            return {**data, "import_sub_accounts": tenant.kind is TenantKind.STORE}
        return data


CUSTOMERS = EntitySpec(
    entity=ENTITY,
    settings_model=CustomersSettings,
    quirks="zoho_cscart_sync.pipelines.customers:CustomersQuirks",
    # Dashboard: CS-Cart customers (users of type C) and the CRM Accounts and Contacts read from Zoho.
    counts=CountsSpec(cscart_stream="users", zoho_streams=("accounts", "contacts")),
    directions=(
        DirectionSpec(
            direction=Direction.ZOHO_TO_CSCART,
            overridable="crm_contacts",
            streams=(
                StreamSpec(
                    name="accounts",
                    system="zoho_crm",
                    resource="Accounts",
                    id_field="id",
                    mapping="crm_accounts",
                    window="crm_coql",
                    by_ids="coql_in",
                    requires=Requirement(field="Parent_Account", label="parent account", stream="accounts"),
                    deleted_feed=True,
                    flags=(ACCOUNT_FLAG,),
                ),
                StreamSpec(
                    name="contacts",
                    system="zoho_crm",
                    resource="Contacts",
                    id_field="id",
                    mapping="crm_contacts",
                    window="crm_list",
                    by_ids="get_each",
                    requires=Requirement(field="Account_Name", label="account", stream="accounts"),
                    deleted_feed=True,
                ),
            ),
            targets=(
                TargetSpec(
                    name="cscart_users",
                    system="cscart",
                    resource="users",
                    match_key="email",
                    write="create_then_adopt",
                    reader_mapping="crm_contacts",
                ),
            ),
            delete_policy="on_zoho_delete",
        ),
        DirectionSpec(
            direction=Direction.CSCART_TO_ZOHO,
            overridable="crm_contacts",
            streams=(
                StreamSpec(
                    name="users",
                    system="cscart",
                    resource="users",
                    id_field="user_id",
                    mapping="crm_contacts",
                    window="full_scan",
                    list_params={"user_type": "C"},
                ),
            ),
            targets=(
                TargetSpec(
                    name="crm",
                    system="zoho_crm",
                    resource=CONTACTS,
                    match_key="email",
                    write="batch_upsert",
                    reader_mapping="crm_contacts",
                ),
                TargetSpec(
                    name="books",
                    system="zoho_books",
                    resource="contacts",
                    match_key="email",
                    write="find_then_create",
                    namespace=BOOKS_ENTITY,
                    mapping="books_contacts",
                    enabled_by="also_to_books",
                    report_prefix="books",
                ),
            ),
        ),
    ),
)

PIPELINE = SpecPipeline(CUSTOMERS)
"""What ``PIPELINES['customers']`` points at."""


# ---------------------------------------------------------------------------------------------- quirks
USER_ROW_FIELDS: tuple[str, ...] = (
    "email",
    "firstname",
    "lastname",
    "company",
    "phone",
    "status",
    "user_type",
    "company_id",
)
"""Fields of a CS-Cart user list row that a write sets (cscart_api.md 5.3: rows are flat, no b_*/s_*)."""

# CS-Cart fills an empty first/last name and phone from the billing profile (cscart_api.md 5.3, admin area).
_BILLING_FALLBACK = {"firstname": "b_firstname", "lastname": "b_lastname", "phone": "b_phone"}


def cscart_row_after_write(
    payload: Mapping[str, Any], user_id: str, *, before: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The user row CS-Cart lists after ``payload`` was written to user ``user_id``.

    ``before`` is the row as it was when an existing user was adopted or read: a PUT keeps what it omits, and
    an update never sends ``company_id`` (see cscart_users), so the company stays the one read before.
    """
    row: dict[str, Any] = {field: "" for field in USER_ROW_FIELDS}
    if before:
        row.update({field: before.get(field, "") for field in USER_ROW_FIELDS})
    for field in USER_ROW_FIELDS:
        if field == "company_id" and before:
            continue
        value = payload.get(field)
        if value in (None, "") and field in _BILLING_FALLBACK:
            value = payload.get(_BILLING_FALLBACK[field])
        if value not in (None, ""):
            row[field] = str(value)
    row["user_id"] = str(user_id)
    return row


def zoho_record_after_upsert(payload: Mapping[str, Any], zoho_id: str) -> dict[str, Any]:
    """The CRM record a Zoho -> CS-Cart read returns after our upsert created it."""
    return {**payload, "id": str(zoho_id)}


def contact_anchor(
    account_id: str,
    parents: Mapping[str, str | None],
    *,
    import_sub_accounts: bool,
    imported: Collection[str] = (),
) -> str:
    """The account whose CS-Cart customer must exist before a contact of ``account_id`` is loaded.

    With ``import_sub_accounts`` that is the contact's own account. Without (the vendor seed: sub-accounts
    are shown, not imported on their own) a sub-account folds into its nearest imported ancestor, else its
    root account.
    """
    if import_sub_accounts:
        return account_id
    current = account_id
    seen: set[str] = set()
    while current not in imported and parents.get(current) is not None and current not in seen:
        seen.add(current)
        parent = parents[current]
        assert parent is not None
        current = parent
    return current


class CustomersQuirks(EntityQuirks):
    """What customers needs beyond its declaration (see the module docstring)."""

    buyers: set[str] | None = None

    @property
    def settings(self) -> CustomersSettings:
        settings = self.run.settings
        assert isinstance(settings, CustomersSettings)
        return settings

    # -- CS-Cart -> Zoho: Leads for non-buyers ----------------------------------------------------------
    def extract_extras(self) -> dict[str, StagedRef | None]:
        if self.run.direction is not Direction.CSCART_TO_ZOHO:
            return {}
        if self.settings.cscart_customers_to != "leads_for_non_buyers":
            return {"buyers": None}
        # Who ever ordered: one read of the order list (200 a page); ids only are staged.
        with self.run.staging.open_stage("cscart_to_zoho.buyers") as buyers:
            seen: set[str] = set()
            pages = self.run.cscart.pages(
                "orders", params={"sort_by": "order_id", "sort_order": "asc"}, items_per_page=ORDERS_PER_PAGE
            )
            for page in pages:
                for order in page:
                    user_id = str(order.get("user_id") or "0")
                    if user_id != "0" and user_id not in seen:
                        seen.add(user_id)
                        buyers.write({"user_id": user_id})
        return {"buyers": buyers.close()}

    def prepare_map(self, extracted: Mapping[str, Any]) -> None:
        ref = (extracted.get("extras") or {}).get("buyers")
        self.buyers = {str(item["user_id"]) for item in read_staged_records(ref)} if ref else None

    def routes(self, target: TargetSpec) -> tuple[str | None, ...]:
        return (CONTACTS, LEADS) if target.system == "zoho_crm" else (None,)

    def route(
        self, stream: StreamSpec, target: TargetSpec, row: Mapping[str, Any], link: RecordLink | None
    ) -> str | None:
        if target.system != "zoho_crm":
            return None
        if self.buyers is None:
            return CONTACTS
        if link is not None and link.zoho_id and LEAD_FLAG not in link.flags:
            return CONTACTS  # a customer that is (or came from) a Zoho Contact stays a Contact
        return CONTACTS if str(row.get("user_id")) in self.buyers else LEADS

    def mapping_variant(self, stream: StreamSpec, target: TargetSpec, route: str | None) -> str:
        if route == LEADS:
            return "crm_leads"
        return super().mapping_variant(stream, target, route)

    def flags(self, stream: StreamSpec, route: str | None) -> frozenset[str]:
        return frozenset({LEAD_FLAG}) if route == LEADS else frozenset()

    # -- hierarchy ---------------------------------------------------------------------------------------
    def requirement_id(
        self, stream: StreamSpec, required_id: str, parents: Mapping[str, str | None], imported: set[str]
    ) -> str | None:
        if self.settings.import_sub_accounts:
            return required_id
        if stream.name == "accounts":
            return None  # a sub-account is skipped (see skip_reason), so it waits for nothing
        return contact_anchor(required_id, parents, import_sub_accounts=False, imported=imported)

    def skip_reason(
        self, stream: StreamSpec, row: Mapping[str, Any], record: MappedRecord, link: RecordLink | None
    ) -> str | None:
        if stream.name == "accounts" and not self.settings.import_sub_accounts:
            parent = row.get("Parent_Account")
            if isinstance(parent, Mapping) and parent.get("id"):
                return (
                    f"sub-account of account {parent['id']}: shown in Zoho, not imported on its own "
                    "(entities.customers.settings.import_sub_accounts is false)"
                )
        if stream.name != "users":
            return None
        if link is not None and ACCOUNT_FLAG in link.flags:
            if link.hash_to_zoho == content_hash(record.payload):
                return None  # unchanged since it was imported: the load loop counts it as unchanged
            self.counters["account_changes_not_sent"] += 1
            return (
                f"imported from Zoho CRM Account {link.zoho_id}; accounts are maintained in Zoho, so this CS-Cart "
                "edit is not sent (change the account in Zoho)"
            )
        if link is None and not record.natural_keys.get("email"):
            return "no real e-mail address (a placeholder) and no Zoho record linked: nothing to match on in Zoho"
        return None

    # -- echo ------------------------------------------------------------------------------------------
    def read_back(
        self,
        target: TargetSpec,
        route: str | None,
        record: MappedRecord,
        target_id: str,
        *,
        created: bool,
        before: Mapping[str, Any] | None,
    ) -> Mapping[str, Any] | None:
        if target.system == "cscart":
            # No API call: CS-Cart user rows are computable from what was sent (and the row read before).
            return cscart_row_after_write(record.payload, target_id, before=before)
        if route != CONTACTS:
            return None  # Zoho -> CS-Cart never reads Leads
        if created:
            return zoho_record_after_upsert(record.payload, target_id)
        # An existing contact keeps the fields the upsert did not send (addresses, account...): read it back.
        return self.run.zoho.crm_get(CONTACTS, target_id)

    def adjust_counts(self, target: TargetSpec, counts: Any, writer: Any) -> None:
        adopted = int(getattr(writer, "adopted", 0))
        if adopted:
            # Creates the writer turned into adoptions of existing users (duplicate e-mail) were updates.
            counts.created -= adopted
            counts.updated += adopted
            counts.linked_existing += adopted
