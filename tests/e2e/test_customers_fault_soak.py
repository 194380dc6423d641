"""Fault soak of the two-way customers DAG: after faults, both systems must look exactly as after a clean run.

Scenario (tenant ``acme_store``, customers ``direction: both``, the default sandbox seed):

* **Reference**: a fresh sandbox, no faults, one full-refresh run; both sides are read back over HTTP.
* **Soak**: the same seed in a fresh sandbox and a fresh sync state, with 8 % 5xx, 3 % answers lost *after* the
  write was applied, short 429 bursts every few seconds, 45-second access tokens (shared by the runs, so they
  expire mid-run), and one CS-Cart 429 storm longer than the client's retries, armed once the store has taken
  user writes for half of the CRM records (so some run dies in the middle of the Zoho -> CS-Cart load). Real
  DAG runs are triggered until one succeeds (at most 8; Airflow task retries are off, the pipeline's own HTTP
  retries are on, with short waits and 4 attempts), then one more run with the faults off.
* **Scripted**: the CS-Cart store fails every write after the first ``SCRIPTED_WRITES`` (sandbox knob
  ``fail_writes_after``), so the Zoho -> CS-Cart load dies part-way; then runs resume with the faults off.

Each must end field-for-field equal to the reference on both sides (CS-Cart users; CRM Contacts, Accounts,
Leads; Zoho Books contacts), compared on natural keys because ids differ. The run after recovery must write
nothing (sandbox write counters), and no CRM contact the clean run leaves alone may have been rewritten by
the CS-Cart -> Zoho pass.

Slow on purpose (about 1 to 2 minutes): ``pytest -m 'not slow'`` is the fast daily subset.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.e2e.customers_support import make_customers_dags
from tests.e2e.soak_support import (
    FAULTS_OFF,
    SOAK_CONNECTION_EXTRA,
    EndState,
    crm_record_writes,
    cscart_user_writes,
    describe_runs,
    diff_states,
    end_state,
    fail_store_part_way_then_resume,
    run_once,
    run_until_success,
    soak_faults,
    writes_between,
    written_contacts,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ACME = "acme_store"
SEED = 0
MAX_FAULTY_RUNS = 8
MAX_RESUME_RUNS = 3
# The default seed makes Zoho -> CS-Cart write about 90 users (accounts first, then contacts): the store
# fails once most accounts and some contacts are in.
SCRIPTED_WRITES = 60


@dataclass(frozen=True)
class CleanReference:
    state: EndState
    written: frozenset[str]  # CRM contacts (by natural key) the clean run created or modified


@pytest.fixture(scope="module")
def clean_reference(sandbox, airflow_db, tmp_path_factory) -> CleanReference:
    """Fresh sandbox, same seed, no faults, one run: the end state both scenarios must reach."""
    with pytest.MonkeyPatch.context() as patch:
        sandbox.reset(seed=SEED)
        before = end_state(sandbox, ACME)
        dags = make_customers_dags(
            tmp_path_factory.mktemp("clean"), sandbox, patch, connection_extra=SOAK_CONNECTION_EXTRA
        )
        outcome = run_once(dags, ACME, full_refresh=True)
        assert outcome.state == "success", f"the clean reference run failed: {outcome.describe()}"
        after = end_state(sandbox, ACME)
    return CleanReference(after, frozenset(written_contacts(before, after)))


def _check_against_reference(
    sandbox, dags, reference: CleanReference, before: EndState, history: list[str]
) -> list[str]:
    """One more run with faults off must write nothing; then both sides must equal the reference."""
    problems: list[str] = []
    counters_before = sandbox.counters()
    settled = run_once(dags, ACME, full_refresh=True)
    writes = writes_between(counters_before, sandbox.counters())
    history.append(f"run after recovery (faults off): {settled.describe()}; data writes: {writes or 'none'}")
    if settled.state != "success":
        problems.append(f"the run after recovery did not succeed: {settled.describe()}")
    if cscart_user_writes(writes) or crm_record_writes(writes):
        problems.append(
            f"the run after recovery wrote {cscart_user_writes(writes)} CS-Cart user call(s) and "
            f"{crm_record_writes(writes)} CRM insert/update/upsert call(s): {writes}"
        )
    elif writes:
        problems.append(f"the run after recovery still wrote: {writes}")

    after = end_state(sandbox, ACME)
    problems.extend(d.describe() for d in diff_states(reference.state, after))
    rewritten = sorted(written_contacts(before, after) - reference.written)
    if rewritten:
        problems.append(
            f"{len(rewritten)} CRM contact(s) were written that the clean run leaves alone "
            f"(CS-Cart -> Zoho echoed imports back): {', '.join(rewritten[:8])}{' ...' if len(rewritten) > 8 else ''}"
        )
    return problems


def test_fault_soak_converges_to_the_clean_end_state(tmp_path, sandbox, monkeypatch, airflow_db, clean_reference):
    sandbox.reset(seed=SEED)
    before = end_state(sandbox, ACME)
    dags = make_customers_dags(tmp_path, sandbox, monkeypatch, connection_extra=SOAK_CONNECTION_EXTRA)
    # The storm comes once CS-Cart has taken user writes for half of the CRM records to import.
    sizes = before.sizes()
    storm_after = (sizes["crm_contacts"] + sizes["crm_accounts"]) // 2
    with soak_faults(sandbox, storm_after_user_writes=storm_after) as faults:
        outcomes = run_until_success(dags, ACME, max_runs=MAX_FAULTY_RUNS, full_refresh=True)
    statuses = {server: sandbox.status_counters(server) for server in ("zoho", "cscart")}
    history = [
        describe_runs("faulty", outcomes),
        f"429 bursts armed: {faults.bursts}; CS-Cart 429 storm armed after {faults.storm_at_writes} user writes",
        f"responses by status: {statuses}",
    ]
    problems: list[str] = []
    if faults.storm_at_writes is None:
        problems.append(f"the CS-Cart 429 storm never fired (CS-Cart took fewer than {storm_after} user writes)")
    # The faults really happened: server errors and rate limits on both systems.
    for server, counts in statuses.items():
        if not (counts.get("500", 0) and counts.get("429", 0)):
            problems.append(f"the scenario did not exercise {server}: no 500 or no 429 answered ({counts})")
    if outcomes[-1].state != "success":
        problems.append(f"no run succeeded in {MAX_FAULTY_RUNS} runs under faults")
    problems += _check_against_reference(sandbox, dags, clean_reference, before, history)
    print("\n".join(history))
    assert not problems, "\n".join([*problems, "-- history --", *history])


def test_partial_load_failure_then_resume_matches_the_clean_run(
    tmp_path, sandbox, monkeypatch, airflow_db, clean_reference
):
    sandbox.reset(seed=SEED)
    before = end_state(sandbox, ACME)
    dags = make_customers_dags(tmp_path, sandbox, monkeypatch, connection_extra=SOAK_CONNECTION_EXTRA)
    problems, history = fail_store_part_way_then_resume(
        sandbox, dags, ACME, writes=SCRIPTED_WRITES, faults_off=FAULTS_OFF, max_runs=MAX_RESUME_RUNS
    )
    problems += _check_against_reference(sandbox, dags, clean_reference, before, history)
    print("\n".join(history))
    assert not problems, "\n".join([*problems, "-- history --", *history])
