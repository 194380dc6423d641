"""The one runner every entity plugs into: an :class:`~zoho_cscart_sync.pipeline.EntityPipeline` built from
an :class:`~zoho_cscart_sync.kit.spec.EntitySpec`.

Stages (each a thin call into ``kit/extract.py``, ``kit/mapstage.py``, ``kit/loadstage.py``) pass small
dicts through XCom: staged references and counts, never records. ``finish`` (called by the report task)
cleans staging and stores the run's statistics; the report task then advances the watermark.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from zoho_cscart_sync.kit import extract as extract_stage
from zoho_cscart_sync.kit import loadstage, mapstage, unlinked
from zoho_cscart_sync.kit.context import EntityRun
from zoho_cscart_sync.kit.spec import EntitySpec
from zoho_cscart_sync.pipeline import RunContext, StageResult

log = logging.getLogger(__name__)

FAILURE_SAMPLES = 5
"""First failure reasons carried to the report task (the whole list is in the quarantine)."""


class SpecPipeline:
    """``EntityPipeline`` for any declared entity."""

    def __init__(self, spec: EntitySpec) -> None:
        self.spec = spec

    def run_for(self, ctx: RunContext) -> EntityRun:
        return EntityRun(self.spec, ctx)

    def extract(self, ctx: RunContext) -> StageResult:
        run = self.run_for(ctx)
        run.settings  # noqa: B018 - validate the tenant's settings before any API call
        result = extract_stage.extract(run)
        result["api_calls"] = run.api_calls()
        return result

    def map(self, ctx: RunContext, extracted: StageResult) -> StageResult:
        run = self.run_for(ctx)
        result = mapstage.map_records(run, extracted)
        # The staged Zoho records and the streams read in full, for the load's "Not in CS-Cart" list (kit/unlinked.py).
        result["streams"] = extracted.get("streams") or {}
        result["read_in_full"] = (extracted.get("source_totals") or {}).get("read_in_full")
        result["api_calls"] = _merge_calls(extracted.get("api_calls"), run.api_calls())
        return result

    def load(self, ctx: RunContext, mapped: StageResult) -> StageResult:
        run = self.run_for(ctx)
        report, extra = loadstage.load(run, mapped)
        unlinked.note_unlinked(run, mapped)
        direction = run.direction.value
        targets = run.targets()
        counts = report.counts(run.entity, direction)
        counts.extracted = int(mapped.get("extracted", 0))
        map_failed: dict[str, int] = dict(mapped.get("map_failed") or {})
        waiting_on_content: dict[str, int] = dict(mapped.get("waiting") or {})
        counts.failed += map_failed.get(run.entity, 0)
        counts.waiting += waiting_on_content.get(run.entity, 0)
        row: dict[str, Any] = {}
        new_failures = 0
        for index, target in enumerate(targets):
            namespace = run.namespace(target)
            target_counts = report.counts(namespace, direction)
            if index > 0:
                target_counts.failed += map_failed.get(namespace, 0)
                target_counts.waiting += waiting_on_content.get(namespace, 0)
            entries = run.store.open_quarantine(run.tenant_id, namespace, direction) if not ctx.dry_run else {}
            target_counts.quarantined = len(entries)
            fresh = [e for e in entries.values() if e.first_run_id == ctx.run_id and e.attempts == 1]
            target_counts.new_failures = len([e for e in fresh if e.kind != "waiting"])
            new_failures += target_counts.new_failures
            summary = target_counts.as_dict()
            summary.pop("duration_s", None)
            if index == 0 or not target.report_prefix:
                row.update(summary)
            else:
                row.update({f"{target.report_prefix}_{key}": value for key, value in summary.items() if key != "flags"})
        row.update({key: int(value) for key, value in extra.items()})
        row.update({key: int(value) for key, value in (mapped.get("quirk_counts") or {}).items()})
        samples = _failure_samples(run, ctx.run_id) if new_failures else []
        api_calls = _merge_calls(mapped.get("api_calls"), run.api_calls())
        report.api_calls.clear()
        report.add_api_calls(api_calls)
        log.info("%s report\n%s", run.label, report.as_table())
        return {
            "report": row,
            "backlog": _backlog(run, row),
            "api_calls": api_calls,
            "new_failures": new_failures,
            "failure_samples": samples,
            "failed_run": False,
        }

    def finish(self, ctx: RunContext, loaded: StageResult | None, *, succeeded: bool) -> None:
        run = self.run_for(ctx)
        if succeeded:
            run.staging.cleanup()
        else:
            log.warning("%s did not complete; staged files kept for inspection under %s", run.label, run.staging.root)
        if ctx.dry_run:
            return
        stats: dict[str, Any] = {}
        for previous in run.store.list_run_stats(run.tenant_id, run.entity, limit=5):
            if previous.get("run_id") == ctx.run_id:
                stats = dict(previous.get("stats") or {})
        loaded = loaded or {}
        stats[ctx.direction] = {
            "succeeded": succeeded,
            **(loaded.get("report") or {}),
            "api_calls": dict(loaded.get("api_calls") or {}),
        }
        run.store.save_run_stats(run.tenant_id, run.entity, ctx.run_id, stats)
        if succeeded:
            _settle_backlog(run, loaded)

    def counts(
        self,
        contexts: Mapping[str, RunContext],
        extracted: Mapping[str, StageResult | None],
        loaded: Mapping[str, StageResult | None],
    ) -> dict[str, Any] | None:
        """The entity's dashboard counts after the run (``kit/counts.py``), stored with the run unless it is a dry
        run; None when the entity declares none. Called once by the report task, after every direction finished."""
        declared = self.spec.counts
        if declared is None or not contexts:
            return None
        from zoho_cscart_sync.directions import Direction
        from zoho_cscart_sync.hooks.config import ConnectionConfigError
        from zoho_cscart_sync.http.errors import ApiError
        from zoho_cscart_sync.kit.counts import DirectionOutcome, counts_summary, entity_counts

        ctx = next(iter(contexts.values()))
        run = self.run_for(ctx)
        stream = self.spec.direction(Direction.CSCART_TO_ZOHO).stream(declared.cscart_stream)

        def count_cscart() -> int | None:
            from zoho_cscart_sync.kit.sources import CsCartSource

            try:
                return CsCartSource(run.cscart, stream, ctx.tenant.company_id).count()
            except (ApiError, ConnectionConfigError) as exc:
                # The counts describe the sync; a CS-Cart outage must not hide the run's own report.
                log.warning("%s %s: CS-Cart total not read: %s", run.tenant_id, run.entity, exc)
                return None

        outcomes = {
            direction: DirectionOutcome(context.window, extracted.get(direction), loaded.get(direction))
            for direction, context in contexts.items()
        }
        counts = entity_counts(
            declared,
            tenant=run.tenant_id,
            entity=run.entity,
            run_id=ctx.run_id,
            dry_run=ctx.dry_run,
            outcomes=outcomes,
            store=run.store,
            count_cscart=count_cscart,
        )
        if not ctx.dry_run:
            run.store.save_run_counts(run.tenant_id, run.entity, ctx.run_id, counts)
        return counts_summary(counts, run.api_calls())


def _backlog(run: EntityRun, row: Mapping[str, Any]) -> dict[str, Any] | None:
    """Progress of a push bigger than one run's call budget: done / total, and an ETA at this run's pace."""
    deferred = int(row.get("deferred") or 0)
    if not deferred:
        return None
    total = int(row.get("extracted") or 0)
    per_run = int(row.get("created") or 0) + int(row.get("updated") or 0)
    progress: dict[str, Any] = {"done": total - deferred, "total": total, "deferred": deferred, "per_run": per_run}
    if per_run:
        runs = math.ceil(deferred / per_run)
        progress["eta_runs"] = runs
        progress["eta_hours"] = round(runs * _hours_between_runs(run), 1)
    return progress


def _hours_between_runs(run: EntityRun) -> float:
    """Hours between two scheduled runs of the tenant's cron (an hour for the default schedule)."""
    from croniter import croniter

    start = run.ctx.window.until
    schedule = croniter(run.ctx.tenant.schedule, start)
    first = schedule.get_next(datetime)
    return float((schedule.get_next(datetime) - first).total_seconds() / 3600)


def _settle_backlog(run: EntityRun, loaded: Mapping[str, Any]) -> None:
    """Record where a run that deferred records began (the next runs read from there); clear it when done."""
    window = run.ctx.window
    if not run.ctx.advances_watermark:
        return  # a record_ids or stock-only run says nothing about the rest of the backlog
    backlog = loaded.get("backlog")
    direction = run.direction.value
    if backlog:
        run.store.save_backlog(
            run.tenant_id,
            run.entity,
            direction,
            since=window.since,
            done=int(backlog["done"]),
            total=int(backlog["total"]),
            run_id=run.ctx.run_id,
        )
    elif run.store.get_backlog(run.tenant_id, run.entity, direction) is not None:
        log.info("%s: backlog finished", run.label)
        run.store.clear_backlog(run.tenant_id, run.entity, direction)


def _merge_calls(*parts: Any) -> dict[str, int]:
    merged: dict[str, int] = {}
    for part in parts:
        for endpoint, count in (part or {}).items():
            merged[endpoint] = merged.get(endpoint, 0) + int(count)
    return dict(sorted(merged.items()))


def _failure_samples(run: EntityRun, run_id: str) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    for namespace in run.spec.namespaces:
        for entry in run.store.list_quarantine(run.tenant_id, namespace, run.direction.value):
            if entry.first_run_id == run_id and entry.attempts == 1 and entry.kind != "waiting":
                samples.append(
                    {"entity": namespace, "source_id": entry.source_id, "field": entry.field, "reason": entry.reason}
                )
                if len(samples) >= FAILURE_SAMPLES:
                    return samples
    return samples
