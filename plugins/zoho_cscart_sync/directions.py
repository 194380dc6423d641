"""The sync direction vocabulary, defined once for the whole package.

A *direction* says which system a sync reads from and which it writes into. Tenant files, mapping files,
the state store, the trigger form, the DAG factory and the sync kit all import it from here. This module is
imported at DAG-parse time: it must stay dependency-free.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

System = Literal["zoho", "cscart"]
"""The two sides of every sync, in the ID map's vocabulary (``zoho_id`` / ``cscart_id``)."""

DirectionName = Literal["zoho_to_cscart", "cscart_to_zoho"]
"""The wire spelling of a direction, for pydantic models and typed dicts."""

SYSTEM_LABELS: dict[System, str] = {"zoho": "Zoho", "cscart": "CS-Cart"}
"""How logs, the DAG docs and the run report name each system."""

BOTH = "both"
"""Tenant-file spelling of "every direction" (``entities.<entity>.direction: both``); Zoho -> CS-Cart runs first."""

CONFIGURED = "configured"
"""Trigger-form spelling of "the directions the tenant file enables" (the ``direction`` run parameter)."""


class Direction(str, Enum):
    """One way a record flows. Its value is what tenant files, XCom and the state store spell."""

    ZOHO_TO_CSCART = "zoho_to_cscart"
    CSCART_TO_ZOHO = "cscart_to_zoho"

    @property
    def source(self) -> System:
        """The system this direction reads from."""
        return "zoho" if self is Direction.ZOHO_TO_CSCART else "cscart"

    @property
    def target(self) -> System:
        """The system this direction writes into."""
        return "cscart" if self is Direction.ZOHO_TO_CSCART else "zoho"

    @property
    def opposite(self) -> Direction:
        return Direction.CSCART_TO_ZOHO if self is Direction.ZOHO_TO_CSCART else Direction.ZOHO_TO_CSCART

    @property
    def label(self) -> str:
        """Human spelling for documentation and logs, e.g. ``Zoho -> CS-Cart``."""
        return f"{SYSTEM_LABELS[self.source]} -> {SYSTEM_LABELS[self.target]}"

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

    @property
    def source_hash_field(self) -> str:
        """RecordLink attribute holding the echo hash: what the opposite direction will read back."""
        return f"hash_to_{self.source}"

    @classmethod
    def parse(cls, value: str | Direction) -> Direction:
        """``value`` as a Direction; anything else raises ValueError naming the allowed values."""
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown sync direction {value!r}; expected one of {', '.join(DIRECTIONS)}") from None

    def __str__(self) -> str:
        return self.value


DIRECTIONS: tuple[str, ...] = tuple(direction.value for direction in Direction)
"""Every concrete direction, in execution order: Zoho -> CS-Cart runs first on a two-way tenant."""
