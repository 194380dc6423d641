"""Documented field lists of every source / target resource (data in ``mapping/catalog/*.yaml``).

CS-Cart silently ignores fields it does not know and Zoho refuses unknown ones only at write time, so
the compiler checks each target path against these catalogues at load time. Each field may also carry its
content rules (``max_length``, ``format``): the engine checks every mapped value against them before
anything is sent, so a value the target would refuse never costs a write (see :mod:`.content`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zoho_cscart_sync.mapping.errors import MappingConfigError
from zoho_cscart_sync.mapping.paths import PathSyntaxError, parse_path

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"

FieldKind = Literal["scalar", "lookup", "object", "array"]

#: What a text value of a field may contain (see :mod:`zoho_cscart_sync.mapping.content`):
#: ``text`` one line of plain text (markup removed), ``multiline`` plain text with line breaks,
#: ``html`` HTML the target renders (dangerous elements removed), ``email`` / ``phone`` checked shapes,
#: ``code`` identifiers and codes (a changed value is a different thing: never repaired), ``raw`` unchecked.
TextFormat = Literal["text", "multiline", "html", "email", "phone", "code", "raw"]


class FieldRules(BaseModel):
    """Content rules of one (sub-)field: the longest value the target stores and what it may contain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Characters (code points): Zoho counts characters and CS-Cart's utf8mb4 varchar(n) stores n of them.
    max_length: int | None = Field(default=None, ge=1)
    format: TextFormat = "text"
    note: str | None = None


class CatalogField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FieldKind = "scalar"
    read_only: bool = False
    #: Not part of the request body: the load engine applies it with a dedicated call (e.g. status changes).
    action: bool = False
    #: Sub-fields that may be written (objects and lists of objects).
    fields: list[str] = Field(default_factory=list)
    #: Extra sub-fields that only appear in responses (e.g. CS-Cart order items' ``product`` name).
    read_fields: list[str] = Field(default_factory=list)
    #: The only values the API accepts (e.g. the status actions Zoho exposes); empty = not a closed set.
    values: list[str] = Field(default_factory=list)
    #: Content rules of a scalar field (see :class:`FieldRules`); ``format`` defaults to ``text``.
    max_length: int | None = Field(default=None, ge=1)
    format: TextFormat = "text"
    #: Content rules of the sub-fields of an object / list field (keys must be listed in ``fields``).
    rules: dict[str, FieldRules] = Field(default_factory=dict)
    note: str | None = None

    def own_rules(self) -> FieldRules:
        return FieldRules(max_length=self.max_length, format=self.format)


#: Rules of a value with nothing to check (lookups, custom fields' ids...).
NO_RULES = FieldRules(format="raw")


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system: Literal["zoho_crm", "zoho_inventory", "zoho_books", "cscart"]
    resource: str
    reference: str
    required_on_create: list[str] = Field(default_factory=list)
    fields: dict[str, CatalogField | None]


@dataclass(frozen=True)
class FieldCatalog:
    """One resource's documented fields."""

    system: str
    resource: str
    reference: str
    file: str
    required_on_create: tuple[str, ...]
    fields: dict[str, CatalogField]

    def readable_names(self) -> list[str]:
        return sorted(self.fields)

    def writable_names(self) -> list[str]:
        return sorted(name for name, spec in self.fields.items() if not spec.read_only)

    def check_source(self, path: str) -> str | None:
        """``None`` when ``path`` can be read from this resource, else the problem."""
        try:
            segments = parse_path(path)
        except PathSyntaxError as exc:
            return str(exc)
        root = segments[0].name
        if root not in self.fields:
            return f"{root!r} is not a documented field of {self.describe()}"
        return None

    def check_target(self, path: str) -> str | None:
        """``None`` when ``path`` may be written to this resource, else the problem."""
        try:
            segments = parse_path(path)
        except PathSyntaxError as exc:
            return str(exc)
        head, rest = segments[0], segments[1:]
        spec = self.fields.get(head.name)
        if spec is None:
            return f"{head.name!r} is not a documented field of {self.describe()}"
        if spec.read_only:
            return f"{head.name!r} is read-only in {self.describe()}"
        if spec.kind == "array":
            if head.index is None and rest:
                return f"{head.name!r} is a list: write one element as {head.name}[0].<field>"
        elif head.index is not None:
            return f"{head.name!r} is not a list in {self.describe()}"
        if not rest:
            return None if spec.kind in ("scalar", "array", "object") else f"write the lookup as {head.name}.id"
        if spec.kind == "scalar":
            return f"{head.name!r} is a plain field of {self.describe()}, it has no sub-field {rest[0].name!r}"
        if spec.kind == "lookup":
            return None if [s.name for s in rest] == ["id"] else f"a lookup is written as {head.name}.id only"
        if len(rest) != 1 or rest[0].name not in spec.fields:
            return f"{head.name}.{rest[0].name} is not a documented sub-field (allowed: {', '.join(spec.fields)})"
        return None

    def sub_fields(self, name: str, *, readable: bool = False) -> list[str]:
        """Documented sub-fields of an object / list field (``readable`` adds response-only ones)."""
        spec = self.fields.get(name)
        if spec is None:
            return []
        return [*spec.fields, *spec.read_fields] if readable else list(spec.fields)

    def element_catalog(self, list_path: str, *, readable: bool) -> FieldCatalog | None:
        """A catalogue of the elements of a list field (``line_items`` -> its documented sub-fields);
        ``readable`` adds response-only sub-fields (for sources)."""
        try:
            root = parse_path(list_path)[0].name
        except PathSyntaxError:
            return None
        names = self.sub_fields(root, readable=readable)
        if not names:
            return None
        rules = self.fields[root].rules
        return FieldCatalog(
            system=self.system,
            resource=f"{self.resource}.{root}[]",
            reference=self.reference,
            file=self.file,
            required_on_create=(),
            fields={
                name: CatalogField(max_length=rules[name].max_length, format=rules[name].format)
                if name in rules
                else CatalogField()
                for name in names
            },
        )

    def rules_for(self, path: str) -> FieldRules:
        """Content rules of a (valid) target path: the field's own, a sub-field's, or none for lookups."""
        try:
            segments = parse_path(path)
        except PathSyntaxError:
            return NO_RULES
        spec = self.fields.get(segments[0].name)
        if spec is None:
            # Zoho custom fields (``custom: true``) are not catalogued: plain text, length unknown.
            return FieldRules()
        rest = segments[1:]
        if not rest:
            return spec.own_rules() if spec.kind == "scalar" else NO_RULES
        if spec.kind == "lookup":
            return NO_RULES
        return spec.rules.get(rest[0].name, FieldRules())

    def allowed_values(self, path: str) -> list[str]:
        spec = self.fields.get(parse_path(path)[0].name)
        return list(spec.values) if spec is not None else []

    def is_action(self, path: str) -> bool:
        spec = self.fields.get(parse_path(path)[0].name)
        return bool(spec and spec.action)

    def describe(self) -> str:
        return f"{self.system} {self.resource} ({self.reference})"


def catalog_key(system: str, resource: str) -> str:
    return f"{system}:{resource}"


@functools.cache
def load_catalogs(directory: Path = CATALOG_DIR) -> dict[str, FieldCatalog]:
    """All catalogues keyed ``system:resource``. Cached: the files ship with the code."""
    catalogs: dict[str, FieldCatalog] = {}
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
        try:
            parsed = CatalogFile.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(part) for part in first["loc"])
            raise MappingConfigError(path.name, location, first["msg"]) from exc
        catalog = FieldCatalog(
            system=parsed.system,
            resource=parsed.resource,
            reference=parsed.reference,
            file=path.name,
            required_on_create=tuple(parsed.required_on_create),
            fields={name: spec or CatalogField() for name, spec in parsed.fields.items()},
        )
        missing = [name for name in catalog.required_on_create if name not in catalog.fields]
        if missing:
            raise MappingConfigError(path.name, "required_on_create", f"unknown fields {missing}")
        for name, spec in catalog.fields.items():
            unknown = sorted(set(spec.rules) - set(spec.fields))
            if unknown:
                raise MappingConfigError(path.name, f"fields.{name}.rules", f"not sub-fields: {unknown}", spec.fields)
        catalogs[catalog_key(parsed.system, parsed.resource)] = catalog
    return catalogs
