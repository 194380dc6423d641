"""What every stage of the customers pipeline shares: settings, mappings, hooks, staging and the state store.

Built once per task from the :class:`RunContext`; hooks and the state store are created on first use, so a
stage that needs only one system never looks up the other's Connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.pipeline import RunContext
from zoho_cscart_sync.pipelines.customers_settings import CustomersSettings, customers_settings

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.cscart import CsCartHook
    from zoho_cscart_sync.hooks.zoho import ZohoHook
    from zoho_cscart_sync.mapping import CompiledMapping
    from zoho_cscart_sync.state import StateStore
    from zoho_cscart_sync.sync.staging import StagingArea

ENTITY = "customers"
BOOKS_ENTITY = "customers_books"
"""ID-map namespace of CS-Cart user <-> Zoho Books contact links (a user has one CRM and one Books twin)."""
Z2C = "zoho_to_cscart"
C2Z = "cscart_to_zoho"

ACCOUNT_FLAG = "crm_account"
"""Link flag: the CS-Cart customer was imported from a Zoho CRM Account (not a Contact)."""
LEAD_FLAG = "crm_lead"
"""Link flag: the CS-Cart customer was exported to Zoho CRM Leads (a non-buyer)."""


@dataclass
class CustomersRun:
    """One stage of one direction of a customers run."""

    ctx: RunContext

    @property
    def tenant_id(self) -> str:
        return self.ctx.tenant.tenant_id

    @cached_property
    def settings(self) -> CustomersSettings:
        return customers_settings(self.ctx.tenant, self.ctx.tenants_dir)

    @cached_property
    def store(self) -> StateStore:
        from zoho_cscart_sync.state import StateStore

        return StateStore.default()

    @cached_property
    def staging(self) -> StagingArea:
        from zoho_cscart_sync.sync.staging import StagingArea

        return StagingArea(None, self.tenant_id, ENTITY, self.ctx.run_id)

    @cached_property
    def zoho(self) -> ZohoHook:
        from zoho_cscart_sync.hooks.zoho import ZohoHook

        return ZohoHook(self.ctx.tenant.zoho_conn_id, tenant=self.tenant_id, state=self.store)

    @cached_property
    def cscart(self) -> CsCartHook:
        from zoho_cscart_sync.hooks.cscart import CsCartHook

        return CsCartHook(self.ctx.tenant.cscart_conn_id, tenant=self.tenant_id, company_id=self.ctx.tenant.company_id)

    # -- mappings ----------------------------------------------------------------------------------
    def _tenant_defaults(self) -> dict[str, Any]:
        # Unset defaults (None) must not replace the mapping's own default (e.g. company_id "0").
        defaults: dict[str, Any] = {
            key: value for key, value in self.ctx.tenant.defaults.model_dump().items() if value is not None
        }
        if self.ctx.tenant.company_id is not None and "customer_company_id" not in defaults:
            # Vendor tenants create their customers under their own company (mapping `default_from`).
            defaults["customer_company_id"] = str(self.ctx.tenant.company_id)
        return defaults

    def _overrides(self, direction: str) -> Mapping[str, Any] | None:
        from zoho_cscart_sync.mapping import overrides_for

        return overrides_for(self.ctx.tenant.mapping_overrides, ENTITY, direction)

    def mapping(self, direction: str, variant: str) -> CompiledMapping:
        """A customers mapping; tenant overrides apply to the direction's default variant only."""
        from zoho_cscart_sync.mapping import load_mapping

        default_variant = {Z2C: "crm_contacts", C2Z: "crm_contacts"}[direction]
        return load_mapping(
            ENTITY,
            direction,
            variant=variant,
            overrides=self._overrides(direction) if variant == default_variant else None,
            tenant_defaults=self._tenant_defaults(),
            overrides_label=f"tenant {self.tenant_id}: mapping_overrides",
        )

    @cached_property
    def accounts_mapping(self) -> CompiledMapping:
        return self.mapping(Z2C, "crm_accounts")

    @cached_property
    def contacts_mapping(self) -> CompiledMapping:
        return self.mapping(Z2C, "crm_contacts")

    @cached_property
    def crm_contacts_export(self) -> CompiledMapping:
        return self.mapping(C2Z, "crm_contacts")

    @cached_property
    def crm_leads_export(self) -> CompiledMapping:
        return self.mapping(C2Z, "crm_leads")

    @cached_property
    def books_export(self) -> CompiledMapping:
        return self.mapping(C2Z, "books_contacts")
