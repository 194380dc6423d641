"""Transforms that look values up: value maps, the ID map, fallbacks to other fields or constants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from zoho_cscart_sync.mapping.errors import MissingLinkError, TransformError, WaitingError
from zoho_cscart_sync.mapping.paths import get_path
from zoho_cscart_sync.mapping.transforms.base import TransformArgs, TransformContext, is_empty

ENTITIES = ("customers", "products", "orders")


class ValueMapArgs(TransformArgs):
    table: str = Field(min_length=1)
    #: ``error``: an unmapped value is a field issue; ``keep``: pass it through unchanged; ``wait``: the record
    #: waits (quarantine kind ``waiting``, mapped again every run) until the tenant adds the entry.
    on_missing: Literal["error", "keep", "wait"] = "error"
    #: ``false``: the table's default does not stand in for a missing entry (``on_missing`` decides instead).
    use_default: bool = True


def value_map(value: Any, args: ValueMapArgs, ctx: TransformContext) -> Any:
    """Translate through a named table (order statuses, payment / shipping methods, taxes, categories...)."""
    if is_empty(value):
        return None
    table = ctx.value_maps[args.table]  # existence is checked when the mapping is compiled
    found, mapped = table.lookup(value) if args.use_default else table.lookup_entry(value)
    if found:
        return mapped
    if args.on_missing == "keep":
        return value
    known = ", ".join(table.known_keys()) or "none"
    if args.on_missing == "wait":
        raise WaitingError(f"value {value!r} is not in value map {args.table!r} yet (known: {known})")
    raise TransformError(f"value {value!r} is not in value map {args.table!r} (known: {known})")


class IdLinkArgs(TransformArgs):
    #: ``order_contacts``: the Zoho Inventory contact an order is billed to, by e-mail (orders pipeline);
    #: ``crm_products``: the CS-Cart product of a CRM Product on a CRM sales order's line (orders pipeline: the ID
    #: map the CRM orders target keeps, else the CS-Cart product with its Product_Code).
    entity: Literal["customers", "products", "orders", "order_contacts", "crm_products"]
    #: ``error`` keeps the record out until the linked record has been synchronised (then it is retried).
    on_missing: Literal["error", "null"] = "error"
    #: Source values meaning "no related record" (CS-Cart guest orders have ``user_id`` ``"0"``).
    none_values: list[str] = Field(default_factory=list)


def id_link(value: Any, args: IdLinkArgs, ctx: TransformContext) -> Any:
    """Source-system id of a related record -> the other system's id, through the state store's ID map."""
    if is_empty(value) or str(value).strip() in args.none_values:
        return None
    if ctx.resolve_id is None:
        raise TransformError(f"id_link needs an id resolver for {args.entity} (none was given to apply())")
    linked = ctx.resolve_id(args.entity, str(value).strip())
    if linked is None and args.on_missing == "error":
        raise MissingLinkError(args.entity, str(value).strip())
    return linked


class DefaultIfEmptyArgs(TransformArgs):
    value: Any = None
    field: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DefaultIfEmptyArgs:
        if (self.value is None) == (self.field is None):
            raise ValueError("give exactly one of 'value' (a constant) or 'field' (another source field)")
        return self


def default_if_empty(value: Any, args: DefaultIfEmptyArgs, ctx: TransformContext) -> Any:
    """Keep a non-empty value, else the constant ``value`` or the record's ``field``."""
    if not is_empty(value):
        return value
    if args.field is not None:
        fallback = get_path(ctx.record, args.field)
        return None if is_empty(fallback) else fallback
    return args.value


class FirstNonEmptyArgs(TransformArgs):
    fields: list[str] = Field(min_length=1)


def first_non_empty(value: Any, args: FirstNonEmptyArgs, ctx: TransformContext) -> Any:
    """The incoming value if present, else the first non-empty of ``fields`` (e.g. Phone, Mobile, Home_Phone)."""
    if not is_empty(value):
        return value
    for name in args.fields:
        candidate = get_path(ctx.record, name)
        if not is_empty(candidate):
            return candidate
    return None


class ParentKeysArgs(TransformArgs):
    #: Path, in the record a line item belongs to, of an object keyed by id (CS-Cart order ``taxes``).
    object: str = Field(min_length=1)
    #: Path, inside each entry of that object, of what names the lines the entry covers: an object whose keys
    #: are line ids or a list of them (a CS-Cart order tax's ``applies.items.P``).
    member: str = Field(min_length=1)


def parent_keys_containing(value: Any, args: ParentKeysArgs, ctx: TransformContext) -> Any:
    """The keys (sorted, as text) of the parent record's ``object`` whose entry's ``member`` names this value.

    In a collection the parent is the record the line belongs to (outside one, the record itself). CS-Cart
    orders: the tax ids that apply to a line (``item_id``) are ``taxes[tax_id].applies.items.P[item_id]``.
    """
    if is_empty(value):
        return None
    wanted = str(value).strip()
    container = get_path(ctx.parent if ctx.parent is not None else ctx.record, args.object)
    if not isinstance(container, Mapping):
        return []  # CS-Cart sends `taxes: []` for an order without taxes
    keys = []
    for key, entry in container.items():
        named = get_path(entry, args.member) if isinstance(entry, Mapping) else None
        members = named.keys() if isinstance(named, Mapping) else named if isinstance(named, list) else ()
        if any(str(member).strip() == wanted for member in members):
            keys.append(str(key))
    return sorted(keys, key=lambda key: (len(key), key))
