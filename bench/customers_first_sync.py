"""First sync of N customers Zoho CRM -> CS-Cart through a real DAG run: speed, API calls, state-store work.

The sandbox runs in a child process (so its CPU does not compete with the pipeline for this process's GIL) and
is reset with ``crm_contacts = N`` (the lazy generator builds contact ``i`` on demand; the 30 seed accounts
stay). Then one run of ``zoho_cscart__acme_store__customers`` is made with Airflow's ``dag.test()``, with
``direction=zoho_to_cscart`` and ``full_refresh=true`` - the same run an operator would trigger, through the
DAG's own tasks (plan -> extract -> map -> load -> report).

Measured:

* wall time of the run and of each task (task instance start/end), records per second of the load task;
* API calls per endpoint (the sandbox's counters, read over HTTP), against the minimum the APIs allow
  (CRM list pages of 200 + one POST per new CS-Cart user, as in ``bench/customers_api_calls.py``);
* peak RSS of this process (``getrusage``; ``dag.test()`` runs the tasks here) and of the sandbox process;
* state-store transactions: a SQLAlchemy event listener counts every transaction begun (and every statement)
  on connections to the state database only (not Airflow's metadata database), bucketed by task;
* a cProfile of the run: self time of every function, grouped (state store, HTTP, mapping, staging, Airflow,
  sync engine); time in the standard library and builtins (socket reads, sqlite3, lock waits) is charged to
  the nearest categorised callers. Run with ``--no-profile`` for a clean wall time: cProfile adds overhead to
  every Python call.

Nothing here imports the pipeline's internals: only the DAG (the generated dag id, its params and tasks),
the report task's XCom and the sandbox's HTTP API, so the numbers compare across rewrites.

Measured (2-core CI machine type, Python 3.11.7, other work on the machine; see the README, "First sync at
scale"):

* before (one state write per step: intent, link, echo hash; sandbox scanning every user per create),
  10,000 contacts: 13.3 records/s in the load, 5.03 state transactions per created record, state store
  about 64 % of the pipeline's CPU;
* after (``record_write``: one transaction per confirmed write; sandbox e-mail index), ``--no-profile``:
  10,000 contacts: 136.4 records/s, 1.03 state transactions (12.06 statements) per created record,
  10,086 API calls (minimum 10,079), wall 85.6 s, task-process CPU 68.9 s, peak RSS 271 MiB (sandbox 81);
  50,000 contacts: 129.7 records/s, 1.03 transactions (12.05 statements) per created record, 50,286 API
  calls (minimum 50,279), wall 423.8 s, task-process CPU 301.1 s, peak RSS 304 MiB (sandbox 201);
* after, profiled, 10,000: state store 47.4 %, HTTP 35.3 %, Airflow 6.5 %, mapping 4.2 % of 169 s;
* control: the new pipeline against the old sandbox (O(n) e-mail scan): 7.6 records/s at 10,000 - the
  scan, not the pipeline, bounded the old rate.

Usage: python bench/customers_first_sync.py [--customers 50000] [--no-profile] [--top 0] [--profile-out FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "plugins"), str(REPO_ROOT / "sandbox"), str(REPO_ROOT)]

TENANT = "acme_store"
DAG_ID = f"zoho_cscart__{TENANT}__customers"
LOAD_TASK = "zoho_to_cscart.load"

# Profile categories: (label, substrings of the function's file path), first match wins. Functions of the
# standard library and builtins (socket reads, lock waits, sqlite3 calls, json) belong to no category: their
# self time is charged to the nearest categorised callers, in proportion to the calls' time.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("state store (SQLAlchemy + sqlite)", ("zoho_cscart_sync/state/", "sqlalchemy/")),
    (
        "HTTP (client, hooks, auth)",
        (
            "zoho_cscart_sync/http/",
            "zoho_cscart_sync/hooks/",
            "zoho_cscart_sync/auth/",
            "requests/",
            "urllib3/",
            "tenacity/",
            "certifi/",
            "charset_normalizer/",
            "idna/",
        ),
    ),
    ("mapping", ("zoho_cscart_sync/mapping/",)),
    ("staging (files)", ("zoho_cscart_sync/sync/staging",)),
    ("Airflow (task runner, XCom, metadata DB)", ("airflow/", "structlog/", "pydantic/", "msgspec")),
    ("sync engine + pipeline", ("zoho_cscart_sync/",)),
)
OTHER = "other (unattributed)"


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
    command = [
        sys.executable,
        "-m",
        "zoho_cscart_sandbox",
        "serve",
        "--zoho-port",
        str(zoho_port),
        "--cscart-port",
        str(cscart_port),
    ]
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


# -- state-store transactions ----------------------------------------------------------------------------
@dataclass
class StateStoreCounter:
    """Counts transactions and statements on connections to one SQLite database file (the state store)."""

    database: str
    transactions: list[float] = field(default_factory=list)  # time.time() of each BEGIN
    statements: list[float] = field(default_factory=list)
    commits: int = 0
    rollbacks: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    _engines: dict[int, bool] = field(default_factory=dict, repr=False)

    def ours(self, conn: Any) -> bool:
        engine = conn.engine
        known = self._engines.get(id(engine))
        if known is None:
            url = engine.url
            known = url.get_backend_name() == "sqlite" and os.path.realpath(str(url.database or "")) == self.database
            self._engines[id(engine)] = known
        return known

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        def on_begin(conn: Any) -> None:
            if self.ours(conn):
                with self._lock:
                    self.transactions.append(time.time())

        def on_commit(conn: Any) -> None:
            if self.ours(conn):
                self.commits += 1

        def on_rollback(conn: Any) -> None:
            if self.ours(conn):
                self.rollbacks += 1

        def on_statement(conn: Any, *_args: Any) -> None:
            if self.ours(conn):
                with self._lock:
                    self.statements.append(time.time())

        event.listen(Engine, "begin", on_begin)
        event.listen(Engine, "commit", on_commit)
        event.listen(Engine, "rollback", on_rollback)
        event.listen(Engine, "before_cursor_execute", on_statement)

    @staticmethod
    def between(stamps: list[float], start: float, end: float) -> int:
        return sum(1 for t in stamps if start <= t <= end)


# -- profile ---------------------------------------------------------------------------------------------
def _category(filename: str) -> str | None:
    path = filename.replace(os.sep, "/")
    return next((label for label, needles in CATEGORIES if any(n in path for n in needles)), None)


def profile_shares(profile: cProfile.Profile) -> tuple[dict[str, float], list[tuple[float, str]]]:
    """Self time per category (seconds), uncategorised frames charged to their callers; top functions."""
    stats = pstats.Stats(profile)
    raw: dict[Any, tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    memo: dict[Any, dict[str, float]] = {}
    in_progress: set[Any] = set()

    def shares_of(func: Any) -> dict[str, float]:
        """How one second of ``func``'s time splits over categories (by its callers when uncategorised)."""
        label = _category(func[0])
        if label is not None:
            return {label: 1.0}
        if func in memo:
            return memo[func]
        if func in in_progress:
            return {OTHER: 1.0}  # a recursion cycle through uncategorised frames
        in_progress.add(func)
        callers = raw.get(func, (0, 0, 0.0, 0.0, {}))[4]
        weights = {c: float(v[3]) for c, v in callers.items()}  # time spent in func when called from c
        total = sum(weights.values())
        split: dict[str, float] = defaultdict(float)
        if total <= 0:
            split[OTHER] = 1.0
        for caller, weight in weights.items():
            if weight <= 0:
                continue
            for name, share in shares_of(caller).items():
                split[name] += share * weight / total
        in_progress.discard(func)
        memo[func] = dict(split)
        return memo[func]

    by_category: dict[str, float] = defaultdict(float)
    functions: list[tuple[float, str]] = []
    for func, (_cc, _nc, tottime, _ct, _callers) in raw.items():
        for name, share in shares_of(func).items():
            by_category[name] += tottime * share
        filename, line, name = func
        short = filename.split("site-packages/")[-1].split("plugins/")[-1]
        functions.append((tottime, f"{short}:{line} {name}"))
    functions.sort(reverse=True)
    return dict(by_category), functions


# -- the run ---------------------------------------------------------------------------------------------
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
    doc["entities"] = {"customers": doc["entities"]["customers"]}
    (tenants / f"{TENANT}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0.0 where unavailable."""
    try:
        fields_after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields_after_name[11]) + int(fields_after_name[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int | None = None) -> float:
    """Peak resident set size in MiB: this process (getrusage) or another one (/proc VmHWM), 0.0 if unknown."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def counters_delta(before: dict[str, int], after: dict[str, int]) -> Counter[str]:
    return Counter({k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=50_000, help="CRM contacts in the sandbox (default 50000)")
    parser.add_argument("--no-profile", action="store_true", help="no cProfile (cleaner wall time)")
    parser.add_argument("--top", type=int, default=12, help="also list the N functions with the most self time")
    parser.add_argument("--profile-out", type=Path, help="also save the raw cProfile stats here (pstats format)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zcs-bench-first-sync-"))
    prepare_airflow(work)
    write_tenant(work)
    import logging

    logging.disable(logging.WARNING)
    from zoho_cscart_sandbox.demo import sandbox_connections

    state_db = work / "state.db"
    counter = StateStoreCounter(os.path.realpath(state_db))
    counter.install()

    with sandbox_process(work / "sandbox.log") as (sandbox, sandbox_pid):
        started = time.monotonic()
        sandbox.reset(scale={"crm_contacts": args.customers})
        reset_s = time.monotonic() - started
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

        before = sandbox.counters()
        rss_before_run = peak_rss_mib()
        sandbox_cpu_before = cpu_seconds(sandbox_pid)
        client_cpu_before = time.process_time()
        profile = cProfile.Profile() if not args.no_profile else None
        t0 = time.monotonic()
        if profile is not None:
            profile.enable()
        run = dag.test(run_conf={"direction": "zoho_to_cscart", "full_refresh": True})
        if profile is not None:
            profile.disable()
        wall = time.monotonic() - t0
        client_cpu = time.process_time() - client_cpu_before
        sandbox_cpu = cpu_seconds(sandbox_pid) - sandbox_cpu_before
        rss_peak, sandbox_rss_peak = peak_rss_mib(), peak_rss_mib(sandbox_pid)
        calls = counters_delta(before, sandbox.counters())

    tasks = {ti.task_id: ti for ti in run.get_task_instances()}
    report = (tasks["report"].xcom_pull(task_ids="report") or {}) if "report" in tasks else {}
    z2c = (report.get("directions") or {}).get("zoho_to_cscart") or {}
    created = int(z2c.get("created", 0))
    written = created + int(z2c.get("updated", 0))

    print(f"\nFirst sync Zoho CRM -> CS-Cart, {args.customers:,} CRM contacts (+ seed accounts), one DAG run")
    print(f"run state: {run.state}; sandbox reset {reset_s:.2f} s; work dir {work}")
    print("report: " + ", ".join(f"{k}={v}" for k, v in z2c.items() if isinstance(v, int)))
    rows: list[tuple[str, str]] = [
        ("total wall time (dag.test)", f"{wall:,.1f} s"),
        ("CPU: this process (pipeline + Airflow)", f"{client_cpu:,.1f} s"),
        ("CPU: sandbox process (both fake APIs)", f"{sandbox_cpu:,.1f} s"),
        (
            "peak RSS: this process (tasks run here)",
            f"{rss_peak:,.0f} MiB (before the run: {rss_before_run:,.0f} MiB)",
        ),
        ("peak RSS: sandbox process", f"{sandbox_rss_peak:,.0f} MiB"),
    ]
    stage_rows: list[tuple[str, str]] = []
    load_window: tuple[float, float] | None = None
    for task_id in ("plan", "zoho_to_cscart.extract", "zoho_to_cscart.map", LOAD_TASK, "report"):
        ti = tasks.get(task_id)
        if ti is None or ti.start_date is None or ti.end_date is None:
            continue
        start, end = ti.start_date.timestamp(), ti.end_date.timestamp()
        seconds = end - start
        tx = counter.between(counter.transactions, start, end)
        stage_rows.append((task_id, f"{seconds:,.1f} s, {tx:,} state transactions"))
        if task_id == LOAD_TASK:
            load_window = (start, end)
    rows += stage_rows
    if load_window is not None:
        load_s = load_window[1] - load_window[0]
        load_tx = counter.between(counter.transactions, *load_window)
        load_statements = counter.between(counter.statements, *load_window)
        rows.append(("load: records written per second", f"{written / load_s:,.1f} /s" if load_s else "-"))
        if created:
            rows.append(("load: state transactions per created record", f"{load_tx / created:.2f}"))
            rows.append(("load: state statements per created record", f"{load_statements / created:.2f}"))
    rows.append(("state transactions, whole run", f"{len(counter.transactions):,} ({counter.commits:,} commits)"))
    total_calls = sum(calls.values())
    rows.append(
        (
            "API calls, whole run",
            f"{total_calls:,}" + (f" ({total_calls / written:.2f} per record written)" if written else ""),
        )
    )
    # The minimum the APIs allow (as in bench/customers_api_calls.py): CRM list pages of 200 and one call per
    # CS-Cart user written (CS-Cart has no bulk create).
    minimum = math.ceil(int(z2c.get("extracted", 0)) / 200) + written
    if minimum:
        rows.append(("API calls: minimum", f"{minimum:,} ({(total_calls - minimum) / minimum * 100:+.1f} %)"))
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")
    print("\nAPI calls by endpoint:")
    for endpoint, count in calls.most_common():
        print(f"  {count:8,d}  {endpoint}")
    if profile is not None:
        if args.profile_out is not None:
            profile.dump_stats(str(args.profile_out))
        shares, functions = profile_shares(profile)
        total = sum(shares.values()) or 1.0
        print(f"\nProfile (cProfile self time of this process, {total:,.1f} s profiled; sandbox excluded):")
        for label, seconds in sorted(shares.items(), key=lambda kv: -kv[1]):
            print(f"  {label.ljust(42)} {seconds:8.1f} s  {seconds / total * 100:5.1f} %")
        if args.top:
            print(f"\nTop {args.top} functions by self time:")
            for seconds, name in functions[: args.top]:
                print(f"  {seconds:8.2f} s  {name}")
    return 0 if str(run.state).endswith("success") else 1


if __name__ == "__main__":
    sys.exit(main())
