"""`python -m zoho_cscart_sync.cli pools`: every pool the tenant files need, as JSON, as commands, or applied."""

from __future__ import annotations

import json
import shlex
import shutil
import stat
from pathlib import Path

from zoho_cscart_sync import cli

REPO_ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {
    "zcs__acme_store__zoho",
    "zcs__acme_store__cscart",
    "zcs__northwind_vendor__zoho",
    "zcs__northwind_vendor__cscart",
}


def _tenants(tmp_path: Path) -> Path:
    """The sample tenants plus one broken file (which needs no pool: its DAG is a config_error DAG)."""
    folder = tmp_path / "tenants"
    shutil.copytree(REPO_ROOT / "include" / "tenants", folder)
    (folder / "broken_vendor.yaml").write_text("tenant_id: broken_vendor\nkind: sideways\n")
    return folder


def test_commands_print_one_airflow_pools_set_per_tenant_and_system(tmp_path, capsys):
    folder = _tenants(tmp_path)
    assert cli.main(["pools", "--tenants-dir", str(folder), "--commands", "--airflow-bin", "airflow"]) == 0
    out, err = capsys.readouterr()
    commands = [shlex.split(line) for line in out.splitlines()]
    assert {command[3] for command in commands} == EXPECTED
    for command in commands:
        assert command[:3] == ["airflow", "pools", "set"]
        assert command[4] == "1"
        assert command[5].startswith("Zoho/CS-Cart sync: concurrent ")
    assert "skipped invalid tenant file" in err
    assert "broken_vendor.yaml" in err


def test_apply_imports_the_generated_pools_file(tmp_path, capsys):
    capture = tmp_path / "captured.json"
    fake_airflow = tmp_path / "airflow"
    fake_airflow.write_text(f'#!/bin/sh\necho "$@" > {capture}.args\ncp "$3" {capture}\n')
    fake_airflow.chmod(fake_airflow.stat().st_mode | stat.S_IXUSR)
    argv = ["pools", "--tenants-dir", str(_tenants(tmp_path)), "--zoho-slots", "2", "--apply"]
    assert cli.main([*argv, "--airflow-bin", str(fake_airflow)]) == 0
    assert Path(f"{capture}.args").read_text().split()[:2] == ["pools", "import"]
    pools = json.loads(capture.read_text())
    assert set(pools) == EXPECTED
    assert pools["zcs__acme_store__zoho"]["slots"] == 2
    assert pools["zcs__acme_store__cscart"]["slots"] == 1
    assert "4 pools created or updated" in capsys.readouterr().out


def test_apply_reports_a_failing_airflow(tmp_path, capsys):
    fake_airflow = tmp_path / "airflow"
    fake_airflow.write_text("#!/bin/sh\nexit 3\n")
    fake_airflow.chmod(fake_airflow.stat().st_mode | stat.S_IXUSR)
    argv = ["pools", "--tenants-dir", str(_tenants(tmp_path)), "--apply", "--airflow-bin", str(fake_airflow)]
    assert cli.main(argv) == 3
    assert "exited with 3" in capsys.readouterr().err


def test_no_valid_tenant_file_is_an_error(tmp_path, capsys):
    assert cli.main(["pools", "--tenants-dir", str(tmp_path)]) == 1
    assert "no valid tenant file" in capsys.readouterr().err
