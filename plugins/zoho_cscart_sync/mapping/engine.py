"""Apply a compiled mapping to one source record: payload, actions, natural keys and field-level issues.

Every value is checked against its target field's content rules (:mod:`.content`) before it reaches the
payload, so each entity gets length, shape and markup validation from its catalogue without pipeline code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from zoho_cscart_sync.mapping.content import ContentRules, Finding, check_value, clean_markup, flag_name
from zoho_cscart_sync.mapping.errors import TransformError, WaitingError
from zoho_cscart_sync.mapping.paths import get_path, root_name, set_path
from zoho_cscart_sync.mapping.schema import KEY_BY_POSITION
from zoho_cscart_sync.mapping.transforms.base import IdResolver, TransformArgs, TransformContext, is_empty
from zoho_cscart_sync.mapping.transforms.registry import TransformDefinition
from zoho_cscart_sync.mapping.value_maps import CompiledValueMap

Severity = Literal["error", "warning"]
#: ``content``: the source record itself is the problem (bad or missing data, or a mapping rule it cannot
#: meet); mapping it again gives the same result, so a runner waits for the source to change instead of
#: retrying. ``waiting``: a related record (``id_link``) has no counterpart yet; mapping it again once that
#: record is synchronised succeeds, so a runner tries it every run. The engine does no I/O that could fail
#: transiently.
IssueKind = Literal["content", "waiting"]
CONTENT: IssueKind = "content"
WAITING: IssueKind = "waiting"


@dataclass(frozen=True)
class FieldIssue:
    """A problem with one field of one record. ``field`` is the target path (``line_items[0].item_id``).

    ``rule`` names the broken content rule (``max_length``, ``required``, ``email``, ``phone``, ``markup``)
    or is ``None`` for transform errors, whose message starts with the transform's name.
    """

    field: str
    source: str | None
    message: str
    severity: Severity = "error"
    rule: str | None = None
    kind: IssueKind = CONTENT

    def __str__(self) -> str:
        origin = f" (source {self.source!r})" if self.source else ""
        # "required value is missing" already names its rule; others get it as a prefix.
        rule = f"{self.rule}: " if self.rule and not self.message.startswith(self.rule) else ""
        return f"{self.severity}: field {self.field!r}{origin}: {rule}{self.message}"


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

    @property
    def error_kind(self) -> IssueKind | None:
        """``"waiting"`` when every error is a related record not synchronised yet, ``"content"`` when any
        other error exists (see :data:`IssueKind`), ``None`` when the record is ``ok``."""
        if not self.errors:
            return None
        return WAITING if all(issue.kind == WAITING for issue in self.errors) else CONTENT

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


#: The name callers know the result by (the sync runner's contract): one class, two names.
MappedResult = MappedRecord


@dataclass(frozen=True)
class CompiledFallback:
    source: str | None
    transforms: tuple[CompiledTransform, ...]


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
    #: Root source fields this entry reads (its ``source``, fallbacks and fields named in transform args).
    reads: tuple[str, ...] = ()
    #: The target field's content rules and this entry's policy; ``None`` = nothing to check.
    rules: ContentRules | None = None
    fallbacks: tuple[CompiledFallback, ...] = ()


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


def _transformed(
    source: str | None,
    transforms: tuple[CompiledTransform, ...],
    compiled: CompiledField,
    ctx: TransformContext,
    target_label: str,
    issues: list[FieldIssue],
) -> tuple[bool, Any]:
    value = get_path(ctx.record, source) if source else None
    for step in transforms:
        try:
            value = step.definition.function(value, step.args, ctx)
        except TransformError as exc:
            severity: Severity = "warning" if compiled.on_error == "warn" and not compiled.required else "error"
            kind = WAITING if isinstance(exc, WaitingError) else CONTENT
            issues.append(FieldIssue(target_label, source, f"{step.definition.name}: {exc}", severity, kind=kind))
            return False, None
    return True, value


def _report(
    finding: Finding,
    compiled: CompiledField,
    ctx: TransformContext,
    target_label: str,
    issues: list[FieldIssue],
) -> bool:
    """Record one broken rule; ``True`` when the field keeps its (repaired) value."""
    rules = compiled.rules
    assert rules is not None
    if finding.repaired:
        prefix = "truncated" if finding.rule == "max_length" else "markup_removed"
        ctx.flags.add(flag_name(prefix, target_label))
        issues.append(FieldIssue(target_label, compiled.source, finding.message, "warning", finding.rule))
        return True
    if rules.on_invalid == "drop" and not compiled.required:
        ctx.flags.add(flag_name("dropped", target_label))
        message = f"{finding.message}; field left out (on_invalid: drop)"
        issues.append(FieldIssue(target_label, compiled.source, message, "warning", finding.rule))
        return False
    issues.append(FieldIssue(target_label, compiled.source, finding.message, "error", finding.rule))
    return False


def _clean(
    value: Any, compiled: CompiledField, ctx: TransformContext, target_label: str, issues: list[FieldIssue]
) -> tuple[bool, Any]:
    """Markup rule (before emptiness is judged, so a name that was only ``<script>`` counts as empty)."""
    if compiled.rules is None or value.__class__ is not str or "<" not in value:
        return True, value
    cleaned, finding = clean_markup(value, compiled.rules)
    if finding is None:
        return True, value
    if _report(finding, compiled, ctx, target_label, issues):
        return True, cleaned
    return False, None


def _map_field(
    compiled: CompiledField,
    ctx: TransformContext,
    target_label: str,
    issues: list[FieldIssue],
) -> tuple[bool, Any]:
    """Transforms, markup rule, fallbacks, default, required, then length and shape rules.

    The common case (no markup, short value) costs a few attribute reads on top of the transforms: apply
    runs over every record of every run.
    """
    ctx.target_field = target_label
    # The transform loop is inlined (not _transformed): one call less per field of every record.
    source = compiled.source
    value = get_path(ctx.record, source) if source else None
    for step in compiled.transforms:
        try:
            value = step.definition.function(value, step.args, ctx)
        except TransformError as exc:
            severity: Severity = "warning" if compiled.on_error == "warn" and not compiled.required else "error"
            kind = WAITING if isinstance(exc, WaitingError) else CONTENT
            issues.append(FieldIssue(target_label, source, f"{step.definition.name}: {exc}", severity, kind=kind))
            return False, None
    rules = compiled.rules
    if rules is not None and value.__class__ is str and "<" in value:
        usable, value = _clean(value, compiled, ctx, target_label, issues)
        if not usable:
            return False, None
    if is_empty(value):
        for fallback in compiled.fallbacks:
            found, candidate = _transformed(fallback.source, fallback.transforms, compiled, ctx, target_label, issues)
            if not found:
                continue
            usable, candidate = _clean(candidate, compiled, ctx, target_label, issues)
            if usable and not is_empty(candidate):
                ctx.flags.add(flag_name("fallback", target_label))
                value = candidate
                break
        else:
            if compiled.default is not None:
                value = compiled.default
            if is_empty(value):
                if compiled.required:
                    message = "required value is missing or empty"
                    issues.append(FieldIssue(target_label, compiled.source, message, rule="required"))
                    return False, None
                if value is None or not compiled.keep_empty:
                    return False, None
    if (
        rules is not None
        and value.__class__ is str
        and value
        and (rules.format in _SHAPED or (rules.max_length is not None and len(value) > rules.max_length))
    ):
        value, findings = check_value(value, rules)
        # Every finding is reported (not just the first), so one quarantine names every broken rule.
        if not all([_report(finding, compiled, ctx, target_label, issues) for finding in findings]):
            return False, None
    return True, value


#: Formats whose every value is checked (a shape), not only the values over the maximum length.
_SHAPED = frozenset({"email", "phone"})


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
        # Field lookups inside a line item (first_non_empty, concat...) read the item, not the order; the order is
        # the item's parent (parent_keys_containing).
        item_ctx = replace(record_ctx, record=item, parent=record_ctx.record)
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
