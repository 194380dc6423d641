"""Zoho -> CS-Cart extraction reads past CRM's 2,000-record wall (page_token), over HTTP against the sandbox."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from zoho_cscart_sandbox.demo import sandbox_connections
from zoho_cscart_sync.kit.context import EntityRun
from zoho_cscart_sync.kit.extract import extract
from zoho_cscart_sync.pipeline import RunContext
from zoho_cscart_sync.pipelines.customers import CUSTOMERS
from zoho_cscart_sync.sync.staging import read_staged_records
from zoho_cscart_sync.tenants import load_tenant
from zoho_cscart_sync.windows import RunWindow, WindowMode

pytestmark = pytest.mark.integration

SAMPLE_TENANTS = Path(__file__).resolve().parents[2] / "include" / "tenants"


def test_full_refresh_extract_reads_every_contact_past_2000(sandbox, monkeypatch, tmp_path):
    sandbox.reset(scale={"crm_contacts": 2300})
    for name, value in sandbox_connections(sandbox).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_CSCART_STATE", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "s.db")})
    )
    tenant = load_tenant(SAMPLE_TENANTS, "acme_store")
    window = RunWindow(since=None, until=datetime.now(timezone.utc), mode=WindowMode.FULL_REFRESH)
    ctx = RunContext(tenant, "customers", "zoho_to_cscart", window, "wall_test", False, SAMPLE_TENANTS)
    before = sandbox.counters()
    extracted = extract(EntityRun(CUSTOMERS, ctx))
    calls = {k: v - before.get(k, 0) for k, v in sandbox.counters().items()}

    ids = [row["id"] for row in read_staged_records(extracted["streams"]["contacts"])]
    assert len(ids) == len(set(ids)) == 2300 - 1  # the seed keeps one contact in the recycle bin
    assert calls["GET /crm/v8/Contacts"] == 12  # ceil(2299 / 200) pages: 10 by page number, 2 by page_token
    assert extracted["streams"]["accounts"]["records"] == 30
