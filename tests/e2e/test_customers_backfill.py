"""`airflow backfill create` over two days, through a real scheduler, reaches the state of one full refresh.

The tenant copy runs daily (two backfill runs for two days instead of 48 hourly ones, to keep the test
short); the window rule is the same for any schedule. Path A: a manual run up to the backfill's start, then
the two-day backfill. Path B, on a fresh sandbox and a fresh sync state: one ``full_refresh`` manual run.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.e2e.airflow_cluster import start_airflow_cluster
from tests.e2e.customers_support import end_state, write_tenants
from zoho_cscart_sandbox.demo import sandbox_connections

pytestmark = pytest.mark.integration

ACME = "acme_store"
DAG_ID = f"zoho_cscart__{ACME}__customers"
DAG_FILE = """\
# Test DAG file for the airflow dag factory: the customers DAGs of the tenants in {tenants_dir}.
from pathlib import Path
from zoho_cscart_sync.dag_factory import register_dags

register_dags(globals(), Path({tenants_dir!r}))
"""


def test_two_day_backfill_and_full_refresh_reach_the_same_end_state(tmp_path, sandbox, postgres_url):
    tenants = write_tenants(tmp_path / "tenants", {ACME: {"direction": "zoho_to_cscart"}})
    for path in tenants.glob("*.yaml"):
        if path.stem != ACME:
            path.unlink()
    tenant_file = tenants / f"{ACME}.yaml"
    tenant_file.write_text(
        tenant_file.read_text().replace("'0 * * * *'", "'0 0 * * *'").replace("0 * * * *", "0 0 * * *")
    )
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "customers_dags.py").write_text(textwrap.dedent(DAG_FILE.format(tenants_dir=str(tenants))))
    state_db = tmp_path / "state.db"
    env = {
        **sandbox_connections(sandbox, [ACME]),
        "AIRFLOW_CONN_ZOHO_CSCART_STATE": json.dumps({"conn_type": "sqlite", "host": str(state_db)}),
    }
    sandbox.reset()
    with start_airflow_cluster(
        tmp_path / "airflow_home", dags, env, postgres_server_url=postgres_url, tenants=[ACME]
    ) as airflow:
        seed = end_state(sandbox, ACME)
        # Path A: everything before the backfill's first interval, then the backfill itself.
        assert airflow.trigger(DAG_ID, {"since": "2026-10-01T00:00:00Z", "until": "2026-11-18T00:00:00Z"}) == "success"
        before_backfill = end_state(sandbox, ACME)
        states = airflow.backfill(DAG_ID, "2026-11-18T00:00:00+00:00", "2026-11-19T00:00:00+00:00", expected_runs=2)
        assert states == ["success", "success"]
        logs = "\n".join(airflow.task_log(DAG_ID, run_id, "plan") for run_id, kind, _ in airflow.runs(DAG_ID))
        assert "window interval [2026-11-19T00:00:00+00:00, 2026-11-20T00:00:00+00:00)" in logs
        after_backfill = end_state(sandbox, ACME)
        # Both steps imported something: the backfill's two days hold records the first run could not see.
        assert len(seed["cscart_customers"]) < len(before_backfill["cscart_customers"])
        assert len(before_backfill["cscart_customers"]) < len(after_backfill["cscart_customers"])

        # Path B: the same seed on fresh systems, a fresh sync state, one full refresh.
        sandbox.reset()
        state_db.rename(tmp_path / "state_after_backfill.db")
        assert airflow.trigger(DAG_ID, {"full_refresh": True}) == "success"
        assert end_state(sandbox, ACME) == after_backfill
