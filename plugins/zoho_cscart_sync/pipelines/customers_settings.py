"""The customers pipeline's tenant settings (``entities.customers.settings`` in the tenant file).

| setting               | values                                   | default                                  |
|-----------------------|------------------------------------------|------------------------------------------|
| import_sub_accounts   | true / false                             | true for a store, false for a vendor     |
| cscart_customers_to   | contacts / leads_for_non_buyers          | contacts                                 |
| also_to_books         | true / false                             | false                                    |
| on_zoho_delete        | deactivate / ignore                      | deactivate                               |

The conflict rule comes from ``entities.customers.master`` (``zoho`` or ``cscart``): when a customer changed
on both sides since the last sync, the master's version is written and the other change is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from zoho_cscart_sync.tenants import TenantConfig, TenantKind, find_tenant_file

SETTINGS_PATH = "entities.customers.settings"


class CustomersSettingsError(ValueError):
    """Invalid customers settings; the message names the tenant file and each field path."""


class _CustomersSettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    import_sub_accounts: bool | None = None
    cscart_customers_to: Literal["contacts", "leads_for_non_buyers"] = "contacts"
    also_to_books: bool = False
    on_zoho_delete: Literal["deactivate", "ignore"] = "deactivate"


@dataclass(frozen=True)
class CustomersSettings:
    """Validated settings with the tenant-kind defaults applied."""

    import_sub_accounts: bool
    cscart_customers_to: Literal["contacts", "leads_for_non_buyers"]
    also_to_books: bool
    on_zoho_delete: Literal["deactivate", "ignore"]
    master: Literal["zoho", "cscart"]


def customers_settings(tenant: TenantConfig, tenants_dir: Path | None = None) -> CustomersSettings:
    """The tenant's customers settings; raises :class:`CustomersSettingsError` naming file and field."""
    entity = tenant.entities.get("customers")
    raw = dict(entity.settings) if entity is not None else {}
    try:
        model = _CustomersSettingsModel.model_validate(raw)
    except ValidationError as exc:
        where = _tenant_file_label(tenant, tenants_dir)
        problems = "; ".join(
            f"{SETTINGS_PATH}.{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            + (f" (got {error['input']!r})" if isinstance(error.get("input"), (str, int, float, bool)) else "")
            for error in exc.errors()
        )
        raise CustomersSettingsError(f"tenant file {where}: {problems}") from None
    import_sub_accounts = (
        model.import_sub_accounts if model.import_sub_accounts is not None else tenant.kind is TenantKind.STORE
    )
    return CustomersSettings(
        import_sub_accounts=import_sub_accounts,
        cscart_customers_to=model.cscart_customers_to,
        also_to_books=model.also_to_books,
        on_zoho_delete=model.on_zoho_delete,
        master=entity.master if entity is not None else "zoho",
    )


def _tenant_file_label(tenant: TenantConfig, tenants_dir: Path | None) -> str:
    if tenants_dir is not None:
        path = find_tenant_file(tenants_dir, tenant.tenant_id)
        if path is not None:
            return str(path)
    return f"{tenant.tenant_id}.yaml"
