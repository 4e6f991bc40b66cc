"""Charts drawn on the server as SVG: no script, no library, nothing fetched. Each is an
image with a title and a description for screen readers (``role="img"``, ``aria-labelledby``);
the same values are always in a table next to it, so the chart is a glance, never the only
way to read a figure. Colours keep at least 4.5:1 contrast against white.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

INK = "#1b1f24"  # text and axes: 16:1 on white
MUTED = "#57606a"  # grid labels: 6.4:1 on white
GRID = "#d0d7de"
BAR = "#0b57d0"  # bars: 6.3:1 on white
WHISKER = "#8a4600"  # the 90th percentile mark: 6.0:1 on white
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def duration_text(value: timedelta | None) -> str:
    """A duration as a person reads it: "45 min", "3 h 20 min", "2 d 4 h"; "—" for none."""
    if value is None:
        return "—"
    minutes = max(0, round(value.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times 10^n at or above ``value`` (the top of the axis)."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop ends at 10 times magnitude


def _number(value: float) -> str:
    return f"{value:g}"


def _svg(*, chart_id: str, title: str, desc: str, width: int, height: int, body: list[str]) -> SafeString:
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    return mark_safe(  # noqa: S308 - every text below went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" font-family="{escape(FONT)}">'
        f'<title id="{escape(title_id)}">{escape(title)}</title>'
        f'<desc id="{escape(desc_id)}">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def day_bar_chart(*, chart_id: str, title: str, points: Sequence[tuple[date, int]], unit: str = "orders") -> SafeString:
    """A bar per day, zero days included, with a y axis from 0 to a round maximum and a date
    under every few bars. The description states the total, the busiest and the quietest day."""
    width, height = 720, 260
    left, right, top, bottom = 48, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _d, v in points), default=0)
    ceiling = _nice_ceiling(peak)
    n = max(len(points), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.75, 1)
    body: list[str] = []
    for i in range(5):  # grid lines and their values
        value = ceiling * i / 4
        y = top + plot_h - plot_h * value / ceiling
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="{MUTED}">'
            f"{escape(_number(value))}</text>"
        )
    label_every = max(1, math.ceil(n / 8))
    for i, (day, value) in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        bar_h = plot_h * value / ceiling
        y = top + plot_h - bar_h
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{BAR}">'
            f"<title>{escape(day.isoformat())}: {value} {escape(unit)}</title></rect>"
        )
        if i % label_every == 0:
            body.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="12" '
                f'fill="{INK}">{escape(day.strftime("%d %b"))}</text>'
            )
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{INK}"/>')
    if points:
        total = sum(v for _d, v in points)
        busiest = max(points, key=lambda p: p[1])
        quietest = min(points, key=lambda p: p[1])
        desc = (
            f"{total} {unit} from {points[0][0].isoformat()} to {points[-1][0].isoformat()}; "
            f"busiest day {busiest[0].isoformat()} with {busiest[1]}, quietest {quietest[0].isoformat()} "
            f"with {quietest[1]}."
        )
    else:
        desc = f"No {unit} in the range."
    return _svg(chart_id=chart_id, title=title, desc=desc, width=width, height=height, body=body)


@dataclass(frozen=True)
class Span:
    """One row of the duration chart: a bar to the median, a mark at the 90th percentile."""

    label: str
    median: timedelta | None
    p90: timedelta | None


def duration_chart(*, chart_id: str, title: str, spans: Sequence[Span]) -> SafeString:
    """Horizontal bars, one per stage: the bar reaches the median, a thin line continues to
    the 90th percentile where a tick stands; the values are written at the end of each row.
    All rows share one scale, so the slow stage stands out."""
    width, row_h = 720, 44
    left, right, top = 12, 12, 8
    height = top + row_h * max(len(spans), 1) + 8
    plot_w = width - left - right
    longest = max((s.p90 or s.median or timedelta()).total_seconds() for s in spans) if spans else 0.0
    scale = plot_w * 0.62 / longest if longest > 0 else 0.0
    body: list[str] = []
    described: list[str] = []
    for i, span in enumerate(spans):
        y = top + i * row_h
        body.append(f'<text x="{left}" y="{y + 13}" font-size="13" fill="{INK}">{escape(span.label)}</text>')
        bar_y = y + 19
        if span.median is None:
            body.append(f'<text x="{left}" y="{bar_y + 13}" font-size="12" fill="{MUTED}">no orders</text>')
            described.append(f"{span.label}: no orders")
            continue
        med_w = max(span.median.total_seconds() * scale, 1)
        body.append(f'<rect x="{left}" y="{bar_y}" width="{med_w:.1f}" height="16" fill="{BAR}"/>')
        end_x = left + med_w
        if span.p90 is not None:
            p90_x = left + max(span.p90.total_seconds() * scale, 1)
            body.append(
                f'<line x1="{end_x:.1f}" x2="{p90_x:.1f}" y1="{bar_y + 8}" y2="{bar_y + 8}" '
                f'stroke="{WHISKER}" stroke-width="2"/>'
            )
            body.append(
                f'<line x1="{p90_x:.1f}" x2="{p90_x:.1f}" y1="{bar_y}" y2="{bar_y + 16}" '
                f'stroke="{WHISKER}" stroke-width="2"/>'
            )
            end_x = max(end_x, p90_x)
        text = f"median {duration_text(span.median)} · 90 % within {duration_text(span.p90)}"
        body.append(f'<text x="{end_x + 8:.1f}" y="{bar_y + 13}" font-size="12" fill="{INK}">{escape(text)}</text>')
        described.append(f"{span.label}: {text}")
    desc = "; ".join(described) + "." if described else "No orders shipped in the range."
    return _svg(chart_id=chart_id, title=title, desc=desc, width=width, height=height, body=body)
