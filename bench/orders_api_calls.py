"""API calls of the orders pipeline against the minimum the APIs allow, measured with the sandbox's counters.

The sandbox runs in a child process, reset to N CS-Cart orders and N Zoho Inventory sales orders for ``acme_store``
(``scale={"cscart_orders": N, "inventory_salesorders": N}``; products, users and contacts keep the default seed:
120 CS-Cart products, 80 Inventory items, 60 CS-Cart users, 40 Inventory contacts). The tenant has ``products`` and
``orders`` (both ``direction: both``, as in the sample file). Real DAG runs with Airflow's ``dag.test()``:

0. setup (not measured against a minimum): a full products run, so every order's products are linked both ways;
1. **first Zoho -> CS-Cart import** (``full_refresh``, or with ``--first-sync-hours H`` a manual run from ``since``
   = the seed's last H hours: a 100k first sync would take hours of Inventory's paced calls);
2. **first CS-Cart -> Zoho sync** (the same window);
3. **idle runs**: a manual run of each direction from its watermark, nothing changed in between, ``--idle-rounds``
   times (round 1 still sees the writes of the first syncs in its window, the following rounds are the steady
   hourly state).

The minimum each run is measured against (a run's calls are every request the sandbox counted, token mints
included; what the pipeline cannot avoid is derived from the data, read over HTTP before the counters are
snapshotted or after the run):

* CS-Cart -> Zoho: ``ceil(listed / 200)`` CS-Cart pages (``get_orders_data=1``; CS-Cart has no page-size cap,
  the pipeline's 200, the same as Zoho's maximum, is taken as the practical one: unbounded pages time out), one
  Inventory list of the sales orders whose reference starts with ``CSC-`` (200 a page, at least one call, or one
  look-up per order sent when fewer: Inventory does not refuse a second reference, so existing ones must be known
  before creating), per distinct e-mail of the orders sent the cheaper of a contact look-up each or one read of
  every contact (200 a page), one create per new contact, one create per new sales order and one status call
  per sales order whose status is not ``draft`` (Inventory creates drafts: a status is an action, zoho_api.md
  3.5), plus one token mint per run (``--no-mint-in-minimum`` leaves it out);
* Zoho -> CS-Cart: ``ceil(listed / 200)`` Inventory pages, one read per imported sales order (the list has no
  lines), per distinct e-mail the cheaper of a CS-Cart user look-up each or one read of every customer (200 a
  page), one create per CS-Cart order and one status PUT per order (CS-Cart creates orders open, ``O``; status
  cannot be set on create, cscart_api.md 5.4), plus the token mint;
* idle: one list call per direction (the window's empty CS-Cart page / Inventory page), plus the token mint.

Numbers on commit 3d9b851 (``make bench-orders``; before = the same bench on the writers of its parent):

    ==========================================  ======================  ========================
    orders each side                                           1,000   100,000 (first: 3,333)
    first sync CS-Cart -> Zoho: calls (minimum)   1,819 (1,813) +0.3 %    6,046 (6,041) +0.1 %
      before                                     2,894 (1,813) +59.6 %                        -
    first import Zoho -> CS-Cart                 2,161 (1,720) +25.6 %   7,113 (5,740) +23.9 %
      before                                     2,675 (1,720) +55.5 %                        -
    next Zoho -> CS-Cart run (push read back)                   1,062                    3,408
    idle run, each direction                                 2 (1)                    2 (1)
    ==========================================  ======================  ========================

Usage: python bench/orders_api_calls.py [--orders 1000] [--first-sync-hours H] [--idle-rounds 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "plugins"), str(REPO_ROOT / "sandbox"), str(REPO_ROOT), str(Path(__file__).parent)]

from products_first_sync import counters_delta, prepare_airflow, sandbox_process  # noqa: E402

TENANT = "acme_store"
Z2C, C2Z = "zoho_to_cscart", "cscart_to_zoho"
CSCART_PAGE, ZOHO_PAGE = 200, 200
OUR_REFERENCE = re.compile(r"^CSC-\d+$")
IMPORT_STATUSES = ("confirmed", "fulfilled", "closed")
MINT = "POST /oauth/v2/token"


# -- independent reads of both systems (over HTTP, never through the code under test) ---------------------
def _get(url: str, headers: dict[str, str]) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=600) as response:
        return json.loads(response.read())


@dataclass
class Reader:
    sandbox: Any
    cscart_headers: dict[str, str] = field(default_factory=dict)
    zoho_headers: dict[str, str] = field(default_factory=dict)
    zoho_base: str = ""

    def __post_init__(self) -> None:
        admin = self.sandbox.credentials.cscart_for(TENANT)
        token = base64.b64encode(f"{admin.email}:{admin.api_key}".encode()).decode()
        self.cscart_headers = {"Authorization": f"Basic {token}"}
        zoho = self.sandbox.credentials.zoho_for(TENANT)
        body = urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": zoho.refresh_token,
                "client_id": zoho.client_id,
                "client_secret": zoho.client_secret,
            }
        ).encode()
        request = urllib.request.Request(f"{self.sandbox.zoho_accounts_url}/oauth/v2/token", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            access = json.loads(response.read())["access_token"]
        self.zoho_headers = {"Authorization": f"Zoho-oauthtoken {access}"}
        self.zoho_base = f"{self.sandbox.zoho_api_url}/inventory/v1"
        self.organization_id = zoho.organization_id

    def cscart_orders(self, **params: Any) -> list[dict[str, Any]]:
        """List rows (parents and incomplete orders hidden, as the pipeline's list sees them)."""
        query = urllib.parse.urlencode({"items_per_page": 0, **params})
        return list(_get(f"{self.sandbox.cscart_url}/api/orders?{query}", self.cscart_headers)["orders"])

    def cscart_customers(self) -> int:
        query = urllib.parse.urlencode({"items_per_page": 1, "user_type": "C"})
        return int(_get(f"{self.sandbox.cscart_url}/api/users?{query}", self.cscart_headers)["params"]["total_items"])

    def zoho_list(self, resource: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            query = urllib.parse.urlencode({"organization_id": self.organization_id, "page": page, "per_page": 200})
            body = _get(f"{self.zoho_base}/{resource}?{query}", self.zoho_headers)
            rows.extend(body[resource])
            if not body.get("page_context", {}).get("has_more_page"):
                return rows
            page += 1


@dataclass
class Snapshot:
    """What both systems hold, for the minimum: sales orders by id, contact e-mails, CS-Cart orders by id."""

    salesorders: dict[str, dict[str, Any]]
    contact_emails: set[str]
    contacts: int
    cscart_orders: dict[str, dict[str, Any]]
    cscart_customers: int

    @classmethod
    def read(cls, reader: Reader) -> Snapshot:
        contacts = reader.zoho_list("contacts")
        return cls(
            salesorders={str(r["salesorder_id"]): r for r in reader.zoho_list("salesorders")},
            contact_emails={str(r.get("email") or "").strip().casefold() for r in contacts} - {""},
            contacts=len(contacts),
            cscart_orders={str(r["order_id"]): r for r in reader.cscart_orders()},
            cscart_customers=reader.cscart_customers(),
        )


# -- the runs -------------------------------------------------------------------------------------------
def write_tenant(work: Path) -> None:
    import yaml

    tenants = work / "tenants"
    tenants.mkdir(parents=True, exist_ok=True)
    doc = yaml.safe_load((REPO_ROOT / "include" / "tenants" / f"{TENANT}.yaml").read_text(encoding="utf-8"))
    doc["entities"] = {"products": doc["entities"]["products"], "orders": doc["entities"]["orders"]}
    # The seed's traps (a guest without e-mail, a disabled product) fail on purpose: keep the runs green.
    doc["fail_run_on"] = "never"
    (tenants / f"{TENANT}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class Run:
    name: str
    state: str
    wall: float
    calls: Counter[str]
    report: dict[str, Any]
    minimum: int | None = None
    derivation: str = ""

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def direction(self, direction: str) -> dict[str, Any]:
        return dict((self.report.get("directions") or {}).get(direction) or {})


def run_dag(dag: Any, sandbox: Any, name: str, conf: dict[str, Any]) -> Run:
    # dag.test() keeps the previous run's conf in the DAG's params: every run states its whole conf.
    full = {"direction": "configured", "full_refresh": False, "dry_run": False, "record_ids": None}
    full |= {"since": None, "until": None, **conf}
    before = sandbox.counters()
    started = time.monotonic()
    run = dag.test(run_conf=full)
    wall = time.monotonic() - started
    calls = counters_delta(before, sandbox.counters())
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    report = (tis["report"].xcom_pull(task_ids="report") or {}) if "report" in tis else {}
    return Run(name, str(run.state), wall, calls, report)


def first_conf(direction: str, since: str | None) -> dict[str, Any]:
    if since is None:
        return {"direction": direction, "full_refresh": True}
    return {"direction": direction, "since": since}


def minimum_z2c(
    before: Snapshot, report: dict[str, Any], listed: int, mint: int, since: datetime | None
) -> tuple[int, str]:
    """Zoho -> CS-Cart first import (see the module docstring)."""
    # What must be imported, from the list rows alone: in the window, a status to import, not made from a CS-Cart
    # order.
    importable = [
        so
        for so in before.salesorders.values()
        if so["status"] in IMPORT_STATUSES
        and not OUR_REFERENCE.match(str(so.get("reference_number") or ""))
        and (since is None or _zoho_time(str(so["last_modified_time"])) >= since)
    ]
    emails = {str(so.get("email") or "").strip().casefold() for so in importable} - {""}
    tried = len(importable)
    created = int(report.get("created", 0))
    pages = math.ceil(listed / ZOHO_PAGE) if listed else 1
    users = min(len(emails), math.ceil(before.cscart_customers / ZOHO_PAGE))
    total = pages + tried + users + tried + created + mint
    text = (
        f"{pages:,} Inventory pages + {tried:,} sales-order reads + {users:,} customer look-ups ({len(emails):,} "
        f"e-mails) + {tried:,} creates (CS-Cart refuses {tried - created:,}) + {created:,} status PUTs"
        + (" + 1 mint" if mint else "")
    )
    return total, text


def minimum_c2z(before: Snapshot, after: Snapshot, report: dict[str, Any], listed: int, mint: int) -> tuple[int, str]:
    """CS-Cart -> Zoho first sync (see the module docstring)."""
    new = {k: so for k, so in after.salesorders.items() if k not in before.salesorders}
    sent = new | {
        k: so
        for k, so in after.salesorders.items()
        if k in before.salesorders and OUR_REFERENCE.match(str(so.get("reference_number") or ""))
    }
    status_calls = sum(1 for so in new.values() if so["status"] != "draft")
    status_calls += sum(
        1 for k, so in sent.items() if k in before.salesorders and so["status"] != before.salesorders[k]["status"]
    )
    orders = before.cscart_orders | after.cscart_orders
    emails = set()
    for so in sent.values():
        order = orders.get(str(so["reference_number"]).removeprefix("CSC-"))
        if order is not None:
            emails.add(str(order.get("email") or "").strip().casefold())
    emails.discard("")
    new_contacts = len(emails - before.contact_emails)
    references = sum(
        1 for so in before.salesorders.values() if str(so.get("reference_number") or "").upper().startswith("CSC-")
    )
    pages = math.ceil(listed / CSCART_PAGE) if listed else 1
    # One batched list of the CSC- references, or a look-up per order sent when that is fewer calls.
    ref_pages = min(len(sent), max(1, math.ceil(references / ZOHO_PAGE)))
    lookups = min(len(emails), math.ceil(before.contacts / ZOHO_PAGE))
    # A sales order that already had the order's reference is adopted: one update when its content differs.
    updates = int(report.get("updated", 0))
    total = pages + ref_pages + lookups + new_contacts + len(new) + updates + status_calls + mint
    text = (
        f"{pages:,} CS-Cart pages + {ref_pages:,} CSC- reference look-ups + {lookups:,} contact look-ups "
        f"({len(emails):,} e-mails) + {new_contacts:,} contact creates + {len(new):,} sales-order creates + "
        f"{updates:,} updates + {status_calls:,} status calls" + (" + 1 mint" if mint else "")
    )
    return total, text


def _zoho_time(text: str) -> datetime:
    """Inventory's ``2026-11-19T10:30:47-0500``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


def print_run(run: Run) -> None:
    print(f"\n== {run.name}: {run.state}, {run.wall:,.1f} s")
    for direction in (Z2C, C2Z):
        row = run.direction(direction)
        if row:
            shown = {k: v for k, v in row.items() if isinstance(v, int) and v}
            print(f"   report {direction}: " + ", ".join(f"{k}={v:,}" for k, v in shown.items()))
    line = f"   API calls: {run.total:,}"
    if run.minimum:
        line += f"; minimum {run.minimum:,} = {run.derivation} ({(run.total - run.minimum) / run.minimum * 100:+.1f} %)"
    print(line)
    for endpoint, count in sorted(run.calls.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"   {count:9,d}  {endpoint}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000, help="CS-Cart orders and Inventory sales orders (1000)")
    parser.add_argument(
        "--first-sync-hours",
        type=float,
        default=None,
        help="first syncs read only the seed's last H hours (a manual run from since) instead of a full refresh",
    )
    parser.add_argument("--idle-rounds", type=int, default=2, help="idle runs of each direction (default 2)")
    parser.add_argument("--no-mint-in-minimum", action="store_true", help="leave the token mint out of minima")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zcs-bench-orders-"))
    prepare_airflow(work)
    write_tenant(work)
    import logging

    logging.disable(logging.WARNING)
    from zoho_cscart_sandbox.clock import SEED_NOW
    from zoho_cscart_sandbox.demo import sandbox_connections

    since, since_at = None, None
    if args.first_sync_hours is not None:
        since_at = SEED_NOW - timedelta(hours=args.first_sync_hours)
        since = since_at.isoformat()
    runs: list[Run] = []
    state_db = work / "state.db"
    with sandbox_process(work / "sandbox.log") as (sandbox, _pid):
        started = time.monotonic()
        sandbox.reset(scale={"cscart_orders": args.orders, "inventory_salesorders": args.orders})
        reset_s = time.monotonic() - started
        os.environ.update(sandbox_connections(sandbox, [TENANT]))
        os.environ["AIRFLOW_CONN_ZOHO_CSCART_STATE"] = json.dumps({"conn_type": "sqlite", "host": str(state_db)})
        reader = Reader(sandbox)

        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        db.initdb()
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"), safe_mode=False)
        if bag.import_errors:
            print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
            return 1
        products, orders = (bag.get_dag(f"zoho_cscart__{TENANT}__{entity}") for entity in ("products", "orders"))
        for dag in (products, orders):
            for task in dag.tasks:
                task.retries = 0
        print(
            f"Orders API calls: {args.orders:,} CS-Cart orders and {args.orders:,} Inventory sales orders of {TENANT}; "
            f"first syncs: {'full refresh' if since is None else f'since {since}'}; sandbox reset {reset_s:.1f} s; "
            f"work dir {work}"
        )
        setup = run_dag(products, sandbox, "setup: products, full refresh (both directions)", {"full_refresh": True})
        runs.append(setup)
        print_run(setup)
        mint = 0 if args.no_mint_in_minimum else 1

        before = Snapshot.read(reader)
        z2c = run_dag(orders, sandbox, "1. first import Zoho -> CS-Cart", first_conf(Z2C, since))
        after = Snapshot.read(reader)
        listed = int(z2c.direction(Z2C).get("extracted", 0))
        mints = mint if z2c.calls.get(MINT) else 0
        z2c.minimum, z2c.derivation = minimum_z2c(before, z2c.direction(Z2C), listed, mints, since_at)
        runs.append(z2c)
        print_run(z2c)

        before = after
        c2z = run_dag(orders, sandbox, "2. first sync CS-Cart -> Zoho", first_conf(C2Z, since))
        after = Snapshot.read(reader)
        listed = int(c2z.direction(C2Z).get("extracted", 0))
        mints = mint if c2z.calls.get(MINT) else 0
        c2z.minimum, c2z.derivation = minimum_c2z(before, after, c2z.direction(C2Z), listed, mints)
        runs.append(c2z)
        print_run(c2z)

        for round_no in range(1, args.idle_rounds + 1):
            for direction in (Z2C, C2Z):
                idle = run_dag(orders, sandbox, f"3.{round_no} idle run {direction}", {"direction": direction})
                idle.minimum = 1 + (mint if idle.calls.get(MINT) else 0)
                idle.derivation = "1 window list (an empty page)" + (" + 1 mint" if idle.minimum > 1 else "")
                runs.append(idle)
                print_run(idle)

    print(f"\nSummary ({args.orders:,} orders each side; calls / minimum / over):")
    for run in runs[1:]:
        over = f"{(run.total - run.minimum) / run.minimum * 100:+.1f} %" if run.minimum else "-"
        print(f"  {run.name:<40} {run.total:>8,} {run.minimum or 0:>8,} {over:>9}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "orders": args.orders,
                    "since": since,
                    "runs": [
                        {
                            "name": r.name,
                            "state": r.state,
                            "wall": r.wall,
                            "calls": dict(r.calls),
                            "total": r.total,
                            "minimum": r.minimum,
                            "derivation": r.derivation,
                            "report": r.report.get("directions"),
                        }
                        for r in runs
                    ],
                    "at": datetime.now(timezone.utc).isoformat(),
                },
                indent=1,
                default=str,
            )
        )
    return 0 if all(r.state.endswith("success") for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
