"""Content rules: every mapped value is checked against its target field's catalogue before it is sent.

Length, required, e-mail / phone shape and markup, each with the mapping's ``on_invalid`` policy
(``truncate`` / ``drop`` / ``quarantine``) and the documented defaults per field format.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zoho_cscart_sync.directions import DIRECTIONS as PACKAGE_DIRECTIONS
from zoho_cscart_sync.directions import Direction as PackageDirection
from zoho_cscart_sync.mapping import (
    CONTENT,
    DEFAULT_POLICY,
    MappedRecord,
    MappedResult,
    MappingConfigError,
    load_mapping,
)
from zoho_cscart_sync.mapping.content import (
    ContentRules,
    check_value,
    clean_markup,
    flag_name,
    remove_markup,
    sanitise_html,
    truncate_text,
)
from zoho_cscart_sync.mapping.field_catalog import load_catalogs
from zoho_cscart_sync.mapping.schema import DIRECTIONS, Direction

TENANT = "acme_store"
USER: dict[str, Any] = {"user_id": "7", "email": "jane@example.com", "firstname": "Jane", "lastname": "Roe"}
LONG_FIRST = "Maximiliana-Konstantina Alexandra-Theodora Beth"
assert len(LONG_FIRST) == 47
LINK_FLAG = re.compile(r"^[a-z][a-z0-9_]{0,49}$")  # state/links.py _FLAG_PATTERN


def crm_contacts(field_overrides: list[dict[str, Any]] | None = None) -> Any:
    overrides = {"fields": field_overrides} if field_overrides else None
    return load_mapping("customers", "cscart_to_zoho", overrides=overrides)


def payload_hash(mapped: MappedRecord) -> str:
    return hashlib.sha256(json.dumps(mapped.payload, sort_keys=True).encode()).hexdigest()


def first_name_override(**changes: Any) -> list[dict[str, Any]]:
    return [{"source": "firstname", "target": "First_Name", "transform": ["strip"], **changes}]


# --------------------------------------------------------------------------------------------- catalogue
@pytest.mark.parametrize(
    ("catalog", "path", "max_length", "fmt"),
    [
        ("zoho_crm:Contacts", "First_Name", 40, "text"),
        ("zoho_crm:Contacts", "Last_Name", 80, "text"),
        ("zoho_crm:Contacts", "Email", 100, "email"),
        ("zoho_crm:Contacts", "Phone", 30, "phone"),
        ("zoho_crm:Leads", "Company", 100, "text"),
        ("cscart:users", "firstname", 128, "text"),
        ("cscart:users", "lastname", 128, "text"),
        ("cscart:users", "password", None, "raw"),
        ("cscart:orders", "firstname", 32, "text"),
        ("cscart:products", "product_code", 64, "code"),
        ("cscart:products", "full_description", None, "html"),
        ("zoho_books:contacts", "contact_persons[0].email", 100, "email"),
        ("zoho_books:contacts", "billing_address.address", 500, "text"),
        ("zoho_crm:Contacts", "Account_Name.id", None, "raw"),
    ],
)
def test_catalogues_carry_documented_limits(catalog: str, path: str, max_length: int | None, fmt: str) -> None:
    rules = load_catalogs()[catalog].rules_for(path)
    assert (rules.max_length, rules.format) == (max_length, fmt)


def test_catalogue_rules_must_name_documented_sub_fields(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "system: cscart\nresource: users\nreference: test\n"
        "fields:\n  address: {kind: object, fields: [city], rules: {town: {max_length: 5}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingConfigError, match=r"bad.yaml: fields.address.rules: not sub-fields: \['town'\]"):
        load_catalogs(tmp_path)


# ------------------------------------------------------------------------------------------ pure rules
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<script>alert(1)</script>Jane", "Jane"),
        ("<b>Jane</b> &amp; <i>Co</i>", "Jane & Co"),
        ("Jane<br>Roe", "Jane Roe"),
        ("<img src=x onerror=alert(1)>", ""),
        ("<script>never closed", ""),
        # Decoding entities reveals a tag: it is removed in the next pass.
        ("<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>Jane", "Jane"),
        # Entities without any tag are text (a target showing it shows the characters, runs nothing).
        ("&lt;b&gt; is bold", "&lt;b&gt; is bold"),
        ("Jane <!-- hidden --> Roe", "Jane Roe"),
        ("a < b and c > d", "a < b and c > d"),
        ("x<5", "x<5"),
        ("Smith & Sons", "Smith & Sons"),
    ],
)
def test_remove_markup_keeps_only_visible_text(raw: str, expected: str) -> None:
    assert remove_markup(raw, multiline=False) == expected


def test_remove_markup_keeps_line_breaks_in_multiline_text() -> None:
    assert remove_markup("<p>First</p><p>Second <b>line</b></p>", multiline=True) == "First\nSecond line"


def test_sanitise_html_removes_code_and_keeps_the_rest_byte_for_byte() -> None:
    clean = '<p class="lead">Strong <b>umbrella</b> &amp; stand</p><ul><li>one</li></ul>'
    assert sanitise_html(clean) == clean
    dirty = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p><a href="javascript:alert(1)">x</a>'
        '<img src="a.png" onerror=alert(1)><iframe src="https://evil"></iframe><style>p{}</style>'
    )
    assert sanitise_html(dirty) == '<p>Hi</p><a>x</a><img src="a.png">'


def test_truncation_is_deterministic_and_never_leaves_a_dangling_joiner() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 5 code points
    text = "Ann " + family
    assert truncate_text(text, 6, format="text") == "Ann \U0001f468"
    assert truncate_text("Jane      Roe", 7, format="text") == "Jane"
    assert truncate_text("<p>Hello <b>wor</b></p>", 11, format="html") == "<p>Hello"
    assert {truncate_text(LONG_FIRST, 40, format="text") for _ in range(3)} == {LONG_FIRST[:40]}


@pytest.mark.parametrize(
    ("fmt", "value", "rule"),
    [
        ("email", "not-an-address", "email"),
        ("email", "jane@example", "email"),
        ("phone", "call me maybe", "phone"),
        ("phone", "+-()", "phone"),
    ],
)
def test_shapes_are_checked(fmt: Any, value: str, rule: str) -> None:
    _, findings = check_value(value, ContentRules(max_length=None, format=fmt, on_invalid="quarantine"))
    assert [(f.rule, f.repaired) for f in findings] == [(rule, False)]
    assert value not in findings[0].message  # personal data never goes into messages


def test_markup_in_codes_and_addresses_is_never_repaired() -> None:
    for fmt in ("email", "code", "phone"):
        value, finding = clean_markup("<b>X-1</b>", ContentRules(max_length=None, format=fmt, on_invalid="truncate"))
        assert value == "<b>X-1</b>" and finding is not None and not finding.repaired


@pytest.mark.parametrize(
    ("label", "flag"),
    [
        ("First_Name", "truncated_first_name"),
        ("contact_persons[0].first_name", "truncated_contact_persons_first_name"),
        ("line_items[12].a_really_long_sub_field_name_that_goes_on_and_on", None),
    ],
)
def test_flag_names_fit_the_id_map(label: str, flag: str | None) -> None:
    name = flag_name("truncated", label)
    assert LINK_FLAG.match(name), name
    if flag is not None:
        assert name == flag


# ------------------------------------------------------------------------------- engine: the defect
def test_47_character_first_name_is_truncated_to_crm_limit_and_flagged() -> None:
    mapped = crm_contacts().apply({**USER, "firstname": LONG_FIRST}, tenant=TENANT)
    assert mapped.ok
    assert mapped.payload["First_Name"] == LONG_FIRST[:40].rstrip()
    assert "truncated_first_name" in mapped.flags
    assert [(w.field, w.rule) for w in mapped.warnings] == [("First_Name", "max_length")]
    assert "47 characters, the target allows 40" in mapped.warnings[0].message


def test_same_input_gives_the_same_payload_and_hash_every_run() -> None:
    record = {**USER, "firstname": "J" * 10_000, "lastname": "<script>x</script>Roe" + "e" * 200}
    runs = [crm_contacts().apply(record, tenant=TENANT) for _ in range(3)]
    assert len({payload_hash(run) for run in runs}) == 1
    assert runs[0].payload["First_Name"] == "J" * 40
    assert runs[0].payload["Last_Name"] == ("Roe" + "e" * 200)[:80]
    assert {"truncated_first_name", "truncated_last_name", "markup_removed_last_name"} <= runs[0].flags


def test_script_in_a_name_is_removed_both_ways() -> None:
    to_zoho = crm_contacts().apply({**USER, "firstname": "<script>alert(1)</script>Jane"}, tenant=TENANT)
    assert to_zoho.payload["First_Name"] == "Jane" and "markup_removed_first_name" in to_zoho.flags
    to_cscart = load_mapping("customers", "zoho_to_cscart").apply(
        {"id": "1", "Email": "a@b.co", "First_Name": "<b onmouseover=x()>Al</b>", "Last_Name": "<i>Bo</i>"},
        tenant=TENANT,
    )
    assert to_cscart.ok
    assert (to_cscart.payload["firstname"], to_cscart.payload["lastname"]) == ("Al", "Bo")
    assert (to_cscart.payload["b_firstname"], to_cscart.payload["s_lastname"]) == ("Al", "Bo")


def test_html_target_keeps_markup_but_not_scripts() -> None:
    mapping = load_mapping("products", "zoho_to_cscart", tenant_defaults={"category_id": 8})
    item = {"item_id": "1", "name": "Umbrella", "rate": 9.5, "description": "<p>Big</p><script>x()</script>"}
    mapped = mapping.apply(item, tenant=TENANT)
    assert mapped.payload["full_description"] == "<p>Big</p>"
    assert "markup_removed_full_description" in mapped.flags


# --------------------------------------------------------------------------------------- policies
def test_quarantine_policy_fails_the_record_naming_field_and_rule() -> None:
    mapping = crm_contacts(first_name_override(on_invalid="quarantine"))
    mapped = mapping.apply({**USER, "firstname": LONG_FIRST}, tenant=TENANT)
    assert not mapped.ok
    assert [(e.field, e.rule, e.kind) for e in mapped.errors] == [("First_Name", "max_length", CONTENT)]
    assert mapped.error_kind == "content"
    assert mapped.failure_message() == (
        "tenant 'acme_store' customers record '7': error: field 'First_Name' (source 'firstname'): "
        "max_length: 47 characters, the target allows 40"
    )
    markup = mapping.apply({**USER, "firstname": "<b>Jane</b>"}, tenant=TENANT)
    assert [(e.field, e.rule) for e in markup.errors] == [("First_Name", "markup")]


def test_drop_policy_leaves_the_field_out_with_a_warning() -> None:
    mapped = crm_contacts(first_name_override(on_invalid="drop")).apply(
        {**USER, "firstname": LONG_FIRST}, tenant=TENANT
    )
    assert mapped.ok and "First_Name" not in mapped.payload
    assert "dropped_first_name" in mapped.flags
    assert [(w.field, w.rule, w.severity) for w in mapped.warnings] == [("First_Name", "max_length", "warning")]


def test_phone_default_is_drop_and_email_default_is_quarantine() -> None:
    assert (DEFAULT_POLICY["phone"], DEFAULT_POLICY["email"], DEFAULT_POLICY["text"]) == (
        "drop",
        "quarantine",
        "truncate",
    )
    mapped = crm_contacts().apply({**USER, "phone": "1" * 31}, tenant=TENANT)
    assert mapped.ok and "Phone" not in mapped.payload and "dropped_phone" in mapped.flags
    long_email = "a" * 95 + "@example.com"
    failed = crm_contacts().apply({**USER, "email": long_email}, tenant=TENANT)
    assert [(e.field, e.rule) for e in failed.errors] == [("Email", "max_length")]


def test_a_natural_key_is_never_truncated_by_default() -> None:
    mapping = load_mapping("customers", "zoho_to_cscart")
    email_field = next(f for f in mapping.fields if f.target == "email")
    assert email_field.rules is not None and email_field.rules.on_invalid == "quarantine"


def test_required_field_without_value_fails_naming_tenant_record_and_field() -> None:
    mapped = crm_contacts().apply({"user_id": "8", "email": "", "lastname": "<script>x</script>"}, tenant=TENANT)
    assert not mapped.ok
    assert [(e.field, e.rule, e.kind) for e in mapped.errors] == [("Last_Name", "required", "content")]
    message = mapped.failure_message()
    assert "tenant 'acme_store'" in message and "record '8'" in message and "'Last_Name'" in message


@pytest.mark.parametrize(
    ("contact", "lastname", "flags"),
    [
        ({"Last_Name": "Roe"}, "Roe", set()),
        ({"Last_Name": "  ", "Account_Name": {"name": "Acme Ltd", "id": "9"}}, "Acme Ltd", {"fallback_lastname"}),
        ({"Last_Name": "<script>x</script>"}, "Jo.Smith", {"fallback_lastname", "markup_removed_lastname"}),
        ({"Last_Name": None}, "Jo.Smith", {"fallback_lastname"}),
    ],
)
def test_empty_zoho_last_name_falls_back_to_account_then_email(
    contact: dict[str, Any], lastname: str, flags: set[str]
) -> None:
    record = {"id": "1", "Email": "Jo.Smith@example.com", "First_Name": "Jo", **contact}
    mapped = load_mapping("customers", "zoho_to_cscart").apply(record, tenant=TENANT)
    assert mapped.ok
    assert mapped.payload["lastname"] == lastname
    assert flags <= mapped.flags
    if not flags:
        assert not any(flag.startswith("fallback") for flag in mapped.flags)


def test_contact_without_any_name_source_fails_instead_of_creating_a_nameless_user() -> None:
    mapped = load_mapping("customers", "zoho_to_cscart").apply({"id": "5", "Last_Name": ""}, tenant=TENANT)
    assert not mapped.ok
    assert [(e.field, e.rule) for e in mapped.errors] == [("lastname", "required")]
    assert mapped.failure_message().startswith("tenant 'acme_store' customers record '5': ")


def test_fallback_sources_are_requested_from_the_source_system() -> None:
    assert {"Last_Name", "Account_Name", "Email"} <= set(load_mapping("customers", "zoho_to_cscart").source_fields())


def test_rules_are_part_of_the_fingerprint() -> None:
    assert crm_contacts().fingerprint != crm_contacts(first_name_override(on_invalid="drop")).fingerprint


def test_clean_values_are_unchanged_and_unflagged() -> None:
    mapped = crm_contacts().apply(
        {**USER, "firstname": "Zoë Ångström-Øster", "phone": "+44 20 7946 0958"}, tenant=TENANT
    )
    assert mapped.ok and mapped.issues == [] and mapped.flags == frozenset()
    assert mapped.payload["First_Name"] == "Zoë Ångström-Øster"


# ------------------------------------------------------------------------------ load-time validation
Mutate = Callable[[dict[str, Any]], None]


def mini_error(mappings_dir: Callable[..., Path], mutate: Mutate) -> str:
    with pytest.raises(MappingConfigError) as excinfo:
        load_mapping("customers", "zoho_to_cscart", mappings_dir=mappings_dir(mutate))
    return str(excinfo.value)


def set_field(index: int, **changes: Any) -> Mutate:
    def mutate(data: dict[str, Any]) -> None:
        data["fields"][index] = {**data["fields"][index], **changes}

    return mutate


@pytest.mark.parametrize(
    ("mutate", "parts"),
    [
        (set_field(1, on_invalid="shorten"), ["fields[1].on_invalid", "'shorten'", "truncate", "quarantine"]),
        (
            set_field(0, on_invalid="truncate"),
            ["fields[0] (target 'email').on_invalid", "cannot be repaired by truncating", "allowed: drop, quarantine"],
        ),
        (set_field(1, fallback=[{"source": "Email", "transfrom": ["strip"]}]), ["fallback", "unknown key 'transfrom'"]),
        (set_field(1, fallback=[{}]), ["fallback", "needs a 'source' or a 'transform'"]),
        (set_field(1, fallback=[{"source": "Nickname"}]), ["fallback[0].source", "'Nickname' is not a documented"]),
        (set_field(5, on_invalid="drop"), ["fields[5] (source 'Owner')", "(remove: on_invalid)"]),
        (set_field(0, required=False), ["fields[0] (target 'email').required", "requires 'email' on create"]),
    ],
)
def test_new_keys_are_validated_at_load_time(
    mappings_dir: Callable[..., Path], mutate: Mutate, parts: list[str]
) -> None:
    message = mini_error(mappings_dir, mutate)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


def test_mapping_exports_one_direction_vocabulary() -> None:
    assert Direction is PackageDirection
    assert DIRECTIONS == PACKAGE_DIRECTIONS
    assert MappedResult is MappedRecord
    by_enum = load_mapping("customers", PackageDirection.CSCART_TO_ZOHO)
    assert by_enum.direction == "cscart_to_zoho" and by_enum.file.endswith("cscart_to_zoho.crm_contacts.yaml")
