"""Charts drawn on the server as SVG: no script, no library, readable by screen readers through their titles.

Each function returns markup built from numbers and escaped names only; templates embed it
with `|safe`.
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH = 640
ROW = 34
LEFT = 190
RIGHT = 60


def _x(value: float, low: float, high: float, left: int = LEFT, right: int = RIGHT) -> float:
    span = (high - low) or 1.0
    return left + (value - low) / span * (WIDTH - left - right)


def ranking(entries: list[dict[str, Any]], names: dict[str, str], chosen: str | None) -> str:
    """Mean score per candidate with its 95% interval; candidates tied with the leader are marked."""
    if not entries:
        return ""
    height = ROW * len(entries) + 40
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="ranking-title">',
             '<title id="ranking-title">Mean score per candidate with 95% intervals</title>']
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = _x(tick, 0, 1)
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{height - 24}"/>'
                     f'<text class="tick" x="{x:.1f}" y="{height - 8}" text-anchor="middle">{tick:g}</text>')
    for index, entry in enumerate(entries):
        y = 20 + index * ROW
        mean = entry.get("mean_score") or 0.0
        name = escape(names.get(entry["candidate_id"], entry["candidate_id"][:8]))
        tied = entry.get("tied_with_leader")
        label = f'{entry["rank"]}. {name}' + (" ★" if entry["candidate_id"] == chosen else "")
        parts.append(f'<g class="entry{" tied" if tied else ""}" data-candidate="{entry["candidate_id"]}">'
                     f'<title>{name}: mean {mean:.3f}{_interval_text(entry)}{" (tied with the leader)" if tied else ""}'
                     f'</title><text class="label" x="{LEFT - 8}" y="{y + 5}" text-anchor="end">{label}</text>'
                     f'<rect class="bar" x="{LEFT}" y="{y - 8}" width="{_x(mean, 0, 1) - LEFT:.1f}" height="16"/>')
        if entry.get("ci95"):
            low, high = entry["ci95"]
            parts.append(f'<line class="whisker" x1="{_x(low, 0, 1):.1f}" y1="{y}" x2="{_x(high, 0, 1):.1f}" y2="{y}"/>'
                         f'<line class="whisker" x1="{_x(low, 0, 1):.1f}" y1="{y - 6}" x2="{_x(low, 0, 1):.1f}" y2="{y + 6}"/>'
                         f'<line class="whisker" x1="{_x(high, 0, 1):.1f}" y1="{y - 6}" x2="{_x(high, 0, 1):.1f}" y2="{y + 6}"/>')
        parts.append(f'<text class="value" x="{WIDTH - RIGHT + 6}" y="{y + 5}">{mean:.2f}{" =" if tied else ""}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _interval_text(entry: dict[str, Any]) -> str:
    if not entry.get("ci95"):
        return ""
    low, high = entry["ci95"]
    return f", 95% interval {low:.3f} to {high:.3f}"


def pareto(entries: list[dict[str, Any]], names: dict[str, str], axis: str, label: str) -> str:
    """Quality against cost or latency; the Pareto front (nothing better on both) is joined by a line."""
    points = [(e[axis], e.get("mean_score") or 0.0, e) for e in entries if e.get(axis) is not None]
    if not points:
        return f'<p class="muted">No {escape(label)} figures yet.</p>'
    height, left, bottom = 260, 56, 36
    low, high = min(p[0] for p in points), max(p[0] for p in points)
    if low == high:
        low, high = low * 0.9, high * 1.1 or 1.0

    def xy(value: float, score: float) -> tuple[float, float]:
        return _x(value, low, high, left, 30), 10 + (1 - score) * (height - bottom - 10)

    ident = axis.replace("_", "-")
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{ident}-title">',
             f'<title id="{ident}-title">Mean score against {escape(label)}; the line joins the Pareto front</title>',
             f'<text class="tick" x="{WIDTH / 2}" y="{height - 4}" text-anchor="middle">{escape(label)}</text>',
             f'<text class="tick" x="{left}" y="{height - bottom + 16}">{low:.4g}</text>',
             f'<text class="tick" x="{WIDTH - 30}" y="{height - bottom + 16}" text-anchor="end">{high:.4g}</text>',
             f'<line class="grid" x1="{left}" y1="{height - bottom}" x2="{WIDTH - 30}" y2="{height - bottom}"/>',
             f'<line class="grid" x1="{left}" y1="10" x2="{left}" y2="{height - bottom}"/>',
             f'<text class="tick" x="{left - 6}" y="14" text-anchor="end">1</text>',
             f'<text class="tick" x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>',
             f'<text class="tick" x="{left - 6}" y="{(height - bottom) / 2 + 5:.0f}" text-anchor="end">score</text>']
    front = sorted((p for p in points if p[2].get("pareto_front")), key=lambda p: p[0])
    if len(front) > 1:
        path = " ".join(f"{xy(v, s)[0]:.1f},{xy(v, s)[1]:.1f}" for v, s, _ in front)
        parts.append(f'<polyline class="front" points="{path}"/>')
    for value, score, entry in points:
        x, y = xy(value, score)
        name = escape(names.get(entry["candidate_id"], entry["candidate_id"][:8]))
        klass = "point front-point" if entry.get("pareto_front") else "point"
        # Names of points in the right half go to their left, so they stay inside the chart.
        anchor, dx = ("end", -9) if x > WIDTH / 2 else ("start", 9)
        parts.append(f'<g class="{klass}"><title>{name}: score {score:.3f}, {escape(label)} {value:.4g}</title>'
                     f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6"/>'
                     f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}">{name}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: list[float], label: str, bins: int = 12) -> str:
    """Counts of values in equal bins."""
    if not values:
        return '<p class="muted">No values yet.</p>'
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / width), bins - 1)] += 1
    height, top = 160, max(counts)
    step = (WIDTH - 60) / bins
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height + 30}" role="img" aria-label="{escape(label)} histogram">']
    for index, count in enumerate(counts):
        bar = count / top * height
        parts.append(f'<rect class="bar" x="{30 + index * step:.1f}" y="{height - bar:.1f}" width="{step - 2:.1f}" '
                     f'height="{bar:.1f}"><title>{low + index * width:.0f}–{low + (index + 1) * width:.0f}: {count}'
                     f'</title></rect>')
    parts.append(f'<text class="tick" x="30" y="{height + 20}">{low:.0f}</text>'
                 f'<text class="tick" x="{WIDTH - 30}" y="{height + 20}" text-anchor="end">{high:.0f} {escape(label)}'
                 f'</text></svg>')
    return "".join(parts)
