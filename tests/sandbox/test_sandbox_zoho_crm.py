"""Zoho CRM v8 behaviour and traps: fields/per_page rules, the 2,000-record wall, 204/304, writes, COQL."""

from __future__ import annotations

import threading

import requests

from zoho_cscart_sandbox import seed

FIELDS = {"fields": "Last_Name,Email,Modified_Time"}


def test_fields_is_required_and_capped_at_50(acme_zoho):
    missing = acme_zoho.crm("GET", "/Contacts")
    assert (missing.status_code, missing.json()["code"]) == (400, "REQUIRED_PARAM_MISSING")
    too_many = acme_zoho.crm("GET", "/Contacts", params={"fields": ",".join(["Email"] * 51)})
    assert (too_many.status_code, too_many.json()["code"]) == (400, "LIMIT_EXCEEDED")
    unknown = acme_zoho.crm("GET", "/Contacts", params={"fields": "Emial"})
    assert unknown.json()["details"]["api_name"] == "Emial"


def test_per_page_max_200_and_unknown_module(acme_zoho):
    assert acme_zoho.crm("GET", "/Contacts", params={**FIELDS, "per_page": 201}).status_code == 400
    bad = acme_zoho.crm("GET", "/Contactz", params=FIELDS)
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_MODULE")


def test_two_thousand_record_wall_and_page_token(sandbox_clean):
    from tests.sandbox.conftest import ZohoClient

    sandbox_clean.reset(scale={"crm_contacts": 2450})
    client = ZohoClient(sandbox_clean, "acme_store")
    params = {"fields": "Last_Name", "per_page": 200, "sort_by": "id", "sort_order": "asc"}
    page10 = client.crm("GET", "/Contacts", params={**params, "page": 10})
    assert page10.status_code == 200 and page10.json()["info"]["more_records"] is True
    wall = client.crm("GET", "/Contacts", params={**params, "page": 11})
    assert (wall.status_code, wall.json()["code"]) == (400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED")
    both = client.crm("GET", "/Contacts", params={**params, "page": 1, "page_token": "x"})
    assert both.status_code == 400
    seen: list[str] = []
    response = client.crm("GET", "/Contacts", params=params)
    while True:
        body = response.json()
        seen += [r["id"] for r in body["data"]]
        if not body["info"]["more_records"]:
            break
        response = client.crm("GET", "/Contacts", params={**params, "page_token": body["info"]["next_page_token"]})
    # 2450 seeded, contact index 9 is in the recycle bin.
    assert len(seen) == len(set(seen)) == 2449
    assert seen == sorted(seen)


def test_if_modified_since_filters_inclusively_and_answers_304(acme_zoho):
    contacts = seed.zoho_contacts("acme_store")
    pivot = contacts[40]["Modified_Time"]
    newer = acme_zoho.crm(
        "GET",
        "/Contacts",
        params={**FIELDS, "sort_by": "Modified_Time", "sort_order": "asc"},
        headers={"If-Modified-Since": pivot},
    )
    times = [r["Modified_Time"] for r in newer.json()["data"]]
    assert times[0] == pivot  # inclusive
    assert len(times) == len([c for c in contacts if c["Modified_Time"] >= pivot and c["id"] != contacts[9]["id"]])
    nothing = acme_zoho.crm(
        "GET", "/Contacts", params=FIELDS, headers={"If-Modified-Since": "2030-01-01T00:00:00+00:00"}
    )
    assert nothing.status_code == 304 and nothing.content == b""


def test_writes_move_records_to_the_end_of_the_modified_order(acme_zoho):
    first = seed.zoho_contacts("acme_store")[0]
    acme_zoho.crm("PUT", f"/Contacts/{first['id']}", json={"data": [{"Phone": "+1 555 9999"}]})
    newest = acme_zoho.crm(
        "GET", "/Contacts", params={**FIELDS, "sort_by": "Modified_Time", "sort_order": "desc", "per_page": 1}
    ).json()["data"][0]
    assert newest["id"] == first["id"]
    assert newest["Modified_Time"] > seed.zoho_contacts("acme_store")[-1]["Modified_Time"]


def test_empty_results_answer_204(acme_zoho):
    none = acme_zoho.crm("GET", "/Contacts/search", params={"email": "nobody@nowhere.example"})
    assert none.status_code == 204 and none.content == b""
    assert acme_zoho.crm("GET", "/Contacts/5725767000299999999").status_code == 204


def test_get_by_id_returns_all_fields(acme_zoho):
    contact = seed.zoho_contacts("acme_store")[0]
    body = acme_zoho.crm("GET", f"/Contacts/{contact['id']}").json()
    assert body["data"][0] == contact
    assert body["data"][0]["Account_Name"] == {"name": "Acme Berlin GmbH", "id": contact["Account_Name"]["id"]}


def test_search_by_email_finds_both_contacts_sharing_it(acme_zoho):
    shared = seed.SHARED_INBOX["acme_store"]
    found = acme_zoho.crm("GET", "/Contacts/search", params={"email": shared.upper()}).json()["data"]
    assert len(found) == 2
    criteria = acme_zoho.crm(
        "GET", "/Contacts/search", params={"criteria": f"((Email:equals:{shared})and(Last_Name:equals:Desk))"}
    )
    assert [r["Last_Name"] for r in criteria.json()["data"]] == ["Desk"]
    starts = acme_zoho.crm("GET", "/Accounts/search", params={"criteria": "(Account_Name:starts_with:Acme)"})
    assert {r["Account_Name"] for r in starts.json()["data"]} == {"Acme Holdings", "Acme Europe", "Acme Berlin GmbH"}


def test_search_index_lag_knob(acme_zoho):
    acme_zoho.sandbox.set_knobs(search_index_lag_seconds=60)
    acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "Fresh", "Email": "fresh@example.com"}]})
    assert acme_zoho.crm("GET", "/Contacts/search", params={"email": "fresh@example.com"}).status_code == 204
    coql = acme_zoho.crm(
        "POST", "/coql", json={"select_query": "select Email from Contacts where Email = 'fresh@example.com'"}
    )
    assert coql.status_code == 200  # COQL reads the database, not the search index


def test_insert_201_mixed_207_all_failed_400_and_limit(acme_zoho):
    ok = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "New", "Email": "new@example.com"}]})
    assert ok.status_code == 201
    row = ok.json()["data"][0]
    assert (row["code"], row["message"]) == ("SUCCESS", "record added")
    assert acme_zoho.crm("GET", f"/Contacts/{row['details']['id']}").json()["data"][0]["Full_Name"] == "New"
    mixed = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "A"}, {"Email": "x@example.com"}]})
    assert mixed.status_code == 207
    error = mixed.json()["data"][1]
    assert (error["code"], error["details"]["api_name"]) == ("MANDATORY_NOT_FOUND", "Last_Name")
    bad = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "B", "Email": "not-an-email"}]})
    assert bad.status_code == 400 and bad.json()["data"][0]["details"]["expected_data_type"] == "email"
    lookup = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "C", "Account_Name": {"id": "1"}}]})
    assert lookup.json()["data"][0]["message"] == "the id given seems to be invalid"
    too_many = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": str(n)} for n in range(101)]})
    assert (too_many.status_code, too_many.json()["code"]) == (400, "LIMIT_EXCEEDED")


def test_insert_does_not_dedupe_email_but_upsert_does(acme_zoho):
    existing = seed.zoho_contacts("acme_store")[0]
    duplicate = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "Dup", "Email": existing["Email"]}]})
    assert duplicate.status_code == 201  # Email is not a unique field: a plain insert duplicates
    upsert = acme_zoho.crm(
        "POST",
        "/Contacts/upsert",
        json={
            "data": [
                {"Last_Name": "Doe", "First_Name": "Janet", "Email": "JANE.DOE@example.com"},
                {"Last_Name": "Brand New", "Email": "brand.new@example.com"},
            ],
            "duplicate_check_fields": ["Email"],
        },
    )
    assert upsert.status_code == 200
    rows = upsert.json()["data"]
    assert (rows[0]["action"], rows[0]["duplicate_field"], rows[0]["details"]["id"]) == (
        "update",
        "Email",
        existing["id"],
    )
    assert (rows[1]["action"], rows[1].get("duplicate_field")) == ("insert", None)
    assert acme_zoho.crm("GET", f"/Contacts/{existing['id']}").json()["data"][0]["First_Name"] == "Janet"


def test_upsert_takes_only_system_or_unique_duplicate_check_fields(acme_zoho):
    """Sales_Orders match on Subject (a system duplicate-check field), Products on their unique Product_Code in
    this org; a field that may repeat (Contacts' Last_Name) cannot identify the record to update."""
    product = seed.zoho_products("acme_store")[2]  # [1] is the seed's product without code

    def upsert(module: str, record: dict, field: str):
        return acme_zoho.crm("POST", f"/{module}/upsert", json={"data": [record], "duplicate_check_fields": [field]})

    line = {"Product_Name": {"id": product["id"]}, "Quantity": 1}
    first = upsert("Sales_Orders", {"Subject": "CSC-77001", "Ordered_Items": [line]}, "Subject")
    again = upsert("Sales_Orders", {"Subject": "CSC-77001", "Status": "Approved"}, "Subject")
    assert (first.json()["data"][0]["action"], again.json()["data"][0]["action"]) == ("insert", "update")
    assert again.json()["data"][0]["details"]["id"] == first.json()["data"][0]["details"]["id"]
    by_code = upsert("Products", {"Product_Name": "Renamed", "Product_Code": product["Product_Code"]}, "Product_Code")
    assert by_code.json()["data"][0]["details"]["id"] == product["id"]
    refused = upsert("Contacts", {"Last_Name": "Doe"}, "Last_Name")
    assert refused.status_code == 400
    assert refused.json()["details"] == {"api_name": "Last_Name", "param_name": "duplicate_check_fields"}


def test_unique_product_code_answers_duplicate_data(acme_zoho):
    product = seed.zoho_products("acme_store")[0]
    response = acme_zoho.crm(
        "POST", "/Products", json={"data": [{"Product_Name": "X", "Product_Code": product["Product_Code"]}]}
    )
    row = response.json()["data"][0]
    assert row["code"] == "DUPLICATE_DATA"
    assert row["details"]["duplicate_record"]["id"] == product["id"]


def test_update_bulk_and_unknown_id(acme_zoho):
    contact = seed.zoho_contacts("acme_store")[5]
    response = acme_zoho.crm(
        "PUT",
        "/Contacts",
        json={
            "data": [{"id": contact["id"], "Mailing_City": "Köln"}, {"id": "5725767000299999999", "Mailing_City": "X"}]
        },
    )
    assert response.status_code == 207
    assert [r["code"] for r in response.json()["data"]] == ["SUCCESS", "INVALID_DATA"]


def test_delete_and_deleted_records(acme_zoho):
    contact = seed.zoho_contacts("acme_store")[12]
    deleted = acme_zoho.crm("DELETE", "/Contacts", params={"ids": contact["id"]})
    assert deleted.json()["data"][0]["message"] == "record deleted"
    assert acme_zoho.crm("GET", f"/Contacts/{contact['id']}").status_code == 204
    entries = acme_zoho.crm("GET", "/Contacts/deleted", params={"type": "recycle"}).json()["data"]
    by_id = {e["id"]: e for e in entries}
    assert by_id[contact["id"]]["display_name"] == contact["Full_Name"]
    assert seed.zoho_contacts("acme_store")[9]["id"] in by_id  # seeded deletion


def test_account_hierarchy_three_levels(acme_zoho):
    accounts = acme_zoho.crm("GET", "/Accounts", params={"fields": "Account_Name,Parent_Account", "per_page": 200})
    by_name = {r["Account_Name"]: r for r in accounts.json()["data"]}
    berlin = by_name["Acme Berlin GmbH"]
    europe = by_name[berlin["Parent_Account"]["name"]]
    holdings = by_name[europe["Parent_Account"]["name"]]
    assert (europe["Account_Name"], holdings["Account_Name"], holdings["Parent_Account"]) == (
        "Acme Europe",
        "Acme Holdings",
        None,
    )


def test_coql_query_limits_and_errors(acme_zoho):
    query = (
        "select Last_Name, Email, Account_Name from Contacts where (Email is not null and Last_Name != 'Doe') "
        "order by Modified_Time asc limit 0, 5"
    )
    response = acme_zoho.crm("POST", "/coql", json={"select_query": query})
    body = response.json()
    assert response.status_code == 200 and body["info"] == {"count": 5, "more_records": True}
    assert all(r["Email"] and r["Last_Name"] != "Doe" for r in body["data"])
    lookup = acme_zoho.crm(
        "POST",
        "/coql",
        json={"select_query": "select Account_Name.name, Last_Name from Contacts where Account_Name.name like 'Acme%'"},
    )
    contacts = seed.zoho_contacts("acme_store")
    expected = sorted(
        c["id"]
        for n, c in enumerate(contacts)
        if n != 9 and c["Account_Name"] and c["Account_Name"]["name"].startswith("Acme")
    )
    assert sorted(r["id"] for r in lookup.json()["data"]) == expected
    assert all(r["Account_Name.name"].startswith("Acme") for r in lookup.json()["data"])
    too_big = acme_zoho.crm("POST", "/coql", json={"select_query": "select Email from Contacts limit 2001"})
    assert too_big.json()["code"] == "LIMIT_EXCEEDED"
    syntax = acme_zoho.crm("POST", "/coql", json={"select_query": "select from where"})
    assert (syntax.status_code, syntax.json()["code"]) == (400, "SYNTAX_ERROR")
    empty = acme_zoho.crm("POST", "/coql", json={"select_query": "select Email from Contacts where Email = 'none@x.y'"})
    assert empty.status_code == 204


def test_concurrency_limit_answers_429(acme_zoho):
    acme_zoho.sandbox.set_knobs(zoho_concurrency_limit=2, latency_ms=300, server="zoho")
    statuses: list[int] = []

    def call() -> None:
        response = requests.get(
            f"{acme_zoho.sandbox.zoho_api_url}/crm/v8/Contacts",
            params=FIELDS,
            headers={"Authorization": f"Zoho-oauthtoken {acme_zoho.token}"},
            timeout=10,
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json()["code"] == "TOO_MANY_REQUESTS"

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 429, 429, 429]


def test_per_minute_limit_knob(acme_zoho):
    acme_zoho.sandbox.set_knobs(zoho_requests_per_minute=2)
    statuses = [acme_zoho.crm("GET", "/Contacts", params=FIELDS).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_sales_order_insert_reads_back_line_items(acme_zoho):
    account = seed.zoho_accounts("acme_store")[2]
    product = seed.zoho_products("acme_store")[5]
    created = acme_zoho.crm(
        "POST",
        "/Sales_Orders",
        json={
            "data": [
                {
                    "Subject": "CSC order 1001",
                    "Account_Name": {"id": account["id"]},
                    "Ordered_Items": [{"Product_Name": {"id": product["id"]}, "Quantity": 2}],
                }
            ]
        },
    )
    assert created.status_code == 201
    order = acme_zoho.crm("GET", f"/Sales_Orders/{created.json()['data'][0]['details']['id']}").json()["data"][0]
    line = order["Ordered_Items"][0]
    assert line["Product_Name"] == {"name": product["Product_Name"], "id": product["id"]}
    assert line["Total"] == round(2 * product["Unit_Price"], 2)
    assert order["Account_Name"] == {"name": "Acme Berlin GmbH", "id": account["id"]}
    # SO_Number is CRM's auto-number: the next after the seed's, never the one sent.
    seeded = len(seed.zoho_sales_orders("acme_store"))
    assert order["SO_Number"] == f"{seeded + 1:06d}"
    again = acme_zoho.crm(
        "POST",
        "/Sales_Orders",
        json={
            "data": [{"Subject": "Two", "SO_Number": "X", "Ordered_Items": [{"Product_Name": {"id": product["id"]}}]}]
        },
    )
    second = acme_zoho.crm("GET", f"/Sales_Orders/{again.json()['data'][0]['details']['id']}").json()["data"][0]
    assert second["SO_Number"] == f"{seeded + 2:06d}"
    no_lines = acme_zoho.crm("POST", "/Sales_Orders", json={"data": [{"Subject": "Empty"}]})
    assert no_lines.json()["data"][0]["details"]["api_name"] == "Ordered_Items"


def test_sales_order_lines_are_kept_by_id_and_totals_are_computed(acme_zoho):
    """(U, modelled on CRM's subform rules) An update names a line by its id; a line without id is a new line,
    ``_delete`` removes one, a line not named stays. Sub_Total and Grand_Total are CRM's."""
    first, second = seed.zoho_products("acme_store")[5:7]
    body = {
        "Subject": "CSC order 1002",
        "Discount": 1.5,
        "Adjustment": 5,
        "Ordered_Items": [
            {"Product_Name": {"id": first["id"]}, "Quantity": 2, "List_Price": 10},
            {"Product_Name": {"id": second["id"]}, "Quantity": 1, "List_Price": 4},
        ],
    }
    order_id = acme_zoho.crm("POST", "/Sales_Orders", json={"data": [body]}).json()["data"][0]["details"]["id"]

    def read() -> dict:
        return acme_zoho.crm("GET", f"/Sales_Orders/{order_id}").json()["data"][0]

    order = read()
    assert (order["Sub_Total"], order["Grand_Total"]) == (24.0, 27.5)
    one, two = (line["id"] for line in order["Ordered_Items"])
    # A line without id is added (the two current lines stay).
    added = [{"Product_Name": {"id": first["id"]}, "Quantity": 1, "List_Price": 1}]
    assert (
        acme_zoho.crm("PUT", f"/Sales_Orders/{order_id}", json={"data": [{"Ordered_Items": added}]}).status_code == 200
    )
    assert [line["id"] for line in read()["Ordered_Items"]][:2] == [one, two] and len(read()["Ordered_Items"]) == 3
    third = read()["Ordered_Items"][2]["id"]
    # By id: the first line changes, the third is deleted, the second (not named) stays.
    changes = [
        {"id": one, "Product_Name": {"id": first["id"]}, "Quantity": 3, "List_Price": 10},
        {"id": third, "_delete": None},
    ]
    assert (
        acme_zoho.crm("PUT", f"/Sales_Orders/{order_id}", json={"data": [{"Ordered_Items": changes}]}).status_code
        == 200
    )
    order = read()
    assert [(line["id"], line["Quantity"]) for line in order["Ordered_Items"]] == [(one, 3.0), (two, 1.0)]
    assert (order["Sub_Total"], order["Grand_Total"]) == (34.0, 37.5)


def test_coql_follows_lookups_to_the_related_module(acme_zoho):
    query = (
        "select Last_Name, Account_Name.Account_Name, Account_Name.Billing_City from Contacts "
        "where Account_Name.Account_Name = 'Acme Berlin GmbH'"
    )
    rows = acme_zoho.crm("POST", "/coql", json={"select_query": query}).json()["data"]
    berlin = next(a for a in seed.zoho_accounts("acme_store") if a["Account_Name"] == "Acme Berlin GmbH")
    expected = [
        c["id"]
        for n, c in enumerate(seed.zoho_contacts("acme_store"))
        if n != 9 and c["Account_Name"] and c["Account_Name"]["id"] == berlin["id"]
    ]
    assert sorted(r["id"] for r in rows) == sorted(expected)
    assert {r["Account_Name.Billing_City"] for r in rows} == {berlin["Billing_City"]}


def test_standard_fields_without_seed_values_read_as_null(acme_zoho):
    response = acme_zoho.crm("GET", "/Contacts", params={"fields": "Twitter,Department,Email", "per_page": 1})
    record = response.json()["data"][0]
    assert response.status_code == 200
    assert (record["Twitter"], record["Department"]) == (None, None) and record["Email"]
