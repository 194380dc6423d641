"""Fixtures for mapping tests: a throwaway mappings directory holding the smallest valid mapping file."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

MINIMAL_MAPPING: dict[str, Any] = {
    "mapping_version": 1,
    "entity": "customers",
    "direction": "zoho_to_cscart",
    "variant": "mini",
    "default_variant": True,
    "description": "Smallest valid customers mapping for error tests.",
    "source": {"system": "zoho_crm", "module": "Contacts", "id_field": "id"},
    "target": {"system": "cscart", "resource": "users"},
    "natural_keys": {"email": "email"},
    "fields": [
        {"source": "Email", "target": "email", "transform": ["email_normalise", "placeholder_email"], "required": True},
        {"source": "Last_Name", "target": "lastname", "transform": "strip"},
        {"target": "user_type", "default": "C"},
        {"target": "company_id", "default": "0", "default_from": "customer_company_id"},
        {"source": "Mailing_Country", "target": "b_country", "transform": "country_code", "on_error": "warn"},
        {"source": "Owner", "skip": True, "reason": "CRM user"},
    ],
}

MINIMAL_SHARED_MAPS: dict[str, Any] = {
    "mapping_version": 1,
    "value_maps": {"user_status": {"entries": {"active": "A", "inactive": "D"}, "case_insensitive": True}},
}


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def minimal_mapping() -> dict[str, Any]:
    """A fresh copy of the smallest valid customers mapping (tests mutate it freely)."""
    return copy.deepcopy(MINIMAL_MAPPING)


@pytest.fixture
def yaml_writer() -> Callable[[Path, Any], Path]:
    return write_yaml


@pytest.fixture
def mappings_dir(tmp_path: Path) -> Callable[..., Path]:
    """``mappings_dir(mutate=None, name=None)`` -> a directory holding the (mutated) minimal mapping."""

    def build(mutate: Callable[[dict[str, Any]], None] | None = None, *, name: str | None = None) -> Path:
        directory = tmp_path / "include" / "mappings"
        data = copy.deepcopy(MINIMAL_MAPPING)
        if mutate is not None:
            mutate(data)
        write_yaml(directory / "value_maps.yaml", MINIMAL_SHARED_MAPS)
        write_yaml(directory / "customers" / (name or "zoho_to_cscart.mini.yaml"), data)
        return directory

    return build
