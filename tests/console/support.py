"""Console test helpers: a tenant folder, a state store with known numbers, users of Airflow's simple auth manager."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request

from zoho_cscart_sync.console.access import AirflowAccess, Caller, request_token
from zoho_cscart_sync.console.airflow_api import TriggerError
from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.state.models import EntityCounts
from zoho_cscart_sync.state.unlinked import UnlinkedSeen

TENANT = "acme_store"
TENANT_FILE = """\
tenant_id: acme_store
display_name: Acme Store
kind: store
start_date: 2026-11-01T00:00:00Z
entities:
  customers: {direction: both}
  products: {direction: both}
"""
COUNTS = EntityCounts(
    cscart_total=272_028, synced=55, not_synced=271_973, zoho_total=145, not_in_cscart=43, already_imported=102,
    zoho_counted_run_id="manual__2026-11-20T09:00:00+00:00",
    zoho_counted_at=datetime(2026, 11, 20, 9, tzinfo=timezone.utc),
)  # fmt: skip
"""The seeds' tiles (README "Dashboard counts")."""
Z2C, C2Z = "zoho_to_cscart", "cscart_to_zoho"


def write_tenants(root: Path) -> Path:
    folder = root / "tenants"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{TENANT}.yaml").write_text(TENANT_FILE)
    return folder


def fill_store(store: StateStore, *, quarantined: int = 3, no_email: int = 2, unlinked: int = 3) -> None:
    """Counts of one run, quarantine entries (Z -> C), no-e-mail customers, two runs' statistics, a watermark, Zoho
    items not in CS-Cart."""
    store.note_unlinked(
        TENANT, "products", run_id="manual__2026-11-21T09:00:00+00:00",
        seen=[UnlinkedSeen(f"4600000000{n:06d}", "items", f"Mug {n} · MUG-{n}", "status 'inactive' is not imported")
              for n in range(unlinked)],
    )  # fmt: skip
    store.save_run_counts(TENANT, "products", "manual__2026-11-21T09:00:00+00:00", COUNTS)
    for number in range(quarantined):
        store.quarantine(
            TENANT, "products", Z2C, f"5725767000{number:06d}", reason=f"sku refused {number}", stage="load",
            run_id="manual__2026-11-21T09:00:00+00:00", field="sku", kind="content",
        )  # fmt: skip
    for number in range(no_email):
        store.save_link(
            TENANT, "customers", zoho_id=f"z{number}", cscart_id=f"{100 + number}", run_id="r1", flags=["no_email"],
            natural_keys={"email": f"no-email+{number}@{TENANT}.invalid"},
        )  # fmt: skip
    store.save_run_stats(
        TENANT, "products", "scheduled__2026-11-21T08:00:00+00:00",
        {Z2C: {"succeeded": True, "created": 4, "updated": 1, "api_calls": {"zoho GET /inventory/v1/items": 2}}},
    )  # fmt: skip
    store.save_run_stats(
        TENANT, "products", "manual__2026-11-21T09:00:00+00:00",
        {Z2C: {"succeeded": True, "created": 40, "failed": 3, "api_calls": {"cscart POST /api/products": 43}}},
    )  # fmt: skip
    store.advance_watermark(TENANT, "products", Z2C, datetime(2026, 11, 21, 9, tzinfo=timezone.utc), "manual__x")


class SimpleUsers(AirflowAccess):
    """Airflow's SimpleAuthManager decides; the bearer token is the user's name and role (no metadata DB needed)."""

    ROLES = {"admin": "admin", "operator": "user", "viewer": "viewer"}

    def __init__(self) -> None:
        from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

        super().__init__(SimpleAuthManager())

    async def caller(self, request: Request) -> Caller:
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        token = request_token(request)
        if token not in self.ROLES:
            raise HTTPException(status_code=401, detail="Not authenticated")
        return Caller(SimpleAuthManagerUser(username=token, role=self.ROLES[token]), token)

    def login_url(self, next_url: str) -> str | None:
        return "/auth/login"


@dataclass
class FakeTrigger:
    """Records the runs the console asks Airflow for; ``refuse`` makes the REST API answer that status."""

    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    refuse: int | None = None

    def trigger(self, dag_id: str, conf: dict[str, Any], token: str) -> str:
        if self.refuse:
            raise TriggerError(self.refuse, "refused")
        self.calls.append((dag_id, conf, token))
        return f"manual__console_{len(self.calls)}"
