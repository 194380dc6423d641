"""The cheap parts of `make airflow` (tools/local_airflow.py); the command itself is run by hand (README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.airflow_cluster import airflow_env
from tools.local_airflow import STATE_CONN_ID, connections_document
from zoho_cscart_sandbox.demo import sandbox_connections
from zoho_cscart_sandbox.handle import SandboxHandle


def test_connections_document_imports_every_sample_connection_and_the_state_store():
    handle = SandboxHandle(zoho_url="http://127.0.0.1:1111", cscart_url="http://127.0.0.1:2222")
    env = sandbox_connections(handle, ["acme_store", "northwind_vendor"])
    document = connections_document(env, "postgresql+psycopg2://postgres@127.0.0.1:5432/zcs_state_local")
    assert set(document) == {
        "zoho_acme_store",
        "cscart_acme_store",
        "zoho_northwind_vendor",
        "cscart_northwind_vendor",
        STATE_CONN_ID,
    }
    zoho = document["zoho_northwind_vendor"]
    assert zoho["conn_type"] == "zoho"
    extra = json.loads(zoho["extra"])  # `airflow connections import` takes the extra as a JSON string
    assert extra["api_domain"] == "http://127.0.0.1:1111"
    assert extra["organization_id"] == handle.credentials.zoho_for("northwind_vendor").organization_id
    assert document["cscart_acme_store"]["host"] == "http://127.0.0.1:2222"
    assert document[STATE_CONN_ID] == {
        "conn_type": "postgres",
        "host": "127.0.0.1",
        "port": 5432,
        "login": "postgres",
        "password": None,
        "schema": "zcs_state_local",
    }


def test_connections_document_refuses_other_variables():
    with pytest.raises(ValueError, match="AIRFLOW_CONN_"):
        connections_document({"PATH": "/bin"}, "postgresql://u@h/db")


def test_airflow_env_drops_outside_airflow_settings_and_runs_schedules_only_for_evaluation(tmp_path: Path):
    base = {"PATH": "/bin", "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "AIRFLOW_CONN_X": "y"}
    tests = airflow_env(tmp_path, tmp_path / "dags", "postgresql://u@h/db", api_port=8123, base=base)
    assert tests["PATH"] == "/bin"
    assert "AIRFLOW_CONN_X" not in tests
    assert tests["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert tests["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8123/execution/"
    assert tests["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"
    evaluation = airflow_env(
        tmp_path, tmp_path / "dags", "postgresql://u@h/db", api_port=8123, base=base, for_tests=False
    )
    assert "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE" not in evaluation
    assert "AIRFLOW__CORE__PARALLELISM" not in evaluation
