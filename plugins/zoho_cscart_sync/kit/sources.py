"""Sources: how a stream's records are read, whatever the API. Pages are generators; nothing is held.

A :class:`Source` answers three questions for the runner: the records modified in a window, the records
with given ids, and the records deleted in a window. Adapters exist per API family; the stream's
declaration (:class:`~zoho_cscart_sync.kit.spec.StreamSpec`) chooses the strategy.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from zoho_cscart_sync.kit.spec import StreamSpec
from zoho_cscart_sync.windows import RunWindow

if TYPE_CHECKING:
    from zoho_cscart_sync.hooks.cscart import CsCartHook
    from zoho_cscart_sync.hooks.zoho import ZohoHook

log = logging.getLogger(__name__)

Page = list[dict[str, Any]]

ListedSkips = Callable[[StreamSpec, Page], Collection[str]]
"""The ids of a ``full_records`` stream's list page whose list rows already decide they are skipped
(``EntityRun.listed_skips``): they are staged as listed, not read whole."""


def _whole_or_listed(
    stream: StreamSpec, page: Page, listed_skips: ListedSkips | None, read_whole: Callable[[list[str]], Iterator[Page]]
) -> Iterator[Page]:
    """A ``full_records`` list page as the records to stage: each row the entity will skip anyway as listed (no
    call), the others read whole by id."""
    skipped = set(listed_skips(stream, page)) if listed_skips is not None else set()
    listed = [row for row in page if str(row[stream.id_field]) in skipped]
    if listed:
        yield listed
    whole = [str(row[stream.id_field]) for row in page if str(row[stream.id_field]) not in skipped]
    if whole:
        yield from read_whole(whole)


COQL_IN_LIMIT = 50
"""Ids in one COQL ``id in (...)`` (Zoho's limit for an IN list)."""
CSCART_PAGE = 200
FINANCE_PAGE = 200
"""Zoho Inventory / Books ``per_page`` maximum."""


class Source(Protocol):
    """Reads one stream."""

    @property
    def label(self) -> str:
        """Endpoint family, for logs."""
        ...

    def pages(self, window: RunWindow) -> Iterator[Page]:
        """Records modified in ``[window.since, window.until)`` (everything before ``until`` on a full refresh)."""
        ...

    def by_ids(self, ids: Sequence[str]) -> Iterator[Page]:
        """The records with these ids that exist and are in scope (others are left out)."""
        ...

    def deleted(self, window: RunWindow) -> Iterator[Page]:
        """``{"id", "deleted_time"}`` of records deleted in the window; nothing when the API has no feed."""
        ...


@dataclass
class CrmSource:
    """A Zoho CRM module (Accounts, Contacts, Leads...)."""

    hook: ZohoHook
    stream: StreamSpec
    fields: list[str]
    listed_skips: ListedSkips | None = None

    @property
    def label(self) -> str:
        return f"zoho /crm/v8/{self.stream.resource}"

    def pages(self, window: RunWindow) -> Iterator[Page]:
        strategy = "coql" if self.stream.window == "crm_coql" else "list"
        # Full records (CRM sales orders: COQL cannot select line items, zoho_api.md 2.5): the window lists ids (and
        # the stream's list_fields), and each record the entity does not skip on that row is read whole by id (one
        # GET each, the documented read of a record's lines).
        fields = [self.stream.id_field, *self.stream.list_fields] if self.stream.full_records else self.fields
        pages = self.hook.crm_window(
            self.stream.resource, fields=fields, since=window.since, until=window.until, strategy=strategy
        )
        if not self.stream.full_records:
            yield from pages
            return
        for page in pages:
            yield from _whole_or_listed(self.stream, page, self.listed_skips, self.by_ids)

    def by_ids(self, ids: Sequence[str]) -> Iterator[Page]:
        if self.stream.by_ids == "coql_in" and not self.stream.full_records:
            columns = ", ".join(dict.fromkeys([*self.fields, "Modified_Time"]))
            for start in range(0, len(ids), COQL_IN_LIMIT):
                chunk = ids[start : start + COQL_IN_LIMIT]
                literals = ", ".join("'" + record_id.replace("'", "''") + "'" for record_id in chunk)
                query = f"select {columns} from {self.stream.resource} where id in ({literals}) limit 200"
                rows = (self.hook.crm_coql(query) or {}).get("data") or []
                if rows:
                    yield rows
            return
        # One GET each returns the full record with its lookups and line items (record_ids runs, retries, full
        # records); pages of up to 50, so what a page needs besides (orders: its contacts) is read per 50.
        page: Page = []
        for record_id in ids:
            record = self.hook.crm_get(self.stream.resource, record_id)
            if record is not None:
                page.append(record)
            if len(page) >= COQL_IN_LIMIT:
                yield page
                page = []
        if page:
            yield page

    def deleted(self, window: RunWindow) -> Iterator[Page]:
        if not self.stream.deleted_feed:
            return
        for page in self.hook.crm_deleted(self.stream.resource, since=window.since):
            rows = [
                {"id": str(row["id"]), "deleted_time": row.get("deleted_time")}
                for row in page
                # Deleted after this window: a later run handles it, so windows never overlap.
                if not row.get("deleted_time") or datetime.fromisoformat(str(row["deleted_time"])) < window.until
            ]
            if rows:
                yield rows


@dataclass
class FinanceSource:
    """A Zoho Inventory or Books list (``items``...), windowed by ``last_modified_time``; no deleted feed."""

    hook: ZohoHook
    stream: StreamSpec
    listed_skips: ListedSkips | None = None

    @property
    def label(self) -> str:
        return f"zoho /{self._api}/v1/{self.stream.resource}"

    @property
    def _api(self) -> str:
        return "inventory" if self.stream.system == "zoho_inventory" else "books"

    def pages(self, window: RunWindow) -> Iterator[Page]:
        if self.stream.window != "finance_modified":
            raise ValueError(
                f"stream {self.stream.name}: window strategy {self.stream.window!r} is not for {self._api}"
            )
        list_pages = self.hook.inventory_pages if self._api == "inventory" else self.hook.books_pages
        pages = list_pages(
            self.stream.resource,
            params={**self.stream.list_params, **self.stream.read_params, "per_page": FINANCE_PAGE},
            modified_since=window.since,
            modified_until=window.until,
        )
        if not self.stream.full_records:
            yield from pages
            return
        for page in pages:
            yield from _whole_or_listed(self.stream, page, self.listed_skips, self.by_ids)

    def by_ids(self, ids: Sequence[str]) -> Iterator[Page]:
        get = self.hook.inventory_get if self._api == "inventory" else self.hook.books_get
        for record_id in ids:
            record = get(self.stream.resource, record_id)
            if record is not None:
                yield [record]

    def deleted(self, window: RunWindow) -> Iterator[Page]:
        # Inventory and Books have no deleted-records feed; a deleted item simply stops changing.
        return iter(())


@dataclass
class CsCartSource:
    """A CS-Cart list resource (``/api/users``...), confined to a vendor tenant's ``company_id``."""

    hook: CsCartHook
    stream: StreamSpec
    company_id: int | None
    total_items: int | None = None
    """How many records the stream's list holds in the tenant's scope, as the first page read by :meth:`pages`
    reported it (None until a page is read): the entity's CS-Cart total at no extra call."""

    @property
    def label(self) -> str:
        return f"cscart /api/{self.stream.resource}"

    def count(self) -> int | None:
        """The stream's list size in the tenant's scope, in one call of one row (when no page was read)."""
        return self.hook.count(self.stream.resource, params=self._scope_params())

    def _scope_params(self) -> dict[str, Any]:
        """What selects the stream's records (its fixed filters and the vendor's company), for lists and counts."""
        params: dict[str, Any] = {**self.stream.list_params, **self.stream.read_params}
        if self.company_id is not None:
            params["company_id"] = self.company_id
        return params

    def _note_total(self, total: int) -> None:
        self.total_items = total

    def pages(self, window: RunWindow) -> Iterator[Page]:
        if self.stream.window == "cscart_newest_first":
            yield from self._newest_first(window)
            return
        if self.stream.window == "cscart_updated_at":
            yield from self.hook.window_pages(
                self.stream.resource,
                since=window.since,
                until=window.until,
                params=self._scope_params(),
                items_per_page=CSCART_PAGE,
            )
            return
        if self.stream.window != "full_scan":
            raise ValueError(f"CS-Cart stream {self.stream.name}: window strategy {self.stream.window!r} unknown")
        # CS-Cart's users API has no modified filter (cscart_api.md 3.1): one paged read, compared by hash.
        params = {**self._scope_params(), "sort_by": "id", "sort_order": "asc"}
        yield from self.hook.pages(
            self.stream.resource, params=params, items_per_page=CSCART_PAGE, on_total=self._note_total
        )

    def _newest_first(self, window: RunWindow) -> Iterator[Page]:
        """Rows with ``since <= updated_timestamp < until``, newest first, stopping at the first older row.

        ``updated_timestamp`` is whole seconds: the window's start is rounded down to its second, so a row
        written in the same second as the boundary is read by both neighbouring windows (harmless: unchanged
        content costs no write) rather than by neither. A row edited while the scan runs moves to the front
        (after ``until``): rows behind it shift back by one, so one may be seen twice (staged once), none skipped.
        """
        since = math.floor(window.since.timestamp()) if window.since is not None else None
        until = window.until.timestamp()
        params = {**self._scope_params(), "sort_by": "updated_timestamp", "sort_order": "desc"}
        pages = self.hook.pages(
            self.stream.resource, params=params, items_per_page=CSCART_PAGE, on_total=self._note_total
        )
        for page in pages:
            stamps = [_unix(row.get("updated_timestamp")) for row in page]
            rows = [
                row
                for row, stamp in zip(page, stamps, strict=True)
                # No timestamp to judge by: keep the row rather than drop it silently.
                if stamp is None or (stamp < until and (since is None or stamp >= since))
            ]
            if rows:
                yield rows
            known = [stamp for stamp in stamps if stamp is not None]
            if since is not None and known and min(known) < since:
                return  # everything further back is older than the window

    def by_ids(self, ids: Sequence[str]) -> Iterator[Page]:
        for record_id in ids:
            row = self.hook.get(self.stream.resource, record_id)
            if row is None or not self._in_scope(row):
                log.warning("CS-Cart %s %s not found or out of scope; nothing to sync", self.stream.resource, record_id)
                continue
            yield [row]

    def deleted(self, window: RunWindow) -> Iterator[Page]:
        return iter(())

    def _in_scope(self, row: Mapping[str, Any]) -> bool:
        for key, value in self.stream.list_params.items():
            if str(row.get(key)) != str(value):
                return False
        return self.company_id is None or str(row.get("company_id")) == str(self.company_id)


def _unix(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
