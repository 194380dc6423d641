"""CS-Cart REST API behaviour and traps (cscart_api.md)."""

from __future__ import annotations

import json
import time

import requests

from zoho_cscart_sandbox import seed


def test_basic_auth_failures_answer_401_with_realm(sandbox_clean):
    base = f"{sandbox_clean.cscart_url}/api/products"
    for auth in (None, ("admin@marketplace.example", "wrong"), ("nobody@example.com", "x")):
        response = requests.get(base, auth=auth, timeout=10)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized", "status": 401}
        assert response.headers["WWW-Authenticate"] == 'Basic realm="User email/API key"'


def test_url_forms_versions_and_404s(cscart_admin, sandbox_clean):
    plain = cscart_admin("GET", "/products/1").json()
    assert cscart_admin("GET", "/2.0/products/1").json() == plain
    fallback = cscart_admin.session.get(
        f"{sandbox_clean.cscart_url}/api.php", params={"_d": "products/1", "ajax_custom": "1"}, timeout=10
    )
    assert fallback.json() == plain
    assert cscart_admin("GET", "/2/products/1").status_code == 404  # /api/2/ is namespace v2: missing
    unknown = cscart_admin("GET", "/foo")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "message": "Not Found: The Entity foo not found",
        "messages": ["The Entity foo not found"],
        "status": 404,
    }
    assert cscart_admin("GET", "/products/abc").json() == {"message": "Not Found", "status": 404}
    assert cscart_admin("GET", "/products/999999").status_code == 404
    assert cscart_admin("GET", "/version").json() == {"Version": "2.1"}


def test_method_rules(cscart_admin):
    assert cscart_admin("POST", "/products/5", json={"product": "x", "price": 1}).json()["message"] == (
        "Method Not Allowed: ID must not be defined"
    )
    assert cscart_admin("PUT", "/products", json={"price": 1}).json()["message"] == (
        "Method Not Allowed: Object ID undefined"
    )
    assert cscart_admin("PATCH", "/products/5").status_code == 405


def test_json_without_content_type_silently_loses_fields(cscart_admin):
    body = json.dumps({"product": "Ghost", "price": "9.99", "category_ids": [2]})
    without = cscart_admin("POST", "/products", data=body, headers={"Content-Type": ""})
    assert without.status_code == 400
    assert without.json()["message"] == "Bad Request: You have to specify product name"
    product = cscart_admin("GET", "/products/2").json()
    update = cscart_admin("PUT", "/products/2", data=json.dumps({"price": "1.00"}), headers={"Content-Type": ""})
    assert update.status_code == 200  # accepted, yet nothing changed: the fields vanished
    assert cscart_admin("GET", "/products/2").json()["price"] == product["price"]
    form_style = cscart_admin("PUT", "/products/2", data="price=3.50", headers={"Content-Type": ""})
    assert form_style.status_code == 200 and cscart_admin("GET", "/products/2").json()["price"] == "3.50"


def test_unsupported_media_type_and_syntax_error(cscart_admin):
    xml = cscart_admin("POST", "/products", data="<p/>", headers={"Content-Type": "application/xml"})
    assert xml.json() == {"message": "Unsupported Media Type", "status": 415}
    broken = cscart_admin("POST", "/products", data="{bad", headers={"Content-Type": "application/json"})
    assert broken.json() == {"message": "Bad Request: Syntax error", "messages": ["Syntax error"], "status": 400}


def test_values_are_strings_and_json_is_php_escaped(cscart_admin):
    response = cscart_admin("GET", "/products/9")
    assert "\\u" in response.text and "<\\/p>" in response.text  # non-ASCII and slashes escaped like PHP
    product = response.json()
    assert product["product"].startswith("Crème Brûlée")
    assert all(isinstance(product[k], str) for k in ("product_id", "price", "amount", "timestamp", "company_id"))


def test_users_page_past_the_end_returns_the_last_page_again(cscart_admin):
    first = cscart_admin("GET", "/users", params={"user_type": "C", "items_per_page": 25, "page": 3}).json()
    beyond = cscart_admin("GET", "/users", params={"user_type": "C", "items_per_page": 25, "page": 9}).json()
    assert beyond["params"]["page"] == 3 and beyond["params"]["total_items"] == "57"
    assert beyond["users"] == first["users"] and len(beyond["users"]) == 7


def test_products_and_orders_past_the_end_are_empty(cscart_admin):
    beyond = cscart_admin("GET", "/products", params={"items_per_page": 50, "page": 10}).json()
    assert beyond["products"] == [] and beyond["params"]["page"] == 10
    assert beyond["params"]["total_items"] == "120" and beyond["params"]["items_per_page"] == "50"
    default = cscart_admin("GET", "/products").json()
    assert len(default["products"]) == 10 and default["params"]["items_per_page"] == 10


def test_users_require_user_type_and_missing_id_quirk(cscart_admin, sandbox_clean):
    assert cscart_admin("GET", "/users").json()["message"] == "Bad Request: The user_type field is required"
    assert cscart_admin("GET", "/users/99999").json()["users"] == []
    sandbox_clean.set_knobs(cscart_require_user_type=False)
    assert cscart_admin("GET", "/users").status_code == 200
    assert cscart_admin("GET", "/users/99999").status_code == 404


def test_user_rows_are_flat_and_email_is_unique(cscart_admin):
    row = cscart_admin("GET", "/users/4").json()
    assert row["email"] == seed.SHARED_CUSTOMER_EMAIL and "b_address" not in row
    duplicate = cscart_admin(
        "POST", "/users", json={"email": seed.SHARED_CUSTOMER_EMAIL.upper(), "user_type": "C", "company_id": 0}
    )
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.json()["message"]
    created = cscart_admin(
        "POST",
        "/users",
        json={
            "email": "new.shopper@example.com",
            "user_type": "C",
            "company_id": "0",
            "b_firstname": "New",
            "b_city": "Paris",
        },
    )
    assert created.status_code == 201 and set(created.json()) == {"user_id", "profile_id"}
    missing = cscart_admin("POST", "/users", json={"email": "x@example.com", "user_type": "C"})
    assert missing.json()["message"] == "Bad Request: The company_id field is required"
    like = cscart_admin("GET", "/users", params={"user_type": "C", "email": "garcia"}).json()["users"]
    assert [u["email"] for u in like] == [seed.SHARED_CUSTOMER_EMAIL]


def test_orders_products_keyed_by_item_id_and_hidden_orders(cscart_admin):
    orders = seed.cscart_orders()
    order = cscart_admin("GET", "/orders/1").json()
    assert order["products"] == orders[0]["products"]
    assert all(key == item["item_id"] != item["product_id"] for key, item in order["products"].items())
    listed = cscart_admin("GET", "/orders", params={"items_per_page": 0}).json()["orders"]
    listed_ids = {o["order_id"] for o in listed}
    assert "9" not in listed_ids and "12" not in listed_ids  # parent order T and incomplete N are hidden
    assert {"10", "11"} <= listed_ids  # the parent's sub-orders are listed
    assert {o["status"] for o in listed} == {"O", "P", "C", "F", "D", "B", "I", "Y"}
    with_incomplete = cscart_admin("GET", "/orders", params={"items_per_page": 0, "include_incompleted": 1})
    assert "12" in {o["order_id"] for o in with_incomplete.json()["orders"]}
    assert "updated_at" not in listed[0] and "updated_at" in order


def test_status_only_put_answers_200_for_an_unknown_order(cscart_admin):
    assert cscart_admin("PUT", "/orders/99999", json={"status": "C"}).json() == {"order_id": "99999"}
    assert cscart_admin("PUT", "/orders/99999", json={"status": "C", "notes": "x"}).status_code == 404


def test_stock_changes_by_orders_do_not_bump_updated_timestamp(cscart_admin):
    product = cscart_admin("GET", "/products/2").json()
    created = cscart_admin(
        "POST",
        "/orders",
        json={
            "user_id": "4",
            "payment_id": "1",
            "shipping_id": "1",
            "products": {"2": {"product_id": "2", "amount": "3"}},
        },
    )
    assert created.status_code == 201
    order = created.json()["order_data"]
    assert order["status"] == "O" and order["total"] == f"{float(product['price']) * 3 + 5:.2f}"
    after = cscart_admin("GET", "/products/2").json()
    assert int(after["amount"]) == int(product["amount"]) - 3
    assert after["updated_timestamp"] == product["updated_timestamp"]
    recent = cscart_admin("GET", "/products", params={"updated_in_hours": 1}).json()["products"]
    assert "2" not in {p["product_id"] for p in recent}
    cscart_admin("PUT", f"/orders/{order['order_id']}", json={"status": "I"})  # canceled: stock returns
    assert cscart_admin("GET", "/products/2").json()["amount"] == product["amount"]


def test_multi_vendor_cart_creates_parent_and_suborders(cscart_admin):
    created = cscart_admin(
        "POST",
        "/orders",
        json={
            "user_data": {"email": "guest@example.net", "b_firstname": "G", "s_city": "Boston"},
            "payment_id": "2",
            "shipping_id": "1",
            "products": {"a": {"product_id": "1", "amount": 1}, "b": {"product_id": "3", "amount": 1}},
        },
    )
    body = created.json()
    assert body["order_data"]["is_parent_order"] == "Y" and body["order_data"]["status"] == "T"
    assert len(body["suborder_ids"]) == 2
    assert sorted(o["company_id"] for o in body["suborders_data"]) == ["1", "2"]
    missing = cscart_admin("POST", "/orders", json={"payment_id": "1", "products": {"1": {"product_id": "1"}}})
    assert missing.json()["message"] == "Bad Request: The user_id/user_data field is required"


def test_product_create_update_delete(cscart_admin):
    created = cscart_admin(
        "POST",
        "/products",
        json={"product": "Made via API", "price": "12.5", "company_id": 2, "product_code": "CSC-000001"},
    )
    assert created.status_code == 201
    product_id = created.json()["product_id"]
    assert isinstance(product_id, int)
    # product codes are not unique in CS-Cart, and pcode is a substring match
    matches = cscart_admin("GET", "/products", params={"pcode": "CSC-00000", "items_per_page": 0}).json()["products"]
    assert sum(1 for p in matches if p["product_code"] == "CSC-000001") == 2
    assert cscart_admin("POST", "/products", json={"product": "No price"}).json()["message"] == (
        "Bad Request: The price field is required"
    )
    updated = cscart_admin("PUT", f"/products/{product_id}", json={"amount": "15", "status": "H"})
    assert updated.json() == {"product_id": str(product_id)}
    assert time.time() - int(cscart_admin("GET", f"/products/{product_id}").json()["updated_timestamp"]) < 60
    assert cscart_admin("DELETE", f"/products/{product_id}").status_code == 204
    assert cscart_admin("DELETE", f"/products/{product_id}").status_code == 404


def test_vendor_key_is_scoped_to_its_company(cscart_vendor):
    products = cscart_vendor("GET", "/products", params={"items_per_page": 0}).json()["products"]
    assert products and {p["company_id"] for p in products} == {"2"}
    assert cscart_vendor("GET", "/products/1").status_code == 404  # vendor 1's product
    assert cscart_vendor("PUT", "/products/1", json={"price": 1}).json()["message"] == "Forbidden: Access denied"
    created = cscart_vendor("POST", "/products", json={"product": "Vendor item", "price": 3, "company_id": 1})
    assert cscart_vendor("GET", f"/products/{created.json()['product_id']}").json()["company_id"] == "2"
    orders = cscart_vendor("GET", "/orders", params={"items_per_page": 0}).json()["orders"]
    assert orders and {o["company_id"] for o in orders} == {"2"}
    assert cscart_vendor("GET", "/vendors/1").status_code == 403
    assert cscart_vendor("GET", "/vendors/2/products").status_code == 200
    assert cscart_vendor("GET", "/vendors/1/products").status_code == 403
    assert cscart_vendor("GET", "/statuses").status_code == 403


def test_vendor_key_catalog_read_only_mode(cscart_vendor, sandbox_clean):
    sandbox_clean.set_knobs(vendor_api_access="catalog_read_only")
    assert cscart_vendor("GET", "/products").status_code == 200
    assert cscart_vendor("GET", "/categories").status_code == 200
    for method, path in (("GET", "/orders"), ("GET", "/users?user_type=C"), ("POST", "/products"), ("GET", "/vendors")):
        assert cscart_vendor(method, path, json={}).json() == {"message": "Forbidden", "status": 403}


def test_two_vendors_categories_statuses_payments_shippings_taxes(cscart_admin):
    vendors = cscart_admin("GET", "/vendors").json()
    assert [v["company"] for v in vendors["vendors"]] == ["Acme Outfitters", "Northwind Traders"]
    clamp = cscart_admin("GET", "/vendors", params={"items_per_page": 1, "page": 5}).json()
    assert clamp["params"]["page"] == 2 and clamp["vendors"][0]["company_id"] == "2"
    created = cscart_admin("POST", "/vendors", json={"company": "Third", "email": "third@example.com"})
    assert created.status_code == 200 and created.json() == {"company_id": 3}
    assert cscart_admin("PUT", "/vendors/3", json={"status": "D"}).json() == {"store_id": "3"}
    statuses = cscart_admin("GET", "/statuses").json()
    assert {s["status"] for s in statuses["statuses"]} == {"O", "P", "C", "F", "D", "B", "I", "Y"}
    assert statuses["params"]["total_items"] == 8
    assert cscart_admin("GET", "/statuses", params={"items_per_page": 5, "page": 3}).json()["statuses"] == []
    assert len(cscart_admin("GET", "/payments").json()["payments"]) == 3
    assert cscart_admin("GET", "/shippings/1").json()["shipping"] == "Custom shipping method"
    assert cscart_admin("GET", "/taxes").json()["taxes"][0]["tax"] == "VAT"
    categories = cscart_admin("GET", "/categories", params={"items_per_page": 100}).json()["categories"]
    assert {c["category"] for c in categories} >= {"Apparel", "T-shirts", "Gifts 🎁"}
    delete = cscart_admin("DELETE", "/products/1")
    assert delete.status_code == 204 and delete.content == b""
