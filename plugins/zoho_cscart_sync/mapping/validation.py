"""Whole-directory and tenant-level checks: the CI gate over shipped files and the tenant-file validator."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zoho_cscart_sync.mapping.errors import MappingConfigError, MappingConfigErrors
from zoho_cscart_sync.mapping.loader import (
    SHARED_VALUE_MAPS_FILE,
    available_variants,
    default_mappings_dir,
    file_label,
    load_mapping,
    load_shared_value_maps,
    parse_mapping_file,
    pick_variant,
    variant_files,
)
from zoho_cscart_sync.mapping.schema import DIRECTIONS, ENTITIES


def _error_lines(error: MappingConfigError) -> list[str]:
    if isinstance(error, MappingConfigErrors):
        return [str(MappingConfigError(e.file, e.field_path, e.problem, e.allowed)) for e in error.errors]
    return [str(error)]


def validate_all(mappings_dir: Path | None = None) -> list[str]:
    """Every problem in every shipped mapping file (empty list = valid). This is the CI check."""
    directory = mappings_dir or default_mappings_dir()
    problems: list[str] = []
    try:
        load_shared_value_maps(directory)
    except MappingConfigError as exc:
        return _error_lines(exc)
    for entity in ENTITIES:
        for direction in DIRECTIONS:
            files = variant_files(entity, direction, directory)
            if not files:
                problems.append(
                    f"{file_label(directory / entity, directory)}: {direction}: no mapping file shipped "
                    f"(expected {entity}/{direction}.<variant>.yaml)"
                )
                continue
            for name in files:
                try:
                    load_mapping(entity, direction, variant=name, mappings_dir=directory)
                except MappingConfigError as exc:
                    problems.extend(_error_lines(exc))
            try:
                pick_variant(entity, direction, None, directory, "")
            except MappingConfigError as exc:
                problems.extend(line for line in _error_lines(exc) if line not in problems)
    stray = [
        path
        for path in sorted(directory.rglob("*.y*ml"))
        if path.name != SHARED_VALUE_MAPS_FILE
        and not (path.parent.parent == directory and path.parent.name in ENTITIES)
    ]
    problems.extend(
        f"{file_label(path, directory)}: not in <entity>/<direction>.<variant>.yaml layout" for path in stray
    )
    return problems


def validate_overrides(
    entity_overrides: Mapping[str, Any],
    *,
    tenant_defaults: Mapping[str, Any] | None = None,
    mappings_dir: Path | None = None,
    label: str = "mapping_overrides",
) -> list[str]:
    """Errors in a tenant's whole ``mapping_overrides`` block, each naming the field path (empty = valid).

    Each override is merged over the shipped mapping and compiled, so it is checked by exactly the rules
    the shipped files obey (unknown transforms, value maps, targets, duplicates...). When
    ``tenant_defaults`` is given, every shipped variant is also compiled with those defaults, so a bad
    value in e.g. ``order_status_map`` is reported even for entities without overrides.
    """
    if entity_overrides is None:
        entity_overrides = {}
    if not isinstance(entity_overrides, Mapping):
        return [f"{label}: must be a mapping of <entity>: {{<direction>: {{...}}}}"]
    directory = mappings_dir or default_mappings_dir()
    problems: list[str] = []

    def collect(entity: str, direction: str, body: Mapping[str, Any] | None, variant: str | None) -> None:
        try:
            load_mapping(
                entity,
                direction,
                overrides=body,
                tenant_defaults=tenant_defaults,
                variant=variant,
                mappings_dir=directory,
                overrides_label=label,
            )
        except MappingConfigError as exc:
            problems.extend(line for line in _error_lines(exc) if line not in problems)

    checked: set[tuple[str, str]] = set()
    for entity, by_direction in entity_overrides.items():
        if entity not in ENTITIES:
            problems.append(str(MappingConfigError(label, str(entity), "unknown entity", list(ENTITIES))))
            continue
        if not isinstance(by_direction, Mapping):
            problems.append(f"{label}: {entity}: must be a mapping of <direction>: {{...}}")
            continue
        for direction, body in by_direction.items():
            if direction not in DIRECTIONS:
                problems.append(
                    str(MappingConfigError(label, f"{entity}.{direction}", "unknown direction", list(DIRECTIONS)))
                )
                continue
            checked.add((entity, direction))
            collect(entity, direction, body if body is not None else {}, None)
    if tenant_defaults:
        for entity in ENTITIES:
            for direction in DIRECTIONS:
                if (entity, direction) in checked:
                    continue
                for variant in available_variants(entity, direction, mappings_dir=directory):
                    collect(entity, direction, None, variant)
    return problems


def tenant_default_keys(mappings_dir: Path | None = None) -> dict[str, list[str]]:
    """Tenant ``defaults`` keys the shipped mappings read -> the files / value maps reading them.

    ``default_from`` keys hold a target value (``category_id: 166``); value-map ``tenant_key`` keys hold a
    mapping layered over that table (``order_status_map: {C: confirmed}``). Lets the tenant-file schema
    stay in step with the mappings.
    """
    directory = mappings_dir or default_mappings_dir()
    users: dict[str, set[str]] = {}
    for name, spec in load_shared_value_maps(directory).items():
        if spec.tenant_key:
            users.setdefault(spec.tenant_key, set()).add(f"value map {name}")
    for entity in ENTITIES:
        for direction in DIRECTIONS:
            for path in variant_files(entity, direction, directory).values():
                mapping = parse_mapping_file(path, directory)
                label = f"{entity}/{path.name}"
                entries = [*mapping.fields, *(f for c in mapping.collections for f in c.fields)]
                for entry in entries:
                    if entry.default_from:
                        users.setdefault(entry.default_from, set()).add(f"{label} {entry.target}")
                for name, spec in mapping.value_maps.items():
                    if spec.tenant_key:
                        users.setdefault(spec.tenant_key, set()).add(f"{label} value map {name}")
    return {key: sorted(where) for key, where in sorted(users.items())}
