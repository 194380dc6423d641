"""What every transform receives besides the value: the whole record and the run context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from zoho_cscart_sync.mapping.value_maps import CompiledValueMap

#: ``resolve_id(entity, source_id) -> target id | None``; the load engine backs it with the state store's ID map.
IdResolver = Callable[[str, str], "str | None"]


class TransformArgs(BaseModel):
    """Base of every transform's typed arguments: unknown argument names are refused at load time."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(TransformArgs):
    """For transforms that take no arguments."""


@dataclass
class TransformContext:
    """Per-record context. ``record`` is the source record (or the current line item inside a collection)."""

    record: Mapping[str, Any]
    tenant: str | None
    source_id: str | None
    target_field: str
    value_maps: Mapping[str, CompiledValueMap]
    resolve_id: IdResolver | None = None
    flags: set[str] = field(default_factory=set)
    parent: Mapping[str, Any] | None = None
    """Inside a collection: the record the line item belongs to (the order); None outside one."""


def is_empty(value: Any) -> bool:
    """``None``, blank strings and empty containers count as "no value"; ``0`` and ``False`` do not."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (list, dict, tuple, set)):
        return len(value) == 0
    return False
