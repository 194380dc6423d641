"""Generated tenants (`reset(tenants=N)`): independent Zoho accounts and CS-Cart vendor companies, the samples
unchanged, and the admin counters a scale-out test reads (requests per organisation and minute, mints per client)."""

from __future__ import annotations

import requests

from tests.sandbox.conftest import CscartClient, ZohoClient
from zoho_cscart_sandbox import seed
from zoho_cscart_sandbox.credentials import GeneratedTenants, generated_tenant_id, sandbox_credentials


def _all_users(client: CscartClient, **params: object) -> list[dict]:
    response = client("GET", "/users", params={"user_type": "C", "items_per_page": 0, **params})
    assert response.status_code == 200, response.text
    return response.json()["users"]


def test_twenty_tenants_have_disjoint_credentials_organisations_and_vendor_companies(sandbox):
    sandbox.reset(tenants=20, tenant_customers=5)
    try:
        tenants = sandbox.generated_tenants
        assert tenants == [generated_tenant_id(n) for n in range(1, 21)]
        zoho = [sandbox.credentials.zoho_for(t) for t in tenants]
        samples = [sandbox.credentials.zoho_for(t) for t in ("acme_store", "northwind_vendor")]
        for field in ("client_id", "client_secret", "refresh_token", "organization_id", "crm_id_prefix"):
            values = [getattr(c, field) for c in zoho + samples]
            assert len(set(values)) == 22, field
        vendors = [sandbox.credentials.cscart_for(t) for t in tenants]
        assert [v.company_id for v in vendors] == list(range(3, 23))
        assert len({v.api_key for v in vendors}) == 20

        admin = CscartClient(sandbox, "acme_store")
        emails: set[str] = set()
        for vendor in vendors:
            customers = _all_users(admin, company_id=vendor.company_id)
            assert len(customers) == 5 and {c["company_id"] for c in customers} == {str(vendor.company_id)}
            emails |= {c["email"] for c in customers}
        assert len(emails) == 100  # no e-mail is shared between two tenants' customers

        # A generated vendor's own key works and is scoped to its company.
        own = CscartClient(sandbox, tenants[4])
        assert own("GET", f"/vendors/{vendors[4].company_id}").json()["company"] == "Tenant 005 Traders"
        assert own("PUT", f"/vendors/{vendors[5].company_id}", json={"company": "x"}).status_code in (403, 404)

        # Each Zoho client mints its own token, which reaches only its own organisation and CRM account.
        first, second = ZohoClient(sandbox, tenants[0]), ZohoClient(sandbox, tenants[1])
        books = first.books("GET", "/contacts")
        assert books.status_code == 200 and books.json()["contacts"]
        foreign = first.books("GET", "/contacts", params={"organization_id": zoho[1].organization_id})
        assert foreign.status_code == 400 and foreign.json()["code"] == 6041
        crm_first = first.crm("GET", "/Contacts", params={"fields": "Email"}).json()["data"]
        crm_second = second.crm("GET", "/Contacts", params={"fields": "Email"}).json()["data"]
        assert {r["id"] for r in crm_first}.isdisjoint({r["id"] for r in crm_second})
        assert all(r["id"].startswith(zoho[0].crm_id_prefix) for r in crm_first)
        assert sandbox.token_mints() == {zoho[0].client_id: 1, zoho[1].client_id: 1}
    finally:
        sandbox.reset()
    assert sandbox.generated_tenants == []


def test_generated_tenants_are_deterministic_per_seed_and_leave_the_samples_unchanged(sandbox):
    def snapshot(seed_value: int, tenants: int) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
        sandbox.reset(seed=seed_value, tenants=tenants, tenant_customers=3)
        admin = CscartClient(sandbox, "acme_store")
        acme = ZohoClient(sandbox, "acme_store")
        samples_crm = acme.crm("GET", "/Contacts", params={"fields": "Email,Last_Name", "per_page": 200}).json()
        sample_users = [u for u in _all_users(admin) if int(u["company_id"]) <= 2]
        generated_users = [u for u in _all_users(admin) if int(u["company_id"]) > 2]
        generated_crm = []
        if tenants:
            client = ZohoClient(sandbox, generated_tenant_id(1))
            generated_crm = client.crm("GET", "/Contacts", params={"fields": "Email", "per_page": 200}).json()["data"]
        return samples_crm["data"], sample_users, generated_users, generated_crm

    try:
        plain = snapshot(0, 0)
        with_tenants = snapshot(0, 4)
        again = snapshot(0, 4)
        other_seed = snapshot(1, 4)
        assert with_tenants[:2] == plain[:2]  # the samples do not see the generated tenants
        assert plain[2] == [] and len(with_tenants[2]) == 12
        assert again == with_tenants
        assert other_seed[2] != with_tenants[2] and other_seed[3] != with_tenants[3]
        assert [u["user_id"] for u in with_tenants[2]] != []
    finally:
        sandbox.reset()


def test_default_seed_golden_helpers_know_nothing_of_generated_tenants():
    assert sorted(seed.TENANT_DOMAINS) == ["acme_store", "northwind_vendor"]
    assert seed.TENANT_DOMAINS["tenant_007"] == "tenant-007.example"
    assert seed.CSCART_VENDOR_OF_TENANT["tenant_007"] == 9
    creds = sandbox_credentials(GeneratedTenants(2, 4), base_users=60)
    assert [creds.cscart_for(t).user_id for t in ("tenant_001", "tenant_002")] == [61, 66]
    assert seed.zoho_contacts("tenant_002")[0]["id"].startswith("5800002")


def test_reset_refuses_a_bad_tenant_count(sandbox):
    response = requests.post(f"{sandbox.zoho_url}/__sandbox__/reset", json={"tenants": 1000}, timeout=10)
    assert response.status_code == 400 and "tenants" in response.json()["error"]
    response = requests.get(f"{sandbox.zoho_url}/__sandbox__/tenants", timeout=10)
    assert response.json()["generated"]["tenants"] == 0


def test_requests_per_organisation_and_minute_and_mints_per_client(sandbox):
    sandbox.reset(tenants=2)
    try:
        sandbox.set_knobs(finance_requests_per_minute=3)
        one, two = ZohoClient(sandbox, "tenant_001"), ZohoClient(sandbox, "tenant_002")
        statuses = [one.books("GET", "/contacts").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        assert one.inventory("GET", "/items").status_code == 200  # Inventory counts apart from Books
        assert two.books("GET", "/contacts", params={}).status_code == 200
        ZohoClient(sandbox, "tenant_001")  # a second mint of the same client
        traffic = sandbox.org_requests()
        org_one = sandbox.credentials.zoho_for("tenant_001").organization_id
        org_two = sandbox.credentials.zoho_for("tenant_002").organization_id
        assert traffic[org_one]["books"]["total"] == 5  # what arrived, the refused ones included
        assert traffic[org_one]["books"]["max_in_window"] == 5
        assert sum(traffic[org_one]["books"]["per_minute"].values()) == 5
        assert traffic[org_one]["inventory"]["total"] == 1
        assert traffic[org_two] == {
            "books": {"total": 1, "max_in_window": 1, "per_minute": traffic[org_two]["books"]["per_minute"]}
        }
        mints = sandbox.token_mints()
        assert mints == {
            sandbox.credentials.zoho_for("tenant_001").client_id: 2,
            sandbox.credentials.zoho_for("tenant_002").client_id: 1,
        }
    finally:
        sandbox.reset()
    assert sandbox.org_requests() == {} and sandbox.token_mints() == {}
