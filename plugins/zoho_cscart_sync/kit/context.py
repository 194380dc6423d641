"""What every stage of one direction of one entity shares: spec, settings, mappings, hooks, staging, state.

Built once per task from the :class:`~zoho_cscart_sync.pipeline.RunContext`; hooks and the state store are
created on first use, so a stage that needs one system never looks up the other's Connection.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.kit.spec import DirectionSpec, EntitySettings, EntitySpec, StreamSpec, TargetSpec
from zoho_cscart_sync.pipeline import RunContext
from zoho_cscart_sync.tenants import TenantConfig, find_tenant_file

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.cscart import CsCartHook
    from zoho_cscart_sync.hooks.zoho import ZohoHook
    from zoho_cscart_sync.kit.quirks import EntityQuirks
    from zoho_cscart_sync.kit.sources import Source
    from zoho_cscart_sync.mapping import CompiledMapping
    from zoho_cscart_sync.state import StateStore
    from zoho_cscart_sync.sync.staging import StagingArea


class EntitySettingsError(ValueError):
    """Invalid ``entities.<entity>.settings``; the message names the tenant file and each field path."""


def entity_settings(spec: EntitySpec, tenant: TenantConfig, tenants_dir: Path | None = None) -> EntitySettings:
    """The tenant's validated settings for ``spec.entity`` (defaults that depend on the tenant applied)."""
    entity = tenant.entities.get(spec.entity)
    raw = dict(entity.settings) if entity is not None else {}
    try:
        return spec.settings_model.model_validate(raw, context={"tenant": tenant})
    except ValidationError as exc:
        where = _tenant_file_label(tenant, tenants_dir)
        path = f"entities.{spec.entity}.settings"
        problems = "; ".join(
            f"{path}.{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            + (f" (got {error['input']!r})" if isinstance(error.get("input"), (str, int, float, bool)) else "")
            for error in exc.errors()
        )
        raise EntitySettingsError(f"tenant {tenant.tenant_id}, tenant file {where}: {problems}") from None


def _tenant_file_label(tenant: TenantConfig, tenants_dir: Path | None) -> str:
    if tenants_dir is not None:
        path = find_tenant_file(tenants_dir, tenant.tenant_id)
        if path is not None:
            return str(path)
    return f"{tenant.tenant_id}.yaml"


@dataclass
class EntityRun:
    """One stage of one direction of one entity's run."""

    spec: EntitySpec
    ctx: RunContext

    # -- identity --------------------------------------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        return self.ctx.tenant.tenant_id

    @property
    def entity(self) -> str:
        return self.spec.entity

    @cached_property
    def direction(self) -> Direction:
        return Direction.parse(self.ctx.direction)

    @cached_property
    def direction_spec(self) -> DirectionSpec:
        return self.spec.direction(self.direction)

    @property
    def label(self) -> str:
        return f"tenant {self.tenant_id} {self.entity} {self.direction.value}"

    @property
    def two_way(self) -> bool:
        """The tenant also runs the opposite direction of this entity (echo suppression and conflicts matter)."""
        config = self.ctx.tenant.entities.get(self.entity)
        return config is not None and self.direction.opposite.value in config.directions

    @property
    def master(self) -> str:
        config = self.ctx.tenant.entities.get(self.entity)
        return config.master if config is not None else "zoho"

    # -- settings, quirks ------------------------------------------------------------------------------
    @cached_property
    def settings(self) -> EntitySettings:
        return entity_settings(self.spec, self.ctx.tenant, self.ctx.tenants_dir)

    def setting(self, name: str) -> Any:
        return getattr(self.settings, name)

    @cached_property
    def quirks(self) -> EntityQuirks:
        module_name, _, attribute = self.spec.quirks.partition(":")
        quirks_class = getattr(importlib.import_module(module_name), attribute)
        quirks: EntityQuirks = quirks_class(self)
        return quirks

    def streams(self) -> tuple[StreamSpec, ...]:
        """The direction's streams this tenant's settings switch on, in load order."""
        return tuple(stream for stream in self.direction_spec.streams if stream.enabled(self.setting))

    def targets(self) -> tuple[TargetSpec, ...]:
        """The direction's targets this tenant's settings switch on."""
        return tuple(target for target in self.direction_spec.targets if target.enabled(self.setting))

    def namespace(self, target: TargetSpec) -> str:
        return target.namespace or self.entity

    # -- infrastructure --------------------------------------------------------------------------------
    @cached_property
    def store(self) -> StateStore:
        from zoho_cscart_sync.state import StateStore

        return StateStore.default()

    @cached_property
    def staging(self) -> StagingArea:
        from zoho_cscart_sync.sync.staging import StagingArea

        return StagingArea(None, self.tenant_id, self.entity, self.ctx.run_id)

    @cached_property
    def zoho(self) -> ZohoHook:
        from zoho_cscart_sync.hooks.zoho import ZohoHook

        return ZohoHook(self.ctx.tenant.zoho_conn_id, tenant=self.tenant_id, state=self.store)

    @cached_property
    def cscart(self) -> CsCartHook:
        from zoho_cscart_sync.hooks.cscart import CsCartHook

        return CsCartHook(self.ctx.tenant.cscart_conn_id, tenant=self.tenant_id, company_id=self.ctx.tenant.company_id)

    def api_calls(self) -> dict[str, int]:
        """Calls this task made, per endpoint, from the hooks it used (none created: none counted)."""
        calls: dict[str, int] = {}
        for name in ("zoho", "cscart"):
            hook = self.__dict__.get(name)
            for endpoint, count in (getattr(hook, "calls", None) or {}).items():
                calls[endpoint] = calls.get(endpoint, 0) + int(count)
        return calls

    # -- sources and mappings --------------------------------------------------------------------------
    def source(self, stream: StreamSpec) -> Source:
        from zoho_cscart_sync.kit.sources import CrmSource, CsCartSource, FinanceSource

        if stream.system == "zoho_crm":
            fields = [*self.mapping(self.direction, stream.mapping).source_fields(), *stream.extra_fields]
            if stream.requires is not None:
                fields.append(stream.requires.field)
            return CrmSource(self.zoho, stream, list(dict.fromkeys(fields)), listed_skips=self.listed_skips)
        if stream.system in ("zoho_inventory", "zoho_books"):
            return FinanceSource(self.zoho, stream, listed_skips=self.listed_skips)
        if stream.system == "cscart":
            return CsCartSource(self.cscart, stream, self.ctx.tenant.company_id)
        raise ValueError(f"{self.label}: no source adapter for system {stream.system!r}")

    def listed_skips(self, stream: StreamSpec, rows: list[dict[str, Any]]) -> set[str]:
        """The ids of a list page whose list rows already say the entity skips them (``EntityQuirks.listed_skip``,
        with their links read in one query): a ``full_records`` stream stages them as listed instead of reading
        each whole."""
        ids = [str(row[stream.id_field]) for row in rows]
        links = self.store.get_links(self.tenant_id, self.entity, **{f"{self.direction.source}_ids": ids})
        return {
            record_id
            for record_id, row in zip(ids, rows, strict=True)
            if self.quirks.listed_skip(stream, row, links.get(record_id)) is not None
        }

    def tenant_defaults(self) -> dict[str, Any]:
        # Unset defaults (None) must not replace the mapping's own default (e.g. company_id "0").
        defaults: dict[str, Any] = {
            key: value for key, value in self.ctx.tenant.defaults.model_dump().items() if value is not None
        }
        # Products created in CS-Cart belong to the vendor (vendor tenants) or the store's import vendor.
        company = self.ctx.tenant.company_id or self.ctx.tenant.defaults.product_company_id
        if company is not None:
            defaults.setdefault("company_id", str(company))
        if self.ctx.tenant.company_id is not None and "customer_company_id" not in defaults:
            # Vendor tenants create records under their own company (mapping `default_from`).
            defaults["customer_company_id"] = str(self.ctx.tenant.company_id)
        return defaults

    def mapping(self, direction: Direction, variant: str) -> CompiledMapping:
        """A mapping of this entity; tenant overrides apply to the direction's overridable variant only."""
        key = (direction, variant)
        if key not in self._mappings:
            self._mappings[key] = self._load_mapping(direction, variant)
        return self._mappings[key]

    @cached_property
    def _mappings(self) -> dict[tuple[Direction, str], CompiledMapping]:
        return {}

    def _load_mapping(self, direction: Direction, variant: str) -> CompiledMapping:
        from zoho_cscart_sync.mapping import load_mapping, overrides_for

        overridable = self.spec.direction(direction).overridable
        overrides: Mapping[str, Any] | None = None
        if variant == overridable:
            overrides = overrides_for(self.ctx.tenant.mapping_overrides, self.entity, direction.value)
        return load_mapping(
            self.entity,
            direction.value,
            variant=variant,
            overrides=overrides,
            tenant_defaults=self.tenant_defaults(),
            overrides_label=f"tenant {self.tenant_id}: mapping_overrides",
        )
