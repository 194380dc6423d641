"""Parse-time benchmark: DAG-folder parse with 1, 100 and 1,000 generated tenants (3 DAGs each).

Each measurement runs in a fresh interpreter, the way Airflow's DAG processor parses a file:
- "full parse": DagBag of the DAG file, every tenant x entity DAG built (the DAG processor's job);
- "one DAG": the same file with the parsing context set to one dag_id (what a worker does per task).
Airflow's own import is measured separately and excluded from both numbers.

Usage: python bench/parse_time.py [--tenants 1 100 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "include" / "tenants" / "acme_store.yaml"

# Same as dags/zoho_cscart_sync_dags.py, but with all three entities registered (the benchmark measures
# the factory; pipeline implementations are never imported at parse time, so the path is not loaded).
DAG_FILE = """\
# Benchmark copy of the airflow DAG file: every entity has a pipeline spec.
from pathlib import Path
from zoho_cscart_sync.dag_factory import register_dags
from zoho_cscart_sync.pipeline import PipelineSpec

BOTH = ("zoho_to_cscart", "cscart_to_zoho")
SPECS = {{e: PipelineSpec(e, "zoho_cscart_sync.pipeline:PIPELINES", BOTH) for e in ("customers", "products", "orders")}}
register_dags(globals(), Path({tenants!r}), SPECS)
"""

PROBE = """\
import json, os, sys, time
t0 = time.perf_counter()
import airflow.sdk  # noqa: F401  (Airflow's own import, excluded from the parse number)
from airflow.dag_processing.dagbag import DagBag
from airflow.providers.standard.operators.python import PythonOperator  # noqa: F401  (Airflow's own)
t1 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
t2 = time.perf_counter()
assert not bag.import_errors, bag.import_errors
print(json.dumps({"airflow_import_s": t1 - t0, "parse_s": t2 - t1, "dags": len(bag.dag_ids)}))
"""


def make_tenants(directory: Path, count: int) -> None:
    text = SAMPLE.read_text()
    for index in range(count):
        tenant_id = f"tenant_{index:04d}"
        (directory / f"{tenant_id}.yaml").write_text(text.replace("tenant_id: acme_store", f"tenant_id: {tenant_id}"))


def run_probe(dag_file: Path, only_dag_id: str | None) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "plugins")}
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.pop("_AIRFLOW_PARSING_CONTEXT_DAG_ID", None)
    if only_dag_id:
        env["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = only_dag_id
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(dag_file)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="zcs-bench-home-")
    os.environ["AIRFLOW_HOME"] = home
    print(f"CPU cores: {os.cpu_count()}  Python {sys.version.split()[0]}")
    print(f"{'tenants':>8} {'DAGs':>6} {'full parse (s)':>15} {'one DAG (ms)':>13} {'airflow import (s)':>19}")
    try:
        for count in args.tenants:
            work = Path(tempfile.mkdtemp(prefix="zcs-bench-"))
            tenants = work / "tenants"
            tenants.mkdir()
            make_tenants(tenants, count)
            dag_file = work / "bench_dags.py"
            dag_file.write_text(DAG_FILE.format(tenants=str(tenants)))
            full = [run_probe(dag_file, None) for _ in range(args.repeat)]
            target = f"zoho_cscart__tenant_{count - 1:04d}__orders"
            one = [run_probe(dag_file, target) for _ in range(args.repeat)]
            assert all(r["dags"] == 3 * count for r in full), full
            assert all(r["dags"] == 1 for r in one), one
            print(
                f"{count:>8} {3 * count:>6} {statistics.median(r['parse_s'] for r in full):>15.2f} "
                f"{1000 * statistics.median(r['parse_s'] for r in one):>13.1f} "
                f"{statistics.median(r['airflow_import_s'] for r in full):>19.2f}"
            )
            shutil.rmtree(work)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
