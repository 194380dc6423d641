"""The read-back models behind echo suppression (what the other direction will see after our write)."""

from __future__ import annotations

from zoho_cscart_sync.pipelines.customers import cscart_row_after_write, zoho_record_after_upsert


def test_cscart_row_has_only_list_fields_with_billing_fallbacks():
    payload = {"email": "a@b.example", "b_firstname": "Ann", "lastname": "Lee", "b_phone": "+1555", "b_city": "Oslo"}
    row = cscart_row_after_write(payload, "42")
    assert row["user_id"] == "42"
    assert (row["firstname"], row["lastname"], row["phone"]) == ("Ann", "Lee", "+1555")
    assert "b_city" not in row  # user rows carry no profile fields


def test_an_adopted_users_row_keeps_what_the_put_did_not_send():
    before = {"email": "a@b.example", "phone": "+4711", "company": "Old Co", "status": "A"}
    row = cscart_row_after_write({"email": "a@b.example", "company": "New Co"}, "7", before=before)
    assert (row["phone"], row["company"]) == ("+4711", "New Co")


def test_zoho_record_after_upsert_is_the_payload_with_its_id():
    assert zoho_record_after_upsert({"Email": "a@b.example"}, "99") == {"Email": "a@b.example", "id": "99"}
