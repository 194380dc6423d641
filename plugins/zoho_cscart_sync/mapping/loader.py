"""Find, parse, merge and compile mapping files; the CI check over every shipped file."""

from __future__ import annotations

import functools
import os
import sysconfig
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from zoho_cscart_sync.mapping.compiler import compile_merged
from zoho_cscart_sync.mapping.engine import CompiledMapping
from zoho_cscart_sync.mapping.errors import MappingConfigError, MappingConfigErrors
from zoho_cscart_sync.mapping.overrides import merge_override, parse_override
from zoho_cscart_sync.mapping.schema import (
    DIRECTIONS,
    ENTITIES,
    Direction,
    MappingFile,
    SharedValueMapsFile,
    ValueMapSpec,
)
from zoho_cscart_sync.mapping.validation_errors import config_errors_from_validation

SHARED_VALUE_MAPS_FILE = "value_maps.yaml"
#: Repository layout: <root>/plugins/zoho_cscart_sync/mapping/loader.py and <root>/include/mappings/.
_REPO_MAPPINGS_DIR = Path(__file__).resolve().parents[3] / "include" / "mappings"


def installed_mappings_dir() -> Path:
    """Where an installed wheel put the shipped mappings (``<prefix>/share/zoho_cscart_sync/mappings``)."""
    return Path(sysconfig.get_path("data")) / "share" / "zoho_cscart_sync" / "mappings"


def default_mappings_dir() -> Path:
    """``$ZCS_MAPPINGS_DIR`` when set (a deployment's own copy); else ``<repo>/include/mappings`` in a checkout;
    else the mappings an installed wheel shipped (:func:`installed_mappings_dir`)."""
    configured = os.environ.get("ZCS_MAPPINGS_DIR")
    if configured:
        return Path(configured)
    if _REPO_MAPPINGS_DIR.is_dir():
        return _REPO_MAPPINGS_DIR
    installed = installed_mappings_dir()
    return installed if installed.is_dir() else _REPO_MAPPINGS_DIR


def file_label(path: Path, mappings_dir: Path) -> str:
    """How errors name a file: relative to the project (``include/mappings/customers/...``) when possible."""
    try:
        return str(path.relative_to(mappings_dir.parent.parent))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, label: str) -> Any:
    stat = path.stat()
    return _read_yaml_cached(path, stat.st_mtime_ns, stat.st_size, label)


@functools.lru_cache(maxsize=128)
def _read_yaml_cached(path: Path, mtime_ns: int, size: int, label: str) -> Any:
    # Keyed by mtime and size so an edited file is re-read, while a task applying a mapping many times
    # parses it once.
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise MappingConfigErrors([MappingConfigError(label, where, f"not valid YAML: {exc}")]) from exc


def variant_files(entity: str, direction: str, mappings_dir: Path) -> dict[str, Path]:
    """``{variant: path}`` of ``<entity>/<direction>.<variant>.yaml`` files."""
    folder = mappings_dir / entity
    return {path.name[len(direction) + 1 : -len(".yaml")]: path for path in sorted(folder.glob(f"{direction}.*.yaml"))}


def available_variants(entity: str, direction: str, *, mappings_dir: Path | None = None) -> list[str]:
    """Variants shipped for an entity and direction (e.g. customers/zoho_to_cscart: crm_accounts, crm_contacts)."""
    return sorted(variant_files(entity, direction, mappings_dir or default_mappings_dir()))


def parse_mapping_file(path: Path, mappings_dir: Path) -> MappingFile:
    """Schema-validate one file and check its name matches its entity, direction and variant."""
    label = file_label(path, mappings_dir)
    raw = _read_yaml(path, label)
    if not isinstance(raw, dict):
        raise MappingConfigErrors([MappingConfigError(label, "", "a mapping file must be a YAML mapping")])
    try:
        mapping = MappingFile.model_validate(raw)
    except ValidationError as exc:
        raise MappingConfigErrors(config_errors_from_validation(exc, file=label, model=MappingFile, raw=raw)) from exc
    expected = f"{mapping.direction}.{mapping.variant}.yaml"
    if path.parent.name != mapping.entity or path.name != expected:
        raise MappingConfigErrors(
            [
                MappingConfigError(
                    label,
                    "entity/direction/variant",
                    f"file must be named {mapping.entity}/{expected} to match its contents",
                )
            ]
        )
    return mapping


def load_shared_value_maps(mappings_dir: Path | None = None) -> dict[str, ValueMapSpec]:
    """The shared tables of ``value_maps.yaml`` (empty when the file does not exist)."""
    directory = mappings_dir or default_mappings_dir()
    path = directory / SHARED_VALUE_MAPS_FILE
    if not path.exists():
        return {}
    label = file_label(path, directory)
    raw = _read_yaml(path, label)
    try:
        return dict(SharedValueMapsFile.model_validate(raw).value_maps)
    except ValidationError as exc:
        raise MappingConfigErrors(
            config_errors_from_validation(exc, file=label, model=SharedValueMapsFile, raw=raw)
        ) from exc


def pick_variant(entity: str, direction: str, variant: str | None, mappings_dir: Path, label: str) -> Path:
    """The file of the requested variant, or of the single ``default_variant: true`` one."""
    files = variant_files(entity, direction, mappings_dir)
    if not files:
        raise MappingConfigErrors(
            [
                MappingConfigError(
                    file_label(mappings_dir / entity, mappings_dir),
                    f"{entity}.{direction}",
                    "no mapping file shipped for this entity and direction",
                )
            ]
        )
    if variant is not None:
        if variant not in files:
            raise MappingConfigErrors(
                [
                    MappingConfigError(
                        label, f"{entity}.{direction}.variant", f"unknown variant {variant!r}", sorted(files)
                    )
                ]
            )
        return files[variant]
    defaults = [path for path in files.values() if parse_mapping_file(path, mappings_dir).default_variant]
    if len(defaults) != 1:
        raise MappingConfigErrors(
            [
                MappingConfigError(
                    file_label(mappings_dir / entity, mappings_dir),
                    f"{entity}.{direction}",
                    f"exactly one variant must set default_variant: true (found {len(defaults)})",
                    sorted(files),
                )
            ]
        )
    return defaults[0]


def load_mapping(
    entity: str,
    direction: str | Direction,
    *,
    overrides: Mapping[str, Any] | None = None,
    tenant_defaults: Mapping[str, Any] | None = None,
    variant: str | None = None,
    mappings_dir: Path | None = None,
    overrides_label: str = "mapping_overrides",
) -> CompiledMapping:
    """The effective mapping for one entity and direction.

    ``overrides`` is the tenant's ``mapping_overrides[entity][direction]`` body; ``tenant_defaults`` is the
    tenant's ``defaults`` (``category_id``, ``tax_ids``, ``order_status_map``...). The variant is the
    ``variant`` argument, else the override's ``variant``, else the shipped default. Raises
    :class:`MappingConfigError` (a :class:`MappingConfigErrors`) naming file, field and allowed values.
    """
    if entity not in ENTITIES:
        raise MappingConfigError(overrides_label, "entity", f"unknown entity {entity!r}", list(ENTITIES))
    # Callers may pass a ``Direction`` member: its str() is the wire spelling used in file names.
    direction = str(direction)
    if direction not in DIRECTIONS:
        raise MappingConfigError(overrides_label, "direction", f"unknown direction {direction!r}", list(DIRECTIONS))
    directory = mappings_dir or default_mappings_dir()
    label = f"{overrides_label}.{entity}.{direction}"
    override = parse_override(overrides, label) if overrides is not None else None
    chosen = variant or (override.variant if override is not None else None)
    path = pick_variant(entity, direction, chosen, directory, label)
    mapping = parse_mapping_file(path, directory)
    merged = merge_override(mapping, file=file_label(path, directory), override=override, label=label)
    return compile_merged(
        merged,
        shared_value_maps=load_shared_value_maps(directory),
        shared_file=file_label(directory / SHARED_VALUE_MAPS_FILE, directory),
        tenant_defaults=tenant_defaults,
    )


def overrides_for(mapping_overrides: Mapping[str, Any] | None, entity: str, direction: str) -> Mapping[str, Any] | None:
    """The ``{...}`` body for one entity and direction out of a tenant's ``mapping_overrides`` block."""
    if not mapping_overrides:
        return None
    body = (mapping_overrides.get(entity) or {}).get(direction)
    return body if isinstance(body, Mapping) else None
