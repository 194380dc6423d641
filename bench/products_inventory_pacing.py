"""Pacing of a CS-Cart -> Zoho Inventory push against Zoho's per-organisation limit: ~10 minutes, one real DAG run.

Issue 10: "Pacing >= 90 % of the configured rate with zero 429s over a 10-minute run".

The sandbox runs in a child process with a CS-Cart catalogue far bigger than 10 minutes of Inventory calls can
carry (``--products``, default 6,000) and its Inventory per-organisation limit **on** at Zoho's reported value
(knob ``finance_requests_per_minute = 100``: 100 requests per organisation in any 60 s, counted on arrival;
the 101st answers 429 with ``Retry-After: 60``). The tenant is ``acme_store`` with only ``products``; its Zoho
connection keeps the production pacing (``inventory_requests_per_minute`` 100, Zoho's limit and the default;
window 60 s: the sandbox demo's 1-second window is overridden), and ``entities.products.settings.
inventory_calls_per_run`` is set to ``--minutes`` x the configured rate + one minute (1,100 by default), so the
load paces for about 10 minutes and defers the rest to a backlog. One run of ``zoho_cscart__acme_store__products``
with ``dag.test()`` (the DAG's own tasks, in this process, real hooks over HTTP):
``direction=cscart_to_zoho, full_refresh=true`` (the first push of the whole catalogue).

Measured from the sandbox's own counters (``GET /__sandbox__/counters``, polled every 0.25 s by a thread): the
Inventory requests (every endpoint under ``/inventory/``; acme_store's organisation 70000001 is the only one
that calls Inventory) and the answers per HTTP status (429s on both servers). Minute 1 starts at the first
Inventory request; every full minute until the last one is reported, the achieved rate is the full minutes'
requests / their number as a % of the configured rate. Also: records pushed and deferred (the run report's
counters) and the backlog/ETA line the run report prints.

Numbers (2 cores, Python 3.11, SQLite state store; ``make bench-pacing``: 6,000 CS-Cart products, budget 1,100,
configured 100/min with a 60 s window, sandbox limit 100 per 60 s per organisation, no added latency):

    ============================================  =========================================================
    Inventory requests, minutes 1-10              100  100  100  100  100  100  100  100  100  100
    after minute 10                               98 (in 1.9 s: the budget's last records)
    achieved rate (full minutes)                  100.0/min = 100.0 % of the configured 100/min
    429 answers (both servers)                    0
    records pushed / deferred                     1,098 created / 4,902 deferred (extracted 6,000)
    run report                                    backlog: 1,098 / 6,000 done, 4,902 deferred to the next
                                                  runs (1,098 a run), ETA 5 h (5 runs)
    wall: run / load task                         614.5 s / 606.2 s
    ============================================  =========================================================

The limiter is a sliding window dated from each answer: each minute's 100 requests leave in one burst (0.5-1.8 s
here), then it waits until the oldest answer is 60 s old. The server's window, counted on arrival, is always
a little ahead of the client's, so no request meets a full window. With a round trip of L seconds, 100 requests
take 60 + L seconds. With ``--minutes 5 --latency-ms 250`` (250 ms on every Zoho call, budget 600): 100 requests
in each of the 5 full minutes (each minute's burst ~25 s), 100.0 %, 0 429s, 598 created, 5,402 deferred,
``ETA 10 h (10 runs)``; run 339.5 s.

All tasks run in this process (``dag.test()``), so the Inventory limiter's history is shared by them; a task
process in production starts with an empty one (README "Products at catalogue scale").

Usage: python bench/products_inventory_pacing.py [--products 6000] [--minutes 10] [--rate 100]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "plugins"), str(REPO_ROOT / "sandbox"), str(REPO_ROOT), str(REPO_ROOT / "bench")]

TENANT = "acme_store"
DAG_ID = f"zoho_cscart__{TENANT}__products"
C2Z = "cscart_to_zoho"
ZOHO_LIMIT_PER_MINUTE = 100  # Zoho's reported Inventory limit per organisation (zoho_api.md 3.7)
POLL_SECONDS = 0.25


@dataclass
class CounterSampler:
    """Polls the sandbox's counters: (monotonic time, Inventory requests so far, 429 answers so far)."""

    zoho_url: str
    cscart_url: str
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _read(self) -> tuple[float, int, int]:
        inventory, refused = 0, 0
        for url in (self.zoho_url, self.cscart_url):
            with urllib.request.urlopen(f"{url}/__sandbox__/counters", timeout=30) as response:
                body = json.loads(response.read())
            if url == self.zoho_url:
                inventory = sum(int(n) for key, n in body["endpoints"].items() if " /inventory/" in key)
            refused += int(body["statuses"].get("429", 0))
        return time.monotonic(), inventory, refused

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._read())
            self._stop.wait(POLL_SECONDS)

    def start(self) -> None:
        self.samples.append(self._read())
        self._thread = threading.Thread(target=self._loop, name="counter-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.samples.append(self._read())

    def at(self, moment: float) -> int:
        """Inventory requests counted by the last sample taken at or before ``moment``."""
        count = self.samples[0][1]
        for when, inventory, _refused in self.samples:
            if when > moment:
                break
            count = inventory
        return count


def write_tenant(work: Path, budget: int) -> None:
    import yaml

    tenants = work / "tenants"
    tenants.mkdir(parents=True, exist_ok=True)
    doc = yaml.safe_load((REPO_ROOT / "include" / "tenants" / f"{TENANT}.yaml").read_text(encoding="utf-8"))
    products = dict(doc["entities"]["products"])
    products["settings"] = {**(products.get("settings") or {}), "inventory_calls_per_run": budget}
    doc["entities"] = {"products": products}
    (tenants / f"{TENANT}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def paced_connections(sandbox: Any, rate: int | None) -> dict[str, str]:
    """The sandbox connections with the production Inventory window (60 s) and, if given, the rate per minute."""
    from zoho_cscart_sandbox.demo import sandbox_connections

    env = sandbox_connections(sandbox, [TENANT])
    key = f"AIRFLOW_CONN_ZOHO_{TENANT.upper()}"
    zoho = json.loads(env[key])
    for name in ("inventory_rate_window_seconds", "books_rate_window_seconds"):
        zoho["extra"].pop(name, None)
    if rate is not None:
        zoho["extra"]["inventory_requests_per_minute"] = rate
    env[key] = json.dumps(zoho)
    return env


def configured_limit(env: dict[str, str]) -> Any:
    """The Inventory RateLimit the hook builds from the tenant's Zoho connection (hooks/config.py)."""
    from zoho_cscart_sync.hooks.config import ZohoConnectionConfig

    conn_id = f"zoho_{TENANT}"
    data = json.loads(env[f"AIRFLOW_CONN_{conn_id.upper()}"])
    conn = SimpleNamespace(
        conn_id=conn_id, login=data["login"], password=data["password"], extra_dejson=data.get("extra") or {}
    )
    return ZohoConnectionConfig.from_connection(conn).inventory_limit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=6_000, help="CS-Cart products (default 6000)")
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of paced calls (default 10)")
    parser.add_argument(
        "--rate", type=int, default=None, help="inventory_requests_per_minute of the connection (default: unset)"
    )
    parser.add_argument(
        "--server-limit", type=int, default=ZOHO_LIMIT_PER_MINUTE, help="sandbox finance_requests_per_minute"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="sandbox latency_ms on every call (default 0)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from products_first_sync import prepare_airflow, sandbox_process

    work = Path(tempfile.mkdtemp(prefix="zcs-bench-pacing-"))
    prepare_airflow(work)
    import logging

    logging.disable(logging.WARNING)
    state_db = work / "state.db"
    with sandbox_process(work / "sandbox.log") as (sandbox, _sandbox_pid):
        sandbox.reset(scale={"cscart_products": args.products})
        sandbox.set_knobs(server="zoho", finance_requests_per_minute=args.server_limit, latency_ms=args.latency_ms)
        env = paced_connections(sandbox, args.rate)
        limit = configured_limit(env)
        rate = int(limit.requests_per_minute)
        # One minute more than --minutes: the first minute's requests go out at once, the budget's last
        # ones a minute after the first's, so ``--minutes`` full minutes are paced.
        budget = int(rate * (args.minutes + 1))
        write_tenant(work, budget)
        os.environ.update(env)
        os.environ["AIRFLOW_CONN_ZOHO_CSCART_STATE"] = json.dumps({"conn_type": "sqlite", "host": str(state_db)})

        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        from zoho_cscart_sync.sync.report import format_run_report

        db.initdb()
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"), safe_mode=False)
        if bag.import_errors:
            print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
            return 1
        dag = bag.get_dag(DAG_ID)
        for task in dag.tasks:
            task.retries = 0
        print(
            f"Inventory pacing: {args.products:,} CS-Cart products of {TENANT} -> Zoho Inventory; configured "
            f"{rate}/min per {limit.window_seconds:g} s window; sandbox limit {args.server_limit} per 60 s per "
            f"organisation; latency {args.latency_ms} ms; inventory_calls_per_run {budget:,}; work dir {work}"
        )
        sampler = CounterSampler(sandbox.zoho_url, sandbox.cscart_url)
        sampler.start()
        started = time.monotonic()
        run = dag.test(run_conf={"direction": C2Z, "full_refresh": True, "dry_run": False, "record_ids": []})
        wall = time.monotonic() - started
        sampler.stop()
        tis = {ti.task_id: ti for ti in run.get_task_instances()}
        summary = (tis["report"].xcom_pull(task_ids="report") or {}) if "report" in tis else {}
        load_ti = tis.get(f"{C2Z}.load")
        load_seconds = (
            (load_ti.end_date - load_ti.start_date).total_seconds()
            if load_ti is not None and load_ti.start_date and load_ti.end_date
            else float("nan")
        )

    samples = sampler.samples
    base_inventory, base_refused = samples[0][1], samples[0][2]
    first = next((i for i, s in enumerate(samples) if s[1] > base_inventory), None)
    if first is None:
        print("no Inventory request was made", file=sys.stderr)
        return 1
    t0 = samples[first - 1][0] if first else samples[0][0]  # the first request came after this sample
    last_count = samples[-1][1]
    t_end = next(s[0] for s in samples if s[1] == last_count)  # the last request came by this sample
    total = last_count - base_inventory
    refused = samples[-1][2] - base_refused
    full_minutes = int((t_end - t0) // 60)
    per_minute = [sampler.at(t0 + 60 * (k + 1)) - sampler.at(t0 + 60 * k) for k in range(full_minutes)]
    in_full = sum(per_minute)
    achieved = in_full / full_minutes if full_minutes else float("nan")
    row = dict((summary.get("directions") or {}).get(C2Z) or {})
    report_text = format_run_report(summary) if summary else ""
    eta = [line.strip() for line in report_text.splitlines() if line.strip().startswith("backlog:")]

    print(f"\nrun {run.state}, {wall:,.1f} s (load task {load_seconds:,.1f} s)")
    print("Inventory requests per full minute (from the first Inventory request, sandbox counters):")
    for k, count in enumerate(per_minute, 1):
        print(f"   minute {k:>2}: {count:>4}")
    tail = total - in_full
    print(f"   after minute {full_minutes}: {tail} in {t_end - t0 - 60 * full_minutes:.1f} s")
    print(
        f"achieved: {achieved:,.1f}/min over {full_minutes} full minutes = {achieved / rate * 100:.1f} % of the "
        f"configured {rate}/min; all {total:,} Inventory requests in {(t_end - t0) / 60:.2f} min"
    )
    print(f"429 answers: {refused}")
    shown = {k: v for k, v in row.items() if isinstance(v, int) and v}
    print("report cscart_to_zoho: " + ", ".join(f"{k}={v:,}" for k, v in shown.items()))
    print(f"records pushed: {int(row.get('created', 0)) + int(row.get('updated', 0)):,}")
    print("\n".join(eta) or "no backlog line in the report")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "products": args.products,
                    "rate": rate,
                    "budget": budget,
                    "wall": wall,
                    "load_seconds": load_seconds,
                    "per_minute": per_minute,
                    "achieved_per_minute": achieved,
                    "inventory_requests": total,
                    "refused_429": refused,
                    "report": row,
                    "eta": eta,
                    "samples": samples,
                },
                indent=1,
                default=str,
            )
        )
    ok = str(run.state).endswith("success") and refused == 0 and not math.isnan(achieved) and achieved >= 0.9 * rate
    print("goal (>= 90 % of the configured rate, no 429):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
