"""Validation of entities.customers.settings: defaults per tenant kind, errors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoho_cscart_sync.kit.context import EntitySettingsError as CustomersSettingsError
from zoho_cscart_sync.kit.context import entity_settings
from zoho_cscart_sync.pipelines.customers import CUSTOMERS, CustomersSettings
from zoho_cscart_sync.tenants import TenantConfig, load_tenant, parse_tenant


def customers_settings(tenant: TenantConfig, tenants_dir: Path | None = None) -> CustomersSettings:
    settings = entity_settings(CUSTOMERS, tenant, tenants_dir)
    assert isinstance(settings, CustomersSettings)
    return settings


SAMPLE_TENANTS = Path(__file__).resolve().parents[2] / "include" / "tenants"


def _tenant(kind: str, settings: dict, master: str = "zoho"):
    raw = {
        "tenant_id": "shop",
        "kind": kind,
        "start_date": "2026-11-01T00:00:00Z",
        "entities": {"customers": {"direction": "both", "master": master, "settings": settings}},
    }
    if kind == "vendor":
        raw["company_id"] = 7
    return parse_tenant(raw, Path("shop.yaml"))


def test_sample_tenants():
    acme = load_tenant(SAMPLE_TENANTS, "acme_store")
    store = customers_settings(acme, SAMPLE_TENANTS)
    assert (store.import_sub_accounts, store.cscart_customers_to, store.also_to_books) == (True, "contacts", True)
    assert (store.on_zoho_delete, acme.entities["customers"].master) == ("deactivate", "zoho")
    vendor = customers_settings(load_tenant(SAMPLE_TENANTS, "northwind_vendor"), SAMPLE_TENANTS)
    assert vendor.import_sub_accounts is False


def test_defaults_depend_on_the_tenant_kind():
    assert customers_settings(_tenant("store", {})).import_sub_accounts is True
    assert customers_settings(_tenant("vendor", {})).import_sub_accounts is False
    assert customers_settings(_tenant("vendor", {"import_sub_accounts": True})).import_sub_accounts is True
    assert _tenant("store", {}, master="cscart").entities["customers"].master == "cscart"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"cscart_customers_to": "accounts"}, "entities.customers.settings.cscart_customers_to"),
        ({"on_zoho_delete": "delete"}, "entities.customers.settings.on_zoho_delete"),
        ({"import_sub_accounts": "sometimes"}, "entities.customers.settings.import_sub_accounts"),
        ({"also_to_bookz": True}, "entities.customers.settings.also_to_bookz"),
    ],
)
def test_invalid_settings_name_the_tenant_file_and_the_field(tmp_path, settings, field):
    tenant = _tenant("store", settings)
    (tmp_path / "shop.yaml").write_text("tenant_id: shop\n")
    with pytest.raises(CustomersSettingsError) as caught:
        customers_settings(tenant, tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "shop.yaml") in message
    assert field in message
