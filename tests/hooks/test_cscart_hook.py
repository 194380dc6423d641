"""CsCartHook over real HTTP against the sandbox: pagination trap, writes, vendor scoping, errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zoho_cscart_sync.http.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    FatalApiError,
    Kind,
    NotFoundError,
    VendorScopeError,
)

pytestmark = pytest.mark.integration

USERS = "GET /api/users"
PRODUCTS = "GET /api/products"


def _rows(pages) -> list[dict]:
    return [row for page in pages for row in page]


def _product_of(hook, company_id: int) -> dict:
    for page in hook.pages("products", params={"company_id": company_id, "get_features": 0}):
        return page[0]
    raise AssertionError(f"seed has no product of company {company_id}")


@pytest.mark.parametrize(("users", "per_page", "calls"), [(60, 25, 3), (50, 25, 2), (7, 10, 1)])
def test_users_pages_stop_despite_the_repeating_last_page(
    sandbox_clean, make_cscart_hook, count_calls, users: int, per_page: int, calls: int
):
    # Users are clamped: page 4 of 3 would return page 3 again, forever, to a "loop until empty" client.
    sandbox_clean.reset(scale={"cscart_users": users})
    hook = make_cscart_hook()
    rows = _rows(hook.pages("users", params={"user_type": "C"}, items_per_page=per_page))
    ids = [row["user_id"] for row in rows]
    assert len(ids) == len(set(ids))
    total = next(iter(hook.pages("users", params={"user_type": "C"}, items_per_page=1_000)))
    assert len(ids) == len(total)
    assert count_calls(USERS) == calls + 1  # the walk plus the one-page check above


def test_clamped_page_without_total_still_stops(sandbox_clean, make_cscart_hook, count_calls):
    # Vendors are clamped too; asking past the end returns the last page again with params.page rewritten.
    hook = make_cscart_hook()
    direct = hook._call("GET", "vendors", params={"page": 99, "items_per_page": 1}).body
    assert direct["params"]["page"] < 99 and direct["vendors"]  # the trap is real
    rows = _rows(hook.pages("vendors", items_per_page=1))
    assert len({row["company_id"] for row in rows}) == len(rows) >= 2


def test_admin_create_get_update(make_cscart_hook):
    hook = make_cscart_hook()
    product_id = hook.create(
        "products", {"product": "Hook Tee", "price": "19.90", "category_ids": [1], "product_code": "HOOK-TEE"}
    )
    assert product_id.isdigit()
    hook.update("products", product_id, {"price": "21.00", "amount": 5})
    product = hook.get("products", product_id)
    assert product is not None
    assert float(product["price"]) == 21.0
    assert hook.get("products", 999999) is None


def test_missing_user_quirk_returns_none(make_cscart_hook):
    # CS-Cart 4.20 answers GET /users/<missing> with 200 {"users": []}.
    assert make_cscart_hook().get("users", 999999) is None


def test_vendor_tenant_reads_only_its_company(make_cscart_hook, wire):
    hook = make_cscart_hook("northwind_vendor", company_id=2)
    rows = _rows(hook.pages("products", params={"get_features": 0}, items_per_page=50))
    assert rows
    assert {row["company_id"] for row in rows} == {"2"}
    assert all("company_id=2" in request.url for request in wire.requests)
    with pytest.raises(VendorScopeError):
        next(hook.pages("products", params={"company_id": 1}))


def test_vendor_tenant_cannot_touch_another_vendors_product(make_cscart_hook, count_calls):
    admin = make_cscart_hook()
    foreign = _product_of(admin, 1)
    # A marketplace admin key syncing vendor 2: the server would allow it, the hook must not.
    scoped_admin = make_cscart_hook(company_id=2)
    with pytest.raises(VendorScopeError) as excinfo:
        scoped_admin.get("products", foreign["product_id"])
    assert "company_id 1" in str(excinfo.value)
    assert "acme_store" in str(excinfo.value)
    with pytest.raises(VendorScopeError):
        scoped_admin.update("products", foreign["product_id"], {"price": "1.00"})
    with pytest.raises(VendorScopeError):
        scoped_admin.create("products", {"product": "Sneaky", "price": "1", "category_ids": [1], "company_id": 1})
    assert count_calls("PUT /api/products/{id}") == 0
    assert count_calls("POST /api/products") == 0
    assert admin.get("products", foreign["product_id"])["price"] == foreign["price"]


def test_vendor_key_cannot_update_another_vendors_product(make_cscart_hook, count_calls):
    foreign = _product_of(make_cscart_hook(), 1)
    vendor = make_cscart_hook("northwind_vendor", company_id=2)
    assert vendor.get("products", foreign["product_id"]) is None  # invisible to this vendor
    with pytest.raises(NotFoundError, match="not visible to vendor company_id 2"):
        vendor.update("products", foreign["product_id"], {"price": "1.00"})
    assert count_calls("PUT /api/products/{id}") == 0


def test_vendor_writes_force_the_company(make_cscart_hook):
    vendor = make_cscart_hook("northwind_vendor", company_id=2)
    product_id = vendor.create("products", {"product": "Northwind Mug", "price": "8", "category_ids": [1]})
    created = make_cscart_hook().get("products", product_id)
    assert created is not None
    assert created["company_id"] == "2"
    vendor.update("products", product_id, {"price": "9"})
    assert float(vendor.get("products", product_id)["price"]) == 9.0
    with pytest.raises(VendorScopeError):
        vendor.create("vendors", {"company": "Evil Corp"})


def test_wrong_api_key_fails_without_leaking_it(make_cscart_hook):
    hook = make_cscart_hook(api_key="WrongKey000000000000000000000000")
    with pytest.raises(AuthenticationError) as excinfo:
        next(hook.pages("products"))
    assert excinfo.value.kind is Kind.AUTH
    assert "WrongKey" not in str(excinfo.value)
    assert "cscart_acme_store" in str(excinfo.value)
    ok, message = hook.test_connection()
    assert ok is False
    assert "WrongKey" not in message


def test_api_version_path(make_cscart_hook, wire):
    hook = make_cscart_hook(api_version="2.0")
    assert next(hook.pages("products", params={"get_features": 0}))
    assert "/api/2.0/products" in wire.requests[-1].url


def test_bad_payload_is_a_data_error(make_cscart_hook):
    with pytest.raises(FatalApiError) as excinfo:
        make_cscart_hook().create("products", {"price": "1"})
    assert excinfo.value.kind is Kind.DATA
    assert "product name" in str(excinfo.value)


def test_timed_out_create_is_not_retried(sandbox_clean, make_cscart_hook, count_calls):
    hook = make_cscart_hook(timeout=0.5, max_attempts=5)
    sandbox_clean.set_knobs(server="cscart", timeout_rate=1.0, hang_seconds=2, hang_phase="after")
    with pytest.raises(AmbiguousWriteError):
        hook.create("products", {"product": "Slow Tee", "price": "1", "category_ids": [1]})
    assert count_calls("POST /api/products") == 1


def test_5xx_reads_are_retried(sandbox_clean, make_cscart_hook, status_count):
    sandbox_clean.reset(seed=3)
    hook = make_cscart_hook(max_attempts=8)
    sandbox_clean.set_knobs(server="cscart", fail_5xx_rate=0.3)
    rows = _rows(hook.pages("users", params={"user_type": "C"}, items_per_page=5))
    assert len(rows) == len({row["user_id"] for row in rows}) > 40
    assert status_count("500") > 0


def test_test_connection(make_cscart_hook):
    ok, message = make_cscart_hook("northwind_vendor", company_id=2).test_connection()
    assert ok is True
    assert "api@northwind-traders.example" in message


def test_vendor_orders_are_scoped(make_cscart_hook):
    hook = make_cscart_hook(company_id=2)
    rows = _rows(hook.pages("orders", items_per_page=20))
    assert rows
    assert {str(row["company_id"]) for row in rows} == {"2"}
    admin_rows = _rows(make_cscart_hook().pages("orders", items_per_page=50))
    assert len(admin_rows) > len(rows)


def test_orders_window_uses_updated_at_and_reads_every_order_once(sandbox_clean, make_cscart_hook):
    sandbox_clean.reset(scale={"cscart_orders": 25})
    hook = make_cscart_hook()
    details = {}
    for page in hook.pages("orders", items_per_page=50):
        for row in page:
            details[row["order_id"]] = int(hook.get("orders", row["order_id"])["updated_at"])
    stamps = sorted(set(details.values()))
    pivot = stamps[len(stamps) // 2]
    since = datetime.fromtimestamp(pivot, tz=timezone.utc)
    newer = _rows(hook.window_pages("orders", since=since, until=None, items_per_page=7))
    older = _rows(hook.window_pages("orders", since=None, until=since, items_per_page=7))
    newer_ids = [row["order_id"] for row in newer]
    older_ids = [row["order_id"] for row in older]
    assert set(newer_ids) == {oid for oid, at in details.items() if at >= pivot}
    assert set(older_ids) == {oid for oid, at in details.items() if at < pivot}
    assert len(newer_ids) == len(set(newer_ids))


def test_products_window_filters_exactly(make_cscart_hook):
    hook = make_cscart_hook()
    start = datetime.now(timezone.utc) - timedelta(seconds=1)
    new_id = hook.create("products", {"product": "Window Tee", "price": "5", "category_ids": [1]})
    rows = _rows(hook.window_pages("products", since=start, until=None, params={"get_features": 0}))
    assert [row["product_id"] for row in rows] == [new_id]


def test_users_window_is_a_full_scan(sandbox_clean, make_cscart_hook):
    hook = make_cscart_hook()
    since = datetime.now(timezone.utc)
    rows = _rows(hook.window_pages("users", since=since, until=None, params={"user_type": "C"}, items_per_page=9))
    forward = _rows(hook.pages("users", params={"user_type": "C"}, items_per_page=50))
    assert {row["user_id"] for row in rows} == {row["user_id"] for row in forward}


def test_vendor_window_is_scoped(make_cscart_hook):
    hook = make_cscart_hook("northwind_vendor", company_id=2)
    rows = _rows(hook.window_pages("products", since=None, until=None, params={"get_features": 0}))
    assert rows
    assert {row["company_id"] for row in rows} == {"2"}
