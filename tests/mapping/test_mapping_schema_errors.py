"""Every schema / load-time error names the file, the field path and (for closed sets) the allowed values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zoho_cscart_sync.mapping import MappingConfigError, load_mapping, validate_all
from zoho_cscart_sync.mapping.transforms import transform_names

MappingsDir = Callable[..., Path]
YamlWriter = Callable[[Path, Any], Path]

FILE = "include/mappings/customers/zoho_to_cscart.mini.yaml"


def load_error(directory: Path, **kwargs: Any) -> str:
    with pytest.raises(MappingConfigError) as excinfo:
        load_mapping("customers", "zoho_to_cscart", mappings_dir=directory, **kwargs)
    return str(excinfo.value)


def field(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["fields"][index] = {**data["fields"][index], **changes}

    return mutate


def add_field(entry: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["fields"].append(entry)


def test_minimal_mapping_is_valid(mappings_dir: MappingsDir) -> None:
    directory = mappings_dir()
    mapping = load_mapping("customers", "zoho_to_cscart", mappings_dir=directory)
    assert mapping.file == FILE
    assert validate_all(directory) == [
        f"include/mappings/{entity}: {direction}: no mapping file shipped "
        f"(expected {entity}/{direction}.<variant>.yaml)"
        for entity, direction in [
            ("customers", "cscart_to_zoho"),
            ("products", "zoho_to_cscart"),
            ("products", "cscart_to_zoho"),
            ("orders", "zoho_to_cscart"),
            ("orders", "cscart_to_zoho"),
        ]
    ]


@pytest.mark.parametrize(
    ("mutate", "expected_parts"),
    [
        pytest.param(
            field(1, requried=True),
            [
                "fields[1].requried (target 'lastname')",
                "unknown key 'requried'",
                "allowed: custom, default,",
                "required",
            ],
            id="unknown-field-key",
        ),
        pytest.param(
            lambda d: d.update(direction="zoho_to_shop"),
            ["direction: invalid value 'zoho_to_shop'", "allowed: zoho_to_cscart, cscart_to_zoho"],
            id="bad-direction-enum",
        ),
        pytest.param(
            lambda d: d.update(entity="customer"),
            ["entity: invalid value 'customer'", "allowed: customers, products, orders"],
            id="bad-entity-enum",
        ),
        pytest.param(
            lambda d: d.update(mapping_version=2),
            ["mapping_version: unsupported mapping_version 2 (allowed: 1)"],
            id="unsupported-version",
        ),
        pytest.param(
            lambda d: d["source"].update(system="zoho_desk"),
            ["source.system: invalid value 'zoho_desk'", "allowed: zoho_crm, zoho_inventory, zoho_books, cscart"],
            id="bad-system-enum",
        ),
        pytest.param(
            field(4, on_error="ignore"),
            ["fields[4].on_error (target 'b_country')", "invalid value 'ignore'", "allowed: fail, warn"],
            id="bad-on-error-enum",
        ),
        pytest.param(
            lambda d: d.update(colour="blue"),
            ["colour: unknown key 'colour'", "allowed: collections, default_variant, description, direction, entity"],
            id="unknown-top-level-key",
        ),
        pytest.param(
            field(1, transform=[{"name": "strip", "arg": {}}]),
            ["fields[1].transform[0].arg", "unknown key 'arg'", "allowed: args, name"],
            id="unknown-transform-key",
        ),
        pytest.param(
            field(5, reason=None),
            ["fields[5] (source 'Owner')", "'skip: true' entry needs a 'reason'"],
            id="skip-without-reason",
        ),
        pytest.param(
            field(5, target="company"),
            ["fields[5] (target 'company')", "may only have 'source' and 'reason' (remove: target)"],
            id="skip-with-target",
        ),
        pytest.param(
            add_field({"source": "Title"}),
            ["fields[6] (source 'Title')", "needs a 'target' field (or 'skip: true' with a 'reason')"],
            id="mapped-without-target",
        ),
    ],
)
def test_schema_errors_name_file_field_and_allowed_values(
    mappings_dir: MappingsDir, mutate: Callable[[dict[str, Any]], None], expected_parts: list[str]
) -> None:
    message = load_error(mappings_dir(mutate))
    assert message.startswith(FILE + ": "), message
    for part in expected_parts:
        assert part in message, f"{part!r} not in {message!r}"


def test_unknown_transform_lists_the_registry(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(field(1, transform=["titlecase"])))
    assert f"{FILE}: fields[1] (target 'lastname').transform[0].name: unknown transform 'titlecase'" in message
    assert "allowed: " + ", ".join(transform_names()) in message


@pytest.mark.parametrize(
    ("transform", "expected_parts"),
    [
        pytest.param(
            {"name": "truncate", "args": {"max_len": 5}},
            [
                "transform[0].args.max_len",
                "unknown argument 'max_len' for transform 'truncate'",
                "allowed: ellipsis, max_length",
            ],
            id="unknown-arg",
        ),
        pytest.param(
            {"name": "truncate"},
            ["transform[0].args.max_length", "Field required", "allowed: ellipsis, max_length"],
            id="missing-arg",
        ),
        pytest.param(
            {"name": "truncate", "args": {"max_length": "many"}},
            ["transform[0].args.max_length", "valid integer"],
            id="wrong-arg-type",
        ),
        pytest.param(
            {"name": "split_name", "args": {"part": "middle"}},
            ["transform[0].args.part", "'first' or 'last'", "(transform 'split_name')"],
            id="arg-enum",
        ),
        pytest.param(
            {"name": "unix_to_iso", "args": {"timezone": "Mars/Olympus"}},
            ["transform[0].args.timezone", "unknown time zone 'Mars/Olympus'"],
            id="arg-validator",
        ),
    ],
)
def test_bad_transform_args(mappings_dir: MappingsDir, transform: dict[str, Any], expected_parts: list[str]) -> None:
    message = load_error(mappings_dir(field(1, transform=[transform])))
    assert message.startswith(f"{FILE}: fields[1] (target 'lastname')."), message
    for part in expected_parts:
        assert part in message, f"{part!r} not in {message!r}"


def test_unknown_value_map_lists_the_tables(mappings_dir: MappingsDir) -> None:
    entry = {"source": "Lead_Source", "target": "status", "transform": {"name": "value_map", "args": {"table": "nope"}}}
    message = load_error(mappings_dir(add_field(entry)))
    assert f"{FILE}: fields[6] (target 'status').transform[0].args.table: unknown value map 'nope'" in message
    assert "(allowed: user_status)" in message


def test_duplicate_target(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(add_field({"source": "First_Name", "target": "lastname"})))
    assert (
        f"{FILE}: fields[6] (target 'lastname'): duplicate target 'lastname' (first set by {FILE}: fields[1])"
        in message
    )


def test_target_not_in_cscart_catalogue_is_refused(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(add_field({"source": "Title", "target": "job_title"})))
    assert (
        f"{FILE}: fields[6] (target 'job_title').target: 'job_title' is not a documented field of cscart users"
        in message
    )
    assert "allowed: b_address, b_address_2" in message


def test_read_only_target_is_refused(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(add_field({"source": "id", "target": "user_id"})))
    assert "fields[6] (target 'user_id').target: 'user_id' is read-only in cscart users" in message


def test_custom_flag_never_relaxes_cscart_targets(mappings_dir: MappingsDir) -> None:
    # CS-Cart silently ignores unknown fields, so `custom: true` only relaxes the Zoho (source) side here.
    message = load_error(mappings_dir(add_field({"source": "Title", "target": "job_title", "custom": True})))
    assert "fields[6] (target 'job_title').target: 'job_title' is not a documented field of cscart users" in message


def test_source_not_in_catalogue(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(field(1, source="Surname")))
    assert (
        f"{FILE}: fields[1] (target 'lastname').source: 'Surname' is not a documented field of zoho_crm Contacts"
        in message
    )
    assert "mark custom fields with 'custom: true'" in message
    assert "allowed: Account_Name, Assistant" in message


def test_custom_source_is_accepted(mappings_dir: MappingsDir) -> None:
    directory = mappings_dir(field(1, source="Loyalty_Tier__c", custom=True))
    assert load_mapping("customers", "zoho_to_cscart", mappings_dir=directory).fields[1].source == "Loyalty_Tier__c"


def test_skipped_and_mapped_source(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(add_field({"source": "Last_Name", "skip": True, "reason": "no"})))
    assert f"{FILE}: fields[6] (source 'Last_Name'): source 'Last_Name' is both skipped and mapped" in message


def test_required_target_of_the_resource_must_be_mapped(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(lambda d: d["fields"].pop(2)))
    assert f"{FILE}: fields: cscart users (cscart_api.md 5.3 Users) requires 'user_type' on create" in message


def test_direction_must_match_systems(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(lambda d: d["target"].update(system="zoho_books", resource="contacts")))
    assert f"{FILE}: target.system: zoho_to_cscart writes CS-Cart (allowed: cscart)" in message


def test_unknown_catalogue(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(lambda d: d["source"].update(module="Deals")))
    assert f"{FILE}: source.module: no documented field catalogue for zoho_crm 'Deals'" in message
    assert "allowed: Accounts, Contacts, Leads, Products, Sales_Orders" in message


def test_natural_key_must_be_a_mapped_target(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(lambda d: d["natural_keys"].update(sku="product_code")))
    assert f"{FILE}: natural_keys.sku: 'product_code' is not a mapped target" in message


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (
            "company.name",
            "'company' is a plain field of cscart users (cscart_api.md 5.3 Users), it has no sub-field 'name'",
        ),
        ("b_country[0]", "'b_country' is not a list in cscart users (cscart_api.md 5.3 Users)"),
        ("bad path!", "invalid field path 'bad path!'"),
    ],
)
def test_target_path_shapes(mappings_dir: MappingsDir, target: str, problem: str) -> None:
    message = load_error(mappings_dir(add_field({"source": "Title", "target": target})))
    assert f"{FILE}: fields[6] (target {target!r}).target: {problem}" in message


def test_zoho_lookup_targets_are_written_as_id(mappings_dir: MappingsDir) -> None:
    def to_zoho(data: dict[str, Any]) -> None:
        data.update(direction="cscart_to_zoho", natural_keys={})
        data["source"] = {"system": "cscart", "module": "users", "id_field": "user_id"}
        data["target"] = {"system": "zoho_crm", "resource": "Contacts"}
        data["fields"] = [
            {"source": "lastname", "target": "Last_Name", "required": True},
            {"source": "company", "target": "Account_Name"},
            {"source": "company", "target": "Owner.name"},
        ]

    directory = mappings_dir(to_zoho, name="cscart_to_zoho.mini.yaml")
    with pytest.raises(MappingConfigError) as excinfo:
        load_mapping("customers", "cscart_to_zoho", mappings_dir=directory)
    message = str(excinfo.value)
    assert (
        "cscart_to_zoho.mini.yaml: fields[1] (target 'Account_Name').target: write the lookup as Account_Name.id"
        in message
    )
    assert "fields[2] (target 'Owner.name').target: a lookup is written as Owner.id only" in message


def test_all_errors_are_reported_together(mappings_dir: MappingsDir) -> None:
    def many(data: dict[str, Any]) -> None:
        data["fields"][1]["transform"] = ["titlecase"]
        data["fields"].append({"source": "Title", "target": "job_title"})

    message = load_error(mappings_dir(many))
    assert "unknown transform 'titlecase'" in message
    assert "'job_title' is not a documented field" in message
    assert len(message.splitlines()) == 2


def test_file_name_must_match_contents(mappings_dir: MappingsDir) -> None:
    directory = mappings_dir(lambda d: d.update(variant="other"))
    message = load_error(directory)
    assert f"{FILE}: entity/direction/variant: file must be named customers/zoho_to_cscart.other.yaml" in message


def test_invalid_yaml_names_the_line(mappings_dir: MappingsDir) -> None:
    directory = mappings_dir()
    (directory / "customers" / "zoho_to_cscart.mini.yaml").write_text("fields: [\n  - {a: 1\n", encoding="utf-8")
    message = load_error(directory)
    assert message.startswith(f"{FILE}: line ")
    assert "not valid YAML" in message


def test_unknown_variant_lists_the_shipped_ones(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(), variant="crm_deals")
    assert (
        "mapping_overrides.customers.zoho_to_cscart: customers.zoho_to_cscart.variant: unknown variant 'crm_deals'"
        in message
    )
    assert "(allowed: mini)" in message


def test_exactly_one_default_variant(
    mappings_dir: MappingsDir, minimal_mapping: dict[str, Any], yaml_writer: YamlWriter
) -> None:
    directory = mappings_dir(lambda d: d.update(default_variant=False))
    message = load_error(directory)
    assert "customers.zoho_to_cscart: exactly one variant must set default_variant: true (found 0)" in message
    assert "(allowed: mini)" in message
    yaml_writer(directory / "customers" / "zoho_to_cscart.second.yaml", dict(minimal_mapping, variant="second"))
    yaml_writer(directory / "customers" / "zoho_to_cscart.mini.yaml", minimal_mapping)
    assert "(found 2)" in load_error(directory)


def test_unknown_entity_and_direction() -> None:
    with pytest.raises(MappingConfigError, match=r"unknown entity 'invoices' \(allowed: customers, products, orders\)"):
        load_mapping("invoices", "zoho_to_cscart")
    with pytest.raises(
        MappingConfigError, match=r"unknown direction 'both' \(allowed: zoho_to_cscart, cscart_to_zoho\)"
    ):
        load_mapping("customers", "both")


def test_value_map_must_not_be_redefined_locally(mappings_dir: MappingsDir) -> None:
    directory = mappings_dir(lambda d: d.update(value_maps={"user_status": {"entries": {"x": "y"}}}))
    message = load_error(directory)
    assert f"{FILE}: value_maps.user_status: already defined in include/mappings/value_maps.yaml" in message


def test_value_map_needs_entries_or_a_tenant_key_with_default(mappings_dir: MappingsDir) -> None:
    message = load_error(mappings_dir(lambda d: d.update(value_maps={"empty": {"entries": {}}})))
    assert f"{FILE}: value_maps.empty: needs 'entries', or a 'tenant_key' plus a 'default'" in message


def test_value_map_keys_must_be_strings(mappings_dir: MappingsDir) -> None:
    # YAML 1.1 reads an unquoted `yes:` key as a boolean; such a table would never match a status text.
    directory = mappings_dir()
    (directory / "customers" / "zoho_to_cscart.mini.yaml").write_text(
        (directory / "customers" / "zoho_to_cscart.mini.yaml").read_text(encoding="utf-8")
        + "value_maps:\n  flags:\n    entries:\n      yes: Y\n",
        encoding="utf-8",
    )
    message = load_error(directory)
    assert (
        f"{FILE}: value_maps.flags.entries.True (key): key True must be text (quote YAML words such as yes" in message
    )


def test_shared_value_map_file_errors_name_that_file(mappings_dir: MappingsDir, yaml_writer: YamlWriter) -> None:
    directory = mappings_dir()
    yaml_writer(
        directory / "value_maps.yaml", {"mapping_version": 1, "value_maps": {"s": {"entries": {"a": "b"}, "cases": 1}}}
    )
    message = load_error(directory)
    assert "include/mappings/value_maps.yaml: value_maps.s.cases: unknown key 'cases'" in message
    assert "allowed: case_insensitive, default, description, entries, tenant_key" in message
    assert validate_all(directory) == [message]


def test_collection_errors(mappings_dir: MappingsDir) -> None:
    def orders(data: dict[str, Any]) -> None:
        data.update(entity="orders", direction="cscart_to_zoho", variant="mini", natural_keys={})
        data["source"] = {"system": "cscart", "module": "orders", "id_field": "order_id"}
        data["target"] = {"system": "zoho_inventory", "resource": "salesorders"}
        data["fields"] = [{"source": "user_id", "target": "customer_id", "required": True}]
        data["collections"] = [
            {"source": "products", "target": "notes", "fields": [{"source": "product_code", "target": "notes"}]},
            {
                "source": "products",
                "target": "line_items",
                "key_by": "sku",
                "fields": [{"source": "product_code", "target": "item_code"}, {"source": "colour", "target": "name"}],
            },
        ]

    directory = mappings_dir(orders, name="../orders/cscart_to_zoho.mini.yaml")
    with pytest.raises(MappingConfigError) as excinfo:
        load_mapping("orders", "cscart_to_zoho", mappings_dir=directory)
    message = str(excinfo.value)
    prefix = "include/mappings/orders/cscart_to_zoho.mini.yaml: "
    assert prefix + "collections[0].target: 'notes' is not a list field of zoho_inventory salesorders" in message
    assert (
        prefix + "collections[1].key_by: must be one of the collection's targets (allowed: $position, item_code, name)"
        in message
    )
    assert (
        prefix + "collections[1].fields[0] (target 'item_code').target: 'item_code' is not a documented field "
        "of zoho_inventory salesorders.line_items[]"
    ) in message
    assert "(allowed: bcy_rate, description, hsn_or_sac, is_invoiced, item_custom_fields, item_id," in message
    # Item sources are checked against what CS-Cart order items carry (response-only fields included).
    assert (
        "collections[1].fields[1] (target 'name').source: "
        "'colour' is not a documented field of cscart orders.products[]"
    ) in message


def test_crm_sources_may_read_at_most_50_fields(mappings_dir: MappingsDir) -> None:
    def wide(data: dict[str, Any]) -> None:
        # id, Email, Last_Name, Mailing_Country + 50 custom fields read by one concat = 54.
        custom = [f"Custom_Field_{n}" for n in range(50)]
        data["fields"][1].update(transform=[{"name": "concat", "args": {"fields": custom}}], custom=True)

    message = load_error(mappings_dir(wide))
    assert f"{FILE}: fields: reads 54 Zoho CRM fields; CRM list calls accept at most 50 (zoho_api.md 2.3)" in message
