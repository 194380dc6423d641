"""Plain value objects the state store returns; none of them holds a database handle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CachedToken:
    """An access token as the hooks cached it; the ciphertext is opaque here (the hooks encrypt it)."""

    # Kept out of repr so a logged CachedToken never carries even the encrypted token.
    access_token_ciphertext: str = field(repr=False)
    api_domain: str
    expires_at: datetime
    minted_at: datetime


@dataclass(frozen=True)
class RecordLink:
    """One row of the ID map: a Zoho record and the CS-Cart record it is synchronised with."""

    tenant: str
    entity: str
    zoho_id: str | None
    cscart_id: str | None
    natural_keys: dict[str, str]
    hash_to_cscart: str | None
    hash_to_zoho: str | None
    flags: frozenset[str]
    last_synced_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class PendingWrite:
    """A write that was started but not confirmed; a retry must look it up before creating anything."""

    tenant: str
    entity: str
    direction: str
    source_id: str
    run_id: str
    natural_key: str | None
    marked_at: datetime


@dataclass(frozen=True)
class QuarantineEntry:
    """A record that failed to sync; retried on later runs until resolved, and listed for operators."""

    tenant: str
    entity: str
    direction: str
    source_id: str
    reason: str
    stage: str
    field: str | None
    run_id: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    kind: str = "transient"
    """``content``: refused for its content, waits for its source to change (or an operator's retry);
    ``transient``: retried on every run; ``waiting``: waits for a prerequisite record, checked every run."""
    content_hash: str | None = None
    """Hash of the source content a ``content`` failure was refused with."""
    first_run_id: str | None = None
    """The run that opened this quarantine episode: in that run the failure is new."""


@dataclass(frozen=True)
class Backlog:
    """Unfinished work of a direction (see ``state/backlogs.py``): read from ``since`` until it is done."""

    since: datetime | None
    done: int
    total: int
    run_id: str
    updated_at: datetime


@dataclass(frozen=True)
class RunLease:
    """The run that holds (tenant, entity, direction) until it releases the lease or ``expires_at`` passes."""

    tenant: str
    entity: str
    direction: str
    run_id: str
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class LinkTally:
    """What the ID map says about one tenant and entity (counted in SQL, never by listing links)."""

    linked: int
    """Live links holding both ids: records that have their twin on the other side."""
    imported: int
    """Of ``linked``: pairs first linked by a Zoho -> CS-Cart write (created in, or adopted into, CS-Cart)."""


@dataclass(frozen=True)
class EntityCounts:
    """The seeds' six dashboard tiles for one tenant and entity (definitions in the README).

    None means unknown: no CS-Cart total could be read, or the Zoho side was never read in full.
    """

    cscart_total: int | None
    synced: int
    not_synced: int | None
    zoho_total: int | None
    not_in_cscart: int | None
    already_imported: int
    zoho_counted_run_id: str | None = None
    """The run whose full read of the Zoho side the Zoho total rests on."""
    zoho_counted_at: datetime | None = None
    """The end of that read's window: the Zoho total is as of then (plus this sync's own creates since)."""


@dataclass(frozen=True)
class RunCounts:
    """Dashboard counts stored with one run."""

    tenant: str
    entity: str
    run_id: str
    recorded_at: datetime
    counts: EntityCounts
