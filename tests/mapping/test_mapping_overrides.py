"""Tenant overrides and tenant defaults layered on the shipped mappings, validated by the same rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from zoho_cscart_sync.mapping import (
    MappingConfigError,
    available_variants,
    load_mapping,
    overrides_for,
    tenant_default_keys,
    validate_overrides,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LABEL = "mapping_overrides.customers.zoho_to_cscart"


def test_sample_tenant_files_have_valid_overrides_and_defaults() -> None:
    for path in sorted((REPO_ROOT / "include" / "tenants").glob("*.yaml")):
        tenant = yaml.safe_load(path.read_text(encoding="utf-8"))
        problems = validate_overrides(tenant.get("mapping_overrides") or {}, tenant_defaults=tenant.get("defaults"))
        assert problems == [], f"{path.name}: {problems}"


def test_override_replaces_a_target_and_unskips_its_source() -> None:
    overrides = {"fields": [{"source": "Department", "target": "company", "transform": "strip"}]}
    mapping = load_mapping("customers", "zoho_to_cscart", overrides=overrides)
    record = {"id": "1", "Email": "a@b.co", "Department": " Purchasing ", "Account_Name": {"name": "Acme"}}
    assert mapping.apply(record, tenant="acme_store").payload["company"] == "Purchasing"
    shipped = load_mapping("customers", "zoho_to_cscart")
    assert shipped.apply(record, tenant="acme_store").payload["company"] == "Acme"
    assert mapping.fingerprint != shipped.fingerprint


def test_override_adds_drops_and_sets_defaults() -> None:
    overrides = {
        "fields": [{"source": "Fax", "target": "b_phone", "transform": "phone_normalise"}],
        "drop_targets": ["s_phone", "birthday"],
        "defaults": {"status": "D", "b_country": "DE"},
    }
    mapping = load_mapping("customers", "zoho_to_cscart", overrides=overrides)
    payload = mapping.apply({"id": "1", "Email": "a@b.co", "Fax": "+49 30 1", "Phone": "+1 555"}, tenant="t").payload
    assert payload["b_phone"] == "+49301"
    assert "s_phone" not in payload and "birthday" not in mapping.targets()
    assert payload["status"] == "D"
    assert payload["b_country"] == "DE"


def test_override_picks_a_variant() -> None:
    mapping = load_mapping("customers", "zoho_to_cscart", overrides={"variant": "crm_accounts"})
    assert mapping.variant == "crm_accounts"
    assert mapping.source_module == "Accounts"
    assert load_mapping("customers", "zoho_to_cscart").variant == "crm_contacts"
    assert available_variants("customers", "cscart_to_zoho") == ["books_contacts", "crm_contacts", "crm_leads"]


def test_tenant_status_map_and_override_patch_layer_in_order() -> None:
    record = {
        "order_id": "1",
        "email": "buyer@example.com",
        "status": "C",
        "products": {"1": {"product_id": "1", "price": "1", "amount": "1"}},
    }
    links = {"order_contacts": "Z4", "products": "ZP1"}

    def resolve(entity: str, source_id: str) -> str | None:
        return links[entity]

    shipped = load_mapping("orders", "cscart_to_zoho")
    assert shipped.apply(record, resolve_id=resolve).actions == {"status": "confirmed"}
    tenant = load_mapping("orders", "cscart_to_zoho", tenant_defaults={"order_status_map": {"C": "draft"}})
    assert tenant.apply(record, resolve_id=resolve).actions == {"status": "draft"}
    patched = load_mapping(
        "orders",
        "cscart_to_zoho",
        tenant_defaults={"order_status_map": {"C": "draft"}},
        overrides={"value_maps": {"cscart_order_status_to_zoho": {"entries": {"C": "void"}}}},
    )
    assert patched.apply(record, resolve_id=resolve).actions == {"status": "void"}
    replaced = load_mapping(
        "orders",
        "cscart_to_zoho",
        overrides={"value_maps": {"cscart_order_status_to_zoho": {"entries": {"P": "confirmed"}, "replace": True}}},
    )
    issues = replaced.apply(record, resolve_id=resolve).errors
    assert [issue.field for issue in issues] == ["status"]


def test_tenant_defaults_feed_default_from_fields() -> None:
    mapping = load_mapping("products", "zoho_to_cscart", tenant_defaults={"category_id": 166, "tax_ids": [6]})
    mapped = mapping.apply({"item_id": "1", "name": "Mug", "rate": 5, "category_id": "", "tax_id": "unknown-tax"})
    assert mapped.ok, mapped.error_summary()
    assert mapped.payload["category_ids"] == 166
    assert mapped.payload["tax_ids"] == [6]
    without = load_mapping("products", "zoho_to_cscart").apply({"item_id": "1", "name": "Mug", "rate": 5})
    assert [issue.field for issue in without.errors] == ["category_ids"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {"invoices": {}},
            ["mapping_overrides: invoices: unknown entity (allowed: customers, products, orders)"],
            id="unknown-entity",
        ),
        pytest.param(
            {"customers": {"both": {}}},
            ["mapping_overrides: customers.both: unknown direction (allowed: zoho_to_cscart, cscart_to_zoho)"],
            id="unknown-direction",
        ),
        pytest.param(
            {"customers": {"zoho_to_cscart": {"field": []}}},
            [
                f"{LABEL}: field: unknown key 'field' (allowed: defaults, drop_targets, fields, value_maps, variant)",
            ],
            id="unknown-override-key",
        ),
        pytest.param(
            {"customers": {"zoho_to_cscart": {"variant": "crm_deals"}}},
            [
                f"{LABEL}: customers.zoho_to_cscart.variant: unknown variant 'crm_deals' "
                "(allowed: crm_accounts, crm_contacts)"
            ],
            id="unknown-variant",
        ),
        pytest.param(
            {"customers": {"zoho_to_cscart": {"fields": [{"source": "Title", "target": "title"}]}}},
            [f"{LABEL}: fields[0] (target 'title').target: 'title' is not a documented field of cscart users"],
            id="unknown-target",
        ),
        pytest.param(
            {
                "customers": {
                    "zoho_to_cscart": {"fields": [{"source": "Title", "target": "company", "transform": "titlecase"}]}
                }
            },
            [
                f"{LABEL}: fields[0] (target 'company').transform[0].name: unknown transform 'titlecase' "
                "(allowed: affix,"
            ],
            id="unknown-transform",
        ),
        pytest.param(
            {"customers": {"zoho_to_cscart": {"drop_targets": ["fax"]}}},
            [f"{LABEL}: drop_targets[0]: no entry targets 'fax' (allowed: b_address,"],
            id="drop-unknown-target",
        ),
        pytest.param(
            {"customers": {"zoho_to_cscart": {"drop_targets": ["user_type"]}}},
            ["requires 'user_type' on create but no entry targets it"],
            id="drop-required-target",
        ),
        pytest.param(
            {"customers": {"zoho_to_cscart": {"defaults": {"nickname": "x"}}}},
            [f"{LABEL}: defaults.nickname: no entry targets 'nickname'"],
            id="default-for-unknown-target",
        ),
        pytest.param(
            {"orders": {"cscart_to_zoho": {"value_maps": {"order_statuses": {"entries": {"C": "void"}}}}}},
            [
                "mapping_overrides.orders.cscart_to_zoho: value_maps.order_statuses: unknown value map "
                "(allowed: books_salesorder_status_to_inventory, crm_salesorder_status_to_inventory, "
                "cscart_order_status_to_zoho,"
            ],
            id="unknown-value-map",
        ),
        pytest.param(
            {"products": {"zoho_to_cscart": {"fields": [{"source": "sku", "skip": True}]}}},
            [
                "mapping_overrides.products.zoho_to_cscart: fields[0] (source 'sku'): "
                "a 'skip: true' entry needs a 'reason'"
            ],
            id="skip-without-reason",
        ),
    ],
)
def test_validate_overrides_errors_name_the_field_path(overrides: dict[str, Any], expected: list[str]) -> None:
    problems = validate_overrides(overrides)
    assert len(problems) == len(expected), problems
    for problem, part in zip(problems, expected, strict=True):
        assert part in problem, f"{part!r} not in {problem!r}"


def test_values_a_zoho_status_action_cannot_take_are_refused_from_every_layer() -> None:
    allowed = "(allowed: draft, confirmed, void)"
    target = "zoho_inventory salesorders (zoho_api.md 3.5 Sales orders) field 'status'"
    from_tenant = validate_overrides(
        {"orders": {"cscart_to_zoho": {}}}, tenant_defaults={"order_status_map": {"C": "fulfilled"}}
    )
    assert from_tenant == [f"tenant defaults: order_status_map.C: 'fulfilled' cannot be written to {target} {allowed}"]
    from_override = validate_overrides(
        {"orders": {"cscart_to_zoho": {"value_maps": {"cscart_order_status_to_zoho": {"entries": {"P": "closed"}}}}}}
    )
    assert from_override == [
        "mapping_overrides.orders.cscart_to_zoho: value_maps.cscart_order_status_to_zoho.entries.P: "
        f"'closed' cannot be written to {target} {allowed}"
    ]
    from_default = validate_overrides({"products": {"cscart_to_zoho": {"defaults": {"status": "archived"}}}})
    assert from_default == [
        "include/mappings/products/cscart_to_zoho.inventory_items.yaml: default for status: not accepted by "
        "zoho_inventory items (zoho_api.md 3.2 Items) field 'status' (allowed: active, inactive)"
    ]


def test_tenant_default_used_by_a_value_map_must_be_a_mapping() -> None:
    problems = validate_overrides({"orders": {"cscart_to_zoho": {}}}, tenant_defaults={"order_status_map": ["C"]})
    assert problems == [
        "tenant defaults: order_status_map: must be a mapping used by value map 'cscart_order_status_to_zoho'"
    ]


def test_load_mapping_raises_the_same_errors() -> None:
    with pytest.raises(MappingConfigError, match=r"defaults\.nickname: no entry targets 'nickname'"):
        load_mapping("customers", "zoho_to_cscart", overrides={"defaults": {"nickname": "x"}})


def test_overrides_for_picks_one_body() -> None:
    block = {"customers": {"zoho_to_cscart": {"variant": "crm_accounts"}}, "orders": None}
    assert overrides_for(block, "customers", "zoho_to_cscart") == {"variant": "crm_accounts"}
    assert overrides_for(block, "customers", "cscart_to_zoho") is None
    assert overrides_for(block, "orders", "cscart_to_zoho") is None
    assert overrides_for(None, "customers", "zoho_to_cscart") is None


def test_tenant_default_keys_lists_what_the_mappings_read() -> None:
    keys = tenant_default_keys()
    assert sorted(keys) == [
        "category_id",
        "category_map",
        "company_id",
        "customer_company_id",
        "order_status_map",
        "payment_id",
        "payment_method_map",
        "shipping_id",
        "shipping_method_map",
        "tax_ids",
        "tax_map",
        "zoho_delivery_method_map",
        "zoho_order_status_map",
        "zoho_tax_map",
    ]
    assert keys["order_status_map"] == ["value map cscart_order_status_to_zoho"]
    assert keys["category_id"] == ["products/zoho_to_cscart.inventory_items.yaml category_ids"]
