"""Validate a merged mapping against the catalogues and the transform registry, and compile it.

All problems are collected and raised together (:class:`MappingConfigErrors`), each naming the file or
override, the field path and the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from zoho_cscart_sync.mapping.checks import (
    check_closed_values,
    check_collection_target,
    check_crm_field_limit,
    check_direction,
    check_duplicates_and_skips,
    check_natural_keys,
    check_required_targets,
    check_source,
    check_target,
    expect_none,
    find_catalog,
    parses,
)
from zoho_cscart_sync.mapping.content import DEFAULT_POLICY, POLICIES, UNTRUNCATABLE, ContentRules
from zoho_cscart_sync.mapping.engine import (
    CompiledCollection,
    CompiledFallback,
    CompiledField,
    CompiledMapping,
    CompiledTransform,
)
from zoho_cscart_sync.mapping.errors import MappingConfigError, MappingConfigErrors
from zoho_cscart_sync.mapping.field_catalog import FieldCatalog, load_catalogs
from zoho_cscart_sync.mapping.fingerprint import mapping_fingerprint
from zoho_cscart_sync.mapping.merged import Located, MergedMapping
from zoho_cscart_sync.mapping.paths import root_name
from zoho_cscart_sync.mapping.schema import (
    KEY_BY_POSITION,
    CollectionMapping,
    FieldMapping,
    TransformSpec,
    ValueMapSpec,
)
from zoho_cscart_sync.mapping.transforms.registry import TRANSFORMS, transform_names
from zoho_cscart_sync.mapping.value_maps import CompiledValueMap, compile_value_map


@dataclass
class _Compilation:
    """What every step needs: the merged mapping, the tenant defaults, the value maps and the error list."""

    merged: MergedMapping
    defaults: Mapping[str, Any]
    value_maps: dict[str, CompiledValueMap] = field(default_factory=dict)
    errors: list[MappingConfigError] = field(default_factory=list)

    @property
    def target_is_cscart(self) -> bool:
        return self.merged.mapping.target.system == "cscart"


def compile_merged(
    merged: MergedMapping,
    *,
    shared_value_maps: Mapping[str, ValueMapSpec],
    shared_file: str,
    tenant_defaults: Mapping[str, Any] | None = None,
) -> CompiledMapping:
    """Check everything and build the :class:`CompiledMapping`; raise :class:`MappingConfigErrors` on problems."""
    mapping, file = merged.mapping, merged.file
    run = _Compilation(merged=merged, defaults=tenant_defaults or {})
    errors = run.errors

    check_direction(mapping, file, errors)
    catalogs = load_catalogs()
    source = find_catalog(catalogs, mapping.source.system, mapping.source.module, file, "source.module", errors)
    target = find_catalog(catalogs, mapping.target.system, mapping.target.resource, file, "target.resource", errors)
    run.value_maps = _compile_value_maps(run, shared_value_maps, shared_file)

    fields = _compile_fields(run, merged.fields, source, target, frozenset(mapping.natural_keys.values()))
    check_duplicates_and_skips(merged.fields, errors)
    collections = [
        _compile_collection(run, f"collections[{position}]", collection, located, source, target)
        for position, (collection, located) in enumerate(
            zip(mapping.collections, merged.collection_fields, strict=True)
        )
    ]

    mapped_targets = {f.target for f in fields} | {c.target for c in collections}
    if target is not None:
        check_closed_values(merged, fields, target, run.value_maps, shared_value_maps, shared_file, errors)
        check_required_targets(target, mapped_targets, file, errors)
    check_natural_keys(mapping.natural_keys, mapped_targets, file, errors)
    if mapping.source.system == "zoho_crm":
        check_crm_field_limit(mapping.source.id_field, fields, file, errors)

    if errors:
        raise MappingConfigErrors(errors)
    return CompiledMapping(
        file=file,
        entity=mapping.entity,
        direction=mapping.direction,
        variant=mapping.variant,
        mapping_version=mapping.mapping_version,
        source_system=mapping.source.system,
        source_module=mapping.source.module,
        source_id_field=mapping.source.id_field,
        target_system=mapping.target.system,
        target_resource=mapping.target.resource,
        fields=tuple(fields),
        collections=tuple(collections),
        value_maps=run.value_maps,
        natural_keys=dict(mapping.natural_keys),
        fingerprint=mapping_fingerprint(merged, run.value_maps, fields, collections),
    )


def _compile_value_maps(
    run: _Compilation, shared: Mapping[str, ValueMapSpec], shared_file: str
) -> dict[str, CompiledValueMap]:
    """Shared tables + the file's own, each layered with tenant defaults and the tenant override patch."""
    merged = run.merged
    specs: dict[str, ValueMapSpec] = dict(shared)
    for name, spec in merged.mapping.value_maps.items():
        if name in shared:
            problem = f"already defined in {shared_file}; reuse it, do not redefine"
            run.errors.append(MappingConfigError(merged.file, f"value_maps.{name}", problem))
        specs[name] = spec
    for name in merged.value_map_patches:
        if name not in specs:
            run.errors.append(
                MappingConfigError(merged.patch_label, f"value_maps.{name}", "unknown value map", sorted(specs))
            )
    compiled: dict[str, CompiledValueMap] = {}
    for name, spec in specs.items():
        tenant_entries = run.defaults.get(spec.tenant_key) if spec.tenant_key else None
        if tenant_entries is not None and not isinstance(tenant_entries, Mapping):
            problem = f"must be a mapping used by value map {name!r}"
            run.errors.append(MappingConfigError("tenant defaults", str(spec.tenant_key), problem))
            tenant_entries = None
        patch = merged.value_map_patches.get(name)
        compiled[name] = compile_value_map(name, spec, tenant_entries=tenant_entries, patch=patch)
    return compiled


def _compile_fields(
    run: _Compilation,
    located_fields: list[Located],
    source_catalog: FieldCatalog | None,
    target_catalog: FieldCatalog | None,
    key_targets: frozenset[str] = frozenset(),
) -> list[CompiledField]:
    """``key_targets``: target fields holding natural keys (their values are never truncated by default)."""
    compiled: list[CompiledField] = []
    for located in located_fields:
        entry, file, label = located.entry, located.file, located.label()
        # Only Zoho has custom fields, so ``custom: true`` relaxes the check on the Zoho side of the entry;
        # CS-Cart targets are always checked because CS-Cart drops unknown fields without an error.
        custom_source = entry.custom and run.target_is_cscart
        custom_target = entry.custom and not run.target_is_cscart
        if entry.source is not None:
            check_source(entry.source, custom_source, source_catalog, file, f"{label}.source", run.errors)
        if entry.skip:
            continue
        assert entry.target is not None  # guaranteed by FieldMapping's validator
        check_target(entry.target, custom_target, target_catalog, file, f"{label}.target", run.errors)
        reads = [root_name(entry.source)] if entry.source and parses(entry.source) else []
        transforms = _compile_transforms(run, entry.transform, custom_source, source_catalog, file, label, reads)
        fallbacks: list[CompiledFallback] = []
        for position, fallback in enumerate(entry.fallback):
            path = f"{label}.fallback[{position}]"
            if fallback.source is not None:
                check_source(fallback.source, custom_source, source_catalog, file, f"{path}.source", run.errors)
                if parses(fallback.source):
                    reads.append(root_name(fallback.source))
            steps = _compile_transforms(run, fallback.transform, custom_source, source_catalog, file, path, reads)
            fallbacks.append(CompiledFallback(source=fallback.source, transforms=tuple(steps)))
        default = entry.default
        if entry.default_from is not None and entry.default_from in run.defaults:
            default = run.defaults[entry.default_from]
        is_action = bool(target_catalog and parses(entry.target) and target_catalog.is_action(entry.target))
        _check_required_on_create(entry, target_catalog, file, label, run.errors)
        rules = None if is_action else _content_rules(run, entry, target_catalog, file, label, key_targets)
        compiled.append(
            CompiledField(
                source=entry.source,
                target=entry.target,
                transforms=tuple(transforms),
                default=default,
                required=entry.required,
                on_error=entry.on_error,
                keep_empty=entry.keep_empty,
                is_action=is_action,
                reads=tuple(dict.fromkeys(reads)),
                rules=rules,
                fallbacks=tuple(fallbacks),
            )
        )
    return compiled


def _compile_transforms(
    run: _Compilation,
    specs: list[TransformSpec],
    custom_source: bool,
    source_catalog: FieldCatalog | None,
    file: str,
    label: str,
    reads: list[str],
) -> list[CompiledTransform]:
    """Compile a transform chain; source fields named in its arguments are checked and added to ``reads``."""
    transforms: list[CompiledTransform] = []
    for position, spec in enumerate(specs):
        step = _compile_transform(run, spec, file, f"{label}.transform[{position}]")
        if step is None:
            continue
        for extra in step.definition.source_fields(step.args):
            check_source(extra, custom_source, source_catalog, file, f"{label}.transform[{position}].args", run.errors)
            if parses(extra):
                reads.append(root_name(extra))
        transforms.append(step)
    return transforms


def _check_required_on_create(
    entry: FieldMapping, target_catalog: FieldCatalog | None, file: str, label: str, errors: list[MappingConfigError]
) -> None:
    """A field the target requires on create must be ``required`` (or have a default): left out when empty,
    it would be refused by the server at every run instead of failing once with an error naming it."""
    assert entry.target is not None
    if target_catalog is None or not parses(entry.target) or entry.target not in target_catalog.required_on_create:
        return
    if entry.required or entry.default is not None or entry.default_from is not None:
        return
    problem = (
        f"{target_catalog.describe()} requires {entry.target!r} on create: set 'required: true' (add a "
        "'fallback' or 'default' for records without a value) so an empty value fails the record, not the write"
    )
    errors.append(MappingConfigError(file, f"{label}.required", problem))


def _content_rules(
    run: _Compilation,
    entry: FieldMapping,
    target_catalog: FieldCatalog | None,
    file: str,
    label: str,
    key_targets: frozenset[str],
) -> ContentRules | None:
    """The target field's catalogued rules with the entry's ``on_invalid`` (or the default for its format).

    A natural-key target defaults to ``quarantine``: a cut key would match or create a different record.
    """
    assert entry.target is not None
    if target_catalog is None or not parses(entry.target):
        return None
    catalogued = target_catalog.rules_for(entry.target)
    if entry.on_invalid is not None:
        policy = entry.on_invalid
    elif entry.target in key_targets:
        policy = "quarantine"
    else:
        policy = DEFAULT_POLICY[catalogued.format]
    if policy == "truncate" and catalogued.format in UNTRUNCATABLE:
        problem = f"a {catalogued.format} cannot be repaired by truncating it ({entry.target!r} is {catalogued.format})"
        allowed = [name for name in POLICIES if name != "truncate"]
        run.errors.append(MappingConfigError(file, f"{label}.on_invalid", problem, allowed))
    rules = ContentRules(max_length=catalogued.max_length, format=catalogued.format, on_invalid=policy)
    return rules if rules.checks_anything else None


def _compile_transform(run: _Compilation, spec: TransformSpec, file: str, path: str) -> CompiledTransform | None:
    """Resolve a transform name and validate its typed arguments; ``None`` (with errors) when invalid."""
    definition = TRANSFORMS.get(spec.name)
    if definition is None:
        run.errors.append(
            MappingConfigError(file, f"{path}.name", f"unknown transform {spec.name!r}", transform_names())
        )
        return None
    try:
        args = definition.args_model.model_validate(spec.args)
    except ValidationError as exc:
        allowed = sorted(definition.args_model.model_fields)
        for error in exc.errors():
            arg = ".".join(str(part) for part in error["loc"]) or "args"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = f"unknown argument {arg!r} for transform {spec.name!r}"
            elif error["type"] == "literal_error":
                message = f"{message} (transform {spec.name!r})"
            run.errors.append(MappingConfigError(file, f"{path}.args.{arg}", message, allowed))
        return None
    table = getattr(args, "table", None)
    if spec.name == "value_map" and table not in run.value_maps:
        run.errors.append(
            MappingConfigError(file, f"{path}.args.table", f"unknown value map {table!r}", sorted(run.value_maps))
        )
        return None
    return CompiledTransform(definition, args)


def _compile_collection(
    run: _Compilation,
    path: str,
    collection: CollectionMapping,
    located: list[Located],
    source_catalog: FieldCatalog | None,
    target_catalog: FieldCatalog | None,
) -> CompiledCollection:
    file = run.merged.file
    if source_catalog is not None:
        expect_none(source_catalog.check_source(collection.source), file, f"{path}.source", run.errors)
    if target_catalog is not None:
        check_collection_target(collection.target, target_catalog, file, f"{path}.target", run.errors)
    # Line-item fields are checked against the documented sub-fields of the two list fields.
    item_source = source_catalog.element_catalog(collection.source, readable=True) if source_catalog else None
    item_target = target_catalog.element_catalog(collection.target, readable=False) if target_catalog else None
    fields = _compile_fields(run, located, item_source, item_target)
    check_duplicates_and_skips(located, run.errors)
    allowed_keys = [KEY_BY_POSITION, *(f.target for f in fields)]
    if collection.key_by is not None and collection.key_by not in allowed_keys:
        run.errors.append(
            MappingConfigError(file, f"{path}.key_by", "must be one of the collection's targets", allowed_keys)
        )
    return CompiledCollection(
        source=collection.source,
        target=collection.target,
        key_by=collection.key_by,
        required=collection.required,
        fields=tuple(fields),
    )
