"""The run report's ``counts:`` line: the six tiles, what is unknown, and which full read the Zoho total rests on."""

from __future__ import annotations

import re

from tests.sync.test_report_legend import legend_terms
from zoho_cscart_sync.sync.report import COUNT_TILES, format_run_report

RUN = "manual__2026-03-01T12:00:00+00:00"


def _summary(**counts: object) -> dict[str, object]:
    values = dict.fromkeys(COUNT_TILES, 1)
    values.update(zoho_counted_run_id=RUN, zoho_counted_at="2026-03-01T12:00:00+00:00", api_calls={})
    values.update(counts)
    return {"tenant": "acme_store", "entity": "products", "run_id": RUN, "directions": {}, "counts": values}


def _counts_text(summary: dict[str, object]) -> str:
    """The counts line of the report (wrapped at the report's width), joined back into one line."""
    lines = format_run_report(summary).splitlines()
    assert lines[1] == "no direction ran" and lines[2].startswith("counts: ")
    return " ".join(line.strip() for line in lines[2:])


def test_the_counts_line_prints_the_six_tiles_in_the_seeds_order() -> None:
    summary = _summary(
        cscart_total=272028, synced=55, not_synced=271973, zoho_total=145, not_in_cscart=43, already_imported=102
    )
    text = _counts_text(summary)
    assert text == (
        "counts: cscart_total 272,028, synced 55, not_synced 271,973, zoho_total 145 (counted in this run), "
        "not_in_cscart 43, already_imported 102"
    )


def test_unknown_numbers_a_carried_zoho_total_and_the_count_call_are_said() -> None:
    carried = _summary(
        cscart_total=None,
        zoho_counted_run_id="scheduled__first",
        api_calls={"cscart GET /api/products": 1},
    )
    text = _counts_text(carried)
    assert "cscart_total unknown" in text
    assert (
        "zoho_total 1 (as of run scheduled__first, 2026-03-01T12:00:00+00:00, plus this sync's creates since)" in text
    )
    assert text.endswith("; API calls 1: cscart GET /api/products 1")
    never = _counts_text(_summary(zoho_total=None, zoho_counted_run_id=None))
    assert "zoho_total unknown (Zoho not read in full yet: run once with full_refresh)" in never


def test_every_term_of_the_counts_line_is_in_the_legend() -> None:
    legend = legend_terms()
    line = _counts_text(_summary())
    printed = set(re.findall(r"[a-z][a-z_]+(?= \d)", line)) | {line.split(":")[0]}
    assert printed == {*COUNT_TILES, "counts"}
    assert printed <= legend, sorted(printed - legend)
