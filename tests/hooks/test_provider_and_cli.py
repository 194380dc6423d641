"""Connection types registered through the provider entry point, the Test button path, and the CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from zoho_cscart_sync import cli
from zoho_cscart_sync.provider import get_provider_info

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_provider_declares_both_connection_types_with_labelled_fields():
    info = get_provider_info()
    types = {entry["connection-type"]: entry for entry in info["connection-types"]}
    assert set(types) == {"zoho", "cscart"}
    zoho = types["zoho"]
    assert zoho["hook-class-name"] == "zoho_cscart_sync.hooks.zoho.ZohoHook"
    assert zoho["conn-fields"]["refresh_token"]["schema"]["format"] == "password"
    assert {"region", "organization_id", "accounts_url", "api_domain"} <= set(zoho["conn-fields"])
    assert zoho["ui-field-behaviour"]["relabeling"] == {"login": "Client ID", "password": "Client secret"}
    assert types["cscart"]["ui-field-behaviour"]["relabeling"]["host"] == "Store base URL"


def test_airflow_discovers_the_connection_types():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManager()
    hooks = ProvidersManagerTaskRuntime().hooks
    assert hooks["zoho"].hook_class_name == "zoho_cscart_sync.hooks.zoho.ZohoHook"
    assert hooks["zoho"].connection_testable
    assert hooks["cscart"].connection_id_attribute_name == "conn_id"
    assert "extra__zoho__refresh_token" in manager.connection_form_widgets
    assert manager.connection_form_widgets["extra__zoho__refresh_token"].is_sensitive


@pytest.mark.integration
def test_connection_test_button_path(zoho_connection, cscart_connection):
    # The UI Test button and `airflow connections test` call Connection.test_connection() -> get_hook().
    from airflow.models.connection import Connection

    for conn_id in (zoho_connection(), cscart_connection()):
        ok, message = Connection.get_connection_from_secrets(conn_id).test_connection()
        assert ok, message


@pytest.mark.integration
def test_airflow_connections_test_cli(zoho_connection, count_calls, tmp_path: Path):
    conn_id = zoho_connection()
    env = {
        **os.environ,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "connections", "test", conn_id], env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Connection success!" in output
    # It really talked to Zoho: one mint, one CRM read, one Inventory read.
    assert count_calls("POST /oauth/v2/token") == 1
    assert count_calls("GET /crm/v8/Contacts") == 1
    assert count_calls("GET /inventory/v1/items") == 1


@pytest.mark.integration
def test_cli_token_status_test_and_reconnect(sandbox_clean, zoho_connection, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))  # StateStore.default() -> a fresh SQLite file here
    conn_id = zoho_connection()
    creds = sandbox_clean.credentials.zoho_for("acme_store")
    assert cli.main(["test", "--conn-id", conn_id, "--tenant", "acme_store"]) == 0
    assert cli.main(["token-status", "--conn-id", conn_id, "--tenant", "acme_store"]) == 0
    out = capsys.readouterr().out
    status = json.loads(out[out.rindex("{\n") :])
    assert status["valid"] is True
    assert status["mints_last_10_min"] == 1
    assert creds.refresh_token not in out and creds.client_secret not in out

    output = tmp_path / "conn.json"
    code = sandbox_clean.grant_code("acme_store")
    assert cli.main(["reconnect", "--conn-id", conn_id, "--code", code, "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    document = json.loads(output.read_text())[conn_id]
    new_refresh_token = json.loads(document["extra"])["refresh_token"]
    assert new_refresh_token != creds.refresh_token
    assert new_refresh_token not in out
    assert document["conn_type"] == "zoho"

    assert cli.main(["revoke", "--conn-id", conn_id]) == 2  # refuses without --yes
    assert cli.main(["revoke", "--conn-id", conn_id, "--yes"]) == 0
    assert cli.main(["test", "--conn-id", conn_id]) == 1
    assert "invalid_code" in capsys.readouterr().out


def test_cli_pools_from_tenant_files(capsys):
    assert cli.main(["pools", "--tenants-dir", str(REPO_ROOT / "include" / "tenants")]) == 0
    pools = json.loads(capsys.readouterr().out)
    assert pools["zcs__acme_store__zoho"]["slots"] == 1
    assert "zcs__northwind_vendor__cscart" in pools
    assert all({"slots", "description"} <= set(pool) for pool in pools.values())


def test_cli_reports_missing_connection(capsys):
    assert cli.main(["token-status", "--conn-id", "zoho_does_not_exist"]) == 1
    assert "zoho_does_not_exist" in capsys.readouterr().err
