"""What an entity pipeline is, and which entities have one.

The DAG factory is generic: it only knows that a pipeline extracts from the source system, maps fields
declaratively and loads into the target, once per direction. A pipeline is referenced by import path so
that parsing the DAG folder never imports pipeline code (hooks, mappings, SQLAlchemy models).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from zoho_cscart_sync.directions import DIRECTIONS, Direction
from zoho_cscart_sync.tenants import TenantConfig
from zoho_cscart_sync.windows import RunWindow

StageResult = dict[str, Any]
"""A small JSON-serialisable dict passed through XCom: staged references and counts, never records."""


@dataclass(frozen=True)
class PipelineSpec:
    """Parse-time description of an entity pipeline (cheap: no imports of the implementation)."""

    entity: str
    implementation: str  # "package.module:attribute" resolved only inside tasks
    directions: tuple[str, ...]
    summaries: Mapping[str, str] = field(default_factory=dict)  # direction -> one line for doc_md
    options: tuple[str, ...] = ()
    """Entity-specific trigger switches, names from :data:`zoho_cscart_sync.params.RUN_OPTIONS`."""

    def load(self) -> EntityPipeline:
        """Import the implementation (task time only)."""
        return load_pipeline(self.implementation)


def load_pipeline(implementation: str) -> EntityPipeline:
    """Resolve "package.module:attribute" to a pipeline instance (a class is instantiated)."""
    module_name, _, attribute = implementation.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"pipeline implementation must look like 'package.module:attribute', got {implementation!r}")
    target = getattr(importlib.import_module(module_name), attribute)
    pipeline = target() if isinstance(target, type) else target
    if not isinstance(pipeline, EntityPipeline):
        raise TypeError(f"{implementation} is not an EntityPipeline")
    return pipeline


@dataclass(frozen=True)
class RunContext:
    """Everything one stage of one direction needs to know about the run it belongs to."""

    tenant: TenantConfig
    entity: str
    direction: str
    window: RunWindow
    run_id: str
    dry_run: bool
    tenants_dir: Path
    options: Mapping[str, Any] = field(default_factory=dict)
    """Values of the entity's run options (``stock_only``...), as the plan task resolved them."""

    @property
    def full_refresh(self) -> bool:
        return self.window.since is None and not self.window.record_ids

    @property
    def advances_watermark(self) -> bool:
        """A windowed run that moved whole records; a record_ids run or a narrowed one (stock only) does not."""
        from zoho_cscart_sync.params import narrows_run

        return self.window.advances_watermark and not narrows_run(self.options)

    def option(self, name: str) -> bool:
        """Whether the run option ``name`` is on for this run."""
        return bool(self.options.get(name))


@runtime_checkable
class EntityPipeline(Protocol):
    """Extract -> map -> load for one entity; each stage returns a small StageResult."""

    def extract(self, ctx: RunContext) -> StageResult: ...

    def map(self, ctx: RunContext, extracted: StageResult) -> StageResult: ...

    def load(self, ctx: RunContext, mapped: StageResult) -> StageResult: ...

    def finish(self, ctx: RunContext, loaded: StageResult | None, *, succeeded: bool) -> None:
        """Called once per direction by the report task (clean staging, save statistics...)."""
        ...


# Entities with a real pipeline. An entity is absent until its pipeline exists: the factory then generates
# no DAG for it (no placeholder tasks). Each implementation is a kit ``SpecPipeline`` of the entity's
# ``EntitySpec``; this registry stays import-free so that parsing the DAG folder stays cheap.
PIPELINES: dict[str, PipelineSpec] = {
    "customers": PipelineSpec(
        "customers",
        "zoho_cscart_sync.pipelines.customers:PIPELINE",
        DIRECTIONS,
        {
            Direction.ZOHO_TO_CSCART.value: "CRM Accounts (parents first) and Contacts become CS-Cart customers; "
            "Zoho deletions deactivate them",
            Direction.CSCART_TO_ZOHO.value: "new and changed CS-Cart customers are upserted into CRM Contacts (or "
            "Leads), optionally Zoho Books",
        },
    ),
    "products": PipelineSpec(
        "products",
        "zoho_cscart_sync.pipelines.products:PIPELINE",
        DIRECTIONS,
        {
            Direction.ZOHO_TO_CSCART.value: "Zoho Inventory items become CS-Cart products (matched by SKU), with "
            "their stock",
            Direction.CSCART_TO_ZOHO.value: "new and changed CS-Cart products become Zoho Inventory items (matched "
            "by SKU); a push bigger than one run's call budget continues run after run",
        },
        options=("stock_only",),
    ),
    "orders": PipelineSpec(
        "orders",
        "zoho_cscart_sync.pipelines.orders:PIPELINE",
        DIRECTIONS,
        {
            Direction.ZOHO_TO_CSCART.value: "Zoho Inventory sales orders (of the imported statuses) become CS-Cart "
            "orders; later Zoho status changes follow",
            Direction.CSCART_TO_ZOHO.value: "new and changed CS-Cart orders become Zoho Inventory sales orders "
            "(reference CSC-<id>), their status kept in step",
        },
        options=("order_statuses",),
    ),
}
