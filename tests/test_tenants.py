"""Tenant registry: sample files validate; bad files produce errors naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoho_cscart_sync.tenants import (
    TenantConfigError,
    TenantKind,
    iter_tenants,
    load_tenant,
    load_tenant_file,
)

SAMPLE_TENANTS = Path(__file__).resolve().parents[1] / "include" / "tenants"
MINIMAL = "kind: store\nstart_date: 2026-11-01T00:00:00Z\n"


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(body)
    return path


def test_sample_tenants_are_valid():
    results = list(iter_tenants(SAMPLE_TENANTS))
    assert [r.path.name for r in results] == ["acme_store.yaml", "northwind_vendor.yaml"]
    assert all(r.error is None for r in results), [str(r.error) for r in results]
    store, vendor = (r.config for r in results)
    assert store.kind is TenantKind.STORE and store.company_id is None
    assert store.zoho_conn_id == "zoho_acme_store" and store.cscart_conn_id == "cscart_acme_store"
    assert store.entities["customers"].directions == ("zoho_to_cscart", "cscart_to_zoho")
    assert vendor.kind is TenantKind.VENDOR and vendor.company_id == 2
    # Connection ids default from the tenant id.
    assert vendor.zoho_conn_id == "zoho_northwind_vendor"
    assert vendor.cscart_conn_id == "cscart_northwind_vendor"
    assert vendor.enabled_entities() == ["customers", "products", "orders"]


def test_defaults(tmp_path):
    _write(tmp_path, "tiny", f"tenant_id: tiny\n{MINIMAL}")
    tenant = load_tenant(tmp_path, "tiny")
    assert tenant.schedule == "0 * * * *"
    assert tenant.timezone == "UTC"
    assert tenant.catchup is False
    assert tenant.enabled_entities() == []
    assert tenant.start_date.tzinfo is not None


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ("tenant_id: bad\nkind: shop\nstart_date: 2026-11-01T00:00:00Z\n", "kind", "'store' or 'vendor'"),
        (
            "tenant_id: bad\nkind: vendor\nstart_date: 2026-11-01T00:00:00Z\n",
            "<file>",
            "company_id is required",
        ),
        (f"tenant_id: bad\n{MINIMAL}company_id: 3\n", "<file>", "company_id is only allowed"),
        (f"tenant_id: bad\n{MINIMAL}schedule: every hour\n", "schedule", "not a valid cron"),
        (f"tenant_id: bad\n{MINIMAL}timezone: Mars/Olympus\n", "timezone", "unknown timezone"),
        (f"tenant_id: bad\n{MINIMAL}entities:\n  invoices: {{}}\n", "entities", "allowed: ['customers'"),
        (
            f"tenant_id: bad\n{MINIMAL}entities:\n  orders:\n    direction: sideways\n",
            "entities.orders.direction",
            "got 'sideways'",
        ),
        (f"tenant_id: bad\n{MINIMAL}colour: blue\n", "colour", "Extra inputs are not permitted"),
        (
            f"tenant_id: bad\n{MINIMAL}fail_run_on: always\n",
            "fail_run_on",
            "Input should be 'new_failures' or 'never' (got 'always')",
        ),
        ("tenant_id: bad\nkind: store\n", "start_date", "Field required"),
        (f"tenant_id: other\n{MINIMAL}", "tenant_id", "must equal the file name 'bad'"),
        (f"tenant_id: Bad-Id\n{MINIMAL}", "tenant_id", "String should match pattern"),
        (
            f"tenant_id: bad\n{MINIMAL}connections:\n  zoho: zoho_bad\n  client_secret: s3cr3t\n",
            "connections.client_secret",
            "credentials belong in Airflow Connections",
        ),
        ("- just\n- a list\n", "<file>", "expected a mapping"),
    ],
)
def test_bad_files_name_file_and_field(tmp_path, body, field, fragment):
    result = load_tenant_file(_write(tmp_path, "bad", body))
    assert result.config is None
    message = str(result.error)
    assert str(tmp_path / "bad.yaml") in message
    assert f"  - {field}: " in message
    assert fragment in message


def test_fail_run_on_defaults_to_new_failures_and_accepts_never(tmp_path):
    _write(tmp_path, "strict", f"tenant_id: strict\n{MINIMAL}")
    _write(tmp_path, "lenient", f"tenant_id: lenient\n{MINIMAL}fail_run_on: never\n")
    assert load_tenant(tmp_path, "strict").fail_run_on == "new_failures"
    assert load_tenant(tmp_path, "lenient").fail_run_on == "never"


def test_direction_vocabulary_comes_from_directions_py():
    from zoho_cscart_sync.directions import BOTH, CONFIGURED, DIRECTIONS, Direction
    from zoho_cscart_sync.params import DIRECTION_CHOICES
    from zoho_cscart_sync.pipeline import PIPELINES
    from zoho_cscart_sync.tenants import DIRECTIONS as TENANT_DIRECTIONS
    from zoho_cscart_sync.tenants import SyncDirection

    # The spellings tenant files and trigger forms use stay exactly what they were.
    assert DIRECTIONS == TENANT_DIRECTIONS == ("zoho_to_cscart", "cscart_to_zoho")
    assert [member.value for member in SyncDirection] == [*DIRECTIONS, BOTH] == [*DIRECTIONS, "both"]
    assert SyncDirection.BOTH.expand() == DIRECTIONS
    assert SyncDirection(Direction.CSCART_TO_ZOHO.value).expand() == ("cscart_to_zoho",)
    assert DIRECTION_CHOICES == (CONFIGURED, *DIRECTIONS) == ("configured", "zoho_to_cscart", "cscart_to_zoho")
    assert [d.label for d in Direction] == ["Zoho -> CS-Cart", "CS-Cart -> Zoho"]
    assert set(PIPELINES["customers"].directions) == set(DIRECTIONS)


def test_secret_values_never_echoed(tmp_path):
    result = load_tenant_file(_write(tmp_path, "bad", f"tenant_id: bad\n{MINIMAL}refresh_token: 1000.abcdef\n"))
    assert "refresh_token" in str(result.error)
    assert "1000.abcdef" not in str(result.error)


def test_load_tenant_raises_for_missing_or_broken(tmp_path):
    with pytest.raises(LookupError, match="no tenant file for 'ghost'"):
        load_tenant(tmp_path, "ghost")
    _write(tmp_path, "broken", "tenant_id: broken\nkind: vendor\nstart_date: 2026-11-01T00:00:00Z\n")
    with pytest.raises(TenantConfigError, match=r"broken\.yaml"):
        load_tenant(tmp_path, "broken")


def test_iteration_order_is_stable(tmp_path):
    for name in ("zeta", "alpha", "mid"):
        _write(tmp_path, name, f"tenant_id: {name}\n{MINIMAL}")
    (tmp_path / "notes.txt").write_text("ignored")
    assert [r.path.stem for r in iter_tenants(tmp_path)] == ["alpha", "mid", "zeta"]


def test_mapping_overrides_and_defaults_are_checked_before_a_run(tmp_path):
    from zoho_cscart_sync.tasks import check_tenant_mappings

    for sample in iter_tenants(SAMPLE_TENANTS):
        check_tenant_mappings(sample.config, SAMPLE_TENANTS)  # the shipped samples pass
    _write(
        tmp_path,
        "bad_status",
        f"tenant_id: bad_status\n{MINIMAL}defaults:\n  order_status_map:\n    C: shipped_by_owl\n",
    )
    tenant = load_tenant(tmp_path, "bad_status")
    with pytest.raises(TenantConfigError) as raised:
        check_tenant_mappings(tenant, tmp_path)
    message = str(raised.value)
    assert "bad_status.yaml" in message
    assert "order_status_map" in message
    assert "shipped_by_owl" in message
