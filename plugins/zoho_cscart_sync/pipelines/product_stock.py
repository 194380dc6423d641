"""Stock from CS-Cart to Zoho Inventory, for tenants whose stock master is CS-Cart (``stock_master: cscart``).

CS-Cart moves stock when orders are placed or change status without touching ``updated_timestamp``, so a
product's stock movement is invisible to the CS-Cart -> Zoho product window. Stock is therefore read from
three places and pushed as Inventory *quantity adjustments* (Inventory never takes stock in an item edit):

1. the products the run's window already read (edited products);
2. the products of the orders changed in the window (``GET /api/orders?updated_at_from/to``, then
   ``GET /api/products?order_ids=...``: one call per 50 orders);
3. every product, in the periodic full reconciliation (``stock_reconcile_hours``, default 24; its own
   watermark, entity ``products_stock``, dated by the run's window, never by the clock).

With stock master Zoho, stock moves the other way only: with every item write (the mapping's ``amount``), and in
*stock-only* runs (the ``stock_only`` trigger param) by :func:`push_cscart_stock`, which sets ``amount`` alone.

For 1 and 2 the Inventory stock of each linked goods item is read (one call each, few per hour); the
reconciliation reads the whole item list (200 a call) instead. The difference becomes one line of an
adjustment (100 lines a call), dated the window's end. An adjustment whose answer is lost is not retried: the
next run recomputes the difference from Inventory's actual stock, so nothing is adjusted twice.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.http.errors import AmbiguousWriteError, FatalApiError, RetryableApiError
from zoho_cscart_sync.pipelines.product_writers import LEAN_PRODUCT_LIST
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.staging import StagedRef, read_staged_records

if TYPE_CHECKING:
    from zoho_cscart_sync.kit.context import EntityRun

log = logging.getLogger(__name__)

STOCK_ENTITY = "products_stock"
"""Watermark key of the full stock reconciliation (its last run)."""
ORDER_IDS_PER_CALL = 50
LINES_PER_ADJUSTMENT = 100
LINK_BATCH = 200
ADJUSTMENT_REASON = "Stock synchronised from CS-Cart"


def reconciliation_due(run: EntityRun, every_hours: int) -> bool:
    """True when the last full reconciliation is ``every_hours`` older than this run's window end."""
    window = run.ctx.window
    if window.since is None:
        return True  # a full refresh reconciles everything anyway
    last = run.store.get_watermark(run.tenant_id, STOCK_ENTITY, run.direction.value)
    return last is None or window.until - last >= timedelta(hours=every_hours)


def stage_stock_candidates(run: EntityRun, *, full: bool) -> StagedRef:
    """Stage ``{product_id, amount, tracking}`` of every product whose stock may have moved in the window."""
    lean = LEAN_PRODUCT_LIST
    with run.staging.open_stage(f"{run.direction.value}.stock") as out:
        if full:
            for page in run.cscart.pages("products", params=lean, items_per_page=200):
                out.write_many(_stock_row(row) for row in page)
        else:
            window = run.ctx.window
            order_ids = [
                str(order["order_id"])
                for page in run.cscart.window_pages("orders", since=window.since, until=window.until)
                for order in page
            ]
            seen: set[str] = set()
            for start in range(0, len(order_ids), ORDER_IDS_PER_CALL):
                chunk = ",".join(order_ids[start : start + ORDER_IDS_PER_CALL])
                for page in run.cscart.pages("products", params={**lean, "order_ids": chunk}, items_per_page=200):
                    fresh = [row for row in page if str(row["product_id"]) not in seen]
                    seen.update(str(row["product_id"]) for row in fresh)
                    out.write_many(_stock_row(row) for row in fresh)
    return out.close()


def _stock_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"product_id": str(row["product_id"]), "amount": row.get("amount"), "tracking": row.get("tracking")}


def push_stock(
    run: EntityRun, candidates: Iterable[Mapping[str, Any]], *, full: bool, namespace: str
) -> dict[str, int]:
    """Adjust Inventory stock to CS-Cart's for the candidates; returns the report counters."""
    counts = {"stock_adjusted": 0, "stock_failed": 0}
    item_stock = _inventory_stock(run) if full else None
    lines: list[dict[str, Any]] = []
    seen: set[str] = set()
    rows = iter(candidates)
    while chunk := list(islice(rows, LINK_BATCH)):
        chunk = [row for row in chunk if row["product_id"] not in seen and row.get("tracking") != "D"]
        seen.update(row["product_id"] for row in chunk)
        links = run.store.get_links(run.tenant_id, namespace, cscart_ids=[row["product_id"] for row in chunk])
        for row in chunk:
            link = links.get(row["product_id"])
            if link is None or not link.zoho_id or link.deleted_at is not None:
                continue  # not in Zoho yet: its item is created with this stock as opening stock
            wanted = _whole(row.get("amount"))
            if wanted is None:
                continue
            current = item_stock.get(link.zoho_id) if item_stock is not None else _item_stock(run, link.zoho_id)
            if current is None or current == wanted:
                continue
            lines.append({"item_id": link.zoho_id, "quantity_adjusted": wanted - current})
    for start in range(0, len(lines), LINES_PER_ADJUSTMENT):
        batch = lines[start : start + LINES_PER_ADJUSTMENT]
        if _post_adjustment(run, batch):
            counts["stock_adjusted"] += len(batch)
        else:
            counts["stock_failed"] += len(batch)
    if full and not run.ctx.dry_run and not counts["stock_failed"]:
        run.store.advance_watermark(
            run.tenant_id, STOCK_ENTITY, run.direction.value, run.ctx.window.until, run.ctx.run_id
        )
    return counts


def push_cscart_stock(run: EntityRun, records: Iterable[MappedRecord], *, namespace: str) -> dict[str, int]:
    """Set CS-Cart's ``amount`` of linked goods products to Inventory's stock (stock master Zoho, stock-only
    runs): CS-Cart's current amounts are read 200 products a call (``pid``), and only a product whose amount
    differs is written, with ``amount`` alone. Re-running it writes nothing; nothing else of a product changes."""
    counts = {"stock_adjusted": 0, "stock_failed": 0}
    rows = iter(records)
    while chunk := list(islice(rows, LINK_BATCH)):
        wanted = {
            record.source_id: _whole(record.payload.get("amount"))
            for record in chunk
            if not record.skip_reason and record.payload.get("tracking") != "D"
        }
        links = run.store.get_links(run.tenant_id, namespace, zoho_ids=[i for i, v in wanted.items() if v is not None])
        by_product = {
            link.cscart_id: wanted[zoho_id]
            for zoho_id, link in links.items()
            if link.cscart_id and link.deleted_at is None
        }
        if not by_product:
            continue  # not in CS-Cart yet: a stock-only run creates nothing
        current: dict[str, int | None] = {}
        params = {**LEAN_PRODUCT_LIST, "pid": ",".join(by_product)}
        for page in run.cscart.pages("products", params=params, items_per_page=LINK_BATCH):
            current.update((str(row["product_id"]), _whole(row.get("amount"))) for row in page)
        for product_id, amount in by_product.items():
            if product_id not in current or current[product_id] == amount:
                continue  # out of this tenant's sight (deleted, another vendor's), or already right
            if run.ctx.dry_run:
                counts["stock_adjusted"] += 1
                continue
            try:
                run.cscart.update("products", product_id, {"amount": amount})
            except (AmbiguousWriteError, RetryableApiError, FatalApiError) as exc:
                # The next stock run compares again with what CS-Cart holds: nothing is set twice.
                log.warning("%s: stock of CS-Cart product %s not set (%s)", run.label, product_id, exc)
                counts["stock_failed"] += 1
                continue
            counts["stock_adjusted"] += 1
    return counts


def staged_candidates(ref: StagedRef | None) -> Iterator[dict[str, Any]]:
    return iter(read_staged_records(ref)) if ref else iter(())


def _whole(value: Any) -> int | None:
    try:
        return math.floor(float(value))
    except (TypeError, ValueError):
        return None


def _inventory_stock(run: EntityRun) -> dict[str, float]:
    """stock_on_hand of every goods item (the reconciliation's one read of the item list)."""
    stock: dict[str, float] = {}
    for page in run.zoho.inventory_pages("items", params={"per_page": 200}):
        for item in page:
            if item.get("product_type", "goods") == "goods" and item.get("stock_on_hand") is not None:
                stock[str(item["item_id"])] = float(item["stock_on_hand"])
    return stock


def _item_stock(run: EntityRun, item_id: str) -> float | None:
    item = run.zoho.inventory_get("items", item_id)
    if item is None or item.get("product_type", "goods") != "goods" or item.get("stock_on_hand") is None:
        return None
    return float(item["stock_on_hand"])


def _post_adjustment(run: EntityRun, lines: list[dict[str, Any]]) -> bool:
    if run.ctx.dry_run:
        log.info("%s: dry run: would adjust the stock of %d item(s)", run.label, len(lines))
        return True
    body = {
        "date": run.ctx.window.until.date().isoformat(),
        "reason": ADJUSTMENT_REASON,
        "adjustment_type": "quantity",
        "reference_number": f"zcs-{run.ctx.run_id}"[:50],
        "line_items": lines,
    }
    try:
        run.zoho.inventory_create("inventoryadjustments", body)
    except (AmbiguousWriteError, RetryableApiError, FatalApiError) as exc:
        # Never retried blindly: the next run recomputes each difference from Inventory's actual stock.
        log.warning(
            "%s: stock adjustment of %d item(s) not confirmed (%s); the next run checks again",
            run.label,
            len(lines),
            exc,
        )
        return False
    return True
