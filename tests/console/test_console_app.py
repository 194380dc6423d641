"""The console's FastAPI app through TestClient: permissions decided by Airflow's simple auth manager, pagination,
and the runs its buttons ask Airflow's REST API for."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.console.support import C2Z, TENANT, Z2C, FakeTrigger, SimpleUsers, fill_store, write_tenants
from zoho_cscart_sync.console.app import ConsoleSettings, create_app
from zoho_cscart_sync.state import StateStore

PRODUCTS = f"/t/{TENANT}/products"
CUSTOMERS = f"/t/{TENANT}/customers"
DAG = f"zoho_cscart__{TENANT}__products"


@pytest.fixture
def console(tmp_path):
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    fill_store(store)
    trigger = FakeTrigger()
    settings = ConsoleSettings(
        tenants_dir=write_tenants(tmp_path),
        store_factory=lambda: store,
        access=SimpleUsers(),
        trigger_factory=lambda request: trigger,
        token_key_for=lambda conn_id: f"zoho:{conn_id}",
        page_size=2,
    )
    client = TestClient(create_app(settings))
    yield client, store, trigger
    store.close()


def _as(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user}"}


def test_the_page_shows_the_tiles_and_sections_from_the_state_store(console):
    client, _, _ = console
    page = client.get(PRODUCTS, headers=_as("viewer"))
    assert page.status_code == 200
    html = page.text
    tiles = dict(re.findall(r'data-tile="(\w+)"><div class="value">([^<]+)<', html))
    assert tiles == {
        "cscart_total": "272,028", "synced": "55", "not_synced": "271,973",
        "zoho_total": "145", "not_in_cscart": "43", "already_imported": "102",
    }  # fmt: skip
    assert "(3 open)" in html and "sku refused 0" in html
    assert "manual__2026-11-21T09:00:00+00:00" in html and "<svg" in html  # run history and its chart
    assert 'data-watermark="zoho_to_cscart"' in html and "2026-11-21 09:00:00 UTC" in html
    assert "no cached token" in html and "zoho_acme_store" in html
    index = client.get("/", headers=_as("viewer")).text
    assert "272,028" in index and f"{TENANT}/customers" in index


def test_a_viewer_sees_no_button_and_gets_403_from_every_action(console):
    client, store, trigger = console
    html = client.get(PRODUCTS, headers=_as("viewer")).text
    assert "data-action" not in html and 'id="read-only"' in html
    assert "data-unlinked" in html and 'name="zoho_id"' not in html  # listed, but no checkbox to import with
    for action, form in (
        ("sync", {"record": f"{Z2C}:5725767000000000"}),
        ("import", {"zoho_id": "4600000000000000"}),
        ("retry", {"direction": Z2C}),
        ("reset", {"confirm": f"{TENANT}/products"}),
    ):
        answer = client.post(f"{PRODUCTS}/{action}", data=form, headers=_as("viewer"), follow_redirects=False)
        assert answer.status_code == 403, action
    assert trigger.calls == []
    assert store.quarantine_counts(TENANT, "products") == {(Z2C, "content"): 3}  # no reset happened


def test_without_a_login_the_page_says_so_with_a_link_to_airflows_login(console):
    client, _, _ = console
    answer = client.get(PRODUCTS)
    assert answer.status_code == 401
    assert 'href="/auth/login"' in answer.text


def test_an_operator_sees_the_buttons_and_sync_this_asks_airflow_for_a_run_with_that_record(console):
    client, _, trigger = console
    html = client.get(PRODUCTS, headers=_as("operator")).text
    assert html.count('data-action="sync-this"') == 2  # page size 2
    answer = client.post(
        f"{PRODUCTS}/sync", data={"record": f"{Z2C}:5725767000000001"}, headers=_as("operator"), follow_redirects=False
    )
    assert answer.status_code == 303
    assert trigger.calls == [(DAG, {"record_ids": ["5725767000000001"], "direction": Z2C}, "operator")]
    assert (
        "manual__console_1"
        in client.get(answer.headers["location"].removeprefix("/zoho-cscart"), headers=_as("operator")).text
    )


def test_sync_selected_makes_one_run_per_direction_and_typed_ids_use_the_chosen_direction(console):
    client, _, trigger = console
    answer = client.post(
        f"{PRODUCTS}/sync",
        data={"record": [f"{Z2C}:a", f"{C2Z}:b", f"{Z2C}:c", f"{Z2C}:a"], "direction": C2Z, "ids": "d, e\nf"},
        headers={**_as("admin"), "Accept": "application/json"},
    )
    assert answer.status_code == 200
    assert [conf for _, conf, _ in trigger.calls] == [
        {"record_ids": ["b", "d", "e", "f"], "direction": C2Z},
        {"record_ids": ["a", "c"], "direction": Z2C},
    ]
    assert client.post(f"{PRODUCTS}/sync", data={"record": "sideways:x"}, headers=_as("admin")).status_code == 400
    assert client.post(f"{PRODUCTS}/sync", data={}, headers=_as("admin")).status_code == 400


def test_retry_quarantined_sends_the_open_quarantine_ids_of_the_direction(console):
    client, _, trigger = console
    client.post(f"{PRODUCTS}/retry", data={"direction": Z2C}, headers=_as("operator"), follow_redirects=False)
    # Selected rows: only those still quarantined are retried.
    client.post(
        f"{PRODUCTS}/retry", data={"record": [f"{Z2C}:5725767000000002", f"{Z2C}:not-quarantined"]},
        headers=_as("operator"), follow_redirects=False,
    )  # fmt: skip
    assert [conf for _, conf, _ in trigger.calls] == [
        {"record_ids": ["5725767000000000", "5725767000000001", "5725767000000002"], "direction": Z2C},
        {"record_ids": ["5725767000000002"], "direction": Z2C},
    ]
    assert client.post(f"{PRODUCTS}/retry", data={"direction": C2Z}, headers=_as("operator")).status_code == 400


def test_airflow_refusing_the_run_is_passed_on(console):
    client, _, trigger = console
    trigger.refuse = 403
    answer = client.post(f"{PRODUCTS}/sync", data={"record": f"{Z2C}:x"}, headers=_as("operator"))
    assert answer.status_code == 403
    assert "Airflow refused the run" in answer.text


def test_reset_needs_the_typed_confirmation_keeps_the_id_map_and_refuses_a_cross_site_post(console):
    client, store, _ = console
    assert client.post(f"{CUSTOMERS}/reset", data={"confirm": "yes"}, headers=_as("operator")).status_code == 400
    cross = client.post(
        f"{CUSTOMERS}/reset",
        data={"confirm": f"{TENANT}/customers"},
        headers={**_as("operator"), "Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    store.record_write(
        TENANT, "customers", Z2C, source_id="z0", target_id="100", target_hash="h", echo_hash=None,
        natural_keys=None, flags=None, run_id="r2",
    )  # fmt: skip
    answer = client.post(
        f"{CUSTOMERS}/reset", data={"confirm": f"{TENANT}/customers"}, headers=_as("operator"), follow_redirects=False
    )
    assert answer.status_code == 303
    link = store.get_link(TENANT, "customers", zoho_id="z0")
    assert link is not None and link.cscart_id == "100" and link.hash_to_cscart is None


def test_quarantine_and_no_email_lists_are_paged_by_key(console):
    client, _, _ = console
    first = client.get(f"/api{PRODUCTS}/quarantine", headers=_as("viewer")).json()
    assert [i["source_id"] for i in first["items"]] == ["5725767000000000", "5725767000000001"]
    second = client.get(f"/api{PRODUCTS}/quarantine", params=first["next"], headers=_as("viewer")).json()
    assert [i["source_id"] for i in second["items"]] == ["5725767000000002"] and second["next"] is None
    html = client.get(PRODUCTS, headers=_as("viewer")).text
    next_link = re.search(r'href="/zoho-cscart(/t/[^"]+)" data-pager="quarantine-next"', html).group(1)
    assert "sku refused 2" in client.get(next_link.replace("&amp;", "&"), headers=_as("viewer")).text
    customers = client.get(CUSTOMERS, headers=_as("viewer")).text
    assert "(2 with a placeholder address" in customers and f"no-email+1@{TENANT}.invalid" in customers
    assert client.get(PRODUCTS, params={"size": 100000}, headers=_as("viewer")).status_code == 400
    assert client.get(f"/t/{TENANT}/orders", headers=_as("viewer")).status_code == 404


def test_lost_conflicts_are_listed_a_page_at_a_time_without_a_sync_button(console):
    client, store, _ = console
    for number in range(3):
        store.record_lost_conflict(
            TENANT, "customers", Z2C, f"z{number}", target_id=f"u{number}", master="cscart", run_id="run-c"
        )
    store.record_lost_conflict(TENANT, "customers", Z2C, "z0", target_id="u0", master="cscart", run_id="run-d")

    first = client.get(f"/api{CUSTOMERS}/conflicts", headers=_as("viewer")).json()
    assert first["total"] == 3
    assert [(i["direction"], i["source_id"], i["target_id"], i["master"]) for i in first["items"]] == [
        (Z2C, "z0", "u0", "cscart"),
        (Z2C, "z1", "u1", "cscart"),
    ]
    assert (first["items"][0]["run_id"], first["items"][0]["occurrences"]) == ("run-d", 2)
    second = client.get(f"/api{CUSTOMERS}/conflicts", params=first["next"], headers=_as("viewer")).json()
    assert [i["source_id"] for i in second["items"]] == ["z2"] and second["next"] is None

    html = client.get(CUSTOMERS, headers=_as("operator")).text
    assert 'Lost conflicts <span class="muted">(3 records)' in html
    assert re.findall(r'data-conflict="([^"]+)"', html) == [f"{Z2C}:z0", f"{Z2C}:z1"]
    section = html[html.index('id="conflicts"') : html.index("</section>", html.index('id="conflicts"'))]
    assert "data-action" not in section  # nothing to push: the master's version was written over the loser
    next_link = re.search(r'href="/zoho-cscart(/t/[^"]+)" data-pager="conflicts-next"', html).group(1)
    page_two = client.get(next_link.replace("&amp;", "&"), headers=_as("operator")).text
    assert re.findall(r'data-conflict="([^"]+)"', page_two) == [f"{Z2C}:z2"]
    assert "No lost conflicts." in client.get(PRODUCTS, headers=_as("viewer")).text
    assert client.get(f"/api/t/{TENANT}/orders/conflicts", headers=_as("viewer")).status_code == 404


def test_not_in_cscart_lists_zoho_records_a_page_at_a_time_and_import_selected_asks_for_one_run(console):
    client, store, trigger = console
    html = client.get(PRODUCTS, headers=_as("operator")).text
    assert "Not in CS-Cart" in html and "(3 Zoho records)" in html
    assert re.findall(r'data-unlinked="([^"]+)"', html) == ["4600000000000000", "4600000000000001"]  # page size 2
    assert "Mug 0 · MUG-0" in html and "status &#39;inactive&#39; is not imported" in html
    assert html.count('name="zoho_id"') == 2 and 'data-action="import-selected"' in html
    next_link = re.search(r'href="/zoho-cscart(/t/[^"]+)" data-pager="unlinked-next"', html).group(1)
    page_two = client.get(next_link.replace("&amp;", "&"), headers=_as("operator")).text
    assert re.findall(r'data-unlinked="([^"]+)"', page_two) == ["4600000000000002"]

    first = client.get(f"/api{PRODUCTS}/unlinked", headers=_as("viewer")).json()
    assert first["total"] == 3 and [i["zoho_id"] for i in first["items"]] == ["4600000000000000", "4600000000000001"]
    second = client.get(f"/api{PRODUCTS}/unlinked", params=first["next"], headers=_as("viewer")).json()
    assert [i["label"] for i in second["items"]] == ["Mug 2 · MUG-2"] and second["next"] is None

    # Linked meanwhile (by any direction): no longer offered, and not sent.
    store.save_link(TENANT, "products", zoho_id="4600000000000001", cscart_id="501", run_id="r9")
    answer = client.post(
        f"{PRODUCTS}/import",
        data={"zoho_id": ["4600000000000002", "4600000000000000", "4600000000000001"]},
        headers=_as("operator"),
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert trigger.calls == [
        (DAG, {"record_ids": ["4600000000000002", "4600000000000000"], "direction": Z2C}, "operator")
    ]
    assert "manual__console_1" in answer.headers["location"]
    assert (
        client.post(f"{PRODUCTS}/import", data={"zoho_id": "4600000000000001"}, headers=_as("operator")).status_code
        == 400
    )
    assert client.post(f"{PRODUCTS}/import", data={}, headers=_as("operator")).status_code == 400
    trigger.refuse = 403
    refused = client.post(f"{PRODUCTS}/import", data={"zoho_id": "4600000000000000"}, headers=_as("operator"))
    assert refused.status_code == 403 and "Airflow refused the run" in refused.text


def test_a_tenant_that_does_not_read_zoho_has_no_import_list(tmp_path):
    folder = write_tenants(tmp_path)
    (folder / f"{TENANT}.yaml").write_text(
        (folder / f"{TENANT}.yaml")
        .read_text()
        .replace("products: {direction: both}", "products: {direction: cscart_to_zoho}")
    )
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    fill_store(store)
    trigger = FakeTrigger()
    client = TestClient(
        create_app(
            ConsoleSettings(
                tenants_dir=folder, store_factory=lambda: store, access=SimpleUsers(),
                trigger_factory=lambda request: trigger, token_key_for=lambda conn_id: f"zoho:{conn_id}",
            )
        )
    )  # fmt: skip
    html = client.get(PRODUCTS, headers=_as("operator")).text
    assert "does not sync products from Zoho to CS-Cart" in html and "data-unlinked" not in html
    answer = client.post(f"{PRODUCTS}/import", data={"zoho_id": "4600000000000000"}, headers=_as("operator"))
    assert answer.status_code == 400 and trigger.calls == []
    store.close()


def test_quarantine_can_be_ordered_newest_last_seen_first_and_paged_by_that_key(console):
    client, store, _ = console
    store.quarantine(TENANT, "products", Z2C, "5725767000000000", reason="again", stage="load", run_id="r2",
                     kind="content")  # fmt: skip
    html = client.get(PRODUCTS, params={"qsort": "last_seen"}, headers=_as("viewer")).text
    assert re.findall(r'data-quarantine="[^:]+:([^"]+)"', html) == ["5725767000000000", "5725767000000002"]
    assert "<b>newest last seen first</b>" in html
    next_link = re.search(r'href="/zoho-cscart(/t/[^"]+)" data-pager="quarantine-next"', html).group(1)
    assert "qsort=last_seen" in next_link and "qls=" in next_link
    page_two = client.get(next_link.replace("&amp;", "&"), headers=_as("viewer")).text
    assert re.findall(r'data-quarantine="[^:]+:([^"]+)"', page_two) == ["5725767000000001"]
    first = client.get(f"/api{PRODUCTS}/quarantine", params={"sort": "last_seen"}, headers=_as("viewer")).json()
    assert [i["source_id"] for i in first["items"]] == ["5725767000000000", "5725767000000002"]
    second = client.get(f"/api{PRODUCTS}/quarantine", params=first["next"], headers=_as("viewer")).json()
    assert [i["source_id"] for i in second["items"]] == ["5725767000000001"] and second["next"] is None
    assert client.get(PRODUCTS, params={"qsort": "age"}, headers=_as("viewer")).status_code == 400
    bad = {"qsort": "last_seen", "qls": "yesterday", "qad": Z2C, "qaid": "x"}
    assert client.get(PRODUCTS, params=bad, headers=_as("viewer")).status_code == 400


def test_the_tab_on_a_dag_page_opens_that_dags_tenant_and_entity(console):
    client, _store, _trigger = console
    # Airflow's UI puts the DAG's id into the tab's href (/dag/{DAG_ID}) on every DAG's page.
    opened = client.get(f"/dag/{DAG}", headers=_as("viewer"), follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, f"/zoho-cscart{PRODUCTS}")
    # Another DAG of the Airflow instance: said plainly, not an error page about a tenant.
    other = client.get("/dag/some_etl_dag", headers=_as("viewer"))
    assert other.status_code == 404 and "some_etl_dag is not a" in other.text
    # Without a login, the tab asks for one like every page.
    assert client.get(f"/dag/{DAG}", follow_redirects=False).status_code == 401
