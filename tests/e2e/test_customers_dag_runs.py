"""The customers DAGs of the sample tenants, run through Airflow (dag.test) against the sandbox over HTTP."""

from __future__ import annotations

import pytest

from tests.e2e.customers_support import (
    ZohoReader,
    crm_id,
    cscart_customers,
    cscart_update_user,
    directions_of,
    make_customers_dags,
)

pytestmark = pytest.mark.integration

ACME = "acme_store"
VENDOR = "northwind_vendor"
SHARED_INBOX = "orders@acme-shared.example.com"


def _by_email(customers: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in customers.values():
        found.setdefault(row["email"].casefold(), []).append(row)
    return found


def _writes(counters: dict) -> dict[str, int]:
    return {
        endpoint: count
        for endpoint, count in counters.items()
        if endpoint.split()[0] in ("POST", "PUT", "DELETE") and "/oauth/" not in endpoint and "/coql" not in endpoint
    }


@pytest.fixture
def acme(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    return make_customers_dags(tmp_path, sandbox_clean, monkeypatch)


def test_full_refresh_lands_the_seed_traps_and_a_second_run_writes_nothing(acme, sandbox_clean):
    before = cscart_customers(sandbox_clean)
    run = acme.run(ACME, full_refresh=True)
    assert run.state == "success"
    report = directions_of(run)
    z2c, c2z = report["zoho_to_cscart"], report["cscart_to_zoho"]
    store = acme.store()
    links = {link.zoho_id: link for link in store.list_links(ACME, "customers")}
    customers = cscart_customers(sandbox_clean)
    by_email = _by_email(customers)

    # Every e-mail is one CS-Cart user: nothing was duplicated.
    assert all(len(rows) == 1 for rows in by_email.values()), [e for e, r in by_email.items() if len(r) > 1]

    # Three-level hierarchy (and the deeper chain 18 -> 6 -> 2 -> 1 -> 0): parents were created first.
    chain = [crm_id(ACME, "Accounts", i) for i in (0, 1, 2, 6, 18)]
    user_ids = [int(links[zoho_id].cscart_id) for zoho_id in chain]
    assert user_ids == sorted(user_ids)
    assert customers[str(user_ids[0])]["company"] == "Acme Holdings"
    assert customers[str(user_ids[2])]["company"] == "Acme Berlin GmbH"

    # A contact's user comes after its account's customer (contact 30 belongs to account 0).
    assert int(links[crm_id(ACME, "Contacts", 30)].cscart_id) > user_ids[0]

    # Existing CS-Cart customers are matched by e-mail, case-insensitively, and adopted, not duplicated.
    jane = links[crm_id(ACME, "Contacts", 0)]
    assert jane.cscart_id == next(r["user_id"] for r in before.values() if r["email"] == "jane.doe@example.com")
    maria = links[crm_id(ACME, "Contacts", 7)]
    assert maria.cscart_id == next(r["user_id"] for r in before.values() if r["email"] == "maria.garcia@example.com")
    assert z2c["linked_existing"] >= 2

    # No e-mail: a deterministic .invalid placeholder, flagged in the report and the state store.
    nomail = links[crm_id(ACME, "Contacts", 1)]
    assert "no_email" in nomail.flags
    assert customers[nomail.cscart_id]["email"].endswith("@acme-store.invalid")
    assert z2c["flags"]["no_email"] >= 1
    assert any(link.zoho_id == nomail.zoho_id for link in store.list_links(ACME, "customers", flag="no_email"))

    # Two Zoho contacts sharing one e-mail: one user; the other waits in quarantine naming the e-mail.
    assert len(by_email[SHARED_INBOX]) == 1
    second = crm_id(ACME, "Contacts", 3)
    entries = {e.source_id: e for e in store.list_quarantine(ACME, "customers", "zoho_to_cscart")}
    assert second in entries and entries[second].field == "email"
    assert second not in links

    # Unicode, emoji and CJK names arrive intact.
    assert customers[links[crm_id(ACME, "Contacts", 4)].cscart_id]["lastname"] == "Ångström 🚀"
    assert customers[links[crm_id(ACME, "Contacts", 5)].cscart_id]["firstname"] == "小龙"
    assert customers[links[crm_id(ACME, "Accounts", 3)].cscart_id]["company"] == "Ünïcødé Trading 🚀 Ltd"

    # CS-Cart -> Zoho in the same run: the store's own customers reached Zoho; our imports were not echoed.
    assert c2z["created"] > 0 and c2z["unchanged"] >= z2c["created"]
    zoho = ZohoReader(sandbox_clean, ACME)
    shopper = next(r for r in before.values() if r["email"].endswith("@shoppers.example"))
    assert len(zoho.contacts_with_email(shopper["email"])) == 1
    assert len(zoho.contacts_with_email("jane.doe@example.com")) == 1

    # A second run of the same window writes nothing, in either direction.
    counters_before = sandbox_clean.counters()
    rerun = acme.run(ACME, full_refresh=True)
    assert rerun.state == "success"
    again = directions_of(rerun)
    for direction in ("zoho_to_cscart", "cscart_to_zoho"):
        assert again[direction]["created"] == 0 and again[direction]["updated"] == 0, again[direction]
    counters_after = sandbox_clean.counters()
    new_writes = {
        k: v - _writes(counters_before).get(k, 0)
        for k, v in _writes(counters_after).items()
        if v != _writes(counters_before).get(k, 0)
    }
    # Books contacts refused for good (a name Books already has) wait in quarantine, not retried unchanged.
    books_waiting = len(store.list_quarantine(ACME, "customers_books", "cscart_to_zoho"))
    assert books_waiting > 0 and again["cscart_to_zoho"]["books_waiting"] == books_waiting
    assert again["cscart_to_zoho"]["books_created"] == again["cscart_to_zoho"]["books_updated"] == 0
    assert new_writes == {}
    assert cscart_customers(sandbox_clean) == customers


def test_vendor_tenant_imports_root_accounts_and_scopes_to_its_company(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch)
    run = dags.run(VENDOR, full_refresh=True)
    assert run.state == "success"
    z2c = directions_of(run)["zoho_to_cscart"]
    assert set(directions_of(run)) == {"zoho_to_cscart"}
    links = {link.zoho_id: link for link in dags.store().list_links(VENDOR, "customers")}
    customers = cscart_customers(sandbox_clean)
    # Sub-accounts are shown, not imported on their own (vendor seed default).
    assert crm_id(VENDOR, "Accounts", 0) in links
    assert crm_id(VENDOR, "Accounts", 1) not in links and crm_id(VENDOR, "Accounts", 2) not in links
    assert z2c["skipped"] >= 2
    # Everything the vendor created belongs to its company.
    created = [customers[link.cscart_id] for link in links.values() if link.cscart_id in customers]
    assert created and all(row["company_id"] == "2" for row in created if row["email"].endswith(".invalid"))
    # A contact of the level-3 sub-account still arrives, after the root account it folds into.
    jane = links[crm_id(VENDOR, "Contacts", 0)]
    assert int(jane.cscart_id) > int(links[crm_id(VENDOR, "Accounts", 0)].cscart_id)


def test_record_ids_sync_exactly_those_records(acme, sandbox_clean):
    before = cscart_customers(sandbox_clean)
    # Contacts 14 and 19 have no account (index % 5 == 4), so nothing else has to come first.
    wanted = [crm_id(ACME, "Contacts", 14), crm_id(ACME, "Contacts", 19)]
    run = acme.run(ACME, record_ids=wanted, direction="zoho_to_cscart")
    assert run.state == "success"
    after = cscart_customers(sandbox_clean)
    assert len(after) == len(before) + 2
    links = list(acme.store().list_links(ACME, "customers"))
    assert sorted(link.zoho_id for link in links) == sorted(wanted)
    assert "cscart_to_zoho" not in directions_of(run)

    # The other direction by CS-Cart user id: exactly one upsert of exactly that customer.
    shopper = next(r for r in before.values() if r["email"].endswith("@shoppers.example"))
    run = acme.run(ACME, record_ids=[shopper["user_id"]], direction="cscart_to_zoho")
    assert run.state == "success"
    c2z = directions_of(run)["cscart_to_zoho"]
    assert (c2z["extracted"], c2z["created"] + c2z["updated"]) == (1, 1)
    assert len(ZohoReader(sandbox_clean, ACME).contacts_with_email(shopper["email"])) == 1


def test_cscart_edit_goes_to_zoho_once_and_is_not_echoed_back(acme, sandbox_clean):
    assert acme.run(ACME, full_refresh=True).state == "success"
    shopper = next(r for r in cscart_customers(sandbox_clean).values() if r["email"].endswith("@shoppers.example"))
    cscart_update_user(sandbox_clean, shopper["user_id"], {"lastname": "Renamed-in-CS-Cart"})

    run = acme.run(ACME)
    assert run.state == "success"
    report = directions_of(run)
    assert report["cscart_to_zoho"]["updated"] == 1
    zoho = ZohoReader(sandbox_clean, ACME).contacts_with_email(shopper["email"])
    assert [c["Last_Name"] for c in zoho] == ["Renamed-in-CS-Cart"]

    # The Zoho contact was modified by our upsert; reading it back must not write CS-Cart again.
    rerun = acme.run(ACME)
    again = directions_of(rerun)
    assert again["zoho_to_cscart"]["created"] == again["zoho_to_cscart"]["updated"] == 0
    assert again["cscart_to_zoho"]["created"] == again["cscart_to_zoho"]["updated"] == 0


def test_zoho_deletion_deactivates_the_cscart_user(acme, sandbox_clean):
    assert acme.run(ACME, full_refresh=True, direction="zoho_to_cscart").state == "success"
    contact = crm_id(ACME, "Contacts", 4)
    user_id = acme.store().get_link(ACME, "customers", zoho_id=contact).cscart_id
    ZohoReader(sandbox_clean, ACME).delete("Contacts", contact)

    run = acme.run(ACME, direction="zoho_to_cscart")
    assert run.state == "success"
    assert directions_of(run)["zoho_to_cscart"]["deactivated"] == 1
    assert cscart_customers(sandbox_clean)[user_id]["status"] == "D"  # deactivated, not deleted
    assert acme.store().get_link(ACME, "customers", zoho_id=contact).deleted_at is not None


@pytest.mark.parametrize(("master", "winner"), [("zoho", "Zoho-Side"), ("cscart", "CSCart-Side")])
def test_both_sides_changed_the_master_wins_and_the_conflict_is_reported(
    tmp_path, sandbox_clean, monkeypatch, airflow_db, master, winner
):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, {ACME: {"master": master}})
    assert dags.run(ACME, full_refresh=True).state == "success"
    contact = crm_id(ACME, "Contacts", 4)
    user_id = dags.store().get_link(ACME, "customers", zoho_id=contact).cscart_id
    zoho = ZohoReader(sandbox_clean, ACME)
    zoho.update("Contacts", contact, {"Last_Name": "Zoho-Side"})
    cscart_update_user(sandbox_clean, user_id, {"lastname": "CSCart-Side"})

    # A dry run reports the conflict but stores nothing.
    dry = dags.run(ACME, full_refresh=True, dry_run=True, direction="zoho_to_cscart")
    assert directions_of(dry)["zoho_to_cscart"]["conflicts"] == 1
    assert dags.store().count_lost_conflicts(ACME, "customers") == 0

    # Full reads: an edit made in the same second the previous window ended in could fall before a windowed
    # run's start (Zoho's Modified_Time is whole seconds); the conflict is about the content, not the window.
    run = dags.run(ACME, full_refresh=True)
    assert run.state == "success"
    assert directions_of(run)["zoho_to_cscart"]["conflicts"] == 1
    assert cscart_customers(sandbox_clean)[user_id]["lastname"] == winner
    email = cscart_customers(sandbox_clean)[user_id]["email"]
    assert [c["Last_Name"] for c in zoho.contacts_with_email(email)] == [winner]

    # The losing change is stored for the console and the CLI: its direction and record, the master's record.
    lost = ("cscart_to_zoho", user_id, contact) if master == "zoho" else ("zoho_to_cscart", contact, user_id)
    [stored] = dags.store().lost_conflicts_page(ACME, "customers")
    assert (stored.direction, stored.source_id, stored.target_id, stored.master) == (*lost, master)
    assert (stored.run_id, stored.occurrences) == (run.run_id, 1)

    # Settled: the next run has nothing to write and no conflict left.
    again = directions_of(dags.run(ACME, full_refresh=True))
    assert again["zoho_to_cscart"]["conflicts"] == 0
    for direction in ("zoho_to_cscart", "cscart_to_zoho"):
        assert again[direction]["created"] == again[direction]["updated"] == 0, again[direction]
    assert [(c.run_id, c.occurrences) for c in dags.store().lost_conflicts_page(ACME, "customers")] == [(run.run_id, 1)]


def test_non_buyers_go_to_leads_when_the_tenant_says_so(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = make_customers_dags(
        tmp_path,
        sandbox_clean,
        monkeypatch,
        {ACME: {"settings": {"cscart_customers_to": "leads_for_non_buyers", "also_to_books": False}}},
    )
    # Every seed customer has ordered; a customer who only registered is added for this test.
    _http_post_user(sandbox_clean, {"email": "registered.only@shoppers.example", "user_type": "C", "company_id": "0"})
    orders = _http_orders(sandbox_clean)
    buyers = {str(o["user_id"]) for o in orders if str(o["user_id"]) != "0"}
    customers = cscart_customers(sandbox_clean)
    buyer = next(r for r in customers.values() if r["user_id"] in buyers)
    non_buyer = next(r for r in customers.values() if r["user_id"] not in buyers)
    assert non_buyer["email"] == "registered.only@shoppers.example"

    run = dags.run(ACME, direction="cscart_to_zoho")
    assert run.state == "success"
    zoho = ZohoReader(sandbox_clean, ACME)
    lead_literal = non_buyer["email"].replace("'", "''")
    assert len(zoho.contacts_with_email(buyer["email"])) == 1
    assert zoho.contacts_with_email(non_buyer["email"]) == []
    leads = zoho.coql(f"select id, Email from Leads where Email = '{lead_literal}' limit 5")
    assert len(leads) == 1
    assert "crm_lead" in dags.store().get_link(ACME, "customers", cscart_id=non_buyer["user_id"]).flags


def _http_orders(sandbox) -> list[dict]:
    from tests.e2e.customers_support import _cscart_headers, _http_json

    body = _http_json(f"{sandbox.cscart_url}/api/orders?items_per_page=0", headers=_cscart_headers(sandbox))
    return list(body["orders"])


def _http_post_user(sandbox, body: dict) -> None:
    from tests.e2e.customers_support import _cscart_headers, _http_json

    _http_json(f"{sandbox.cscart_url}/api/users", headers=_cscart_headers(sandbox), method="POST", body=body)


def test_dry_run_reports_what_it_would_do_and_writes_nothing(acme, sandbox_clean):
    before = cscart_customers(sandbox_clean)
    run = acme.run(ACME, full_refresh=True, dry_run=True, direction="zoho_to_cscart")
    assert run.state == "success"
    z2c = directions_of(run)["zoho_to_cscart"]
    assert z2c["created"] > 80 and z2c["linked_existing"] >= 2  # the same decisions a real run takes
    assert cscart_customers(sandbox_clean) == before
    store = acme.store()
    assert list(store.list_links(ACME, "customers")) == []
    assert store.list_quarantine(ACME, "customers") == []
