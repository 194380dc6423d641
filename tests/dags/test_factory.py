"""The DAG factory, proven with a small pipeline defined in the tests (tests/dags/echo_pipeline.py)."""

from __future__ import annotations

import copy
import shutil
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest
from airflow.sdk import CronDataIntervalTimetable

from zoho_cscart_sync.dag_factory import dag_id_for, describe_tenants, generate_dags, parse_dag_id
from zoho_cscart_sync.pipeline import PipelineSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_TENANTS = REPO_ROOT / "include" / "tenants"
ECHO = "tests.dags.echo_pipeline:PIPELINE"
BOTH = ("zoho_to_cscart", "cscart_to_zoho")
ALL_PIPELINES = {entity: PipelineSpec(entity, ECHO, BOTH) for entity in ("customers", "products", "orders")}


def _task_ids(dag) -> list[str]:
    return sorted(dag.task_dict)


def test_sample_tenants_generate_one_dag_per_tenant_and_entity():
    dags = generate_dags(SAMPLE_TENANTS, ALL_PIPELINES)
    assert sorted(dags) == sorted(
        dag_id_for(tenant, entity)
        for tenant in ("acme_store", "northwind_vendor")
        for entity in ("customers", "products", "orders")
    )


def test_two_way_dag_has_both_chains_in_order_and_a_report():
    dag = generate_dags(SAMPLE_TENANTS, ALL_PIPELINES)["zoho_cscart__acme_store__customers"]
    assert _task_ids(dag) == [
        "cscart_to_zoho.extract",
        "cscart_to_zoho.load",
        "cscart_to_zoho.map",
        "plan",
        "report",
        "zoho_to_cscart.extract",
        "zoho_to_cscart.load",
        "zoho_to_cscart.map",
    ]
    assert set(dag.task_group.children) == {"plan", "zoho_to_cscart", "cscart_to_zoho", "report"}
    tasks = dag.task_dict
    assert tasks["zoho_to_cscart.extract"].downstream_task_ids == {"zoho_to_cscart.map"}
    assert tasks["zoho_to_cscart.map"].downstream_task_ids == {"zoho_to_cscart.load"}
    # Zoho -> CS-Cart completes before CS-Cart -> Zoho reads, so our own writes are recognised, not echoed.
    assert "cscart_to_zoho.extract" in tasks["zoho_to_cscart.load"].downstream_task_ids
    assert tasks["cscart_to_zoho.load"].downstream_task_ids == {"report"}
    assert tasks["report"].trigger_rule == "all_done"
    # Stages that talk to a remote system run in that tenant x system pool.
    assert tasks["zoho_to_cscart.extract"].pool == "zcs__acme_store__zoho"
    assert tasks["zoho_to_cscart.load"].pool == "zcs__acme_store__cscart"
    assert tasks["cscart_to_zoho.extract"].pool == "zcs__acme_store__cscart"
    assert tasks["cscart_to_zoho.load"].pool == "zcs__acme_store__zoho"
    assert tasks["zoho_to_cscart.map"].pool == "default_pool"


def test_one_way_tenant_gets_only_its_direction():
    dag = generate_dags(SAMPLE_TENANTS, ALL_PIPELINES)["zoho_cscart__northwind_vendor__customers"]
    assert set(dag.task_group.children) == {"plan", "zoho_to_cscart", "report"}
    assert dag.params.get_param("direction").schema["enum"] == ["configured"]


def test_entities_without_a_pipeline_get_no_dag():
    only_customers = {"customers": ALL_PIPELINES["customers"]}
    assert sorted(generate_dags(SAMPLE_TENANTS, only_customers)) == [
        "zoho_cscart__acme_store__customers",
        "zoho_cscart__northwind_vendor__customers",
    ]
    assert generate_dags(SAMPLE_TENANTS, {}) == {}


def test_dag_policies():
    for dag in generate_dags(SAMPLE_TENANTS, ALL_PIPELINES).values():
        tenant, entity = parse_dag_id(dag.dag_id)
        assert f"tenant:{tenant}" in dag.tags and f"entity:{entity}" in dag.tags
        assert dag.max_active_runs == 1
        assert dag.catchup is False
        assert dag.default_args["retries"] >= 2
        assert dag.default_args["retry_exponential_backoff"] > 1
        assert dag.default_args["owner"] not in ("", "airflow")
        assert tenant in dag.doc_md and entity in dag.doc_md
        assert isinstance(dag.timetable, CronDataIntervalTimetable)


@pytest.mark.parametrize("dag_id", ["zoho_cscart__acme_store__orders", "zoho_cscart__northwind_vendor__orders"])
def test_timetable_gives_one_hour_data_intervals(dag_id):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    dag = generate_dags(SAMPLE_TENANTS, ALL_PIPELINES)[dag_id]
    timetable = coerce_to_core_timetable(dag.timetable)
    restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)
    first = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert first is not None
    assert first.data_interval.end - first.data_interval.start == timedelta(hours=1)
    second = timetable.next_dagrun_info(last_automated_data_interval=first.data_interval, restriction=restriction)
    assert second.data_interval.start == first.data_interval.end
    assert second.data_interval.end - second.data_interval.start == timedelta(hours=1)
    manual = timetable.infer_manual_data_interval(run_after=pendulum.datetime(2026, 11, 5, 10, 30, tz="UTC"))
    assert manual.end - manual.start == timedelta(hours=1)


def test_params_accept_valid_input():
    dag = generate_dags(SAMPLE_TENANTS, ALL_PIPELINES)["zoho_cscart__acme_store__customers"]
    params = copy.deepcopy(dag.params)
    params.update(
        {
            "since": "2026-11-01T00:00:00+00:00",
            "until": "2026-11-02T00:00:00Z",
            "full_refresh": False,
            "direction": "cscart_to_zoho",
            "dry_run": True,
            "record_ids": ["5001", "5002"],
        }
    )
    assert params.validate()["record_ids"] == ["5001", "5002"]
    defaults = copy.deepcopy(dag.params).validate()
    assert defaults == {
        "since": None,
        "until": None,
        "full_refresh": False,
        "direction": "configured",
        "dry_run": False,
        "record_ids": None,
    }
    for name in dag.params:
        assert dag.params.get_param(name).description, f"trigger-form field {name} explains itself"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("since", "yesterday"),
        ("until", "2026-13-01T00:00:00Z"),
        ("full_refresh", "yes"),
        ("direction", "sideways"),
        ("dry_run", 1),
        ("record_ids", "5001"),
        ("record_ids", [""]),
    ],
)
def test_params_refuse_bad_input(name, value):
    from airflow.sdk.exceptions import ParamValidationError

    dag = generate_dags(SAMPLE_TENANTS, ALL_PIPELINES)["zoho_cscart__acme_store__customers"]
    params = copy.deepcopy(dag.params)
    with pytest.raises(ParamValidationError):
        _set_and_validate(params, name, value)


def _set_and_validate(params, name, value):
    params[name] = value  # ParamsDict validates on assignment for some values, on validate() for others
    params.validate()


def test_broken_tenant_is_isolated_and_visible(tmp_path):
    for sample in SAMPLE_TENANTS.glob("*.yaml"):
        shutil.copy(sample, tmp_path / sample.name)
    (tmp_path / "broken_vendor.yaml").write_text(
        "tenant_id: broken_vendor\nkind: vendor\nstart_date: 2026-11-01T00:00:00Z\n"
        "entities:\n  customers:\n    direction: sideways\n"
    )
    (tmp_path / "garbled.yaml").write_text("tenant_id: [unclosed\n")
    dags = generate_dags(tmp_path, ALL_PIPELINES)

    assert {dag_id for dag_id in dags if "config_error" not in dag_id} == set(
        generate_dags(SAMPLE_TENANTS, ALL_PIPELINES)
    )
    broken = dags["zoho_cscart__broken_vendor__config_error"]
    assert "config-error" in broken.tags
    assert "broken_vendor.yaml" in broken.doc_md
    assert "entities.customers.direction" in broken.doc_md
    assert "sideways" in broken.doc_md
    garbled = dags["zoho_cscart__garbled__config_error"]
    assert "garbled.yaml" in garbled.doc_md and "cannot read YAML" in garbled.doc_md
    # Its single task fails with the same message when run.
    task = broken.task_dict["tenant_config_error"]
    with pytest.raises(RuntimeError, match=r"broken_vendor\.yaml"):
        task.python_callable(**task.op_kwargs)


def test_parsing_for_one_dag_reads_only_that_tenant(tmp_path, monkeypatch):
    for sample in SAMPLE_TENANTS.glob("*.yaml"):
        shutil.copy(sample, tmp_path / sample.name)
    # A broken file would produce an error DAG if it were read at all.
    (tmp_path / "zz_broken.yaml").write_text("tenant_id: zz_broken\nkind: nonsense\n")
    read: list[str] = []
    original = Path.read_text

    def tracking_read_text(self, *args, **kwargs):
        read.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", tracking_read_text)
    dags = generate_dags(tmp_path, ALL_PIPELINES, only_dag_id="zoho_cscart__northwind_vendor__products")
    assert list(dags) == ["zoho_cscart__northwind_vendor__products"]
    assert read == ["northwind_vendor.yaml"]


def test_parsing_context_is_honoured(tmp_path, monkeypatch):
    from zoho_cscart_sync.dag_factory import register_dags

    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "zoho_cscart__acme_store__orders")
    namespace: dict = {}
    assert register_dags(namespace, SAMPLE_TENANTS, ALL_PIPELINES) == ["zoho_cscart__acme_store__orders"]
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID")
    assert len(register_dags({}, SAMPLE_TENANTS, ALL_PIPELINES)) == 6


def test_unsupported_direction_becomes_a_config_error(tmp_path):
    shutil.copy(SAMPLE_TENANTS / "acme_store.yaml", tmp_path / "acme_store.yaml")
    zoho_only = {"customers": PipelineSpec("customers", ECHO, ("zoho_to_cscart",))}
    dags = generate_dags(tmp_path, zoho_only)
    # acme_store asks for customers both ways; silently dropping one direction would lose records.
    assert list(dags) == ["zoho_cscart__acme_store__config_error"]
    doc = dags["zoho_cscart__acme_store__config_error"].doc_md
    assert "acme_store.yaml" in doc
    assert "entities.customers.direction" in doc and "cscart_to_zoho" in doc


def test_describe_tenants_lists_what_will_be_generated():
    text = describe_tenants(SAMPLE_TENANTS, {"customers": ALL_PIPELINES["customers"]})
    assert "acme_store (whole store" in text
    assert "northwind_vendor (vendor company_id=2" in text
    assert "-> DAG zoho_cscart__acme_store__customers" in text
    assert "products  both            -> no DAG yet" in text
