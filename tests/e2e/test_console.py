"""The operator console in a real Airflow 3.3 api-server (plugin loaded from the package's entry point).

API level: the page renders the numbers the state store holds, a viewer gets no button and 403, and "sync this"
creates a DAG run with that record id through Airflow's REST API. Browser level (Debian's chromium through
chromedriver; skipped when absent unless ZCS_REQUIRE_BROWSER=1, which `.ci/run` sets once it installed them): each
user signs in through Airflow's own login form (the simple auth manager's page, reached from the console's "Log in
to Airflow" link, which brings the user back), the tiles show the store's numbers, a viewer sees no button, "sync
this" and "import selected" create runs with those record ids; the screenshot goes to docs/.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
import time

import httpx
import pytest

from tests.e2e.airflow_cluster import REPO_ROOT, start_airflow_cluster
from tests.e2e.test_scheduler_runs import DAG_FILE, DAG_ID, TENANT
from tests.e2e.webdriver import Browser, chromedriver_path, chromium_path
from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.state.models import EntityCounts
from zoho_cscart_sync.state.unlinked import UnlinkedSeen

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

TENANT_ID = "echo_shop"
Z2C = "zoho_to_cscart"
PASSWORDS = {"admin": "admin-pw", "viewer": "viewer-pw"}
COUNTS = EntityCounts(
    cscart_total=1_204, synced=1_150, not_synced=54, zoho_total=1_390, not_in_cscart=240, already_imported=1_101,
    zoho_counted_run_id="manual__r1",
)  # fmt: skip
EXPECTED_TILES = {
    "cscart_total": "1,204", "synced": "1,150", "not_synced": "54",
    "zoho_total": "1,390", "not_in_cscart": "240", "already_imported": "1,101",
}  # fmt: skip
SCREENSHOT = REPO_ROOT / "docs" / "operator_console.png"


NOT_IN_CSCART = {
    "z-new-1": ("accounts", "Acme Corp", "sub-account of account 77: shown in Zoho, not imported on its own"),
    "z-new-2": (
        "contacts",
        "Jane Roe · jane@roe.example",
        "quarantined (waiting): its account z-new-1 is not in CS-Cart",
    ),
    "z-new-3": ("accounts", "Bolt & Nut Ltd", "sub-account of account 77: shown in Zoho, not imported on its own"),
}


def _fill(store: StateStore) -> None:
    store.save_run_counts(TENANT_ID, "customers", "manual__r1", COUNTS)
    store.note_unlinked(
        TENANT_ID, "customers", run_id="manual__r1",
        seen=[UnlinkedSeen(zoho_id, *about) for zoho_id, about in NOT_IN_CSCART.items()],
    )  # fmt: skip
    for number in range(3):
        store.quarantine(
            TENANT_ID, "customers", Z2C, f"z-bad-{number}", reason=f"email 'dup{number}@x.example' is taken",
            stage="load", run_id="manual__r1", field="email", kind="content",
        )  # fmt: skip
    store.save_link(
        TENANT_ID, "customers", zoho_id="z-no-mail", cscart_id="77", run_id="manual__r1", flags=["no_email"],
        natural_keys={"email": f"no-email+1a2b@{TENANT_ID}.invalid"},
    )  # fmt: skip
    for hour, (created, failed) in enumerate([(120, 0), (30, 2), (8, 3), (14, 0)]):
        store.save_run_stats(
            TENANT_ID, "customers", f"scheduled__2026-11-02T0{hour}:00:00+00:00",
            {Z2C: {"succeeded": True, "created": created, "updated": 5, "failed": failed,
                   "api_calls": {"cscart POST /api/users": created + failed}}},
        )  # fmt: skip


@pytest.fixture(scope="module")
def console(tmp_path_factory, postgres_url):
    root = tmp_path_factory.mktemp("console")
    tenants = root / "tenants"
    tenants.mkdir()
    (tenants / f"{TENANT_ID}.yaml").write_text(TENANT)
    dags = root / "dags"
    dags.mkdir()
    (dags / "echo_dags.py").write_text(textwrap.dedent(DAG_FILE.format(tenants_dir=str(tenants))))
    state_file = root / "state.db"
    with StateStore.from_url(f"sqlite:///{state_file}") as store:
        _fill(store)
    passwords = root / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    env = {
        "ZCS_ECHO_DIR": str(root),
        "ZCS_TENANTS_DIR": str(tenants),
        "AIRFLOW_CONN_ZOHO_CSCART_STATE": json.dumps({"conn_type": "sqlite", "host": str(state_file)}),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
    }
    with start_airflow_cluster(
        root / "airflow_home", dags, env, postgres_server_url=postgres_url, tenants=[TENANT_ID]
    ) as airflow:
        airflow.wait_healthy()
        airflow.wait_for_dag(DAG_ID)
        yield airflow


def _token(airflow, user: str) -> str:
    answer = httpx.post(f"{airflow.api_url}/auth/token", json={"username": user, "password": PASSWORDS[user]})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _page_url(airflow) -> str:
    return f"{airflow.api_url}/zoho-cscart/t/{TENANT_ID}/customers"


def _runs_with(airflow, record_id: str, timeout: float = 30) -> list[tuple[str, dict]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = airflow._query("select run_id, conf from dag_run where dag_id = :d", d=DAG_ID)
        found = [
            (str(run_id), conf if isinstance(conf, dict) else json.loads(conf or "{}"))
            for run_id, conf in rows
            if record_id in json.dumps(conf if isinstance(conf, dict) else json.loads(conf or "{}"))
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1)


def test_plugin_is_registered_with_its_navigation_entry(console):
    plugins = httpx.get(
        f"{console.api_url}/api/v2/plugins", headers={"Authorization": f"Bearer {_token(console, 'admin')}"}
    ).json()["plugins"]
    [ours] = [p for p in plugins if p["name"] == "zoho_cscart_console"]
    assert ours["external_views"][0]["href"] == "/zoho-cscart/"
    assert ours["external_views"][0]["url_route"] == "zoho-cscart"
    # A tab on every DAG's page; Airflow's UI puts the DAG id in place of {DAG_ID}, and the console answers it
    # with that DAG's tenant and entity.
    [tab] = [view for view in ours["external_views"] if view["destination"] == "dag"]
    assert tab["href"] == "/zoho-cscart/dag/{DAG_ID}"
    admin = {"Authorization": f"Bearer {_token(console, 'admin')}"}
    opened = httpx.get(console.api_url + tab["href"].replace("{DAG_ID}", DAG_ID), headers=admin, follow_redirects=True)
    assert opened.status_code == 200 and str(opened.url) == _page_url(console), (opened.status_code, opened.url)
    assert 'data-tile="cscart_total"' in opened.text


def test_page_renders_the_state_stores_numbers_and_a_viewer_gets_no_button_and_403(console):
    viewer = {"Authorization": f"Bearer {_token(console, 'viewer')}"}
    page = httpx.get(_page_url(console), headers=viewer)
    assert page.status_code == 200, page.text[:500]
    tiles = dict(re.findall(r'data-tile="(\w+)"><div class="value">([^<]+)<', page.text))
    assert tiles == EXPECTED_TILES
    assert "(3 open)" in page.text and f"no-email+1a2b@{TENANT_ID}.invalid" in page.text
    assert "data-action" not in page.text
    assert "Bolt &amp; Nut Ltd" in page.text and 'name="zoho_id"' not in page.text
    refused = httpx.post(f"{_page_url(console)}/sync", data={"record": f"{Z2C}:z-bad-0"}, headers=viewer)
    assert refused.status_code == 403
    assert httpx.post(f"{_page_url(console)}/import", data={"zoho_id": "z-new-2"}, headers=viewer).status_code == 403
    assert _runs_with(console, "z-bad-0", timeout=0) == [] and _runs_with(console, "z-new-2", timeout=0) == []


def test_sync_this_creates_a_dag_run_with_that_record_id_through_the_rest_api(console):
    admin = {"Authorization": f"Bearer {_token(console, 'admin')}"}
    answer = httpx.post(f"{_page_url(console)}/sync", data={"record": f"{Z2C}:z-bad-1"}, headers=admin)
    assert answer.status_code == 303, answer.text[:500]
    [(run_id, conf)] = _runs_with(console, "z-bad-1")
    assert conf == {"record_ids": ["z-bad-1"]}  # a one-way DAG: no direction parameter to choose
    assert run_id in answer.headers["location"].replace("%3A", ":").replace("%2B", "+")


@pytest.fixture(scope="module")
def browser():
    driver, binary = chromedriver_path(), chromium_path()
    if not (driver and binary):
        if os.environ.get("ZCS_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium / chromedriver are not installed (apt-get install -y chromium chromium-driver)")
        pytest.skip("chromium / chromedriver are not installed (apt-get install -y chromium chromium-driver)")
    session = Browser(driver, binary)
    yield session
    session.quit()


def _log_in_through_airflow(browser, airflow, user: str) -> None:
    """No session: the console answers 401 with Airflow's login link; Airflow's own form signs the user in (it sets the
    UI's ``_token`` cookie) and sends them back to the console page."""
    browser.delete_cookies()
    browser.get(_page_url(airflow))
    browser.wait_for("#login")
    browser.click("#login")
    browser.wait_for('input[name="username"]')
    assert browser.current_url().startswith(f"{airflow.api_url}/auth/login")
    browser.type('input[name="username"]', user)
    browser.type('input[name="password"]', PASSWORDS[user])
    deadline = time.monotonic() + 10
    while not browser.enabled('button[type="submit"]') and time.monotonic() < deadline:
        time.sleep(0.2)
    browser.click('button[type="submit"]')
    browser.wait_for('[data-tile="synced"]')
    assert browser.current_url() == _page_url(airflow)
    assert browser.text("header .user") == f"signed in as {user}"


def test_in_a_browser_users_sign_in_through_airflows_form_see_the_numbers_and_their_clicks_create_runs(
    console, browser
):
    _log_in_through_airflow(browser, console, "viewer")
    assert browser.find_all("[data-action]") == []
    assert browser.find_all("#read-only")
    assert len(browser.find_all("[data-unlinked]")) == 3 and browser.find_all('input[name="zoho_id"]') == []

    _log_in_through_airflow(browser, console, "admin")
    browser.wait_for('[data-action="sync-this"]')
    shown = {key: browser.text(f'[data-tile="{key}"] .value') for key in EXPECTED_TILES}
    assert shown == EXPECTED_TILES
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.screenshot(SCREENSHOT)

    browser.click(f'[data-quarantine="{Z2C}:z-bad-2"] [data-action="sync-this"]')
    browser.wait_for("#message")
    [(run_id, conf)] = _runs_with(console, "z-bad-2")
    assert conf == {"record_ids": ["z-bad-2"]}
    assert run_id in browser.text("#message")

    # Import selected: two of the Zoho records not in CS-Cart, one run (a one-way DAG: no direction to choose).
    browser.click('[data-unlinked="z-new-1"] input[name="zoho_id"]')
    browser.click('[data-unlinked="z-new-3"] input[name="zoho_id"]')
    browser.click('[data-action="import-selected"]')
    browser.wait_for("#message")
    [(run_id, conf)] = _runs_with(console, "z-new-3")
    assert conf == {"record_ids": ["z-new-1", "z-new-3"]}
    deadline = time.monotonic() + 10
    while run_id not in browser.text("#message") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"run {run_id} created for 2 record(s), {Z2C}" in browser.text("#message")
