"""Page generators: one page (a list of records) at a time, never the whole collection in memory.

Each generator takes ``fetch(params) -> body``: it performs one GET with those query parameters and returns
the parsed JSON body, or None for an empty answer (Zoho's 204 / 304). The generators own only the paging
rules, so they are unit-testable without HTTP.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from zoho_cscart_sync.http.errors import PaginationError

FetchPage = Callable[[dict[str, Any]], Any]

CRM_MAX_PER_PAGE = 200
# Zoho CRM serves page numbers only for the first 2,000 records; past that only `page_token` works.
CRM_PAGE_WALL = 2000
ZOHO_FINANCE_MAX_PER_PAGE = 200


def _pagination_error(message: str, context: Mapping[str, str]) -> PaginationError:
    return PaginationError(
        message,
        tenant=context.get("tenant", "?"),
        conn_id=context.get("conn_id", "?"),
        api=context.get("api", "?"),
        endpoint=context.get("endpoint", ""),
        method="GET",
    )


def crm_pages(
    fetch: FetchPage,
    base_params: Mapping[str, Any],
    *,
    per_page: int = CRM_MAX_PER_PAGE,
    page_wall: int = CRM_PAGE_WALL,
    context: Mapping[str, str] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Zoho CRM list/search/deleted pages: ``info.more_records``; ``page_token`` whenever Zoho offers one.

    ``page`` and ``page_token`` are mutually exclusive, so once a token is followed ``page`` is dropped.
    When more records exist past the 2,000-record wall and no token was given, stop with a clear error
    rather than hit DISCRETE_PAGINATION_LIMIT_EXCEEDED or silently truncate.
    """
    params: dict[str, Any] = {**base_params, "per_page": per_page, "page": 1}
    seen_tokens: set[str] = set()
    while True:
        body = fetch(dict(params))
        if not body:
            return
        records = body.get("data") or []
        if records:
            yield records
        info = body.get("info") or {}
        if not info.get("more_records"):
            return
        token = info.get("next_page_token")
        if token:
            if token in seen_tokens:
                raise _pagination_error("Zoho returned the same next_page_token twice", context or {})
            seen_tokens.add(token)
            params = {**base_params, "per_page": per_page, "page_token": token}
            continue
        if "page" not in params:
            raise _pagination_error("more_records is true but no next_page_token was returned", context or {})
        next_page = int(params["page"]) + 1
        if next_page * per_page > page_wall:
            raise _pagination_error(
                f"more records past the {page_wall}-record page wall but no next_page_token", context or {}
            )
        params["page"] = next_page


def zoho_finance_pages(
    fetch: FetchPage,
    base_params: Mapping[str, Any],
    *,
    list_key: str,
    per_page: int = ZOHO_FINANCE_MAX_PER_PAGE,
    context: Mapping[str, str] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Zoho Inventory / Books pages: loop on ``page_context.has_more_page``, never on the item count."""
    page = 1
    previous_fingerprint: str | None = None
    while True:
        body = fetch({**base_params, "page": page, "per_page": per_page})
        if not body:
            return
        records = body.get(list_key) or []
        fingerprint = _fingerprint(records)
        if records and fingerprint == previous_fingerprint:
            raise _pagination_error(f"page {page} repeated page {page - 1}", context or {})
        if records:
            yield records
        page_context = body.get("page_context") or {}
        if not page_context.get("has_more_page"):
            return
        previous_fingerprint = fingerprint
        page += 1


def cscart_pages(
    fetch: FetchPage,
    base_params: Mapping[str, Any],
    *,
    list_key: str,
    items_per_page: int = 100,
) -> Iterator[list[dict[str, Any]]]:
    """CS-Cart pages with a stop rule that survives "a page past the end returns the last page again".

    Users, categories and vendors clamp an out-of-range page to the last one (and rewrite
    ``params.page``), so "loop until empty" never ends. Stop at the first of: an empty page; an echoed
    ``params.page`` lower than requested (clamped); ``page * items_per_page >= total_items``; a short page;
    or a page identical to the previous one (a clamp without the echo).
    """
    if items_per_page <= 0:
        raise ValueError("items_per_page must be positive (0 would make CS-Cart return everything at once)")
    page = 1
    previous_fingerprint: str | None = None
    while True:
        body = fetch({**base_params, "page": page, "items_per_page": items_per_page})
        if not body:
            return
        items = body.get(list_key) or []
        if isinstance(items, dict):
            # Some lists come back keyed by id; an empty map serialises as [].
            items = list(items.values())
        meta = body.get("params") or {}
        echoed_page = _as_int(meta.get("page"))
        if not items or (echoed_page is not None and echoed_page < page):
            return
        fingerprint = _fingerprint(items)
        if fingerprint == previous_fingerprint:
            return
        yield items
        total_items = _as_int(meta.get("total_items"))
        if total_items is not None and page * items_per_page >= total_items:
            return
        if len(items) < items_per_page:
            return
        previous_fingerprint = fingerprint
        page += 1


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _fingerprint(records: list[Any]) -> str:
    return hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()


def cscart_pages_backward(
    fetch: FetchPage,
    base_params: Mapping[str, Any],
    *,
    list_key: str,
    items_per_page: int = 100,
    context: Mapping[str, str] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """CS-Cart pages read from the last to the first, for windowed reads that must not skip records.

    CS-Cart pages by offset. Sorted by a key that edits do not change (id or creation time), a record that
    leaves the result set during the scan (deleted, or edited out of an ``updated_at`` window) shifts every
    later record one place down. Reading forward, the record sliding into an already-read page is skipped;
    reading backward it can only be read twice (harmless for idempotent loads), never skipped. New records
    sort last, beyond the pages counted at the start; they are newer than the window. Costs one extra tiny
    request (``items_per_page=1``) to learn ``total_items``.
    """
    if items_per_page <= 0:
        raise ValueError("items_per_page must be positive")
    probe = fetch({**base_params, "page": 1, "items_per_page": 1})
    meta = (probe or {}).get("params") or {}
    total = _as_int(meta.get("total_items"))
    if total is None:
        raise _pagination_error("the list has no params.total_items; cannot page backwards", context or {})
    last_page = -(-total // items_per_page)
    for page in range(last_page, 0, -1):
        body = fetch({**base_params, "page": page, "items_per_page": items_per_page})
        items = (body or {}).get(list_key) or []
        if isinstance(items, dict):
            items = list(items.values())
        if items:
            yield items
