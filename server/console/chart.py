"""The 30-day trend as inline SVG geometry, computed on the server so the chart needs no script,
prints as it shows, and works on an isolated network: bars for new and closed hazards (left
axis), a line for the open total (right axis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 48, 16, 34


def nice_max(value: float) -> int:
    """The smallest whole 1/2/2.5/5 × 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    step = 1
    while True:
        for m in (1, 2, 2.5, 5):
            if m * step >= value and float(m * step).is_integer():
                return int(m * step)
        step *= 10


TICKS = 4


def axis_top(value: float) -> int:
    """A top that splits into ``TICKS`` whole, round steps (0, 5, 10, 15, 20 …)."""
    return nice_max(value / TICKS) * TICKS


@dataclass
class TrendChart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[dict[str, Any]] = field(default_factory=list)
    line: str = ""
    points: list[dict[str, Any]] = field(default_factory=list)
    left_ticks: list[dict[str, Any]] = field(default_factory=list)
    right_ticks: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    plot: dict[str, float] = field(default_factory=dict)


def trend_chart(trend: list[dict[str, Any]]) -> TrendChart:
    chart = TrendChart()
    n = len(trend)
    if not n:
        return chart
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    chart.plot = {"x0": x0, "x1": x1, "y0": y0, "y1": y1}
    left_max = axis_top(max(max(d["new"], d["closed"]) for d in trend))
    right_max = axis_top(max(d["open"] for d in trend))
    slot = (x1 - x0) / n
    bar = max(1.0, slot * 0.36)

    def y_left(v: float) -> float:
        return round(y1 - (y1 - y0) * v / left_max, 1)

    def y_right(v: float) -> float:
        return round(y1 - (y1 - y0) * v / right_max, 1)

    pts = []
    for i, d in enumerate(trend):
        cx = x0 + slot * (i + 0.5)
        for kind, value, dx in (("new", d["new"], -bar), ("closed", d["closed"], 0.0)):
            top = y_left(value)
            chart.bars.append(
                {
                    "kind": kind,
                    "x": round(cx + dx, 1),
                    "y": top,
                    "w": round(bar, 1),
                    "h": round(y1 - top, 1),
                    "value": value,
                    "date": d["date"],
                }
            )
        py = y_right(d["open"])
        pts.append(f"{round(cx, 1)},{py}")
        chart.points.append({"x": round(cx, 1), "y": py, "value": d["open"], "date": d["date"]})
        if i % 5 == 0 or i == n - 1:
            chart.labels.append({"x": round(cx, 1), "text": d["date"][5:]})
    chart.line = " ".join(pts)
    for k in range(TICKS + 1):
        frac = k / TICKS
        chart.left_ticks.append(
            {"y": round(y1 - (y1 - y0) * frac, 1), "text": _num(left_max * frac)}
        )
        chart.right_ticks.append(
            {"y": round(y1 - (y1 - y0) * frac, 1), "text": _num(right_max * frac)}
        )
    return chart


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
