"""Writers built from a target's declaration: one adapter per (system, resource), looked up here.

A writer is a thin adapter over the system's hook (see :mod:`zoho_cscart_sync.sync.writer` for the
protocol). Imports are lazy: a task loads only the writers of the targets it writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoho_cscart_sync.kit.spec import TargetSpec

if TYPE_CHECKING:
    from zoho_cscart_sync.kit.context import EntityRun
    from zoho_cscart_sync.sync.writer import TargetWriter


def build_writer(run: EntityRun, target: TargetSpec, route: str | None) -> TargetWriter:
    """The writer of ``target`` (``route``: a CRM module chosen per record, e.g. Contacts or Leads)."""
    key = (target.system, target.resource)
    if key == ("cscart", "users"):
        from zoho_cscart_sync.pipelines.cscart_users import CsCartUserWriter

        return CsCartUserWriter(run.cscart, tenant=run.tenant_id, company_id=run.ctx.tenant.company_id)
    if key == ("cscart", "products"):
        from zoho_cscart_sync.pipelines.product_writers import CsCartProductWriter

        company = run.ctx.tenant.company_id or run.ctx.tenant.defaults.product_company_id
        return CsCartProductWriter(run.cscart, tenant=run.tenant_id, company_id=company)
    if key == ("zoho_inventory", "items"):
        from zoho_cscart_sync.pipelines.product_writers import InventoryItemWriter

        return InventoryItemWriter(run.zoho)
    if key in (("zoho_inventory", "salesorders"), ("zoho_books", "salesorders")):
        from zoho_cscart_sync.pipelines.order_writers import BOOKS, INVENTORY, InventorySalesOrderWriter

        return InventorySalesOrderWriter(run.zoho, api=BOOKS if target.system == "zoho_books" else INVENTORY)
    if key == ("cscart", "orders"):
        from zoho_cscart_sync.pipelines.order_writers import CsCartOrderWriter

        settings = run.settings
        notify = {
            name: bool(getattr(settings, name, False)) for name in ("notify_user", "notify_department", "notify_vendor")
        }
        return CsCartOrderWriter(run.cscart, notify=notify)
    if key == ("zoho_crm", "Sales_Orders"):
        from zoho_cscart_sync.pipelines.crm_order_writer import build_crm_sales_order_writer

        return build_crm_sales_order_writer(run)
    if target.system == "zoho_crm":
        from zoho_cscart_sync.pipelines.zoho_writers import CrmUpsertWriter

        return CrmUpsertWriter(run.zoho, route or target.resource)
    if key == ("zoho_books", "contacts"):
        from zoho_cscart_sync.pipelines.zoho_writers import BooksContactWriter

        namespace = run.namespace(target)

        def owns(contact_id: str) -> bool:
            return run.store.get_link(run.tenant_id, namespace, zoho_id=contact_id) is not None

        return BooksContactWriter(run.zoho, owns=owns)
    raise ValueError(f"{run.label}: no writer for {target.system} {target.resource} (target {target.name!r})")
