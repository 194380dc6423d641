"""Products: Zoho Inventory items <-> CS-Cart products, with stock — a declaration.

Everything generic (staging, map-or-quarantine, conflicts, echo, report, watermarks, call budgets) is the sync
kit's. What products declares:

* **Zoho -> CS-Cart**: Inventory items modified in the window (``last_modified_time``, 200 a page), matched
  to CS-Cart products by SKU (``product_code``) before any create (``find_then_create``: CS-Cart does not
  refuse a second product with one SKU). A first import of a big catalogue reads CS-Cart's product list once
  instead of one lookup per SKU (:mod:`~zoho_cscart_sync.pipelines.product_writers`).
* **CS-Cart -> Zoho**: CS-Cart products changed in the window, newest first by ``updated_timestamp``, the
  scan stopping at the window's start (an idle run costs one call whatever the catalogue size), created or
  updated as Inventory items by ``create_then_adopt`` (Inventory refuses a second item with one SKU, code
  1001: only then is the item looked up and adopted). Inventory takes ~100 requests a minute and has no bulk
  create, so this target spends at most ``inventory_calls_per_run`` calls a run and works through a bigger
  push as a backlog, run after run (see the README's "Backlogs").

**Stock** (``stock_master``, default ``zoho``: Zoho Inventory is where stock is counted). Zoho -> CS-Cart
sends each goods item's ``stock_on_hand`` as CS-Cart's ``amount``, rounded down to whole units (CS-Cart stock
is an integer; rounding down never promises stock that is not there). A CS-Cart product pushed to Inventory
for the first time carries its ``amount`` as the item's ``initial_stock``; after that Inventory's stock is
never edited by an item write (Inventory moves stock by adjustments only). Services (``product_type:
service``) carry no stock and become CS-Cart products that do not track inventory (``tracking: D``), and
back.

The genuine quirks (:class:`ProductsQuirks`): how a written CS-Cart product reads back (computed, no call),
that an Inventory write's answer *is* the item as it will be read back, item groups flagged, and the tenant's
import company.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any, Literal

from pydantic import Field

from zoho_cscart_sync.directions import SYSTEM_LABELS, Direction
from zoho_cscart_sync.kit.quirks import EntityQuirks
from zoho_cscart_sync.kit.runner import SpecPipeline
from zoho_cscart_sync.kit.spec import (
    CountsSpec,
    DirectionSpec,
    EntitySettings,
    EntitySpec,
    StreamSpec,
    TargetSpec,
)
from zoho_cscart_sync.pipelines.product_stock import (
    push_cscart_stock,
    push_stock,
    reconciliation_due,
    stage_stock_candidates,
    staged_candidates,
)
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.staging import StagedRef, read_staged_records
from zoho_cscart_sync.windows import WindowMode

ENTITY = "products"
STOCK_ONLY = "stock_only"
"""The run option of "Sync stock" runs (``zoho_cscart_sync.params.RUN_OPTIONS``)."""
STOCK_ORDERS = "stock_of_orders"
STOCK_ALL = "stock_of_all_products"
ITEM_GROUP_FLAG = "item_group"
"""Link flag: the Zoho item belongs to an item group (a variant); it is imported as a product of its own."""


class ProductsSettings(EntitySettings):
    """``entities.products.settings`` (see the README's products table)."""

    stock_master: Literal["zoho", "cscart"] = "zoho"
    """Where stock is counted. ``zoho`` (default): Inventory's stock goes to CS-Cart. ``cscart``: CS-Cart's stock
    goes to Inventory as quantity adjustments (see :mod:`~zoho_cscart_sync.pipelines.product_stock`)."""
    stock_reconcile_hours: int = Field(default=24, ge=1)
    """``stock_master: cscart``: hours between full stock reconciliations (every product compared)."""
    inventory_calls_per_run: int | None = Field(default=None, ge=10)
    """Zoho Inventory calls one run may spend pushing CS-Cart products; None: 50 minutes at the connection's
    Inventory limit (5,000 at Zoho's 100 requests a minute), so a run never overlaps the next hourly one."""


PRODUCTS = EntitySpec(
    entity=ENTITY,
    settings_model=ProductsSettings,
    quirks="zoho_cscart_sync.pipelines.products:ProductsQuirks",
    # Dashboard: CS-Cart products in the tenant's scope, and Zoho Inventory items (counted at full reads).
    counts=CountsSpec(cscart_stream="products", zoho_streams=("items",)),
    directions=(
        DirectionSpec(
            direction=Direction.ZOHO_TO_CSCART,
            overridable="inventory_items",
            streams=(
                StreamSpec(
                    name="items",
                    system="zoho_inventory",
                    resource="items",
                    id_field="item_id",
                    mapping="inventory_items",
                    window="finance_modified",
                ),
            ),
            targets=(
                TargetSpec(
                    name="cscart_products",
                    system="cscart",
                    resource="products",
                    match_key="sku",
                    write="find_then_create",
                    reader_mapping="inventory_items",
                ),
            ),
        ),
        DirectionSpec(
            direction=Direction.CSCART_TO_ZOHO,
            overridable="inventory_items",
            streams=(
                StreamSpec(
                    name="products",
                    system="cscart",
                    resource="products",
                    id_field="product_id",
                    mapping="inventory_items",
                    window="cscart_newest_first",
                    read_params={"get_features": 0, "get_additional": 0, "get_icon": 0, "get_detailed": 0},
                ),
            ),
            targets=(
                TargetSpec(
                    name="inventory_items",
                    system="zoho_inventory",
                    resource="items",
                    match_key="sku",
                    write="create_then_adopt",
                    call_budget="inventory_calls_per_run",
                    reader_mapping="inventory_items",
                ),
            ),
        ),
    ),
)

PIPELINE = SpecPipeline(PRODUCTS)
"""What ``PIPELINES['products']`` points at."""


PRODUCT_ROW_FIELDS: tuple[str, ...] = (
    "product",
    "product_code",
    "price",
    "list_price",
    "amount",
    "full_description",
    "status",
    "weight",
    "tracking",
    "tax_ids",
    "category_ids",
    "company_id",
)
"""Fields of a CS-Cart product row that a Zoho -> CS-Cart write sets."""

NEW_PRODUCT_ROW: Mapping[str, Any] = {
    "weight": "0.000",
    "list_price": "0.00",
    "amount": "0",
    "tracking": "B",
    "status": "A",
    "full_description": "",
    "tax_ids": "",
}
"""What CS-Cart lists for a field a create did not send (cscart_api.md 4.1 column defaults)."""


def cscart_product_after_write(
    payload: Mapping[str, Any], product_id: str, *, before: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The product row CS-Cart lists after ``payload`` was written to ``product_id``, without a call.

    A PUT keeps what it omits (``before``: the row read before adopting or updating it; a two-way tenant's
    update always has it, read by the conflict check) and never moves a product between companies; a create
    leaves CS-Cart's column defaults in what it omits. CS-Cart returns ``tax_ids`` as a comma string and
    ``category_ids`` as a list.
    """
    row: dict[str, Any] = dict(before) if before else dict(NEW_PRODUCT_ROW)
    for field in PRODUCT_ROW_FIELDS:
        if field == "company_id" and before:
            continue
        if field in payload and payload[field] is not None:
            value = payload[field]
            if field == "tax_ids" and isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            elif field == "category_ids" and not isinstance(value, (list, tuple)):
                value = [int(v) for v in str(value).split(",") if v.strip()]
            row[field] = value
    row["product_id"] = str(product_id)
    return row


class ProductsQuirks(EntityQuirks):
    """What products needs beyond its declaration (see the module docstring)."""

    @property
    def settings(self) -> ProductsSettings:
        settings = self.run.settings
        assert isinstance(settings, ProductsSettings)
        return settings

    @property
    def pushes_stock(self) -> bool:
        """This run's direction sends CS-Cart's stock to Inventory (stock master CS-Cart)."""
        return self.run.direction is Direction.CSCART_TO_ZOHO and self.settings.stock_master == "cscart"

    @property
    def stock_only(self) -> bool:
        """A "Sync stock" run (trigger param ``stock_only``): only stock moves, from the master to the other side."""
        return self.run.ctx.option(STOCK_ONLY)

    def idle_reason(self) -> str | None:
        master = self.settings.stock_master
        if self.stock_only and self.run.direction.source != master:
            return f"stock only, and {SYSTEM_LABELS[master]} is the stock master: no stock moves this way"
        return None

    def writes_records(self) -> bool:
        return not self.stock_only

    def create_only_fields(self, target: TargetSpec) -> frozenset[str]:
        if target.system == "zoho_inventory":
            return frozenset({"initial_stock"})  # an item's stock moves by adjustments only
        if self.settings.stock_master == "cscart":
            return frozenset({"amount"})  # CS-Cart counts its own stock; Zoho's seeds a new product only
        return frozenset()

    def extract_extras(self) -> dict[str, StagedRef | None]:
        if not self.pushes_stock or self.run.ctx.window.mode is WindowMode.RECORDS:
            return {}
        full = reconciliation_due(self.run, self.settings.stock_reconcile_hours)
        return {STOCK_ALL if full else STOCK_ORDERS: stage_stock_candidates(self.run, full=full)}

    def after_load(self, mapped: Mapping[str, Any]) -> dict[str, int]:
        records = (MappedRecord.from_staged(item["record"]) for item in read_staged_records(mapped["mapped"]))
        if self.stock_only and self.run.direction is Direction.ZOHO_TO_CSCART and self.settings.stock_master == "zoho":
            return push_cscart_stock(self.run, records, namespace=ENTITY)
        if not self.pushes_stock:
            return {}
        extras = mapped.get("extras") or {}
        full = extras.get(STOCK_ALL) is not None
        edited = (
            {
                "product_id": record.source_id,
                "amount": record.payload.get("initial_stock"),
                "tracking": "D" if record.payload.get("product_type") == "service" else "B",
            }
            for record in records
        )
        candidates = chain(edited, staged_candidates(extras.get(STOCK_ALL) or extras.get(STOCK_ORDERS)))
        return push_stock(self.run, candidates, full=full, namespace=ENTITY)

    def row_flags(self, stream: StreamSpec, row: Mapping[str, Any]) -> frozenset[str]:
        # A member of an item group (a variant) is imported as a product of its own and flagged: CS-Cart's
        # variations need features and a parent product the Inventory API does not describe (README).
        return frozenset({ITEM_GROUP_FLAG}) if row.get("group_id") else frozenset()

    def writer_company_id(self) -> int | None:
        """The company whose products this tenant may adopt and creates under (None: the whole store)."""
        tenant = self.run.ctx.tenant
        if tenant.company_id is not None:
            return tenant.company_id
        return tenant.defaults.product_company_id

    def read_back(
        self,
        target: TargetSpec,
        route: str | None,
        record: MappedRecord,
        target_id: str,
        *,
        created: bool,
        before: Mapping[str, Any] | None,
    ) -> Mapping[str, Any] | None:
        if target.system == "cscart":
            return cscart_product_after_write(record.payload, target_id, before=before)
        # Inventory answers every write with the item (kept by the writer and used by the kit first); only
        # a write whose answer was lost gets here: read it.
        return self.run.zoho.inventory_get("items", target_id)

    def adjust_counts(self, target: TargetSpec, counts: Any, writer: Any) -> None:
        adopted = int(getattr(writer, "adopted", 0))
        if adopted:
            # Creates Inventory refused as a duplicate SKU and that were adopted instead were updates.
            counts.created -= adopted
            counts.updated += adopted
            counts.linked_existing += adopted
