"""A load killed half-way (SIGKILL, as when a worker dies) resumes on retry without any duplicate.

The load runs in a subprocess against the sandbox's CS-Cart users API over HTTP and a SQLite state store. It
is killed at the two dangerous instants: right after a create reached CS-Cart but before its link was stored,
and right after the link was stored but before the pending intent was cleared. The retry must then write
every record exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.sync.sync_test_support import CsCartUsersWriter, StateLocation, customer
from zoho_cscart_sandbox.handle import SandboxHandle

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("interrupted_load_worker.py")
TENANT = "acme_store"
RECORDS = 20
KILL_AT = 8


def _run_worker(config: dict[str, Any], *, wait_for_hang: bool) -> str:
    """Start the worker; either kill it as soon as it hangs (returns the hung record) or let it finish."""
    process = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        for line in process.stdout:
            if wait_for_hang and line.startswith("HANG "):
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                return line.split(" ", 1)[1].strip()
            if not wait_for_hang and line.startswith("RESULT "):
                process.wait(timeout=10)
                assert process.returncode == 0
                return line.split(" ", 1)[1]
            assert time.monotonic() < deadline, "worker took more than 60 s"
        process.wait(timeout=10)
        stderr = process.stderr.read() if process.stderr else ""
        raise AssertionError(f"worker ended (rc={process.returncode}) without the expected line: {stderr}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize(
    ("hang_point", "backend"),
    [
        pytest.param("after_create", "sqlite", id="after_create-sqlite"),
        pytest.param("after_link", "sqlite", id="after_link-sqlite"),
        pytest.param("after_create", "postgres", id="after_create-postgresql", marks=pytest.mark.postgres),
    ],
)
def test_killed_load_resumes_without_duplicates(
    request: pytest.FixtureRequest,
    sandbox_clean: SandboxHandle,
    cscart_users: CsCartUsersWriter,
    tmp_path: Path,
    hang_point: str,
    backend: str,
) -> None:
    location: StateLocation = request.getfixturevalue(
        "state_location" if backend == "postgresql" else "sqlite_location"
    )
    records = [customer(i, prefix="killed") for i in range(RECORDS)]
    admin = sandbox_clean.credentials.cscart_for(TENANT)
    config = {
        "state_url": location.url,
        "state_schema": location.schema,
        "cscart_url": sandbox_clean.cscart_url,
        "email": admin.email,
        "api_key": admin.api_key,
        "tenant": TENANT,
        "run_id": "scheduled__2026-11-23T09:00:00+00:00",
        "records": [r.to_staged() for r in records],
        "hang_at": {"point": hang_point, "count": KILL_AT},
    }

    hung = _run_worker(config, wait_for_hang=True)

    # The kill landed inside the crash window: the record exists in CS-Cart. Its create was covered by an
    # intent (stored for the whole chunk before its first create) unless its link was recorded, which clears
    # the intent in the same transaction: a linked record never keeps an intent, an unlinked one always has one.
    store = location.open()
    killed_record = records[KILL_AT - 1]
    assert hung in (killed_record.payload["email"], killed_record.source_id)
    assert len(cscart_users.users_with_email(killed_record.payload["email"])) == 1
    first_unlinked = KILL_AT - 1 if hang_point == "after_create" else KILL_AT
    assert [p.source_id for p in store.list_pending(TENANT, "customers", "zoho_to_cscart")] == sorted(
        (r.source_id for r in records[first_unlinked:]), key=[r.source_id for r in records].index
    )
    killed_link = store.get_link(TENANT, "customers", zoho_id=killed_record.source_id)
    assert (killed_link is None) == (hang_point == "after_create")
    assert sandbox_clean.counters()["POST /api/users"] == KILL_AT

    # The task retry: same staged records, same run id.
    summary = json.loads(_run_worker({**config, "hang_at": None}, wait_for_hang=False))

    [row] = summary["rows"]
    if hang_point == "after_create":
        # The orphan create is found by e-mail and adopted (one update), never created again.
        assert (row["unchanged"], row["updated"], row["linked_existing"], row["created"]) == (
            KILL_AT - 1,
            1,
            1,
            RECORDS - KILL_AT,
        )
    else:
        assert (row["unchanged"], row["updated"], row["created"]) == (KILL_AT, 0, RECORDS - KILL_AT)
    assert row["failed"] == 0
    # Every record was created in CS-Cart exactly once, across both attempts.
    assert sandbox_clean.counters()["POST /api/users"] == RECORDS
    for record in records:
        matches = cscart_users.users_with_email(record.payload["email"])
        assert len(matches) == 1, record.payload["email"]
        link = store.get_link(TENANT, "customers", zoho_id=record.source_id)
        assert link is not None
        assert link.cscart_id == matches[0]["user_id"]
    assert store.list_pending(TENANT, "customers", "zoho_to_cscart") == []
    store.close()
