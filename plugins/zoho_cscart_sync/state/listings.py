"""Operator listings: quarantined records and customers without an e-mail, as plain rows of strings.

The CLI and the run report render these; keeping them as rows (column order in the *_COLUMNS tuples)
lets each caller choose a table, CSV or JSON without touching the store.
"""

from __future__ import annotations

from datetime import datetime

from zoho_cscart_sync.state.store import StateStore

NO_EMAIL_FLAG = "no_email"

QUARANTINE_COLUMNS = (
    "tenant",
    "entity",
    "direction",
    "source_id",
    "stage",
    "field",
    "reason",
    "attempts",
    "first_seen",
    "last_seen",
    "resolved_at",
)

FLAGGED_LINK_COLUMNS = ("tenant", "entity", "zoho_id", "cscart_id", "flags", "last_synced_at")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def quarantine_rows(
    store: StateStore,
    *,
    tenant: str | None = None,
    entity: str | None = None,
    direction: str | None = None,
    include_resolved: bool = False,
) -> list[dict[str, str]]:
    """One row per quarantined record (open ones only unless ``include_resolved``)."""
    return [
        {column: _text(getattr(entry, column)) for column in QUARANTINE_COLUMNS}
        for entry in store.list_quarantine(tenant, entity, direction, include_resolved)
    ]


def flagged_link_rows(store: StateStore, tenant: str, entity: str, flag: str) -> list[dict[str, str]]:
    """One row per live link of the pair carrying ``flag`` (deleted records are left out)."""
    return [
        {
            "tenant": link.tenant,
            "entity": link.entity,
            "zoho_id": _text(link.zoho_id),
            "cscart_id": _text(link.cscart_id),
            "flags": ",".join(sorted(link.flags)),
            "last_synced_at": _text(link.last_synced_at),
        }
        for link in store.list_links(tenant, entity, flag=flag)
        if link.deleted_at is None
    ]


def no_email_rows(store: StateStore, tenant: str, entity: str = "customers") -> list[dict[str, str]]:
    """Customers synced without an e-mail address (they cannot be matched by e-mail; an operator should
    add one on either side)."""
    return flagged_link_rows(store, tenant, entity, NO_EMAIL_FLAG)
