"""CS-Cart customers -> Zoho CRM Contacts (or Leads for non-buyers) and, optionally, Zoho Books contacts.

Change detection. CS-Cart's users API has no "updated since" filter and user rows carry no modification
time (cscart_api.md 3.1), so the cheapest *correct* detection is one paged read of the tenant's customers
(``user_type=C``, 200 per page, sorted by id) per run, compared by content hash with what was last written to
Zoho (``hash_to_zoho`` in the ID map). Cost per run: ``ceil(customers / 200)`` CS-Cart list calls and no Zoho
call at all when nothing changed; changed customers cost ``ceil(changed / 100)`` CRM upserts. (The ``new_user``
Zapier hook only reports new users, never edits, so it cannot replace the scan.) With
``cscart_customers_to: leads_for_non_buyers`` the run also reads the order list once (200 per page) to know
who bought.

A vendor tenant reads only customers of its own company (``company_id`` filter).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.pipelines.customers_echo import mapped_hash, track_writes, zoho_record_after_upsert
from zoho_cscart_sync.pipelines.customers_run import (
    ACCOUNT_FLAG,
    BOOKS_ENTITY,
    C2Z,
    ENTITY,
    LEAD_FLAG,
    CustomersRun,
)
from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.staging import StagedRef, read_staged_records
from zoho_cscart_sync.windows import WindowMode

if TYPE_CHECKING:
    from zoho_cscart_sync.mapping import CompiledMapping
    from zoho_cscart_sync.state.models import RecordLink
    from zoho_cscart_sync.sync.report import RunReport

log = logging.getLogger(__name__)

USERS_PER_PAGE = 200
ORDERS_PER_PAGE = 200
LINK_BATCH = 200
CONTACTS = "Contacts"
LEADS = "Leads"


# ---------------------------------------------------------------------------------------------- extract
def extract(run: CustomersRun) -> dict[str, Any]:
    ctx = run.ctx
    hook = run.cscart
    with run.staging.open_stage(f"{C2Z}.users") as users:
        if ctx.window.mode is WindowMode.RECORDS:
            for user_id in ctx.window.record_ids:
                row = hook.get("users", user_id)
                if row is None or str(row.get("user_type")) != "C" or not _own_customer(run, row):
                    log.warning("tenant %s: CS-Cart customer %s not found; nothing to sync", run.tenant_id, user_id)
                    continue
                users.write(row)
        else:
            params: dict[str, Any] = {"user_type": "C", "sort_by": "id", "sort_order": "asc"}
            if ctx.tenant.company_id is not None:
                params["company_id"] = ctx.tenant.company_id
            for page in hook.pages("users", params=params, items_per_page=USERS_PER_PAGE):
                users.write_many(page)
    buyers_ref: StagedRef | None = None
    if run.settings.cscart_customers_to == "leads_for_non_buyers":
        with run.staging.open_stage(f"{C2Z}.buyers") as buyers:
            seen: set[str] = set()
            for page in hook.pages(
                "orders", params={"sort_by": "order_id", "sort_order": "asc"}, items_per_page=ORDERS_PER_PAGE
            ):
                for order in page:
                    user_id = str(order.get("user_id") or "0")
                    if user_id != "0" and user_id not in seen:
                        seen.add(user_id)
                        buyers.write({"user_id": user_id})
        buyers_ref = buyers.close()
    return {"users": users.close(), "buyers": buyers_ref}


def _own_customer(run: CustomersRun, row: Mapping[str, Any]) -> bool:
    company = run.ctx.tenant.company_id
    return company is None or str(row.get("company_id")) == str(company)


# ---------------------------------------------------------------------------------------------- map
def map_records(run: CustomersRun, extracted: Mapping[str, Any]) -> dict[str, Any]:
    buyers = (
        {str(item["user_id"]) for item in read_staged_records(extracted["buyers"])} if extracted.get("buyers") else None
    )
    counts = {"map_failed": 0, "account_changes_not_sent": 0}
    with run.staging.open_stage(f"{C2Z}.mapped") as out:
        chunk: list[dict[str, Any]] = []
        for row in read_staged_records(extracted["users"]):
            chunk.append(row)
            if len(chunk) >= LINK_BATCH:
                out.write_many(_map_chunk(run, chunk, buyers, counts))
                chunk = []
        if chunk:
            out.write_many(_map_chunk(run, chunk, buyers, counts))
    return {
        "mapped": out.close(),
        "extracted": extracted["users"]["records"],
        **counts,
    }


def _map_chunk(
    run: CustomersRun, rows: list[dict[str, Any]], buyers: set[str] | None, counts: dict[str, int]
) -> Iterator[dict[str, Any]]:
    links = run.store.get_links(run.tenant_id, ENTITY, cscart_ids=[str(r["user_id"]) for r in rows])
    for row in rows:
        user_id = str(row["user_id"])
        link = links.get(user_id)
        module = _module_for(run, user_id, link, buyers)
        mapping = run.crm_leads_export if module == LEADS else run.crm_contacts_export
        mapped = mapping.apply(row, tenant=run.tenant_id)
        if not mapped.ok:
            counts["map_failed"] += 1
            _quarantine_map_failure(run, user_id, mapped)
            continue
        record = MappedRecord(
            source_id=user_id,
            payload=mapped.payload,
            natural_keys=dict(mapped.natural_keys),
            flags=frozenset({LEAD_FLAG}) if module == LEADS else frozenset(),
        )
        skip = _skip_reason(run, record, link)
        if skip is not None:
            if link is not None and ACCOUNT_FLAG in link.flags:
                counts["account_changes_not_sent"] += 1
            record = MappedRecord(record.source_id, record.payload, record.natural_keys, record.flags, skip)
        yield {"module": module, "record": record.to_staged(), "books": _books_payload(run, row)}


def _module_for(run: CustomersRun, user_id: str, link: RecordLink | None, buyers: set[str] | None) -> str:
    if buyers is None:
        return CONTACTS
    if link is not None and link.zoho_id and LEAD_FLAG not in link.flags:
        return CONTACTS  # a customer that is (or came from) a Zoho Contact stays a Contact
    return CONTACTS if user_id in buyers else LEADS


def _skip_reason(run: CustomersRun, record: MappedRecord, link: RecordLink | None) -> str | None:
    if link is not None and ACCOUNT_FLAG in link.flags:
        if link.hash_to_zoho == content_hash(record.payload):
            return None  # unchanged since it was imported: the load loop counts it as unchanged
        return (
            f"imported from Zoho CRM Account {link.zoho_id}; accounts are maintained in Zoho, so this CS-Cart "
            "edit is not sent (change the account in Zoho)"
        )
    if link is None and not record.natural_keys.get("email"):
        return "no real e-mail address (a placeholder) and no Zoho record linked: nothing to match on in Zoho"
    return None


def _books_payload(run: CustomersRun, row: Mapping[str, Any]) -> dict[str, Any] | None:
    if not run.settings.also_to_books:
        return None
    mapped = run.books_export.apply(row, tenant=run.tenant_id)
    if not mapped.ok:
        return {"error": mapped.error_summary(), "field": mapped.errors[0].field}
    return MappedRecord(
        source_id=str(row["user_id"]), payload=mapped.payload, natural_keys=dict(mapped.natural_keys)
    ).to_staged()


def _quarantine_map_failure(run: CustomersRun, user_id: str, mapped: Any) -> None:
    log.warning("tenant %s customers: %s", run.tenant_id, mapped.failure_message())
    if not run.ctx.dry_run:
        run.store.quarantine(
            run.tenant_id,
            ENTITY,
            C2Z,
            user_id,
            reason=f"mapping failed: {mapped.error_summary()}",
            stage="map",
            run_id=run.ctx.run_id,
            field=mapped.errors[0].field,
        )


# ---------------------------------------------------------------------------------------------- load
def load(run: CustomersRun, mapped: Mapping[str, Any], report: RunReport) -> dict[str, int]:
    from zoho_cscart_sync.pipelines.zoho_writers import BooksContactWriter, CrmUpsertWriter
    from zoho_cscart_sync.sync.load import LoadJob, load_records

    ctx = run.ctx
    job = LoadJob(
        tenant=run.tenant_id, entity=ENTITY, direction=C2Z, run_id=ctx.run_id, match_key="email", dry_run=ctx.dry_run
    )
    ref: StagedRef = mapped["mapped"]
    will_write: set[str] = set()
    updated_in_zoho: set[str] = set()
    for module in (CONTACTS, LEADS):
        writer = CrmUpsertWriter(run.zoho, module)
        records = track_writes(
            _records(ref, module),
            run.store,
            tenant=run.tenant_id,
            entity=ENTITY,
            source="cscart",
            target="zoho",
            will_write=will_write,
            linked_before=updated_in_zoho,
        )
        load_records(records, job=job, writer=writer, state=run.store, report=report)
    extra: dict[str, int] = {}
    if not ctx.dry_run and ENTITY in ctx.tenant.entities and "zoho_to_cscart" in ctx.tenant.entities[ENTITY].directions:
        _store_echo_hashes(run, ref, run.contacts_mapping, will_write, updated_in_zoho)
    if run.settings.also_to_books:
        books_job = LoadJob(
            tenant=run.tenant_id,
            entity=BOOKS_ENTITY,
            direction=C2Z,
            run_id=ctx.run_id,
            match_key="email",
            dry_run=ctx.dry_run,
        )
        books = load_records(
            _books_records(run, ref, will_write, extra),
            job=books_job,
            writer=BooksContactWriter(run.zoho),
            state=run.store,
            report=report,
        )
        extra.update({"books_created": books.created, "books_updated": books.updated, "books_failed": books.failed})
    return extra


def _records(ref: StagedRef, module: str) -> Iterator[MappedRecord]:
    for item in read_staged_records(ref):
        if item["module"] == module:
            yield MappedRecord.from_staged(item["record"])


def _books_records(
    run: CustomersRun, ref: StagedRef, changed: set[str], extra: dict[str, int]
) -> Iterator[MappedRecord]:
    """Books payloads to load. One Books refused (e.g. a contact name Books already has) is retried only
    when the customer changed in CS-Cart, or on a ``record_ids`` run: the same payload would be refused
    again, and retrying it every hour would cost calls for nothing. It stays listed in quarantine."""
    waiting = set(run.store.quarantined_ids(run.tenant_id, BOOKS_ENTITY, C2Z))
    retry_all = run.ctx.window.mode is WindowMode.RECORDS
    extra.setdefault("books_waiting", 0)
    for item in read_staged_records(ref):
        books = item.get("books")
        if not books:
            continue
        user_id = str(item["record"]["source_id"])
        if user_id in waiting and user_id not in changed and not retry_all:
            extra["books_waiting"] += 1
            continue
        if "error" in books:
            if not run.ctx.dry_run:
                run.store.quarantine(
                    run.tenant_id,
                    BOOKS_ENTITY,
                    C2Z,
                    user_id,
                    reason=f"mapping failed: {books['error']}",
                    stage="map",
                    run_id=run.ctx.run_id,
                    field=books.get("field"),
                )
            continue
        yield MappedRecord.from_staged(books)


def _store_echo_hashes(
    run: CustomersRun, ref: StagedRef, import_mapping: CompiledMapping, written: set[str], updated: set[str]
) -> None:
    """Remember what Zoho -> CS-Cart will compute for the contacts this run wrote (see customers_echo).

    A contact this run created holds exactly our payload. One that existed before keeps the fields the
    upsert did not send (addresses, account...), so it is read back once (one GET per updated contact).
    """
    batch: list[MappedRecord] = []

    def flush() -> None:
        links = run.store.get_links(run.tenant_id, ENTITY, cscart_ids=[r.source_id for r in batch])
        for record in batch:
            link = links.get(record.source_id)
            if link is None or not link.zoho_id or link.hash_to_zoho != content_hash(record.payload):
                continue
            if record.source_id in updated:
                current = run.zoho.crm_get(CONTACTS, link.zoho_id)
                if current is None:
                    continue
            else:
                current = zoho_record_after_upsert(record.payload, link.zoho_id)
            echo = mapped_hash(import_mapping, current, tenant=run.tenant_id)
            if echo is not None and echo != link.hash_to_cscart:
                run.store.save_link(
                    run.tenant_id,
                    ENTITY,
                    zoho_id=link.zoho_id,
                    cscart_id=record.source_id,
                    hash_to_cscart=echo,
                    run_id=run.ctx.run_id,
                )
        batch.clear()

    for item in read_staged_records(ref):
        if item["module"] != CONTACTS:
            continue
        record = MappedRecord.from_staged(item["record"])
        if record.skip_reason or record.source_id not in written:
            continue
        batch.append(record)
        if len(batch) >= LINK_BATCH:
            flush()
    if batch:
        flush()
