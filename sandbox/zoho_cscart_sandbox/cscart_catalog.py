"""CS-Cart catalogue entities: products (lazy at 300,000) and categories."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from zoho_cscart_sandbox import seed as seed_data
from zoho_cscart_sandbox.clock import utc_now
from zoho_cscart_sandbox.cscart_state import ApiCaller, CscartResource
from zoho_cscart_sandbox.cscart_wire import error, php_json
from zoho_cscart_sandbox.lazy import FieldView, Record


def _sort_value(value: Any, numeric: bool) -> Any:
    return float(value) if numeric else str(value).casefold()


def _range_check(field: str, bound: float, *, lower: bool) -> Callable[[Any], bool]:
    if lower:
        return lambda r: float(r[field]) >= bound
    return lambda r: float(r[field]) <= bound


class CatalogApi(CscartResource):
    # -- products ------------------------------------------------------------------------------
    def product_filter(self, caller: ApiCaller, params: dict[str, Any]) -> Callable[[Any], bool] | None:
        """A predicate over a product (a dict or a FieldView: only `r[field]` is used); None if no filter."""
        checks: list[Callable[[Any], bool]] = []
        company = caller.user.company_id if caller.is_vendor else params.get("company_id")
        if company not in (None, ""):
            checks.append(lambda r: r["company_id"] == str(company))
        if params.get("pcode"):
            code = str(params["pcode"]).casefold()
            checks.append(lambda r: code in r["product_code"].casefold())  # substring LIKE (pitfall 8)
        if params.get("q"):
            text = str(params["q"]).casefold()
            checks.append(lambda r: text in r["product"].casefold() or text in r["product_code"].casefold())
        if params.get("pid"):
            wanted = {p.strip() for p in str(params["pid"]).split(",")}
            checks.append(lambda r: r["product_id"] in wanted)
        if params.get("order_ids"):
            # "products bought in these orders" (cscart_api.md 5.1 list filters).
            orders = self.state.tables["orders"]
            bought: set[str] = set()
            for order_id in str(params["order_ids"]).split(","):
                order = orders.get(order_id.strip())
                if order is not None:
                    bought.update(str(line["product_id"]) for line in (order.get("products") or {}).values())
            checks.append(lambda r: r["product_id"] in bought)
        if params.get("status"):
            statuses = set(str(params["status"]).split(","))
            checks.append(lambda r: r["status"] in statuses)
        if params.get("cid"):
            category = int(params["cid"])
            wanted_categories = {category} | {
                cid for cid, c in self.state.categories.items() if c["parent_id"] == str(category)
            }
            checks.append(lambda r: bool(set(r["category_ids"]) & wanted_categories))
        if params.get("updated_in_hours"):
            threshold = int(time.time()) - int(params["updated_in_hours"]) * 3600
            checks.append(lambda r: int(r["updated_timestamp"]) >= threshold)
        for name in ("price", "amount"):
            if params.get(f"{name}_from") not in (None, ""):
                checks.append(_range_check(name, float(params[f"{name}_from"]), lower=True))
            if params.get(f"{name}_to") not in (None, ""):
                checks.append(_range_check(name, float(params[f"{name}_to"]), lower=False))
        if not checks:
            return None
        return lambda r: all(check(r) for check in checks)

    def products_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        table = self.state.tables["products"]
        if object_id is not None:
            record = table.get(object_id)
            if record is None or (caller.is_vendor and record["company_id"] != str(caller.user.company_id)):
                return error(404)
            return php_json(record)
        sort_by = str(params.get("sort_by") or "product")
        sort_order = str(params.get("sort_order") or "asc")
        descending = sort_order == "desc"
        predicate = self.product_filter(caller, params)
        company = caller.user.company_id if caller.is_vendor else params.get("company_id")
        filter_key = tuple(sorted((k, str(v)) for k, v in params.items() if k not in ("page", "items_per_page")))
        key = ("products", caller.user.company_id if caller.is_vendor else None, filter_key)

        def compute() -> list[str]:
            # Narrow by a cached column first (code substring, vendor), then check the remaining
            # filters through FieldView, which reads seed products' fields without building them:
            # a 300,000-product catalogue answers a lookup in well under a second.
            def keep(rid: str) -> bool:
                return predicate is None or predicate(FieldView(table, rid))

            candidates: list[str] | None = None
            if params.get("pcode"):
                needle = str(params["pcode"]).casefold()
                candidates = table.scan_ids("product_code", lambda v: needle in str(v).casefold())
            elif company not in (None, ""):
                wanted = str(company)
                candidates = table.scan_ids("company_id", lambda v: v == wanted)
            if sort_by in ("timestamp", "updated_timestamp"):
                if candidates is None:
                    order = "modified" if sort_by == "updated_timestamp" else "id"
                    stream = table.iter_ids(order=order, descending=descending)
                    return [rid for rid in stream if keep(rid)]
                matched = [rid for rid in candidates if keep(rid)]
                if sort_by == "updated_timestamp":
                    matched.sort(key=lambda rid: (table.modified_at(rid), int(rid)))
                return matched[::-1] if descending else matched
            field = {
                "product": "product",
                "code": "product_code",
                "price": "price",
                "amount": "amount",
                "status": "status",
                "list_price": "list_price",
            }.get(sort_by, "product")
            numeric = field in ("price", "amount", "list_price")
            pool = candidates if candidates is not None else list(table.iter_ids())
            if len(pool) > 1000:
                table.ensure_column(field)  # one pass of cheap peeks, reused by later sorts
            matched = [rid for rid in pool if keep(rid)]
            matched.sort(key=lambda rid: (_sort_value(table.field(rid, field), numeric), int(rid)), reverse=descending)
            return matched

        ids = self.state.cached_ids(key, compute)
        chosen, meta = self.paginate(params, ids, len(ids), clamp=False, string_total=True)
        records = [r for r in (table.get(i) for i in chosen) if r is not None]
        meta.update({"sort_by": sort_by, "sort_order": sort_order, "sort_order_rev": "asc" if descending else "desc"})
        return php_json({"products": records, "params": meta})

    def products_post(self, caller: ApiCaller, _id: str | None, body: dict[str, Any], _r: Request) -> Response:
        if not str(body.get("product") or "").strip():
            return error(400, "You have to specify product name")
        if "price" not in body:
            return error(400, "The price field is required")
        table = self.state.tables["products"]
        company_id = caller.user.company_id if caller.is_vendor else int(body.get("company_id") or 0)
        if company_id and company_id not in self.state.vendors:
            return error(400, "The company_id field is invalid")
        categories = self._categories(body.get("category_ids"))
        if categories is None:
            return error(400, "The category_ids field is invalid")
        now = int(time.time())
        product_id = table.new_id()
        record = seed_data.CscartContext(0, self.state.context.counts).build_product(0)
        record.update(
            {
                "product_id": product_id,
                "product_code": "",
                "status": "A",
                "amount": "0",
                "tracking": "B",
                "timestamp": str(now),
                "updated_timestamp": str(now),
                "full_description": "",
                "short_description": "",
            }
        )
        self._apply_product(record, body)
        record["company_id"] = str(company_id)
        record["category_ids"] = categories or [1]  # 4.20: a default category when none is given
        record["main_category"] = record["category_ids"][0]
        record["seo_name"] = f"product-{product_id}"
        table.put(product_id, record, utc_now())
        self.state.touched()
        return php_json({"product_id": int(product_id)}, 201)

    def _categories(self, raw: Any) -> list[int] | None:
        if raw in (None, ""):
            return []
        values = raw if isinstance(raw, list) else list(raw.values()) if isinstance(raw, dict) else str(raw).split(",")
        try:
            ids = [int(v) for v in values]
        except (TypeError, ValueError):
            return None
        return ids if all(i in self.state.categories for i in ids) else None

    def _apply_product(self, record: Record, body: dict[str, Any]) -> None:
        for key in (
            "product",
            "product_code",
            "status",
            "list_price",
            "weight",
            "full_description",
            "short_description",
            "tracking",
            "free_shipping",
            "min_qty",
            "max_qty",
            "avail_since",
            "page_title",
            "meta_description",
            "meta_keywords",
            "search_words",
            "promo_text",
        ):
            if key in body:
                record[key] = str(body[key])
        if "price" in body:
            record["price"] = record["base_price"] = f"{float(body['price'] or 0):.2f}"
        if "amount" in body:
            record["amount"] = str(int(float(body["amount"])))
        if "tax_ids" in body:
            taxes = body["tax_ids"]
            record["tax_ids"] = ",".join(str(t) for t in (taxes if isinstance(taxes, list) else [taxes]))

    def products_put(self, caller: ApiCaller, object_id: str | None, body: dict[str, Any], _r: Request) -> Response:
        table = self.state.tables["products"]
        record = table.get(object_id or "")
        if record is None:
            return error(404)
        if caller.is_vendor and record["company_id"] != str(caller.user.company_id):
            return error(403, "Access denied")
        if "category_ids" in body:
            categories = self._categories(body["category_ids"])
            if not categories:
                return error(400, "The category_ids field is invalid")
            record["category_ids"], record["main_category"] = categories, categories[0]
        self._apply_product(record, body)
        if "company_id" in body and not caller.is_vendor:
            record["company_id"] = str(int(body["company_id"]))
        record["updated_timestamp"] = str(int(time.time()))
        table.put(record["product_id"], record, utc_now())
        self.state.touched()
        return php_json({"product_id": object_id})

    def products_delete(self, caller: ApiCaller, object_id: str | None, _b: dict[str, Any], _r: Request) -> Response:
        table = self.state.tables["products"]
        record = table.get(object_id or "")
        if record is None:
            return error(404)
        if caller.is_vendor and record["company_id"] != str(caller.user.company_id):
            return error(403, "Access denied")
        table.delete(record["product_id"], utc_now())
        self.state.touched()
        return Response(status_code=204)

    # -- categories ----------------------------------------------------------------------------
    def categories_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        if object_id is not None:
            category = self.state.categories.get(int(object_id))
            return php_json(category) if category else error(404)
        rows = sorted(self.state.categories.values(), key=lambda c: (int(c["position"]), int(c["category_id"])))
        if params.get("parent_category_id") not in (None, ""):
            rows = [c for c in rows if c["parent_id"] == str(params["parent_category_id"])]
        ids = [c["category_id"] for c in rows]
        chosen, meta = self.paginate(params, ids, len(ids), clamp=True, string_total=True)
        meta.update({"sort_by": "position", "sort_order": "asc"})
        return php_json({"categories": [self.state.categories[int(i)] for i in chosen], "params": meta})

    def categories_post(self, caller: ApiCaller, _id: str | None, body: dict[str, Any], _r: Request) -> Response:
        name = str(body.get("category") or "").strip()
        if not name:
            return error(400, "The category field is required")
        parent = int(body.get("parent_id") or 0)
        if parent and parent not in self.state.categories:
            return error(400, "The parent_id field is invalid")
        category_id = max(self.state.categories) + 1
        self.state.categories[category_id] = seed_data.category_record(category_id, parent, name)
        self.state.touched()
        return php_json({"category_id": category_id}, 201)

    def categories_put(self, caller: ApiCaller, object_id: str | None, body: dict[str, Any], _r: Request) -> Response:
        category = self.state.categories.get(int(object_id or 0))
        if category is None:
            return error(404)
        for key in ("category", "description", "status", "position"):
            if key in body:
                category[key] = str(body[key])
        self.state.touched()
        return php_json({"category_id": object_id})

    def categories_delete(self, caller: ApiCaller, object_id: str | None, _b: dict[str, Any], _r: Request) -> Response:
        if self.state.categories.pop(int(object_id or 0), None) is None:
            return error(404)
        self.state.touched()
        return Response(status_code=204)
