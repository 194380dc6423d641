"""The orders DAGs of the sample tenants, run through Airflow (dag.test) against the sandbox over HTTP.

Orders need the products ID map, so every test first runs the products DAG (both directions, as the sample
tenant says). Runs are full refreshes or ``record_ids`` runs: no test reads a change through a wall-clock window.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.e2e.customers_support import _cscart_headers, _http_json, directions_of
from tests.e2e.orders_support import (
    SalesOrders,
    cscart_orders,
    cscart_set_order_status,
    make_orders_dags,
    sales_orders_end_state,
)
from tests.e2e.products_soak_support import HANG_SECONDS, PRODUCTS_CONNECTION_EXTRA
from tests.e2e.products_support import cscart_place_order, new_writes

pytestmark = pytest.mark.integration

ACME = "acme_store"
VENDOR = "northwind_vendor"
# acme_store's order_status_map over the shared defaults (include/mappings/value_maps.yaml).
ZOHO_STATUS = {"O": "draft", "Y": "draft", "P": "confirmed", "C": "confirmed", "B": "confirmed"} | {
    "F": "void",
    "D": "void",
    "I": "void",
}
CSCART_STATUS = {"draft": "O", "confirmed": "P", "fulfilled": "C", "closed": "C", "void": "I"}


def _synced(tmp_path, sandbox, monkeypatch, overrides=None, **kwargs):
    dags = make_orders_dags(tmp_path, sandbox, monkeypatch, overrides, **kwargs)
    assert dags.products.run(ACME, full_refresh=True).state == "success"
    return dags


def _placed_in_cscart(orders: dict) -> dict:
    """CS-Cart orders placed in the store (not imported from Zoho)."""
    return {oid: o for oid, o in orders.items() if not str(o.get("details") or "").startswith("Zoho ")}


def test_both_directions_land_every_order_once_and_a_second_run_writes_nothing(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _synced(tmp_path, sandbox_clean, monkeypatch)
    seeded_zoho = SalesOrders(sandbox_clean, ACME).salesorders()
    placed = _placed_in_cscart(cscart_orders(sandbox_clean))

    first = dags.orders.run(ACME, full_refresh=True)
    assert first.state == "success"
    report = directions_of(first)

    # CS-Cart -> Zoho: every order placed in the store is one sales order CSC-<id>, in the mapped status.
    by_reference = SalesOrders(sandbox_clean, ACME).by_reference()
    twice = {ref: len(rows) for ref, rows in by_reference.items() if ref and len(rows) > 1}
    assert twice == {}
    for order_id, order in placed.items():
        [sales_order] = by_reference[f"CSC-{order_id}"]
        assert sales_order["status"] == ZOHO_STATUS[order["status"]], (order_id, order["status"], sales_order)
    assert report["cscart_to_zoho"]["failed"] == 0, report
    # The sandbox seeds one sales order with the reference of CS-Cart order 3: it is adopted, not duplicated.
    assert report["cscart_to_zoho"]["linked_existing"] >= 1, report

    # Zoho -> CS-Cart: every seeded sales order of an imported status (not made from a CS-Cart order) is one CS-Cart
    # order with its Zoho number in the admin note, or waits in quarantine with CS-Cart's reason.
    imported = Counter(str(o["details"]) for o in cscart_orders(sandbox_clean).values() if o.get("details"))
    quarantined = {e.source_id for e in dags.store().list_quarantine(ACME, "orders", "zoho_to_cscart")}
    for so_id, row in seeded_zoho.items():
        if row["status"] not in ("confirmed", "fulfilled", "closed") or str(row["reference_number"]).startswith("CSC-"):
            continue
        number = f"Zoho {row['salesorder_number']}"
        assert imported[number] == 1 or so_id in quarantined, (so_id, number)
    assert max(imported.values()) == 1
    assert report["zoho_to_cscart"]["created"] >= 1, report

    # A second run of everything writes nothing: orders that came from the other side are recognised.
    before = sandbox_clean.counters()
    second = dags.orders.run(ACME, full_refresh=True)
    assert second.state == "success"
    after = sandbox_clean.counters()
    assert new_writes(before, after) == {}, directions_of(second)
    # Zoho -> CS-Cart reads whole only the sales orders it may write: those its list row does not already rule out
    # (made from a CS-Cart order, or new and in a status not imported), and skips the others at no call.
    zoho_links = {link.zoho_id: link for link in dags.store().list_links(ACME, "orders") if link.zoho_id}
    whole = [
        so_id
        for so_id, row in SalesOrders(sandbox_clean, ACME).salesorders().items()
        if "order_from_cscart" not in getattr(zoho_links.get(so_id), "flags", ())
        and (
            so_id in zoho_links
            or (
                row["status"] in ("confirmed", "fulfilled", "closed")
                and not re.fullmatch(r"CSC-\d+", str(row["reference_number"]).strip())
            )
        )
    ]
    assert after.get("GET /inventory/v1/salesorders/{id}", 0) - before.get(
        "GET /inventory/v1/salesorders/{id}", 0
    ) == len(whole), directions_of(second)
    assert 0 < len(whole) < len(SalesOrders(sandbox_clean, ACME).salesorders())
    assert directions_of(second)["zoho_to_cscart"]["skipped"] >= len(
        SalesOrders(sandbox_clean, ACME).salesorders()
    ) - len(whole)

    # The dashboard counts of that run, against what the sandbox holds (CS-Cart: parents hidden; Zoho: every SO).
    latest = dags.store().latest_run_counts(ACME, "orders")
    assert latest is not None and latest.run_id == second.run_id
    links = [link for link in dags.store().list_links(ACME, "orders") if link.zoho_id and link.cscart_id]
    zoho_total = len(SalesOrders(sandbox_clean, ACME).salesorders())
    counts = latest.counts
    assert (counts.cscart_total, counts.synced, counts.zoho_total) == (
        len(cscart_orders(sandbox_clean)),
        len(links),
        zoho_total,
    )
    assert counts.already_imported == sum(1 for link in links if "order_from_zoho" in link.flags)


def test_one_cscart_order_walks_its_statuses_and_zoho_follows_each_step(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _synced(tmp_path, sandbox_clean, monkeypatch)
    order_id = next(oid for oid, o in _placed_in_cscart(cscart_orders(sandbox_clean)).items() if o["status"] == "O")
    reader = SalesOrders(sandbox_clean, ACME)

    def step(status: str) -> tuple[str, dict]:
        cscart_set_order_status(sandbox_clean, order_id, status)
        run = dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id])
        assert run.state == "success"
        [sales_order] = reader.by_reference()[f"CSC-{order_id}"]
        return sales_order["status"], directions_of(run)["cscart_to_zoho"]

    assert step("O")[0] == "draft"
    for status in ("Y", "P", "C", "B", "I"):
        assert step(status)[0] == ZOHO_STATUS[status], status
    # Out of void: Inventory cannot, so the order is refused with the reason (not silently left behind).
    zoho_status, report = step("O")
    assert zoho_status == "void" and report["failed"] == 1, report
    [entry] = dags.store().list_quarantine(ACME, "orders", "cscart_to_zoho")
    assert (entry.source_id, entry.field) == (order_id, "status")
    assert "is void: Zoho Inventory cannot edit a void sales order or move it out of void" in entry.reason


def test_a_zoho_sales_order_is_imported_when_confirmed_and_its_status_follows(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _synced(tmp_path, sandbox_clean, monkeypatch)
    reader = SalesOrders(sandbox_clean, ACME)
    so_id, draft = next(
        (i, r)
        for i, r in reader.salesorders().items()
        if r["status"] == "draft" and not str(r["reference_number"]).startswith("CSC-")
    )
    number = f"Zoho {draft['salesorder_number']}"

    def imported() -> list[dict]:
        return [o for o in cscart_orders(sandbox_clean).values() if o.get("details") == number]

    def run() -> dict:
        dag_run = dags.orders.run(ACME, direction="zoho_to_cscart", record_ids=[so_id])
        assert dag_run.state == "success"
        return directions_of(dag_run)["zoho_to_cscart"]

    assert run()["skipped"] == 1 and imported() == []  # a draft is not an order yet
    reader.set_status(so_id, "confirmed")
    before = sandbox_clean.counters()
    assert run()["created"] == 1
    [order] = imported()
    assert order["status"] == CSCART_STATUS["confirmed"]
    # The import is a create plus a status-only PUT (no other order write).
    assert new_writes(before, sandbox_clean.counters()) == {"POST /api/orders": 1, "PUT /api/orders/{id}": 1}
    reader.set_status(so_id, "void")
    assert run()["updated"] == 1
    [order] = imported()
    assert order["status"] == CSCART_STATUS["void"]
    again = sandbox_clean.counters()
    run()
    assert new_writes(again, sandbox_clean.counters()) == {}


def test_an_order_whose_product_is_not_in_zoho_waits_until_products_links_it(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _synced(tmp_path, sandbox_clean, monkeypatch)
    created = _http_json(
        f"{sandbox_clean.cscart_url}/api/products",
        headers=_cscart_headers(sandbox_clean),
        method="POST",
        body={"product": "Sold Before Synced", "product_code": "ORD-WAIT-1", "price": "9.50", "amount": 20},
    )
    product_id = str(created["product_id"])
    order_id = cscart_place_order(sandbox_clean, product_id, 2, email="waiting.buyer@example.com")

    waiting = dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id])
    assert waiting.state == "success"  # waiting is not a failure
    assert directions_of(waiting)["cscart_to_zoho"]["waiting"] == 1
    [entry] = dags.store().list_quarantine(ACME, "orders", "cscart_to_zoho")
    assert (entry.source_id, entry.kind) == (order_id, "waiting")
    assert f"products record '{product_id}' has no counterpart yet" in entry.reason
    assert f"CSC-{order_id}" not in SalesOrders(sandbox_clean, ACME).by_reference()

    assert dags.products.run(ACME, direction="cscart_to_zoho", record_ids=[product_id]).state == "success"
    sent = dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id])
    assert directions_of(sent)["cscart_to_zoho"]["created"] == 1
    assert len(SalesOrders(sandbox_clean, ACME).by_reference()[f"CSC-{order_id}"]) == 1
    assert dags.store().list_quarantine(ACME, "orders", "cscart_to_zoho") == []


def test_a_lost_answer_to_a_sales_order_create_never_makes_two(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _synced(tmp_path, sandbox_clean, monkeypatch, connection_extra=PRODUCTS_CONNECTION_EXTRA)
    order_id = next(iter(_placed_in_cscart(cscart_orders(sandbox_clean))))
    reference = f"CSC-{order_id}"
    sandbox_clean.set_knobs(
        server="zoho", hang_write_containing=f'"{reference}"', hang_seconds=HANG_SECONDS, hang_phase="after"
    )
    first = dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id])
    lost = sandbox_clean.hung_counters("zoho")
    sandbox_clean.set_knobs(server="zoho", hang_write_containing="")
    assert lost == {"POST /inventory/v1/salesorders": 1}, lost  # the create was applied, its answer lost
    assert first.state == "success", directions_of(first)
    assert len(SalesOrders(sandbox_clean, ACME).by_reference()[reference]) == 1
    before = sandbox_clean.counters()
    assert dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id]).state == "success"
    assert new_writes(before, sandbox_clean.counters()) == {}
    assert len(SalesOrders(sandbox_clean, ACME).by_reference()[reference]) == 1


def test_a_status_map_inventory_cannot_express_is_refused_before_any_call(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    overrides = {ACME: {"defaults": {"order_status_map": {"C": "closed"}}}}
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch, overrides)
    before = sandbox_clean.counters()
    run = dags.orders.run(ACME, direction="cscart_to_zoho", full_refresh=True)
    assert run.state == "failed"
    plan = run.get_task_instance("plan")
    assert str(getattr(plan.state, "value", plan.state)) == "failed"  # refused by the plan task: nothing read
    assert {k: v - before.get(k, 0) for k, v in sandbox_clean.counters().items() if v != before.get(k, 0)} == {}


def test_vendor_tenant_sends_only_its_company_orders(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch)
    assert dags.products.run(VENDOR, full_refresh=True).state == "success"
    run = dags.orders.run(VENDOR, full_refresh=True)
    assert run.state == "success"
    company = str(sandbox_clean.credentials.cscart_for(VENDOR).company_id)
    links = list(dags.store().list_links(VENDOR, "orders"))
    orders = cscart_orders(sandbox_clean)
    assert links, "the vendor has orders in the seed"
    assert {orders[link.cscart_id]["company_id"] for link in links} == {company}
    theirs = [o for o in orders.values() if o["company_id"] == company and not o.get("details")]
    assert len(links) == len(theirs)


RANGES = [
    ("2026-10-01T00:00:00Z", "2026-11-18T00:00:00Z"),
    ("2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z"),
    ("2026-11-19T00:00:00Z", "2026-11-21T00:00:00Z"),
]
"""Consecutive date ranges covering every seeded order's ``updated_at`` (the seed spans the 30 days to 2026-11-20)."""


def _unix(stamp: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def test_date_range_runs_reach_the_same_end_state_as_one_full_refresh(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    ranged = _synced(tmp_path / "ranges", sandbox_clean, monkeypatch)
    for since, until in RANGES:
        run = ranged.orders.run(ACME, direction="cscart_to_zoho", since=since, until=until)
        assert run.state == "success", (since, until)
    by_ranges = sales_orders_end_state(sandbox_clean, ACME)

    sandbox_clean.reset()
    whole = _synced(tmp_path / "whole", sandbox_clean, monkeypatch)
    assert whole.orders.run(ACME, direction="cscart_to_zoho", full_refresh=True).state == "success"
    assert sales_orders_end_state(sandbox_clean, ACME) == by_ranges
    assert len(by_ranges) >= 20


def test_a_date_range_with_a_status_filter_sends_exactly_those_orders(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags = _synced(tmp_path, sandbox_clean, monkeypatch)
    since, until = RANGES[0]
    placed = _placed_in_cscart(cscart_orders(sandbox_clean))
    expected = {
        f"CSC-{order_id}"
        for order_id, order in placed.items()
        if order["status"] == "P" and _unix(since) <= int(order["updated_at"]) < _unix(until)
    }
    assert expected, "the seed has paid orders in the range"
    run = dags.orders.run(ACME, direction="cscart_to_zoho", since=since, until=until, order_statuses=["P"])
    assert run.state == "success"
    sent = {ref for ref in SalesOrders(sandbox_clean, ACME).by_reference() if re.fullmatch(r"CSC-\d+", ref)}
    # The seeded sales order CSC-3 exists in Zoho from the start (it is adopted when order 3 is sent).
    assert sent - {"CSC-3"} == expected - {"CSC-3"}
    # A filtered run leaves the watermark where it was: the next ordinary run still reads the whole range.
    assert dags.store().get_watermark(ACME, "orders", "cscart_to_zoho") is None


def test_with_description_lines_an_order_goes_now_and_its_line_gets_the_item_once_linked(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    overrides = {ACME: {"settings": {"missing_products": "description_line"}}}
    dags = _synced(tmp_path, sandbox_clean, monkeypatch, overrides)
    created = _http_json(
        f"{sandbox_clean.cscart_url}/api/products",
        headers=_cscart_headers(sandbox_clean),
        method="POST",
        body={"product": "Sold Before Synced", "product_code": "ORD-FREE-1", "price": "9.50", "amount": 20},
    )
    product_id = str(created["product_id"])
    order_id = cscart_place_order(sandbox_clean, product_id, 2, email="free.line@example.com")
    reader = SalesOrders(sandbox_clean, ACME)

    sent = dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id])
    assert directions_of(sent)["cscart_to_zoho"]["created"] == 1
    [row] = reader.by_reference()[f"CSC-{order_id}"]
    [line] = reader.salesorder(row["salesorder_id"])["line_items"]
    assert (line["name"], line["quantity"], line["rate"], line.get("item_id") or None) == (
        "Sold Before Synced",
        2,
        9.5,
        None,
    )

    # Once the products sync links the product, the next run of the order gives the line its item.
    assert dags.products.run(ACME, direction="cscart_to_zoho", record_ids=[product_id]).state == "success"
    item_id = dags.store().get_link(ACME, "products", cscart_id=product_id).zoho_id
    relinked = dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id])
    assert directions_of(relinked)["cscart_to_zoho"]["updated"] == 1
    [line] = reader.salesorder(row["salesorder_id"])["line_items"]
    assert line["item_id"] == item_id
    assert len(reader.by_reference()[f"CSC-{order_id}"]) == 1


def test_a_dry_run_writes_nothing_and_record_ids_sync_exactly_those_orders(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = _synced(tmp_path, sandbox_clean, monkeypatch)
    reader = SalesOrders(sandbox_clean, ACME)
    references_before = set(reader.by_reference())
    cscart_before = set(cscart_orders(sandbox_clean))

    # A dry run maps and reports everything it would do, and writes nothing on either side (not even a contact).
    before = sandbox_clean.counters()
    dry = dags.orders.run(ACME, full_refresh=True, dry_run=True)
    assert dry.state == "success"
    report = directions_of(dry)
    assert report["cscart_to_zoho"]["created"] > 0 and report["zoho_to_cscart"]["created"] > 0, report
    assert new_writes(before, sandbox_clean.counters()) == {}
    assert dags.store().get_links(ACME, "orders", cscart_ids=sorted(cscart_before)) == {}

    # record_ids: exactly those orders, one from each side.
    # A confirmed sales order of an ordinary reference with an e-mail (the seed's traps include a guest without one
    # and one with a disabled product, which CS-Cart refuses).
    candidates = sorted(
        (so for so in reader.salesorders().values() if so["status"] == "confirmed" and so.get("email")),
        key=lambda so: so["salesorder_number"],
    )
    confirmed = next(so for so in candidates if not re.fullmatch(r"CSC-\d+", str(so.get("reference_number") or "")))
    assert dags.orders.run(ACME, record_ids=["1", "2"], direction="cscart_to_zoho").state == "success"
    assert dags.orders.run(ACME, record_ids=[confirmed["salesorder_id"]], direction="zoho_to_cscart").state == "success"
    assert set(reader.by_reference()) - references_before == {"CSC-1", "CSC-2"}
    new_in_cscart = {oid: o for oid, o in cscart_orders(sandbox_clean).items() if oid not in cscart_before}
    assert [o["details"] for o in new_in_cscart.values()] == [f"Zoho {confirmed['salesorder_number']}"]
