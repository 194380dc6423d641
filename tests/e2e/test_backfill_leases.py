"""Backfills through a real scheduler cannot overlap, whatever `--max-active-runs` says (issue 12).

`airflow backfill create --max-active-runs 3` starts three runs of one DAG at once, and the DAG's
`max_active_runs=1` does not bind backfills. The run lease taken by `plan` and released by `report` makes the
second and third runs wait, so no two runs' extract..load spans overlap. The pools get three slots here, so
the lease alone keeps the runs apart. And a backfill's conf cannot widen its runs' windows: `since` on a
backfill run is refused by `plan`, naming the key.
"""

from __future__ import annotations

import itertools
import json
import secrets
import textwrap

import pytest

from tests.e2e.airflow_cluster import database, drop_database, start_airflow_cluster
from tests.e2e.test_scheduler_runs import DAG_FILE, DAG_ID, SOURCE, TENANT

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

STAGE_SECONDS = 3


def _postgres_connection(url: str) -> str:
    import sqlalchemy as sa

    parts = sa.make_url(url)
    return json.dumps(
        {
            "conn_type": "postgres",
            "host": parts.host,
            "port": parts.port,
            "login": parts.username,
            "password": parts.password,
            "schema": parts.database,
        }
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres_url):
    root = tmp_path_factory.mktemp("leases")
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
    state_db = f"zcs_state_{secrets.token_hex(4)}"
    env = {
        "ZCS_ECHO_DIR": str(data),
        "ZCS_ECHO_STAGE_SECONDS": str(STAGE_SECONDS),
        "ZCS_RUN_LEASE_POKE_SECONDS": "1",
        # The state store of a deployment (README, Deployment): PostgreSQL, shared by every task process.
        "AIRFLOW_CONN_ZOHO_CSCART_STATE": _postgres_connection(database(postgres_url, state_db)),
        # Three runs at once: two plan tasks wait for the lease while the third run's tasks still need a slot.
        "AIRFLOW__CORE__PARALLELISM": "4",
    }
    try:
        with start_airflow_cluster(
            root / "airflow_home",
            dags,
            env,
            postgres_server_url=postgres_url,
            tenants=["echo_shop"],
            pool_slots={"zoho": 3, "cscart": 3},  # the pools do not serialise the runs: only the lease does
        ) as running:
            yield running, data
    finally:
        drop_database(postgres_url, state_db)


def test_backfill_with_three_active_runs_never_overlaps_and_all_runs_are_green(cluster):
    airflow, data = cluster
    states = airflow.backfill(
        DAG_ID, "2026-11-02T00:00:00+00:00", "2026-11-02T02:00:00+00:00", expected_runs=3, max_active_runs=3
    )
    assert states == ["success", "success", "success"]
    assert sorted(json.loads((data / "target_zoho_to_cscart.json").read_text())) == ["z1", "z2", "z3"]

    spans: dict[str, dict[str, object]] = {}
    for run_id, task_id, start, end, state in airflow.task_times(DAG_ID):
        assert state == "success", (run_id, task_id, state)
        stage = task_id.rsplit(".", 1)[-1]
        if stage == "extract":
            spans.setdefault(run_id, {})["start"] = start
        elif stage == "load":
            spans.setdefault(run_id, {})["end"] = end
    assert len(spans) == 3
    ordered = sorted(spans.items(), key=lambda item: item[1]["start"])
    for (first, a), (second, b) in itertools.pairwise(ordered):
        assert a["end"] <= b["start"], f"{first} loaded until {a['end']}, {second} extracted from {b['start']}"

    # The runs really were started together: at least one plan task waited for another run's lease.
    plans = [airflow.task_log(DAG_ID, run_id, "plan") for run_id in spans]
    assert any("to release the run lease" in log for log in plans), plans


def test_backfill_conf_with_since_fails_every_run_in_plan_naming_it(cluster):
    airflow, _ = cluster
    states = airflow.backfill(
        DAG_ID,
        "2026-11-03T00:00:00+00:00",
        "2026-11-03T01:00:00+00:00",
        expected_runs=2,
        max_active_runs=3,
        dag_run_conf={"since": "2026-11-01T00:00:00Z"},
    )
    assert states == ["failed", "failed"]
    runs = [run_id for run_id, kind, _ in airflow.runs(DAG_ID) if kind == "backfill" and "2026-11-03" in run_id]
    assert len(runs) == 2
    for run_id in runs:
        log = airflow.task_log(DAG_ID, run_id, "plan")
        assert "'since' cannot be used on a backfill run" in log, log[-2000:]
        tasks = {task_id: state for r, task_id, _, _, state in airflow.task_times(DAG_ID) if r == run_id}
        assert tasks["plan"] == "failed"
        assert not any(state == "success" for state in tasks.values()), tasks
