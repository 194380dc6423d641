"""CS-Cart server state and the base every entity mixin builds on (pagination)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from zoho_cscart_sandbox import seed as seed_data
from zoho_cscart_sandbox.credentials import CscartApiUser, GeneratedTenants, cscart_api_users
from zoho_cscart_sandbox.knobs import ServerRuntime
from zoho_cscart_sandbox.lazy import LazyTable, Record
from zoho_cscart_sandbox.seed_cscart import generated_vendor


@dataclass
class ApiCaller:
    user: CscartApiUser

    @property
    def is_vendor(self) -> bool:
        return self.user.user_type == "V"


class CscartState:
    def __init__(self) -> None:
        self.runtime = ServerRuntime("cscart")
        self.tables: dict[str, LazyTable] = {}
        self.categories: dict[int, Record] = {}
        self.vendors: dict[int, Record] = {}
        self.generation = 0
        # E-mails a status change would have sent (notify_* flags), oldest first; read by the admin API.
        self.notifications: list[Record] = []
        self._query_cache: OrderedDict[tuple[Any, ...], list[str]] = OrderedDict()
        self.context = seed_data.CscartContext(0, seed_data.resolve_scale(None))
        # API users by e-mail (casefolded): the samples' and each generated vendor's administrator.
        self.api_users: dict[str, CscartApiUser] = {}
        self.reset(0, None)

    def reset(self, seed: int, scale: dict[str, int] | None, generated: GeneratedTenants | None = None) -> None:
        counts = seed_data.resolve_scale(scale)
        generated = generated or GeneratedTenants()
        self.context = seed_data.CscartContext(seed, counts, generated)
        self.tables = seed_data.cscart_tables(seed, counts, generated)
        self.categories = {int(c["category_id"]): c for c in seed_data.cscart_categories()}
        vendors = [
            *seed_data.cscart_vendors(),
            *(seed_data.vendor_record(generated_vendor(n)) for n in generated.numbers()),
        ]
        self.vendors = {int(v["company_id"]): v for v in vendors}
        self.api_users = {u.email.casefold(): u for u in cscart_api_users(generated, counts["cscart_users"])}
        self.generation += 1
        self.notifications = []
        self._query_cache.clear()

    def touched(self) -> None:
        """Any write invalidates the cached query results."""
        self.generation += 1
        self._query_cache.clear()

    def cached_ids(self, key: tuple[Any, ...], compute: Callable[[], list[str]]) -> list[str]:
        """Matching ids of a (filter, sort) query, kept while nothing is written (cheap deep paging)."""
        full_key = (self.generation, *key)
        if full_key in self._query_cache:
            self._query_cache.move_to_end(full_key)
            return self._query_cache[full_key]
        ids = compute()
        self._query_cache[full_key] = ids
        while len(self._query_cache) > 6:
            self._query_cache.popitem(last=False)
        return ids


class CscartResource:
    """What the entity mixins share: the state and the `params` pagination."""

    state: CscartState

    def paginate(
        self,
        params: dict[str, Any],
        ids: list[str] | Iterator[str],
        total: int,
        *,
        clamp: bool,
        string_total: bool,
    ) -> tuple[list[str], dict[str, Any]]:
        per_page_raw = params.get("items_per_page")
        try:
            per_page = (
                int(per_page_raw) if per_page_raw not in (None, "") else self.state.runtime.knobs.cscart_items_per_page
            )
            page = max(int(params.get("page", 1) or 1), 1)
        except (TypeError, ValueError):
            per_page, page = self.state.runtime.knobs.cscart_items_per_page, 1
        if per_page <= 0:
            chosen = list(ids)  # items_per_page=0: no LIMIT at all
            page = 1
        else:
            last_page = max((total + per_page - 1) // per_page, 1)
            if clamp and page > last_page:
                page = last_page  # the last page again, and params.page says so
            start = (page - 1) * per_page
            chosen = (
                ids[start : start + per_page] if isinstance(ids, list) else list(islice(ids, start, start + per_page))
            )
        meta: dict[str, Any] = {
            "page": page,
            "items_per_page": str(per_page_raw) if per_page_raw not in (None, "") else per_page,
            "total_items": str(total) if string_total else total,
        }
        return chosen, meta
