"""Orders with ``entities.orders.settings.sales_orders_in: crm``: CS-Cart orders become Zoho CRM ``Sales_Orders``,
through real DAG runs (dag.test) of the customers DAG (the customers ID map) and the orders DAG over HTTP.

The sales order's Subject is ``CSC-<order id>`` (upsert key), its Contact_Name the customer's CRM contact (the
customers link, else the contact with the order's e-mail, found or created, guests too), its lines CRM Products
found or created by Product_Code (ID map ``crm_products``). Runs after a change use ``record_ids`` or
``full_refresh``: no test reads a change through a wall-clock window.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.customers_support import ZohoReader, cscart_customers, directions_of
from tests.e2e.orders_support import SAMPLE_TENANTS_DIR, cscart_orders, cscart_set_order_status, make_orders_dags
from tests.e2e.products_soak_support import HANG_SECONDS, PRODUCTS_CONNECTION_EXTRA
from tests.e2e.products_support import calls_between, cscart_products, new_writes

pytestmark = pytest.mark.integration

ACME = "acme_store"
VENDOR = "northwind_vendor"
CRM = {tenant: {"settings": {"sales_orders_in": "crm"}} for tenant in (ACME, VENDOR)}
# acme_store's order_status_map over the shared defaults, in CRM's picklist words.
CRM_STATUS = {"O": "Created", "Y": "Created", "P": "Approved", "C": "Approved", "B": "Approved"} | dict.fromkeys(
    "FDI", "Cancelled"
)


def _dags(tmp_path: Path, sandbox: Any, monkeypatch: Any, **kwargs: Any) -> tuple[Any, Any]:
    """The orders DAGs with CRM as target, and the customers DAG beside them (one state store)."""
    dags = make_orders_dags(tmp_path, sandbox, monkeypatch, CRM, **kwargs)
    for path in dags.orders.tenants_dir.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        sample = yaml.safe_load((SAMPLE_TENANTS_DIR / path.name).read_text(encoding="utf-8"))
        doc["entities"] = {"customers": sample["entities"]["customers"], **doc["entities"]}
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    customers = dataclasses.replace(dags.orders, entity="customers", _bag=None)
    return dags, customers


def _placed(orders: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """CS-Cart orders placed in the store (not imported from Zoho)."""
    return {oid: o for oid, o in orders.items() if not str(o.get("details") or "").startswith("Zoho ")}


class CrmSalesOrders(ZohoReader):
    """One tenant's CRM Sales_Orders and Products (read independently of the code under test)."""

    def by_subject(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in self.coql("select id, Subject, Status from Sales_Orders where Subject like 'CSC-%' limit 2000"):
            grouped.setdefault(str(row["Subject"]), []).append(row)
        return grouped

    def record(self, module: str, record_id: str) -> dict[str, Any]:
        from tests.e2e.customers_support import _http_json

        body = _http_json(f"{self.sandbox.zoho_api_url}/crm/v8/{module}/{record_id}", headers=self.headers)
        return dict(body["data"][0])

    def products_by_code(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for row in self.coql("select id, Product_Code from Products where Product_Code is not null limit 2000"):
            grouped.setdefault(str(row["Product_Code"]), []).append(str(row["id"]))
        return grouped


def test_cscart_orders_become_crm_sales_orders_with_contacts_and_products_and_a_second_run_writes_nothing(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags, customers = _dags(tmp_path, sandbox_clean, monkeypatch)
    assert customers.run(ACME, direction="cscart_to_zoho", full_refresh=True).state == "success"
    placed = _placed(cscart_orders(sandbox_clean))
    before = sandbox_clean.counters()
    first = dags.orders.run(ACME, direction="cscart_to_zoho", full_refresh=True)
    assert first.state == "success"
    report = directions_of(first)["cscart_to_zoho"]
    assert report["failed"] == 0 and report["waiting"] == 0, report
    after = sandbox_clean.counters()

    crm = CrmSalesOrders(sandbox_clean, ACME)
    by_subject = crm.by_subject()
    store = dags.store()
    sent = {oid: o for oid, o in placed.items() if store.get_link(ACME, "orders", cscart_id=oid) is not None}
    assert sent and set(sent) == {oid for oid in placed if f"CSC-{oid}" in by_subject}
    customer_links = store.get_links(ACME, "customers", cscart_ids=sorted({str(o["user_id"]) for o in sent.values()}))
    codes = crm.products_by_code()
    taxed = 0
    for order_id, order in sent.items():
        [row] = by_subject[f"CSC-{order_id}"]
        sales_order = crm.record("Sales_Orders", row["id"])
        assert sales_order["Status"] == CRM_STATUS[order["status"]], (order_id, order["status"])
        # The customer's CRM contact: the customers sync's link, else the contact with the order's e-mail.
        contact_id = sales_order["Contact_Name"]["id"]
        link = customer_links.get(str(order["user_id"]))
        if link is not None and not set(link.flags or ()) & {"crm_lead", "crm_account"}:
            assert contact_id == link.zoho_id, order_id
        else:
            contact = crm.record("Contacts", contact_id)
            assert str(contact["Email"]).casefold() == str(order["email"]).casefold(), order_id
        # One line per CS-Cart line, on the CRM Product with the line's product code, at the price paid.
        lines = sorted(
            (crm.record("Products", line["Product_Name"]["id"])["Product_Code"], line["Quantity"], line["List_Price"])
            for line in sales_order["Ordered_Items"]
        )
        wanted = sorted(
            (line["product_code"] or f"CSC-P{line['product_id']}", float(line["amount"]), float(line["price"]))
            for line in order["products"].values()
        )
        assert lines == wanted, order_id
        # CRM's Grand_Total (lines - discount + the adjustment: shipping and CS-Cart's tax) is CS-Cart's total.
        assert sales_order["Grand_Total"] == pytest.approx(float(order["total"])), order_id
        taxed += float(order.get("tax_subtotal") or 0) > 0
    assert taxed >= 1 and "0" in {str(o["user_id"]) for o in sent.values()}  # the VAT order and a guest went too
    # Every CRM Product the orders use exists once per code, and is in the ID map.
    used = {
        line["product_code"] or f"CSC-P{line['product_id']}" for o in sent.values() for line in o["products"].values()
    }
    assert {code: ids for code, ids in codes.items() if code in used and len(ids) > 1} == {}
    product_ids = {str(line["product_id"]) for o in sent.values() for line in o["products"].values()}
    assert set(store.get_links(ACME, "crm_products", cscart_ids=sorted(product_ids))) == product_ids

    # Calls: the sales orders in one upsert (<= 100 a call), products and contacts searched in bulk.
    assert calls_between(before, after, "POST /crm/v8/Sales_Orders/upsert") == 1
    assert calls_between(before, after, "POST /crm/v8/Products") <= 1
    assert calls_between(before, after, "/inventory/") == calls_between(before, after, "/books/") == 0

    # A second run writes nothing (not even a search).
    before = sandbox_clean.counters()
    again = dags.orders.run(ACME, direction="cscart_to_zoho", full_refresh=True)
    assert again.state == "success"
    assert new_writes(before, sandbox_clean.counters()) == {}


def test_a_cscart_status_change_moves_the_crm_status_and_keeps_the_lines(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags, _ = _dags(tmp_path, sandbox_clean, monkeypatch)
    order_id = next(oid for oid, o in _placed(cscart_orders(sandbox_clean)).items() if o["status"] == "O")
    crm = CrmSalesOrders(sandbox_clean, ACME)

    def step(status: str) -> tuple[dict[str, Any], dict[str, int], int]:
        cscart_set_order_status(sandbox_clean, order_id, status)
        before = sandbox_clean.counters()
        run = dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id])
        after = sandbox_clean.counters()
        assert run.state == "success"
        assert directions_of(run)["cscart_to_zoho"]["failed"] == 0
        [row] = crm.by_subject()[f"CSC-{order_id}"]
        reads = calls_between(before, after, "GET /crm/v8/Sales_Orders/")
        return crm.record("Sales_Orders", row["id"]), new_writes(before, after), reads

    created, _, _ = step("O")
    assert created["Status"] == "Created"
    for status in ("P", "I", "O"):  # CRM's Status is a picklist: every move is one update, back included
        moved, written, reads = step(status)
        assert moved["Status"] == CRM_STATUS[status], status
        # The same lines (ids included): a status change does not send them again. Cost: one read of the
        # order (its current lines) and its share of one upsert.
        assert moved["Ordered_Items"] == created["Ordered_Items"]
        assert (written, reads) == ({"POST /crm/v8/Sales_Orders/upsert": 1}, 1)


def test_a_lost_answer_to_the_sales_order_upsert_never_makes_two(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags, _ = _dags(tmp_path, sandbox_clean, monkeypatch, connection_extra=PRODUCTS_CONNECTION_EXTRA)
    order_id = next(iter(_placed(cscart_orders(sandbox_clean))))
    subject = f"CSC-{order_id}"
    sandbox_clean.set_knobs(
        server="zoho", hang_write_containing=f'"{subject}"', hang_seconds=HANG_SECONDS, hang_phase="after"
    )
    first = dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id])
    lost = sandbox_clean.hung_counters("zoho")
    sandbox_clean.set_knobs(server="zoho", hang_write_containing="")
    assert lost == {"POST /crm/v8/Sales_Orders/upsert": 1}, lost  # the upsert was applied, its answer lost
    assert first.state == "success", directions_of(first)
    crm = CrmSalesOrders(sandbox_clean, ACME)
    [row] = crm.by_subject()[subject]
    assert dags.store().get_link(ACME, "orders", cscart_id=order_id).zoho_id == row["id"]
    before = sandbox_clean.counters()
    assert dags.orders.run(ACME, direction="cscart_to_zoho", record_ids=[order_id]).state == "success"
    assert new_writes(before, sandbox_clean.counters()) == {}
    assert len(crm.by_subject()[subject]) == 1


def test_a_vendor_tenant_sends_only_its_company_orders_to_crm(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags, _ = _dags(tmp_path, sandbox_clean, monkeypatch)
    run = dags.orders.run(VENDOR, full_refresh=True)
    assert run.state == "success"
    assert directions_of(run)["cscart_to_zoho"]["failed"] == 0
    company = str(sandbox_clean.credentials.cscart_for(VENDOR).company_id)
    orders = cscart_orders(sandbox_clean)
    links = list(dags.store().list_links(VENDOR, "orders"))
    assert links, "the vendor has orders in the seed"
    assert {orders[link.cscart_id]["company_id"] for link in links} == {company}
    theirs = [o for o in orders.values() if o["company_id"] == company and not o.get("details")]
    assert len(links) == len(theirs)
    # In the vendor's own CRM, one sales order per order sent.
    by_subject = CrmSalesOrders(sandbox_clean, VENDOR).by_subject()
    assert {f"CSC-{link.cscart_id}" for link in links} <= set(by_subject)
    assert all(len(by_subject[f"CSC-{link.cscart_id}"]) == 1 for link in links)


def test_a_status_map_crm_cannot_express_is_refused_before_any_call(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    overrides = {ACME: {**CRM[ACME], "defaults": {"order_status_map": {"C": "closed"}}}}
    dags = make_orders_dags(tmp_path, sandbox_clean, monkeypatch, overrides)
    before = sandbox_clean.counters()
    run = dags.orders.run(ACME, direction="cscart_to_zoho", full_refresh=True)
    assert run.state == "failed"
    plan = run.get_task_instance("plan")
    assert str(getattr(plan.state, "value", plan.state)) == "failed"  # refused by the plan task: nothing read
    assert {k: v - before.get(k, 0) for k, v in sandbox_clean.counters().items() if v != before.get(k, 0)} == {}


def test_a_dry_run_writes_nothing_to_crm(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    dags, _ = _dags(tmp_path, sandbox_clean, monkeypatch)
    before = sandbox_clean.counters()
    run = dags.orders.run(ACME, direction="cscart_to_zoho", full_refresh=True, dry_run=True)
    assert run.state == "success"
    report = directions_of(run)["cscart_to_zoho"]
    assert report["created"] == len(_placed(cscart_orders(sandbox_clean))) and report["failed"] == 0, report
    # Only look-ups (COQL by Subject, a POST that reads): no record written, no link stored.
    written = new_writes(before, sandbox_clean.counters())
    assert set(written) <= {"POST /crm/v8/coql"}, written
    assert CrmSalesOrders(sandbox_clean, ACME).by_subject() == {}
    assert list(dags.store().list_links(ACME, "orders")) == list(dags.store().list_links(ACME, "crm_products")) == []


# -- Zoho CRM -> CS-Cart (the CRM source) ---------------------------------------------------------------------------


class CrmWriter(CrmSalesOrders):
    """Records a person makes in the tenant's CRM (inserted over the API, as a CRM user would)."""

    def insert(self, module: str, record: dict[str, Any]) -> str:
        from tests.e2e.customers_support import _http_json

        body = _http_json(
            f"{self.sandbox.zoho_api_url}/crm/v8/{module}",
            headers=self.headers,
            method="POST",
            body={"data": [record], "trigger": []},
        )
        [row] = body["data"]
        assert row["status"] == "success", row
        return str(row["details"]["id"])

    def sales_order(self, subject: str, status: str, contact_id: str, lines: list[tuple[str, int, float]]) -> str:
        items = [{"Product_Name": {"id": p}, "Quantity": q, "List_Price": price} for p, q, price in lines]
        record = {"Subject": subject, "Status": status, "Contact_Name": {"id": contact_id}, "Ordered_Items": items}
        return self.insert("Sales_Orders", record)


def _imported(sandbox: Any) -> dict[str, dict[str, Any]]:
    """CS-Cart orders imported from CRM, by admin note."""
    return {str(o["details"]): o for o in cscart_orders(sandbox).values() if str(o.get("details")).startswith("Zoho ")}


def test_crm_sales_orders_are_imported_once_with_lines_customer_and_status_and_follow_crm_status_changes(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    """A CRM-only organisation: with ``sales_orders_in: crm`` the import reads CRM Sales_Orders (never Inventory).
    Orders in import statuses (Approved, Delivered: confirmed, fulfilled) become CS-Cart orders with their lines
    (CRM Products made by people, found in CS-Cart by Product_Code), the customer with the contact's e-mail (else a
    guest order with it) and the status; a draft (Created) and a Subject CSC-<digits> are not imported; an order
    with a CRM Product that is not in CS-Cart waits. A second run writes nothing; a CRM Status change moves the
    CS-Cart status with a status-only PUT."""
    dags, _ = _dags(tmp_path, sandbox_clean, monkeypatch)
    crm = CrmWriter(sandbox_clean, ACME)
    # Two products of one vendor (several vendors' products would split the order into vendor orders).
    products = [
        p
        for p in cscart_products(sandbox_clean).values()
        if p["product_code"] and p["status"] == "A" and str(p["company_id"]) == "1"
    ]
    first, second = sorted(products, key=lambda p: int(p["product_id"]))[4:6]
    mine = {
        p["product_code"]: crm.insert("Products", {"Product_Name": p["product"], "Product_Code": p["product_code"]})
        for p in (first, second)
    }
    stranger = crm.insert("Products", {"Product_Name": "Only in CRM", "Product_Code": "CRM-ONLY-1"})
    customer = next(u for u in cscart_customers(sandbox_clean).values() if u["email"] and u["status"] == "A")
    known = crm.insert("Contacts", {"Last_Name": "Known", "First_Name": "Kay", "Email": customer["email"].upper()})
    guest = crm.insert("Contacts", {"Last_Name": "Guest", "First_Name": "Gus", "Email": "gus.guest@example.org"})
    code_a, code_b = first["product_code"], second["product_code"]
    approved = crm.sales_order("Deal A", "Approved", known, [(mine[code_a], 2, 10.0), (mine[code_b], 1, 4.5)])
    delivered = crm.sales_order("Deal B", "Delivered", guest, [(mine[code_a], 3, 9.99)])
    draft = crm.sales_order("Deal C", "Created", known, [(mine[code_b], 1, 4.5)])
    waits = crm.sales_order("Deal D", "Approved", guest, [(mine[code_a], 1, 10.0), (stranger, 1, 1.0)])
    unconfirmed = crm.sales_order("CSC-99123", "Approved", guest, [(mine[code_a], 1, 10.0)])
    ids = [approved, delivered, draft, waits, unconfirmed]
    number = {rid: crm.record("Sales_Orders", rid)["SO_Number"] for rid in ids}

    before = sandbox_clean.counters()
    run = dags.orders.run(ACME, direction="zoho_to_cscart", record_ids=ids)
    after = sandbox_clean.counters()
    assert run.state == "success"
    report = directions_of(run)["zoho_to_cscart"]
    assert (report["created"], report["skipped"], report["waiting"], report["failed"]) == (2, 2, 1, 0), report

    imported = _imported(sandbox_clean)
    assert set(imported) == {f"Zoho CRM {number[approved]}", f"Zoho CRM {number[delivered]}"}
    one, two = imported[f"Zoho CRM {number[approved]}"], imported[f"Zoho CRM {number[delivered]}"]
    assert (one["status"], two["status"]) == ("P", "C")  # Approved: confirmed -> P; Delivered: fulfilled -> C
    assert str(one["user_id"]) == str(customer["user_id"])  # the customer with the contact's e-mail
    assert (str(two["user_id"]), two["email"]) == ("0", "gus.guest@example.org")  # a guest order with it
    # CS-Cart prices an order from its catalogue (cscart_api.md 5.4): the products and quantities are CRM's.
    lines = sorted((str(line["product_id"]), int(line["amount"])) for line in one["products"].values())
    assert lines == sorted([(str(first["product_id"]), 2), (str(second["product_id"]), 1)])
    assert [(str(line["product_id"]), int(line["amount"])) for line in two["products"].values()] == [
        (str(first["product_id"]), 3)
    ]
    store = dags.store()
    links = store.get_links(ACME, "orders", zoho_ids=ids)
    assert set(links) == {approved, delivered}
    assert all("order_from_zoho" in link.flags for link in links.values())
    [entry] = [e for e in store.list_quarantine(ACME, "orders", "zoho_to_cscart") if e.source_id == waits]
    assert entry.kind == "waiting" and stranger in entry.reason, entry

    # Calls: no Inventory, one GET per CRM order, the contacts' e-mails and the products' codes by COQL, each
    # Product_Code looked up in CS-Cart once (pcode) for the whole run.
    assert calls_between(before, after, "/inventory/") == calls_between(before, after, "/books/") == 0
    assert calls_between(before, after, "GET /crm/v8/Sales_Orders/") == len(ids)
    assert calls_between(before, after, "POST /crm/v8/coql") == 2
    assert calls_between(before, after, "GET /api/products") == 3  # code_a, code_b, CRM-ONLY-1

    # A second run writes nothing (the waiting order still waits; COQL is a POST that reads).
    before = sandbox_clean.counters()
    again = dags.orders.run(ACME, direction="zoho_to_cscart", record_ids=ids)
    assert again.state == "success"
    assert set(new_writes(before, sandbox_clean.counters())) <= {"POST /crm/v8/coql"}
    assert directions_of(again)["zoho_to_cscart"]["waiting"] == 1

    # A CRM Status change moves the CS-Cart status: one status-only PUT (and its verifying read), nothing else.
    crm.update("Sales_Orders", approved, {"Status": "Cancelled"})
    before = sandbox_clean.counters()
    moved = dags.orders.run(ACME, direction="zoho_to_cscart", record_ids=[approved])
    assert moved.state == "success"
    written = {k: v for k, v in new_writes(before, sandbox_clean.counters()).items() if k != "POST /crm/v8/coql"}
    assert written == {"PUT /api/orders/{id}": 1}, written
    after_move = cscart_orders(sandbox_clean)[str(one["order_id"])]
    assert after_move["status"] == "I"
    assert after_move["products"] == one["products"]  # a status-only PUT: the lines stay


def test_crm_orders_made_from_cscart_are_never_imported_back_and_imported_ones_never_go_to_crm(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    """Both directions, full reads: every CS-Cart order goes to CRM (Subject CSC-<id>, order_from_cscart) and none
    comes back; the seeded CRM orders of import statuses whose products are in CS-Cart are imported
    (order_from_zoho), the others wait; the next run of both directions writes nothing."""
    dags, _ = _dags(tmp_path, sandbox_clean, monkeypatch)
    placed = _placed(cscart_orders(sandbox_clean))
    assert dags.orders.run(ACME, direction="cscart_to_zoho", full_refresh=True).state == "success"
    crm = CrmSalesOrders(sandbox_clean, ACME)
    sent = {s for s in crm.by_subject() if s.startswith("CSC-")}
    assert sent
    # An order a person makes in CRM, on a CRM Product made by people with a CS-Cart product's code.
    writer = CrmWriter(sandbox_clean, ACME)
    in_crm = crm.products_by_code()  # CRM Products the CS-Cart -> CRM direction made (codes are unique in CRM)
    product = next(
        p
        for p in cscart_products(sandbox_clean).values()
        if p["product_code"] and p["status"] == "A" and p["product_code"] not in in_crm
    )
    crm_product = writer.insert("Products", {"Product_Name": "People's", "Product_Code": product["product_code"]})
    contact = writer.insert("Contacts", {"Last_Name": "Person", "Email": "person@example.org"})
    made = writer.sales_order("By a person", "Approved", contact, [(crm_product, 1, 1.0)])
    before = sandbox_clean.counters()
    run = dags.orders.run(ACME, direction="zoho_to_cscart", full_refresh=True)
    after = sandbox_clean.counters()
    assert run.state == "success"
    report = directions_of(run)["zoho_to_cscart"]
    assert report["failed"] == 0 and report["skipped"] >= len(sent), report
    assert calls_between(before, after, "/inventory/") == 0
    imported = _imported(sandbox_clean)
    # No CS-Cart order came back: the orders placed in the store are still all there is besides the imported ones.
    assert set(cscart_orders(sandbox_clean)) == set(placed) | {str(o["order_id"]) for o in imported.values()}
    store = dags.store()
    from_zoho = [link for link in store.list_links(ACME, "orders") if "order_from_zoho" in link.flags]
    assert len(from_zoho) == len(imported) == report["created"] >= 1
    assert made in {link.zoho_id for link in from_zoho}
    subjects = {crm.record("Sales_Orders", link.zoho_id)["Subject"] for link in from_zoho}
    assert not [s for s in subjects if s.startswith("CSC-")]
    # The seeded CRM orders' products are CRM's own (codes CS-Cart does not have): those in an import status wait
    # (kind waiting, naming the product), drafts and cancelled ones are skipped without waiting.
    waiting = store.list_quarantine(ACME, "orders", "zoho_to_cscart")
    assert report["waiting"] == len(waiting) >= 1 and {e.kind for e in waiting} == {"waiting"}, report
    statuses = {crm.record("Sales_Orders", e.source_id)["Status"] for e in waiting}
    assert statuses <= {"Approved", "Delivered"}, statuses
    # Cost: each CRM order in the window that may be imported read once by id (COQL cannot select lines); the orders
    # sent from CS-Cart and the drafts are skipped on their COQL row (Status, Subject): no read, no customer or
    # product resolved.
    assert report["skipped"] >= 1
    assert calls_between(before, after, "GET /crm/v8/Sales_Orders/") == report["extracted"] - report["skipped"]
    assert calls_between(before, after, "GET /api/users") <= report["extracted"] - report["skipped"]

    # The next run of both directions writes nothing: imported orders are never sent to CRM, sent ones never
    # imported.
    before = sandbox_clean.counters()
    second = dags.orders.run(ACME, full_refresh=True)
    assert second.state == "success"
    written = new_writes(before, sandbox_clean.counters())
    assert set(written) <= {"POST /crm/v8/coql"}, (written, directions_of(second))
    assert directions_of(second)["cscart_to_zoho"]["skipped"] == len(imported)  # imported: never sent to CRM
    assert made not in {row["id"] for rows in crm.by_subject().values() for row in rows}
