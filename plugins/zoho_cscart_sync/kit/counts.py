"""Dashboard counts: the seeds' six tiles per tenant and entity, computed once per run by the report task.

The tiles (definitions in the README's "Dashboard counts"):

* **CS-Cart total** — the CS-Cart stream's list size in the tenant's scope (``params.total_items``). The CS-Cart
  -> Zoho extract reads that list's first page anyway and the total comes with it; only a run without that
  read (one-way tenants, ``direction=zoho_to_cscart``, ``record_ids``) spends one call of one row on it.
* **synced** / **already imported** — one ``COUNT`` over the ID map (``StateStore.link_tally``).
* **Zoho total** — no Zoho Inventory list returns a total (``page_context`` has ``has_more_page`` only), and
  counting 272k items by paging costs 1,360 calls, so it is counted when the Zoho -> CS-Cart direction reads
  its streams in full (``full_refresh``, or a first run without ``start_date``) and carried from run to run
  with the run and time of that read, plus the records this sync created in Zoho since. It never drops below
  the number of linked pairs (each holds a Zoho record the sync has seen).
* **not synced**, **not in CS-Cart** — the totals minus the linked pairs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.kit.spec import CountsSpec
from zoho_cscart_sync.state.models import EntityCounts
from zoho_cscart_sync.sync.report import COUNT_TILES

if TYPE_CHECKING:
    from zoho_cscart_sync.state import StateStore
    from zoho_cscart_sync.windows import RunWindow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectionOutcome:
    """What one direction of the run left for the counts: its window, its extract's and its load's results."""

    window: RunWindow
    extracted: Mapping[str, Any] | None
    loaded: Mapping[str, Any] | None

    @property
    def succeeded(self) -> bool:
        return bool(self.loaded) and not (self.loaded or {}).get("failed_run")

    def totals(self, kind: str) -> Mapping[str, int] | None:
        """``listed`` (list sizes the source reported) or ``read_in_full`` (records read by a full read)."""
        found = ((self.extracted or {}).get("source_totals") or {}).get(kind)
        return found if isinstance(found, Mapping) else None


def entity_counts(
    declared: CountsSpec,
    *,
    tenant: str,
    entity: str,
    run_id: str,
    dry_run: bool,
    outcomes: Mapping[str, DirectionOutcome],
    store: StateStore,
    count_cscart: Callable[[], int | None],
) -> EntityCounts:
    """The six tiles after this run.

    ``outcomes`` holds the directions the run executed; ``count_cscart`` is called only when no CS-Cart -> Zoho
    read of this run reported the list size. A dry run wrote nothing, so it adds no records of its own.
    """
    to_zoho = outcomes.get(Direction.CSCART_TO_ZOHO.value)
    from_zoho = outcomes.get(Direction.ZOHO_TO_CSCART.value)

    cscart_total = (to_zoho.totals("listed") or {}).get(declared.cscart_stream) if to_zoho else None
    if cscart_total is None:
        cscart_total = count_cscart()

    tally = store.link_tally(tenant, entity)
    # Records this run created in Zoho (the entity's own target; adopted ones were there already).
    created_in_zoho = 0
    if to_zoho is not None and to_zoho.succeeded and not dry_run:
        created_in_zoho = int(((to_zoho.loaded or {}).get("report") or {}).get("created") or 0)

    zoho_total: int | None = None
    counted_run_id: str | None = None
    counted_at: datetime | None = None
    read_in_full = from_zoho.totals("read_in_full") if from_zoho is not None and from_zoho.succeeded else None
    # A full read names every stream the tenant's settings switch on (a declared stream that is switched off,
    # such as Books' sales orders beside Inventory's, is not among them).
    counted = [name for name in declared.zoho_streams if name in (read_in_full or {})]
    if from_zoho is not None and read_in_full is not None and counted:
        # Zoho -> CS-Cart runs first: what CS-Cart -> Zoho created afterwards is not in that read.
        zoho_total = sum(int(read_in_full[name]) for name in counted) + created_in_zoho
        counted_run_id, counted_at = run_id, from_zoho.window.until
    else:
        previous = store.list_run_counts(tenant, entity, limit=1, exclude_run_id=run_id)
        before = previous[0].counts if previous else None
        if before is not None and before.zoho_total is not None:
            zoho_total = before.zoho_total + created_in_zoho
            counted_run_id, counted_at = before.zoho_counted_run_id, before.zoho_counted_at
    if zoho_total is not None and zoho_total < tally.linked:
        # Records created in Zoho by people since the last full read and imported since: at least the linked ones.
        zoho_total = tally.linked

    return EntityCounts(
        cscart_total=cscart_total,
        synced=tally.linked,
        # A CS-Cart record deleted since it was linked still has its link (CS-Cart has no deleted feed).
        not_synced=None if cscart_total is None else max(cscart_total - tally.linked, 0),
        zoho_total=zoho_total,
        not_in_cscart=None if zoho_total is None else zoho_total - tally.linked,
        already_imported=tally.imported,
        zoho_counted_run_id=counted_run_id,
        zoho_counted_at=counted_at,
    )


def counts_summary(counts: EntityCounts, api_calls: Mapping[str, int]) -> dict[str, Any]:
    """The counts as the report task's XCom carries them (JSON values) and the run report prints them."""
    summary: dict[str, Any] = {name: getattr(counts, name) for name in COUNT_TILES}
    summary["zoho_counted_run_id"] = counts.zoho_counted_run_id
    summary["zoho_counted_at"] = counts.zoho_counted_at.isoformat() if counts.zoho_counted_at else None
    summary["api_calls"] = dict(api_calls)
    return summary
