"""Run rules through real DAG runs (dag.test) against the sandbox: run leases, explicit manual data intervals,
refused trigger parameters and a missing connection. Only Zoho -> CS-Cart runs, to keep the runs short.

Backfills and scheduled runs only exist through a scheduler: see tests/e2e/test_backfill_leases.py.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.e2e.customers_support import make_customers_dags

pytestmark = pytest.mark.integration

ACME = "acme_store"
Z2C = "zoho_to_cscart"
ONE_WAY = {ACME: {"direction": Z2C}}
HOLDER = "backfill__2026-11-18T00:00:00+00:00"


def _states(run: Any) -> dict[str, str]:
    return {str(ti.task_id): str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}


def _plan(run: Any) -> dict[str, Any]:
    return run.get_task_instance("plan").xcom_pull(task_ids="plan")


def _refused_at_plan(run: Any, capture: Any, *needles: str) -> None:
    """The run failed at its plan task, nothing was extracted, and the failure names every needle."""
    out, err = capture.readouterr()
    text = out + err
    states = _states(run)
    assert run.state == "failed"
    assert states["plan"] == "failed", states
    assert states[f"{Z2C}.extract"] != "success", states
    for needle in needles:
        assert needle in text, f"{needle!r} not in the plan task's log"


def test_a_run_whose_scope_is_leased_by_another_run_fails_fast_naming_it(
    tmp_path, sandbox_clean, monkeypatch, airflow_db, capfd
):
    monkeypatch.setenv("ZCS_RUN_LEASE_WAIT_SECONDS", "0")
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY)
    dags.store().acquire_run_lease(ACME, "customers", Z2C, HOLDER, ttl=timedelta(hours=1))

    run = dags.run(ACME)

    _refused_at_plan(run, capfd, HOLDER, "holds the run lease")
    assert dags.store().get_watermark(ACME, "customers", Z2C) is None
    # The holder's lease is untouched by the refused run.
    assert dags.store().get_run_lease(ACME, "customers", Z2C).run_id == HOLDER


def _plan_is_running(dag_id: str) -> bool:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        found = session.scalar(
            select(TaskInstance.task_id).where(
                TaskInstance.dag_id == dag_id, TaskInstance.task_id == "plan", TaskInstance.state == "running"
            )
        )
    return found is not None


def test_a_second_run_waits_for_the_lease_and_reads_from_where_the_first_run_ended(
    tmp_path, sandbox_clean, monkeypatch, airflow_db
):
    monkeypatch.setenv("ZCS_RUN_LEASE_WAIT_SECONDS", "120")
    monkeypatch.setenv("ZCS_RUN_LEASE_POKE_SECONDS", "0.2")
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY)
    store = dags.store()
    # Another run of this scope is in progress: it holds the lease and has not advanced the watermark yet.
    store.acquire_run_lease(ACME, "customers", Z2C, HOLDER, ttl=timedelta(hours=1))
    first_run_end = datetime(2026, 11, 19, tzinfo=timezone.utc)
    released: dict[str, datetime] = {}

    def first_run_finishes() -> None:
        deadline = time.monotonic() + 120
        while not _plan_is_running(f"zoho_cscart__{ACME}__customers") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the second run's plan is now waiting for the lease
        store.advance_watermark(ACME, "customers", Z2C, first_run_end, HOLDER)
        released["at"] = datetime.now(timezone.utc)
        assert store.release_run_lease(ACME, "customers", Z2C, HOLDER)

    finisher = threading.Thread(target=first_run_finishes)
    finisher.start()
    try:
        run = dags.run(ACME)
    finally:
        finisher.join()

    assert run.state == "success", _states(run)
    plan = _plan(run)
    # The second run never interleaved: it read from the first run's end, which only existed after release.
    assert plan["windows"][Z2C]["since"] == first_run_end.isoformat()
    lease = plan["leases"][Z2C]
    assert datetime.fromisoformat(lease["acquired_at"]) >= released["at"]
    assert lease["waited_for"] == HOLDER
    # Its report task released the lease and advanced the watermark past the first run's.
    assert store.get_run_lease(ACME, "customers", Z2C) is None
    assert store.get_watermark(ACME, "customers", Z2C) > first_run_end


def test_an_explicit_data_interval_on_a_manual_run_is_its_window(tmp_path, sandbox_clean, monkeypatch, airflow_db):
    """A REST trigger with data_interval_start/end (or the UI's "Specify Manually") creates the run with that
    interval; dag.test() cannot pass one, so its run is created the way the REST endpoint creates it."""
    import airflow.models.dagrun as dagrun_module

    start = datetime(2026, 11, 18, 3, 0, tzinfo=timezone.utc)
    end = datetime(2026, 11, 18, 17, 30, tzinfo=timezone.utc)
    create = dagrun_module.get_or_create_dagrun

    def with_explicit_interval(**kwargs: Any) -> Any:
        return create(**{**kwargs, "data_interval": (start, end)})

    monkeypatch.setattr(dagrun_module, "get_or_create_dagrun", with_explicit_interval)
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY)

    run = dags.run(ACME)

    assert run.state == "success", _states(run)
    window = _plan(run)["windows"][Z2C]
    assert (window["since"], window["until"], window["mode"]) == (start.isoformat(), end.isoformat(), "explicit")
    assert dags.store().get_watermark(ACME, "customers", Z2C) == end


def test_explicit_data_interval_and_since_together_are_refused(tmp_path, sandbox_clean, monkeypatch, airflow_db, capfd):
    import airflow.models.dagrun as dagrun_module

    start = datetime(2026, 11, 18, 3, 0, tzinfo=timezone.utc)
    create = dagrun_module.get_or_create_dagrun
    monkeypatch.setattr(
        dagrun_module,
        "get_or_create_dagrun",
        lambda **kwargs: create(**{**kwargs, "data_interval": (start, start + timedelta(hours=2))}),
    )
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY)

    run = dags.run(ACME, since="2026-11-01T00:00:00Z")

    _refused_at_plan(run, capfd, "'since'", "data interval")


def test_unknown_conf_keys_are_refused_naming_them(tmp_path, sandbox_clean, monkeypatch, airflow_db, capfd):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY)

    run = dags.run(ACME, sinse="2026-11-01T00:00:00Z")

    _refused_at_plan(run, capfd, "'sinse'")


def test_since_after_until_is_refused_for_every_kind_of_run(tmp_path, sandbox_clean, monkeypatch, airflow_db, capfd):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY)

    # Even a record_ids run (which does not read the window) refuses a window that cannot exist.
    run = dags.run(ACME, since="2026-11-21T00:00:00Z", until="2026-11-20T00:00:00Z", record_ids=["1"])

    _refused_at_plan(run, capfd, "'since'", "'until'")


def test_a_missing_connection_fails_at_once_naming_it_and_the_command_that_adds_it(
    tmp_path, sandbox_clean, monkeypatch, airflow_db, capfd
):
    dags = make_customers_dags(tmp_path, sandbox_clean, monkeypatch, ONE_WAY)
    monkeypatch.delenv(f"AIRFLOW_CONN_ZOHO_{ACME.upper()}")
    dag = dags.dag(ACME)
    for task in dag.tasks:  # the DAG's own retry policy, with a short delay so that a retry would show here
        task.retries, task.retry_delay = 2, timedelta(seconds=1)
    dag.get_task("plan").retries = dag.get_task("report").retries = 0

    run = dags.run(ACME)

    out, err = capfd.readouterr()
    states = _states(run)
    assert run.state == "failed"
    assert states[f"{Z2C}.extract"] == "failed", states
    assert run.get_task_instance(f"{Z2C}.extract").try_number == 1  # no retry, no backoff
    assert f"connection 'zoho_{ACME}' does not exist" in out + err
    assert f"airflow connections add zoho_{ACME} --conn-type zoho" in out + err
