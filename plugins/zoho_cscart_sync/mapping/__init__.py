"""Declarative field mappings between Zoho and CS-Cart (``include/mappings/<entity>/<direction>.<variant>.yaml``).

Public API::

    load_mapping(entity, direction, *, overrides=None, tenant_defaults=None, variant=None, mappings_dir=None)
        -> CompiledMapping
    CompiledMapping.apply(record, *, tenant=None, resolve_id=None) -> MappedRecord (alias MappedResult)
    validate_all(mappings_dir=None) -> list[str]
    validate_overrides(entity_overrides, *, tenant_defaults=None, mappings_dir=None) -> list[str]
    tenant_default_keys(mappings_dir=None) -> dict[str, list[str]]

Every mapped value is checked against its target field's content rules (length, e-mail / phone shape,
markup) with the policy the mapping file declares (``on_invalid``); see :mod:`.content`. Every issue is a
``kind == "content"`` issue: the same source record fails the same way until it changes.

Import cost is pydantic + PyYAML; call these inside tasks, never at DAG parse time.
"""

from __future__ import annotations

from zoho_cscart_sync.mapping.content import DEFAULT_POLICY, ContentRules
from zoho_cscart_sync.mapping.engine import CONTENT, CompiledMapping, FieldIssue, IssueKind, MappedRecord, MappedResult
from zoho_cscart_sync.mapping.errors import MappingConfigError, MappingConfigErrors, TransformError
from zoho_cscart_sync.mapping.loader import available_variants, default_mappings_dir, load_mapping, overrides_for
from zoho_cscart_sync.mapping.transforms.person import NO_EMAIL_FLAG
from zoho_cscart_sync.mapping.validation import tenant_default_keys, validate_all, validate_overrides

__all__ = [
    "CONTENT",
    "DEFAULT_POLICY",
    "NO_EMAIL_FLAG",
    "CompiledMapping",
    "ContentRules",
    "FieldIssue",
    "IssueKind",
    "MappedRecord",
    "MappedResult",
    "MappingConfigError",
    "MappingConfigErrors",
    "TransformError",
    "available_variants",
    "default_mappings_dir",
    "load_mapping",
    "overrides_for",
    "tenant_default_keys",
    "validate_all",
    "validate_overrides",
]
