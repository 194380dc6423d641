"""Sandbox-only credentials of the sample tenants (never valid anywhere but on 127.0.0.1).

One module holds them all so that `start` can print them and tests can read them from the handle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Broad scopes a Self Client would be given for this integration. Tokens minted through the
# authorization-code grant may carry narrower scopes (used to reproduce OAUTH_SCOPE_MISMATCH).
DEFAULT_ZOHO_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.READ",
    "ZohoCRM.coql.READ",
    "ZohoInventory.FullAccess.all",
    "ZohoBooks.fullaccess.all",
)


@dataclass(frozen=True)
class ZohoAppCredentials:
    """One tenant's Zoho account: its Self Client and the organisation its Inventory/Books data lives in."""

    tenant: str
    client_id: str
    client_secret: str
    refresh_token: str
    organization_id: str
    # First digits of every CRM record id of this account (CRM ids are 19-digit strings).
    crm_id_prefix: str
    # First digits of every Inventory/Books id of this organisation.
    finance_id_prefix: str
    # The API user's / organisation's fixed UTC offset; CRM renders "-05:00", Inventory "-0500".
    utc_offset_minutes: int
    scopes: tuple[str, ...] = DEFAULT_ZOHO_SCOPES


@dataclass(frozen=True)
class CscartApiUser:
    """A CS-Cart user with API access: HTTP Basic user = e-mail, password = API key."""

    tenant: str
    email: str
    api_key: str
    user_id: int
    user_type: str  # "A" administrator, "V" vendor administrator
    company_id: int  # 0 for marketplace administrators


@dataclass(frozen=True)
class SandboxCredentials:
    """Everything a client needs to talk to the sandbox as one of the sample tenants."""

    zoho: dict[str, ZohoAppCredentials] = field(default_factory=dict)
    cscart: dict[str, CscartApiUser] = field(default_factory=dict)

    def zoho_for(self, tenant: str) -> ZohoAppCredentials:
        return self.zoho[tenant]

    def cscart_for(self, tenant: str) -> CscartApiUser:
        return self.cscart[tenant]

    def as_dict(self) -> dict[str, Any]:
        return {
            "zoho": {name: asdict(creds) for name, creds in self.zoho.items()},
            "cscart": {name: asdict(user) for name, user in self.cscart.items()},
        }


ZOHO_TENANTS: dict[str, ZohoAppCredentials] = {
    "acme_store": ZohoAppCredentials(
        tenant="acme_store",
        client_id="1000.SANDBOXACMESTORE0000000000000",
        client_secret="sandbox-acme-store-client-secret-0001",  # noqa: S106 - sandbox-only value
        refresh_token="1000.sandboxacmerefresh0000000000000001.sandboxacmerefresh0000000000000001",  # noqa: S106 - sandbox-only value
        organization_id="70000001",
        crm_id_prefix="5725767",
        finance_id_prefix="38500500",
        utc_offset_minutes=-300,
    ),
    "northwind_vendor": ZohoAppCredentials(
        tenant="northwind_vendor",
        client_id="1000.SANDBOXNORTHWINDVENDOR0000000000",
        client_secret="sandbox-northwind-vendor-client-secret-0002",  # noqa: S106 - sandbox-only value
        refresh_token="1000.sandboxnorthwindrefresh00000000002.sandboxnorthwindrefresh00000000002",  # noqa: S106 - sandbox-only value
        organization_id="70000002",
        crm_id_prefix="6131442",
        finance_id_prefix="46000000",
        utc_offset_minutes=330,
    ),
}

# Store (marketplace) administrator: the `acme_store` tenant syncs the whole store with this key.
CSCART_ADMIN = CscartApiUser(
    tenant="acme_store",
    email="admin@marketplace.example",
    api_key="SandboxAdminKey0000000000000001A",
    user_id=1,
    user_type="A",
    company_id=0,
)
# Vendor administrators of the two Multi-Vendor companies.
CSCART_VENDOR_ACME = CscartApiUser(
    tenant="acme_vendor_admin",
    email="owner@acme-outfitters.example",
    api_key="SandboxVendorKey00000000000001V1",
    user_id=2,
    user_type="V",
    company_id=1,
)
CSCART_VENDOR_NORTHWIND = CscartApiUser(
    tenant="northwind_vendor",
    email="api@northwind-traders.example",
    api_key="SandboxVendorKey00000000000002V2",
    user_id=3,
    user_type="V",
    company_id=2,
)
CSCART_API_USERS: tuple[CscartApiUser, ...] = (CSCART_ADMIN, CSCART_VENDOR_ACME, CSCART_VENDOR_NORTHWIND)

SANDBOX_CREDENTIALS = SandboxCredentials(
    zoho=dict(ZOHO_TENANTS),
    cscart={"acme_store": CSCART_ADMIN, "northwind_vendor": CSCART_VENDOR_NORTHWIND},
)


def zoho_tenant_by_client_id(client_id: str) -> ZohoAppCredentials | None:
    for creds in ZOHO_TENANTS.values():
        if creds.client_id == client_id:
            return creds
    return None


def zoho_tenant_by_organization(organization_id: str) -> ZohoAppCredentials | None:
    for creds in ZOHO_TENANTS.values():
        if creds.organization_id == organization_id:
            return creds
    return None
