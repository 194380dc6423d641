"""Field paths, the catalogue loader and the command-line CI check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoho_cscart_sync.mapping import MappingConfigError
from zoho_cscart_sync.mapping.field_catalog import load_catalogs
from zoho_cscart_sync.mapping.paths import PathSyntaxError, catalogue_pattern, get_path, parse_path, set_path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_get_path_reads_dicts_lists_and_missing_steps() -> None:
    record = {"Account_Name": {"name": "Acme", "id": "9"}, "shipping": [{"shipping": "UPS"}], "none": None}
    assert get_path(record, "Account_Name.id") == "9"
    assert get_path(record, "shipping.0.shipping") == "UPS"
    assert get_path(record, "shipping[0].shipping") == "UPS"
    assert get_path(record, "shipping.3.shipping") is None
    assert get_path(record, "none.deeper") is None
    assert get_path(record, "Account_Name.name.more") is None
    assert get_path({"products": {"2489092001": {"amount": "2"}}}, "products.2489092001.amount") == "2"


def test_set_path_builds_nested_objects_and_lists() -> None:
    payload: dict[str, object] = {}
    set_path(payload, "Account_Name.id", "9")
    set_path(payload, "contact_persons[0].email", "a@b.co")
    set_path(payload, "contact_persons[0].is_primary_contact", True)
    set_path(payload, "billing_address.city", "Köln")
    assert payload == {
        "Account_Name": {"id": "9"},
        "contact_persons": [{"email": "a@b.co", "is_primary_contact": True}],
        "billing_address": {"city": "Köln"},
    }


@pytest.mark.parametrize("path", ["", " a", "a..b", "a[x]", "a-b", "a.[0]"])
def test_malformed_paths(path: str) -> None:
    with pytest.raises(PathSyntaxError):
        parse_path(path)


def test_catalogue_pattern() -> None:
    assert catalogue_pattern("contact_persons[0].email") == "contact_persons[].email"
    assert catalogue_pattern("line_items[12].rate") == "line_items[].rate"


def test_shipped_catalogues_load_and_name_their_reference() -> None:
    catalogs = load_catalogs()
    assert len(catalogs) == 13
    for catalog in catalogs.values():
        text = (
            Path(__file__).resolve().parents[2] / "plugins/zoho_cscart_sync/mapping/catalog" / catalog.file
        ).read_text(encoding="utf-8")
        assert text.startswith("# "), catalog.file
        assert "/work/shared/reference/" in text.split("system:")[0], catalog.file


def test_a_broken_catalogue_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "cscart_users.yaml").write_text("system: cscart\nresource: users\nfields: {}\n", encoding="utf-8")
    with pytest.raises(MappingConfigError, match=r"^cscart_users.yaml: reference: Field required"):
        load_catalogs.__wrapped__(tmp_path)


def test_command_line_check(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "plugins")}
    ok = subprocess.run(
        [sys.executable, "-m", "zoho_cscart_sync.mapping.check"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("include/mappings: OK")
    broken = subprocess.run(
        [sys.executable, "-m", "zoho_cscart_sync.mapping.check", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
        env=env,
    )
    assert broken.returncode == 1
    assert "customers: zoho_to_cscart: no mapping file shipped" in broken.stderr


def test_package_has_no_dunder_main() -> None:
    # Airflow's plugin loader executes every plugins/ file as a module named after the file; a __main__.py
    # would run as a script inside the scheduler (this happened once: the CLI lives in check.py).
    package = REPO_ROOT / "plugins" / "zoho_cscart_sync" / "mapping"
    assert not list(package.rglob("__main__.py"))
