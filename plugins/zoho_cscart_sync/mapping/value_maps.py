"""Compiled value maps: shipped entries, tenant ``defaults`` and tenant override patches layered in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zoho_cscart_sync.mapping.schema import ScalarValue, ValueMapPatch, ValueMapSpec


@dataclass(frozen=True)
class CompiledValueMap:
    name: str
    entries: Mapping[str, ScalarValue]
    case_insensitive: bool = False
    has_default: bool = False
    default: ScalarValue = None
    #: Where each entry came from: ``shipped``, ``tenant`` (tenant defaults) or ``override``.
    origins: Mapping[str, str] = field(default_factory=dict, repr=False)
    _folded: Mapping[str, ScalarValue] = field(default_factory=dict, repr=False)

    def lookup(self, value: Any) -> tuple[bool, ScalarValue]:
        """``(found, mapped)``; falls back to the table default when it has one."""
        found, mapped = self.lookup_entry(value)
        if found:
            return found, mapped
        if self.has_default:
            return True, self.default
        return False, None

    def lookup_entry(self, value: Any) -> tuple[bool, ScalarValue]:
        """``(found, mapped)`` from the entries only: the table default does not apply."""
        key = _key(value)
        if key in self.entries:
            return True, self.entries[key]
        if self.case_insensitive and key.casefold() in self._folded:
            return True, self._folded[key.casefold()]
        return False, None

    def known_keys(self) -> list[str]:
        return sorted(self.entries)


def _key(value: Any) -> str:
    # CS-Cart sends ids and flags as strings, Zoho sometimes as numbers or booleans: compare as text.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def compile_value_map(
    name: str,
    spec: ValueMapSpec,
    *,
    tenant_entries: Mapping[str, Any] | None = None,
    patch: ValueMapPatch | None = None,
) -> CompiledValueMap:
    """Shipped ``spec`` <- tenant ``defaults[spec.tenant_key]`` <- tenant override ``patch``."""
    entries: dict[str, ScalarValue] = dict(spec.entries)
    origins = dict.fromkeys(entries, "shipped")
    if tenant_entries:
        entries.update({_key(key): value for key, value in tenant_entries.items()})
        origins.update(dict.fromkeys((_key(key) for key in tenant_entries), "tenant"))
    has_default, default = spec.has_default, spec.default
    if patch is not None:
        if patch.replace:
            entries, origins = {}, {}
        entries.update({_key(key): value for key, value in patch.entries.items()})
        origins.update(dict.fromkeys((_key(key) for key in patch.entries), "override"))
        if patch.has_default:
            has_default, default = True, patch.default
    folded = {key.casefold(): value for key, value in entries.items()} if spec.case_insensitive else {}
    return CompiledValueMap(
        name=name,
        entries=entries,
        case_insensitive=spec.case_insensitive,
        has_default=has_default,
        default=default,
        origins=origins,
        _folded=folded,
    )
