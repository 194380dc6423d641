"""``python -m zoho_cscart_sync.cli unlinked | import`` and ``quarantine --sort last_seen``: the console's "Not in
CS-Cart" list and "Import selected" from the command line (SQLite and PostgreSQL; ``import`` against the local stand-in
for Airflow's REST API of ``test_operator_cli.py``)."""

from __future__ import annotations

import json

import pytest

from tests.console.support import TENANT, Z2C
from tests.state import test_operator_cli as base
from tests.state.test_operator_cli import DAG, ONE_WAY, TOKEN, run

env, no_network, airflow = base.env, base.no_network, base.airflow  # the fixtures of the other CLI commands' tests

LISTED = ["4600000000000000", "4600000000000001", "4600000000000002"]


def test_unlinked_pages_the_zoho_records_not_in_cscart(env, capsys, no_network):
    args = ["unlinked", "--tenant", TENANT, "--entity", "products", *env["opts"]]
    code, out, err = run(capsys, *args, "--limit", "2", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["total"] == 3 and [i["zoho_id"] for i in first["items"]] == LISTED[:2]
    assert first["items"][0]["label"] == "Mug 0 · MUG-0" and first["next"] == LISTED[1]
    code, out, _ = run(capsys, *args, "--limit", "2", "--after", first["next"])
    assert code == 0
    assert "tenant acme_store, products: 3 Zoho records not in CS-Cart" in out
    assert "4600000000000002  items  Mug 2 · MUG-2" in out and "status 'inactive' is not imported" in out
    assert "next page" not in out
    code, _, err = run(capsys, "unlinked", "--tenant", TENANT, "--entity", "products", "--after", "x", *env["opts"])
    assert code == 0
    refused = run(capsys, "unlinked", "--tenant", ONE_WAY, "--entity", "orders", *env["opts"])
    assert refused[0] == 1


def test_import_print_and_the_listed_records(env, capsys, no_network):
    args = ["import", "--tenant", TENANT, "--entity", "products", "--print", *env["opts"]]
    code, out, err = run(capsys, *args, "--listed")
    assert code == 0, err
    conf = {"record_ids": LISTED, "direction": Z2C}
    assert out.strip() == f"airflow dags trigger {DAG} --conf '{json.dumps(conf)}'"
    env["store"].save_link(TENANT, "products", zoho_id=LISTED[0], cscart_id="900", run_id="r")
    code, out, err = run(capsys, *args, "--ids", f"{LISTED[0]},{LISTED[2]}", "--json")
    assert code == 0
    assert json.loads(out)[0]["conf"] == {"record_ids": [LISTED[0], LISTED[2]], "direction": Z2C}
    assert "1 of the ids are not listed as not in CS-Cart; sent anyway" in err
    with pytest.raises(SystemExit) as usage:  # --ids or --listed, one of them
        run(capsys, "import", "--tenant", TENANT, "--entity", "products", *env["opts"])
    assert usage.value.code == 2


def test_import_creates_the_run_through_the_rest_api(env, capsys, airflow, monkeypatch):
    monkeypatch.setenv("ZCS_AIRFLOW_API_TOKEN", TOKEN)
    args = ["import", "--tenant", TENANT, "--entity", "products", "--api-url", airflow.url, *env["opts"]]
    code, out, err = run(capsys, *args, "--ids", LISTED[1], "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "action": "import", "runs": [{"dag_run_id": "manual__cli_1", "direction": Z2C, "records": 1}]
    }  # fmt: skip
    assert airflow.requests[0][2]["conf"] == {"record_ids": [LISTED[1]], "direction": Z2C}
    airflow.refuse = 403
    code, out, err = run(capsys, *args, "--listed")
    assert code == 1 and "Airflow refused the run: 403" in err and TOKEN not in out + err


def test_quarantine_newest_last_seen_first_with_its_cursor(env, capsys, no_network):
    store = env["store"]
    store.quarantine(TENANT, "products", Z2C, "5725767000000000", reason="again", stage="load", run_id="r2",
                     kind="content")  # fmt: skip
    args = ["quarantine", "--tenant", TENANT, "--entity", "products", "--direction", Z2C, "--sort", "last_seen"]
    code, out, err = run(capsys, *args, "--limit", "2", "--json", *env["opts"])
    assert code == 0, err
    first = json.loads(out)
    assert [i["source_id"] for i in first["items"]] == ["5725767000000000", "5725767000000002"]
    assert first["sort"] == "last_seen" and first["next"].endswith(f"|{Z2C}:5725767000000002")
    code, out, err = run(capsys, *args, "--limit", "2", "--after", first["next"], "--json", *env["opts"])
    assert [i["source_id"] for i in json.loads(out)["items"]] == ["5725767000000001"]
    code, _, err = run(capsys, *args, "--after", f"{Z2C}:x", *env["opts"])
    assert code == 1 and "expected last_seen|direction:source_id" in err
