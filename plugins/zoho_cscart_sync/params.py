"""Run parameters shown in the Airflow UI trigger form (JSON-schema validated before a run is created)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zoho_cscart_sync.directions import CONFIGURED, DIRECTIONS

DIRECTION_CHOICES: tuple[str, ...] = (CONFIGURED, *DIRECTIONS)
"""Every value the ``direction`` parameter can take; a DAG offers the subset its tenant enables."""


@dataclass(frozen=True)
class RunOption:
    """A trigger parameter only some entities offer (declared by ``PipelineSpec.options``): a switch, or a list of
    values (``values=True``; empty means "not used")."""

    name: str
    title: str
    description: str
    narrows_run: bool
    """The run moves only part of each record, or only some records: it never advances the watermark, so the next
    full run still reads (and syncs everything of) the records of its window."""
    values: bool = False

    def param(self) -> Any:
        from airflow.sdk import Param

        if self.values:
            return Param(
                None,
                type=["null", "array"],
                items={"type": "string", "minLength": 1},
                title=self.title,
                description=self.description,
            )
        return Param(False, type="boolean", title=self.title, description=self.description)

    def value_of(self, raw: Any) -> Any:
        """The run's value: a bool, or a list of strings (empty when not given)."""
        if self.values:
            return [str(value) for value in raw or []]
        return bool(raw)


RUN_OPTIONS: dict[str, RunOption] = {
    option.name: option
    for option in (
        RunOption(
            "stock_only",
            "Stock only",
            "Move only stock levels (like the add-ons' \"Sync stock\"): from the tenant's stock master to the other "
            "side, for the records of the window (or record_ids, or all on full refresh); nothing else of a product "
            "is created or changed, and the watermark stays where it is.",
            narrows_run=True,
        ),
        RunOption(
            "order_statuses",
            "Order statuses",
            "Only orders in these statuses (like the add-ons' import by status): CS-Cart letters (O, P, C, ...) for "
            "CS-Cart -> Zoho, Zoho statuses (confirmed, void, ...) for Zoho -> CS-Cart. Other orders of the window "
            "are skipped and the watermark stays where it is. Empty: every status.",
            narrows_run=True,
            values=True,
        ),
    )
}
"""The closed registry of entity-specific run options."""


def narrows_run(options: Mapping[str, Any]) -> bool:
    """True when an option that moves only part of each record is on (see :attr:`RunOption.narrows_run`)."""
    return any(RUN_OPTIONS[name].narrows_run and bool(value) for name, value in options.items() if name in RUN_OPTIONS)


def option_values(options: tuple[str, ...], params: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``options`` in a run's params (JSON-serialisable, for the plan)."""
    return {name: RUN_OPTIONS[name].value_of(params.get(name)) for name in options}


def run_params(directions: tuple[str, ...], options: tuple[str, ...] = ()) -> dict[str, Any]:
    """The Params of one tenant x entity DAG. Scheduled runs and backfills use the defaults; ``options`` are
    the entity's extra switches from :data:`RUN_OPTIONS`."""
    from airflow.sdk import Param

    unknown = [name for name in options if name not in RUN_OPTIONS]
    if unknown:
        raise ValueError(f"unknown run option(s) {unknown}; known: {sorted(RUN_OPTIONS)}")
    extra = {name: RUN_OPTIONS[name].param() for name in options}

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
        **extra,
    }
