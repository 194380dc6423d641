"""What the load loop needs from a target system, whichever it is (CS-Cart users, Zoho CRM contacts...).

A writer is a thin adapter over a hook. It classifies failures: a problem with one record (the target
rejected the payload, e.g. HTTP 400 naming a field) is raised as :class:`RecordRejected` and quarantined by
the load loop, which then goes on with the next record; anything else (authentication, network, 5xx after the
hook's retries) propagates and fails the task, because it would fail every other record too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable


class RecordRejected(Exception):
    """The target refused this one record; ``field`` names the offending field when the target said so."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def linked_record_gone(what: str, target_id: str, id_field: str) -> RecordRejected:
    """The refusal of an update whose linked target record no longer exists (deleted in the target): the record
    waits for an operator, since creating it again silently could undo a deliberate deletion."""
    return RecordRejected(
        f"{what} {target_id} linked to this record no longer exists; reset the sync of this record to create it again",
        field=id_field,
    )


@runtime_checkable
class TargetWriter(Protocol):
    """Find, create and update records of one entity in one target system."""

    label: str
    """Endpoint prefix used in the report's API-call counts, e.g. ``cscart /api/users``."""

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        """Id of the target record whose natural key (e.g. e-mail) equals ``key_value``, else None.

        Must compare exactly (case-insensitively for e-mails): a substring match would link the wrong record.
        Raises :class:`RecordRejected` if several target records match (the loop will not guess).
        """
        ...

    def create(self, payload: Mapping[str, Any]) -> str:
        """Create a record; returns its new id."""
        ...

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        """Update an existing record."""
        ...


@runtime_checkable
class FindsCreatedRecords(Protocol):
    """A writer that can recognise, without a natural key, the record an interrupted create may have made."""

    def find_created(self, payload: Mapping[str, Any]) -> list[str]:
        """Ids of target records a create of ``payload`` would have made: the same identifying content (e.g. the
        exact name) and no natural key of their own. The load loop drops those already linked to another record
        and adopts the one left; several left are for an operator. Used only for an interrupted create of a
        record without natural key, so it may cost a list call."""
        ...


@dataclass(frozen=True)
class UpsertItem:
    """One record of a batch upsert; ``target_id`` is set when the link is already known."""

    source_id: str
    payload: Mapping[str, Any]
    target_id: str | None


@dataclass(frozen=True)
class UpsertOutcome:
    """Per-record result of a batch upsert, in the order of the items sent."""

    source_id: str
    action: Literal["created", "updated", "rejected"]
    target_id: str | None = None
    reason: str | None = None
    field: str | None = None


@runtime_checkable
class BatchUpsertWriter(TargetWriter, Protocol):
    """A target with a native upsert keyed on a natural key (Zoho CRM ``/upsert``, 100 records a call)."""

    max_batch_size: int

    def upsert_batch(self, items: Sequence[UpsertItem]) -> Sequence[UpsertOutcome]:
        """Create or update up to ``max_batch_size`` records in one call; one outcome per item."""
        ...


class SinglesThroughBatch:
    """``create`` / ``update`` of one record as a batch of one, for a :class:`BatchUpsertWriter` (the load loop
    writes single records when a batch is not possible: a retried or a resumed record)."""

    def upsert_batch(self, items: Sequence[UpsertItem]) -> Sequence[UpsertOutcome]:
        raise NotImplementedError

    def create(self, payload: Mapping[str, Any]) -> str:
        return self._one(UpsertItem("single", payload, None))

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        self._one(UpsertItem("single", payload, target_id))

    def _one(self, item: UpsertItem) -> str:
        outcome = self.upsert_batch([item])[0]
        if outcome.action == "rejected" or not outcome.target_id:
            raise RecordRejected(outcome.reason or "rejected by Zoho CRM", field=outcome.field)
        return outcome.target_id
