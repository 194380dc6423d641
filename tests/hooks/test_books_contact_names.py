"""Zoho Books refuses a second contact with one name: two store customers called alike both reach Books, and
which one keeps the bare name does not depend on the order they were sent in (over HTTP, sandbox Books)."""

from __future__ import annotations

from typing import Any

import pytest

from zoho_cscart_sync.pipelines.zoho_writers import BooksContactWriter
from zoho_cscart_sync.sync.writer import RecordRejected

NAME = "Anna Namesake"


def _payload(email: str, name: str = NAME, phone: str = "") -> dict[str, Any]:
    return {
        "contact_name": name,
        "contact_type": "customer",
        "contact_persons": [{"first_name": "Anna", "last_name": "Namesake", "email": email, "phone": phone}],
    }


def _names_by_email(hook: Any) -> dict[str, str]:
    rows = [row for page in hook.books_pages("contacts", params={"contact_name_contains": "Namesake"}) for row in page]
    return {str(row["email"]): str(row["contact_name"]) for row in rows if "Namesake" in str(row["contact_name"])}


def _writer(hook: Any, owned: set[str]) -> BooksContactWriter:
    return BooksContactWriter(hook, owns=lambda contact_id: contact_id in owned)


@pytest.mark.parametrize("order", [("b@example.com", "a@example.com"), ("a@example.com", "b@example.com")])
def test_the_smaller_email_keeps_the_bare_name_whatever_the_order(make_zoho_hook, order):
    hook = make_zoho_hook()
    owned: set[str] = set()
    writer = _writer(hook, owned)
    for email in order:
        owned.add(writer.create(_payload(email)))

    assert _names_by_email(hook) == {"a@example.com": NAME, "b@example.com": f"{NAME} (b@example.com)"}


def test_a_contact_not_created_by_the_sync_keeps_its_name(make_zoho_hook):
    hook = make_zoho_hook()
    foreign = hook.books_create("contacts", _payload("z@example.com"))["contact_id"]
    writer = _writer(hook, owned=set())

    created = writer.create(_payload("a@example.com"))

    assert created != foreign
    assert _names_by_email(hook) == {"z@example.com": NAME, "a@example.com": f"{NAME} (a@example.com)"}


def test_an_update_into_a_taken_name_is_suffixed_and_a_customer_without_email_is_refused(make_zoho_hook):
    hook = make_zoho_hook()
    owned: set[str] = set()
    writer = _writer(hook, owned)
    first = writer.create(_payload("a@example.com"))
    second = writer.create(_payload("b@example.com", name="Other Namesake"))
    owned.update({first, second})

    writer.update(second, _payload("b@example.com", phone="+49 30 1"))

    assert _names_by_email(hook) == {"a@example.com": NAME, "b@example.com": f"{NAME} (b@example.com)"}
    with pytest.raises(RecordRejected) as refused:
        writer.create(_payload(""))
    assert refused.value.field == "contact_name"
