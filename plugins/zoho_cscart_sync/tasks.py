"""Thin task bodies of the generated DAGs. All sync logic lives in the entity pipelines.

Each function takes plain arguments plus the Airflow context and returns a small JSON-serialisable dict.
They import the state store and the pipeline lazily: this module is imported at DAG-parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.directions import CONFIGURED
from zoho_cscart_sync.tenants import TenantConfig, load_tenant
from zoho_cscart_sync.windows import RunWindow, RunWindowError, resolve_window

if TYPE_CHECKING:
    from zoho_cscart_sync.pipeline import EntityPipeline, RunContext

log = logging.getLogger(__name__)


PREVIOUS_STAGE = {"map": "extract", "load": "map"}


class RunPlanError(ValueError):
    """The trigger parameters don't make sense for this tenant and entity."""


def _pull_plan(ti: Any, tenant_id: str, entity: str) -> dict[str, Any]:
    plan = ti.xcom_pull(task_ids="plan")
    if not plan:
        raise RunPlanError(f"tenant {tenant_id}, {entity}: the plan task produced no plan; see its log")
    return dict(plan)


def select_directions(configured: tuple[str, ...], requested: str, *, has_record_ids: bool) -> tuple[str, ...]:
    """Directions this run executes, from the tenant's configuration and the `direction` param."""
    if requested in (CONFIGURED, "", None):
        chosen = configured
    elif requested in configured:
        chosen = (requested,)
    else:
        raise RunPlanError(f"direction {requested!r} is not enabled for this tenant (enabled: {list(configured)})")
    if has_record_ids and len(chosen) > 1:
        raise RunPlanError(
            "record_ids are ids of one system: choose a single direction "
            f"({' or '.join(configured)}) for a two-way tenant"
        )
    return chosen


def plan_run(
    tenant_id: str, entity: str, tenants_dir: str, pipeline: str, directions: list[str], **context: Any
) -> dict[str, Any]:
    """Check the trigger, take the run leases, then resolve the run window of each direction (see windows.py).

    Refusals here are final (no retries): unknown conf keys, since >= until, window params on a scheduled or
    backfill run, or another run of the same scope holding its lease (see run_guards.py).
    """
    from zoho_cscart_sync import run_guards

    params: Mapping[str, Any] = context["params"]
    dag_run = context["dag_run"]
    run_type = _run_type(dag_run)
    try:
        run_guards.check_conf(getattr(dag_run, "conf", None), _declared_params(entity, directions), params, run_type)
        tenant = load_tenant(Path(tenants_dir), tenant_id)
        check_tenant_mappings(tenant, Path(tenants_dir))
        chosen = select_directions(
            tuple(directions),
            params.get("direction") or CONFIGURED,
            has_record_ids=bool(params.get("record_ids")),
        )
        explicit = run_guards.explicit_manual_interval(
            run_type,
            getattr(dag_run, "logical_date", None),
            (context.get("data_interval_start"), context.get("data_interval_end")),
            getattr(context.get("dag"), "timetable", None),
        )
    except (run_guards.RunRefused, RunPlanError) as exc:
        raise run_guards.fail(f"tenant {tenant_id}, {entity}: {exc}") from None
    from zoho_cscart_sync.state import StateStore

    store = StateStore.default()
    dry_run = bool(params.get("dry_run"))
    leases: dict[str, dict[str, Any]] = {}
    if not dry_run:  # a dry run writes nothing, so it cannot interleave with a run that does
        try:
            leases = run_guards.take_leases(
                store, tenant_id, entity, chosen, dag_run.run_id, run_guards.LeaseSettings.from_env()
            )
        except run_guards.RunRefused as exc:
            raise run_guards.fail(str(exc)) from None
    try:
        windows = _resolve_windows(store, tenant, entity, chosen, run_type, explicit, params, context)
    except BaseException:
        run_guards.release_leases(store, tenant_id, entity, leases, dag_run.run_id)
        raise
    from zoho_cscart_sync.params import option_values
    from zoho_cscart_sync.pipeline import PIPELINES

    spec = PIPELINES.get(entity)
    options = option_values(spec.options if spec is not None else (), params)
    return {"run_id": dag_run.run_id, "dry_run": dry_run, "windows": windows, "options": options, "leases": leases}


def _declared_params(entity: str, directions: list[str]) -> frozenset[str]:
    """Names of the Params this DAG declares (Airflow adds unknown conf keys to ``params``, so ask the source)."""
    from zoho_cscart_sync.params import run_params
    from zoho_cscart_sync.pipeline import PIPELINES

    spec = PIPELINES.get(entity)
    return frozenset(run_params(tuple(directions), spec.options if spec is not None else ()))


def _resolve_windows(
    store: Any,
    tenant: TenantConfig,
    entity: str,
    chosen: tuple[str, ...],
    run_type: str,
    explicit: tuple[Any, Any] | None,
    params: Mapping[str, Any],
    context: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    tenant_id = tenant.tenant_id
    dag_run = context["dag_run"]
    windows: dict[str, dict[str, Any]] = {}
    for direction in chosen:
        try:
            window = resolve_window(
                run_type=run_type,
                data_interval_start=context.get("data_interval_start"),
                data_interval_end=context.get("data_interval_end"),
                run_after=dag_run.run_after,
                params=params,
                watermark=store.get_watermark(tenant_id, entity, direction),
                start_date=tenant.start_date,
                explicit_interval=explicit,
            )
        except RunWindowError as exc:
            from zoho_cscart_sync.run_guards import fail

            raise fail(f"tenant {tenant_id}, {entity}, {direction}: {exc}") from None
        backlog = store.get_backlog(tenant_id, entity, direction)
        if backlog is not None:
            window = window.with_backlog(backlog.since)
        windows[direction] = window.to_dict()
        log.info(
            "tenant %s %s %s: window %s [%s, %s)",
            tenant_id,
            entity,
            direction,
            window.mode.value,
            window.since.isoformat() if window.since else "-inf",
            window.until.isoformat(),
        )
    return windows


def check_tenant_mappings(tenant: TenantConfig, tenants_dir: Path) -> None:
    """Refuse to run with mapping overrides or defaults the mappings reject (named file and field).

    Done at task time, not at parse time: compiling every mapping for every tenant would add ~70 ms per tenant
    to each parse of the DAG folder. CI checks the shipped tenant files the same way.
    """
    from zoho_cscart_sync.mapping import validate_overrides
    from zoho_cscart_sync.tenants import TenantConfigError, find_tenant_file

    problems = validate_overrides(
        tenant.mapping_overrides, tenant_defaults=tenant.defaults.model_dump(exclude_defaults=True)
    )
    if problems:
        path = find_tenant_file(tenants_dir, tenant.tenant_id) or tenants_dir / f"{tenant.tenant_id}.yaml"
        raise TenantConfigError(path, problems)


def _run_type(dag_run: Any) -> str:
    run_type = getattr(dag_run, "run_type", "manual")
    return str(getattr(run_type, "value", run_type))


def _context_for(
    tenant: TenantConfig, entity: str, direction: str, plan: Mapping[str, Any], tenants_dir: str
) -> RunContext:
    from zoho_cscart_sync.pipeline import RunContext

    return RunContext(
        tenant=tenant,
        entity=entity,
        direction=direction,
        window=RunWindow.from_dict(plan["windows"][direction]),
        run_id=str(plan["run_id"]),
        dry_run=bool(plan["dry_run"]),
        tenants_dir=Path(tenants_dir),
        options=dict(plan.get("options") or {}),
    )


def _pipeline(implementation: str) -> EntityPipeline:
    from zoho_cscart_sync.pipeline import load_pipeline

    return load_pipeline(implementation)


def run_stage(
    stage: str,
    tenant_id: str,
    entity: str,
    direction: str,
    tenants_dir: str,
    pipeline: str,
    directions: list[str],
    **context: Any,
) -> dict[str, Any]:
    """Run one stage (extract / map / load) of one direction; skipped when the run excludes it."""
    ti = context["ti"]
    plan = _pull_plan(ti, tenant_id, entity)
    upstream = ti.xcom_pull(task_ids=f"{direction}.{PREVIOUS_STAGE[stage]}") if stage in PREVIOUS_STAGE else None
    if direction not in plan["windows"]:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(f"direction {direction} is not part of this run")
    tenant = load_tenant(Path(tenants_dir), tenant_id)
    ctx = _context_for(tenant, entity, direction, plan, tenants_dir)
    from airflow.sdk.exceptions import AirflowNotFoundException

    from zoho_cscart_sync import run_guards

    if direction in (plan.get("leases") or {}):
        from zoho_cscart_sync.state import StateStore

        try:
            run_guards.renew_lease(
                StateStore.default(), tenant_id, entity, direction, ctx.run_id, run_guards.LeaseSettings.from_env()
            )
        except run_guards.RunRefused as exc:
            raise run_guards.fail(str(exc)) from None
    try:
        return _stage(stage, _pipeline(pipeline), ctx, upstream)
    except AirflowNotFoundException as exc:  # a missing connection: retrying cannot create it
        try:
            run_guards.check_connections((tenant.zoho_conn_id, tenant.cscart_conn_id), tenant_id)
        except run_guards.RunRefused as missing:
            raise run_guards.fail(str(missing)) from None
        raise run_guards.fail(f"tenant {tenant_id}: {exc}. See README, Connections") from None


def _stage(stage: str, implementation: EntityPipeline, ctx: RunContext, upstream: Any) -> dict[str, Any]:
    if stage == "extract":
        return implementation.extract(ctx)
    if upstream is None:
        raise RunPlanError(f"stage {stage} of {ctx.direction} got no input from the previous stage")
    if stage == "map":
        return implementation.map(ctx, dict(upstream))
    if stage == "load":
        return implementation.load(ctx, dict(upstream))
    raise ValueError(f"unknown stage {stage!r}")


def report_run(
    tenant_id: str, entity: str, tenants_dir: str, pipeline: str, directions: list[str], **context: Any
) -> dict[str, Any]:
    """Final task: finish each direction, advance watermarks, log the run report, then fail the run if a direction
    did not complete, or (tenant setting ``fail_run_on: new_failures``) if records failed for the first time.
    Releases the run's leases last, whatever happened (see run_guards.py)."""
    ti = context["ti"]
    plan = _pull_plan(ti, tenant_id, entity)
    from zoho_cscart_sync.state import StateStore

    store = StateStore.default()
    try:
        return _report(store, plan, tenant_id, entity, tenants_dir, pipeline, directions, ti)
    finally:
        if plan.get("leases"):
            from zoho_cscart_sync.run_guards import release_leases

            # After the watermarks moved: the next run of this scope reads from where this one ended.
            release_leases(store, tenant_id, entity, plan["leases"], str(plan["run_id"]))


def _report(
    store: Any,
    plan: Mapping[str, Any],
    tenant_id: str,
    entity: str,
    tenants_dir: str,
    pipeline: str,
    directions: list[str],
    ti: Any,
) -> dict[str, Any]:
    tenant = load_tenant(Path(tenants_dir), tenant_id)
    implementation = _pipeline(pipeline)
    from zoho_cscart_sync.sync.report import failure_sample, format_run_report, new_failures_message

    summary: dict[str, Any] = {
        "tenant": tenant_id,
        "entity": entity,
        "run_id": plan["run_id"],
        "dry_run": bool(plan.get("dry_run")),
        "directions": {},
    }
    failed: list[str] = []
    new_failures: list[tuple[str, int, list[dict[str, Any]]]] = []
    contexts: dict[str, RunContext] = {}
    loads: dict[str, Any] = {}
    for direction in directions:
        if direction not in plan["windows"]:
            continue
        loaded = ti.xcom_pull(task_ids=f"{direction}.load")
        ctx = _context_for(tenant, entity, direction, plan, tenants_dir)
        contexts[direction], loads[direction] = ctx, loaded
        succeeded = bool(loaded) and not loaded.get("failed_run")
        implementation.finish(ctx, loaded, succeeded=succeeded)
        if not succeeded:
            failed.append(direction)
            summary["directions"][direction] = {"status": "failed"}
            continue
        samples = [failure_sample(sample) for sample in loaded.get("failure_samples") or []]
        summary["directions"][direction] = {
            "status": "ok",
            **dict(loaded.get("report", {})),
            "api_calls": dict(loaded.get("api_calls") or {}),
            "first_failures": samples,
            **({"backlog": loaded["backlog"]} if loaded.get("backlog") else {}),
        }
        count = int(loaded.get("new_failures") or 0)
        if count:
            new_failures.append((direction, count, samples))
        # A direction that deferred records to later runs (call budget spent) keeps its watermark: its backlog
        # (kit/runner.py) makes the next runs read from where this one began.
        if not ctx.dry_run and ctx.advances_watermark and not loaded.get("backlog"):
            store.advance_watermark(tenant_id, entity, direction, ctx.window.until, ctx.run_id)
    # Dashboard counts (kit pipelines that declare them): once per run, after every direction finished.
    counts_of = getattr(implementation, "counts", None)
    if counts_of is not None:
        extracts = {direction: ti.xcom_pull(task_ids=f"{direction}.extract") for direction in contexts}
        counts = counts_of(contexts, extracts, loads)
        if counts is not None:
            summary["counts"] = counts
    log.info("run report\n%s", format_run_report(summary))
    problems: list[str] = []
    if failed:
        problems.append(f"tenant {tenant_id}, {entity}: direction(s) {', '.join(failed)} did not complete")
    if new_failures and tenant.fail_run_on == "new_failures":
        problems.append(new_failures_message(tenant_id, entity, new_failures))
    if problems:
        # A failing task pushes no return value: push the summary first, so the report stays in XCom.
        ti.xcom_push(key="return_value", value=summary)
    if failed:
        raise RuntimeError("\n".join(problems))
    if problems:
        from airflow.sdk.exceptions import AirflowFailException

        # Not retried: a retry would find the records already quarantined and turn green without anyone looking.
        raise AirflowFailException(problems[0])
    return summary


def format_summary_table(summary: Mapping[str, Any]) -> str:
    """The report task's summary as the task log shows it (kept under this name for ``make demo``)."""
    from zoho_cscart_sync.sync.report import format_run_report

    return format_run_report(summary)


def fail_config_error(message: str, **_context: Any) -> None:
    """Task of a broken tenant's DAG: fail with the validation message so it is visible in the UI."""
    raise RuntimeError(message)
