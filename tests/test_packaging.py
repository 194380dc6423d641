"""What an installed wheel carries and finds: the field catalogs, the console templates and the shipped mappings
(found without ``ZCS_MAPPINGS_DIR``)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from zoho_cscart_sync.mapping import loader

REPO = Path(__file__).resolve().parents[1]


def test_mappings_dir_is_the_setting_then_the_checkout_then_the_installed_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("ZCS_MAPPINGS_DIR", str(tmp_path / "configured"))
    assert loader.default_mappings_dir() == tmp_path / "configured"

    monkeypatch.delenv("ZCS_MAPPINGS_DIR")
    assert loader.default_mappings_dir() == REPO / "include" / "mappings"  # a checkout

    # An installed wheel: no checkout beside the package, the mappings under <prefix>/share.
    monkeypatch.setattr(loader, "_REPO_MAPPINGS_DIR", tmp_path / "site-packages" / "include" / "mappings")
    monkeypatch.setattr(loader.sysconfig, "get_path", lambda name: str(tmp_path / "prefix"))
    installed = tmp_path / "prefix" / "share" / "zoho_cscart_sync" / "mappings"
    installed.mkdir(parents=True)
    assert loader.default_mappings_dir() == installed


@pytest.mark.slow
def test_the_wheel_ships_catalogs_templates_and_every_mapping(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("zoho_cscart_sync-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    mappings = sorted((REPO / "include" / "mappings").rglob("*.yaml"))
    assert mappings
    data = next(
        iter(
            {
                n.split("/", 1)[0]
                for n in names
                if n.endswith(".data/data/share/zoho_cscart_sync/mappings/value_maps.yaml")
            }
        )
    )
    for path in mappings:
        relative = path.relative_to(REPO / "include" / "mappings").as_posix()
        assert f"{data}/data/share/zoho_cscart_sync/mappings/{relative}" in names, relative
    assert any(n.startswith("zoho_cscart_sync/mapping/catalog/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("zoho_cscart_sync/console/templates/") for n in names)
