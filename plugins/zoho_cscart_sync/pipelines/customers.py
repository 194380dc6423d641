"""The customers pipeline: Zoho CRM Accounts/Contacts <-> CS-Cart customers, CS-Cart -> Zoho Books.

Zoho -> CS-Cart (``customers_z2c``): accounts parents-first at any depth, then contacts; placeholder e-mails
flagged ``no_email``; existing CS-Cart users adopted by e-mail; Zoho deletions deactivate the CS-Cart user.
CS-Cart -> Zoho (``customers_c2z``): changed customers upserted 100 at a time into Contacts (or Leads for
non-buyers), optionally into Zoho Books. Both directions store the hash the other one will read back, so a
two-way tenant never echoes its own writes (``customers_echo``).

**Conflicts** (both sides changed since the last sync). Zoho -> CS-Cart runs first. Before it overwrites a
linked customer it compares the CS-Cart row with what the last sync left there: if CS-Cart changed too,
``entities.customers.master`` decides. ``zoho``: the Zoho version is written and the overwritten CS-Cart
change is reported (``conflicts`` in the report, a warning naming the record). ``cscart``: the Zoho change
is not applied; the CS-Cart version is sent to Zoho by the CS-Cart -> Zoho pass of the same run.

**Vendor tenants** (Multi-Vendor, ``kind: vendor``). CS-Cart 4.13+ answers 403 to a vendor API key on
``/api/users``, so the tenant's CS-Cart connection must be a marketplace-administrator API user; the
pipeline then confines itself to the tenant's ``company_id``: new customers are created with it, adoption
by e-mail is refused for another vendor's customer, and CS-Cart -> Zoho reads only that company's users.

Every stage returns a small dict for XCom (staged references and counts).
"""

from __future__ import annotations

import logging
from typing import Any

from zoho_cscart_sync.pipeline import RunContext, StageResult
from zoho_cscart_sync.pipelines import customers_c2z, customers_z2c
from zoho_cscart_sync.pipelines.customers_run import C2Z, ENTITY, Z2C, CustomersRun

log = logging.getLogger(__name__)


class CustomersPipeline:
    """``EntityPipeline`` for ``customers`` (see the module docstring)."""

    def extract(self, ctx: RunContext) -> StageResult:
        run = CustomersRun(ctx)
        run.settings  # noqa: B018 - validate the tenant's settings before any API call
        if ctx.direction == Z2C:
            return customers_z2c.extract(run)
        if ctx.direction == C2Z:
            return customers_c2z.extract(run)
        raise ValueError(f"customers: unknown direction {ctx.direction!r}")

    def map(self, ctx: RunContext, extracted: StageResult) -> StageResult:
        run = CustomersRun(ctx)
        if ctx.direction == Z2C:
            return customers_z2c.map_records(run, extracted)
        return customers_c2z.map_records(run, extracted)

    def load(self, ctx: RunContext, mapped: StageResult) -> StageResult:
        from zoho_cscart_sync.sync.report import RunReport

        run = CustomersRun(ctx)
        report = RunReport(tenant=run.tenant_id, run_id=ctx.run_id, dry_run=ctx.dry_run)
        if ctx.direction == Z2C:
            extra = customers_z2c.load(run, mapped, report)
        else:
            extra = customers_c2z.load(run, mapped, report)
        counts = report.counts(ENTITY, ctx.direction)
        counts.extracted = int(mapped.get("extracted", 0))
        counts.failed += int(mapped.get("map_failed", 0))
        if not ctx.dry_run:
            counts.quarantined = len(run.store.quarantined_ids(run.tenant_id, ENTITY, ctx.direction))
        summary = counts.as_dict()
        summary.pop("duration_s", None)
        row = {**summary, **{key: int(value) for key, value in extra.items()}}
        if mapped.get("account_changes_not_sent"):
            row["account_changes_not_sent"] = int(mapped["account_changes_not_sent"])
        log.info("tenant %s customers %s report\n%s", run.tenant_id, ctx.direction, report.as_table())
        return {"report": row, "api_calls": dict(report.api_calls), "failed_run": False}

    def finish(self, ctx: RunContext, loaded: StageResult | None, *, succeeded: bool) -> None:
        run = CustomersRun(ctx)
        if succeeded:
            run.staging.cleanup()
        else:
            log.warning(
                "tenant %s customers %s did not complete; staged files kept for inspection under %s",
                run.tenant_id,
                ctx.direction,
                run.staging.root,
            )
        if ctx.dry_run:
            return
        stats: dict[str, Any] = {}
        for previous in run.store.list_run_stats(run.tenant_id, ENTITY, limit=5):
            if previous.get("run_id") == ctx.run_id:
                stats = dict(previous.get("stats") or {})
        stats[ctx.direction] = {"succeeded": succeeded, **((loaded or {}).get("report") or {})}
        run.store.save_run_stats(run.tenant_id, ENTITY, ctx.run_id, stats)
