"""A load task run as its own process by the interrupted-load test, so that it can be SIGKILLed mid-way.

    python interrupted_load_worker.py CONFIG_JSON

CONFIG_JSON holds the state-store URL (and schema), the sandbox CS-Cart URL and API user, the run id, and the
mapped records in their staged form, inline (reading them through staging would import Airflow and double the
test's time). Optional ``hang_at`` = {"point": "after_create" | "after_link", "count": N}: after the N-th
create reached CS-Cart (before its link is stored), or after the N-th link is stored (before the pending
intent is cleared), the worker prints ``HANG <record>`` and waits to be killed. Without ``hang_at`` it loads
everything and prints ``RESULT <report summary JSON>``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[2] / "plugins")]

from tests.sync.sync_test_support import CsCartUsersWriter  # noqa: E402
from zoho_cscart_sync.state import RecordLink, StateStore  # noqa: E402
from zoho_cscart_sync.sync.load import LoadJob, load_records, staged_mapped_records  # noqa: E402
from zoho_cscart_sync.sync.report import RunReport  # noqa: E402


def _hang(source_id: str) -> None:
    print(f"HANG {source_id}", flush=True)
    time.sleep(600)
    raise SystemExit("not killed within 600 s")


class HangingWriter(CsCartUsersWriter):
    def __init__(self, *args: Any, hang_after_create: int | None) -> None:
        super().__init__(*args)
        self.hang_after_create = hang_after_create
        self.creates = 0

    def create(self, payload: Mapping[str, Any]) -> str:
        new_id = super().create(payload)
        self.creates += 1
        if self.creates == self.hang_after_create:
            _hang(str(payload["email"]))
        return new_id


class HangingStateStore:
    """Delegates to the real store; hangs right after the N-th link is saved."""

    def __init__(self, store: StateStore, hang_after_link: int | None) -> None:
        self._store = store
        self.hang_after_link = hang_after_link
        self.saved = 0

    def record_write(self, *args: Any, **kwargs: Any) -> RecordLink:
        link = self._store.record_write(*args, **kwargs)
        self.saved += 1
        if self.saved == self.hang_after_link:
            _hang(str(link.zoho_id))
        return link

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def main(config: dict[str, Any]) -> None:
    hang_at = config.get("hang_at") or {}
    point, count = hang_at.get("point"), hang_at.get("count")
    writer = HangingWriter(
        config["cscart_url"],
        config["email"],
        config["api_key"],
        hang_after_create=count if point == "after_create" else None,
    )
    state = HangingStateStore(
        StateStore.from_url(config["state_url"], schema=config.get("state_schema")),
        count if point == "after_link" else None,
    )
    job = LoadJob(
        tenant=config["tenant"],
        entity="customers",
        direction="zoho_to_cscart",
        run_id=config["run_id"],
        match_key="email",
    )
    report = RunReport(job.tenant, job.run_id)
    records = staged_mapped_records(config["records"])
    load_records(records, job=job, writer=writer, state=state, report=report)
    print("RESULT " + json.dumps(report.summary()), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
