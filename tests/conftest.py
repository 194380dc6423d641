"""Test-wide setup: a throwaway AIRFLOW_HOME, the PostgreSQL fixture, and the sandbox plugin."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ["zoho_cscart_sandbox.pytest_plugin"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"

# Airflow reads its configuration at import time, so the throwaway home must be set before any test
# module imports airflow. An explicit AIRFLOW_HOME (as `make test` sets) is respected.
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="zcs-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO_ROOT / "plugins"))
# DAG files written by tests live in their own bundle, so `dag.test()` can find and serialise them
# without touching the real dags/ folder.
TEST_DAGS_DIR = Path(os.environ.setdefault("ZCS_TEST_DAGS_DIR", tempfile.mkdtemp(prefix="zcs-test-dags-")))
os.environ.setdefault(
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST",
    json.dumps(
        [
            {
                "name": "dags-folder",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {},
            },
            {
                "name": "zcs-tests",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(TEST_DAGS_DIR)},
            },
        ]
    ),
)

POSTGRES_URL = os.environ.get("ZCS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the real PostgreSQL server; skips when absent unless ZCS_REQUIRE_POSTGRES=1 (CI sets it)."""
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # any connect failure means "no server here"
        if os.environ.get("ZCS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (ZCS_REQUIRE_POSTGRES=1) but {POSTGRES_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The ../shared reference shelf; tests that read it skip cleanly when it is absent (a user's clone)."""
    if not SHARED_DIR.is_dir():
        pytest.skip("../shared is not present beside the repository")
    return SHARED_DIR


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """A migrated Airflow metadata DB (SQLite in the throwaway AIRFLOW_HOME) for dag.test() runs."""
    from airflow.utils import db

    db.initdb()
    return os.environ["AIRFLOW_HOME"]
