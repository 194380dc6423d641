"""The orders DAGs of the sample tenants against the sandbox, with the products DAGs beside them (orders need the
products ID map), one sync state for both; and reads of the order side of each system, independent of the code
under test."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.customers_support import CustomersDags, _cscart_headers, _http_json, make_customers_dags
from tests.e2e.products_support import InventoryReader

SAMPLE_TENANTS_DIR = Path(__file__).resolve().parents[2] / "include" / "tenants"


@dataclasses.dataclass
class OrdersDags:
    products: CustomersDags
    orders: CustomersDags

    def store(self) -> Any:
        return self.orders.store()


def make_orders_dags(
    tmp_path: Path,
    sandbox: Any,
    monkeypatch: Any,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    connection_extra: dict[str, Any] | None = None,
) -> OrdersDags:
    """Tenants with products (as the sample files say) and orders (with ``overrides`` merged, as in
    :func:`make_customers_dags`) enabled; two handles on one DAG file and one state store."""
    orders = make_customers_dags(
        tmp_path, sandbox, monkeypatch, overrides, entity="orders", connection_extra=connection_extra
    )
    enable_products(orders.tenants_dir)
    products = dataclasses.replace(orders, entity="products", _bag=None)
    return OrdersDags(products=products, orders=orders)


def enable_products(tenants_dir: Path) -> None:
    """Add the sample files' products entity to tenant files written for orders (orders need its ID map)."""
    for path in tenants_dir.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        sample = yaml.safe_load((SAMPLE_TENANTS_DIR / path.name).read_text(encoding="utf-8"))
        doc["entities"] = {"products": sample["entities"]["products"], **doc["entities"]}
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


CSCART_REFERENCE = re.compile(r"CSC-\d+")


def sales_orders_end_state(sandbox: Any, tenant: str) -> dict[str, dict[str, Any]]:
    """Zoho sales orders made from CS-Cart orders, by reference, without ids (contacts are created in run order)."""
    reader = SalesOrders(sandbox, tenant)
    state = {}
    for reference, rows in reader.by_reference().items():
        if not CSCART_REFERENCE.fullmatch(reference):
            continue
        [row] = rows
        full = reader.salesorder(row["salesorder_id"])
        state[reference] = {
            "status": full["status"],
            "customer_name": full["customer_name"],
            "date": full["date"],
            "shipping_charge": full.get("shipping_charge"),
            "discount": full.get("discount"),
            "notes": full.get("notes"),
            "lines": sorted((line["name"], line["quantity"], line["rate"]) for line in full["line_items"]),
        }
    return state


def cscart_orders(sandbox: Any, **params: Any) -> dict[str, dict[str, Any]]:
    """Every CS-Cart order (full details), by order id."""
    query = "&".join(f"{key}={value}" for key, value in {"items_per_page": 0, "get_orders_data": 1, **params}.items())
    body = _http_json(f"{sandbox.cscart_url}/api/orders?{query}", headers=_cscart_headers(sandbox))
    return {str(row["order_id"]): row for row in body["orders"]}


def cscart_set_order_status(sandbox: Any, order_id: str, status: str) -> None:
    _http_json(
        f"{sandbox.cscart_url}/api/orders/{order_id}",
        headers=_cscart_headers(sandbox),
        method="PUT",
        body={"status": status},
    )


class SalesOrders(InventoryReader):
    """One tenant's Zoho Inventory sales orders."""

    def salesorders(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            body = _http_json(self._url("salesorders", page=page, per_page=200), headers=self.headers)
            found.update((str(row["salesorder_id"]), row) for row in body["salesorders"])
            if not body.get("page_context", {}).get("has_more_page"):
                return found
            page += 1

    def salesorder(self, salesorder_id: str) -> dict[str, Any]:
        return self.get(f"salesorders/{salesorder_id}")["salesorder"]

    def get(self, path: str) -> dict[str, Any]:
        body: dict[str, Any] = _http_json(self._url(path), headers=self.headers)
        return body

    def by_reference(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in self.salesorders().values():
            grouped.setdefault(str(row.get("reference_number") or ""), []).append(row)
        return grouped

    def set_status(self, salesorder_id: str, status: str) -> None:
        _http_json(self._url(f"salesorders/{salesorder_id}/status/{status}"), headers=self.headers, method="POST")
