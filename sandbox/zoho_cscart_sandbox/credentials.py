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


# ---------------------------------------------------------------------------------------------
# Generated tenants: `reset(tenants=N)` adds tenant_001 ... tenant_N next to the two samples, each with its
# own Zoho Self Client, organisation and CRM account, and its own CS-Cart vendor company (company_id 2 + n)
# with a vendor-administrator API user and `tenant_customers` customers. Their credentials depend only on
# the number n (and the vendor admin's user id on the store's base user count); their data on the seed.
# ---------------------------------------------------------------------------------------------
GENERATED_TENANT_PREFIX = "tenant_"
MAX_GENERATED_TENANTS = 999
DEFAULT_TENANT_CUSTOMERS = 10
_GENERATED_OFFSETS = (-300, 0, 60, 330, 540)  # the API user's time zone cycles through a few offsets


@dataclass(frozen=True)
class GeneratedTenants:
    """How many extra tenants a reset adds, and how many CS-Cart customers each one's vendor company has."""

    count: int = 0
    customers: int = DEFAULT_TENANT_CUSTOMERS

    def __post_init__(self) -> None:
        if not 0 <= self.count <= MAX_GENERATED_TENANTS:
            raise ValueError(f"tenants must be between 0 and {MAX_GENERATED_TENANTS}, got {self.count}")
        if not 0 <= self.customers <= 100_000:
            raise ValueError(f"tenant_customers must be between 0 and 100000, got {self.customers}")

    @property
    def users_per_tenant(self) -> int:
        """CS-Cart users of one generated vendor company: its vendor administrator, then its customers."""
        return 1 + self.customers

    def numbers(self) -> range:
        return range(1, self.count + 1)


def generated_tenant_id(number: int) -> str:
    return f"{GENERATED_TENANT_PREFIX}{number:03d}"


def generated_tenant_number(tenant: str) -> int | None:
    """n for `tenant_<nnn>` (1 <= n <= MAX_GENERATED_TENANTS), else None."""
    digits = tenant.removeprefix(GENERATED_TENANT_PREFIX)
    if digits == tenant or len(digits) != 3 or not digits.isdigit():
        return None
    number = int(digits)
    return number if 1 <= number <= MAX_GENERATED_TENANTS else None


def generated_company_id(number: int) -> int:
    """The CS-Cart vendor company of generated tenant n (1 and 2 are the sample vendors)."""
    return 2 + number


def generated_zoho(number: int) -> ZohoAppCredentials:
    tag = f"{number:03d}"
    return ZohoAppCredentials(
        tenant=generated_tenant_id(number),
        client_id=f"1000.SANDBOXTENANT{tag}0000000000000000",
        client_secret=f"sandbox-tenant-{tag}-client-secret",
        refresh_token=f"1000.sandboxtenant{tag}refresh00000000000.sandboxtenant{tag}refresh00000000000",
        organization_id=str(71_000_000 + number),
        crm_id_prefix=str(5_800_000 + number),
        finance_id_prefix=str(47_000_000 + number),
        utc_offset_minutes=_GENERATED_OFFSETS[number % len(_GENERATED_OFFSETS)],
    )


def generated_vendor_user(number: int, generated: GeneratedTenants, base_users: int) -> CscartApiUser:
    """The vendor administrator of generated tenant n: the first of its company's users after the seed's."""
    tag = f"{number:03d}"
    return CscartApiUser(
        tenant=generated_tenant_id(number),
        email=f"api@tenant-{tag}.vendors.example",
        api_key=f"SandboxTenantKey{tag}0000000000{tag}V",
        user_id=base_users + (number - 1) * generated.users_per_tenant + 1,
        user_type="V",
        company_id=generated_company_id(number),
    )


def zoho_creds(tenant: str) -> ZohoAppCredentials:
    """A sample tenant's or a generated tenant's Zoho credentials (KeyError for anything else)."""
    found = ZOHO_TENANTS.get(tenant)
    if found is not None:
        return found
    number = generated_tenant_number(tenant)
    if number is None:
        raise KeyError(tenant)
    return generated_zoho(number)


def zoho_tenants(generated: GeneratedTenants) -> dict[str, ZohoAppCredentials]:
    """The samples, then tenant_001 ... tenant_N."""
    return {**ZOHO_TENANTS, **{generated_tenant_id(n): generated_zoho(n) for n in generated.numbers()}}


def cscart_api_users(generated: GeneratedTenants, base_users: int) -> tuple[CscartApiUser, ...]:
    return CSCART_API_USERS + tuple(generated_vendor_user(n, generated, base_users) for n in generated.numbers())


def sandbox_credentials(generated: GeneratedTenants, base_users: int) -> SandboxCredentials:
    """The credentials of the samples plus the generated tenants (`cscart_for` a generated tenant is its
    vendor administrator; customers need the marketplace administrator, `cscart_for("acme_store")`)."""
    users = {u.tenant: u for u in cscart_api_users(generated, base_users)[len(CSCART_API_USERS) :]}
    return SandboxCredentials(
        zoho=zoho_tenants(generated),
        cscart={**SANDBOX_CREDENTIALS.cscart, **users},
    )


_SAMPLES_BY_CLIENT_ID = {creds.client_id: creds for creds in ZOHO_TENANTS.values()}
_SAMPLES_BY_ORGANIZATION = {creds.organization_id: creds for creds in ZOHO_TENANTS.values()}


def zoho_tenant_by_client_id(client_id: str) -> ZohoAppCredentials | None:
    """A sample tenant by its client id (the running server looks up the generated ones too)."""
    return _SAMPLES_BY_CLIENT_ID.get(client_id)


def zoho_tenant_by_organization(organization_id: str) -> ZohoAppCredentials | None:
    return _SAMPLES_BY_ORGANIZATION.get(organization_id)
