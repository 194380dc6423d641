"""What the load loop consumes: one mapped record (the direction vocabulary lives in ``directions.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.directions import System as SystemName

System = SystemName


def direction_sides(direction: str | Direction) -> Direction:
    """Resolve ``zoho_to_cscart`` / ``cscart_to_zoho``: a :class:`Direction` knows its two sides."""
    return Direction.parse(direction)


@dataclass(frozen=True)
class MappedRecord:
    """One source record after mapping: the payload to send and what identifies it.

    ``natural_keys`` (e.g. ``{"email": "a@b.c"}``) find the record in the target when no link exists yet.
    ``flags`` (e.g. ``no_email``) are stored on the link and counted in the report. A record with a
    ``skip_reason`` is counted as skipped and never written (e.g. the mapping decided it is out of scope).
    """

    source_id: str
    payload: dict[str, Any]
    natural_keys: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    skip_reason: str | None = None
    source_hash: str | None = None
    """Hash of the source record it was mapped from: a record refused for its content waits until it changes."""
    actions: dict[str, Any] = field(default_factory=dict)
    """Target fields set by a call of their own, not in the payload (an Inventory item's ``status``: mark
    active / inactive); the load loop has the writer apply them after the write, and they count in its hash."""

    def to_staged(self) -> dict[str, Any]:
        """The JSON-serialisable form written to staging by the map stage."""
        staged: dict[str, Any] = {"source_id": self.source_id, "payload": self.payload}
        if self.natural_keys:
            staged["natural_keys"] = self.natural_keys
        if self.flags:
            staged["flags"] = sorted(self.flags)
        if self.skip_reason:
            staged["skip_reason"] = self.skip_reason
        if self.source_hash:
            staged["source_hash"] = self.source_hash
        if self.actions:
            staged["actions"] = self.actions
        return staged

    @classmethod
    def from_staged(cls, staged: Mapping[str, Any]) -> MappedRecord:
        """Inverse of :meth:`to_staged`; a malformed staged record names the missing field."""
        for required in ("source_id", "payload"):
            if required not in staged:
                raise ValueError(f"staged mapped record lacks {required!r}: keys are {sorted(staged)}")
        return cls(
            source_id=str(staged["source_id"]),
            payload=dict(staged["payload"]),
            natural_keys={str(k): str(v) for k, v in (staged.get("natural_keys") or {}).items()},
            flags=frozenset(staged.get("flags") or ()),
            skip_reason=staged.get("skip_reason"),
            source_hash=staged.get("source_hash"),
            actions=dict(staged.get("actions") or {}),
        )
