"""Generate one DAG per tenant x entity that has a pipeline.

Shape of every DAG::

    plan >> [zoho_to_cscart: extract >> map >> load] >> [cscart_to_zoho: extract >> map >> load] >> report

Zoho -> CS-Cart runs first in two-way tenants; the pipelines record a hash of what they wrote, so the
CS-Cart -> Zoho pass recognises those records as our own writes and does not echo them back.

Parse-time discipline: only local YAML is read; no Connection, Variable or network access; pipeline code
is imported only inside tasks; when a worker runs a task, only that task's DAG is built.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from zoho_cscart_sync import tasks
from zoho_cscart_sync.directions import BOTH, Direction
from zoho_cscart_sync.http.ratelimit import pool_name
from zoho_cscart_sync.params import run_params
from zoho_cscart_sync.pipeline import PIPELINES, PipelineSpec
from zoho_cscart_sync.tenants import (
    ENTITIES,
    TenantConfig,
    TenantLoadResult,
    find_tenant_file,
    iter_tenants,
    load_tenant_file,
)

log = logging.getLogger(__name__)

DAG_ID_PREFIX = "zoho_cscart"
CONFIG_ERROR_SUFFIX = "config_error"
_DAG_ID_RE = re.compile(rf"^{DAG_ID_PREFIX}__(?P<tenant>[a-z0-9_]+?)__(?P<entity>[a-z_]+)$")

STAGES = ("extract", "map", "load")
DEFAULT_RETRIES = 2
DEFAULT_RETRY_DELAY = timedelta(minutes=2)
MAX_RETRY_DELAY = timedelta(minutes=20)


def dag_id_for(tenant_id: str, entity: str) -> str:
    """`zoho_cscart__<tenant>__<entity>`."""
    return f"{DAG_ID_PREFIX}__{tenant_id}__{entity}"


def parse_dag_id(dag_id: str) -> tuple[str, str] | None:
    """(tenant_id, entity) of a generated dag_id, or None for anything else."""
    match = _DAG_ID_RE.match(dag_id)
    if not match:
        return None
    return match.group("tenant"), match.group("entity")


def _safe_id(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return cleaned or "unnamed"


def _doc_md(tenant: TenantConfig, entity: str, spec: PipelineSpec, directions: tuple[str, ...]) -> str:
    who = (
        f"vendor **company_id {tenant.company_id}** of a Multi-Vendor marketplace"
        if tenant.company_id
        else "the whole store"
    )
    flows = "\n".join(
        f"- **{Direction.parse(d).label}**: {spec.summaries.get(d, 'extract -> map -> load')}" for d in directions
    )
    return f"""\
### {tenant.display_name or tenant.tenant_id}: {entity}

Synchronises **{entity}** for tenant `{tenant.tenant_id}` ({who}), every interval of
`{tenant.schedule}` ({tenant.timezone}).

{flows}

Connections: Zoho `{tenant.zoho_conn_id}`, CS-Cart `{tenant.cscart_conn_id}`.

**Run windows.** Scheduled runs and backfills read exactly their data interval. A manual trigger reads
from the last successful sync to the trigger time, or the `since`/`until` you give; `full_refresh` reads
everything; `record_ids` syncs just those records; `dry_run` reports what would be written without
writing. Re-running any run writes nothing new: unchanged records are recognised by their content hash.
Failed records are quarantined with the reason and retried on later runs.
"""


def _stage_pool(tenant_id: str, direction: str, stage: str) -> str | None:
    """The tenant x system pool of a stage that talks to a remote system; None (default pool) for map."""
    parsed = Direction.parse(direction)
    system = {"extract": parsed.source, "load": parsed.target}.get(stage)
    return pool_name(tenant_id, system) if system else None


def build_entity_dag(tenant: TenantConfig, spec: PipelineSpec, tenants_dir: Path) -> Any:
    """The DAG of one tenant x entity."""
    import pendulum
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, CronDataIntervalTimetable, TaskGroup
    from airflow.sdk.definitions.param import ParamsDict

    entity = spec.entity
    directions = tenant.entities[entity].directions
    unsupported = [d for d in directions if d not in spec.directions]
    if unsupported:
        allowed = [*spec.directions, BOTH] if len(spec.directions) > 1 else list(spec.directions)
        raise ValueError(
            f"{entity} cannot run {', '.join(unsupported)} (allowed: {allowed}; "
            f"got {tenant.entities[entity].direction.value!r})"
        )
    common = {
        "tenant_id": tenant.tenant_id,
        "entity": entity,
        "tenants_dir": str(tenants_dir),
        "pipeline": spec.implementation,
        "directions": list(directions),
    }
    dag = DAG(
        dag_id=dag_id_for(tenant.tenant_id, entity),
        description=f"{entity} sync for {tenant.tenant_id} ({', '.join(Direction.parse(d).label for d in directions)})",
        schedule=CronDataIntervalTimetable(tenant.schedule, timezone=tenant.timezone),
        start_date=pendulum.instance(tenant.start_date),
        catchup=tenant.catchup,
        max_active_runs=1,
        is_paused_upon_creation=tenant.paused_on_creation,
        tags=["zoho_cscart", f"tenant:{tenant.tenant_id}", f"entity:{entity}", f"kind:{tenant.kind.value}"],
        doc_md=_doc_md(tenant, entity, spec, directions),
        default_args={
            "owner": tenant.owner,
            "retries": DEFAULT_RETRIES,
            "retry_delay": DEFAULT_RETRY_DELAY,
            "retry_exponential_backoff": 2.0,
            "max_retry_delay": MAX_RETRY_DELAY,
            "execution_timeout": timedelta(hours=2),
        },
    )
    with dag:
        # Classic operators with plain-string kwargs: TaskFlow's per-call signature inspection and XComArg
        # wiring tripled the per-DAG build time (bench/parse_time.py); tasks pull their inputs from XCom.
        plan = PythonOperator(task_id="plan", python_callable=tasks.plan_run, op_kwargs=common, retries=0)
        previous: Any = plan
        for direction in directions:
            with TaskGroup(group_id=direction, tooltip=Direction.parse(direction).label) as group:
                stages = [
                    PythonOperator(
                        task_id=stage,
                        python_callable=tasks.run_stage,
                        op_kwargs={**common, "stage": stage, "direction": direction},
                        # none_failed: a direction left out of the run (skipped) must not skip the next one.
                        trigger_rule="none_failed" if stage == "extract" else "all_success",
                        pool=_stage_pool(tenant.tenant_id, direction, stage),
                    )
                    for stage in STAGES
                ]
                stages[0] >> stages[1] >> stages[2]
            previous >> group
            previous = group
        report = PythonOperator(
            task_id="report",
            python_callable=tasks.report_run,
            op_kwargs=common,
            trigger_rule="all_done",
            retries=0,
        )
        previous >> report
    # Params are attached after the tasks exist, without the attrs validator: Airflow would deep-copy them
    # into every task created inside the DAG and re-validate their defaults against JSON Schema on every
    # parse, together ~60 % of the parse time with 1,000 tenants (bench/parse_time.py). The defaults are
    # constants validated by tests/dags/test_factory.py; trigger-time conf and every task's params are still
    # validated by Airflow (process_params merges the DAG's params at run time).
    object.__setattr__(dag, "params", ParamsDict(run_params(directions, spec.options)))
    return dag


def build_config_error_dag(result: TenantLoadResult) -> Any:
    """A visible stand-in for a broken tenant file: one task that fails with the validation message."""
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG

    assert result.error is not None
    message = str(result.error)
    dag_id = f"{DAG_ID_PREFIX}__{_safe_id(result.path.stem)}__{CONFIG_ERROR_SUFFIX}"
    dag = DAG(
        dag_id=dag_id,
        description=f"INVALID tenant file {result.path.name}: fix it to get this tenant's DAGs back",
        schedule=None,
        tags=["zoho_cscart", "config-error"],
        doc_md=f"### Invalid tenant file\n\n```\n{message}\n```\n",
        default_args={"owner": "zoho-cscart-sync", "retries": 0},
        is_paused_upon_creation=False,
    )
    with dag:
        PythonOperator(
            task_id="tenant_config_error",
            python_callable=tasks.fail_config_error,
            op_kwargs={"message": message},
        )
    return dag


def generate_dags(
    tenants_dir: Path,
    pipelines: Mapping[str, PipelineSpec] = PIPELINES,
    *,
    only_dag_id: str | None = None,
) -> dict[str, Any]:
    """dag_id -> DAG for every valid tenant x entity with a pipeline, plus one error DAG per broken file.

    With `only_dag_id` (a worker running one task) only that DAG is built and only its tenant file is read.
    """
    if only_dag_id is not None:
        parsed = parse_dag_id(only_dag_id)
        if parsed is not None:
            tenant_id, entity = parsed
            if entity == CONFIG_ERROR_SUFFIX:
                results = [r for r in iter_tenants(tenants_dir) if r.error and _safe_id(r.path.stem) == tenant_id]
            else:
                path = find_tenant_file(tenants_dir, tenant_id)
                results = [load_tenant_file(path)] if path else []
            # Build nothing else: Airflow auto-registers every DAG created, even if it is not returned.
            dags = _dags_from(results, pipelines, tenants_dir, only_entity=entity)
            if only_dag_id in dags:
                return {only_dag_id: dags[only_dag_id]}
        # Not one of ours, or not found: fall through to a full parse rather than hide anything.
    return _dags_from(iter_tenants(tenants_dir), pipelines, tenants_dir)


def _dags_from(
    results: Any,
    pipelines: Mapping[str, PipelineSpec],
    tenants_dir: Path,
    *,
    only_entity: str | None = None,
) -> dict[str, Any]:
    dags: dict[str, Any] = {}
    for result in results:
        if result.error is not None:
            log.error("%s", result.error)
            dag = build_config_error_dag(result)
            dags[dag.dag_id] = dag
            continue
        tenant = result.config
        for entity in tenant.enabled_entities():
            if only_entity not in (None, CONFIG_ERROR_SUFFIX, entity):
                continue
            spec = pipelines.get(entity)
            if spec is None:
                continue  # no pipeline for this entity yet: no DAG, rather than a placeholder
            try:
                dag = build_entity_dag(tenant, spec, tenants_dir)
            except ValueError as exc:
                error = TenantLoadResult(
                    result.path,
                    error=_as_config_error(result.path, f"entities.{entity}.direction: {exc}"),
                )
                dag = build_config_error_dag(error)
            dags[dag.dag_id] = dag
    return dags


def _as_config_error(path: Path, problem: str) -> Any:
    from zoho_cscart_sync.tenants import TenantConfigError

    return TenantConfigError(path, [problem])


def register_dags(
    namespace: MutableMapping[str, Any],
    tenants_dir: Path,
    pipelines: Mapping[str, PipelineSpec] = PIPELINES,
) -> list[str]:
    """Build the DAGs (only the running task's DAG on a worker) and expose them in a DAG file's globals."""
    from airflow.sdk import get_parsing_context

    dags = generate_dags(tenants_dir, pipelines, only_dag_id=get_parsing_context().dag_id)
    namespace.update(dags)
    return sorted(dags)


def describe_tenants(tenants_dir: Path, pipelines: Mapping[str, PipelineSpec] = PIPELINES) -> str:
    """Human-readable listing of tenants and what will be generated for them (used by `make demo`)."""
    lines: list[str] = []
    for result in iter_tenants(tenants_dir):
        if result.error is not None:
            lines.append(f"! {result.path.name}: INVALID\n{result.error}")
            continue
        tenant = result.config
        assert tenant is not None
        who = f"vendor company_id={tenant.company_id}" if tenant.company_id else "whole store"
        lines.append(
            f"* {tenant.tenant_id} ({who}; zoho={tenant.zoho_conn_id}, cscart={tenant.cscart_conn_id}, "
            f"schedule '{tenant.schedule}' {tenant.timezone})"
        )
        for entity in ENTITIES:
            config = tenant.entities.get(entity)
            if config is None or not config.enabled:
                lines.append(f"    {entity:<9} disabled")
            elif entity in pipelines:
                lines.append(
                    f"    {entity:<9} {config.direction.value:<15} -> DAG {dag_id_for(tenant.tenant_id, entity)}"
                )
            else:
                lines.append(f"    {entity:<9} {config.direction.value:<15} -> no DAG yet (its pipeline is not built)")
    return "\n".join(lines) if lines else f"no tenant files in {tenants_dir}"
