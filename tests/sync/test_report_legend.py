"""Every term the run report can print is explained in the README's "Run report" legend.

The counters are collected from the code itself (the report's dataclass, and the counters, flags and report
prefixes the kit and the entity pipelines declare), so a new counter without a legend entry fails here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from zoho_cscart_sync.sync.report import COUNTER_NAMES, EXTRA_COUNTERS, DirectionCounts, format_run_report

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "plugins" / "zoho_cscart_sync"

# Where counters, flags and report prefixes come from, besides DirectionCounts (kept as patterns over the source so
# that a counter added anywhere in the package is found without importing every pipeline):
_QUIRK_COUNTER = re.compile(r"\bcounters\[\s*[\"'](\w+)[\"']\s*\]")  # EntityQuirks.counters["..."] += 1
_EXTRA_COUNTER = re.compile(r"\bextra\[\s*[\"'](\w+)[\"']\s*\]")  # loadstage's extra["conflicts"] += 1
# extra: dict[str, int] = {"conflicts": 0, ...}
_EXTRA_LITERAL = re.compile(r"\bextra:\s*dict\[str,\s*int\]\s*=\s*\{([^}]*)\}")
_FLAG_CONSTANT = re.compile(r"\b\w+_FLAG\s*=\s*[\"'](\w+)[\"']")  # NO_EMAIL_FLAG = "no_email"
_FLAGS_LITERAL = re.compile(r"\bflags\s*=\s*\(([^)]*)\)")  # StreamSpec(flags=("crm_account",))
_REPORT_PREFIX = re.compile(r"\breport_prefix\s*=\s*[\"'](\w+)[\"']")  # TargetSpec(report_prefix="books")
_QUOTED = re.compile(r"[\"'](\w+)[\"']")


def legend_terms() -> set[str]:
    """Backticked terms in the first column of the legend table under README's "### Run report"."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n### Run report\n")
    end = min(
        (i for i in (readme.find("\n## ", start + 1), readme.find("\n### ", start + 1)) if i != -1),
        default=len(readme),
    )
    terms: set[str] = set()
    for line in readme[start:end].splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            terms.update(re.findall(r"`([^`]+)`", first_cell))
    return terms


def code_terms() -> tuple[set[str], set[str]]:
    """(counter and flag names, report prefixes) that the code can put into a report."""
    names = {f.name for f in dataclasses.fields(DirectionCounts)} | set(COUNTER_NAMES) | set(EXTRA_COUNTERS)
    prefixes: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        names.update(_QUIRK_COUNTER.findall(source))
        names.update(_EXTRA_COUNTER.findall(source))
        names.update(_FLAG_CONSTANT.findall(source))
        for literal in _EXTRA_LITERAL.findall(source) + _FLAGS_LITERAL.findall(source):
            names.update(_QUOTED.findall(literal))
        prefixes.update(_REPORT_PREFIX.findall(source))
    return names, prefixes


def test_the_code_scan_finds_the_known_counters_flags_and_prefixes() -> None:
    # Guards the patterns above: if the code moved these elsewhere, the scan would silently find nothing.
    names, prefixes = code_terms()
    assert {"conflicts", "deactivated", "account_changes_not_sent"} <= names
    assert {"no_email", "crm_account", "crm_lead"} <= names
    assert {"linked_existing", "new_failures", "waiting", "quarantined"} <= names
    assert "books" in prefixes


def test_every_counter_flag_and_prefix_has_a_legend_entry() -> None:
    legend = legend_terms()
    names, prefixes = code_terms()
    missing = sorted(name for name in names if name not in legend)
    missing += sorted(f"{prefix}_<counter>" for prefix in prefixes if f"{prefix}_<counter>" not in legend)
    assert missing == [], f"add these to the README's Run report legend: {missing}"


def test_every_word_the_report_block_prints_for_counters_is_in_the_legend() -> None:
    legend = legend_terms()
    names, prefixes = code_terms()
    counters = {name: 1 for name in (*COUNTER_NAMES, *EXTRA_COUNTERS, "conflicts", "deactivated")}
    prefixed = {f"{prefix}_{name}": 1 for prefix in prefixes for name in (*COUNTER_NAMES, *EXTRA_COUNTERS)}
    summary = {
        "tenant": "t",
        "entity": "customers",
        "run_id": "r",
        "directions": {"zoho_to_cscart": {"status": "ok", **counters, **prefixed, "api_calls": {"zoho GET /x": 1}}},
    }
    block = format_run_report(summary).splitlines()[2:]
    printed = {
        word
        for line in block
        if not line.lstrip().startswith("API calls")
        for word in re.findall(r"[a-z][a-z_]+(?= \d)", line)
    }
    assert printed, block
    unexplained = sorted(
        word
        for word in printed
        if word not in legend and not any(word == f"{p}_{c}" for p in prefixes for c in names if c in legend)
    )
    assert unexplained == []
