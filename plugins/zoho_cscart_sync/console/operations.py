"""The operator actions, shared by the console (``app.py``) and the CLI (``cli.py status|quarantine|retry|reset``).

One place decides what a run asks for (``run_conf``), which ids "retry quarantined" sends (``retry_ids``), which
"import selected" sends (``import_ids``), how a quarantine row and a page cursor are spelt (``quarantine_item``,
``cursor_of`` / ``parse_cursor``, ``recent_cursor_of`` / ``parse_recent_cursor``) and how "reset
synchronisation" is guarded (``reset_scope``: refused while a run holds one of the scope's leases). The console
turns :class:`OperationError` into its HTTP status, the CLI into a message and an exit code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from zoho_cscart_sync.console.views import Scope
from zoho_cscart_sync.state import RunLease, StateStore
from zoho_cscart_sync.state.conflicts import LostConflict
from zoho_cscart_sync.state.console_reads import QuarantineRow
from zoho_cscart_sync.state.unlinked import UnlinkedRecord

RETRY_LIMIT = 1000
"""Record ids one "retry quarantined" puts in a run (the oldest ids first; scheduled runs retry them all)."""
MAX_RECORD_IDS = 1000
"""Record ids one run may be asked for (console form, CLI ``--ids``)."""
IMPORT_DIRECTION = "zoho_to_cscart"
""""Import selected" runs the Zoho -> CS-Cart direction for Zoho record ids."""
RESET_DOES = (
    "content hashes and watermarks cleared, open quarantine closed, backlog forgotten, ID map kept. "
    "The next run re-sends everything."
)


class OperationError(Exception):
    """An action refused; ``status`` is the HTTP status the console answers (400, 404, 409)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ResetRefused(OperationError):
    """A run holds one of the scope's leases: resetting now would race its writes."""

    def __init__(self, detail: str, leases: Sequence[RunLease]) -> None:
        super().__init__(409, detail)
        self.leases = list(leases)


def find_scope(scopes: Iterable[Scope], tenant: str, entity: str) -> Scope:
    """The scope of (tenant, entity); :class:`OperationError` 404 naming both (and what the tenant has) otherwise."""
    of_tenant = [scope for scope in scopes if scope.tenant == tenant]
    for scope in of_tenant:
        if scope.entity == entity:
            return scope
    if not of_tenant:
        raise OperationError(404, f"No tenant {tenant!r} with entity {entity!r}: no valid tenant file for {tenant!r}")
    enabled = ", ".join(scope.entity for scope in of_tenant)
    raise OperationError(404, f"No tenant {tenant!r} with entity {entity!r} (its enabled entities: {enabled})")


def require_direction(scope: Scope, direction: str) -> str:
    """``direction`` if the scope's tenant enables it, else :class:`OperationError` 400."""
    if direction not in scope.directions:
        raise OperationError(
            400,
            f"{direction!r} is not a direction of {scope.tenant}/{scope.entity} "
            f"(its directions: {', '.join(scope.directions)})",
        )
    return direction


def run_conf(scope: Scope, direction: str, record_ids: Sequence[str]) -> dict[str, Any]:
    """The run conf that syncs ``record_ids`` of ``direction``; ``direction`` only on two-way DAGs (a one-way DAG's
    ``direction`` parameter takes ``configured`` only)."""
    conf: dict[str, Any] = {"record_ids": list(record_ids)}
    if len(scope.directions) > 1:
        conf["direction"] = direction
    return conf


def check_record_ids(scope: Scope, ids: Sequence[str]) -> list[str]:
    """Deduplicated ids (order kept); :class:`OperationError` 400 past :data:`MAX_RECORD_IDS`."""
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_RECORD_IDS:
        raise OperationError(
            400, f"At most {MAX_RECORD_IDS} record ids per run ({scope.tenant}/{scope.entity}: {len(unique)} given)"
        )
    return unique


def retry_ids(
    store: StateStore, scope: Scope, direction: str, selected: Sequence[str] | None = None, *, limit: int = RETRY_LIMIT
) -> list[str]:
    """What "retry quarantined" sends for ``direction``: of ``selected``, those still quarantined; without a
    selection, the open entries in key order, ``limit`` at most."""
    require_direction(scope, direction)
    if selected:
        return store.open_quarantine_ids(scope.tenant, scope.entity, direction, selected)
    rows = store.quarantine_page(scope.tenant, scope.entity, direction=direction, limit=limit)
    return [row.source_id for row in rows]


def import_ids(store: StateStore, scope: Scope, selected: Sequence[str]) -> list[str]:
    """What "Import selected" sends: of the Zoho ids ``selected`` (deduplicated, at most :data:`MAX_RECORD_IDS`),
    those still listed as not in CS-Cart. :class:`OperationError` 400 when the tenant does not run Zoho -> CS-Cart
    for the entity (no Zoho record is read, nothing can be imported)."""
    if IMPORT_DIRECTION not in scope.directions:
        raise OperationError(
            400,
            f"{scope.tenant}/{scope.entity} does not sync {IMPORT_DIRECTION} (its directions: "
            f"{', '.join(scope.directions)}): nothing can be imported from Zoho",
        )
    ids = check_record_ids(scope, selected)
    return store.listed_unlinked_ids(scope.tenant, scope.entity, ids)


def unlinked_item(row: UnlinkedRecord) -> dict[str, Any]:
    """One Zoho record not in CS-Cart as the console's JSON and the CLI's ``--json`` show it."""
    return {
        "zoho_id": row.zoho_id,
        "stream": row.stream,
        "label": row.label,
        "reason": row.reason,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
        "run_id": row.run_id,
    }


def recent_cursor_of(row: QuarantineRow) -> str:
    """The cursor after ``row`` in the newest-last-seen order: ``last_seen|direction:source_id``."""
    return f"{row.last_seen.isoformat()}|{row.direction}:{row.source_id}"


def parse_recent_cursor(cursor: str) -> tuple[datetime, str, str]:
    """``last_seen|direction:source_id`` back into the key :meth:`StateStore.quarantine_recent_page` pages after."""
    seen, sep, key = cursor.partition("|")
    try:
        when = datetime.fromisoformat(seen)
    except ValueError:
        when = None
    if not sep or when is None or when.tzinfo is None:
        raise OperationError(400, f"Bad cursor {cursor!r}: expected last_seen|direction:source_id")
    direction, source_id = parse_cursor(key)
    return when, direction, source_id


def quarantine_item(row: QuarantineRow) -> dict[str, Any]:
    """One open quarantine entry as the console's JSON and the CLI's ``--json`` show it."""
    return {
        "direction": row.direction,
        "source_id": row.source_id,
        "kind": row.kind,
        "reason": row.reason,
        "field": row.field,
        "attempts": row.attempts,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
    }


def cursor_of(row: QuarantineRow) -> str:
    """The keyset cursor after ``row``: ``direction:source_id`` (as the console's record checkboxes spell it)."""
    return f"{row.direction}:{row.source_id}"


def parse_cursor(cursor: str) -> tuple[str, str]:
    """``direction:source_id`` back into the key :meth:`StateStore.quarantine_page` pages after."""
    direction, sep, source_id = cursor.partition(":")
    if not sep or not direction or not source_id:
        raise OperationError(400, f"Bad cursor {cursor!r}: expected direction:source_id")
    return direction, source_id


def conflict_item(row: LostConflict) -> dict[str, Any]:
    """One lost conflict as the console's JSON and the CLI's ``--json`` show it: the losing change (``direction``,
    ``source_id``), the master's copy (``target_id``) and the run that decided it last."""
    return {
        "direction": row.direction,
        "source_id": row.source_id,
        "target_id": row.target_id,
        "master": row.master,
        "run_id": row.run_id,
        "decided_at": row.decided_at.isoformat(),
        "occurrences": row.occurrences,
    }


def conflict_cursor(row: LostConflict) -> str:
    """The keyset cursor after a lost conflict: ``direction:source_id`` (read back by :func:`parse_cursor`)."""
    return f"{row.direction}:{row.source_id}"


def live_leases(store: StateStore, scope: Scope) -> list[RunLease]:
    """The runs holding one of the scope's directions right now (unexpired leases)."""
    return [lease for lease in store.live_run_leases(scope.tenant, scope.entity) if lease.direction in scope.directions]


def reset_scope(store: StateStore, scope: Scope) -> str:
    """``StateStore.reset_sync`` of the scope, refused (:class:`ResetRefused`) while a run holds one of its leases;
    returns what was done, for the operator."""
    held = live_leases(store, scope)
    if held:
        lease = held[0]
        raise ResetRefused(
            f"Run {lease.run_id} is syncing {lease.direction} of {scope.tenant}/{scope.entity} now "
            f"(lease until {lease.expires_at.isoformat()}): reset after it ends",
            held,
        )
    store.reset_sync(scope.tenant, scope.entity)
    return f"Synchronisation of {scope.tenant}/{scope.entity} reset: {RESET_DOES}"
