"""End-to-end runs of a factory-built DAG through Airflow's own `dag.test()`, with the test echo pipeline."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TENANT = """\
tenant_id: echo_shop
kind: store
start_date: 2026-11-01T00:00:00Z
entities:
  customers:
    direction: both
"""

DAG_FILE = """\
# Test DAG file for the airflow dag factory: builds the echo pipeline's DAGs.
from pathlib import Path
from zoho_cscart_sync.dag_factory import register_dags
from zoho_cscart_sync.pipeline import PipelineSpec

register_dags(
    globals(),
    Path({tenants_dir!r}),
    {{
        "customers": PipelineSpec(
            "customers", "tests.dags.echo_pipeline:PIPELINE", ("zoho_to_cscart", "cscart_to_zoho")
        )
    }},
)
"""


def _records(*rows):
    return "".join(json.dumps({"id": i, "name": n, "modified": m}) + "\n" for i, n, m in rows)


@pytest.fixture
def echo_dag(tmp_path, monkeypatch, airflow_db):
    tenants_dir = tmp_path / "tenants"
    tenants_dir.mkdir()
    (tenants_dir / "echo_shop.yaml").write_text(TENANT)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "source_zoho_to_cscart.jsonl").write_text(
        _records(("z1", "ada", "2026-11-02T10:00:00Z"), ("z2", "grace", "2026-11-03T10:00:00Z"))
    )
    (data_dir / "source_cscart_to_zoho.jsonl").write_text(_records(("c1", "linus", "2026-11-02T12:00:00Z")))
    monkeypatch.setenv("ZCS_ECHO_DIR", str(data_dir))
    # The sync state of this test lives in its own SQLite file.
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_CSCART_STATE",
        json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "state.db")}),
    )
    dags_dir = Path(os.environ["ZCS_TEST_DAGS_DIR"])
    dag_file = dags_dir / "echo_shop_dags.py"
    dag_file.write_text(textwrap.dedent(DAG_FILE.format(tenants_dir=str(tenants_dir))))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dag_file), safe_mode=False)
    assert bag.import_errors == {}
    yield bag.get_dag("zoho_cscart__echo_shop__customers"), data_dir
    dag_file.unlink()


def _target(data_dir: Path, direction: str) -> dict:
    return json.loads((data_dir / f"target_{direction}.json").read_text())


def test_manual_run_syncs_both_directions_and_rerun_writes_nothing(echo_dag):
    dag, data_dir = echo_dag
    run = dag.test()
    assert run.state == "success"
    assert _target(data_dir, "zoho_to_cscart") == {
        "z1": {"external_id": "z1", "title": "ADA"},
        "z2": {"external_id": "z2", "title": "GRACE"},
    }
    assert _target(data_dir, "cscart_to_zoho") == {"c1": {"external_id": "c1", "title": "LINUS"}}
    finished = [json.loads(line) for line in (data_dir / "finished.jsonl").read_text().splitlines()]
    assert [(f["direction"], f["succeeded"]) for f in finished] == [
        ("zoho_to_cscart", True),
        ("cscart_to_zoho", True),
    ]

    # A second manual run starts from the watermark the first one left: nothing new to read.
    before = (data_dir / "target_zoho_to_cscart.json").stat().st_mtime_ns
    run = dag.test()
    assert run.state == "success"
    report = run.get_task_instance("report").xcom_pull(task_ids="report")
    assert report["directions"]["zoho_to_cscart"]["extracted"] == 0
    assert _target(data_dir, "zoho_to_cscart")["z1"]["title"] == "ADA"
    assert (data_dir / "target_zoho_to_cscart.json").stat().st_mtime_ns >= before


def test_record_ids_and_direction_params(echo_dag):
    dag, data_dir = echo_dag
    run = dag.test(run_conf={"record_ids": ["z2"], "direction": "zoho_to_cscart"})
    assert run.state == "success"
    assert _target(data_dir, "zoho_to_cscart") == {"z2": {"external_id": "z2", "title": "GRACE"}}
    assert not (data_dir / "target_cscart_to_zoho.json").exists()


def test_dry_run_writes_nothing(echo_dag):
    dag, data_dir = echo_dag
    run = dag.test(run_conf={"dry_run": True, "full_refresh": True})
    assert run.state == "success"
    assert not (data_dir / "target_zoho_to_cscart.json").exists()


def test_bad_trigger_params_fail_the_plan(echo_dag):
    dag, data_dir = echo_dag
    # record_ids without a single direction on a two-way tenant is ambiguous: refused before any read.
    run = dag.test(run_conf={"record_ids": ["z1"]})
    assert run.state == "failed"
    assert not (data_dir / "target_zoho_to_cscart.json").exists()
