"""ZohoHook over real HTTP against the sandbox: pagination, windows, retries, limits, token lifecycle."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from zoho_cscart_sync.hooks.zoho import ZohoHook, parse_zoho_datetime
from zoho_cscart_sync.http.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    FatalApiError,
    RateLimitedError,
    RetryableApiError,
)
from zoho_cscart_sync.state import StateStore

pytestmark = pytest.mark.integration

SEED_NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)
TOKEN = "POST /oauth/v2/token"
CONTACTS = "GET /crm/v8/Contacts"
FIELDS = ["Last_Name", "Email", "Modified_Time"]


def _ids(pages) -> list[str]:
    return [str(record["id"]) for page in pages for record in page]


def test_crm_pages_cross_the_2000_record_wall_with_page_token(sandbox_clean, make_zoho_hook, wire):
    sandbox_clean.reset(scale={"crm_contacts": 2450})
    hook = make_zoho_hook()
    total = hook._call("zoho_crm", "GET", "/crm/v8/Contacts/actions/count").body["count"]
    assert total > 2400  # the seed keeps one of the 2,450 generated contacts in the recycle bin
    pages = list(hook.crm_pages("Contacts", fields=["Last_Name"]))
    ids = _ids(pages)
    assert len(ids) == total
    assert len(set(ids)) == total
    assert [len(page) for page in pages] == [200] * 12 + [total - 2400]
    list_calls = [r for r in wire.requests if r.path_url.startswith("/crm/v8/Contacts?")]
    assert len(list_calls) == 13
    # Never a page number past the wall (Zoho answers DISCRETE_PAGINATION_LIMIT_EXCEEDED).
    assert all("page=11" not in r.url and "page=12" not in r.url for r in list_calls)
    assert sum("page_token=" in r.url for r in list_calls) == 12


@pytest.mark.parametrize("strategy", ["coql", "list"])
def test_crm_window_partitions_time_without_gaps_or_overlaps(make_zoho_hook, strategy: str):
    hook = make_zoho_hook()
    full = {
        str(record["id"]): parse_zoho_datetime(record["Modified_Time"])
        for page in hook.crm_pages("Contacts", fields=FIELDS)
        for record in page
    }
    assert len(full) >= 50
    boundaries = [
        SEED_NOW - timedelta(days=40),
        SEED_NOW - timedelta(days=15, microseconds=500_000),  # fractions must not lose boundary records
        SEED_NOW - timedelta(days=7),
        SEED_NOW + timedelta(days=1),
    ]
    seen: list[str] = []
    for since, until in itertools.pairwise(boundaries):
        window = _ids(hook.crm_window("Contacts", fields=FIELDS, since=since, until=until, strategy=strategy))
        expected = {rid for rid, modified in full.items() if since <= modified < until}
        assert set(window) == expected
        seen += window
    assert sorted(seen) == sorted(full)  # every record in exactly one window


@pytest.mark.parametrize("strategy", ["coql", "list"])
def test_crm_window_boundary_record_belongs_to_the_later_window(make_zoho_hook, strategy: str):
    hook = make_zoho_hook()
    records = [r for page in hook.crm_pages("Contacts", fields=FIELDS) for r in page]
    pivot = records[len(records) // 2]
    at = parse_zoho_datetime(pivot["Modified_Time"])
    before = _ids(hook.crm_window("Contacts", fields=FIELDS, since=None, until=at, strategy=strategy))
    after = _ids(hook.crm_window("Contacts", fields=FIELDS, since=at, until=None, strategy=strategy))
    assert pivot["id"] not in before
    assert pivot["id"] in after
    assert not set(before) & set(after)
    assert len(before) + len(after) == len(records)


def test_crm_window_with_nothing_modified_is_empty_and_cheap(make_zoho_hook, count_calls):
    hook = make_zoho_hook()
    assert list(hook.crm_window("Contacts", fields=FIELDS, since=SEED_NOW + timedelta(days=30), until=None)) == []
    assert count_calls("POST /crm/v8/coql") == 1
    assert (
        list(
            hook.crm_window("Contacts", fields=FIELDS, since=SEED_NOW + timedelta(days=30), until=None, strategy="list")
        )
        == []
    )
    assert count_calls(CONTACTS) == 1  # one 304


def test_crm_window_coql_survives_edits_during_the_scan(make_zoho_hook):
    hook = make_zoho_hook()
    since, until = SEED_NOW - timedelta(days=40), SEED_NOW + timedelta(days=1)
    expected = _ids(hook.crm_window("Contacts", fields=FIELDS, since=since, until=until))
    batches = hook.crm_window("Contacts", fields=FIELDS, since=since, until=until, batch_size=10)
    got = _ids([next(batches)])
    # Edit one record already returned and one not yet returned: both now carry a Modified_Time after
    # `until`, so they leave this window (a later window owns their new version). Nothing else may go missing.
    edited_later = expected[30]
    hook.crm_update("Contacts", [{"id": got[0], "Title": "edited"}, {"id": edited_later, "Title": "edited"}])
    got += _ids(batches)
    assert len(got) == len(set(got))
    assert set(got) == set(expected) - {edited_later}


def test_crm_window_coql_handles_many_records_in_one_second(make_zoho_hook):
    hook = make_zoho_hook()
    start = datetime.now(timezone.utc) - timedelta(seconds=2)
    results = hook.crm_upsert(
        "Contacts",
        [{"Last_Name": f"Tie {i}", "Email": f"tie{i}@example.com"} for i in range(30)],
        duplicate_check_fields=["Email"],
    )
    written = {r.id for r in results}
    window = _ids(
        hook.crm_window("Contacts", fields=FIELDS, since=start, until=start + timedelta(minutes=5), batch_size=4)
    )
    assert len(window) == len(set(window))
    assert set(window) == written


def test_token_expiry_in_the_middle_of_a_pagination(sandbox_clean, make_zoho_hook, count_calls):
    sandbox_clean.reset(scale={"crm_contacts": 700})
    hook = make_zoho_hook()
    pages = hook.crm_pages("Contacts", fields=["Last_Name"])
    ids = _ids([next(pages), next(pages)])
    sandbox_clean.set_knobs(force_expire_tokens=True)
    ids += _ids(pages)
    total = hook._call("zoho_crm", "GET", "/crm/v8/Contacts/actions/count").body["count"]
    assert len(ids) == total > 600
    assert len(set(ids)) == total
    assert count_calls(TOKEN) == 2  # one refresh, exactly
    assert count_calls(CONTACTS) == 4 + 1  # the rejected request was repeated once


def test_429_storm_is_ridden_out_honouring_retry_after(sandbox_clean, make_zoho_hook, status_count):
    hook = make_zoho_hook(max_attempts=6)
    hook.api_domain()  # mint first: the storm is about API calls
    sandbox_clean.set_knobs(burst_429=4, retry_after_seconds=0)
    assert len(_ids(hook.crm_pages("Contacts", fields=["Last_Name"]))) >= 59
    assert status_count("429") == 4

    sandbox_clean.set_knobs(burst_429=1, retry_after_seconds=1)
    started = time.monotonic()
    assert hook.crm_get("Contacts", _ids(hook.crm_pages("Contacts", fields=["Last_Name"]))[0]) is not None
    assert time.monotonic() - started >= 1.0  # the server's Retry-After was honoured


def test_429_storm_longer_than_the_attempts_fails_with_context(sandbox_clean, make_zoho_hook):
    hook = make_zoho_hook(max_attempts=3)
    hook.api_domain()
    sandbox_clean.set_knobs(burst_429=10, retry_after_seconds=0)
    with pytest.raises(RateLimitedError) as excinfo:
        list(hook.crm_pages("Contacts", fields=["Last_Name"]))
    assert "acme_store" in str(excinfo.value)
    assert "zoho_acme_store" in str(excinfo.value)
    assert "/crm/v8/Contacts" in str(excinfo.value)


def test_retry_after_above_the_ceiling_stops_instead_of_sleeping(sandbox_clean, make_zoho_hook, count_calls):
    hook = make_zoho_hook(max_retry_after_seconds=5)
    hook.api_domain()
    sandbox_clean.set_knobs(burst_429=1, retry_after_seconds=600)
    started = time.monotonic()
    with pytest.raises(RateLimitedError):
        list(hook.crm_pages("Contacts", fields=["Last_Name"]))
    assert time.monotonic() - started < 5
    assert count_calls(CONTACTS) == 1


def test_random_5xx_are_retried_until_every_page_is_read(sandbox_clean, make_zoho_hook, status_count):
    sandbox_clean.reset(seed=7, scale={"crm_contacts": 1000})
    hook = make_zoho_hook(max_attempts=8)
    hook.api_domain()
    sandbox_clean.set_knobs(fail_5xx_rate=0.3)
    ids = _ids(hook.crm_pages("Contacts", fields=["Last_Name"]))
    sandbox_clean.set_knobs(fail_5xx_rate=0.0)
    total = hook._call("zoho_crm", "GET", "/crm/v8/Contacts/actions/count").body["count"]
    assert len(ids) == total > 900
    assert len(set(ids)) == total
    assert status_count("500") > 0


def test_timeouts_are_retried_then_reported(sandbox_clean, make_zoho_hook, wire):
    hook = make_zoho_hook(timeout=0.3, max_attempts=3)
    hook.api_domain()
    sandbox_clean.set_knobs(timeout_rate=1.0, hang_seconds=2, hang_phase="before")
    started = time.monotonic()
    with pytest.raises(RetryableApiError) as excinfo:
        list(hook.crm_pages("Contacts", fields=["Last_Name"]))
    assert time.monotonic() - started < 3
    assert "timeout" in str(excinfo.value).lower()
    assert "acme_store" in str(excinfo.value)


def test_timed_out_create_is_not_retried_into_a_duplicate(sandbox_clean, make_zoho_hook, count_calls):
    hook = make_zoho_hook(timeout=0.5, max_attempts=5)
    hook.api_domain()
    sandbox_clean.set_knobs(timeout_rate=1.0, hang_seconds=2, hang_phase="after")
    with pytest.raises(AmbiguousWriteError) as excinfo:
        hook.inventory_create("items", {"name": "Timeout Widget", "sku": "TIMEOUT-1", "rate": 5})
    assert "POST" in str(excinfo.value)
    assert count_calls("POST /inventory/v1/items") == 1


def test_upsert_returns_one_result_per_record_in_batches_of_100(make_zoho_hook, count_calls):
    hook = make_zoho_hook()
    records = [{"Last_Name": f"Batch {i}", "Email": f"batch{i}@example.com"} for i in range(150)]
    records.insert(3, {"Email": "no-last-name@example.com"})  # MANDATORY_NOT_FOUND
    results = hook.crm_upsert("Contacts", records, duplicate_check_fields=["Email"])
    assert [r.index for r in results] == list(range(151))
    assert count_calls("POST /crm/v8/Contacts/upsert") == 2
    failed = [r for r in results if not r.ok]
    assert [(r.index, r.code) for r in failed] == [(3, "MANDATORY_NOT_FOUND")]
    assert all(r.id for r in results if r.ok)
    # Upserting again updates the same records: no duplicates.
    again = hook.crm_upsert("Contacts", records[:3], duplicate_check_fields=["Email"])
    assert [r.id for r in again] == [r.id for r in results[:3]]
    assert hook.crm_get("Contacts", results[0].id)["Email"] == "batch0@example.com"


def test_crm_get_missing_record_is_none(make_zoho_hook):
    assert make_zoho_hook().crm_get("Contacts", "5725767999999999999") is None


def test_inventory_and_books_pages_follow_page_context(make_zoho_hook, count_calls):
    hook = make_zoho_hook()
    items = _ids_of(hook.inventory_pages("items", params={"per_page": 200}), "item_id")
    assert len(items) == len(set(items)) >= 80
    contacts = _ids_of(hook.books_pages("contacts"), "contact_id")
    assert len(contacts) == len(set(contacts)) > 0
    created = hook.inventory_create("items", {"name": "Hook Widget", "sku": "HOOK-WIDGET-1", "rate": 12.5})
    assert created["item_id"]
    updated = hook.inventory_update("items", created["item_id"], {"rate": 13})
    assert float(updated["rate"]) == 13
    assert hook.inventory_get("items", created["item_id"])["sku"] == "HOOK-WIDGET-1"


def _ids_of(pages, key: str) -> list[str]:
    return [str(row[key]) for page in pages for row in page]


def test_inventory_modified_since_filters(make_zoho_hook):
    hook = make_zoho_hook()
    since = SEED_NOW - timedelta(days=10)
    recent = [row for page in hook.inventory_pages("items", modified_since=since) for row in page]
    assert recent
    assert all(parse_zoho_datetime(row["last_modified_time"]) >= since for row in recent)
    everything = [row for page in hook.inventory_pages("items") for row in page]
    assert len(recent) < len(everything)


def test_client_side_concurrency_limit_prevents_429s(sandbox_clean, make_zoho_hook, status_count):
    sandbox_clean.set_knobs(zoho_concurrency_limit=2, latency_ms=150)

    def run(hooks: list[ZohoHook]) -> list[BaseException]:
        errors: list[BaseException] = []

        def call(hook: ZohoHook) -> None:
            try:
                hook._call("zoho_crm", "GET", "/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 5})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(hook,)) for hook in hooks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors

    # Without a client-side limit, six concurrent tasks overrun Zoho's concurrency and meet 429s.
    unlimited = [make_zoho_hook(max_attempts=1) for _ in range(6)]
    unlimited[0].api_domain()
    assert len(run(unlimited)) > 0
    assert status_count("429") > 0
    before = status_count("429")
    limited = [make_zoho_hook(crm_concurrency=2, max_attempts=1) for _ in range(6)]
    assert run(limited) == []
    assert status_count("429") == before


def test_mint_economy_across_a_48_run_backfill_of_three_dags(make_zoho_hook, state_store, count_calls, tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    runs = 0
    for _run in range(48):
        for _dag in ("customers", "products", "orders"):
            # Every task is a fresh process in Airflow: new store handle, new hook, same database.
            with StateStore.from_url(url) as store:
                hook = make_zoho_hook(store=store)
                hook._call("zoho_crm", "GET", "/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 1})
                runs += 1
    assert runs == 144
    assert count_calls(TOKEN) == 1
    assert state_store.token_mints_since(make_zoho_hook().token_manager.cache_key, SEED_NOW - timedelta(days=3650)) == 1


def test_revoke_then_reconnect(sandbox_clean, make_zoho_hook, zoho_connection, state_store):
    hook = make_zoho_hook()
    hook.api_domain()
    hook.revoke()
    assert hook.token_status().expires_at is None
    with pytest.raises(AuthenticationError) as excinfo:
        make_zoho_hook()._call("zoho_crm", "GET", "/crm/v8/Contacts", params={"fields": "Last_Name"})
    assert "reconnect" in str(excinfo.value)
    code = sandbox_clean.grant_code("acme_store")
    new_refresh_token = hook.reconnect(code)
    reconnected = make_zoho_hook(refresh_token=new_refresh_token)
    assert reconnected.test_connection()[0] is True


def test_wrong_region_accounts_server_is_named_in_the_error(make_zoho_hook):
    # A client registered in another data centre: this accounts server answers invalid_client (HTTP 200).
    hook = make_zoho_hook(client_id="1000.CLIENTOFANOTHERDATACENTRE00000")
    ok, message = hook.test_connection()
    assert ok is False
    assert "invalid_client" in message
    assert "region" in message
    assert "zoho_acme_store" in message


def test_wrong_region_api_domain_is_named_in_the_error(sandbox_clean, make_zoho_hook):
    # API calls sent to a host that does not serve this org: Zoho answers 404 INVALID_URL_PATTERN.
    hook = make_zoho_hook(api_domain=f"{sandbox_clean.zoho_api_url}/wrong-dc")
    with pytest.raises(FatalApiError) as excinfo:
        list(hook.crm_pages("Contacts", fields=["Last_Name"]))
    assert "INVALID_URL_PATTERN" in str(excinfo.value)
    assert "api_domain" in str(excinfo.value)


def test_refresh_token_revoked_mid_run_fails_after_one_refresh(make_zoho_hook, sandbox_clean, count_calls):
    hook = make_zoho_hook()
    hook.api_domain()
    sandbox_clean.set_knobs(revoke_refresh_token="acme_store")
    with pytest.raises(AuthenticationError) as excinfo:
        list(hook.crm_pages("Contacts", fields=["Last_Name"]))
    assert "invalid_code" in str(excinfo.value)
    assert count_calls(CONTACTS) == 1
    assert count_calls(TOKEN) == 2  # the initial mint + the single refresh attempt (answered invalid_code)


def test_test_connection_reports_token_expiry(make_zoho_hook):
    ok, message = make_zoho_hook().test_connection()
    assert ok is True
    assert "valid until" in message
    assert "CRM + Inventory" in message


def test_scope_mismatch_is_fatal_with_hint(sandbox_clean, make_zoho_hook):
    code = sandbox_clean.grant_code("acme_store", scopes=["ZohoInventory.FullAccess.all"])
    hook = make_zoho_hook()
    narrow = make_zoho_hook(refresh_token=hook.reconnect(code))
    with pytest.raises(FatalApiError) as excinfo:
        list(narrow.crm_pages("Contacts", fields=["Last_Name"]))
    assert "OAUTH_SCOPE_MISMATCH" in str(excinfo.value)


def test_crm_search_by_email(make_zoho_hook):
    hook = make_zoho_hook()
    record = next(r for page in hook.crm_pages("Contacts", fields=FIELDS) for r in page if r.get("Email"))
    found = _ids(hook.crm_search("Contacts", f"(Email:equals:{record['Email']})", fields=["Email"]))
    assert record["id"] in found
    assert list(hook.crm_search("Contacts", "(Email:equals:nobody-at-all@example.invalid)")) == []


def test_crm_deleted_since(make_zoho_hook):
    hook = make_zoho_hook()
    victim = _ids(hook.crm_pages("Contacts", fields=["Last_Name"]))[5]
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    hook._call("zoho_crm", "DELETE", f"/crm/v8/Contacts/{victim}")
    deleted = _ids(hook.crm_deleted("Contacts", since=before))
    assert deleted == [victim]
    assert list(hook.crm_deleted("Contacts", since=datetime.now(timezone.utc) + timedelta(hours=1))) == []


def _items_modified_and_median(hook) -> tuple[dict[str, datetime], datetime]:
    """Every Inventory item's last_modified_time by id, and the median of those times."""
    everything = {
        row["item_id"]: parse_zoho_datetime(row["last_modified_time"])
        for page in hook.inventory_pages("items")
        for row in page
    }
    return everything, sorted(everything.values())[len(everything) // 2]


def test_inventory_window_partitions(make_zoho_hook):
    hook = make_zoho_hook()
    everything, pivot = _items_modified_and_median(hook)
    older = _ids_of(hook.inventory_pages("items", modified_until=pivot), "item_id")
    newer = _ids_of(hook.inventory_pages("items", modified_since=pivot), "item_id")
    assert set(older) == {i for i, at in everything.items() if at < pivot}
    assert set(newer) == {i for i, at in everything.items() if at >= pivot}
    assert len(older) + len(newer) == len(everything)


def test_inventory_window_starting_inside_a_second_keeps_that_seconds_records(make_zoho_hook):
    # A manual run's window starts at its predecessor's trigger time, with a fraction; last_modified_time has whole
    # seconds, so an item stamped with that second may have changed after the fraction: it must be read, else an edit
    # made in the same second as the previous run's trigger is never read by any window.
    hook = make_zoho_hook()
    everything, pivot = _items_modified_and_median(hook)
    inside_the_second = pivot + timedelta(microseconds=700_000)
    newer = _ids_of(hook.inventory_pages("items", modified_since=inside_the_second), "item_id")
    assert {i for i, at in everything.items() if at == pivot} <= set(newer)
    assert set(newer) == {i for i, at in everything.items() if at >= pivot}


@pytest.mark.parametrize("strategy", ["coql", "list"])
def test_crm_window_starting_inside_a_second_keeps_that_seconds_records(make_zoho_hook, strategy: str):
    hook = make_zoho_hook()
    records = [r for page in hook.crm_pages("Contacts", fields=FIELDS) for r in page]
    pivot = records[len(records) // 2]
    at = parse_zoho_datetime(pivot["Modified_Time"])
    window = _ids(
        hook.crm_window(
            "Contacts", fields=FIELDS, since=at + timedelta(microseconds=700_000), until=None, strategy=strategy
        )
    )
    assert pivot["id"] in window


def test_inventory_permission_error_refreshes_once_then_fails(sandbox_clean, make_zoho_hook, count_calls):
    code = sandbox_clean.grant_code("acme_store", scopes=["ZohoCRM.modules.ALL"])
    narrow = make_zoho_hook(refresh_token=make_zoho_hook().reconnect(code))
    mints_before = count_calls(TOKEN)
    with pytest.raises(FatalApiError) as excinfo:
        list(narrow.inventory_pages("items"))
    assert excinfo.value.code in {"57", "14"}
    assert "acme_store" in str(excinfo.value)
    assert count_calls(TOKEN) - mints_before == 2  # the first mint + one refresh after the rejection, no more
    assert count_calls("GET /inventory/v1/items") == 2
