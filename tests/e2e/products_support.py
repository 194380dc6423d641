"""Reading (and editing) the products end state straight from the sandbox APIs, independent of the code under
test: CS-Cart products over the admin API, Zoho Inventory items with the tenant's own access token."""

from __future__ import annotations

from typing import Any

from tests.e2e.customers_support import _cscart_headers, _http_json


def cscart_products(sandbox: Any, **params: Any) -> dict[str, dict[str, Any]]:
    """Every CS-Cart product (or those matching ``params``) by product id, in one unpaged read."""
    query = "&".join(f"{key}={value}" for key, value in {"items_per_page": 0, **params}.items())
    body = _http_json(f"{sandbox.cscart_url}/api/products?{query}", headers=_cscart_headers(sandbox))
    return {str(row["product_id"]): row for row in body["products"]}


def cscart_update_product(sandbox: Any, product_id: str, changes: dict[str, Any]) -> None:
    _http_json(
        f"{sandbox.cscart_url}/api/products/{product_id}",
        headers=_cscart_headers(sandbox),
        method="PUT",
        body=changes,
    )


def cscart_place_order(sandbox: Any, product_id: str, quantity: int, *, email: str) -> str:
    """A guest order of ``quantity`` of one product (its order id): CS-Cart takes it from stock without touching
    the product's ``updated_timestamp``."""
    order = {
        "user_id": 0,
        "user_data": {"email": email, "b_firstname": "Stock", "b_lastname": "Buyer"},
        "payment_id": 1,
        "shipping_id": 1,
        "products": {"1": {"product_id": product_id, "amount": quantity}},
    }
    body = _http_json(f"{sandbox.cscart_url}/api/orders", headers=_cscart_headers(sandbox), method="POST", body=order)
    return str(body["order_id"])


class InventoryReader:
    """One tenant's Zoho Inventory organisation in the sandbox."""

    def __init__(self, sandbox: Any, tenant: str) -> None:
        self.sandbox = sandbox
        self.organization_id = sandbox.credentials.zoho_for(tenant).organization_id
        self.headers = {"Authorization": f"Zoho-oauthtoken {sandbox.zoho_access_token(tenant)}"}

    def _url(self, path: str, **params: Any) -> str:
        query = "&".join(f"{key}={value}" for key, value in {"organization_id": self.organization_id, **params}.items())
        return f"{self.sandbox.zoho_api_url}/inventory/v1/{path}?{query}"

    def items(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            body = _http_json(self._url("items", page=page, per_page=200), headers=self.headers)
            found.update({str(row["item_id"]): row for row in body["items"]})
            if not body["page_context"]["has_more_page"]:
                return found
            page += 1

    def item(self, item_id: str) -> dict[str, Any]:
        return _http_json(self._url(f"items/{item_id}"), headers=self.headers)["item"]

    def update(self, item_id: str, changes: dict[str, Any]) -> None:
        _http_json(self._url(f"items/{item_id}"), headers=self.headers, method="PUT", body=changes)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return _http_json(self._url("items"), headers=self.headers, method="POST", body=body)["item"]

    def adjust_stock(self, item_id: str, quantity: float, *, date: str = "2026-12-01") -> None:
        body = {
            "date": date,
            "reason": "test",
            "adjustment_type": "quantity",
            "line_items": [{"item_id": item_id, "quantity_adjusted": quantity}],
        }
        _http_json(self._url("inventoryadjustments"), headers=self.headers, method="POST", body=body)


def writes(counters: dict[str, int]) -> dict[str, int]:
    return {
        endpoint: count
        for endpoint, count in counters.items()
        if endpoint.split()[0] in ("POST", "PUT", "DELETE") and "/oauth/" not in endpoint
    }


def new_writes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    old = writes(before)
    return {key: value - old.get(key, 0) for key, value in writes(after).items() if value != old.get(key, 0)}


def calls_between(before: dict[str, int], after: dict[str, int], needle: str) -> int:
    """Requests the sandbox served between two counter snapshots on endpoints containing ``needle``."""
    return sum(value - before.get(key, 0) for key, value in after.items() if needle in key and "/oauth/" not in key)
