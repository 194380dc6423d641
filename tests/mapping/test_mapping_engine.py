"""CompiledMapping.apply: payloads, field-level issues (never exceptions), actions, collections, keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zoho_cscart_sync.mapping import NO_EMAIL_FLAG, CompiledMapping, load_mapping

MappingsDir = Callable[..., Path]


@pytest.fixture
def customers(mappings_dir: MappingsDir) -> CompiledMapping:
    return load_mapping("customers", "zoho_to_cscart", mappings_dir=mappings_dir())


def test_maps_fields_and_constants(customers: CompiledMapping) -> None:
    mapped = customers.apply(
        {"id": "7", "Email": " Zoe@Example.COM ", "Last_Name": " Ångström 🚀 ", "Mailing_Country": "Deutschland"},
        tenant="acme_store",
    )
    assert mapped.ok
    assert mapped.payload == {
        "email": "zoe@example.com",
        "lastname": "Ångström 🚀",
        "user_type": "C",
        "company_id": "0",
        "b_country": "DE",
    }
    assert mapped.source_id == "7"
    assert mapped.natural_keys == {"email": "zoe@example.com"}
    assert mapped.flags == frozenset()


def test_missing_email_gets_a_stable_placeholder_and_flag(customers: CompiledMapping) -> None:
    first = customers.apply({"id": "5725767000200000001", "Email": None}, tenant="acme_store")
    again = customers.apply({"id": "5725767000200000001", "Email": ""}, tenant="acme_store")
    assert first.ok
    assert first.payload["email"] == again.payload["email"]
    assert first.payload["email"].endswith("@acme-store.invalid")
    assert first.flags == frozenset({NO_EMAIL_FLAG})


def test_failing_required_field_is_an_issue_not_an_exception(customers: CompiledMapping) -> None:
    # Without a tenant no placeholder can be built, so the required e-mail fails.
    mapped = customers.apply({"id": "9", "Email": None})
    assert not mapped.ok
    assert [issue.field for issue in mapped.errors] == ["email"]
    assert "placeholder_email" in mapped.errors[0].message
    assert "email" not in mapped.payload
    assert "field 'email' (source 'Email')" in mapped.error_summary()
    assert mapped.failure_message().startswith("tenant None customers record '9': error: field 'email'")


def test_malformed_value_names_the_field_without_the_value(customers: CompiledMapping) -> None:
    mapped = customers.apply({"id": "9", "Email": "jane.doe_at_example.com"}, tenant="acme_store")
    assert mapped.error_summary() == (
        "error: field 'email' (source 'Email'): email_normalise: not a valid e-mail address (expected local@domain.tld)"
    )
    assert "jane.doe_at_example.com" not in mapped.error_summary()
    assert mapped.failure_message().startswith("tenant 'acme_store' customers record '9': error: field 'email'")


def test_on_error_warn_leaves_the_field_out_with_a_warning(customers: CompiledMapping) -> None:
    mapped = customers.apply({"id": "1", "Email": "a@b.co", "Mailing_Country": "Atlantis"}, tenant="t")
    assert mapped.ok
    assert "b_country" not in mapped.payload
    assert [(w.field, w.severity) for w in mapped.warnings] == [("b_country", "warning")]


def test_tenant_default_wins_over_literal_default(mappings_dir: MappingsDir) -> None:
    mapping = load_mapping(
        "customers", "zoho_to_cscart", mappings_dir=mappings_dir(), tenant_defaults={"customer_company_id": "2"}
    )
    assert mapping.apply({"id": "1", "Email": "a@b.co"}).payload["company_id"] == "2"


def test_empty_values_are_left_out_unless_keep_empty(mappings_dir: MappingsDir) -> None:
    def keep(data: dict[str, Any]) -> None:
        data["fields"][1]["keep_empty"] = True

    plain = load_mapping("customers", "zoho_to_cscart", mappings_dir=mappings_dir())
    assert "lastname" not in plain.apply({"id": "1", "Email": "a@b.co", "Last_Name": "  "}).payload
    kept = load_mapping("customers", "zoho_to_cscart", mappings_dir=mappings_dir(keep))
    assert kept.apply({"id": "1", "Email": "a@b.co", "Last_Name": "  "}).payload["lastname"] == ""


def test_non_mapping_input_does_not_raise(customers: CompiledMapping) -> None:
    mapped = customers.apply({"Email": {"unexpected": "object"}}, tenant="t")
    assert not mapped.ok
    assert mapped.source_id is None
    assert "expects text" in mapped.errors[0].message


def order_mapping(mappings_dir: MappingsDir, *, key_by: str | None = None) -> CompiledMapping:
    def orders(data: dict[str, Any]) -> None:
        data.update(entity="orders", direction="zoho_to_cscart", variant="mini", natural_keys={"order_ref": "details"})
        data["source"] = {"system": "zoho_inventory", "module": "salesorders", "id_field": "salesorder_id"}
        data["target"] = {"system": "cscart", "resource": "orders"}
        data["fields"] = [
            {
                "source": "customer_id",
                "target": "user_id",
                "transform": {"name": "id_link", "args": {"entity": "customers"}},
            },
            {"target": "payment_id", "default": "2"},
            {"source": "salesorder_number", "target": "details", "required": True},
            {"source": "status", "target": "status", "transform": {"name": "value_map", "args": {"table": "so"}}},
        ]
        data["value_maps"] = {"so": {"entries": {"confirmed": "P"}}}
        data["collections"] = [
            {
                "source": "line_items",
                "target": "products",
                "required": True,
                "key_by": key_by,
                "fields": [
                    {
                        "source": "item_id",
                        "target": "product_id",
                        "transform": {"name": "id_link", "args": {"entity": "products"}},
                        "required": True,
                    },
                    {"source": "quantity", "target": "amount", "transform": "to_int", "required": True},
                ],
            }
        ]

    directory = mappings_dir(orders, name="../orders/zoho_to_cscart.mini.yaml")
    return load_mapping("orders", "zoho_to_cscart", mappings_dir=directory)


LINKS = {("customers", "C1"): "4", ("products", "I1"): "12", ("products", "I2"): "13"}


def resolve(entity: str, source_id: str) -> str | None:
    return LINKS.get((entity, source_id))


def test_collections_actions_and_links(mappings_dir: MappingsDir) -> None:
    mapping = order_mapping(mappings_dir)
    record = {
        "salesorder_id": "S1",
        "salesorder_number": "SO-00001",
        "customer_id": "C1",
        "status": "confirmed",
        "line_items": [{"item_id": "I1", "quantity": 2.0}, {"item_id": "I2", "quantity": "1"}],
    }
    mapped = mapping.apply(record, resolve_id=resolve)
    assert mapped.ok, mapped.error_summary()
    assert mapped.payload == {
        "user_id": "4",
        "payment_id": "2",
        "details": "SO-00001",
        "products": [{"product_id": "12", "amount": 2}, {"product_id": "13", "amount": 1}],
    }
    assert mapped.actions == {"status": "P"}  # applied by a status-only PUT, never in the body
    assert mapped.natural_keys == {"order_ref": "SO-00001"}


def test_line_item_issues_name_the_item(mappings_dir: MappingsDir) -> None:
    mapping = order_mapping(mappings_dir)
    record = {
        "salesorder_id": "S1",
        "salesorder_number": "SO-1",
        "customer_id": "C9",
        "line_items": [{"item_id": "I1", "quantity": 1}, {"item_id": "I404", "quantity": 2.5}],
    }
    mapped = mapping.apply(record, resolve_id=resolve)
    assert sorted(issue.field for issue in mapped.errors) == [
        "products[1].amount",
        "products[1].product_id",
        "user_id",
    ]


def test_required_collection_must_have_items(mappings_dir: MappingsDir) -> None:
    mapping = order_mapping(mappings_dir)
    for items in ([], None, {}):
        mapped = mapping.apply({"salesorder_id": "S1", "salesorder_number": "SO-1", "line_items": items})
        assert [(i.field, i.message) for i in mapped.errors] == [("products", "at least one line item is required")]


def test_collection_source_may_be_an_object_keyed_by_id(mappings_dir: MappingsDir) -> None:
    # CS-Cart sends order items as {"<item_id>": {...}}; the values are the items.
    mapping = order_mapping(mappings_dir)
    record = {
        "salesorder_id": "S1",
        "salesorder_number": "SO-1",
        "line_items": {"k1": {"item_id": "I2", "quantity": 3}},
    }
    assert mapping.apply(record, resolve_id=resolve).payload["products"] == [{"product_id": "13", "amount": 3}]


def test_collection_keyed_output_and_duplicate_keys(mappings_dir: MappingsDir) -> None:
    mapping = order_mapping(mappings_dir, key_by="product_id")
    record = {
        "salesorder_id": "S1",
        "salesorder_number": "SO-1",
        "line_items": [
            {"item_id": "I1", "quantity": 1},
            {"item_id": "I2", "quantity": 1},
            {"item_id": "I1", "quantity": 4},
        ],
    }
    mapped = mapping.apply(record, resolve_id=resolve)
    assert mapped.payload["products"] == {
        "12": {"product_id": "12", "amount": 1},
        "13": {"product_id": "13", "amount": 1},
    }
    assert [(i.field, i.message) for i in mapped.errors] == [("products[2].product_id", "duplicate line key '12'")]


def test_collection_keyed_by_position_keeps_repeated_products(mappings_dir: MappingsDir) -> None:
    mapping = order_mapping(mappings_dir, key_by="$position")
    record = {
        "salesorder_id": "S1",
        "salesorder_number": "SO-1",
        "line_items": [{"item_id": "I1", "quantity": 1}, {"item_id": "I1", "quantity": 4}],
    }
    mapped = mapping.apply(record, resolve_id=resolve)
    assert mapped.ok
    assert mapped.payload["products"] == {
        "0": {"product_id": "12", "amount": 1},
        "1": {"product_id": "12", "amount": 4},
    }


def test_targets_and_fingerprint(mappings_dir: MappingsDir) -> None:
    mapping = order_mapping(mappings_dir)
    assert mapping.targets() == [
        "user_id",
        "payment_id",
        "details",
        "status",
        "products[].product_id",
        "products[].amount",
    ]
    assert mapping.fingerprint == order_mapping(mappings_dir).fingerprint
    assert len(mapping.fingerprint) == 16


def test_source_fields_lists_what_an_extractor_must_request() -> None:
    from zoho_cscart_sync.mapping import load_mapping as load

    contacts = load("customers", "zoho_to_cscart")
    fields = contacts.source_fields()
    assert fields[0] == "id"
    assert {"Email", "First_Name", "Last_Name", "Mobile", "Home_Phone", "Other_Phone", "Account_Name"} <= set(fields)
    assert "Owner" not in fields  # skipped fields are not requested
    assert len(fields) == len(set(fields)) <= 50
    orders = load("orders", "cscart_to_zoho")
    assert orders.source_fields()[0] == "order_id"
    assert {"products", "shipping", "email"} <= set(orders.source_fields())


def test_order_line_taxes_come_from_the_order_and_an_unmapped_tax_waits() -> None:
    """A line item reads the order it belongs to (``parent_keys_containing``): the CS-Cart taxes naming its cart
    item become the tenant's Zoho tax; a tax the tenant has not mapped keeps the order waiting (not content)."""
    order = {
        "order_id": "15",
        "email": "a@example.com",
        "status": "P",
        "taxes": {"6": {"applies": {"items": {"P": {"101": True}, "S": {"0": {"1": True}}}}}},
        "products": {
            "101": {"item_id": "101", "product_id": "7", "price": "10.00", "amount": "1"},
            "102": {"item_id": "102", "product_id": "8", "price": "3.00", "amount": "2"},
        },
    }

    def resolve(entity: str, source_id: str) -> str:
        return f"{entity}-{source_id}"

    mapped = load_mapping("orders", "cscart_to_zoho", tenant_defaults={"zoho_tax_map": {"6": "Z-VAT"}}).apply(
        order, resolve_id=resolve
    )
    assert mapped.ok, mapped.error_summary()
    assert [line.get("tax_id") for line in mapped.payload["line_items"]] == ["Z-VAT", None]
    waiting = load_mapping("orders", "cscart_to_zoho").apply(order, resolve_id=resolve)
    assert waiting.error_kind == "waiting"
    [issue] = waiting.errors
    assert issue.field == "line_items[0].tax_id" and "'6'" in issue.message
