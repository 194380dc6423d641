"""Apply a compiled mapping to one source record: payload, actions, natural keys and field-level issues."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from zoho_cscart_sync.mapping.errors import TransformError
from zoho_cscart_sync.mapping.paths import get_path, root_name, set_path
from zoho_cscart_sync.mapping.schema import KEY_BY_POSITION
from zoho_cscart_sync.mapping.transforms.base import IdResolver, TransformArgs, TransformContext, is_empty
from zoho_cscart_sync.mapping.transforms.registry import TransformDefinition
from zoho_cscart_sync.mapping.value_maps import CompiledValueMap

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class FieldIssue:
    """A problem with one field of one record. ``field`` is the target path (``line_items[0].item_id``)."""

    field: str
    source: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        origin = f" (source {self.source!r})" if self.source else ""
        return f"{self.severity}: field {self.field!r}{origin}: {self.message}"


@dataclass
class MappedRecord:
    """The result of mapping one record. A record with any error issue must not be written (quarantine it)."""

    source_id: str | None
    payload: dict[str, Any]
    #: Target fields applied with a dedicated call (e.g. order ``status``), not sent in the body.
    actions: dict[str, Any]
    issues: list[FieldIssue]
    #: Record flags for the ID map, e.g. ``no_email`` when a placeholder e-mail was generated.
    flags: frozenset[str]
    #: Natural key kind -> value (``{"email": "a@b.c"}``) for duplicate-safe matching.
    natural_keys: dict[str, str]
    tenant: str | None = None
    entity: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[FieldIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[FieldIssue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    def error_summary(self) -> str:
        """One line naming every failing field, for quarantine reasons (no personal field values)."""
        return "; ".join(str(issue) for issue in self.errors)

    def failure_message(self) -> str:
        """``tenant 'acme_store' customers record '123': error: field 'email' ...`` for logs and exceptions."""
        return f"tenant {self.tenant!r} {self.entity} record {self.source_id!r}: {self.error_summary()}"


@dataclass(frozen=True)
class CompiledTransform:
    definition: TransformDefinition
    args: TransformArgs


@dataclass(frozen=True)
class CompiledField:
    source: str | None
    target: str
    transforms: tuple[CompiledTransform, ...]
    default: Any
    required: bool
    on_error: Literal["fail", "warn"]
    keep_empty: bool
    is_action: bool
    #: Root source fields this entry reads (its ``source`` and fields named in transform args).
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompiledCollection:
    source: str
    target: str
    key_by: str | None
    required: bool
    fields: tuple[CompiledField, ...]


@dataclass(frozen=True)
class CompiledMapping:
    """An effective mapping (shipped file + tenant defaults + overrides), validated and ready to apply."""

    file: str
    entity: str
    direction: str
    variant: str
    mapping_version: int
    source_system: str
    source_module: str
    source_id_field: str
    target_system: str
    target_resource: str
    fields: tuple[CompiledField, ...]
    collections: tuple[CompiledCollection, ...]
    value_maps: Mapping[str, CompiledValueMap]
    natural_keys: Mapping[str, str]
    #: Hash of the effective configuration; changes whenever the output for a record could change.
    fingerprint: str

    def targets(self) -> list[str]:
        """Every target path this mapping may write (collections as ``target[].field``)."""
        names = [f.target for f in self.fields]
        for collection in self.collections:
            names.extend(f"{collection.target}[].{f.target}" for f in collection.fields)
        return names

    def source_fields(self) -> list[str]:
        """Root source fields the mapping reads, id first: what an extractor must request (Zoho CRM list
        calls require ``fields=`` with at most 50 names)."""
        names = [self.source_id_field]
        for field in self.fields:
            names.extend(field.reads)
        names.extend(root_name(collection.source) for collection in self.collections)
        return list(dict.fromkeys(names))

    def apply(
        self,
        record: Mapping[str, Any],
        *,
        tenant: str | None = None,
        resolve_id: IdResolver | None = None,
    ) -> MappedRecord:
        """Map one source record. Never raises for bad data: problems become :class:`FieldIssue` entries.

        ``tenant`` feeds deterministic placeholders; ``resolve_id(entity, source_id)`` backs ``id_link``.
        """
        raw_id = record.get(self.source_id_field) if isinstance(record, Mapping) else None
        source_id = None if is_empty(raw_id) else str(raw_id)
        payload: dict[str, Any] = {}
        actions: dict[str, Any] = {}
        issues: list[FieldIssue] = []
        flags: set[str] = set()

        # One context per record (and per line item); only target_field changes between fields.
        record_ctx = TransformContext(
            record=record,
            tenant=tenant,
            source_id=source_id,
            target_field="",
            value_maps=self.value_maps,
            resolve_id=resolve_id,
            flags=flags,
        )
        for compiled in self.fields:
            found, value = _map_field(compiled, record_ctx, compiled.target, issues)
            if found:
                if compiled.is_action:
                    actions[compiled.target] = value
                else:
                    set_path(payload, compiled.target, value)

        for collection in self.collections:
            _map_collection(collection, record_ctx, payload, issues)

        natural_keys: dict[str, str] = {}
        for kind, target in self.natural_keys.items():
            value = get_path(payload, target)
            if not is_empty(value):
                natural_keys[kind] = str(value)
        return MappedRecord(
            source_id=source_id,
            payload=payload,
            actions=actions,
            issues=issues,
            flags=frozenset(flags),
            natural_keys=natural_keys,
            tenant=tenant,
            entity=self.entity,
        )


def _map_field(
    compiled: CompiledField,
    ctx: TransformContext,
    target_label: str,
    issues: list[FieldIssue],
) -> tuple[bool, Any]:
    value = get_path(ctx.record, compiled.source) if compiled.source else None
    ctx.target_field = target_label
    for step in compiled.transforms:
        try:
            value = step.definition.function(value, step.args, ctx)
        except TransformError as exc:
            severity: Severity = "warning" if compiled.on_error == "warn" and not compiled.required else "error"
            issues.append(FieldIssue(target_label, compiled.source, f"{step.definition.name}: {exc}", severity))
            return False, None
    if is_empty(value) and compiled.default is not None:
        value = compiled.default
    if is_empty(value):
        if compiled.required:
            issues.append(FieldIssue(target_label, compiled.source, "required value is missing or empty"))
            return False, None
        if value is None or not compiled.keep_empty:
            return False, None
    return True, value


def _items(container: Any) -> Iterable[Any]:
    if isinstance(container, Mapping):
        # CS-Cart order items are an object keyed by item_id; keep the server's order.
        return container.values()
    if isinstance(container, list):
        return container
    return ()


def _map_collection(
    collection: CompiledCollection,
    record_ctx: TransformContext,
    payload: dict[str, Any],
    issues: list[FieldIssue],
) -> None:
    items = [item for item in _items(get_path(record_ctx.record, collection.source)) if isinstance(item, Mapping)]
    if not items:
        if collection.required:
            issues.append(FieldIssue(collection.target, collection.source, "at least one line item is required"))
        return
    mapped_items: list[dict[str, Any]] = []
    for position, item in enumerate(items):
        mapped: dict[str, Any] = {}
        # Field lookups inside a line item (first_non_empty, concat...) read the item, not the order.
        item_ctx = replace(record_ctx, record=item)
        for compiled in collection.fields:
            label = f"{collection.target}[{position}].{compiled.target}"
            found, value = _map_field(compiled, item_ctx, label, issues)
            if found:
                set_path(mapped, compiled.target, value)
        mapped_items.append(mapped)
    if collection.key_by is None:
        payload[collection.target] = mapped_items
        return
    if collection.key_by == KEY_BY_POSITION:
        payload[collection.target] = {str(position): mapped for position, mapped in enumerate(mapped_items)}
        return
    keyed: dict[str, Any] = {}
    for position, mapped in enumerate(mapped_items):
        key = mapped.get(collection.key_by)
        label = f"{collection.target}[{position}].{collection.key_by}"
        if is_empty(key):
            continue  # its own required-field issue already names the field
        if str(key) in keyed:
            issues.append(FieldIssue(label, collection.source, f"duplicate line key {key!r}"))
            continue
        keyed[str(key)] = mapped
    payload[collection.target] = keyed
