"""A small inline SVG chart of the run history (no JavaScript, no build step)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from zoho_cscart_sync.state.console_reads import RunTotals

SERIES = (("created", "#2e7d32"), ("updated", "#1565c0"), ("failed", "#c62828"), ("api_calls", "#6d6d6d"))
"""The plotted numbers of a run and their colours (API calls dashed: another scale of work)."""


def run_chart(runs: Sequence[RunTotals], *, width: int = 640, height: int = 160) -> str:
    """Polylines of created / updated / failed / API calls per run, oldest run on the left; '' without runs."""
    if not runs:
        return ""
    ordered = list(reversed(runs))  # runs come newest first
    pad = 24
    top = max(1, *(max(getattr(run, name) for run in ordered) for name, _ in SERIES))
    step = (width - 2 * pad) / max(1, len(ordered) - 1)

    def point(index: int, value: int) -> str:
        x = pad + index * step
        y = height - pad - (height - 2 * pad) * value / top
        return f"{x:.1f},{y:.1f}"

    parts = [
        f'<svg class="chart" role="img" aria-label="runs: created, updated, failed, API calls" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#bbb"/>',
        f'<text x="2" y="{pad - 8}" font-size="10" fill="#555">{top:,}</text>',
        f'<text x="2" y="{height - pad + 4}" font-size="10" fill="#555">0</text>',
    ]
    for name, colour in SERIES:
        points = " ".join(point(i, getattr(run, name)) for i, run in enumerate(ordered))
        dash = ' stroke-dasharray="4 3"' if name == "api_calls" else ""
        parts.append(
            f'<polyline data-series="{name}" fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}"/>'
        )
    for i, (name, colour) in enumerate(SERIES):
        x = pad + i * 110
        parts.append(f'<rect x="{x}" y="{height - 12}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 3}" font-size="11">{escape(name.replace("_", " "))}</text>')
    parts.append("</svg>")
    return "".join(parts)
