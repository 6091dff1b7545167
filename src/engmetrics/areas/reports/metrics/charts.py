"""The dashboard's DORA charts as inline SVG, for the HTML report (the MCP App draws the same ones in the browser,
`engmetrics.server.dashboard`): five tiles with the DORA tier band and the weekly trend, and the deployments
timeline with failed ones marked and why. Pure: numbers in, markup out; units as in get_dora (deploys per week,
hours, percent); times in Unix seconds (UTC). Nothing is fetched: the markup is complete in itself.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from engmetrics.areas.dora.models import DoraReport

TIERS = ("elite", "high", "medium", "low")
TIER_COLOURS = {"elite": "#1a7f37", "high": "#4c9a2a", "medium": "#d29922", "low": "#cf222e"}
ACCENT, OK, BAD, MUTED = "#0969da", "#2da44e", "#cf222e", "#5b6470"
NAMES = {
    "deployment_frequency": "Deployment frequency", "lead_time": "Lead time for changes",
    "change_failure_rate": "Change failure rate", "mttr": "Failed deployment recovery", "rework_rate": "Rework rate",
}
HIGHER_IS_BETTER = frozenset({"deployment_frequency"})
LOG_SCALE = frozenset({"deployment_frequency", "lead_time", "mttr"})
CHARTS_START, CHARTS_END = "<!-- engmetrics charts -->", "<!-- /engmetrics charts -->"
"""Markers around the charts in an HTML report (a polished report keeps them)."""


@dataclass(frozen=True)
class TimelineDeployment:
    """One production deployment on the timeline: when (Unix seconds), its tag, and why it failed (None: it did
    not)."""

    at: int
    tag: str
    why: str | None = None


def fmt(value: float | None, unit: str) -> str:
    """A figure for people: hours as h (days past 48 h), percent, deploys a week."""
    if value is None:
        return "—"
    if unit == "hours":
        return f"{value / 24:.1f} d" if value >= 48 else f"{value:.1f} h"
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "deploys_per_week":
        return f"{value:.2f} /wk"
    return f"{value:g}"


def _scale(lo: float, hi: float, a: float, b: float, log: bool) -> Callable[[float], float]:
    def f(v: float) -> float:
        return math.log10(max(v, lo)) if log else v

    low, high = f(lo), f(hi)
    if high == low:
        high = low + 1

    def x(v: float) -> float:
        return a + (min(max(f(v), low), high) - low) / (high - low) * (b - a)

    return x


def domain(metric: str, tiers: Mapping[str, float | None], values: Sequence[float | None]) -> tuple[float, float]:
    """The value axis of a metric's chart: its tiers' thresholds and the values, with room around them."""
    known = [v for v in values if v is not None]
    bounds = [v for v in tiers.values() if v is not None and v > 0]
    top = max([*known, *bounds, 1.0])
    if metric in LOG_SCALE:
        low = min([*bounds, *(v for v in known if v > 0), top]) / 4
        return max(low, 0.01), top * 3
    return 0.0, top * 1.25


def segments(metric: str, tiers: Mapping[str, float | None], lo: float, hi: float) -> list[tuple[str, float, float]]:
    """The tiers along ``[lo, hi]``, best first: (tier, from, to) with from < to; a tier never given (its
    threshold no better than the previous one's) has no segment."""
    higher = metric in HIGHER_IS_BETTER
    out: list[tuple[str, float, float]] = []
    edge = hi if higher else lo
    for tier in TIERS:
        t = tiers.get(tier)
        limit = (lo if higher else hi) if t is None else min(max(t, lo), hi)
        if (limit < edge) if higher else (limit > edge):
            out.append((tier, limit, edge) if higher else (tier, edge, limit))
            edge = limit
    return out


def tier_band_svg(metric: str, value: float | None, tiers: Mapping[str, float | None], width: int = 200) -> str:
    """The tier band (elite on the left) with a marker at ``value``."""
    lo, hi = domain(metric, tiers, [value])
    higher = metric in HIGHER_IS_BETTER
    x = _scale(lo, hi, width if higher else 0, 0 if higher else width, metric in LOG_SCALE)
    parts = [f'<svg class="tier-band" data-metric="{metric}" width="{width}" height="26" xmlns="http://www.w3.org/2000/svg">']
    for tier, a, b in segments(metric, tiers, lo, hi):
        xa, xb = x(a), x(b)
        parts.append(f'<rect class="band tier-{tier}" x="{min(xa, xb):.1f}" y="4" width="{abs(xb - xa):.1f}" height="8" '
                     f'fill="{TIER_COLOURS[tier]}" opacity="0.8"><title>{tier}</title></rect>')
    if value is not None:
        vx = x(value)
        parts.append(f'<line class="marker" x1="{vx:.1f}" x2="{vx:.1f}" y1="0" y2="16" stroke="#1b1f24" stroke-width="2"/>')
    parts.append(f'<text x="0" y="24" font-size="10" fill="{MUTED}">elite</text>'
                 f'<text x="{width}" y="24" font-size="10" fill="{MUTED}" text-anchor="end">low</text></svg>')
    return "".join(parts)


def sparkline_svg(values: Sequence[float | None], labels: Sequence[str], width: int = 200, height: int = 40) -> str:
    """A small line of weekly values (gaps where a week has none), a point per week."""
    known = [v for v in values if v is not None]
    head = f'<svg class="spark" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    if not known:
        return head + f'<text x="0" y="{height / 2}" font-size="10" fill="{MUTED}">no weekly data</text></svg>'
    y = _scale(min(0.0, *known), max(*known, 1e-9), height - 3, 3, False)

    def x(i: int) -> float:
        return width / 2 if len(values) == 1 else i / (len(values) - 1) * width

    path, pen_down = [], False
    for i, v in enumerate(values):
        if v is None:
            pen_down = False
            continue
        path.append(f"{'L' if pen_down else 'M'}{x(i):.1f},{y(v):.1f}")
        pen_down = True
    parts = [head, f'<path class="line" d="{" ".join(path)}" fill="none" stroke="{ACCENT}" stroke-width="1.6"/>']
    for i, (v, label) in enumerate(zip(values, labels, strict=True)):
        if v is not None:
            parts.append(f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2" fill="{ACCENT}">'
                         f"<title>{html.escape(label)}: {v:g}</title></circle>")
    return "".join(parts) + "</svg>"


LABEL_CHAR_PX = 5.6
"""Width of one character of a 10 px label, in px (an estimate: the chart is laid out without a browser)."""
LABEL_GAP_PX = 8


def label_rows(centres: Sequence[float], texts: Sequence[str], width: int) -> list[tuple[float, int]]:
    """Where each label goes: its centre x (kept inside ``[0, width]``) and its row (0 the top one), each label in
    the first row where it overlaps no label already placed, in order; new rows as needed."""
    ends: list[float] = []  # per row, the right edge of its last label
    placed = []
    for cx, text in zip(centres, texts, strict=True):
        half = min(len(text) * LABEL_CHAR_PX / 2, width / 2)
        x = min(max(cx, half), width - half)
        row = next((r for r, end in enumerate(ends) if end + LABEL_GAP_PX <= x - half), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = x + half
        placed.append((x, row))
    return placed


def timeline_svg(start: int, end: int, deployments: Sequence[TimelineDeployment], width: int = 640) -> str:
    """The deployments of ``[start, end)`` along a time axis, months marked; failed ones larger, red, and
    labelled with why (labels in as many rows as keep them apart)."""
    top = 18
    x = _scale(start, end, 0, width, False)
    failed = sorted((d for d in deployments if d.why is not None), key=lambda d: d.at)
    whys = [f"{d.tag}: {d.why}" for d in failed]
    places = label_rows([x(d.at) for d in failed], whys, width)
    rows = max((row + 1 for _, row in places), default=1)
    parts = [f'<svg class="timeline" width="{width}" height="{top + 24 + rows * 13}" xmlns="http://www.w3.org/2000/svg">',
             f'<line class="axis" x1="0" x2="{width}" y1="{top}" y2="{top}" stroke="#d7dbe0"/>']
    month = datetime.fromtimestamp(start, UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month.timestamp() < end:
        if month.timestamp() >= start:
            parts.append(f'<text class="tick" x="{x(month.timestamp()):.1f}" y="{top - 8}" font-size="10" fill="{MUTED}" '
                         f'text-anchor="middle">{month:%Y-%m}</text>')
        month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    for d in deployments:
        if d.why is None:
            parts.append(f'<circle class="deploy" cx="{x(d.at):.1f}" cy="{top}" r="4" fill="{OK}">'
                         f"<title>{html.escape(d.tag)}</title></circle>")
    for d, text, (lx, row) in zip(failed, whys, places, strict=True):
        cx = x(d.at)
        why = html.escape(text)
        y = top + 22 + row * 13
        parts.append(f'<circle class="deploy failed" cx="{cx:.1f}" cy="{top}" r="7" fill="{BAD}"><title>{why}</title></circle>'
                     f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{top + 7}" y2="{y - 9}" stroke="#d7dbe0"/>'
                     f'<text class="label why" x="{lx:.1f}" y="{y}" font-size="10" '
                     f'fill="#1b1f24" text-anchor="middle">{why}</text>')
    return "".join(parts) + "</svg>"


def dora_charts_html(dora: DoraReport, weeks: Sequence[str], weekly: Mapping[str, Sequence[float | None]],
                     tiers: Mapping[str, Mapping[str, float | None]], deployments: Sequence[TimelineDeployment],
                     start: int, end: int) -> str:
    """The report's charts: a tile per DORA figure (value, rating, trend, tier band, weekly trend) and the
    deployments timeline, between `CHARTS_START` and `CHARTS_END`."""
    tiles = []
    for metric, name in NAMES.items():
        figure = getattr(dora, metric)
        rating = figure.rating or "no rating"
        colour = TIER_COLOURS.get(figure.rating or "", MUTED)
        trend = f" {html.escape(figure.trend)} ({figure.trend_direction})" if figure.trend else ""
        band = tier_band_svg(metric, figure.value, tiers[metric]) if metric in tiers else ""
        spark = sparkline_svg(weekly.get(metric, []), weeks) if metric in weekly else ""
        tiles.append(
            f'<div class="tile" data-metric="{metric}" style="border:1px solid #d7dbe0;border-radius:8px;padding:8px 10px;'
            f'width:220px;display:inline-block;vertical-align:top;margin:0 8px 8px 0;">'
            f'<div style="color:{MUTED};font-size:12px;">{name}</div>'
            f'<div style="font-size:20px;font-weight:600;">{fmt(figure.value, figure.unit)}</div>'
            f'<div><span class="rating" style="background:{colour};color:#fff;border-radius:9px;padding:0 6px;'
            f'font-size:11px;">{rating}</span><span style="font-size:12px;color:{MUTED};">{trend}</span></div>'
            f"{band}{spark}</div>"
        )
    counted = dora.deployment_frequency.deployments  # what DORA counted; the timeline shows at most a page of them
    return (f"{CHARTS_START}\n<section class=\"charts\">\n<div class=\"tiles\">{''.join(tiles)}</div>\n"
            f"<h2>Deployments ({len(deployments) if counted is None else counted})</h2>\n{timeline_svg(start, end, deployments)}\n</section>\n{CHARTS_END}")
