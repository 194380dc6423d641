"""The sandbox CRM refuses values over the documented field lengths, as the real API does.

Zoho answers a too-long value per record with INVALID_DATA and ``details.maximum_length`` (zoho_api.md
2.6); without this the sandbox would accept payloads the real CRM refuses at every run.
"""

from __future__ import annotations

import pytest

from zoho_cscart_sandbox.crm_fields import MAX_LENGTHS


def test_documented_lengths_match_the_mapping_catalogue() -> None:
    from zoho_cscart_sync.mapping.field_catalog import load_catalogs

    catalogs = load_catalogs()
    for module in ("Contacts", "Leads"):
        catalog = catalogs[f"zoho_crm:{module}"]
        for field, limit in MAX_LENGTHS[module].items():
            assert catalog.rules_for(field).max_length == limit, (module, field)


@pytest.mark.parametrize("method", ["POST", "upsert"])
def test_too_long_first_name_is_refused_per_record(acme_zoho, method) -> None:
    path = "/Contacts/upsert" if method == "upsert" else "/Contacts"
    body = {
        "data": [
            {"Last_Name": "Roe", "First_Name": "J" * 41, "Email": "long.first@example.com"},
            {"Last_Name": "Roe", "First_Name": "J" * 40, "Email": "just.fits@example.com"},
        ]
    }
    response = acme_zoho.crm("POST", path, json=body)
    assert response.status_code == 207
    refused, accepted = response.json()["data"]
    assert (refused["code"], refused["details"]["api_name"], refused["details"]["maximum_length"]) == (
        "INVALID_DATA",
        "First_Name",
        40,
    )
    assert refused["details"]["json_path"] == "$.data[0].First_Name"
    assert accepted["status"] == "success"


def test_update_is_checked_too_and_unicode_counts_characters(acme_zoho) -> None:
    created = acme_zoho.crm("POST", "/Contacts", json={"data": [{"Last_Name": "Roe"}]}).json()["data"][0]
    record_id = created["details"]["id"]
    too_long = acme_zoho.crm("PUT", f"/Contacts/{record_id}", json={"data": [{"Last_Name": "Ø" * 81}]})
    assert (too_long.status_code, too_long.json()["data"][0]["details"]["maximum_length"]) == (400, 80)
    # 80 two-byte characters are 160 bytes but 80 characters: accepted.
    fits = acme_zoho.crm("PUT", f"/Contacts/{record_id}", json={"data": [{"Last_Name": "Ø" * 80}]})
    assert fits.status_code == 200
