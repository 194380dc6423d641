"""Pydantic models of the YAML mapping files, the shared value-map file and tenant overrides.

Every model forbids unknown keys, so a typo (``requried: true``) is a load-time error, not a silently
ignored option. Cross-field checks that need the catalogues or the transform registry live in
:mod:`zoho_cscart_sync.mapping.compiler`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# One definition of the direction vocabulary for the whole package; re-exported here because mapping code
# and tests import ``Direction`` / ``DIRECTIONS`` from this module.
from zoho_cscart_sync.directions import DIRECTIONS as DIRECTIONS
from zoho_cscart_sync.directions import Direction as Direction
from zoho_cscart_sync.directions import DirectionName

#: Bump when the file format changes incompatibly; old state (hashes) can then be invalidated by version.
SUPPORTED_MAPPING_VERSIONS = (1,)

Entity = Literal["customers", "products", "orders"]
System = Literal["zoho_crm", "zoho_inventory", "zoho_books", "cscart"]
ScalarValue = str | int | float | bool | None

ENTITIES: tuple[str, ...] = ("customers", "products", "orders")
ZOHO_SYSTEMS: tuple[str, ...] = ("zoho_crm", "zoho_inventory", "zoho_books")

_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransformSpec(StrictModel):
    """``{name: value_map, args: {table: ...}}``; a bare string is shorthand for a transform without args."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


#: What to do with a value that breaks its target field's content rules (see ``mapping/content.py``).
OnInvalid = Literal["truncate", "drop", "quarantine"]


class FallbackSpec(StrictModel):
    """Where a field's value comes from when the mapped value is empty after cleaning (e.g. a last name
    that was only markup): ``source`` and ``transform`` as in a field entry, tried in order."""

    source: str | None = None
    transform: list[TransformSpec] = Field(default_factory=list)

    @field_validator("transform", mode="before")
    @classmethod
    def _single_transform(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, dict)) else value

    @model_validator(mode="after")
    def _has_value(self) -> FallbackSpec:
        if not self.source and not self.transform:
            raise ValueError("a fallback needs a 'source' or a 'transform' that builds the value")
        return self


class FieldMapping(StrictModel):
    """One source field -> one target field, or an explicit "do not map" (``skip: true`` + ``reason``)."""

    source: str | None = None
    target: str | None = None
    transform: list[TransformSpec] = Field(default_factory=list)
    #: Target value used when the (transformed) source value is empty. Not transformed.
    default: Any = None
    #: Name of a key in the tenant's ``defaults`` (e.g. ``category_id``); wins over ``default``.
    default_from: str | None = Field(default=None, pattern=_NAME_PATTERN)
    required: bool = False
    #: ``fail``: a transform error makes the record fail; ``warn``: the field is left out with a warning.
    on_error: Literal["fail", "warn"] = "fail"
    #: Send empty strings instead of leaving the field out (leaving out = "do not touch" on update).
    keep_empty: bool = False
    #: Target (Zoho only) or source is a custom field outside the documented standard catalogue.
    custom: bool = False
    #: A value breaking the target's content rules (length, shape, markup): ``truncate`` (repair and flag),
    #: ``drop`` (leave the field out, warn) or ``quarantine`` (the record fails). Unset: the default for the
    #: target field's format (``mapping/content.py``: text truncate, email/code quarantine, phone drop).
    on_invalid: OnInvalid | None = None
    #: Tried in order when the value is empty after cleaning, before ``default`` and ``required``.
    fallback: list[FallbackSpec] = Field(default_factory=list)
    skip: bool = False
    reason: str | None = None

    @field_validator("transform", mode="before")
    @classmethod
    def _single_transform(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, dict)) else value

    @model_validator(mode="after")
    def _skip_or_map(self) -> FieldMapping:
        if self.skip:
            if not self.source:
                raise ValueError("a 'skip: true' entry must name the 'source' field it does not map")
            if not (self.reason and self.reason.strip()):
                raise ValueError("a 'skip: true' entry needs a 'reason' saying why the field is not mapped")
            used = [
                name for name in ("target", "default", "default_from", "on_invalid") if getattr(self, name) is not None
            ]
            if self.fallback:
                used.append("fallback")
            if self.transform or self.required or used:
                raise ValueError(
                    "a 'skip: true' entry may only have 'source' and 'reason' "
                    f"(remove: {', '.join(used + (['transform'] if self.transform else []))})"
                    if used or self.transform
                    else "a 'skip: true' entry cannot be 'required'"
                )
            return self
        if not self.target:
            raise ValueError("a mapped entry needs a 'target' field (or 'skip: true' with a 'reason')")
        if self.reason is not None:
            raise ValueError("'reason' is only for 'skip: true' entries")
        if not self.source and not self.transform and self.default is None and self.default_from is None:
            raise ValueError("a mapped entry needs a 'source', a 'transform' that builds the value, or a default")
        return self


#: ``key_by`` value that keys an object by line position ("0", "1", ...).
KEY_BY_POSITION = "$position"


class CollectionMapping(StrictModel):
    """Line items: each element of ``source`` (a list, or an object keyed by id as CS-Cart sends) is mapped
    with ``fields`` into ``target``: a list, or an object keyed by the ``key_by`` target field or, with
    ``key_by: $position``, by line position (CS-Cart order ``products`` must be an object; its keys are
    free-form, and positions never collide when one product appears on two lines)."""

    source: str
    target: str
    key_by: str | None = None
    required: bool = False
    fields: list[FieldMapping] = Field(min_length=1)


class SourceSpec(StrictModel):
    system: System
    module: str
    #: Field holding the record id (used in issues, placeholder e-mails and the ID map).
    id_field: str


class TargetSpec(StrictModel):
    system: System
    resource: str


class ValueMapSpec(StrictModel):
    """A named translation table; ``default`` (when given) is used for values not in ``entries``."""

    description: str | None = None
    entries: dict[str, ScalarValue] = Field(default_factory=dict)
    default: ScalarValue = None
    case_insensitive: bool = False
    #: Key in the tenant's ``defaults`` whose mapping is layered over ``entries`` (e.g. ``order_status_map``).
    tenant_key: str | None = Field(default=None, pattern=_NAME_PATTERN)

    @model_validator(mode="after")
    def _entries_or_tenant(self) -> ValueMapSpec:
        # Store-specific ids (tax, category, payment) cannot ship with entries; they come from the tenant.
        if not self.entries and not (self.tenant_key and self.has_default):
            raise ValueError("needs 'entries', or a 'tenant_key' plus a 'default' for values the tenant does not map")
        return self

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


class MappingFile(StrictModel):
    mapping_version: int
    entity: Entity
    direction: DirectionName
    variant: str = Field(pattern=_NAME_PATTERN)
    #: The variant used when neither the caller nor the tenant's overrides pick one.
    default_variant: bool = False
    description: str
    source: SourceSpec
    target: TargetSpec
    #: Natural key kind (``email``, ``sku``, ``order_ref``) -> target field holding it.
    natural_keys: dict[str, str] = Field(default_factory=dict)
    value_maps: dict[str, ValueMapSpec] = Field(default_factory=dict)
    fields: list[FieldMapping] = Field(min_length=1)
    collections: list[CollectionMapping] = Field(default_factory=list)

    @field_validator("mapping_version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version not in SUPPORTED_MAPPING_VERSIONS:
            raise ValueError(
                f"unsupported mapping_version {version} "
                f"(allowed: {', '.join(str(v) for v in SUPPORTED_MAPPING_VERSIONS)})"
            )
        return version


class SharedValueMapsFile(StrictModel):
    """``include/mappings/value_maps.yaml``: tables several mapping files use (defined once, never copied)."""

    mapping_version: int
    value_maps: dict[str, ValueMapSpec]

    @field_validator("mapping_version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        return MappingFile._known_version(version)


class ValueMapPatch(StrictModel):
    """Tenant change to a value map: ``entries`` are merged over the shipped ones unless ``replace``."""

    entries: dict[str, ScalarValue] = Field(default_factory=dict)
    default: ScalarValue = None
    replace: bool = False

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


class MappingOverride(StrictModel):
    """One entity + direction of a tenant's ``mapping_overrides``; validated by the same rules as files."""

    variant: str | None = Field(default=None, pattern=_NAME_PATTERN)
    #: Added, or replacing the shipped entry with the same target (skip entries: the same source).
    fields: list[FieldMapping] = Field(default_factory=list)
    #: Shipped targets this tenant does not want written at all.
    drop_targets: list[str] = Field(default_factory=list)
    value_maps: dict[str, ValueMapPatch] = Field(default_factory=dict)
    #: Target field -> literal default, e.g. ``{category_ids: [12]}``.
    defaults: dict[str, Any] = Field(default_factory=dict)
