"""Helpers for the customers DAG-run tests: a tenants folder, a DAG file, Connections and state per test."""

from __future__ import annotations

import json
import os
import textwrap
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zoho_cscart_sandbox.demo import sandbox_connections

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_TENANTS_DIR = REPO_ROOT / "include" / "tenants"

DAG_FILE = """\
# Test DAG file: the customers DAGs of the tenants in {tenants_dir}.
from pathlib import Path
from zoho_cscart_sync.dag_factory import register_dags

register_dags(globals(), Path({tenants_dir!r}))
"""


def write_tenants(target: Path, overrides: dict[str, dict[str, Any]] | None = None) -> Path:
    """Copy the sample tenant files into ``target`` with customers enabled only, applying ``overrides``.

    ``overrides`` maps tenant id -> dict merged into ``entities.customers`` (e.g. settings, master).
    """
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(SAMPLE_TENANTS_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        customers = dict(doc["entities"]["customers"])
        for key, value in (overrides or {}).get(doc["tenant_id"], {}).items():
            if key == "settings":
                customers["settings"] = {**customers.get("settings", {}), **value}
            else:
                customers[key] = value
        doc["entities"] = {"customers": customers}
        (target / path.name).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@dataclass
class CustomersDags:
    """The customers DAGs of the sample tenants, against the sandbox, with their own sync state."""

    tmp_path: Path
    sandbox: Any
    tenants_dir: Path
    state_url: str
    dag_file: Path
    _bag: Any = field(default=None, repr=False)

    def bag(self) -> Any:
        if self._bag is None:
            from airflow.dag_processing.dagbag import DagBag

            self._bag = DagBag(dag_folder=str(self.dag_file), safe_mode=False)
            assert self._bag.import_errors == {}
        return self._bag

    def dag(self, tenant: str) -> Any:
        dag = self.bag().get_dag(f"zoho_cscart__{tenant}__customers")
        for task in dag.tasks:
            # A failure must show at once: dag.test() would otherwise wait out the 2-minute retry delay.
            task.retries = 0
        return dag

    def run(self, tenant: str, **conf: Any) -> Any:
        """One manual run through Airflow's dag.test(); returns the DagRun."""
        return self.dag(tenant).test(run_conf=conf or None)

    def store(self) -> Any:
        from zoho_cscart_sync.state import StateStore

        return StateStore.from_url(self.state_url)


def make_customers_dags(tmp_path: Path, sandbox: Any, monkeypatch: Any, overrides: dict | None = None) -> CustomersDags:
    tenants_dir = write_tenants(tmp_path / "tenants", overrides)
    for name, value in sandbox_connections(sandbox).items():
        monkeypatch.setenv(name, value)
    state_db = tmp_path / "state.db"
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CSCART_STATE", json.dumps({"conn_type": "sqlite", "host": str(state_db)}))
    # Each test's DAG file gets a unique name so the bundle never serves another test's tenants folder.
    dags_dir = Path(os.environ["ZCS_TEST_DAGS_DIR"])
    dag_file = dags_dir / f"customers_{uuid.uuid4().hex[:8]}_dags.py"
    dag_file.write_text(textwrap.dedent(DAG_FILE.format(tenants_dir=str(tenants_dir))))
    return CustomersDags(tmp_path, sandbox, tenants_dir, f"sqlite:///{state_db}", dag_file)


def report_of(run: Any) -> dict[str, Any]:
    return run.get_task_instance("report").xcom_pull(task_ids="report")
