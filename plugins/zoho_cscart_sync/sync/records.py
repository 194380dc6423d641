"""What the load loop consumes: one mapped record, and the two sides of a sync direction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

System = Literal["zoho", "cscart"]


@dataclass(frozen=True)
class DirectionSides:
    """Which system a direction reads from and which it writes into, in the ID map's vocabulary."""

    direction: str
    source: System
    target: System

    @property
    def source_id_field(self) -> str:
        """RecordLink attribute holding the source record's id (``zoho_id`` or ``cscart_id``)."""
        return f"{self.source}_id"

    @property
    def target_id_field(self) -> str:
        return f"{self.target}_id"

    @property
    def target_hash_field(self) -> str:
        """RecordLink attribute holding the hash of what we last wrote into the target."""
        return f"hash_to_{self.target}"


_DIRECTIONS: dict[str, DirectionSides] = {
    "zoho_to_cscart": DirectionSides("zoho_to_cscart", source="zoho", target="cscart"),
    "cscart_to_zoho": DirectionSides("cscart_to_zoho", source="cscart", target="zoho"),
}


def direction_sides(direction: str) -> DirectionSides:
    """Resolve ``zoho_to_cscart`` / ``cscart_to_zoho``; anything else is a programming error."""
    try:
        return _DIRECTIONS[direction]
    except KeyError:
        raise ValueError(f"unknown sync direction {direction!r}; expected one of {sorted(_DIRECTIONS)}") from None


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

    def to_staged(self) -> dict[str, Any]:
        """The JSON-serialisable form written to staging by the map stage."""
        staged: dict[str, Any] = {"source_id": self.source_id, "payload": self.payload}
        if self.natural_keys:
            staged["natural_keys"] = self.natural_keys
        if self.flags:
            staged["flags"] = sorted(self.flags)
        if self.skip_reason:
            staged["skip_reason"] = self.skip_reason
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
        )
