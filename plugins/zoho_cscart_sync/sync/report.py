"""The run report: what every sync run did, per entity and direction, as a log table and an XCom summary.

Several tasks each build a partial report (extract counts, load outcomes, API calls); the report task merges
them with :meth:`RunReport.merge` or :func:`merge_summaries`. Counters are plain sums, so merging is
associative and order-independent.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.http.redaction import redact, sanitize_url, truncate
from zoho_cscart_sync.sync.staging import StagedRef

COUNTER_NAMES: tuple[str, ...] = (
    "extracted",
    "created",
    "updated",
    "unchanged",
    "failed",
    "quarantined",
    "skipped",
    "flagged",
)
"""Row counters, in table order.

``failed``: records that failed in this run (every one of them is quarantined, none is dropped).
``quarantined``: quarantine entries still unresolved for the entity and direction after the run, including
older ones (a snapshot: merging keeps the largest, several loads of one row keep the last).
``flagged``: records written with a flag such as ``no_email`` (see ``flags``).
"""


EXTRA_COUNTERS: tuple[str, ...] = ("linked_existing", "new_failures", "waiting", "deferred")


@dataclass
class DirectionCounts:
    """Counters of one entity x direction."""

    extracted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    quarantined: int = 0
    skipped: int = 0
    flagged: int = 0
    linked_existing: int = 0  # of `updated`: records matched in the target by natural key, not created
    new_failures: int = 0  # of `failed`: records quarantined for the first time (not retries of old entries)
    waiting: int = 0  # records kept back: a prerequisite is missing, or refused content not changed since
    deferred: int = 0  # records left for the next runs: this run's call budget for the target was spent
    flags: Counter[str] = field(default_factory=Counter)
    duration_s: float = 0.0

    def add(self, other: DirectionCounts) -> None:
        for counter in (*COUNTER_NAMES, *EXTRA_COUNTERS):
            if counter != "quarantined":
                setattr(self, counter, getattr(self, counter) + getattr(other, counter))
        # The quarantine backlog is a snapshot, not a tally: partial reports of one row must not add it up.
        self.quarantined = max(self.quarantined, other.quarantined)
        self.flags.update(other.flags)
        self.duration_s += other.duration_s

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in (*COUNTER_NAMES, *EXTRA_COUNTERS)}
        data["flags"] = dict(sorted(self.flags.items()))
        data["duration_s"] = round(self.duration_s, 3)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DirectionCounts:
        counts = cls()
        for name in (*COUNTER_NAMES, *EXTRA_COUNTERS):
            setattr(counts, name, int(data.get(name) or 0))
        counts.flags = Counter({str(k): int(v) for k, v in (data.get("flags") or {}).items()})
        counts.duration_s = float(data.get("duration_s") or 0.0)
        return counts


@dataclass
class RunReport:
    """Accumulates counters per (entity, direction), API calls per endpoint, and dry-run payload refs."""

    tenant: str
    run_id: str
    dry_run: bool = False
    rows: dict[tuple[str, str], DirectionCounts] = field(default_factory=dict)
    api_calls: Counter[str] = field(default_factory=Counter)
    would_send: list[StagedRef] = field(default_factory=list)  # dry run: staged payloads, never inline

    def counts(self, entity: str, direction: str) -> DirectionCounts:
        """The (created on first use) counters of one entity x direction."""
        return self.rows.setdefault((entity, direction), DirectionCounts())

    def add_api_call(self, endpoint: str, calls: int = 1) -> None:
        """Count calls to one endpoint label, e.g. ``cscart POST /api/users``."""
        self.api_calls[endpoint] += calls

    def add_api_calls(self, calls: Mapping[str, int]) -> None:
        """Fold in counters kept elsewhere (e.g. a hook's per-endpoint call counts)."""
        for endpoint, count in calls.items():
            self.api_calls[endpoint] += int(count)

    def add_would_send(self, ref: StagedRef) -> None:
        self.would_send.append(ref)

    def merge(self, other: RunReport) -> RunReport:
        """Add another partial report of the same tenant and run into this one; returns self."""
        if (other.tenant, other.run_id) != (self.tenant, self.run_id):
            raise ValueError(
                f"cannot merge the report of tenant {other.tenant!r} run {other.run_id!r} into "
                f"tenant {self.tenant!r} run {self.run_id!r}"
            )
        self.dry_run = self.dry_run or other.dry_run
        for key, counts in other.rows.items():
            self.counts(*key).add(counts)
        self.api_calls.update(other.api_calls)
        self.would_send.extend(other.would_send)
        return self

    def summary(self) -> dict[str, Any]:
        """Small JSON-serialisable summary for XCom (counters and references, never records)."""
        return {
            "tenant": self.tenant,
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "rows": [
                {"entity": entity, "direction": direction, **counts.as_dict()}
                for (entity, direction), counts in sorted(self.rows.items())
            ],
            "totals": self.totals().as_dict(),
            "api_calls": dict(sorted(self.api_calls.items())),
            "api_calls_total": sum(self.api_calls.values()),
            "would_send": [dict(ref) for ref in self.would_send],
        }

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> RunReport:
        """Rebuild a report from :meth:`summary` output (e.g. pulled from XCom) so it can be merged."""
        report = cls(tenant=summary["tenant"], run_id=summary["run_id"], dry_run=bool(summary.get("dry_run")))
        for row in summary.get("rows", []):
            report.counts(row["entity"], row["direction"]).add(DirectionCounts.from_dict(row))
        report.add_api_calls(summary.get("api_calls") or {})
        for ref in summary.get("would_send") or []:
            report.would_send.append(
                StagedRef(
                    uri=ref["uri"],
                    stage=ref["stage"],
                    files=list(ref["files"]),
                    records=int(ref["records"]),
                    bytes=int(ref["bytes"]),
                )
            )
        return report

    def totals(self) -> DirectionCounts:
        total = DirectionCounts()
        for counts in self.rows.values():
            total.add(counts)
        # Backlogs of different rows are different entries, so across rows they do add up.
        total.quarantined = sum(counts.quarantined for counts in self.rows.values())
        return total

    def as_table(self) -> str:
        """A fixed-width table for the task log."""
        mode = "  (DRY RUN: nothing was written)" if self.dry_run else ""
        lines = [f"Sync report: tenant {self.tenant}, run {self.run_id}{mode}"]
        headers = ("entity", "direction", *COUNTER_NAMES, "duration")
        body = [
            (entity, direction, *(str(getattr(c, n)) for n in COUNTER_NAMES), f"{c.duration_s:.1f}s")
            for (entity, direction), c in sorted(self.rows.items())
        ]
        if len(body) > 1:
            total = self.totals()
            body.append(("total", "", *(str(getattr(total, n)) for n in COUNTER_NAMES), f"{total.duration_s:.1f}s"))
        lines.extend(_render_table(headers, body, left_aligned=2))
        flagged = self.totals().flags
        if flagged:
            lines.append("Flags: " + ", ".join(f"{flag}={count}" for flag, count in sorted(flagged.items())))
        if self.api_calls:
            lines.append("")
            lines.extend(
                _render_table(
                    ("API endpoint", "calls"),
                    [(endpoint, str(count)) for endpoint, count in sorted(self.api_calls.items())]
                    + [("total", str(sum(self.api_calls.values())))],
                    left_aligned=1,
                )
            )
        for ref in self.would_send:
            lines.append(f"Would send {ref['records']} payload(s): {ref['uri']} ({len(ref['files'])} file(s))")
        return "\n".join(lines)


def merge_summaries(summaries: Iterable[Mapping[str, Any]]) -> RunReport:
    """Merge XCom summaries of partial reports (all of one tenant and run) into one report."""
    merged: RunReport | None = None
    for summary in summaries:
        partial = RunReport.from_summary(summary)
        merged = partial if merged is None else merged.merge(partial)
    if merged is None:
        raise ValueError("no partial reports to merge")
    return merged


def _render_table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]], *, left_aligned: int) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]

    def render(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) if index < left_aligned else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [render(headers), rule, *(render(row) for row in rows)]


# -- the report task's run report ------------------------------------------------------------------------
# The report task logs one short block per direction instead of a table: a table needs a column for every
# counter any direction has (18 and more with a second target), and most cells are empty or zero.
REPORT_WIDTH = 118
FAILURE_REASON_CHARS = 300
"""A failure reason is cut here in the log, the XCom summary and the failure message (the quarantine has it whole)."""
KNOWN_COUNTERS: tuple[str, ...] = (*COUNTER_NAMES, *EXTRA_COUNTERS)
_URL = re.compile(r"https?://\S+")


def safe_reason(reason: str) -> str:
    """A failure reason fit for a log line, an XCom value or an exception: URLs without credentials, no
    token-shaped strings, at most :data:`FAILURE_REASON_CHARS` characters."""
    cleaned = redact(_URL.sub(lambda match: sanitize_url(match.group(0)), str(reason)))
    return truncate(cleaned, FAILURE_REASON_CHARS)


def failure_sample(sample: Mapping[str, Any]) -> dict[str, str | None]:
    """One of the runner's failure samples, reduced to what the report shows (reason made safe)."""
    field_name = sample.get("field")
    return {
        "entity": str(sample.get("entity") or ""),
        "source_id": str(sample.get("source_id") or ""),
        "field": str(field_name) if field_name else None,
        "reason": safe_reason(str(sample.get("reason") or "")),
    }


def _sample_line(sample: Mapping[str, Any]) -> str:
    where = f"{sample.get('entity')} {sample.get('source_id')}"
    if sample.get("field"):
        where += f", field {sample['field']}"
    return f"{where}: {sample.get('reason')}"


def _counter_groups(data: Mapping[str, Any]) -> list[list[tuple[str, int]]]:
    """Non-zero integer counters of one direction, as lines: the direction's own, then one per report prefix.

    A second target's counters arrive as ``<prefix>_<counter>`` (``books_created``) and get a line of their own.
    Counters that are not row counters (``conflicts``, entity quirks) follow the direction's own.
    """
    groups: dict[str, list[tuple[int, str, int]]] = {}
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int) or value == 0:
            continue
        prefix, base = "", name
        for counter in KNOWN_COUNTERS:
            if name.endswith(f"_{counter}"):
                prefix, base = name[: -len(counter) - 1], counter
                break
        rank = KNOWN_COUNTERS.index(base) if base in KNOWN_COUNTERS else len(KNOWN_COUNTERS)
        groups.setdefault(prefix, []).append((rank, name, value))
    return [[(name, value) for _, name, value in sorted(groups[prefix])] for prefix in sorted(groups)]


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, REPORT_WIDTH, initial_indent=indent, subsequent_indent=indent + "  ") or [indent]


def _item_lines(items: Sequence[str], indent: str, head: str = "") -> list[str]:
    """``head`` then ``items`` joined by commas, wrapped between items only (an endpoint or a counter and its
    number never split across lines)."""
    lines: list[str] = []
    line = indent + head
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else "")
        if line.strip() and len(line) + 1 + len(piece) > REPORT_WIDTH:
            lines.append(line)
            line = indent + "  " + piece
        else:
            line = f"{line} {piece}" if line.strip() else indent + piece
    lines.append(line)
    return lines


def _direction_title(direction: str) -> str:
    try:
        return f"{Direction.parse(direction).label} ({direction})"
    except ValueError:
        return direction


def format_run_report(summary: Mapping[str, Any]) -> str:
    """The report task's log: a title line, then one short block per direction.

    Each block: the direction and its status, its non-zero counters (a second target's on their own line), the
    flags, the API calls per endpoint (most first) and the first reasons of records that failed for the first
    time. Every term is explained in the README's "Run report" legend.
    """
    mode = "  (DRY RUN: nothing was written)" if summary.get("dry_run") else ""
    lines = [f"Sync report: tenant {summary.get('tenant')}, {summary.get('entity')}, run {summary.get('run_id')}{mode}"]
    for direction, data in (summary.get("directions") or {}).items():
        status = str(data.get("status", "?"))
        if status != "ok":
            lines.append(f"{_direction_title(direction)}: {status.upper()} (did not complete; watermark not advanced)")
            continue
        lines.append(f"{_direction_title(direction)}: {status}")
        groups = _counter_groups(data)
        for items in groups:
            lines.extend(_item_lines([f"{name} {value}" for name, value in items], "  "))
        if not groups:
            lines.append("  nothing read, nothing written")
        flags = {str(k): int(v) for k, v in (data.get("flags") or {}).items() if int(v)}
        if flags:
            lines.extend(_item_lines([f"{k} {v}" for k, v in sorted(flags.items())], "  ", "flags:"))
        calls = {str(k): int(v) for k, v in (data.get("api_calls") or {}).items() if int(v)}
        if calls:
            by_count = sorted(calls.items(), key=lambda item: (-item[1], item[0]))
            head = f"API calls {sum(calls.values())}:"
            lines.extend(_item_lines([f"{k} {v}" for k, v in by_count], "  ", head))
        backlog = data.get("backlog")
        if backlog:
            lines.append(f"  {backlog_line(backlog)}")
        samples = data.get("first_failures") or []
        if samples:
            lines.append("  first failures:")
            lines.extend(line for sample in samples for line in _wrapped(_sample_line(sample), "    "))
    if not summary.get("directions"):
        lines.append("no direction ran")
    counts = summary.get("counts")
    if counts:
        lines.extend(_wrapped(counts_line(counts, str(summary.get("run_id"))), ""))
    return "\n".join(lines)


COUNT_TILES: tuple[str, ...] = (
    "cscart_total",
    "synced",
    "not_synced",
    "zoho_total",
    "not_in_cscart",
    "already_imported",
)
"""The dashboard counts in the seeds' order (``kit/counts.py`` computes them; the README defines them)."""


def counts_line(counts: Mapping[str, Any], run_id: str) -> str:
    """``counts: cscart_total 120, synced 100, not_synced 20, zoho_total 145 (counted in this run), ...``.

    A number the run could not know reads ``unknown``; the Zoho total says which full read it rests on.
    """
    parts: list[str] = []
    for name in COUNT_TILES:
        value = counts.get(name)
        text = f"{name} {int(value):,}" if value is not None else f"{name} unknown"
        if name == "zoho_total":
            counted_run = counts.get("zoho_counted_run_id")
            if value is None:
                text += " (Zoho not read in full yet: run once with full_refresh)"
            elif counted_run == run_id:
                text += " (counted in this run)"
            else:
                text += f" (as of run {counted_run}, {counts.get('zoho_counted_at')}, plus this sync's creates since)"
        parts.append(text)
    line = "counts: " + ", ".join(parts)
    calls = {str(k): int(v) for k, v in (counts.get("api_calls") or {}).items() if int(v)}
    if calls:
        line += f"; API calls {sum(calls.values())}: " + ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
    return line


def backlog_line(backlog: Mapping[str, Any]) -> str:
    """``backlog: 14,500 / 272,028 done, 257,528 deferred to the next runs (5,000 a run), ETA 52 h (52 runs)``."""
    line = (
        f"backlog: {int(backlog['done']):,} / {int(backlog['total']):,} done, {int(backlog['deferred']):,} deferred "
        f"to the next runs ({int(backlog.get('per_run') or 0):,} a run)"
    )
    if backlog.get("eta_runs"):
        line += f", ETA {backlog['eta_hours']:g} h ({int(backlog['eta_runs'])} runs)"
    return line


def new_failures_message(
    tenant: str, entity: str, failures: Sequence[tuple[str, int, Sequence[Mapping[str, Any]]]]
) -> str:
    """Why the report task fails a run whose directions completed: per direction (name, count of records that
    failed for the first time, the first samples). Safe to show: reasons go through :func:`safe_reason`."""
    total = sum(count for _, count, _ in failures)
    lines = [
        f"tenant {tenant}, {entity}: {total} record(s) failed for the first time in this run "
        "(tenant setting fail_run_on: new_failures). The watermark advanced and the run statistics were saved; "
        "the records wait in quarantine (refused content until the source record changes, transient failures "
        "are retried next run). Set fail_run_on: never to keep such runs green."
    ]
    for direction, count, samples in failures:
        lines.append(f"  {_direction_title(direction)}: {count} new failure(s), first reasons:")
        for sample in samples:
            lines.extend(_wrapped(_sample_line(failure_sample(sample)), "    "))
    return "\n".join(lines)
