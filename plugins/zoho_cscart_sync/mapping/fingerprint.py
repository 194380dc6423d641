"""A short, stable hash of an effective mapping: it changes whenever the output for a record could change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from zoho_cscart_sync.mapping.engine import CompiledCollection, CompiledField
from zoho_cscart_sync.mapping.merged import MergedMapping
from zoho_cscart_sync.mapping.value_maps import CompiledValueMap


def mapping_fingerprint(
    merged: MergedMapping,
    value_maps: Mapping[str, CompiledValueMap],
    fields: list[CompiledField],
    collections: list[CompiledCollection],
) -> str:
    def describe(field: CompiledField) -> dict[str, Any]:
        return {
            "source": field.source,
            "target": field.target,
            "transforms": [[t.definition.name, t.args.model_dump(mode="json")] for t in field.transforms],
            "default": field.default,
            "required": field.required,
            "on_error": field.on_error,
            "keep_empty": field.keep_empty,
            # Content rules change the output (truncation, dropped fields), so they are part of the hash.
            "rules": [field.rules.max_length, field.rules.format, field.rules.on_invalid] if field.rules else None,
            "fallbacks": [
                [fb.source, [[t.definition.name, t.args.model_dump(mode="json")] for t in fb.transforms]]
                for fb in field.fallbacks
            ],
        }

    document = {
        "version": merged.mapping.mapping_version,
        "entity": merged.mapping.entity,
        "direction": merged.mapping.direction,
        "variant": merged.mapping.variant,
        "fields": [describe(f) for f in fields],
        "collections": [
            {"source": c.source, "target": c.target, "key_by": c.key_by, "fields": [describe(f) for f in c.fields]}
            for c in collections
        ],
        "value_maps": {
            name: [dict(vm.entries), vm.has_default, vm.default, vm.case_insensitive]
            for name, vm in sorted(value_maps.items())
        },
    }
    encoded = json.dumps(document, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]
