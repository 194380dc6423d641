"""CeleryExecutor scale-out: Redis broker, PostgreSQL metadata and state store, two Celery workers.

Several tenants' DAGs are triggered at once; every run must be green and both workers must have run tasks.
(The per-organisation request rate across workers is proven against a real PostgreSQL in
tests/http/test_http_shared_ratelimit.py; the 20-tenant sandbox run is not here yet, see README "Scale-out".)
"""

from __future__ import annotations

import json
import textwrap
import time

import pytest

from tests.e2e.celery_cluster import redis_reachable, start_celery_airflow_cluster, worker_names

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TENANTS = [f"scale_{n:02d}" for n in range(1, 7)]
TENANT = """\
tenant_id: {tenant}
kind: store
start_date: 2026-11-01T00:00:00Z
entities:
  customers:
    direction: zoho_to_cscart
"""
DAG_FILE = """\
# Test DAG file for the airflow dag factory: the echo pipeline's DAGs.
from pathlib import Path
from zoho_cscart_sync.dag_factory import register_dags
from zoho_cscart_sync.pipeline import PipelineSpec

register_dags(
    globals(),
    Path({tenants_dir!r}),
    {{"customers": PipelineSpec("customers", "tests.dags.echo_pipeline:PIPELINE", ("zoho_to_cscart",))}},
)
"""


def test_tenants_run_green_on_two_celery_workers(tmp_path, postgres_url):
    if not redis_reachable():
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    tenants_dir = tmp_path / "tenants"
    tenants_dir.mkdir()
    for tenant in TENANTS:
        (tenants_dir / f"{tenant}.yaml").write_text(TENANT.format(tenant=tenant))
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "echo_dags.py").write_text(textwrap.dedent(DAG_FILE.format(tenants_dir=str(tenants_dir))))
    data = tmp_path / "data"
    data.mkdir()
    (data / "source_zoho_to_cscart.jsonl").write_text(
        json.dumps({"id": "z1", "name": "ada", "modified": "2026-11-02T00:10:00Z"}) + "\n"
    )
    from tests.e2e.airflow_cluster import database, drop_database

    state_db = f"zcs_state_{tmp_path.name[-8:]}".replace("-", "_")
    state_url = database(postgres_url, state_db).replace("postgresql+psycopg2://", "postgres://", 1)
    env = {"ZCS_ECHO_DIR": str(data), "AIRFLOW_CONN_ZOHO_CSCART_STATE": state_url}
    started = time.monotonic()
    try:
        with start_celery_airflow_cluster(
            tmp_path / "airflow_home", dags, env, postgres_server_url=postgres_url, tenants=TENANTS
        ) as airflow:
            dag_ids = [f"zoho_cscart__{tenant}__customers" for tenant in TENANTS]
            for dag_id in dag_ids:
                airflow.wait_for_dag(dag_id)
            for dag_id in dag_ids:  # all at once: no waiting between triggers
                airflow.cli("dags", "trigger", dag_id, "--conf", "{}")
            deadline = time.monotonic() + 300
            while True:
                states = {dag_id: [state for _, kind, state in airflow.runs(dag_id)] for dag_id in dag_ids}
                if all(s and all(x in ("success", "failed") for x in s) for s in states.values()):
                    break
                assert time.monotonic() < deadline, f"runs did not finish: {states}"
                airflow._check_alive()
                time.sleep(2)
            assert all(s == ["success"] for s in states.values()), states
            workers = set(worker_names(airflow, dag_ids).values())
            assert workers == {"worker1", "worker2"}, workers
    finally:
        drop_database(postgres_url, state_db)
    print(f"celery scale-out: {len(TENANTS)} tenants green in {time.monotonic() - started:.0f}s")
