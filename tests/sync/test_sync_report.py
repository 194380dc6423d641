"""Run report: counters per entity x direction, the log table, the XCom summary and merging partial reports."""

from __future__ import annotations

import json

import pytest

from zoho_cscart_sync.sync.report import RunReport, merge_summaries
from zoho_cscart_sync.sync.staging import StagedRef


def _load_report() -> RunReport:
    report = RunReport("acme_store", "scheduled__2026-11-23T09:00:00+00:00")
    counts = report.counts("customers", "zoho_to_cscart")
    counts.created, counts.updated, counts.unchanged, counts.failed, counts.quarantined = 3, 2, 120, 1, 4
    counts.flagged = 2
    counts.flags.update({"no_email": 2})
    counts.duration_s = 12.345
    report.add_api_call("cscart /api/users create", 3)
    report.add_api_call("cscart /api/users update", 2)
    return report


def _extract_report() -> RunReport:
    report = RunReport("acme_store", "scheduled__2026-11-23T09:00:00+00:00")
    report.counts("customers", "zoho_to_cscart").extracted = 126
    report.counts("customers", "zoho_to_cscart").duration_s = 2.0
    report.counts("customers", "cscart_to_zoho").extracted = 7
    report.counts("customers", "cscart_to_zoho").quarantined = 3
    report.add_api_calls({"GET /crm/v8/Contacts": 2, "GET /api/users": 1})
    return report


def test_table_is_fixed_width_and_complete() -> None:
    table = _load_report().merge(_extract_report()).as_table()
    lines = table.splitlines()

    assert lines[0] == "Sync report: tenant acme_store, run scheduled__2026-11-23T09:00:00+00:00"
    header, rule = lines[1], lines[2]
    assert header.split() == [
        "entity",
        "direction",
        "extracted",
        "created",
        "updated",
        "unchanged",
        "failed",
        "quarantined",
        "skipped",
        "flagged",
        "duration",
    ]
    rows = lines[3:6]
    assert rows[0].split() == ["customers", "cscart_to_zoho", "7", "0", "0", "0", "0", "3", "0", "0", "0.0s"]
    assert rows[1].split() == ["customers", "zoho_to_cscart", "126", "3", "2", "120", "1", "4", "0", "2", "14.3s"]
    assert rows[2].split() == ["total", "133", "3", "2", "120", "1", "7", "0", "2", "14.3s"]
    # Fixed width: every column ends at the same position on every line (numbers right-aligned).
    assert len({len(line) for line in [header, rule, *rows]}) == 1
    assert "Flags: no_email=2" in table
    api_lines = table[table.index("API endpoint") :].splitlines()
    assert [line.split()[-1] for line in api_lines[2:]] == ["1", "2", "3", "2", "8"]
    assert api_lines[-1].split() == ["total", "8"]


def test_dry_run_table_says_nothing_was_written_and_points_at_payloads() -> None:
    report = RunReport("acme_store", "manual__1", dry_run=True)
    report.counts("products", "cscart_to_zoho").created = 2
    report.add_would_send(
        StagedRef(
            uri="/staging/acme_store/products/manual__1/would_send",
            stage="would_send",
            files=["part-00000.ndjson"],
            records=2,
            bytes=512,
        )
    )
    table = report.as_table()
    assert "DRY RUN: nothing was written" in table.splitlines()[0]
    assert "Would send 2 payload(s): /staging/acme_store/products/manual__1/would_send (1 file(s))" in table
    assert "total" not in table  # one row needs no total line


def test_summary_is_small_json_and_round_trips() -> None:
    report = _load_report().merge(_extract_report())
    summary = report.summary()

    encoded = json.dumps(summary)
    assert len(encoded) < 2_000
    assert summary["totals"]["created"] == 3
    assert summary["totals"]["extracted"] == 133
    assert summary["api_calls_total"] == 8
    rebuilt = RunReport.from_summary(json.loads(encoded))
    assert rebuilt.summary() == summary


def test_partial_reports_merge_in_any_order() -> None:
    one = merge_summaries([_load_report().summary(), _extract_report().summary()])
    other = merge_summaries([_extract_report().summary(), _load_report().summary()])
    assert one.summary() == other.summary()
    row = one.counts("customers", "zoho_to_cscart")
    assert (row.extracted, row.created, row.unchanged, row.flags["no_email"]) == (126, 3, 120, 2)
    # The quarantine backlog is a snapshot: merging the extract report (0) with the load report (4) is 4.
    assert row.quarantined == 4
    assert one.totals().quarantined == 4 + 3
    assert row.duration_s == pytest.approx(14.345)
    assert one.api_calls["GET /crm/v8/Contacts"] == 2


def test_merging_reports_of_different_runs_is_refused() -> None:
    with pytest.raises(ValueError, match="run 'other-run'"):
        _load_report().merge(RunReport("acme_store", "other-run"))
    with pytest.raises(ValueError, match="no partial reports"):
        merge_summaries([])
