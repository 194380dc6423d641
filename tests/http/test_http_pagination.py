"""Page generators on canned bodies (one function each); the HTTP versions run against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from zoho_cscart_sync.http.errors import PaginationError
from zoho_cscart_sync.http.pagination import crm_pages, cscart_pages, zoho_finance_pages


class Recorder:
    """fetch() double: answers from a function of the params and records every call."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def __call__(self, params: dict[str, Any]) -> Any:
        self.calls.append(params)
        return self.answer(params)


def _crm_server(total: int, *, token_after_wall: bool = True, per_page: int = 200):
    """Zoho-like: page numbers up to 2,000 records, next_page_token only after that (worst case)."""

    def answer(params: dict[str, Any]) -> Any:
        if "page_token" in params:
            assert "page" not in params, "page and page_token are mutually exclusive"
            start = int(params["page_token"].split("-")[1])
        else:
            start = (int(params["page"]) - 1) * per_page
            if start >= 2000:
                raise AssertionError("client crossed the page wall with a page number")
        rows = [{"id": str(i)} for i in range(start, min(start + per_page, total))]
        if not rows:
            return None  # 204
        more = start + per_page < total
        info: dict[str, Any] = {"more_records": more}
        if more and token_after_wall and start + per_page >= 2000:
            info["next_page_token"] = f"tok-{start + per_page}"
        return {"data": rows, "info": info}

    return answer


def test_crm_pages_cross_the_wall_with_page_token():
    fetch = Recorder(_crm_server(2450))
    pages = list(crm_pages(fetch, {"fields": "id"}))
    ids = [row["id"] for page in pages for row in page]
    assert ids == [str(i) for i in range(2450)]
    assert [c.get("page") for c in fetch.calls[:10]] == list(range(1, 11))
    assert fetch.calls[10]["page_token"] == "tok-2000"
    assert len(fetch.calls) == 13


def test_crm_pages_refuse_to_truncate_at_the_wall_without_token():
    fetch = Recorder(_crm_server(2450, token_after_wall=False))
    with pytest.raises(PaginationError, match="2000-record page wall"):
        for _ in crm_pages(fetch, {"fields": "id"}, context={"tenant": "acme_store", "conn_id": "z"}):
            pass


def test_crm_pages_empty_204():
    fetch = Recorder(lambda params: None)
    assert list(crm_pages(fetch, {"fields": "id"})) == []
    assert len(fetch.calls) == 1


def test_crm_pages_repeated_token_is_an_error():
    fetch = Recorder(lambda p: {"data": [{"id": "1"}], "info": {"more_records": True, "next_page_token": "same"}})
    with pytest.raises(PaginationError, match="same next_page_token"):
        list(crm_pages(fetch, {"fields": "id"}))


def test_zoho_finance_pages_follow_has_more_page_not_counts():
    def answer(params: dict[str, Any]) -> Any:
        page = params["page"]
        # A short page that still has more (Zoho may return fewer rows): keep going on has_more_page.
        rows = [{"item_id": f"{page}-{i}"} for i in range(3 if page < 3 else 1)]
        return {"code": 0, "items": rows, "page_context": {"page": page, "has_more_page": page < 3}}

    fetch = Recorder(answer)
    pages = list(zoho_finance_pages(fetch, {"organization_id": "1"}, list_key="items"))
    assert [len(p) for p in pages] == [3, 3, 1]
    assert all(call["organization_id"] == "1" and call["per_page"] == 200 for call in fetch.calls)


def test_zoho_finance_pages_detect_a_server_repeating_itself():
    fetch = Recorder(lambda p: {"items": [{"item_id": "1"}], "page_context": {"has_more_page": True}})
    with pytest.raises(PaginationError, match="repeated"):
        list(zoho_finance_pages(fetch, {}, list_key="items"))


def _cscart_server(total: int, *, clamp: bool, echo_page: bool = True, total_items: bool = True):
    def answer(params: dict[str, Any]) -> Any:
        per_page = params["items_per_page"]
        last_page = max(1, -(-total // per_page))
        page = params["page"]
        if page > last_page:
            if not clamp:
                return {"users": [], "params": {"page": page, "total_items": str(total)}}
            page = last_page  # CS-Cart users/categories/vendors: the last page again
        rows = [{"user_id": str(i)} for i in range((page - 1) * per_page, min(page * per_page, total))]
        meta: dict[str, Any] = {"items_per_page": str(per_page)}
        if echo_page:
            meta["page"] = page
        if total_items:
            meta["total_items"] = str(total)
        return {"users": rows, "params": meta}

    return answer


@pytest.mark.parametrize(
    ("clamp", "echo_page", "total_items"),
    [
        pytest.param(True, True, True, id="clamped-with-echo"),
        pytest.param(True, False, False, id="clamped-no-echo-no-total"),
        pytest.param(True, True, False, id="clamped-echo-only"),
        pytest.param(False, True, True, id="empty-past-end"),
    ],
)
@pytest.mark.parametrize("total", [0, 7, 10, 25])
def test_cscart_pages_stop_on_the_repeating_last_page(clamp: bool, echo_page: bool, total_items: bool, total: int):
    fetch = Recorder(_cscart_server(total, clamp=clamp, echo_page=echo_page, total_items=total_items))
    pages = list(cscart_pages(fetch, {"user_type": "C"}, list_key="users", items_per_page=5))
    ids = [row["user_id"] for page in pages for row in page]
    assert ids == [str(i) for i in range(total)]  # every record exactly once
    assert len(fetch.calls) <= -(-total // 5) + 1  # at most one probe past the end


def test_cscart_pages_accept_maps_keyed_by_id():
    fetch = Recorder(lambda p: {"languages": {"en": {"lang_code": "en"}}, "params": {"page": 1, "total_items": 1}})
    assert list(cscart_pages(fetch, {}, list_key="languages")) == [[{"lang_code": "en"}]]


def test_cscart_items_per_page_zero_is_refused():
    with pytest.raises(ValueError, match="items_per_page"):
        list(cscart_pages(Recorder(lambda p: None), {}, list_key="users", items_per_page=0))


def test_cscart_backward_pages_never_skip_when_records_leave_mid_scan():
    from zoho_cscart_sync.http.pagination import cscart_pages_backward

    rows = [{"order_id": str(i)} for i in range(23)]
    calls: list[dict[str, Any]] = []

    def fetch(params: dict[str, Any]) -> Any:
        calls.append(params)
        if len(calls) == 3:
            del rows[2]  # an order of an unread page leaves the window (edited) during the scan
        per_page, page = params["items_per_page"], params["page"]
        chunk = rows[(page - 1) * per_page : page * per_page]
        return {"orders": chunk, "params": {"page": page, "total_items": str(len(rows))}}

    pages = cscart_pages_backward(fetch, {}, list_key="orders", items_per_page=5)
    got = [row["order_id"] for page in pages for row in page]
    assert set(got) >= {str(i) for i in range(23)} - {"2"}  # nothing skipped (a duplicate is allowed)
    assert [c["page"] for c in calls] == [1, 5, 4, 3, 2, 1]


def test_forward_paging_would_have_skipped_in_the_same_situation():
    rows = [{"order_id": str(i)} for i in range(23)]
    calls = 0

    def fetch(params: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            del rows[2]
        per_page, page = params["items_per_page"], params["page"]
        return {"orders": rows[(page - 1) * per_page : page * per_page], "params": {"page": page}}

    got = {row["order_id"] for page in cscart_pages(fetch, {}, list_key="orders", items_per_page=5) for row in page}
    assert "5" not in got  # the record that slid into page 1 was lost: why windowed reads go backwards


def test_cscart_backward_pages_need_total_items():
    from zoho_cscart_sync.http.pagination import cscart_pages_backward

    with pytest.raises(PaginationError, match="total_items"):
        list(cscart_pages_backward(lambda p: {"orders": [], "params": {}}, {}, list_key="orders"))
