"""API calls of the customers pipeline per 1,000 customers, measured with the sandbox's per-endpoint counters.

Scenarios (tenant acme_store, both directions, Zoho Books off unless --books):
1. first sync, Zoho -> CS-Cart: every CRM contact (and account) becomes a CS-Cart customer;
2. first sync, CS-Cart -> Zoho: every CS-Cart customer not from Zoho is upserted into CRM Contacts;
3. an hourly run in which nothing changed (both directions).

The minimum the APIs allow: list pages of 200 (Zoho CRM, CS-Cart), CRM upserts of 100, and one POST per new
CS-Cart user (CS-Cart has no bulk create). Every call the pipeline makes is counted by the sandbox, the
token mint and the deleted-records reads included.

Usage: python bench/customers_api_calls.py [--customers 1000] [--books]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "plugins"), str(REPO_ROOT / "sandbox"), str(REPO_ROOT)]


def _run_direction(tenant: Any, direction: str, tenants_dir: Path, window: Any, run_id: str) -> dict[str, Any]:
    from zoho_cscart_sync.pipeline import RunContext
    from zoho_cscart_sync.pipelines.customers import CustomersPipeline

    ctx = RunContext(tenant, "customers", direction, window, run_id, False, tenants_dir)
    pipeline = CustomersPipeline()
    loaded = pipeline.load(ctx, pipeline.map(ctx, pipeline.extract(ctx)))
    pipeline.finish(ctx, loaded, succeeded=True)
    return dict(loaded["report"])


def _delta(after: dict[str, int], before: dict[str, int]) -> Counter[str]:
    return Counter({k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--books", action="store_true", help="also send customers to Zoho Books")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zcs-bench-customers-"))
    os.environ["AIRFLOW_HOME"] = str(work / "airflow_home")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    import logging

    logging.disable(logging.WARNING)
    import yaml

    from zoho_cscart_sandbox.demo import sandbox_connections
    from zoho_cscart_sandbox.handle import start_in_process
    from zoho_cscart_sync.tenants import load_tenant
    from zoho_cscart_sync.windows import RunWindow, WindowMode

    tenants_dir = work / "tenants"
    tenants_dir.mkdir()
    doc = yaml.safe_load((REPO_ROOT / "include" / "tenants" / "acme_store.yaml").read_text(encoding="utf-8"))
    doc["entities"] = {"customers": doc["entities"]["customers"]}
    doc["entities"]["customers"]["settings"]["also_to_books"] = bool(args.books)
    (tenants_dir / "acme_store.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    tenant = load_tenant(tenants_dir, "acme_store")

    sandbox = start_in_process()
    try:
        sandbox.reset(scale={"customers": args.customers})
        os.environ.update(sandbox_connections(sandbox, ["acme_store"]))
        os.environ["AIRFLOW_CONN_ZOHO_CSCART_STATE"] = json.dumps(
            {"conn_type": "sqlite", "host": str(work / "state.db")}
        )
        now = datetime.now(timezone.utc)
        full = RunWindow(since=None, until=now, mode=WindowMode.FULL_REFRESH)
        rows: list[tuple[str, dict[str, Any], Counter[str], int]] = []

        before = sandbox.counters()
        z2c = _run_direction(tenant, "zoho_to_cscart", tenants_dir, full, "bench_full")
        calls = _delta(sandbox.counters(), before)
        minimum_z2c = math.ceil(z2c["extracted"] / 200) + z2c["created"] + z2c["updated"]
        rows.append(("1. first sync Zoho -> CS-Cart", z2c, calls, minimum_z2c))

        before = sandbox.counters()
        c2z = _run_direction(tenant, "cscart_to_zoho", tenants_dir, full, "bench_full")
        calls = _delta(sandbox.counters(), before)
        minimum_c2z = math.ceil(c2z["extracted"] / 200) + math.ceil((c2z["created"] + c2z["updated"]) / 100)
        if args.books:
            minimum_c2z += c2z.get("books_created", 0) + c2z.get("books_updated", 0)
        rows.append(("2. first sync CS-Cart -> Zoho", c2z, calls, minimum_c2z))

        # The next hour, after both first syncs (their own writes are older than its start).
        idle_start = datetime.now(timezone.utc) + timedelta(seconds=1)
        hour = RunWindow(since=idle_start, until=idle_start + timedelta(hours=1), mode=WindowMode.INTERVAL)
        before = sandbox.counters()
        idle_z2c = _run_direction(tenant, "zoho_to_cscart", tenants_dir, hour, "bench_idle")
        idle_c2z = _run_direction(tenant, "cscart_to_zoho", tenants_dir, hour, "bench_idle")
        calls = _delta(sandbox.counters(), before)
        # One (empty) window read and one deleted-records read per CRM module, plus the CS-Cart user scan.
        minimum_idle = 4 + math.ceil(idle_c2z["extracted"] / 200)
        idle = {k: idle_z2c.get(k, 0) + idle_c2z.get(k, 0) for k in ("extracted", "created", "updated")}
        rows.append(("3. hourly run, nothing changed", idle, calls, minimum_idle))
    finally:
        if sandbox.servers is not None:
            sandbox.servers.stop()

    books = "on" if args.books else "off"
    print(f"Customers pipeline API calls, sandbox scale customers={args.customers} (Zoho Books {books})")
    for title, report, calls, minimum in rows:
        total = sum(calls.values())
        overhead = (total - minimum) / minimum * 100 if minimum else 0.0
        print(f"\n{title}: {total} calls (minimum {minimum}, {overhead:+.1f} %)")
        print(
            "  records: "
            + ", ".join(f"{k}={report.get(k, 0)}" for k in ("extracted", "created", "updated", "unchanged", "failed"))
        )
        for endpoint, count in sorted(calls.items()):
            print(f"  {count:6d}  {endpoint}")
        if total:
            per_1000 = total * 1000 / max(args.customers, 1)
            print(f"  per 1,000 customers: {per_1000:.0f} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
