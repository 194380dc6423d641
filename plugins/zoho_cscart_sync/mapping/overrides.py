"""Tenant overrides layered on the shipped mappings (``mapping_overrides: {<entity>: {<direction>: {...}}}``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from zoho_cscart_sync.mapping.errors import MappingConfigError, MappingConfigErrors
from zoho_cscart_sync.mapping.merged import Located, MergedMapping
from zoho_cscart_sync.mapping.paths import PathSyntaxError, catalogue_pattern, root_name
from zoho_cscart_sync.mapping.schema import MappingFile, MappingOverride
from zoho_cscart_sync.mapping.validation_errors import config_errors_from_validation


def parse_override(raw: Any, label: str) -> MappingOverride:
    """Validate one ``{...}`` override body with the same strict schema as mapping files."""
    if raw is None:
        return MappingOverride()
    if not isinstance(raw, Mapping):
        raise MappingConfigErrors([MappingConfigError(label, "", "must be a mapping of override keys")])
    try:
        return MappingOverride.model_validate(dict(raw))
    except ValidationError as exc:
        raise MappingConfigErrors(
            config_errors_from_validation(exc, file=label, model=MappingOverride, raw=dict(raw))
        ) from exc


def _source_root(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return root_name(path)
    except PathSyntaxError:
        return None


def merge_override(mapping: MappingFile, *, file: str, override: MappingOverride | None, label: str) -> MergedMapping:
    """Shipped entries, then the tenant's: same target replaces, new targets are added, ``drop_targets``
    removes, ``defaults`` sets a target's default, and mapping a shipped "skip" source un-skips it."""
    located = [Located(entry, file, f"fields[{i}]") for i, entry in enumerate(mapping.fields)]
    collections = [
        [Located(entry, file, f"collections[{c}].fields[{i}]") for i, entry in enumerate(collection.fields)]
        for c, collection in enumerate(mapping.collections)
    ]
    if override is None:
        return MergedMapping(mapping, file, located, collections, {}, label)

    errors: list[MappingConfigError] = []
    for position, entry in enumerate(override.fields):
        item = Located(entry, label, f"fields[{position}]")
        if entry.skip:
            located = [x for x in located if not (x.entry.skip and x.entry.source == entry.source)]
            located.append(item)
            continue
        pattern = catalogue_pattern(entry.target or "")
        root = _source_root(entry.source)
        located = [
            x
            for x in located
            if not (not x.entry.skip and catalogue_pattern(x.entry.target or "") == pattern)
            and not (x.entry.skip and root is not None and _source_root(x.entry.source) == root)
        ]
        located.append(item)

    for position, target in enumerate(override.drop_targets):
        kept = [x for x in located if x.entry.skip or x.entry.target != target]
        if len(kept) == len(located):
            current = sorted(x.entry.target for x in located if x.entry.target)
            errors.append(
                MappingConfigError(label, f"drop_targets[{position}]", f"no entry targets {target!r}", current)
            )
        located = kept

    for target, value in override.defaults.items():
        matches = [i for i, x in enumerate(located) if not x.entry.skip and x.entry.target == target]
        if not matches:
            current = sorted(x.entry.target for x in located if x.entry.target)
            errors.append(MappingConfigError(label, f"defaults.{target}", f"no entry targets {target!r}", current))
            continue
        for i in matches:
            old = located[i]
            located[i] = Located(old.entry.model_copy(update={"default": value}), label, f"defaults.{target}")

    if errors:
        raise MappingConfigErrors(errors)
    return MergedMapping(mapping, file, located, collections, override.value_maps, label)
