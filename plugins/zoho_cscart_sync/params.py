"""Run parameters shown in the Airflow UI trigger form (JSON-schema validated before a run is created)."""

from __future__ import annotations

from typing import Any

from zoho_cscart_sync.directions import CONFIGURED, DIRECTIONS

DIRECTION_CHOICES: tuple[str, ...] = (CONFIGURED, *DIRECTIONS)
"""Every value the ``direction`` parameter can take; a DAG offers the subset its tenant enables."""


def run_params(directions: tuple[str, ...]) -> dict[str, Any]:
    """The Params of one tenant x entity DAG. Scheduled runs and backfills use the defaults."""
    from airflow.sdk import Param

    direction_choices = [CONFIGURED, *directions] if len(directions) > 1 else [CONFIGURED]
    return {
        "since": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Since",
            description=(
                "Manual runs only: read records modified at or after this time (ISO-8601, e.g. "
                "2026-11-01T00:00:00Z). Empty: continue from the last successful sync (the watermark)."
            ),
        ),
        "until": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Until",
            description="Manual runs only: read records modified before this time. Empty: the trigger time.",
        ),
        "full_refresh": Param(
            False,
            type="boolean",
            title="Full refresh",
            description="Read every record regardless of modification time. Nothing is duplicated: "
            "unchanged records are recognised and skipped.",
        ),
        "direction": Param(
            CONFIGURED,
            type="string",
            enum=direction_choices,
            title="Direction",
            description=f"Run only one direction of a two-way tenant. '{CONFIGURED}' runs what the tenant file says.",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Compute the report, including the payloads that would be sent, without writing "
            "anything to Zoho, CS-Cart or the sync state.",
        ),
        "record_ids": Param(
            None,
            type=["null", "array"],
            items={"type": "string", "minLength": 1},
            title="Record ids",
            description="Sync just these records (source-system ids, one per line), like the per-row "
            "Sync/Import buttons of the store add-ons. The time window is ignored.",
        ),
    }
