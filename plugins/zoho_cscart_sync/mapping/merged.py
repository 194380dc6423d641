"""A mapping file after tenant overrides: entries remember where they came from, for error messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from zoho_cscart_sync.mapping.schema import FieldMapping, MappingFile, ValueMapPatch


@dataclass(frozen=True)
class Located:
    """A field entry with where it came from (shipped file or tenant override) for error messages."""

    entry: FieldMapping
    file: str
    path: str

    def label(self) -> str:
        entry = self.entry
        name = f"target {entry.target!r}" if entry.target else f"source {entry.source!r}"
        return f"{self.path} ({name})"


@dataclass(frozen=True)
class MergedMapping:
    """A mapping file after tenant overrides, before validation against catalogues."""

    mapping: MappingFile
    file: str
    fields: list[Located]
    collection_fields: list[list[Located]]
    value_map_patches: Mapping[str, ValueMapPatch]
    patch_label: str
