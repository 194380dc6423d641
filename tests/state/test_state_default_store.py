"""StateStore.default(): Connection `zoho_cscart_state` when defined, else SQLite under AIRFLOW_HOME."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from zoho_cscart_sync.state import CachedToken, StateStore
from zoho_cscart_sync.state.engine import display_url, normalise_database_url

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "hunter2-not-for-logs"


@pytest.fixture
def no_state_connection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("AIRFLOW_CONN_ZOHO_CSCART_STATE", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    schema = f"zcs_test_{uuid.uuid4().hex[:16]}"
    yield schema
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def _logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    """Everything logged: Airflow's structlog set-up may route stdlib logging to stdout instead of caplog."""
    captured = capfd.readouterr()
    return caplog.text + captured.out + captured.err


def test_without_the_connection_the_store_is_a_sqlite_file_in_airflow_home(
    no_state_connection: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="zoho_cscart_sync.state")
    store = StateStore.default()
    try:
        expected = no_state_connection / "zoho_cscart_state.db"
        assert store.engine.url.get_backend_name() == "sqlite"
        assert store.engine.url.database == str(expected)
        store.advance_watermark("acme_store", "customers", "zoho_to_cscart", datetime.now(timezone.utc), "r")
        assert expected.is_file()
        logged = _logged(caplog, capfd)
        assert "Connection 'zoho_cscart_state' is not defined" in logged
        assert str(expected) in logged
    finally:
        store.close()


def test_a_postgres_connection_is_used_through_psycopg2_without_logging_the_password(
    postgres_url: str,
    postgres_schema: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    server = make_url(postgres_url)
    # Airflow writes postgres:// URIs; trust auth ignores the password, which must still never be logged.
    uri = (
        f"postgres://{server.username}:{PASSWORD}@{server.host}:{server.port}/{server.database}"
        f"?state_schema={postgres_schema}"
    )
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CSCART_STATE", uri)
    caplog.set_level(logging.DEBUG)
    store = StateStore.default()
    try:
        assert store.engine.url.drivername == "postgresql+psycopg2"
        assert PASSWORD not in store.describe()
        store.advance_watermark("acme_store", "orders", "zoho_to_cscart", datetime.now(timezone.utc), "r")
        tables = sa.inspect(store.engine).get_table_names(schema=postgres_schema)
        assert "zcs_watermarks" in tables
        logged = _logged(caplog, capfd)
        assert f"State store: using postgresql+psycopg2://{server.username}:***@" in logged
        assert postgres_schema in logged
        assert PASSWORD not in logged
    finally:
        store.close()


def test_a_json_connection_with_a_state_schema_extra(
    postgres_url: str, postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_url(postgres_url)
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_CSCART_STATE",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": server.host,
                "port": server.port,
                "login": server.username,
                "schema": server.database,
                "extra": {"state_schema": postgres_schema, "nested": {"ignored": True}},
            }
        ),
    )
    store = StateStore.default()
    try:
        store.put_token("zoho:acme_store", _token())
        assert "zcs_token_cache" in sa.inspect(store.engine).get_table_names(schema=postgres_schema)
    finally:
        store.close()


def test_a_sqlite_connection_names_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.db"
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CSCART_STATE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    store = StateStore.default()
    try:
        assert store.engine.url.database == str(path)
    finally:
        store.close()


def _token() -> CachedToken:
    now = datetime.now(timezone.utc)
    return CachedToken("ct", "https://www.zohoapis.com", now, now)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg2"),
        ("postgresql://u:p@h/db", "postgresql+psycopg2"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+psycopg2"),
        ("sqlite:////tmp/state.db", "sqlite"),
    ],
)
def test_urls_are_normalised_to_the_psycopg2_driver(given: str, driver: str) -> None:
    assert normalise_database_url(given).drivername == driver


def test_airflow_extra_blob_is_dropped_from_the_url() -> None:
    url = normalise_database_url('postgres://u@h/db?sslmode=require&__extra__={"a":{"b":1}}')
    assert dict(url.query) == {"sslmode": "require"}


def test_unsupported_backend_is_refused_without_showing_the_password() -> None:
    with pytest.raises(ValueError, match="sqlite, postgresql") as raised:
        normalise_database_url(f"mysql://root:{PASSWORD}@localhost/db")
    assert PASSWORD not in str(raised.value)
    assert PASSWORD not in display_url(f"postgresql://u:{PASSWORD}@h/db")


def test_importing_the_package_touches_no_airflow_connection_machinery() -> None:
    """DAG files import this package; the Connection lookup must wait until default() is called."""
    code = "import sys, zoho_cscart_sync.state; print('airflow.sdk' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "plugins")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
