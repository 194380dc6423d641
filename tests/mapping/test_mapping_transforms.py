"""Unit tests for every transform in the closed registry (one function at a time, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from zoho_cscart_sync.mapping.errors import TransformError, WaitingError
from zoho_cscart_sync.mapping.schema import ValueMapSpec
from zoho_cscart_sync.mapping.transforms import TRANSFORMS, TransformContext
from zoho_cscart_sync.mapping.transforms.person import NO_EMAIL_FLAG
from zoho_cscart_sync.mapping.value_maps import compile_value_map

STATUS_MAP = compile_value_map("status", ValueMapSpec(entries={"O": "draft", "P": "confirmed"}, case_insensitive=False))
CASELESS_MAP = compile_value_map("caseless", ValueMapSpec(entries={"Active": "A"}, case_insensitive=True))
DEFAULTED_MAP = compile_value_map("defaulted", ValueMapSpec(entries={"x": 1}, default=0))


def make_ctx(
    record: dict[str, Any] | None = None,
    *,
    tenant: str | None = "acme_store",
    source_id: str | None = "42",
    resolve_id: Any = None,
) -> TransformContext:
    return TransformContext(
        record=record or {},
        tenant=tenant,
        source_id=source_id,
        target_field="target",
        value_maps={"status": STATUS_MAP, "caseless": CASELESS_MAP, "defaulted": DEFAULTED_MAP},
        resolve_id=resolve_id,
    )


def run(name: str, value: Any, ctx: TransformContext | None = None, /, **args: Any) -> Any:
    definition = TRANSFORMS[name]
    return definition.function(value, definition.args_model.model_validate(args), ctx or make_ctx())


def test_registry_is_closed_and_complete() -> None:
    # The brief's list plus the few this project's mappings need; a new name must come with tests here.
    assert set(TRANSFORMS) == {
        "strip", "lower", "upper", "to_str", "truncate", "html_to_text", "concat", "affix",
        "email_normalise", "placeholder_email", "phone_normalise", "email_local_part", "split_name", "join_name",
        "iso_datetime_to_unix", "unix_to_iso", "bool_to_yn", "yn_to_bool", "decimal_to_str",
        "to_float", "to_int", "floor_int", "split_csv", "join_csv", "country_code", "value_map", "id_link",
        "default_if_empty", "first_non_empty", "parent_keys_containing",
    }  # fmt: skip


# --- text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        pytest.param("strip", "  Zoë 🚀 ", "Zoë 🚀", id="strip-unicode"),
        pytest.param("strip", "", "", id="strip-empty"),
        pytest.param("strip", None, None, id="strip-none"),
        pytest.param("strip", 12, "12", id="strip-number-as-text"),
        pytest.param("lower", "ÅNGSTRÖM", "ångström", id="lower-unicode"),
        pytest.param("upper", "straße", "STRASSE", id="upper-sharp-s"),
        pytest.param("upper", None, None, id="upper-none"),
        pytest.param("to_str", 4815000000044100, "4815000000044100", id="to_str-int"),
        pytest.param("to_str", None, None, id="to_str-none"),
    ],
)
def test_simple_text_transforms(name: str, value: Any, expected: Any) -> None:
    assert run(name, value) == expected


def test_text_transforms_refuse_structures() -> None:
    with pytest.raises(TransformError, match="expects text"):
        run("strip", {"name": "x"})
    with pytest.raises(TransformError, match="expects text"):
        run("lower", True)


@pytest.mark.parametrize(
    ("value", "max_length", "ellipsis", "expected"),
    [
        ("short", 10, "", "short"),
        ("exactly10!", 10, "", "exactly10!"),
        ("Crème Brûlée 🍮 Set", 14, "", "Crème Brûlée 🍮"),
        ("abcdefghij", 5, "…", "abcd…"),
        ("", 3, "", ""),
        (None, 3, "", None),
    ],
)
def test_truncate(value: Any, max_length: int, ellipsis: str, expected: Any) -> None:
    assert run("truncate", value, max_length=max_length, ellipsis=ellipsis) == expected


def test_truncate_rejects_non_positive_length() -> None:
    with pytest.raises(ValidationError):
        TRANSFORMS["truncate"].args_model.model_validate({"max_length": 0})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '<p>Prefers <b>express</b> shipping &amp; gift wrap.<br/><a href="https://x.example">x</a></p>',
            "Prefers express shipping & gift wrap.\nx",
        ),
        ("<ul><li>One</li><li>Two&nbsp;🍮</li></ul>", "One\nTwo 🍮"),
        ("<script>alert(1)</script><style>p{}</style>Visible", "Visible"),
        ("plain text, no tags", "plain text, no tags"),
        ("Caf&eacute; &lt;3", "Café <3"),
        ("", ""),
        (None, None),
    ],
)
def test_html_to_text(value: Any, expected: Any) -> None:
    assert run("html_to_text", value) == expected


def test_concat_joins_source_then_fields_skipping_empties() -> None:
    ctx = make_ctx({"b_address_2": "Suite 5", "empty": "  "})
    assert run("concat", "1 Elm St", ctx, fields=["empty", "b_address_2"], separator=", ") == "1 Elm St, Suite 5"
    assert run("concat", None, ctx, fields=["empty"]) is None
    assert run("concat", "", make_ctx({"a": "Ωmega"}), fields=["a"]) == "Ωmega"


def test_affix() -> None:
    assert run("affix", "105", prefix="CSC-") == "CSC-105"
    assert run("affix", 7, prefix="#", suffix="!") == "#7!"
    assert run("affix", "", prefix="CSC-") is None
    assert run("affix", None, prefix="CSC-") is None


# --- person -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("zoë@exämple.de", "zoë@exämple.de"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_email_normalise(value: Any, expected: Any) -> None:
    assert run("email_normalise", value) == expected


@pytest.mark.parametrize("value", ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com", "@example.com"])
def test_email_normalise_rejects_malformed_without_echoing_the_value(value: str) -> None:
    with pytest.raises(TransformError) as excinfo:
        run("email_normalise", value)
    assert value not in str(excinfo.value)


def test_email_normalise_can_drop_placeholders() -> None:
    placeholder = "no-email+0123456789abcdef@acme-store.invalid"
    assert run("email_normalise", placeholder, drop_placeholders=True) is None
    assert run("email_normalise", placeholder) == placeholder
    assert run("email_normalise", "real@example.com", drop_placeholders=True) == "real@example.com"


def test_placeholder_email_is_deterministic_per_tenant_and_record() -> None:
    first_ctx, again_ctx = make_ctx(source_id="5725767000200000001"), make_ctx(source_id="5725767000200000001")
    first = run("placeholder_email", None, first_ctx)
    assert first == run("placeholder_email", "", again_ctx)
    assert first.startswith("no-email+") and first.endswith("@acme-store.invalid")
    assert NO_EMAIL_FLAG in first_ctx.flags
    other_record = run("placeholder_email", None, make_ctx(source_id="5725767000200000002"))
    other_tenant = run("placeholder_email", None, make_ctx(tenant="northwind_vendor", source_id="5725767000200000001"))
    assert len({first, other_record, other_tenant}) == 3
    assert other_tenant.endswith("@northwind-vendor.invalid")


def test_placeholder_email_keeps_real_addresses_and_sets_no_flag() -> None:
    ctx = make_ctx()
    assert run("placeholder_email", "jane@example.com", ctx) == "jane@example.com"
    assert ctx.flags == set()


def test_placeholder_email_needs_tenant_and_id() -> None:
    with pytest.raises(TransformError, match="tenant and the source record id"):
        run("placeholder_email", None, make_ctx(tenant=None))
    with pytest.raises(TransformError, match="tenant and the source record id"):
        run("placeholder_email", None, make_ctx(source_id=None))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+1 (555) 010-0100", "+15550100100"),
        ("+1 555 0100", "+15550100"),
        ("0049 30 1234-5678", "+493012345678"),
        ("030 / 123.456", "030123456"),
        ("  ", None),
        ("", None),
        (None, None),
        ("()", None),
        (5550100, "5550100"),
    ],
)
def test_phone_normalise(value: Any, expected: Any) -> None:
    assert run("phone_normalise", value) == expected


def test_phone_normalise_rejects_letters() -> None:
    with pytest.raises(TransformError, match="characters other than digits"):
        run("phone_normalise", "+1 555 0100 ext 12")


@pytest.mark.parametrize(
    ("value", "part", "expected"),
    [
        ("Ana María López", "first", "Ana María"),
        ("Ana María López", "last", "López"),
        ("Zoë Ångström 🚀", "last", "🚀"),
        ("Madonna", "first", None),
        ("Madonna", "last", "Madonna"),
        ("  李 小龙 ", "first", "李"),
        ("", "last", None),
        (None, "first", None),
    ],
)
def test_split_name(value: Any, part: str, expected: Any) -> None:
    assert run("split_name", value, part=part) == expected


def test_split_name_part_is_a_closed_choice() -> None:
    with pytest.raises(ValidationError, match="'first' or 'last'"):
        TRANSFORMS["split_name"].args_model.model_validate({"part": "middle"})


def test_join_name() -> None:
    ctx = make_ctx({"firstname": " Zoë ", "lastname": "Ångström 🚀", "blank": ""})
    assert run("join_name", "ignored", ctx, fields=["firstname", "lastname"]) == "Zoë Ångström 🚀"
    assert run("join_name", None, ctx, fields=["blank", "lastname"]) == "Ångström 🚀"
    assert run("join_name", None, ctx, fields=["blank", "missing"]) is None
    assert run("join_name", None, make_ctx({"a": "李", "b": "小龙"}), fields=["a", "b"], separator="") == "李小龙"


# --- time -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2021-08-04T14:08:39+03:00", 1628075319, id="crm-colon-offset"),
        pytest.param("2024-01-23T20:00:17+0200", 1706032817, id="inventory-compact-offset"),
        pytest.param("2013-08-05T12:06:10+0530", 1375684570, id="books-plus0530"),
        pytest.param("2026-10-21T06:48:11-05:00", 1792583291, id="negative-offset"),
        pytest.param("2024-01-01T00:00:00Z", 1704067200, id="zulu"),
        pytest.param("2024-01-01", 1704067200, id="date-only-is-utc-midnight"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_iso_datetime_to_unix(value: Any, expected: Any) -> None:
    assert run("iso_datetime_to_unix", value) == expected


def test_iso_datetime_to_unix_refuses_naive_unless_zone_given() -> None:
    with pytest.raises(TransformError, match="no UTC offset"):
        run("iso_datetime_to_unix", "2024-01-01T05:30:00")
    assert run("iso_datetime_to_unix", "2024-01-01T05:30:00", assume_timezone="Asia/Kolkata") == 1704067200


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", 1704067200])
def test_iso_datetime_to_unix_rejects_garbage(value: Any) -> None:
    with pytest.raises(TransformError):
        run("iso_datetime_to_unix", value)


def test_iso_datetime_to_unix_rejects_unknown_zone_at_load_time() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        TRANSFORMS["iso_datetime_to_unix"].args_model.model_validate({"assume_timezone": "Mars/Olympus"})


@pytest.mark.parametrize(
    ("value", "args", "expected"),
    [
        pytest.param("1700000000", {}, "2023-11-14T22:13:20+00:00", id="utc-string-input"),
        pytest.param(1700000000, {"timezone": "Asia/Kolkata"}, "2023-11-15T03:43:20+05:30", id="plus0530"),
        pytest.param(
            1700000000,
            {"timezone": "Asia/Kolkata", "offset_style": "compact"},
            "2023-11-15T03:43:20+0530",
            id="compact-offset",
        ),
        pytest.param("1700000000", {"format": "date"}, "2023-11-14", id="date"),
        pytest.param("1700000000", {"format": "date", "timezone": "Asia/Kolkata"}, "2023-11-15", id="date-in-zone"),
        pytest.param("0", {}, None, id="cscart-zero-means-unset"),
        pytest.param("", {}, None, id="empty"),
        pytest.param(None, {}, None, id="none"),
    ],
)
def test_unix_to_iso(value: Any, args: dict[str, Any], expected: Any) -> None:
    assert run("unix_to_iso", value, **args) == expected


@pytest.mark.parametrize("value", ["soon", "-5", True])
def test_unix_to_iso_rejects_garbage(value: Any) -> None:
    with pytest.raises(TransformError):
        run("unix_to_iso", value)


def test_round_trip_iso_unix_iso() -> None:
    seconds = run("iso_datetime_to_unix", "2023-11-15T03:43:20+05:30")
    assert run("unix_to_iso", seconds, timezone="Asia/Kolkata") == "2023-11-15T03:43:20+05:30"


# --- coercions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "Y"),
        (False, "N"),
        ("true", "Y"),
        ("FALSE", "N"),
        (1, "Y"),
        (0, "N"),
        ("Y", "Y"),
        ("", None),
        (None, None),
    ],
)
def test_bool_to_yn(value: Any, expected: Any) -> None:
    assert run("bool_to_yn", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("Y", True), ("n", False), (" N ", False), (True, True), ("", None), (None, None)]
)
def test_yn_to_bool(value: Any, expected: Any) -> None:
    assert run("yn_to_bool", value) == expected


@pytest.mark.parametrize(("name", "value"), [("yn_to_bool", "maybe"), ("bool_to_yn", 2), ("yn_to_bool", "Ja")])
def test_yes_no_rejects_unknown_words(name: str, value: Any) -> None:
    with pytest.raises(TransformError, match="yes/no"):
        run(name, value)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (12.5, 2, "12.50"),
        ("139.76", 2, "139.76"),
        (0.1, 2, "0.10"),
        (2.675, 2, "2.68"),
        ("1.0005", 3, "1.001"),
        (202.69, 2, "202.69"),
        (7, 0, "7"),
        ("", 2, None),
        (None, 2, None),
    ],
)
def test_decimal_to_str(value: Any, places: int, expected: Any) -> None:
    assert run("decimal_to_str", value, places=places) == expected


@pytest.mark.parametrize("value", ["abc", float("nan"), float("inf"), "Infinity", True])
def test_numbers_reject_garbage(value: Any) -> None:
    for name in ("decimal_to_str", "to_float", "to_int"):
        with pytest.raises(TransformError):
            run(name, value)


@pytest.mark.parametrize(
    ("value", "expected"), [("30.00", 30.0), (" 2 ", 2.0), (116.0, 116.0), ("-4", -4.0), ("", None), (None, None)]
)
def test_to_float(value: Any, expected: Any) -> None:
    assert run("to_float", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("10", 10), (116.0, 116), ("1.000000", 1), ("-4", -4), ("", None), (None, None)]
)
def test_to_int(value: Any, expected: Any) -> None:
    assert run("to_int", value) == expected


def test_to_int_refuses_to_truncate() -> None:
    with pytest.raises(TransformError, match="truncate"):
        run("to_int", "2.5")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.75", 2), (2.999, 2), ("10", 10), (-1.5, -2), ("-4", -4), ("0.4", 0), ("", None), (None, None)],
)
def test_floor_int_rounds_stock_down(value: Any, expected: Any) -> None:
    assert run("floor_int", value) == expected


def test_floor_int_refuses_text() -> None:
    with pytest.raises(TransformError):
        run("floor_int", "many")


def test_csv_lists() -> None:
    assert run("split_csv", "6, 7,,8") == ["6", "7", "8"]
    assert run("split_csv", [6, 7]) == ["6", "7"]
    assert run("split_csv", "") is None
    assert run("join_csv", [6, "7"]) == "6,7"
    assert run("join_csv", "6") == "6"
    assert run("join_csv", []) is None
    assert run("join_csv", None) is None


# --- geography --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "output", "expected"),
    [
        ("US", "alpha2", "US"),
        ("us", "alpha2", "US"),
        ("U.S.A", "alpha2", "US"),
        ("United States", "alpha2", "US"),
        ("Deutschland", "alpha2", "DE"),
        ("Österreich", "alpha2", "AT"),
        ("côte d\u2019ivoire", "alpha2", "CI"),
        ("United Kingdom", "alpha2", "GB"),
        ("AU", "name", "Australia"),
        ("germany", "name", "Germany"),
        ("", "alpha2", None),
        (None, "name", None),
    ],
)
def test_country_code(value: Any, output: str, expected: Any) -> None:
    assert run("country_code", value, output=output) == expected


def test_country_code_unknown_is_an_error() -> None:
    with pytest.raises(TransformError, match="unknown country"):
        run("country_code", "Atlantis")


# --- lookups ----------------------------------------------------------------------------------------


def test_value_map_translates_and_reports_missing_values() -> None:
    assert run("value_map", "P", table="status") == "confirmed"
    assert run("value_map", None, table="status") is None
    with pytest.raises(TransformError, match=r"'T' is not in value map 'status' \(known: O, P\)"):
        run("value_map", "T", table="status")
    assert run("value_map", "T", table="status", on_missing="keep") == "T"


def test_value_map_case_insensitive_and_default() -> None:
    assert run("value_map", "ACTIVE", table="caseless") == "A"
    with pytest.raises(TransformError):
        run("value_map", "p", table="status")  # case-sensitive table
    assert run("value_map", "unknown", table="defaulted") == 0
    assert run("value_map", "x", table="defaulted") == 1


def test_value_map_compares_numbers_and_bools_as_text() -> None:
    numeric = compile_value_map("ids", ValueMapSpec(entries={"6": "tax-6", "true": "yes"}))
    ctx = make_ctx()
    ctx.value_maps = {"ids": numeric}
    assert run("value_map", 6, ctx, table="ids") == "tax-6"
    assert run("value_map", True, ctx, table="ids") == "yes"


def test_id_link_uses_the_resolver() -> None:
    links = {("customers", "4"): "3850050000200000000"}
    ctx = make_ctx(resolve_id=lambda entity, source_id: links.get((entity, source_id)))
    assert run("id_link", "4", ctx, entity="customers") == "3850050000200000000"
    assert run("id_link", 4, ctx, entity="customers") == "3850050000200000000"
    with pytest.raises(TransformError, match="no counterpart yet"):
        run("id_link", "5", ctx, entity="customers")
    assert run("id_link", "5", ctx, entity="customers", on_missing="null") is None
    assert run("id_link", "0", ctx, entity="customers", none_values=["0"]) is None
    assert run("id_link", "", ctx, entity="customers") is None


def test_id_link_without_resolver_is_an_error_and_entity_is_closed() -> None:
    with pytest.raises(TransformError, match="needs an id resolver"):
        run("id_link", "4", entity="products")
    with pytest.raises(ValidationError, match="'customers', 'products', 'orders', 'order_contacts' or 'crm_products'"):
        TRANSFORMS["id_link"].args_model.model_validate({"entity": "invoices"})


def test_default_if_empty() -> None:
    ctx = make_ctx({"company": "Acme 🚀", "blank": " "})
    assert run("default_if_empty", "kept", ctx, value="x") == "kept"
    assert run("default_if_empty", "", ctx, value="Individual") == "Individual"
    assert run("default_if_empty", None, ctx, field="company") == "Acme 🚀"
    assert run("default_if_empty", None, ctx, field="blank") is None
    assert run("default_if_empty", 0, ctx, value=5) == 0  # 0 is a value, not "empty"


def test_default_if_empty_needs_exactly_one_fallback() -> None:
    model = TRANSFORMS["default_if_empty"].args_model
    with pytest.raises(ValidationError, match="exactly one"):
        model.model_validate({})
    with pytest.raises(ValidationError, match="exactly one"):
        model.model_validate({"value": "a", "field": "b"})


def test_first_non_empty() -> None:
    ctx = make_ctx({"Mobile": None, "Home_Phone": "", "Other_Phone": "+44 20 7946 0000", "nested": {"x": "deep"}})
    assert run("first_non_empty", "+1 555", ctx, fields=["Other_Phone"]) == "+1 555"
    assert run("first_non_empty", None, ctx, fields=["Mobile", "Home_Phone", "Other_Phone"]) == "+44 20 7946 0000"
    assert run("first_non_empty", "", ctx, fields=["nested.x"]) == "deep"
    assert run("first_non_empty", None, ctx, fields=["Mobile"]) is None


def test_every_transform_passes_none_through_or_handles_it() -> None:
    # None is the most common value in both APIs; no transform may crash on it.
    ctx = make_ctx({"a": None})
    special = {
        "truncate": {"max_length": 3},
        "concat": {"fields": ["a"]},
        "split_name": {"part": "first"},
        "join_name": {"fields": ["a"]},
        "value_map": {"table": "status"},
        "id_link": {"entity": "customers"},
        "default_if_empty": {"value": "d"},
        "first_non_empty": {"fields": ["a"]},
        "parent_keys_containing": {"object": "taxes", "member": "applies"},
    }
    for name in TRANSFORMS:
        result = run(name, None, ctx, **special.get(name, {}))
        if name == "placeholder_email":
            assert result.endswith(".invalid")
        elif name == "default_if_empty":
            assert result == "d"
        else:
            assert result is None, name


def test_value_map_without_its_default_waits_or_fails_on_a_missing_entry() -> None:
    # The table's default stands in for a missing entry unless use_default is off; then on_missing decides.
    assert run("value_map", "y", table="defaulted") == 0
    assert run("value_map", "x", table="defaulted", use_default=False) == 1
    with pytest.raises(TransformError, match="'y' is not in value map 'defaulted'") as failed:
        run("value_map", "y", table="defaulted", use_default=False)
    assert not isinstance(failed.value, WaitingError)
    with pytest.raises(WaitingError, match="'y' is not in value map 'defaulted' yet"):
        run("value_map", "y", table="defaulted", use_default=False, on_missing="wait")
    with pytest.raises(WaitingError):
        run("value_map", "T", table="status", on_missing="wait")


def test_parent_keys_containing_names_the_parent_entries_that_list_the_value() -> None:
    # A CS-Cart order's taxes: keyed by tax id, each naming the cart items it applies to (applies.items.P).
    order = {
        "taxes": {
            "6": {"applies": {"items": {"P": {"111": True, "222": True}, "S": {"0": {"1": True}}}}},
            "12": {"applies": {"items": {"P": ["222"]}}},
            "7": {"applies": {"items": {"S": {"0": True}}}},
        }
    }
    line = make_ctx({"item_id": "222"})
    line.parent = order
    args = {"object": "taxes", "member": "applies.items.P"}
    assert run("parent_keys_containing", "111", line, **args) == ["6"]
    assert run("parent_keys_containing", 222, line, **args) == ["6", "12"]  # numeric order of ids
    assert run("parent_keys_containing", "333", line, **args) == []
    assert run("parent_keys_containing", None, line, **args) is None
    # An order without taxes sends `taxes: []`; outside a collection the record itself is the parent.
    assert run("parent_keys_containing", "111", make_ctx({"taxes": []}), **args) == []
    assert run("parent_keys_containing", "111", make_ctx(order), **args) == ["6"]
    with pytest.raises(ValidationError):
        run("parent_keys_containing", "111", line, object="taxes")
