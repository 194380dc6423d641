"""Orders with ``entities.orders.settings.sales_orders_in: books``: CS-Cart orders become Zoho Books sales orders,
through real DAG runs (dag.test, full refresh) of the products and then the orders DAG of acme_store over HTTP.

Books and Inventory are one organisation (the sandbox shares sales orders and contacts between them); the tenant's
``order_status_map`` keeps Inventory's words and Books shows ``confirmed`` as ``open`` (``/status/open``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.customers_support import directions_of
from tests.e2e.orders_support import SalesOrders, cscart_orders, make_orders_dags
from tests.e2e.products_support import calls_between, new_writes

pytestmark = pytest.mark.integration

ACME = "acme_store"
BOOKS = {ACME: {"settings": {"sales_orders_in": "books"}}}
# acme_store's order_status_map over the shared defaults, in Books' words (confirmed -> open).
BOOKS_STATUS = {"O": "draft", "Y": "draft", "P": "open", "C": "open", "B": "open"} | dict.fromkeys("FDI", "void")


class BooksSalesOrders(SalesOrders):
    """One tenant's Zoho Books sales orders (read independently of the code under test)."""

    def _url(self, path: str, **params: Any) -> str:
        query = "&".join(f"{key}={value}" for key, value in {"organization_id": self.organization_id, **params}.items())
        return f"{self.sandbox.zoho_api_url}/books/v3/{path}?{query}"


def test_cscart_orders_become_books_sales_orders_and_a_second_run_writes_nothing(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch, BOOKS)
    assert dags.products.run(ACME, full_refresh=True).state == "success"
    placed = {
        oid: o for oid, o in cscart_orders(sandbox_clean).items() if not str(o.get("details") or "").startswith("Zoho ")
    }
    before = sandbox_clean.counters()
    first = dags.orders.run(ACME, full_refresh=True)
    assert first.state == "success"
    report = directions_of(first)["cscart_to_zoho"]
    assert report["failed"] == 0, report

    # Every order placed in the store is one Books sales order CSC-<id>, in the mapped status (Books' words),
    # its VAT lines with the tenant's Zoho tax.
    books = BooksSalesOrders(sandbox_clean, ACME)
    by_reference = books.by_reference()
    assert {ref: len(rows) for ref, rows in by_reference.items() if ref.startswith("CSC-") and len(rows) > 1} == {}
    for order_id, order in placed.items():
        [row] = by_reference[f"CSC-{order_id}"]
        sales_order = books.salesorder(row["salesorder_id"])
        assert sales_order["status"] == BOOKS_STATUS[order["status"]], (order_id, order["status"], sales_order)
        assert len(sales_order["line_items"]) == len(order["products"]), order_id
    vat = books.salesorder(by_reference["CSC-15"][0]["salesorder_id"])
    assert {line["tax_id"] for line in vat["line_items"]} == {"3850050000900000001"} and float(vat["tax_total"]) > 0
    # The seeded sales order with reference CSC-3 is adopted (one organisation), not duplicated.
    assert report["linked_existing"] >= 1, report

    # Everything went through Books: sales orders, their status calls and the contacts they are billed to; nothing
    # was written to Inventory sales orders or contacts.
    written = new_writes(before, sandbox_clean.counters())
    assert not [endpoint for endpoint in written if "/inventory/v1/salesorders" in endpoint], written
    assert not [endpoint for endpoint in written if "/inventory/v1/contacts" in endpoint], written
    assert any("/books/v3/salesorders" in endpoint and "/status/open" in endpoint for endpoint in written), written
    assert any("/books/v3/salesorders" in endpoint and "/status/void" in endpoint for endpoint in written), written
    assert any(endpoint.startswith("POST /books/v3/contacts") for endpoint in written), written
    links = dags.store().get_links(ACME, "orders", cscart_ids=sorted(placed))
    sent = {by_reference[f"CSC-{order_id}"][0]["salesorder_id"] for order_id in placed}
    assert {link.zoho_id for link in links.values()} == sent

    # A second run writes nothing.
    before = sandbox_clean.counters()
    assert dags.orders.run(ACME, full_refresh=True).state == "success"
    assert new_writes(before, sandbox_clean.counters()) == {}


def test_zoho_to_cscart_reads_the_sales_orders_through_books_and_imports_the_same_orders(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    """A Books organisation may have no Inventory: with ``sales_orders_in: books`` the import reads Books' sales
    orders (Books' ``open`` is Inventory's ``confirmed``: imported as P) and never calls Inventory."""
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch, BOOKS)
    assert dags.products.run(ACME, full_refresh=True).state == "success"
    seeded = BooksSalesOrders(sandbox_clean, ACME).salesorders()
    assert "open" in {row["status"] for row in seeded.values()}, "Books shows confirmed orders as open"
    before = sandbox_clean.counters()
    run = dags.orders.run(ACME, full_refresh=True, direction="zoho_to_cscart")
    assert run.state == "success"
    after = sandbox_clean.counters()
    assert calls_between(before, after, "/inventory/v1/") == 0
    assert calls_between(before, after, "GET /books/v3/salesorders") > 0

    imported = {
        str(o["details"]).removeprefix("Zoho "): o for o in cscart_orders(sandbox_clean).values() if o.get("details")
    }
    letter = {"open": "P", "fulfilled": "C", "closed": "C"}
    for row in seeded.values():
        if row["salesorder_number"] in imported:
            assert imported[row["salesorder_number"]]["status"] == letter[row["status"]], row
    opened = [row["salesorder_number"] for row in seeded.values() if row["status"] == "open"]
    assert opened and any(number in imported for number in opened), (opened, sorted(imported))
    skipped = [row for row in seeded.values() if row["status"] in ("draft", "void")]
    assert skipped and not [row for row in skipped if row["salesorder_number"] in imported]

    # A second run writes nothing.
    before = sandbox_clean.counters()
    assert dags.orders.run(ACME, full_refresh=True, direction="zoho_to_cscart").state == "success"
    assert new_writes(before, sandbox_clean.counters()) == {}
