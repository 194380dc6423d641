"""CI checks over the shipped mapping files and field catalogues."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from zoho_cscart_sync.mapping import available_variants, default_mappings_dir, load_mapping, validate_all
from zoho_cscart_sync.mapping.field_catalog import catalog_key, load_catalogs
from zoho_cscart_sync.mapping.paths import root_name
from zoho_cscart_sync.mapping.schema import DIRECTIONS, ENTITIES, MappingFile
from zoho_cscart_sync.mapping.transforms import TRANSFORMS

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_shipped_mapping_file_validates() -> None:
    """The CI check: every file under include/mappings/ parses, compiles and passes every rule."""
    assert default_mappings_dir() == REPO_ROOT / "include" / "mappings"
    assert validate_all() == []


def test_every_entity_and_direction_is_shipped() -> None:
    for entity in ENTITIES:
        for direction in DIRECTIONS:
            assert available_variants(entity, direction), (entity, direction)
    assert available_variants("customers", "zoho_to_cscart") == ["crm_accounts", "crm_contacts"]
    assert available_variants("customers", "cscart_to_zoho") == ["books_contacts", "crm_contacts", "crm_leads"]


def _covered_sources(entity: str, direction: str, variant: str) -> set[str]:
    import yaml

    path = default_mappings_dir() / entity / f"{direction}.{variant}.yaml"
    mapping = MappingFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    covered: set[str] = set()
    for entry in mapping.fields:
        if entry.source:
            covered.add(root_name(entry.source))
        for spec in entry.transform:
            definition = TRANSFORMS[spec.name]
            args = definition.args_model.model_validate(spec.args)
            covered.update(root_name(name) for name in definition.source_fields(args))
    return covered


@pytest.mark.parametrize(("variant", "module"), [("crm_contacts", "Contacts"), ("crm_accounts", "Accounts")])
def test_customer_mapping_lists_every_standard_crm_field(variant: str, module: str) -> None:
    catalog = load_catalogs()[catalog_key("zoho_crm", module)]
    missing = sorted(set(catalog.fields) - _covered_sources("customers", "zoho_to_cscart", variant))
    assert missing == [], f"customers/zoho_to_cscart.{variant}.yaml must map or skip: {missing}"


def _reference_field_list(text: str, heading: str) -> list[str]:
    match = re.search(rf"\*\*{heading} \((\d+)\):\*\*([^.]*)\.", text)
    assert match is not None, heading
    names = [name.strip() for name in match.group(2).replace("\n", " ").split(",")]
    assert len(names) == int(match.group(1))
    return names


@pytest.mark.parametrize(
    ("heading", "resource"),
    [
        ("Contacts", "Contacts"),
        ("Accounts", "Accounts"),
        ("Leads", "Leads"),
        ("Products", "Products"),
        ("Sales_Orders", "Sales_Orders"),
    ],
)
def test_crm_catalogues_equal_the_reference_lists(shared_reference: Path, heading: str, resource: str) -> None:
    text = (shared_reference / "reference" / "zoho_api.md").read_text(encoding="utf-8")
    expected = _reference_field_list(text, heading)
    catalog = load_catalogs()[catalog_key("zoho_crm", resource)]
    assert sorted(catalog.fields) == sorted(expected)


def _backticked(line: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", line))


def test_cscart_users_catalogue_covers_the_reference(shared_reference: Path) -> None:
    text = (shared_reference / "reference" / "cscart_api.md").read_text(encoding="utf-8")
    section = text[text.index("### 5.3 Users") : text.index("### 5.4 Orders")]
    row_line = next(line for line in section.splitlines() if "Row fields (exactly these)" in line)
    optional_line = next(line for line in section.splitlines() if line.startswith("* Optional:"))
    documented = _backticked(row_line) | _backticked(optional_line) | {"email", "user_type", "company_id", "password"}
    documented -= {"null"}  # "`null` if none" in the prose
    catalog = load_catalogs()[catalog_key("cscart", "users")]
    assert documented - set(catalog.fields) == set()
    profile = {
        f"{side}_{name}"
        for side in "bs"
        for name in ("firstname", "lastname", "address", "city", "state", "country", "zipcode", "phone")
    }
    assert profile <= set(catalog.writable_names())


def test_customer_imports_create_customers_with_billing_and_shipping_profiles() -> None:
    for variant in available_variants("customers", "zoho_to_cscart"):
        mapping = load_mapping("customers", "zoho_to_cscart", variant=variant)
        targets = set(mapping.targets())
        assert {"email", "user_type", "company_id"} <= targets
        assert any(t.startswith("b_") for t in targets) and any(t.startswith("s_") for t in targets)
        user_type = next(f for f in mapping.fields if f.target == "user_type")
        assert user_type.default == "C"


def test_mapping_package_imports_without_airflow_or_babel() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import zoho_cscart_sync.mapping; "
        "print(round(time.perf_counter() - t, 3)); "
        "print(sorted(m for m in ('airflow', 'babel', 'zoho_cscart_sandbox', 'sqlalchemy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT / "plugins"), "PATH": ""},
    )
    seconds, loaded = result.stdout.splitlines()
    assert loaded == "[]"
    assert float(seconds) < 2.0
