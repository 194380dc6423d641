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
# Test DAG file for the airflow dag factory: the customers DAGs of the tenants in {tenants_dir}.
from pathlib import Path
from zoho_cscart_sync.dag_factory import register_dags

register_dags(globals(), Path({tenants_dir!r}))
"""


def write_tenants(
    target: Path,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    entity: str = "customers",
    fail_run_on: str | None = "never",
) -> Path:
    """Copy the sample tenant files into ``target`` with ``entity`` enabled only, applying ``overrides``.

    ``overrides`` maps tenant id -> dict merged into ``entities.<entity>`` (e.g. settings, master); a
    ``"defaults"`` key is merged into the tenant's ``defaults`` instead.

    ``fail_run_on`` is written into every tenant file (``None``: the tenant's own, by default ``new_failures``).
    Tests default to ``never``: the sandbox seed carries deliberate traps (two contacts sharing one e-mail,
    Books contacts with a duplicate e-mail) that fail for the first time on a first sync, which makes that run
    red under ``new_failures``. These tests are about what the sync writes; when a run is red is the subject
    of tests/e2e/test_customers_fail_run_on.py.
    """
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(SAMPLE_TENANTS_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        customers = dict(doc["entities"][entity])
        for key, value in (overrides or {}).get(doc["tenant_id"], {}).items():
            if key == "defaults":
                doc["defaults"] = {**doc.get("defaults", {}), **value}
            elif key == "settings":
                customers["settings"] = {**customers.get("settings", {}), **value}
            else:
                customers[key] = value
        doc["entities"] = {entity: customers}
        if fail_run_on is not None:
            doc["fail_run_on"] = fail_run_on
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
    entity: str = "customers"
    _bag: Any = field(default=None, repr=False)

    def bag(self) -> Any:
        if self._bag is None:
            from airflow.dag_processing.dagbag import DagBag

            self._bag = DagBag(dag_folder=str(self.dag_file), safe_mode=False)
            assert self._bag.import_errors == {}
        return self._bag

    def dag(self, tenant: str) -> Any:
        dag = self.bag().get_dag(f"zoho_cscart__{tenant}__{self.entity}")
        for task in dag.tasks:
            # A failure must show at once: dag.test() would otherwise wait out the 2-minute retry delay.
            task.retries = 0
        return dag

    def run(self, tenant: str, **conf: Any) -> Any:
        """One manual run through Airflow's dag.test(); returns the DagRun.

        Every parameter is passed, defaults included: under dag.test() a run's conf is resolved into the DAG
        object's own Params, so a parameter left out would keep the previous run's value (a run after a
        ``full_refresh`` run would silently be a full refresh too).
        """
        from zoho_cscart_sync.params import run_params
        from zoho_cscart_sync.pipeline import PIPELINES

        every = run_params(("zoho_to_cscart", "cscart_to_zoho"), PIPELINES[self.entity].options)
        defaults = {name: param.value for name, param in every.items()}
        return self.dag(tenant).test(run_conf={**defaults, **conf})

    def store(self) -> Any:
        from zoho_cscart_sync.state import StateStore

        return StateStore.from_url(self.state_url)


def make_customers_dags(
    tmp_path: Path,
    sandbox: Any,
    monkeypatch: Any,
    overrides: dict | None = None,
    *,
    connection_extra: dict[str, Any] | None = None,
    entity: str = "customers",
    fail_run_on: str | None = "never",
) -> CustomersDags:
    tenants_dir = write_tenants(tmp_path / "tenants", overrides, entity=entity, fail_run_on=fail_run_on)
    for name, value in sandbox_connections(sandbox, extra=connection_extra).items():
        monkeypatch.setenv(name, value)
    state_db = tmp_path / "state.db"
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CSCART_STATE", json.dumps({"conn_type": "sqlite", "host": str(state_db)}))
    # Each test's DAG file gets a unique name so the bundle never serves another test's tenants folder.
    dags_dir = Path(os.environ["ZCS_TEST_DAGS_DIR"])
    dag_file = dags_dir / f"{entity}_{uuid.uuid4().hex[:8]}_dags.py"
    dag_file.write_text(textwrap.dedent(DAG_FILE.format(tenants_dir=str(tenants_dir))))
    return CustomersDags(tmp_path, sandbox, tenants_dir, f"sqlite:///{state_db}", dag_file, entity)


def report_of(run: Any) -> dict[str, Any]:
    return run.get_task_instance("report").xcom_pull(task_ids="report")


# -- reading the end state straight from the sandbox APIs (independent of the code under test) --------
def _http_json(url: str, *, headers: dict[str, str], method: str = "GET", body: Any = None) -> Any:
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={**headers, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        if exc.code in (204, 304):
            return None
        raise


def _cscart_headers(sandbox: Any) -> dict[str, str]:
    import base64

    admin = sandbox.credentials.cscart_for("acme_store")
    token = base64.b64encode(f"{admin.email}:{admin.api_key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def cscart_customers(sandbox: Any) -> dict[str, dict[str, Any]]:
    """Every CS-Cart customer (user_type C) by user id, in one unpaged read (items_per_page=0)."""
    body = _http_json(f"{sandbox.cscart_url}/api/users?user_type=C&items_per_page=0", headers=_cscart_headers(sandbox))
    return {str(row["user_id"]): row for row in body["users"]}


def cscart_update_user(sandbox: Any, user_id: str, changes: dict[str, Any]) -> None:
    _http_json(
        f"{sandbox.cscart_url}/api/users/{user_id}", headers=_cscart_headers(sandbox), method="PUT", body=changes
    )


class ZohoReader:
    """Reads (and edits) one tenant's Zoho CRM in the sandbox with its own access token."""

    def __init__(self, sandbox: Any, tenant: str) -> None:
        self.sandbox = sandbox
        self.headers = {"Authorization": f"Zoho-oauthtoken {sandbox.zoho_access_token(tenant)}"}

    def coql(self, query: str) -> list[dict[str, Any]]:
        body = _http_json(
            f"{self.sandbox.zoho_api_url}/crm/v8/coql",
            headers=self.headers,
            method="POST",
            body={"select_query": query},
        )
        return (body or {}).get("data") or []

    def contacts_with_email(self, email: str) -> list[dict[str, Any]]:
        literal = email.replace("'", "''")
        return self.coql(f"select id, Email, First_Name, Last_Name from Contacts where Email = '{literal}' limit 200")

    def update(self, module: str, record_id: str, changes: dict[str, Any]) -> None:
        _http_json(
            f"{self.sandbox.zoho_api_url}/crm/v8/{module}/{record_id}",
            headers=self.headers,
            method="PUT",
            body={"data": [changes], "trigger": []},
        )

    def delete(self, module: str, record_id: str) -> None:
        _http_json(f"{self.sandbox.zoho_api_url}/crm/v8/{module}/{record_id}", headers=self.headers, method="DELETE")


def crm_id(tenant: str, module: str, index: int) -> str:
    """The sandbox's CRM id of seed record ``index`` (seed.CrmContext.record_id)."""
    from zoho_cscart_sandbox.credentials import ZOHO_TENANTS

    digit = {"Accounts": "1", "Contacts": "2", "Leads": "3"}[module]
    return f"{ZOHO_TENANTS[tenant].crm_id_prefix}000{digit}{index:08d}"


def directions_of(run: Any) -> dict[str, dict[str, Any]]:
    return report_of(run)["directions"]


def end_state(sandbox: Any, tenant: str) -> dict[str, Any]:
    """What a sync leaves behind, without ids or timestamps: CS-Cart customers and CRM contacts by e-mail."""
    volatile = {"user_id", "user_login", "timestamp", "last_login", "profile_id"}
    customers = sorted(
        (
            tuple(sorted((k, str(v)) for k, v in row.items() if k not in volatile))
            for row in cscart_customers(sandbox).values()
        ),
    )
    contacts = sorted(
        (str(c.get("Email")), str(c.get("First_Name")), str(c.get("Last_Name")))
        for c in ZohoReader(sandbox, tenant).coql(
            "select Email, First_Name, Last_Name from Contacts where id is not null limit 2000"
        )
    )
    return {"cscart_customers": customers, "crm_contacts": contacts}
