"""Zoho CRM Accounts + Contacts -> CS-Cart customers: extract, map and load of one run.

Extract (API cost per run, nothing changed: 4 calls — one COQL for Accounts, one Contacts list page, one
deleted-records page per module):

* Accounts modified in the window by keyset COQL (2,000 rows a call, no 2,000-record wall); Contacts by the
  list API sorted by Modified_Time (page_token past 2,000) because COQL returns lookups as bare ids and the
  contact's account *name* is mapped.
* Parents first needs every ancestor: a parent (or a contact's account) that is neither in the window nor
  already imported is fetched by id (COQL ``id in (...)``, 50 ids a call), up the chain until an imported or
  root account.
* Records waiting in quarantine are fetched by id and retried; ``record_ids`` runs fetch just those ids.
* Deleted Accounts/Contacts (CRM deleted-records endpoint) since the window start.

Map: mapping files ``zoho_to_cscart.crm_accounts`` / ``crm_contacts``; each record is staged with what must
exist in CS-Cart before it (its parent account, or the contact's account) and its depth in the hierarchy.

Load: accounts level by level (roots first), then contacts. A record whose prerequisite is not in CS-Cart
waits in quarantine with the reason; everything else goes through the shared idempotent load loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.pipelines.customers_echo import cscart_row_after_write, mapped_hash, track_writes
from zoho_cscart_sync.pipelines.customers_run import ACCOUNT_FLAG, ENTITY, Z2C, CustomersRun
from zoho_cscart_sync.pipelines.hierarchy import CYCLE, account_depths, contact_anchor
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.staging import StagedRef, read_staged_records
from zoho_cscart_sync.windows import WindowMode

if TYPE_CHECKING:
    from zoho_cscart_sync.pipelines.cscart_users import CsCartUserWriter
    from zoho_cscart_sync.sync.report import RunReport

log = logging.getLogger(__name__)

ACCOUNTS = "Accounts"
CONTACTS = "Contacts"
COQL_IN_LIMIT = 50
WAITING_PREFIX = "waiting: its "
LINK_BATCH = 200


def _lookup_id(value: Any) -> str | None:
    if isinstance(value, Mapping) and value.get("id"):
        return str(value["id"])
    return None


# ---------------------------------------------------------------------------------------------- extract
class _ZohoReader:
    """Reads the Zoho side of one run into staging, tracking ids (never records) in memory."""

    def __init__(self, run: CustomersRun) -> None:
        self.run = run
        self.account_fields = list(dict.fromkeys([*run.accounts_mapping.source_fields(), "Parent_Account"]))
        self.contact_fields = run.contacts_mapping.source_fields()
        self.account_ids: set[str] = set()
        self.contact_ids: set[str] = set()
        self.wanted_accounts: set[str] = set()
        self.missing: list[str] = []

    def accounts_by_id(self, ids: list[str]) -> Iterator[list[dict[str, Any]]]:
        columns = ", ".join(dict.fromkeys([*self.account_fields, "Modified_Time"]))
        for start in range(0, len(ids), COQL_IN_LIMIT):
            chunk = ids[start : start + COQL_IN_LIMIT]
            literals = ", ".join("'" + record_id.replace("'", "''") + "'" for record_id in chunk)
            body = self.run.zoho.crm_coql(f"select {columns} from {ACCOUNTS} where id in ({literals}) limit 200")
            rows = (body or {}).get("data") or []
            if rows:
                yield rows

    def contacts_by_id(self, ids: Iterable[str]) -> Iterator[list[dict[str, Any]]]:
        # Few ids (record_ids runs, quarantine retries): one GET each returns the full record with lookups.
        for record_id in ids:
            record = self.run.zoho.crm_get(CONTACTS, record_id)
            if record is not None:
                yield [record]

    def keep_accounts(self, pages: Iterable[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        for page in pages:
            for row in page:
                record_id = str(row["id"])
                if record_id in self.account_ids:
                    continue
                self.account_ids.add(record_id)
                parent = _lookup_id(row.get("Parent_Account"))
                if parent:
                    self.wanted_accounts.add(parent)
                yield row

    def keep_contacts(self, pages: Iterable[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        for page in pages:
            for row in page:
                record_id = str(row["id"])
                if record_id in self.contact_ids:
                    continue
                self.contact_ids.add(record_id)
                account = _lookup_id(row.get("Account_Name"))
                if account:
                    self.wanted_accounts.add(account)
                yield row

    def unimported(self, account_ids: Iterable[str]) -> list[str]:
        """Of ``account_ids``, those not staged yet and without a CS-Cart customer."""
        candidates = sorted(set(account_ids) - self.account_ids)
        if not candidates:
            return []
        links = self.run.store.get_links(self.run.tenant_id, ENTITY, zoho_ids=candidates)
        return [i for i in candidates if not (i in links and links[i].cscart_id and links[i].deleted_at is None)]


def extract(run: CustomersRun) -> dict[str, Any]:
    ctx = run.ctx
    window = ctx.window
    reader = _ZohoReader(run)
    empty_window = window.since is not None and window.since >= window.until
    by_id = window.mode is WindowMode.RECORDS
    retry_ids = [] if by_id else run.store.quarantined_ids(run.tenant_id, ENTITY, Z2C)

    with run.staging.open_stage(f"{Z2C}.accounts") as accounts, run.staging.open_stage(f"{Z2C}.contacts") as contacts:
        if by_id:
            ids = list(window.record_ids)
            accounts.write_many(reader.keep_accounts(reader.accounts_by_id(ids)))
            contacts.write_many(
                reader.keep_contacts(reader.contacts_by_id(i for i in ids if i not in reader.account_ids))
            )
        elif not empty_window:
            zoho = run.zoho
            accounts.write_many(
                reader.keep_accounts(
                    zoho.crm_window(ACCOUNTS, fields=reader.account_fields, since=window.since, until=window.until)
                )
            )
            contacts.write_many(
                reader.keep_contacts(
                    zoho.crm_window(
                        CONTACTS, fields=reader.contact_fields, since=window.since, until=window.until, strategy="list"
                    )
                )
            )
        if retry_ids:
            pending = [i for i in retry_ids if i not in reader.account_ids and i not in reader.contact_ids]
            accounts.write_many(reader.keep_accounts(reader.accounts_by_id(pending)))
            contacts.write_many(
                reader.keep_contacts(reader.contacts_by_id(i for i in pending if i not in reader.account_ids))
            )
        # Parents first at any depth: fetch every missing ancestor (and contacts' accounts), level by level.
        fetched_ancestors = 0
        asked: set[str] = set()
        while True:
            needed = [i for i in reader.unimported(reader.wanted_accounts) if i not in asked]
            if not needed:
                break
            asked.update(needed)
            before = len(reader.account_ids)
            accounts.write_many(reader.keep_accounts(reader.accounts_by_id(needed)))
            fetched_ancestors += len(reader.account_ids) - before
    if by_id:
        missing = sorted(set(window.record_ids) - reader.account_ids - reader.contact_ids)
        if missing:
            log.warning(
                "tenant %s customers: record_ids not found as CRM Accounts or Contacts (deleted?): %s",
                run.tenant_id,
                ", ".join(missing),
            )
    deleted_ref = _extract_deleted(run) if not (by_id or empty_window) else None
    result: dict[str, Any] = {
        "accounts": accounts.close(),
        "contacts": contacts.close(),
        "deleted": deleted_ref,
        "ancestors_fetched": fetched_ancestors,
        "retried": len(retry_ids),
    }
    log.info(
        "tenant %s customers %s: extracted %d accounts (%d ancestors fetched by id), %d contacts, %d retried",
        run.tenant_id,
        Z2C,
        result["accounts"]["records"],
        fetched_ancestors,
        result["contacts"]["records"],
        len(retry_ids),
    )
    return result


def _extract_deleted(run: CustomersRun) -> StagedRef:
    window = run.ctx.window
    with run.staging.open_stage(f"{Z2C}.deleted") as deleted:
        for module in (ACCOUNTS, CONTACTS):
            for page in run.zoho.crm_deleted(module, since=window.since):
                for row in page:
                    stamp = row.get("deleted_time")
                    if stamp and datetime.fromisoformat(str(stamp)) >= window.until:
                        continue  # deleted after this window: a later run handles it
                    deleted.write({"id": str(row["id"]), "module": module, "deleted_time": stamp})
    return deleted.close()


# ---------------------------------------------------------------------------------------------- map
def map_records(run: CustomersRun, extracted: Mapping[str, Any]) -> dict[str, Any]:
    """Map staged accounts and contacts; stage each with its prerequisite and hierarchy depth."""
    parents: dict[str, str | None] = {}
    for row in read_staged_records(extracted["accounts"]):
        parents[str(row["id"])] = _lookup_id(row.get("Parent_Account"))
    depths = account_depths(parents)
    imported = _imported_accounts(run, {p for p in parents.values() if p} | set(parents))
    counts = {"map_failed": 0}
    settings = run.settings
    with run.staging.open_stage(f"{Z2C}.mapped") as out:
        for row in read_staged_records(extracted["accounts"]):
            source_id = str(row["id"])
            parent = parents[source_id]
            staged = _map_one(run, run.accounts_mapping, row, extra_flags=(ACCOUNT_FLAG,), counts=counts)
            if staged is None:
                continue
            if parent and not settings.import_sub_accounts:
                staged["skip_reason"] = (
                    f"sub-account of account {parent}: shown in Zoho, not imported on its own "
                    "(entities.customers.settings.import_sub_accounts is false)"
                )
            out.write(
                {
                    "kind": "account",
                    "record": staged,
                    "requires": parent if settings.import_sub_accounts else None,
                    "depth": depths.get(source_id, 0),
                }
            )
        for row in read_staged_records(extracted["contacts"]):
            staged = _map_one(run, run.contacts_mapping, row, extra_flags=(), counts=counts)
            if staged is None:
                continue
            account = _lookup_id(row.get("Account_Name"))
            anchor = (
                contact_anchor(account, parents, import_sub_accounts=settings.import_sub_accounts, imported=imported)
                if account
                else None
            )
            out.write({"kind": "contact", "record": staged, "requires": anchor, "depth": 0})
    return {
        "mapped": out.close(),
        "deleted": extracted.get("deleted"),
        "extracted": extracted["accounts"]["records"] + extracted["contacts"]["records"],
        "map_failed": counts["map_failed"],
        "max_depth": max((d for d in depths.values() if d != CYCLE), default=0),
    }


def _imported_accounts(run: CustomersRun, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    links = run.store.get_links(run.tenant_id, ENTITY, zoho_ids=sorted(ids))
    return {zoho_id for zoho_id, link in links.items() if link.cscart_id and link.deleted_at is None}


def _map_one(
    run: CustomersRun,
    mapping: Any,
    row: Mapping[str, Any],
    *,
    extra_flags: tuple[str, ...],
    counts: dict[str, int],
) -> dict[str, Any] | None:
    mapped = mapping.apply(row, tenant=run.tenant_id)
    source_id = str(row.get("id"))
    if not mapped.ok:
        counts["map_failed"] += 1
        first = mapped.errors[0]
        log.warning("tenant %s customers: %s", run.tenant_id, mapped.failure_message())
        if not run.ctx.dry_run:
            run.store.quarantine(
                run.tenant_id,
                ENTITY,
                Z2C,
                source_id,
                reason=f"mapping failed: {mapped.error_summary()}",
                stage="map",
                run_id=run.ctx.run_id,
                field=first.field,
            )
        return None
    record = MappedRecord(
        source_id=source_id,
        payload=mapped.payload,
        natural_keys=dict(mapped.natural_keys),
        flags=frozenset(mapped.flags) | frozenset(extra_flags),
    )
    return record.to_staged()


# ---------------------------------------------------------------------------------------------- load
def load(run: CustomersRun, mapped: Mapping[str, Any], report: RunReport) -> dict[str, int]:
    """Accounts level by level, then contacts, then deletions; returns extra counters for the report."""
    from zoho_cscart_sync.pipelines.cscart_users import CsCartUserWriter
    from zoho_cscart_sync.sync.load import LoadJob, load_records

    ctx = run.ctx
    writer = CsCartUserWriter(
        run.cscart,
        tenant=run.tenant_id,
        company_id=ctx.tenant.company_id,
        lookup_before_create=ctx.dry_run,
    )
    job = LoadJob(
        tenant=run.tenant_id, entity=ENTITY, direction=Z2C, run_id=ctx.run_id, match_key="email", dry_run=ctx.dry_run
    )
    extra = {"waiting_for_parent": 0, "deactivated": 0, "conflicts": 0}
    will_write: set[str] = set()
    levels: list[tuple[str, int | None]] = [
        *(("account", depth) for depth in range(int(mapped.get("max_depth", 0)) + 1)),
        ("account", CYCLE),
        ("contact", None),
    ]
    two_way = "cscart_to_zoho" in ctx.tenant.entities[ENTITY].directions
    # A dry run stores no links, so the accounts it would create count as imported for their children.
    planned: set[str] = set()
    rows_before: dict[str, dict[str, Any]] = {}  # CS-Cart rows read before updating them (conflict check)
    for kind, depth in levels:
        ready = _ready(run, mapped["mapped"], kind=kind, depth=depth, extra=extra, planned=planned)
        records = track_writes(
            _apply_conflict_policy(run, ready, extra, rows_before) if two_way else ready,
            run.store,
            tenant=run.tenant_id,
            entity=ENTITY,
            source="zoho",
            target="cscart",
            will_write=will_write,
        )
        load_records(records, job=job, writer=writer, state=run.store, report=report)
    # The load loop counts a lookup before every create; this writer only looks up when CS-Cart refuses a
    # duplicate e-mail, so report the calls it really made.
    for label in [key for key in report.api_calls if key.startswith(writer.label)]:
        del report.api_calls[label]
    report.add_api_calls({f"cscart {method} /api/users": calls for method, calls in sorted(writer.calls.items())})
    counts = report.counts(ENTITY, Z2C)
    if writer.adopted:
        # Creates the writer turned into adoptions of existing users (duplicate e-mail) were updates.
        counts.created -= writer.adopted
        counts.updated += writer.adopted
        counts.linked_existing += writer.adopted
    if not ctx.dry_run:
        _store_echo_hashes(run, mapped["mapped"], writer, will_write, rows_before)
        if mapped.get("deleted"):
            extra["deactivated"] = _apply_deletions(run, mapped["deleted"], writer)
    return extra


def _ready(
    run: CustomersRun, ref: StagedRef, *, kind: str, depth: int | None, extra: dict[str, int], planned: set[str]
) -> Iterator[MappedRecord]:
    """Records of one kind (and depth) whose prerequisite is in CS-Cart; the others wait in quarantine."""
    chunk: list[dict[str, Any]] = []
    for item in read_staged_records(ref):
        if item["kind"] != kind or (depth is not None and item["depth"] != depth):
            continue
        chunk.append(item)
        if len(chunk) >= LINK_BATCH:
            yield from _ready_chunk(run, chunk, extra, planned)
            chunk = []
    if chunk:
        yield from _ready_chunk(run, chunk, extra, planned)


def _ready_chunk(
    run: CustomersRun, chunk: list[dict[str, Any]], extra: dict[str, int], planned: set[str]
) -> Iterator[MappedRecord]:
    required = sorted({str(item["requires"]) for item in chunk if item.get("requires")})
    imported = _imported_accounts(run, set(required)) | (planned if run.ctx.dry_run else set())
    for item in chunk:
        record = MappedRecord.from_staged(item["record"])
        requirement = item.get("requires")
        if item["depth"] == CYCLE:
            _wait(run, record, "its Zoho account hierarchy loops back on itself (a Parent_Account cycle)", extra)
            continue
        if record.skip_reason or not requirement or requirement in imported:
            if run.ctx.dry_run and not record.skip_reason:
                planned.add(record.source_id)
            yield record
            continue
        what = "parent account" if item["kind"] == "account" else "account"
        reason = f"{WAITING_PREFIX}{what} {requirement} is not in CS-Cart: {_why_missing(run, requirement)}"
        _wait(run, record, reason, extra)


def _apply_conflict_policy(
    run: CustomersRun, records: Iterable[MappedRecord], extra: dict[str, int], rows_before: dict[str, dict[str, Any]]
) -> Iterator[MappedRecord]:
    """Both sides changed since the last sync: the master's version wins, the other change is reported.

    Only linked records about to be updated are checked, with one read of the CS-Cart user each: its row is
    mapped towards Zoho and compared with ``hash_to_zoho`` (what the last sync left in CS-Cart).
    """
    from zoho_cscart_sync.sync.hashing import content_hash

    master = run.settings.master
    export = run.crm_contacts_export
    iterator = iter(records)
    while chunk := list(islice(iterator, LINK_BATCH)):
        links = run.store.get_links(run.tenant_id, ENTITY, zoho_ids=[r.source_id for r in chunk])
        for record in chunk:
            link = links.get(record.source_id)
            if (
                record.skip_reason
                or link is None
                or not link.cscart_id
                or link.hash_to_zoho is None
                or link.hash_to_cscart == content_hash(record.payload)
            ):
                yield record
                continue
            row = run.cscart.get("users", link.cscart_id)
            if row is not None:
                rows_before[link.cscart_id] = row
            if row is None or mapped_hash(export, row, tenant=run.tenant_id) == link.hash_to_zoho:
                yield record  # CS-Cart unchanged since the last sync: no conflict
                continue
            extra["conflicts"] += 1
            if master == "zoho":
                log.warning(
                    "tenant %s customers: CONFLICT on Zoho %s / CS-Cart user %s: both changed since the last sync; "
                    "Zoho is master, its version overwrites the CS-Cart change",
                    run.tenant_id,
                    record.source_id,
                    link.cscart_id,
                )
                yield record
                continue
            log.warning(
                "tenant %s customers: CONFLICT on Zoho %s / CS-Cart user %s: both changed since the last sync; "
                "CS-Cart is master, the Zoho change is not applied and CS-Cart's version is sent to Zoho",
                run.tenant_id,
                record.source_id,
                link.cscart_id,
            )
            yield MappedRecord(
                record.source_id,
                record.payload,
                record.natural_keys,
                record.flags,
                skip_reason="conflict: CS-Cart is master for customers; the Zoho change is not applied",
            )


def _why_missing(run: CustomersRun, account_id: str) -> str:
    entries = run.store.list_quarantine(run.tenant_id, ENTITY, Z2C)
    for entry in entries:
        if entry.source_id == account_id:
            if entry.reason.startswith(WAITING_PREFIX):
                return "it is waiting for its own parent account"
            return f"it is in quarantine ({entry.reason})"
    return "it could not be read from Zoho CRM (deleted, or not visible to this connection)"


def _wait(run: CustomersRun, record: MappedRecord, reason: str, extra: dict[str, int]) -> None:
    extra["waiting_for_parent"] += 1
    log.warning("tenant %s customers %s: record %s waits: %s", run.tenant_id, Z2C, record.source_id, reason)
    if not run.ctx.dry_run:
        run.store.quarantine(
            run.tenant_id,
            ENTITY,
            Z2C,
            record.source_id,
            reason=reason,
            stage="load",
            run_id=run.ctx.run_id,
            field="Parent_Account" if "parent" in reason else "Account_Name",
        )


def _store_echo_hashes(
    run: CustomersRun,
    ref: StagedRef,
    writer: CsCartUserWriter,
    written: set[str],
    rows_before: dict[str, dict[str, Any]],
) -> None:
    """Remember what CS-Cart -> Zoho will compute for the users this run wrote, so it does not echo them."""
    from zoho_cscart_sync.sync.hashing import content_hash

    if "cscart_to_zoho" not in run.ctx.tenant.entities[ENTITY].directions:
        return
    export = run.crm_contacts_export
    batch: list[MappedRecord] = []

    def flush() -> None:
        links = run.store.get_links(run.tenant_id, ENTITY, zoho_ids=[r.source_id for r in batch])
        for record in batch:
            link = links.get(record.source_id)
            if link is None or not link.cscart_id or link.hash_to_cscart != content_hash(record.payload):
                continue  # not written (failed, skipped, waiting)
            row = cscart_row_after_write(
                record.payload,
                link.cscart_id,
                before=writer.adopted_rows.get(link.cscart_id) or rows_before.get(link.cscart_id),
            )
            echo = mapped_hash(export, row, tenant=run.tenant_id)
            if echo is not None and echo != link.hash_to_zoho:
                run.store.save_link(
                    run.tenant_id,
                    ENTITY,
                    zoho_id=record.source_id,
                    cscart_id=link.cscart_id,
                    hash_to_zoho=echo,
                    run_id=run.ctx.run_id,
                )
        batch.clear()

    for item in read_staged_records(ref):
        record = MappedRecord.from_staged(item["record"])
        if record.skip_reason or record.source_id not in written:
            continue
        batch.append(record)
        if len(batch) >= LINK_BATCH:
            flush()
    if batch:
        flush()


def _apply_deletions(run: CustomersRun, ref: StagedRef, writer: CsCartUserWriter) -> int:
    """Deactivate (or only unlink, with on_zoho_delete: ignore) the customers of deleted Zoho records."""
    deactivated = 0
    now = datetime.now(timezone.utc)
    for item in read_staged_records(ref):
        link = run.store.get_link(run.tenant_id, ENTITY, zoho_id=item["id"])
        if link is None or link.deleted_at is not None or not link.cscart_id:
            continue
        if run.settings.on_zoho_delete == "deactivate":
            if writer.deactivate(link.cscart_id):
                deactivated += 1
            else:
                log.warning(
                    "tenant %s: CS-Cart user %s of deleted Zoho record %s is already gone",
                    run.tenant_id,
                    link.cscart_id,
                    item["id"],
                )
        run.store.mark_deleted(run.tenant_id, ENTITY, zoho_id=item["id"], at=now)
    return deactivated
