"""Load-time checks of a merged mapping; each appends :class:`MappingConfigError` lines to ``errors``."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from zoho_cscart_sync.directions import SYSTEM_LABELS, Direction
from zoho_cscart_sync.mapping.engine import CompiledField
from zoho_cscart_sync.mapping.errors import MappingConfigError
from zoho_cscart_sync.mapping.field_catalog import FieldCatalog, catalog_key
from zoho_cscart_sync.mapping.merged import Located, MergedMapping
from zoho_cscart_sync.mapping.paths import PathSyntaxError, catalogue_pattern, parse_path, root_name
from zoho_cscart_sync.mapping.schema import ZOHO_SYSTEMS, MappingFile, ValueMapSpec
from zoho_cscart_sync.mapping.transforms.registry import TRANSFORMS
from zoho_cscart_sync.mapping.value_maps import CompiledValueMap

#: GET /crm/v8/{module} requires ``fields=`` with at most 50 API names (zoho_api.md 2.3).
CRM_MAX_LIST_FIELDS = 50


def parses(path: str) -> bool:
    """Whether ``path`` is a well-formed field path (malformed ones are reported where they appear)."""
    try:
        parse_path(path)
    except PathSyntaxError:
        return False
    return True


def check_direction(mapping: MappingFile, file: str, errors: list[MappingConfigError]) -> None:
    """A mapping reads its direction's source system and writes its target (Zoho: CRM, Inventory or Books)."""
    direction = Direction.parse(mapping.direction)
    for end, system, verb in (("source", direction.source, "reads from"), ("target", direction.target, "writes")):
        allowed = list(ZOHO_SYSTEMS) if system == "zoho" else [system]
        if getattr(mapping, end).system not in allowed:
            problem = f"{direction.value} {verb} {SYSTEM_LABELS[system]}"
            errors.append(MappingConfigError(file, f"{end}.system", problem, allowed))


def find_catalog(
    catalogs: Mapping[str, FieldCatalog],
    system: str,
    resource: str,
    file: str,
    path: str,
    errors: list[MappingConfigError],
) -> FieldCatalog | None:
    """The documented catalogue of ``system`` / ``resource``, or an error listing the known resources."""
    catalog = catalogs.get(catalog_key(system, resource))
    if catalog is None:
        known = sorted(c.resource for c in catalogs.values() if c.system == system)
        errors.append(MappingConfigError(file, path, f"no documented field catalogue for {system} {resource!r}", known))
    return catalog


def expect_none(
    problem: str | None,
    file: str,
    path: str,
    errors: list[MappingConfigError],
    allowed: list[str] | None = None,
) -> None:
    if problem is not None:
        errors.append(MappingConfigError(file, path, problem, allowed))


def check_closed_values(
    merged: MergedMapping,
    fields: list[CompiledField],
    catalog: FieldCatalog,
    value_maps: Mapping[str, CompiledValueMap],
    shared: Mapping[str, ValueMapSpec],
    shared_file: str,
    errors: list[MappingConfigError],
) -> None:
    """Targets that accept a closed set (Zoho status actions) may only receive those values, whichever
    layer (shipped table, tenant defaults, tenant override, literal default) supplied them."""
    for field in fields:
        if not parses(field.target):
            continue
        allowed = catalog.allowed_values(field.target)
        if not allowed:
            continue
        where = f"{catalog.describe()} field {field.target!r}"
        if field.default is not None and field.default not in allowed:
            errors.append(
                MappingConfigError(merged.file, f"default for {field.target}", f"not accepted by {where}", allowed)
            )
        last = field.transforms[-1] if field.transforms else None
        if last is None or last.definition.name != "value_map":
            continue
        table = value_maps[str(getattr(last.args, "table", ""))]
        candidates = [(key, value) for key, value in table.entries.items()]
        if table.has_default:
            candidates.append(("<default>", table.default))
        for key, value in candidates:
            if value is None or value in allowed:
                continue
            origin = table.origins.get(key, "shipped")
            if origin == "tenant":
                file, path = "tenant defaults", f"{_tenant_key(table.name, merged, shared)}.{key}"
            elif origin == "override":
                file, path = merged.patch_label, f"value_maps.{table.name}.entries.{key}"
            else:
                file = shared_file if table.name in shared else merged.file
                path = f"value_maps.{table.name}.entries.{key}"
            errors.append(MappingConfigError(file, path, f"{value!r} cannot be written to {where}", allowed))


def _tenant_key(name: str, merged: MergedMapping, shared: Mapping[str, ValueMapSpec]) -> str:
    spec = shared.get(name) or merged.mapping.value_maps.get(name)
    return (spec.tenant_key if spec is not None else None) or name


def check_source(
    path: str,
    custom: bool,
    catalog: FieldCatalog | None,
    file: str,
    where: str,
    errors: list[MappingConfigError],
) -> None:
    if not parses(path):
        errors.append(MappingConfigError(file, where, f"invalid field path {path!r}"))
        return
    if catalog is None or custom:
        return
    problem = catalog.check_source(path)
    if problem is not None:
        errors.append(
            MappingConfigError(
                file, where, f"{problem}; mark custom fields with 'custom: true'", catalog.readable_names()
            )
        )


def check_target(
    target: str,
    custom: bool,
    catalog: FieldCatalog | None,
    file: str,
    where: str,
    errors: list[MappingConfigError],
) -> None:
    # CS-Cart drops unknown fields without an error, so CS-Cart targets are always checked (never custom).
    if not parses(target):
        errors.append(MappingConfigError(file, where, f"invalid field path {target!r}"))
        return
    if custom or catalog is None:
        return
    problem = catalog.check_target(target)
    if problem is not None:
        errors.append(MappingConfigError(file, where, problem, catalog.writable_names()))


def check_duplicates_and_skips(located_fields: list[Located], errors: list[MappingConfigError]) -> None:
    """No target written twice, no source skipped twice, no source both skipped and mapped."""
    seen_targets: dict[str, Located] = {}
    skipped: dict[str, Located] = {}
    used_roots: set[str] = set()
    for located in located_fields:
        entry = located.entry
        if entry.skip:
            assert entry.source is not None
            if entry.source in skipped:
                errors.append(
                    MappingConfigError(
                        located.file,
                        located.label(),
                        f"source {entry.source!r} is skipped twice (also {skipped[entry.source].path})",
                    )
                )
            skipped[entry.source] = located
            continue
        target = catalogue_pattern(entry.target or "")
        if target in seen_targets:
            first = seen_targets[target]
            errors.append(
                MappingConfigError(
                    located.file,
                    located.label(),
                    f"duplicate target {entry.target!r} (first set by {first.file}: {first.path})",
                )
            )
        else:
            seen_targets[target] = located
        if entry.source and parses(entry.source):
            used_roots.add(root_name(entry.source))
        for spec in entry.transform:
            definition = TRANSFORMS.get(spec.name)
            if definition is None:
                continue
            try:
                args = definition.args_model.model_validate(spec.args)
            except ValidationError:
                continue
            used_roots.update(root_name(name) for name in definition.source_fields(args) if parses(name))
    for source, located in skipped.items():
        if parses(source) and root_name(source) in used_roots:
            errors.append(
                MappingConfigError(located.file, located.label(), f"source {source!r} is both skipped and mapped")
            )


def check_collection_target(
    target: str, catalog: FieldCatalog, file: str, where: str, errors: list[MappingConfigError]
) -> None:
    """A collection writes a documented, writable list field."""
    problem = catalog.check_target(target)
    if problem is None and catalog.fields[root_name(target)].kind != "array":
        problem = f"{target!r} is not a list field of {catalog.describe()}"
    expect_none(problem, file, where, errors, catalog.writable_names())


def check_required_targets(
    catalog: FieldCatalog, mapped_targets: set[str], file: str, errors: list[MappingConfigError]
) -> None:
    """Every field the target resource requires on create is written by some entry."""
    written = {root_name(target) for target in mapped_targets if parses(target)}
    for required in catalog.required_on_create:
        if required not in written:
            problem = f"{catalog.describe()} requires {required!r} on create but no entry targets it"
            errors.append(MappingConfigError(file, "fields", problem))


def check_natural_keys(
    natural_keys: Mapping[str, str], mapped_targets: set[str], file: str, errors: list[MappingConfigError]
) -> None:
    for kind, target in natural_keys.items():
        if target not in mapped_targets:
            errors.append(
                MappingConfigError(
                    file, f"natural_keys.{kind}", f"{target!r} is not a mapped target", sorted(mapped_targets)
                )
            )


def check_crm_field_limit(
    id_field: str, fields: list[CompiledField], file: str, errors: list[MappingConfigError]
) -> None:
    """What the extractor must request from a CRM list call fits into one ``fields=`` parameter."""
    read = {id_field} | {name for field in fields for name in field.reads}
    if len(read) > CRM_MAX_LIST_FIELDS:
        problem = (
            f"reads {len(read)} Zoho CRM fields; CRM list calls accept at most {CRM_MAX_LIST_FIELDS} "
            "(zoho_api.md 2.3), so skip some"
        )
        errors.append(MappingConfigError(file, "fields", problem))
