"""Strict DagBag checks of the real dags/ folder: no import errors, no parse-time network/Connection/Variable."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from zoho_cscart_sync.dag_factory import dag_id_for
from zoho_cscart_sync.pipeline import PIPELINES
from zoho_cscart_sync.tenants import iter_tenants

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"
SAMPLE_TENANTS = REPO_ROOT / "include" / "tenants"


class ParseTimeAccess(AssertionError):
    """Raised when parsing touches the network, a Connection or a Variable."""


@pytest.fixture
def forbid_parse_time_io(monkeypatch):
    """Make any network connect, Connection or Variable lookup during parsing fail loudly (not hidden)."""
    calls: list[str] = []

    def refuse(what):
        def _refuse(*args, **kwargs):
            calls.append(what)
            raise ParseTimeAccess(f"{what} during DAG parsing: {args!r}")

        return _refuse

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
    from airflow.sdk import BaseHook, Variable

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(refuse("BaseHook.get_connection")))
    monkeypatch.setattr(Variable, "get", staticmethod(refuse("Variable.get")))
    return calls


def _dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR), safe_mode=False)


def test_dags_folder_imports_cleanly_without_network_or_lookups(forbid_parse_time_io):
    bag = _dagbag()
    assert bag.import_errors == {}
    assert forbid_parse_time_io == []
    expected = {
        dag_id_for(result.config.tenant_id, entity)
        for result in iter_tenants(SAMPLE_TENANTS)
        if result.config is not None
        for entity in result.config.enabled_entities()
        if entity in PIPELINES
    }
    assert set(bag.dag_ids) == expected


def test_every_generated_dag_follows_the_policies():
    bag = _dagbag()
    assert bag.dags, "the sample tenants generate DAGs"
    for dag_id, dag in bag.dags.items():
        assert dag.max_active_runs == 1, dag_id
        assert dag.default_args["retries"] >= 2, dag_id
        assert any(tag.startswith("tenant:") for tag in dag.tags), dag_id
        assert dag.doc_md, dag_id
        assert {"plan", "report"} <= set(dag.task_dict), dag_id


def test_registered_pipelines_are_importable_and_complete():
    for entity, spec in PIPELINES.items():
        assert spec.entity == entity
        pipeline = spec.load()
        for stage in ("extract", "map", "load", "finish"):
            assert callable(getattr(pipeline, stage)), f"{entity}.{stage}"


def test_airflow_plugin_loader_does_not_execute_the_package():
    """Airflow imports every .py under plugins/ as a top-level module; plugins/.airflowignore prevents it."""
    from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory

    plugins, import_errors = _load_plugins_from_plugin_directory(str(REPO_ROOT / "plugins"))
    assert plugins == []
    assert import_errors == {}
    from airflow._shared.module_loading import find_path_from_directory

    scanned = list(find_path_from_directory(str(REPO_ROOT / "plugins"), ".airflowignore", "glob"))
    assert [path for path in scanned if path.endswith(".py")] == []
