"""Helpers for the customers fault soak: fault schedules, DAG-run loops, end-state snapshots and diffs.

Everything here talks to the DAGs (``dag.test()``) and to the sandbox (its HTTP APIs and admin endpoints), never
to the pipeline's internals, so the soak measures the current pipeline and any rewrite the same way.

The end state of both sides is read over HTTP and keyed by natural keys, because ids differ between two
sandboxes (or two runs of one): CS-Cart users by e-mail; CRM Contacts and Leads by e-mail; CRM Accounts by
name; Zoho Books contacts by their primary e-mail (else their name). Lookups are replaced by the looked-up
record's name (a contact's ``Account_Name``, an account's ``Parent_Account``). CS-Cart's API lists user rows
without the billing/shipping profile (as the real API does), so the profile fields (``b_*``, ``s_*``) of each
user are read from the in-process sandbox's state when the sandbox runs in this process.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.customers_support import CustomersDags, ZohoReader, _cscart_headers, _http_json

# Client side: the pipeline's own HTTP retries stay on, with short waits; the read timeout is shorter than the
# sandbox's hang, so a "timeout after the write" really loses the answer of an applied write.
SOAK_CONNECTION_EXTRA: dict[str, Any] = {
    "backoff_initial_seconds": 0.05,
    "backoff_max_seconds": 0.2,
    "max_attempts": 4,
    "timeout": 1.0,
}
MAX_ATTEMPTS = int(SOAK_CONNECTION_EXTRA["max_attempts"])

# Server side: 8 % 5xx, 3 % answers lost after the write was applied, short-lived access tokens (shared by
# the runs, so they expire mid-run), and short 429 bursts every few seconds on both systems. The token
# lifetime is as short as Zoho's mint limit allows over a soak of a few minutes (10 mints per 10 minutes,
# failed mints included): a client that mints only when its token expires stays within it.
SOAK_FAULTS: dict[str, Any] = {
    "fail_5xx_rate": 0.08,
    "timeout_rate": 0.03,
    "hang_phase": "after",
    "hang_seconds": 1.5,
    "retry_after_seconds": 1,
    "token_lifetime_seconds": 45,
}
BURST_SIZE = 2
BURST_EVERY_SECONDS = 6.0
# Plus one rate-limit storm on CS-Cart, longer than the client's retries, armed once the store has taken a
# given number of user writes: it lands in the middle of a Zoho -> CS-Cart load (random faults alone do that
# only now and then), so the soak always contains a run that dies part-way through writing.
STORM_SIZE = MAX_ATTEMPTS
POLL_SECONDS = 0.05
FAULTS_OFF: dict[str, Any] = {
    "fail_5xx_rate": 0.0,
    "timeout_rate": 0.0,
    "burst_429": 0,
    "token_lifetime_seconds": 3600,
    "fail_writes_after": -1,
}

# Fields read from Zoho CRM (list API, which returns lookups as {name, id}): everything either direction of
# the customers sync reads or writes, plus a few it must leave alone.
CRM_CONTACT_FIELDS = (
    "Email",
    "First_Name",
    "Last_Name",
    "Phone",
    "Mobile",
    "Home_Phone",
    "Other_Phone",
    "Date_of_Birth",
    "Account_Name",
    "Mailing_Street",
    "Mailing_City",
    "Mailing_State",
    "Mailing_Zip",
    "Mailing_Country",
    "Other_Street",
    "Other_City",
    "Other_State",
    "Other_Zip",
    "Other_Country",
    "Salutation",
    "Title",
    "Description",
)
CRM_ACCOUNT_FIELDS = (
    "Account_Name",
    "Parent_Account",
    "Phone",
    "Website",
    "Billing_Street",
    "Billing_City",
    "Billing_State",
    "Billing_Code",
    "Billing_Country",
    "Shipping_Street",
    "Shipping_City",
    "Shipping_State",
    "Shipping_Code",
    "Shipping_Country",
    "Description",
)
CRM_LEAD_FIELDS = ("Email", "First_Name", "Last_Name", "Phone", "Company", "City", "State", "Zip_Code", "Country")
CRM_LOOKUPS = ("Account_Name", "Parent_Account")
CRM_VOLATILE = ("id", "Modified_Time", "Created_Time")
CSCART_USER_TYPES = ("C", "A", "V")
CSCART_VOLATILE = ("user_id", "profile_id", "timestamp")
BOOKS_VOLATILE = ("contact_id", "contact_person_id", "created_time", "last_modified_time")

Record = dict[str, Any]
Collection = dict[str, list[Record]]


# -- faults --------------------------------------------------------------------------------------------
@dataclass
class FaultLog:
    bursts: int = 0
    storm_at_writes: int | None = None  # CS-Cart user writes counted when the storm was armed


@contextmanager
def soak_faults(sandbox: Any, *, storm_after_user_writes: int | None = None) -> Iterator[FaultLog]:
    """Turn the soak's faults on (both servers) for the body: random faults, short 429 bursts every few
    seconds and, once CS-Cart has taken ``storm_after_user_writes`` user writes, one 429 storm on CS-Cart."""
    sandbox.set_knobs(**SOAK_FAULTS)
    log = FaultLog()
    stop = threading.Event()

    def schedule() -> None:
        next_burst = time.monotonic()
        while not stop.wait(POLL_SECONDS):
            if time.monotonic() >= next_burst:
                for server in ("zoho", "cscart"):
                    # Setting the knob replaces the count: never shorten a storm that is still going on.
                    if int(sandbox.knobs(server)["burst_429"]) < BURST_SIZE:
                        sandbox.set_knobs(server=server, burst_429=BURST_SIZE)
                log.bursts += 1
                next_burst = time.monotonic() + BURST_EVERY_SECONDS
            if storm_after_user_writes is not None and log.storm_at_writes is None:
                writes = cscart_user_writes(writes_between({}, sandbox.counters()))
                if writes >= storm_after_user_writes:
                    sandbox.set_knobs(server="cscart", burst_429=STORM_SIZE)
                    log.storm_at_writes = writes

    thread = threading.Thread(target=schedule, name="soak-fault-schedule", daemon=True)
    thread.start()
    try:
        yield log
    finally:
        stop.set()
        thread.join(timeout=10)
        sandbox.set_knobs(**FAULTS_OFF)


# -- DAG runs ------------------------------------------------------------------------------------------
@dataclass
class RunOutcome:
    state: str
    seconds: float
    not_ok: list[tuple[str, str]]  # (task_id, state) of tasks that did not succeed or skip

    def describe(self) -> str:
        tasks = ", ".join(f"{task}={state}" for task, state in self.not_ok) or "all tasks ok"
        return f"{self.state} in {self.seconds:.1f}s ({tasks})"


def run_once(dags: CustomersDags, tenant: str, **conf: Any) -> RunOutcome:
    started = time.monotonic()
    run = dags.run(tenant, **conf)
    states = [(str(ti.task_id), str(getattr(ti.state, "value", ti.state))) for ti in run.get_task_instances()]
    not_ok = sorted((task, state) for task, state in states if state not in ("success", "skipped"))
    return RunOutcome(str(getattr(run.state, "value", run.state)), time.monotonic() - started, not_ok)


def transient_backlog(dags: CustomersDags, tenant: str) -> int:
    """Records the sync itself still has to retry (quarantined as transient: an ambiguous write, a 5xx past
    the retries). A green run with such a backlog has not finished its work: the next run completes it."""
    from zoho_cscart_sync.state import StateStore

    store = StateStore.from_url(dags.state_url)
    try:
        return sum(1 for entry in store.list_quarantine(tenant) if entry.kind == "transient")
    finally:
        store.close()


def run_until_success(dags: CustomersDags, tenant: str, *, max_runs: int, **conf: Any) -> list[RunOutcome]:
    """Trigger runs (each a real DAG run) until one succeeds with nothing left to retry, at most ``max_runs``."""
    outcomes: list[RunOutcome] = []
    for _ in range(max_runs):
        outcomes.append(run_once(dags, tenant, **conf))
        if outcomes[-1].state == "success" and transient_backlog(dags, tenant) == 0:
            break
    return outcomes


def describe_runs(label: str, outcomes: list[RunOutcome]) -> str:
    return "\n".join(f"{label} run {i}: {o.describe()}" for i, o in enumerate(outcomes, 1))


def fail_store_part_way_then_resume(
    sandbox: Any,
    dags: CustomersDags,
    tenant: str,
    *,
    writes: int,
    faults_off: Mapping[str, Any],
    max_runs: int,
    server: str = "cscart",
    load_task: str = "zoho_to_cscart.load",
) -> tuple[list[str], list[str]]:
    """The ``server`` (by default the store) takes ``writes`` writes and refuses the rest (sandbox knob
    ``fail_writes_after``), so the first full-refresh run fails in its ``load_task`` (by default the Zoho -> CS-Cart
    load); then runs resume with the faults off. Returns (problems, history) so far; the caller adds its end-state
    checks."""
    refused_before = sandbox.status_counters(server).get("500", 0)
    sandbox.set_knobs(server=server, fail_writes_after=writes)
    failed = run_once(dags, tenant, full_refresh=True)
    let_through = sandbox.writes_let_through(server)
    refused = sandbox.status_counters(server).get("500", 0) - refused_before
    sandbox.set_knobs(**faults_off)
    # The scripted failure happened: the server took exactly the scripted writes, refused the rest, and the
    # load writing to it (so the run) failed.
    assert (let_through, refused > 0) == (writes, True), (let_through, refused)
    assert failed.state == "failed" and (load_task, "failed") in failed.not_ok, failed.describe()

    resumed = run_until_success(dags, tenant, max_runs=max_runs, full_refresh=True)
    history = [f"scripted failure run: {failed.describe()}", describe_runs("resumed", resumed)]
    problems = []
    if resumed[-1].state != "success":
        problems.append(f"no run succeeded in {max_runs} runs after the store recovered")
    return problems, history


# -- write counters -----------------------------------------------------------------------------------
def is_data_write(endpoint: str) -> bool:
    """'POST /api/users', 'PUT /crm/v8/Contacts', ... (token mints and COQL queries are not data writes)."""
    method, _, path = endpoint.partition(" ")
    return method in ("POST", "PUT", "PATCH", "DELETE") and "/oauth/" not in path and not path.endswith("/coql")


def writes_between(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Data-write calls per endpoint template made between two ``sandbox.counters()`` readings."""
    return {
        endpoint: count - before.get(endpoint, 0)
        for endpoint, count in after.items()
        if is_data_write(endpoint) and count != before.get(endpoint, 0)
    }


def cscart_user_writes(writes: Mapping[str, int]) -> int:
    return sum(count for endpoint, count in writes.items() if endpoint.split(" ", 1)[1].startswith("/api/users"))


def crm_record_writes(writes: Mapping[str, int]) -> int:
    """CRM insert / update / upsert calls on any module."""
    return sum(count for endpoint, count in writes.items() if endpoint.split(" ", 1)[1].startswith("/crm/"))


# -- end state -----------------------------------------------------------------------------------------
@dataclass
class EndState:
    """Both sides, by natural key. ``crm_modified`` keeps each CRM contact's Modified_Time (not compared)."""

    collections: dict[str, Collection]
    crm_modified: dict[str, list[str]] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        return {name: sum(len(v) for v in coll.values()) for name, coll in self.collections.items()}


def _add(collection: Collection, key: str, record: Record) -> None:
    collection.setdefault(key, []).append(record)


def _sorted(collection: Collection) -> Collection:
    return {
        key: sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str)) for key, rows in collection.items()
    }


def cscart_users(sandbox: Any) -> Collection:
    """Every CS-Cart user of every type, by e-mail, without ids and write times, with its profile fields."""
    headers = _cscart_headers(sandbox)
    table = sandbox.servers.cscart_state.tables["users"] if sandbox.servers is not None else None
    users: Collection = {}
    for user_type in CSCART_USER_TYPES:
        body = _http_json(f"{sandbox.cscart_url}/api/users?user_type={user_type}&items_per_page=0", headers=headers)
        for row in (body or {}).get("users", []):
            user_id = str(row["user_id"])
            record: Record = {k: v for k, v in row.items() if k not in CSCART_VOLATILE}
            if record.get("user_login") == f"user_{user_id}":
                record["user_login"] = "user_<own id>"
            if table is not None:
                stored = table.get(user_id)
                profile = (stored or {}).get("_profile") or {}
                record.update({f"profile.{k}": v for k, v in sorted(profile.items())})
            _add(users, str(row.get("email") or "").strip().casefold(), record)
    return _sorted(users)


def _crm_pages(reader: ZohoReader, module: str, fields: tuple[str, ...]) -> Iterator[Record]:
    url = f"{reader.sandbox.zoho_api_url}/crm/v8/{module}?fields={','.join((*fields, 'Modified_Time'))}&per_page=200"
    token: str | None = None
    while True:
        body = _http_json(url + (f"&page_token={token}" if token else ""), headers=reader.headers)
        if not body:
            return
        yield from body.get("data") or []
        info = body.get("info") or {}
        token = info.get("next_page_token")
        if not info.get("more_records") or not token:
            return


def _crm_record(row: Mapping[str, Any]) -> Record:
    record: Record = {}
    for key, value in row.items():
        if key in CRM_VOLATILE:
            continue
        if key in CRM_LOOKUPS and isinstance(value, Mapping):
            value = {"name": value.get("name")}  # ids differ between sandboxes; the name identifies it
        record[key] = value
    return record


def _contact_key(row: Mapping[str, Any]) -> str:
    email = str(row.get("Email") or "").strip().casefold()
    return email or f"(no e-mail) {row.get('First_Name')} {row.get('Last_Name')}"


def books_contacts(sandbox: Any, reader: ZohoReader, tenant: str) -> Collection:
    org = sandbox.credentials.zoho_for(tenant).organization_id
    base = f"{sandbox.zoho_api_url}/books/v3/contacts"
    contacts: Collection = {}
    page = 1
    while True:
        body = _http_json(f"{base}?organization_id={org}&per_page=200&page={page}", headers=reader.headers) or {}
        for row in body.get("contacts") or []:
            detail = (_http_json(f"{base}/{row['contact_id']}?organization_id={org}", headers=reader.headers) or {})[
                "contact"
            ]
            record = _strip_keys(detail, BOOKS_VOLATILE)
            persons = detail.get("contact_persons") or [{}]
            email = str(persons[0].get("email") or "").strip().casefold()
            _add(contacts, email or f"(no e-mail) {detail.get('contact_name')}", record)
        if not (body.get("page_context") or {}).get("has_more_page"):
            break
        page += 1
    return _sorted(contacts)


def _strip_keys(value: Any, volatile: tuple[str, ...]) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_keys(v, volatile) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [_strip_keys(v, volatile) for v in value]
    return value


def end_state(sandbox: Any, tenant: str, *, books: bool = True) -> EndState:
    """Read both sides of ``tenant`` from the sandbox over HTTP (one token mint for the Zoho side)."""
    reader = ZohoReader(sandbox, tenant)
    contacts: Collection = {}
    modified: dict[str, list[str]] = {}
    for row in _crm_pages(reader, "Contacts", CRM_CONTACT_FIELDS):
        key = _contact_key(row)
        _add(contacts, key, _crm_record(row))
        modified.setdefault(key, []).append(str(row.get("Modified_Time")))
    accounts: Collection = {}
    for row in _crm_pages(reader, "Accounts", CRM_ACCOUNT_FIELDS):
        _add(accounts, str(row.get("Account_Name")), _crm_record(row))
    leads: Collection = {}
    for row in _crm_pages(reader, "Leads", CRM_LEAD_FIELDS):
        _add(leads, _contact_key(row), _crm_record(row))
    collections = {
        "cscart_users": cscart_users(sandbox),
        "crm_contacts": _sorted(contacts),
        "crm_accounts": _sorted(accounts),
        "crm_leads": _sorted(leads),
    }
    if books:
        collections["books_contacts"] = books_contacts(sandbox, reader, tenant)
    return EndState(collections, {k: sorted(v) for k, v in modified.items()})


def written_contacts(before: EndState, after: EndState) -> set[str]:
    """CRM contacts (natural keys) created or modified between two snapshots of one sandbox."""
    return {key for key, stamps in after.crm_modified.items() if before.crm_modified.get(key) != stamps}


# -- diff ----------------------------------------------------------------------------------------------
@dataclass
class CollectionDiff:
    name: str
    missing: list[str] = field(default_factory=list)  # in the expected state only
    extra: list[str] = field(default_factory=list)  # in the actual state only
    count_differs: list[str] = field(default_factory=list)  # same key, a different number of records
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)  # key -> field -> (exp, act)

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.count_differs or self.changed)

    def field_counts(self) -> Counter[str]:
        return Counter(name for fields in self.changed.values() for name in fields)

    def describe(self, examples: int = 6) -> str:
        lines = [
            f"{self.name}: {len(self.missing)} missing, {len(self.extra)} extra, "
            f"{len(self.count_differs)} with another record count, {len(self.changed)} with different fields"
        ]
        if self.changed:
            lines.append(
                "  fields that differ (records): " + ", ".join(f"{f}={n}" for f, n in self.field_counts().most_common())
            )
        for label, keys in (("missing", self.missing), ("extra", self.extra), ("record count", self.count_differs)):
            if keys:
                lines.append(f"  {label}: {', '.join(keys[:examples])}{' ...' if len(keys) > examples else ''}")
        for key, fields in list(self.changed.items())[:examples]:
            shown = "; ".join(f"{f}: {exp!r} -> {act!r}" for f, (exp, act) in sorted(fields.items()))
            lines.append(f"  {key}: {shown}")
        return "\n".join(lines)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        flat = {}
        for index, inner in enumerate(value):
            flat.update(_flatten(inner, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


def diff_collection(name: str, expected: Collection, actual: Collection) -> CollectionDiff:
    diff = CollectionDiff(name)
    diff.missing = sorted(set(expected) - set(actual))
    diff.extra = sorted(set(actual) - set(expected))
    for key in sorted(set(expected) & set(actual)):
        exp_rows, act_rows = expected[key], actual[key]
        if len(exp_rows) != len(act_rows):
            diff.count_differs.append(f"{key} ({len(exp_rows)} -> {len(act_rows)})")
            continue
        fields: dict[str, tuple[Any, Any]] = {}
        for exp_row, act_row in zip(exp_rows, act_rows, strict=True):
            exp_flat, act_flat = _flatten(exp_row), _flatten(act_row)
            for field_name in sorted(set(exp_flat) | set(act_flat)):
                if exp_flat.get(field_name) != act_flat.get(field_name):
                    fields[field_name] = (exp_flat.get(field_name), act_flat.get(field_name))
        if fields:
            diff.changed[key] = fields
    return diff


def diff_states(expected: EndState, actual: EndState) -> list[CollectionDiff]:
    """Per-collection differences (only the collections that differ)."""
    names = sorted(set(expected.collections) | set(actual.collections))
    diffs = [diff_collection(n, expected.collections.get(n, {}), actual.collections.get(n, {})) for n in names]
    return [d for d in diffs if d]
