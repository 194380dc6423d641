"""Target writers of the customers pipeline, each unit-tested against an in-process fake hook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from zoho_cscart_sync.hooks.zoho import WriteResult
from zoho_cscart_sync.http.errors import AmbiguousWriteError, FatalApiError, Kind
from zoho_cscart_sync.pipelines.cscart_users import CsCartUserWriter, CustomersAccessError
from zoho_cscart_sync.pipelines.zoho_writers import CrmUpsertWriter
from zoho_cscart_sync.sync.writer import RecordRejected, UpsertItem

DUPLICATE = "The username or email you have chosen already exists. Please try another one."


def _error(cls, status: int, message: str):
    return cls(
        message, tenant="t", conn_id="c", api="cscart", method="POST", endpoint="users", status=status, kind=Kind.DATA
    )


@dataclass
class FakeCsCart:
    """Users by id; POST refuses a taken e-mail the way CS-Cart does."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next_create: Exception | None = None
    apply_before_failing: bool = False
    conn_id: str = "cscart_test"
    calls: list[str] = field(default_factory=list)

    def create(self, entity: str, payload: dict[str, Any]) -> str:
        self.calls.append("POST")
        taken = any(u["email"].casefold() == payload["email"].casefold() for u in self.users.values())
        if self.fail_next_create is not None:
            error, self.fail_next_create = self.fail_next_create, None
            if self.apply_before_failing and not taken:
                self._insert(payload)
            raise error
        if taken:
            raise _error(FatalApiError, 400, f"Bad Request: {DUPLICATE}")
        return self._insert(payload)

    def _insert(self, payload: dict[str, Any]) -> str:
        user_id = str(len(self.users) + 100)
        self.users[user_id] = {"user_id": user_id, "user_type": "C", "company_id": "0", **payload}
        return user_id

    def update(self, entity: str, obj_id: str, payload: dict[str, Any]) -> None:
        self.calls.append("PUT")
        self.users[obj_id].update(payload)

    def pages(self, entity: str, *, params: dict[str, Any], items_per_page: int):
        self.calls.append("GET")
        needle = params["email"].casefold()
        yield [
            u for u in self.users.values() if needle in u["email"].casefold() and u["user_type"] == params["user_type"]
        ]


def test_create_costs_one_call_when_the_email_is_new():
    hook = FakeCsCart()
    writer = CsCartUserWriter(hook, tenant="t")
    user_id = writer.create({"email": "new@example.com", "user_type": "C", "company_id": "0"})
    assert hook.calls == ["POST"] and hook.users[user_id]["email"] == "new@example.com"


def test_a_refused_duplicate_email_adopts_the_existing_customer_case_insensitively():
    hook = FakeCsCart(
        users={
            "8": {"user_id": "8", "email": "Jane.Doe@Example.com", "user_type": "C", "company_id": "0", "phone": "1"}
        }
    )
    writer = CsCartUserWriter(hook, tenant="t")
    user_id = writer.create({"email": "jane.doe@example.com", "user_type": "C", "company_id": "0", "lastname": "Doe"})
    assert user_id == "8" and len(hook.users) == 1
    assert hook.users["8"]["lastname"] == "Doe"
    assert writer.adopted == 1 and writer.adopted_rows["8"]["phone"] == "1"


def test_an_email_of_an_administrator_is_rejected_not_adopted():
    hook = FakeCsCart(users={"1": {"user_id": "1", "email": "admin@shop.example", "user_type": "A", "company_id": "0"}})
    with pytest.raises(RecordRejected) as caught:
        CsCartUserWriter(hook, tenant="t").create({"email": "admin@shop.example", "user_type": "C", "company_id": "0"})
    assert caught.value.field == "email" and "administrator" in caught.value.reason


def test_a_vendor_tenant_never_adopts_another_vendors_customer():
    hook = FakeCsCart(users={"5": {"user_id": "5", "email": "a@b.example", "user_type": "C", "company_id": "1"}})
    with pytest.raises(RecordRejected) as caught:
        CsCartUserWriter(hook, tenant="t", company_id=2).create(
            {"email": "a@b.example", "user_type": "C", "company_id": "2"}
        )
    assert "customer of company 1" in caught.value.reason and hook.users["5"]["company_id"] == "1"
    assert hook.calls == ["POST", "GET"]  # refused and looked up; never adopted (no PUT)


def test_a_vendor_tenant_never_adopts_a_marketplace_customer():
    hook = FakeCsCart(users={"5": {"user_id": "5", "email": "a@b.example", "user_type": "C", "company_id": "0"}})
    with pytest.raises(RecordRejected) as caught:
        CsCartUserWriter(hook, tenant="t", company_id=2).create(
            {"email": "a@b.example", "user_type": "C", "company_id": "2", "firstname": "Renamed"}
        )
    assert "customer of the marketplace (company 0)" in caught.value.reason
    assert "PUT" not in hook.calls and hook.users["5"]["company_id"] == "0" and "firstname" not in hook.users["5"]


def test_an_update_never_sends_company_id():
    hook = FakeCsCart(users={"5": {"user_id": "5", "email": "a@b.example", "user_type": "C", "company_id": "0"}})
    CsCartUserWriter(hook, tenant="t").update("5", {"email": "a@b.example", "company_id": "3", "firstname": "A"})
    assert hook.users["5"]["company_id"] == "0" and hook.users["5"]["firstname"] == "A"


@pytest.mark.parametrize("applied", [True, False])
def test_an_ambiguous_create_is_looked_up_before_it_is_retried(applied):
    hook = FakeCsCart(
        fail_next_create=_error(AmbiguousWriteError, 500, "Internal Server Error"), apply_before_failing=applied
    )
    user_id = CsCartUserWriter(hook, tenant="t").create({"email": "x@y.example", "user_type": "C", "company_id": "0"})
    assert [u["email"] for u in hook.users.values()] == ["x@y.example"]  # exactly one user either way
    assert hook.users[user_id]["email"] == "x@y.example"


def test_other_400s_are_rejections_naming_the_field():
    hook = FakeCsCart(fail_next_create=_error(FatalApiError, 400, "Bad Request: The user_type field is required"))
    with pytest.raises(RecordRejected) as caught:
        CsCartUserWriter(hook, tenant="t").create({"email": "x@y.example"})
    assert caught.value.field == "user_type"


def test_a_vendor_key_refused_by_cscart_fails_the_load_with_what_to_change():
    hook = FakeCsCart(fail_next_create=_error(FatalApiError, 403, "Forbidden: Access denied"))
    hook.conn_id = "cscart_northwind_vendor"
    with pytest.raises(CustomersAccessError) as caught:
        CsCartUserWriter(hook, tenant="northwind_vendor", company_id=2).create({"email": "x@y.example"})
    assert "cscart_northwind_vendor" in str(caught.value) and "marketplace-administrator" in str(caught.value)


@dataclass
class FakeCrm:
    sent: list[tuple[str, list[dict[str, Any]], list[str]]] = field(default_factory=list)

    def crm_upsert(self, module, records, *, duplicate_check_fields):
        self.sent.append((module, records, list(duplicate_check_fields)))
        results = []
        for index, record in enumerate(records):
            if not record.get("Last_Name"):
                results.append(
                    WriteResult(
                        index,
                        "error",
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        None,
                        None,
                        {"api_name": "Last_Name"},
                    )
                )
            else:
                action = "update" if record.get("id") else "insert"
                results.append(WriteResult(index, "success", "SUCCESS", "ok", record.get("id") or f"z{index}", action))
        return results


def test_crm_upsert_matches_on_email_carries_known_ids_and_reports_each_record():
    hook = FakeCrm()
    writer = CrmUpsertWriter(hook, "Contacts")
    outcomes = writer.upsert_batch(
        [
            UpsertItem("1", {"Email": "a@b.example", "Last_Name": "A"}, None),
            UpsertItem("2", {"Email": "c@d.example", "Last_Name": "C"}, "z-existing"),
            UpsertItem("3", {"Email": "e@f.example"}, None),
        ]
    )
    module, records, check = hook.sent[0]
    assert (module, check) == ("Contacts", ["Email"])
    assert records[1]["id"] == "z-existing" and "id" not in records[0]
    assert [(o.source_id, o.action) for o in outcomes] == [("1", "created"), ("2", "updated"), ("3", "rejected")]
    assert outcomes[2].field == "Last_Name" and "MANDATORY_NOT_FOUND" in outcomes[2].reason
    assert writer.label == "zoho /crm/v8/Contacts" and writer.max_batch_size == 100
