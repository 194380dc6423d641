"""The closed set of transforms a mapping file may name. Adding one means adding code and a unit test."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from zoho_cscart_sync.mapping.transforms import coerce, geo, lookup, person, temporal, text
from zoho_cscart_sync.mapping.transforms.base import NoArgs, TransformArgs, TransformContext

TransformFunction = Callable[[Any, Any, TransformContext], Any]


@dataclass(frozen=True)
class TransformDefinition:
    """A named transform: its typed arguments and the function applied to each value."""

    name: str
    args_model: type[TransformArgs]
    function: TransformFunction

    def source_fields(self, args: TransformArgs) -> list[str]:
        """Extra source fields the transform reads from the record (they count as mapped)."""
        fields = getattr(args, "fields", None)
        extra = [*fields] if isinstance(fields, list) else []
        field = getattr(args, "field", None)
        if isinstance(field, str):
            extra.append(field)
        return extra


def _define(name: str, args_model: type[TransformArgs], function: TransformFunction) -> TransformDefinition:
    return TransformDefinition(name=name, args_model=args_model, function=function)


TRANSFORMS: Mapping[str, TransformDefinition] = MappingProxyType(
    {
        definition.name: definition
        for definition in (
            _define("strip", NoArgs, text.strip),
            _define("lower", NoArgs, text.lower),
            _define("upper", NoArgs, text.upper),
            _define("to_str", NoArgs, text.to_str),
            _define("truncate", text.TruncateArgs, text.truncate),
            _define("html_to_text", NoArgs, text.html_to_text),
            _define("concat", text.FieldsArgs, text.concat),
            _define("affix", text.AffixArgs, text.affix),
            _define("email_normalise", person.EmailNormaliseArgs, person.email_normalise),
            _define("placeholder_email", person.PlaceholderEmailArgs, person.placeholder_email),
            _define("phone_normalise", NoArgs, person.phone_normalise),
            _define("email_local_part", NoArgs, person.email_local_part),
            _define("split_name", person.SplitNameArgs, person.split_name),
            _define("join_name", person.JoinNameArgs, person.join_name),
            _define("iso_datetime_to_unix", temporal.IsoToUnixArgs, temporal.iso_datetime_to_unix),
            _define("unix_to_iso", temporal.UnixToIsoArgs, temporal.unix_to_iso),
            _define("bool_to_yn", NoArgs, coerce.bool_to_yn),
            _define("yn_to_bool", NoArgs, coerce.yn_to_bool),
            _define("decimal_to_str", coerce.DecimalToStrArgs, coerce.decimal_to_str),
            _define("to_float", NoArgs, coerce.to_float),
            _define("to_int", NoArgs, coerce.to_int),
            _define("floor_int", NoArgs, coerce.floor_int),
            _define("split_csv", NoArgs, coerce.split_csv),
            _define("join_csv", NoArgs, coerce.join_csv),
            _define("country_code", geo.CountryArgs, geo.country_code),
            _define("value_map", lookup.ValueMapArgs, lookup.value_map),
            _define("id_link", lookup.IdLinkArgs, lookup.id_link),
            _define("default_if_empty", lookup.DefaultIfEmptyArgs, lookup.default_if_empty),
            _define("first_non_empty", lookup.FirstNonEmptyArgs, lookup.first_non_empty),
            _define("parent_keys_containing", lookup.ParentKeysArgs, lookup.parent_keys_containing),
        )
    }
)


def transform_names() -> list[str]:
    """Sorted names, as listed in error messages."""
    return sorted(TRANSFORMS)
