"""First import of N Zoho Inventory items into CS-Cart through real DAG runs, then idle runs: time, memory, calls.

The sandbox runs in a child process (its CPU does not compete with the pipeline for this process's GIL) and is
reset with ``inventory_items = N`` (the lazy generator builds item ``i`` on demand) and its default small CS-Cart
catalogue. The tenant is ``acme_store`` with only ``products`` (direction ``both``, as in the sample file). Runs
of ``zoho_cscart__acme_store__products`` are made with Airflow's ``dag.test()`` (the DAG's own tasks, in this
process), one after the other:

1. **first import**: ``direction=zoho_to_cscart, full_refresh=true``;
2. **first CS-Cart -> Zoho run** (manual, no window given: from ``start_date``, since that direction never ran):
   it reads back the N products the import created (recognised as echoes by their content hash) and pushes
   the store's own products to Inventory;
3. **idle runs**: a manual run of each direction right after, nothing changed in between, twice (the first
   round still sees the previous runs' own writes in its window; the second is the steady hourly state).

Measured per run and per task:

* wall time of each task (task instance start/end) and records per second (extract/map: records extracted;
  load: records written);
* **peak RSS of each task**, exact: before each task the kernel's high-water mark of this process is reset
  (``echo 5 > /proc/self/clear_refs``) and ``VmHWM`` is read when the task ends (``dag.test()`` runs each task
  in this process, so this is the task's own peak, on top of what Airflow and the earlier tasks left
  resident, which is also printed: RSS when the task started);
* API calls per endpoint (the sandbox's counters, over HTTP) against the minimum the APIs allow: Inventory
  list pages of 200 (``ceil(items / 200)``), one read of CS-Cart's product list for the SKU index
  (``ceil(existing / 200)``), one CS-Cart POST per created product and one PUT per adopted one;
* state-store transactions per task (SQLAlchemy events on the state database only);
* peak RSS and CPU of the sandbox process.

Nothing here imports the pipeline's internals: only the DAG (generated dag id, params, tasks), the report
task's XCom and the sandbox's HTTP API, so the numbers compare across rewrites.

Numbers on commit 8ac4acb (2 cores, Python 3.11, SQLite state store and Airflow metadata; ``make bench-products``;
other test runs on the machine during the 272,028 run, load average 4-5, so its seconds are slow):

    ==========================================  ==============  =================
    items in Inventory                                  10,000            272,028
    first import: wall (dag.test)                       73.0 s          2,615.7 s
    extract: s / records/s / peak RSS MiB       1.5/6,672/246    36.3/7,487/248
    map:     s / records/s / peak RSS MiB       0.9/10,604/247   22.1/12,313/249
    load:    s / writes/s  / peak RSS MiB       63.7/157/248     2,549.4/107/251
    load: state transactions per write                    1.03               1.03
    API calls (minimum, over)                   10,054 (10,051,  273,393 (273,390,
                                                       +0.03 %)          +0.001 %)
    first CS-Cart -> Zoho run: calls / wall        127 / 7.1 s     1,437 / 101.4 s
    first CS-Cart -> Zoho run: peak RSS MiB    253 / 254 / 254    254 / 254 / 253
      (extract / map / load)
    idle run Zoho -> CS-Cart: calls (both rounds)            2                  2
    idle run CS-Cart -> Zoho: calls (both rounds)            1                  1
    sandbox process peak RSS                            85 MiB            924 MiB
    ==========================================  ==============  =================

RSS before the first run (Airflow + the parsed DAGs): 167 MiB; after the first task imported the pipeline:
235 MiB. Every task is flat from 10,000 to 272,028 (at most 1.01 x). Earlier, the 272,028 load peaked at 314 MiB
(the load loop kept every written record's key and id; bounded in 44761b4) and the extract at 273 MiB (its Python
set of staged ids, ~26 MiB at 272,028; on disk since 8ac4acb). The idle Zoho -> CS-Cart manual run's second call
is the dashboard counts' one-row CS-Cart total (a run of that direction alone reads no CS-Cart list otherwise).

Usage: python bench/products_first_sync.py [--items 272028] [--cscart-products 120] [--idle-rounds 2]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "plugins"), str(REPO_ROOT / "sandbox"), str(REPO_ROOT)]

TENANT = "acme_store"
DAG_ID = f"zoho_cscart__{TENANT}__products"
PAGE = 200
Z2C, C2Z = "zoho_to_cscart", "cscart_to_zoho"


# -- sandbox in a child process ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/__sandbox__/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def sandbox_process(log_path: Path) -> Iterator[tuple[Any, int]]:
    """The sandbox servers in a child process: (their handle, the child's pid)."""
    from zoho_cscart_sandbox.handle import SandboxHandle

    zoho_port, cscart_port = _free_port(), _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "sandbox"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "zoho_cscart_sandbox", "serve"]
    command += ["--zoho-port", str(zoho_port), "--cscart-port", str(cscart_port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    handle = SandboxHandle(zoho_url=f"http://127.0.0.1:{zoho_port}", cscart_url=f"http://127.0.0.1:{cscart_port}")
    try:
        deadline = time.monotonic() + 30
        while not (_healthy(handle.zoho_url) and _healthy(handle.cscart_url)):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start; see {log_path}")
            time.sleep(0.1)
        yield handle, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def cscart_product_total(sandbox: Any) -> int:
    """Products in the CS-Cart store (one list call of one row, read before the counters are snapshotted)."""
    admin = sandbox.credentials.cscart_for(TENANT)
    token = base64.b64encode(f"{admin.email}:{admin.api_key}".encode()).decode()
    request = urllib.request.Request(
        f"{sandbox.cscart_url}/api/products?items_per_page=1", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(json.loads(response.read())["params"]["total_items"])


# -- per-task measurement --------------------------------------------------------------------------------
def _status_kib(name: str) -> int:
    match = re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def _reset_peak() -> bool:
    """Reset this process's RSS high-water mark to its current RSS (Linux >= 4.0); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class TaskSample:
    task_id: str
    seconds: float
    rss_start_mib: float
    rss_peak_mib: float
    exact_peak: bool
    transactions: int = 0


@dataclass
class TaskMeter:
    """Wraps dag.test()'s in-process task runner: time, RSS at start, peak RSS and state transactions per task."""

    state_db: str
    samples: list[TaskSample] = field(default_factory=list)
    current: str | None = None
    transactions: Counter[str] = field(default_factory=Counter)
    _engines: dict[int, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        from airflow.sdk.definitions import dag as dag_module
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        original: Callable[..., Any] = dag_module._run_task

        def metered(*, ti: Any, task: Any, run_triggerer: bool = False) -> Any:
            rss_start = _status_kib("VmRSS") / 1024
            exact = _reset_peak()
            self.current = ti.task_id
            started = time.monotonic()
            try:
                return original(ti=ti, task=task, run_triggerer=run_triggerer)
            finally:
                seconds = time.monotonic() - started
                peak = (_status_kib("VmHWM") if exact else _status_kib("VmRSS")) / 1024
                self.samples.append(
                    TaskSample(ti.task_id, seconds, rss_start, peak, exact, self.transactions[ti.task_id])
                )
                self.current = None

        dag_module._run_task = metered  # type: ignore[assignment]

        def on_begin(conn: Any) -> None:
            engine = conn.engine
            ours = self._engines.get(id(engine))
            if ours is None:
                url = engine.url
                ours = url.get_backend_name() == "sqlite" and os.path.realpath(str(url.database or "")) == self.state_db
                self._engines[id(engine)] = ours
            if ours and self.current is not None:
                with self._lock:
                    self.transactions[self.current] += 1

        event.listen(Engine, "begin", on_begin)

    def take(self) -> list[TaskSample]:
        """The samples since the last call (transaction counts settled), and a fresh start."""
        taken = []
        for sample in self.samples:
            sample.transactions = self.transactions[sample.task_id]
            taken.append(sample)
        self.samples, self.transactions = [], Counter()
        return taken


def cpu_seconds(pid: int) -> float:
    try:
        fields_after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields_after_name[11]) + int(fields_after_name[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_of(pid: int) -> float:
    try:
        match = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    except OSError:
        return 0.0
    return int(match.group(1)) / 1024 if match else 0.0


def counters_delta(before: dict[str, int], after: dict[str, int]) -> Counter[str]:
    return Counter({k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)})


# -- the runs --------------------------------------------------------------------------------------------
def prepare_airflow(work: Path) -> None:
    os.environ["AIRFLOW_HOME"] = str(work / "airflow_home")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    os.environ["ZCS_TENANTS_DIR"] = str(work / "tenants")


def write_tenant(work: Path) -> None:
    import yaml

    tenants = work / "tenants"
    tenants.mkdir(parents=True, exist_ok=True)
    doc = yaml.safe_load((REPO_ROOT / "include" / "tenants" / f"{TENANT}.yaml").read_text(encoding="utf-8"))
    doc["entities"] = {"products": doc["entities"]["products"]}
    (tenants / f"{TENANT}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class RunResult:
    name: str
    state: str
    wall: float
    calls: Counter[str]
    report: dict[str, Any]
    tasks: list[TaskSample]
    sandbox_cpu: float

    def direction(self, direction: str) -> dict[str, Any]:
        return dict((self.report.get("directions") or {}).get(direction) or {})


def run_once(dag: Any, sandbox: Any, sandbox_pid: int, meter: TaskMeter, name: str, conf: dict[str, Any]) -> RunResult:
    before = sandbox.counters()
    cpu_before = cpu_seconds(sandbox_pid)
    started = time.monotonic()
    run = dag.test(run_conf=conf)
    wall = time.monotonic() - started
    calls = counters_delta(before, sandbox.counters())
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    report = (tis["report"].xcom_pull(task_ids="report") or {}) if "report" in tis else {}
    return RunResult(name, str(run.state), wall, calls, report, meter.take(), cpu_seconds(sandbox_pid) - cpu_before)


def idle(direction: str) -> dict[str, Any]:
    """The conf of a manual run of one direction without a window: from its watermark to the trigger time."""
    return {"direction": direction, "full_refresh": False, "dry_run": False, "record_ids": []}


def _rate(records: int, seconds: float) -> str:
    return f"{records / seconds:,.0f}/s" if seconds > 0 and records else "-"


def print_run(result: RunResult, minimum: int | None = None, minimum_note: str = "") -> None:
    print(f"\n== {result.name}: {result.state}, {result.wall:,.1f} s (sandbox CPU {result.sandbox_cpu:,.1f} s)")
    for direction in (Z2C, C2Z):
        row = result.direction(direction)
        if row:
            shown = {k: v for k, v in row.items() if isinstance(v, int) and v}
            print(f"   report {direction}: " + ", ".join(f"{k}={v:,}" for k, v in shown.items()))
    print(f"   {'task':<24}{'seconds':>9}{'records/s':>12}{'RSS start':>11}{'RSS peak':>10}{'state tx':>10}")
    for sample in result.tasks:
        direction = sample.task_id.split(".", 1)[0]
        row = result.direction(direction)
        if "." in sample.task_id and not row:
            continue  # a direction this run does not sync (its tasks are skipped)
        if sample.task_id.endswith(".load"):
            records = int(row.get("created", 0)) + int(row.get("updated", 0))
        elif sample.task_id.endswith((".extract", ".map")):
            records = int(row.get("extracted", 0))
        else:
            records = 0
        peak = f"{sample.rss_peak_mib:,.0f}" + ("" if sample.exact_peak else "*")
        print(
            f"   {sample.task_id:<24}{sample.seconds:>9,.1f}{_rate(records, sample.seconds):>12}"
            f"{sample.rss_start_mib:>10,.0f}M{peak:>9}M{sample.transactions:>10,}"
        )
    total = sum(result.calls.values())
    line = f"   API calls: {total:,}"
    if minimum:
        line += f"; minimum {minimum:,}{minimum_note} ({(total - minimum) / minimum * 100:+.2f} %)"
    print(line)
    for endpoint, count in sorted(result.calls.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"   {count:9,d}  {endpoint}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=272_028, help="Inventory items of acme_store (default 272028)")
    parser.add_argument("--cscart-products", type=int, default=None, help="CS-Cart catalogue (sandbox default 120)")
    parser.add_argument("--idle-rounds", type=int, default=2, help="idle runs of each direction (default 2)")
    parser.add_argument("--import-only", action="store_true", help="only the first import (no later runs)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zcs-bench-products-"))
    prepare_airflow(work)
    write_tenant(work)
    import logging

    logging.disable(logging.WARNING)
    from zoho_cscart_sandbox.demo import sandbox_connections

    state_db = work / "state.db"
    meter = TaskMeter(os.path.realpath(state_db))
    results: list[RunResult] = []
    with sandbox_process(work / "sandbox.log") as (sandbox, sandbox_pid):
        scale = {"inventory_items": args.items}
        if args.cscart_products is not None:
            scale["cscart_products"] = args.cscart_products
        started = time.monotonic()
        sandbox.reset(scale=scale)
        reset_s = time.monotonic() - started
        existing = cscart_product_total(sandbox)
        os.environ.update(sandbox_connections(sandbox, [TENANT]))
        os.environ["AIRFLOW_CONN_ZOHO_CSCART_STATE"] = json.dumps({"conn_type": "sqlite", "host": str(state_db)})

        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        db.initdb()
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"), safe_mode=False)
        if bag.import_errors:
            print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
            return 1
        dag = bag.get_dag(DAG_ID)
        for task in dag.tasks:
            task.retries = 0
        meter.install()
        rss_floor = _status_kib("VmRSS") / 1024
        print(
            f"Products first import: {args.items:,} Inventory items of {TENANT}, {existing:,} CS-Cart products; "
            f"sandbox reset {reset_s:.2f} s; RSS before the first run {rss_floor:,.0f} MiB; work dir {work}"
        )

        first = run_once(
            dag,
            sandbox,
            sandbox_pid,
            meter,
            "first import Zoho -> CS-Cart (full refresh)",
            {
                "direction": Z2C,
                "full_refresh": True,
            },
        )
        results.append(first)
        z2c = first.direction(Z2C)
        pages = math.ceil(int(z2c.get("extracted", 0)) / PAGE)
        index_pages = math.ceil(existing / PAGE)
        writes = int(z2c.get("created", 0)) + int(z2c.get("updated", 0))
        minimum = pages + index_pages + writes
        print_run(first, minimum, f" = {pages:,} Inventory pages + {index_pages:,} CS-Cart list + {writes:,} writes")

        if args.import_only:
            args.idle_rounds = -1
        # dag.test() keeps the previous run's conf in the DAG's params: every run states its whole conf.
        back = (
            None
            if args.import_only
            else run_once(dag, sandbox, sandbox_pid, meter, "first CS-Cart -> Zoho run after the import", idle(C2Z))
        )
        if back is not None:
            results.append(back)
            print_run(back)
        for round_no in range(1, args.idle_rounds + 1):
            for direction in (Z2C, C2Z):
                result = run_once(dag, sandbox, sandbox_pid, meter, f"idle run {round_no} {direction}", idle(direction))
                results.append(result)
                print_run(result)
        sandbox_peak = peak_rss_of(sandbox_pid)
    print(f"\nsandbox process peak RSS {sandbox_peak:,.0f} MiB")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "items": args.items,
                    "cscart_products": existing,
                    "rss_floor_mib": rss_floor,
                    "sandbox_peak_mib": sandbox_peak,
                    "runs": [
                        {
                            "name": r.name,
                            "state": r.state,
                            "wall": r.wall,
                            "sandbox_cpu": r.sandbox_cpu,
                            "calls": dict(r.calls),
                            "report": r.report.get("directions"),
                            "tasks": [s.__dict__ for s in r.tasks],
                        }
                        for r in results
                    ],
                },
                indent=1,
                default=str,
            )
        )
    return 0 if all(r.state.endswith("success") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
