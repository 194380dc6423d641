"""`airflow backfill create` over two days, through a real scheduler, reaches the state of one full refresh.

The tenant copy runs daily (two backfill runs for two days instead of 48 hourly ones, to keep the test
short); the window rule is the same for any schedule. Path A: a manual run up to the backfill's start, then
the two-day backfill. Path B, on a fresh sandbox and a fresh sync state: one ``full_refresh`` manual run.
Customers (Zoho -> CS-Cart: CRM contacts become store customers), products (Zoho -> CS-Cart: Inventory items
become products) and orders (CS-Cart orders become Zoho sales orders, after a products full refresh in each path);
the seed's records are modified across the same days.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.e2e.airflow_cluster import start_airflow_cluster
from tests.e2e.customers_support import end_state, write_tenants
from tests.e2e.orders_support import enable_products, sales_orders_end_state
from tests.e2e.products_soak_support import PRODUCTS, products_end_state
from zoho_cscart_sandbox.demo import sandbox_connections

pytestmark = pytest.mark.integration

ACME = "acme_store"
DAG_FILE = """\
# Test DAG file for the airflow dag factory: the DAGs of the tenants in {tenants_dir}.
from pathlib import Path
from zoho_cscart_sync.dag_factory import register_dags

register_dags(globals(), Path({tenants_dir!r}))
"""


def _sizes(entity: str, state) -> int:
    """How many records the target holds in an end state (the number that must grow step by step)."""
    if entity == "customers":
        return len(state["cscart_customers"])
    if entity == "orders":
        return len(state)
    return state.sizes()[PRODUCTS]


STATE_OF = {"customers": end_state, "products": products_end_state, "orders": sales_orders_end_state}
DIRECTION = {"customers": "zoho_to_cscart", "products": "zoho_to_cscart", "orders": "cscart_to_zoho"}
"""Customers and products: Zoho -> CS-Cart; orders: CS-Cart orders -> Zoho sales orders (the products sync runs
first in both paths: orders need its ID map)."""


@pytest.mark.parametrize("entity", ["customers", "products", "orders"])
def test_two_day_backfill_and_full_refresh_reach_the_same_end_state(tmp_path, sandbox, postgres_url, entity):
    dag_id = f"zoho_cscart__{ACME}__{entity}"
    state_of = STATE_OF[entity]
    tenants = write_tenants(tmp_path / "tenants", {ACME: {"direction": DIRECTION[entity]}}, entity=entity)
    if entity == "orders":
        enable_products(tenants)
    for path in tenants.glob("*.yaml"):
        if path.stem != ACME:
            path.unlink()
    tenant_file = tenants / f"{ACME}.yaml"
    tenant_file.write_text(
        tenant_file.read_text().replace("'0 * * * *'", "'0 0 * * *'").replace("0 * * * *", "0 0 * * *")
    )
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{entity}_dags.py").write_text(textwrap.dedent(DAG_FILE.format(tenants_dir=str(tenants))))
    state_db = tmp_path / "state.db"
    env = {
        **sandbox_connections(sandbox, [ACME]),
        "AIRFLOW_CONN_ZOHO_CSCART_STATE": json.dumps({"conn_type": "sqlite", "host": str(state_db)}),
    }
    sandbox.reset()
    products_dag = f"zoho_cscart__{ACME}__products"

    def products_first() -> None:
        if entity == "orders":
            assert airflow.trigger(products_dag, {"full_refresh": True}) == "success"

    with start_airflow_cluster(
        tmp_path / "airflow_home", dags, env, postgres_server_url=postgres_url, tenants=[ACME]
    ) as airflow:
        products_first()
        seed = state_of(sandbox, ACME)
        # Path A: everything before the backfill's first interval, then the backfill itself.
        assert airflow.trigger(dag_id, {"since": "2026-10-01T00:00:00Z", "until": "2026-11-18T00:00:00Z"}) == "success"
        before_backfill = state_of(sandbox, ACME)
        states = airflow.backfill(dag_id, "2026-11-18T00:00:00+00:00", "2026-11-19T00:00:00+00:00", expected_runs=2)
        assert states == ["success", "success"]
        logs = "\n".join(airflow.task_log(dag_id, run_id, "plan") for run_id, kind, _ in airflow.runs(dag_id))
        assert "window interval [2026-11-19T00:00:00+00:00, 2026-11-20T00:00:00+00:00)" in logs
        after_backfill = state_of(sandbox, ACME)
        # Both steps imported something: the backfill's two days hold records the first run could not see.
        assert _sizes(entity, seed) < _sizes(entity, before_backfill) < _sizes(entity, after_backfill)

        # Path B: the same seed on fresh systems, a fresh sync state, one full refresh.
        sandbox.reset()
        state_db.rename(tmp_path / "state_after_backfill.db")
        products_first()
        assert airflow.trigger(dag_id, {"full_refresh": True}) == "success"
        assert state_of(sandbox, ACME) == after_backfill
