"""CeleryExecutor scale-out against the sandbox: 20 tenants' customers DAGs at once on two Celery workers.

Redis broker, PostgreSQL metadata and state store, the sandbox's generated tenants (each its own Zoho client,
Zoho organisation and CS-Cart vendor company). Every tenant pushes its vendor's CS-Cart customers to Zoho CRM
and Zoho Books (`also_to_books`: a lookup and a create per customer, on Books' per-organisation quota), with
the Books limit set to BOOKS_PER_MINUTE in the connections, below what one tenant needs, so every tenant's
load is paced. Checked, all from counts:

* every run is green, and both workers ran tasks;
* no duplicates: each source customer is exactly one CRM contact and one Books contact of its tenant;
* exactly one token mint per Zoho client across the workers (the sandbox's mint counter);
* per organisation, the Books requests that arrived within any 60 s never exceed BOOKS_PER_MINUTE
  (the sandbox's per-organisation counter), and the sandbox never had to answer 429.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import httpx
import pytest

from tests.e2e.celery_cluster import redis_reachable, start_celery_airflow_cluster, worker_names
from tests.e2e.scale_tenants import REPO_ROOT, tenant_connections, write_tenant_files
from zoho_cscart_sandbox.finance_resources import primary_email

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TENANTS = int(os.environ.get("ZCS_SCALE_OUT_TENANTS", "20"))
CUSTOMERS = 12  # CS-Cart customers of each tenant's vendor company: 24 Books calls at least
BOOKS_PER_MINUTE = 20  # the connections' Books limit per organisation (Zoho's own is 100)
WORKERS, WORKER_CONCURRENCY = 2, 5  # 10 slots: a paced load mostly waits, it needs a slot, not a core
ENTITIES = {"customers": {"direction": "cscart_to_zoho", "settings": {"also_to_books": True}}}
PASSWORDS = {"admin": "admin"}


def _books_contacts(sandbox, tenant: str) -> list[dict]:
    return list(sandbox.servers.zoho_state.finance[tenant]["contacts"].iter_records())


def _crm_contacts(sandbox, tenant: str) -> list[dict]:
    return list(sandbox.servers.zoho_state.crm[tenant]["Contacts"].iter_records())


def _source_emails(sandbox, company_id: int) -> list[str]:
    users = sandbox.servers.cscart_state.tables["users"].iter_records()
    return [u["email"].casefold() for u in users if u["user_type"] == "C" and u["company_id"] == str(company_id)]


def _wait_parsed(airflow, dag_ids: list[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = {r[0] for r in airflow._query("select dag_id from dag where dag_id = any(:ids)", ids=dag_ids)}
        if found == set(dag_ids):
            return
        assert time.monotonic() < deadline, f"not parsed: {sorted(set(dag_ids) - found)}"
        airflow._check_alive()
        time.sleep(2)


def test_twenty_tenants_on_two_celery_workers(tmp_path, postgres_url, sandbox):
    if not redis_reachable():
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    started = time.monotonic()
    sandbox.reset(tenants=TENANTS, tenant_customers=CUSTOMERS)
    tenants = sandbox.generated_tenants
    tenants_dir = tmp_path / "tenants"
    write_tenant_files(tenants_dir, sandbox, tenants, entities=ENTITIES)
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(REPO_ROOT / "dags" / "zoho_cscart_sync_dags.py", dags)
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))

    from tests.e2e.airflow_cluster import database, drop_database

    state_db = f"zcs_state_{tmp_path.name[-8:]}".replace("-", "_")
    state_url = database(postgres_url, state_db).replace("postgresql+psycopg2://", "postgres://", 1)
    env = {
        "ZCS_TENANTS_DIR": str(tenants_dir),
        "AIRFLOW_CONN_ZOHO_CSCART_STATE": state_url,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        **tenant_connections(
            sandbox,
            tenants,
            zoho_extra={"books_requests_per_minute": BOOKS_PER_MINUTE, "books_rate_window_seconds": 60},
        ),
    }
    dag_ids = [f"zoho_cscart__{tenant}__customers" for tenant in tenants]
    try:
        with start_celery_airflow_cluster(
            tmp_path / "airflow_home",
            dags,
            env,
            postgres_server_url=postgres_url,
            tenants=tenants,
            workers=WORKERS,
            worker_concurrency=WORKER_CONCURRENCY,
        ) as airflow:
            airflow.wait_healthy()
            _wait_parsed(airflow, dag_ids)
            token = httpx.post(f"{airflow.api_url}/auth/token", json={"username": "admin", "password": "admin"})
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            with httpx.Client(base_url=f"{airflow.api_url}/api/v2", headers=headers, timeout=60) as api:
                for dag_id in dag_ids:
                    api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
                triggered_at = time.monotonic()
                for dag_id in dag_ids:  # all at once: no waiting between triggers
                    api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": {}}).raise_for_status()
            deadline = time.monotonic() + 600
            while True:
                states = {dag_id: [state for _, kind, state in airflow.runs(dag_id)] for dag_id in dag_ids}
                if all(s and all(x in ("success", "failed") for x in s) for s in states.values()):
                    break
                assert time.monotonic() < deadline, f"runs did not finish: {states}"
                airflow._check_alive()
                time.sleep(3)
            runs_seconds = time.monotonic() - triggered_at
            assert all(s == ["success"] for s in states.values()), states
            workers = set(worker_names(airflow, dag_ids).values())
            assert workers == {"worker1", "worker2"}, workers
    finally:
        drop_database(postgres_url, state_db)

    # No duplicates: each of a tenant's CS-Cart customers is one CRM contact and one Books contact of it.
    for tenant in tenants:
        source = _source_emails(sandbox, sandbox.credentials.cscart_for(tenant).company_id)
        assert len(source) == CUSTOMERS
        crm = [str(r.get("Email") or "").casefold() for r in _crm_contacts(sandbox, tenant)]
        books = [primary_email(r).casefold() for r in _books_contacts(sandbox, tenant)]
        assert {email: crm.count(email) for email in source} == dict.fromkeys(source, 1), tenant
        assert {email: books.count(email) for email in source} == dict.fromkeys(source, 1), tenant

    # One token mint per Zoho client, across both workers; no other client minted.
    clients = [sandbox.credentials.zoho_for(tenant).client_id for tenant in tenants]
    assert sandbox.token_mints() == dict.fromkeys(clients, 1)

    # Per organisation: never more Books requests within 60 s than the limit, and the limit mattered.
    traffic = sandbox.org_requests()
    books = {tenant: traffic[sandbox.credentials.zoho_for(tenant).organization_id]["books"] for tenant in tenants}
    assert all(b["total"] >= 2 * CUSTOMERS > BOOKS_PER_MINUTE for b in books.values()), books
    assert all(b["max_in_window"] <= BOOKS_PER_MINUTE for b in books.values()), books
    assert all(max(b["per_minute"].values()) <= BOOKS_PER_MINUTE for b in books.values()), books
    assert "429" not in sandbox.status_counters("zoho")
    busiest = max(b["max_in_window"] for b in books.values())
    print(
        f"celery scale-out: {len(tenants)} tenants green on {len(workers)} workers; runs {runs_seconds:.0f}s, "
        f"test {time.monotonic() - started:.0f}s; Books requests per organisation: "
        f"{min(b['total'] for b in books.values())}-{max(b['total'] for b in books.values())}, "
        f"at most {busiest} within any 60 s (limit {BOOKS_PER_MINUTE}); one mint per client"
    )
    sandbox.reset()
