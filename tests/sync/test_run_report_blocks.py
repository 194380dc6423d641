"""The report task's run report: one short block per direction, and the message that fails a run."""

from __future__ import annotations

import json

from zoho_cscart_sync.sync.report import (
    FAILURE_REASON_CHARS,
    REPORT_WIDTH,
    failure_sample,
    format_run_report,
    new_failures_message,
    safe_reason,
)
from zoho_cscart_sync.tasks import format_summary_table

SHARED_INBOX_FAILURE = {
    "entity": "customers",
    "source_id": "5725767000200000003",
    "field": "email",
    "reason": "email 'orders@acme-shared.example.com' is also the email of source record 5725767000200000002",
}


def _summary() -> dict:
    return {
        "tenant": "acme_store",
        "entity": "customers",
        "run_id": "manual__2026-11-23T09:00:00+00:00",
        "dry_run": False,
        "directions": {
            "zoho_to_cscart": {
                "status": "ok",
                "extracted": 89,
                "created": 86,
                "updated": 2,
                "unchanged": 0,
                "failed": 1,
                "quarantined": 1,
                "skipped": 0,
                "flagged": 31,
                "linked_existing": 2,
                "new_failures": 1,
                "waiting": 0,
                "flags": {"crm_account": 30, "no_email": 31},
                "conflicts": 0,
                "deactivated": 0,
                "api_calls": {
                    "cscart GET /api/users": 2,
                    "cscart POST /api/users": 88,
                    "zoho GET /crm/v8/Accounts/deleted": 1,
                    "zoho POST /crm/v8/coql": 1,
                },
                "first_failures": [SHARED_INBOX_FAILURE],
            },
            "cscart_to_zoho": {
                "status": "ok",
                "extracted": 143,
                "created": 55,
                "unchanged": 88,
                "failed": 0,
                "books_created": 139,
                "books_updated": 3,
                "books_failed": 1,
                "books_new_failures": 1,
                "books_waiting": 0,
                "flags": {},
                "api_calls": {"zoho GET /books/v3/contacts": 124, "zoho POST /books/v3/contacts": 151},
                "first_failures": [],
            },
        },
    }


def test_one_block_per_direction_with_only_non_zero_counters() -> None:
    text = format_run_report(_summary())
    assert text.splitlines() == [
        "Sync report: tenant acme_store, customers, run manual__2026-11-23T09:00:00+00:00",
        "Zoho -> CS-Cart (zoho_to_cscart): ok",
        "  extracted 89, created 86, updated 2, failed 1, quarantined 1, flagged 31, linked_existing 2, new_failures 1",
        "  flags: crm_account 30, no_email 31",
        "  API calls 92: cscart POST /api/users 88, cscart GET /api/users 2, zoho GET /crm/v8/Accounts/deleted 1,",
        "    zoho POST /crm/v8/coql 1",
        "  first failures:",
        "    customers 5725767000200000003, field email: email 'orders@acme-shared.example.com' is also the email of"
        " source",
        "      record 5725767000200000002",
        "CS-Cart -> Zoho (cscart_to_zoho): ok",
        "  extracted 143, created 55, unchanged 88",
        "  books_created 139, books_updated 3, books_failed 1, books_new_failures 1",
        "  API calls 275: zoho POST /books/v3/contacts 151, zoho GET /books/v3/contacts 124",
    ]
    assert max(len(line) for line in text.splitlines()) <= REPORT_WIDTH
    # The task log and `make demo` print the same thing.
    assert format_summary_table(_summary()) == text


def test_failed_direction_dry_run_and_an_idle_direction() -> None:
    summary = {
        "tenant": "northwind_vendor",
        "entity": "customers",
        "run_id": "manual__1",
        "dry_run": True,
        "directions": {
            "zoho_to_cscart": {"status": "failed"},
            "cscart_to_zoho": {"status": "ok", "extracted": 0, "flags": {}, "api_calls": {}, "first_failures": []},
        },
    }
    assert format_run_report(summary).splitlines() == [
        "Sync report: tenant northwind_vendor, customers, run manual__1  (DRY RUN: nothing was written)",
        "Zoho -> CS-Cart (zoho_to_cscart): FAILED (did not complete; watermark not advanced)",
        "CS-Cart -> Zoho (cscart_to_zoho): ok",
        "  nothing read, nothing written",
    ]


def test_long_counter_and_endpoint_lists_wrap_between_items_only() -> None:
    calls = {f"zoho GET /inventory/v1/endpoint_number_{i:02d}": 100 - i for i in range(12)}
    summary = {
        "tenant": "t",
        "entity": "products",
        "run_id": "r",
        "directions": {"cscart_to_zoho": {"status": "ok", "api_calls": calls}},
    }
    lines = format_run_report(summary).splitlines()[2:]
    assert len(lines) > 2 and all(len(line) <= REPORT_WIDTH for line in lines)
    items = " ".join(line.strip() for line in lines).split(": ", 1)[1].split(", ")
    assert items == [f"{endpoint} {count}" for endpoint, count in calls.items()]


def test_new_failures_message_names_tenant_entity_direction_count_and_reasons() -> None:
    message = new_failures_message(
        "acme_store",
        "customers",
        [
            ("zoho_to_cscart", 1, [SHARED_INBOX_FAILURE]),
            ("cscart_to_zoho", 9, [{"entity": "customers_books", "source_id": "92", "field": None, "reason": "dup"}]),
        ],
    )
    first, *rest = message.splitlines()
    assert first.startswith("tenant acme_store, customers: 10 record(s) failed for the first time in this run")
    assert "fail_run_on: never" in first
    assert rest[0] == "  Zoho -> CS-Cart (zoho_to_cscart): 1 new failure(s), first reasons:"
    assert rest[1].startswith("    customers 5725767000200000003, field email: email 'orders@acme-shared.example.com'")
    assert "  CS-Cart -> Zoho (cscart_to_zoho): 9 new failure(s), first reasons:" in rest
    assert "    customers_books 92: dup" in rest


def test_reasons_lose_secrets_and_length() -> None:
    token = "1000." + "a" * 32 + "." + "b" * 32
    reason = (
        f"rejected: token {token} at https://accounts.zoho.eu/oauth/v2/token?refresh_token=secret-value&client_id=x"
        f" {'x' * 500}"
    )
    cleaned = safe_reason(reason)
    assert token not in cleaned and "secret-value" not in cleaned
    assert "refresh_token=***" in cleaned
    assert cleaned.startswith("rejected: token *** at https://accounts.zoho.eu/oauth/v2/token?")
    assert len(cleaned) <= FAILURE_REASON_CHARS + len("... (999 chars)")
    message = new_failures_message("t", "customers", [("zoho_to_cscart", 1, [{"source_id": "1", "reason": reason}])])
    assert token not in message and "secret-value" not in message


def test_failure_samples_in_the_xcom_summary_are_small_and_json_serialisable() -> None:
    sample = failure_sample({**SHARED_INBOX_FAILURE, "reason": "r" * 5000, "payload": {"huge": "x" * 5000}})
    assert set(sample) == {"entity", "source_id", "field", "reason"}
    summary = _summary()
    summary["directions"]["zoho_to_cscart"]["first_failures"] = [sample] * 5
    encoded = json.dumps(summary)
    assert json.loads(encoded) == summary
    assert len(encoded) < 4_000
