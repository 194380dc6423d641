"""What the console shows, read from the tenant files and the state store a page at a time.

Each section is one or two indexed queries (see ``state/console_reads.py``); nothing here lists a table to
count it or to page it, so a page costs the same with 300 or 272,028 links.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.state.conflicts import LostConflict
from zoho_cscart_sync.state.console_reads import FlaggedLink, QuarantineRow, RunTotals, TokenSnapshot, WatermarkRow
from zoho_cscart_sync.state.unlinked import UnlinkedRecord

log = logging.getLogger(__name__)

TILES = (
    ("cscart_total", "CS-Cart total"),
    ("synced", "Synced to Zoho"),
    ("not_synced", "Not synced"),
    ("zoho_total", "Zoho total"),
    ("not_in_cscart", "Not in CS-Cart"),
    ("already_imported", "Already imported"),
)
"""The seeds' six dashboard tiles, in their order (definitions: README "Dashboard counts")."""

NO_EMAIL_FLAG = "no_email"
NO_EMAIL_ENTITIES = frozenset({"customers"})
"""Entities whose links can carry the ``no_email`` placeholder flag."""
IMPORT_DIRECTION = "zoho_to_cscart"
"""The direction whose Zoho reads fill the "Not in CS-Cart" list and whose runs import from it."""
QUARANTINE_SORTS = ("key", "last_seen")
"""How the quarantine list is ordered: by key (direction, source id), or newest last seen first."""
MINT_WINDOW_MINUTES = 10
"""Zoho's token mint window (``auth/token_manager.MINT_WINDOW``)."""


@dataclass(frozen=True)
class Scope:
    """One tenant and entity the console shows: its DAG and the directions the tenant enables."""

    tenant: str
    display_name: str
    entity: str
    dag_id: str
    directions: tuple[str, ...]
    zoho_conn_id: str


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: int | None


@dataclass(frozen=True)
class TokenView:
    """A Zoho connection's token as an operator may see it: expiry and mints, never the token or a secret."""

    conn_id: str
    snapshot: TokenSnapshot | None
    problem: str | None = None


@dataclass
class EntityPage:
    """Everything the entity page renders."""

    scope: Scope
    tiles: list[Tile]
    counts_run_id: str | None
    counts_recorded_at: datetime | None
    zoho_basis: str
    quarantine: list[QuarantineRow]
    quarantine_counts: dict[tuple[str, str], int]
    quarantine_next: tuple[str, str] | None
    no_email: list[FlaggedLink] | None
    no_email_count: int | None
    no_email_next: int | None
    runs: list[RunTotals]
    runs_total: int
    runs_offset: int
    watermarks: list[WatermarkRow]
    conflicts: list[LostConflict] = field(default_factory=list)
    conflicts_total: int = 0
    conflicts_next: tuple[str, str] | None = None
    token: TokenView | None = None
    quarantine_sort: str = "key"
    quarantine_next_recent: tuple[datetime, str, str] | None = None
    unlinked: list[UnlinkedRecord] | None = None
    unlinked_total: int | None = None
    unlinked_next: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def quarantine_total(self) -> int:
        return sum(self.quarantine_counts.values())


def load_scopes(tenants_dir: Path) -> list[Scope]:
    """Every (tenant, entity) with a DAG, from the tenant files (the same rule as the DAG factory)."""
    from zoho_cscart_sync.dag_factory import dag_id_for
    from zoho_cscart_sync.pipeline import PIPELINES
    from zoho_cscart_sync.tenants import iter_tenants

    scopes: list[Scope] = []
    for result in iter_tenants(tenants_dir):
        config = result.config
        if config is None:
            continue
        for entity, entity_config in sorted(config.entities.items()):
            if entity not in PIPELINES or not entity_config.enabled:
                continue
            scopes.append(
                Scope(
                    tenant=config.tenant_id,
                    display_name=config.display_name or config.tenant_id,
                    entity=entity,
                    dag_id=dag_id_for(config.tenant_id, entity),
                    directions=tuple(entity_config.directions),
                    zoho_conn_id=config.zoho_conn_id,
                )
            )
    return scopes


def tiles_of(store: StateStore, scope: Scope) -> tuple[list[Tile], Any]:
    """The six tiles from the latest stored run counts (None values: unknown or no run yet)."""
    latest = store.latest_run_counts(scope.tenant, scope.entity)
    counts = latest.counts if latest is not None else None
    return [Tile(key, label, getattr(counts, key) if counts is not None else None) for key, label in TILES], latest


def zoho_basis(latest: Any) -> str:
    """Which full read of Zoho the Zoho total rests on (README "Dashboard counts")."""
    if latest is None:
        return "no run has stored counts yet"
    counts = latest.counts
    if counts.zoho_total is None:
        return "Zoho never read in full: run once with full_refresh"
    if counts.zoho_counted_run_id == latest.run_id:
        return "Zoho total counted in this run"
    when = counts.zoho_counted_at.isoformat() if counts.zoho_counted_at else "?"
    return f"Zoho total as of run {counts.zoho_counted_run_id} ({when}), plus this sync's creates since"


def entity_page(
    store: StateStore,
    scope: Scope,
    *,
    page_size: int,
    quarantine_direction: str | None = None,
    quarantine_after: tuple[str, str] | None = None,
    no_email_after: int = 0,
    runs_offset: int = 0,
    runs_page_size: int = 20,
    conflicts_after: tuple[str, str] | None = None,
    token: Callable[[str], TokenView] | None = None,
    quarantine_sort: str = "key",
    quarantine_before: tuple[datetime, str, str] | None = None,
    unlinked_after: str | None = None,
) -> EntityPage:
    """Read one page of every section of ``scope``: tiles, quarantine (by key, or newest last seen first after
    ``quarantine_before``), Zoho records not in CS-Cart, no-e-mail, runs, watermarks, lost conflicts, token."""
    tiles, latest = tiles_of(store, scope)
    quarantine_next: tuple[str, str] | None = None
    quarantine_next_recent: tuple[datetime, str, str] | None = None
    if quarantine_sort == "last_seen":
        rows = store.quarantine_recent_page(
            scope.tenant, scope.entity, direction=quarantine_direction, before=quarantine_before, limit=page_size + 1
        )
        if len(rows) > page_size:
            last = rows[page_size - 1]
            quarantine_next_recent = (last.last_seen, last.direction, last.source_id)
    else:
        rows = store.quarantine_page(
            scope.tenant, scope.entity, direction=quarantine_direction, after=quarantine_after, limit=page_size + 1
        )
        if len(rows) > page_size:
            quarantine_next = (rows[page_size - 1].direction, rows[page_size - 1].source_id)
    unlinked: list[UnlinkedRecord] | None = None
    unlinked_total: int | None = None
    unlinked_next: str | None = None
    if IMPORT_DIRECTION in scope.directions:
        listed = store.unlinked_page(scope.tenant, scope.entity, after=unlinked_after, limit=page_size + 1)
        unlinked_next = listed[page_size - 1].zoho_id if len(listed) > page_size else None
        unlinked = listed[:page_size]
        unlinked_total = store.count_unlinked(scope.tenant, scope.entity)
    no_email = no_email_count = no_email_next = None
    if scope.entity in NO_EMAIL_ENTITIES:
        flagged = store.flagged_links_page(
            scope.tenant, scope.entity, NO_EMAIL_FLAG, after_id=no_email_after, limit=page_size + 1
        )
        no_email_next = flagged[page_size - 1].link_id if len(flagged) > page_size else None
        no_email = flagged[:page_size]
        no_email_count = store.count_flagged_links(scope.tenant, scope.entity, NO_EMAIL_FLAG)
    lost = store.lost_conflicts_page(scope.tenant, scope.entity, after=conflicts_after, limit=page_size + 1)
    conflicts_next = (lost[page_size - 1].direction, lost[page_size - 1].source_id) if len(lost) > page_size else None
    return EntityPage(
        scope=scope,
        tiles=tiles,
        counts_run_id=latest.run_id if latest is not None else None,
        counts_recorded_at=latest.recorded_at if latest is not None else None,
        zoho_basis=zoho_basis(latest),
        quarantine=rows[:page_size],
        quarantine_counts=store.quarantine_counts(scope.tenant, scope.entity),
        quarantine_next=quarantine_next,
        no_email=no_email,
        no_email_count=no_email_count,
        no_email_next=no_email_next,
        runs=store.run_totals_page(scope.tenant, scope.entity, offset=runs_offset, limit=runs_page_size),
        runs_total=store.count_runs(scope.tenant, scope.entity),
        runs_offset=runs_offset,
        watermarks=store.list_watermarks(scope.tenant, scope.entity),
        conflicts=lost[:page_size],
        conflicts_total=store.count_lost_conflicts(scope.tenant, scope.entity),
        conflicts_next=conflicts_next,
        token=token(scope.zoho_conn_id) if token is not None else None,
        quarantine_sort=quarantine_sort,
        quarantine_next_recent=quarantine_next_recent,
        unlinked=unlinked,
        unlinked_total=unlinked_total,
        unlinked_next=unlinked_next,
    )


def connection_token_key(conn_id: str) -> str:
    """The token-cache key of a Zoho connection (a salted hash of its credentials; the credentials stay here).

    Runs in the api-server, which may read Connections (tasks may not touch the metadata DB; the api-server is
    Airflow's own server and reads them through its secrets backends).
    """
    from airflow.models.connection import Connection

    from zoho_cscart_sync.auth.token_manager import credentials_fingerprint
    from zoho_cscart_sync.hooks.config import ZohoConnectionConfig

    config = ZohoConnectionConfig.from_connection(Connection.get_connection_from_secrets(conn_id))
    return credentials_fingerprint(config.accounts_url, config.client_id, config.client_secret, config.refresh_token)


def token_view(store: StateStore, conn_id: str, key_for: Callable[[str], str] = connection_token_key) -> TokenView:
    """Expiry and mints in Zoho's current window for the connection; a problem text instead of raising."""
    from datetime import timedelta

    try:
        key = key_for(conn_id)
    except Exception as exc:  # noqa: BLE001 - any lookup failure is shown, by type only (no secret in it)
        log.info("console: no token status for connection %r: %s", conn_id, type(exc).__name__)
        return TokenView(conn_id, None, f"connection unavailable ({type(exc).__name__})")
    return TokenView(conn_id, store.token_snapshot(key, timedelta(minutes=MINT_WINDOW_MINUTES)))
