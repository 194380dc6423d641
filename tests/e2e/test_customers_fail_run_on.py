"""`fail_run_on`: a run in which records fail for the first time is red (unless the tenant says `never`).

Real DAG runs (dag.test) against the sandbox over HTTP. The record that fails is one of the seed's traps: CRM
contact 3 has the e-mail of contact 2, and CS-Cart has one user per e-mail, so the sync refuses it for its
content (field ``email``) and quarantines it. Only Zoho -> CS-Cart runs, to keep the runs short.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.e2e.customers_support import crm_id, make_customers_dags, report_of

pytestmark = pytest.mark.integration

ACME = "acme_store"
Z2C = "zoho_to_cscart"
ONE_WAY = {ACME: {"direction": Z2C}}
SHARED_INBOX_SECOND = crm_id(ACME, "Contacts", 3)  # the second contact with orders@acme-shared.example.com


def _task_states(run) -> dict[str, str]:
    return {str(ti.task_id): str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}


def _plan_until(run) -> datetime:
    plan = run.get_task_instance("plan").xcom_pull(task_ids="plan")
    return datetime.fromisoformat(plan["windows"][Z2C]["until"])


def test_first_failure_fails_the_report_task_after_the_watermark_and_stats_are_saved(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    # fail_run_on=None: the tenant file does not set it, so this is the default (new_failures).
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY, fail_run_on=None)
    dag = dags.dag(ACME)
    report = dag.get_task("report")
    # With a retry allowed, a retryable failure would run the report task twice; this one must not retry.
    report.retries, report.retry_delay = 1, timedelta(seconds=1)

    run = dag.test(run_conf={"full_refresh": True})

    assert run.state == "failed"
    assert _task_states(run) == {
        "plan": "success",
        f"{Z2C}.extract": "success",
        f"{Z2C}.map": "success",
        f"{Z2C}.load": "success",
        "report": "failed",
    }
    assert run.get_task_instance("report").try_number == 1
    # The report is still in XCom, with the first failure's record, field and reason.
    direction = report_of(run)["directions"][Z2C]
    assert direction["status"] == "ok"
    assert direction["new_failures"] == 1 and direction["failed"] == 1
    [failure] = direction["first_failures"]
    assert failure["entity"] == "customers" and failure["source_id"] == SHARED_INBOX_SECOND
    assert failure["field"] == "email" and "orders@acme-shared.example.com" in failure["reason"]
    # The watermark advanced and the run statistics were saved before the task failed.
    store = dags.store()
    assert store.get_watermark(ACME, "customers", Z2C) == _plan_until(run)
    [stats] = [row["stats"] for row in store.list_run_stats(ACME, "customers") if row["run_id"] == run.run_id]
    assert stats[Z2C]["succeeded"] is True and stats[Z2C]["new_failures"] == 1

    # The next run: the record is still quarantined, but nothing failed for the first time, so it is green.
    again = dags.run(ACME)
    assert again.state == "success", _task_states(again)
    direction = report_of(again)["directions"][Z2C]
    assert direction["new_failures"] == 0 and direction["first_failures"] == []
    assert direction["quarantined"] == 1
    open_entries = store.open_quarantine(ACME, "customers", Z2C)
    assert list(open_entries) == [SHARED_INBOX_SECOND] and open_entries[SHARED_INBOX_SECOND].kind == "content"
    assert store.get_watermark(ACME, "customers", Z2C) == _plan_until(again)


def test_fail_run_on_never_keeps_the_first_run_green_and_still_reports_the_failure(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY, fail_run_on="never")

    run = dags.run(ACME, full_refresh=True)

    assert run.state == "success", _task_states(run)
    direction = report_of(run)["directions"][Z2C]
    assert direction["new_failures"] == 1
    assert [f["source_id"] for f in direction["first_failures"]] == [SHARED_INBOX_SECOND]
    store = dags.store()
    assert list(store.open_quarantine(ACME, "customers", Z2C)) == [SHARED_INBOX_SECOND]
    assert store.get_watermark(ACME, "customers", Z2C) == _plan_until(run)
