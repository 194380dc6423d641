"""Backfills and CLI triggers through a real scheduler: each backfill run reads exactly its data interval."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.e2e.airflow_cluster import start_airflow_cluster

pytestmark = pytest.mark.integration

DAG_ID = "zoho_cscart__echo_shop__customers"
TENANT = """\
tenant_id: echo_shop
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
SOURCE = [
    ("z0", "before", "2026-11-01T23:59:59Z"),
    ("z1", "ada", "2026-11-02T00:10:00Z"),
    ("z2", "grace", "2026-11-02T01:00:00Z"),  # exactly on a boundary: belongs to [01:00, 02:00)
    ("z3", "linus", "2026-11-02T02:59:59Z"),
    ("z4", "after", "2026-11-02T03:00:00Z"),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres_url):
    root = tmp_path_factory.mktemp("cluster")
    tenants = root / "tenants"
    tenants.mkdir()
    (tenants / "echo_shop.yaml").write_text(TENANT)
    dags = root / "dags"
    dags.mkdir()
    (dags / "echo_dags.py").write_text(textwrap.dedent(DAG_FILE.format(tenants_dir=str(tenants))))
    data = root / "data"
    data.mkdir()
    (data / "source_zoho_to_cscart.jsonl").write_text(
        "".join(json.dumps({"id": i, "name": n, "modified": m}) + "\n" for i, n, m in SOURCE)
    )
    env = {
        "ZCS_ECHO_DIR": str(data),
        "AIRFLOW_CONN_ZOHO_CSCART_STATE": json.dumps({"conn_type": "sqlite", "host": str(root / "state.db")}),
    }
    with start_airflow_cluster(
        root / "airflow_home", dags, env, postgres_server_url=postgres_url, tenants=["echo_shop"]
    ) as running:
        yield running, data


def _target(data):
    path = data / "target_zoho_to_cscart.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_backfill_reads_each_interval_and_rerun_writes_nothing(cluster):
    airflow, data = cluster
    states = airflow.backfill(DAG_ID, "2026-11-02T00:00:00+00:00", "2026-11-02T02:00:00+00:00", expected_runs=3)
    assert states == ["success", "success", "success"]
    assert sorted(_target(data)) == ["z1", "z2", "z3"]  # nothing outside [00:00, 03:00)
    logs = {run_id: airflow.task_log(DAG_ID, run_id, "plan") for run_id, kind, _ in airflow.runs(DAG_ID)}
    assert any("window interval [2026-11-02T01:00:00+00:00, 2026-11-02T02:00:00+00:00)" in log for log in logs.values())

    # Re-running completed runs (the "clear and re-run" case) reads the same windows and changes nothing.
    before = (data / "target_zoho_to_cscart.json").read_text()
    states = airflow.backfill(
        DAG_ID, "2026-11-02T00:00:00+00:00", "2026-11-02T02:00:00+00:00", reprocess="completed", expected_runs=3
    )
    assert set(states) == {"success"}
    assert (data / "target_zoho_to_cscart.json").read_text() == before


def test_cli_trigger_with_explicit_window(cluster):
    airflow, data = cluster
    state = airflow.trigger(DAG_ID, {"since": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"})
    assert state == "success"
    assert "z0" in _target(data)
    assert "z4" not in _target(data)
