"""Chart geometry: where each figure of a series goes in an SVG, and nothing else.

Pure functions from facts to coordinates. The markup lives in
templates/chart.html, so escaping stays Jinja's job and an editor can restyle
a chart without touching Python.

Three kinds of figure are drawn three ways, because they answer different
questions and putting them on one scale would mislead:
- a figure for one calendar month is a bar in its month;
- a figure over any other span (a year, two months, part of a month) is a
  bracket over exactly that span, labelled with its value: it is never spread
  out into invented monthly bars;
- a running total is a marker on its own scale at the date it runs to.
A month with no monthly figure gets no bar and a visible gap mark, never a zero.
"""
from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from .periods import Period

WIDTH = 640
LEFT, RIGHT, TOP = 56, 10, 8
BARS_HEIGHT, TOTALS_HEIGHT = 150, 100
PANEL_TITLE = 18     # room above a panel for its name
PANEL_GAP = 14
SPAN_ROW = 30        # one row of brackets: the bracket, then its label
AXIS_HEIGHT = 34     # month initials and year names under the last panel
LABEL_CHAR = 6.6     # rough width of a digit at the chart's label size, to keep labels apart
MAX_BAR_LABELS = 24  # print values on the bars only when they are few enough to stay legible


@dataclass(frozen=True)
class Figure:
    """One figure to draw: its fact, and whether another fact contradicts it."""

    fact: Any  # model.Fact with a measure and a date
    disputed: bool = False

    @property
    def shape(self) -> str:
        """How the chart draws it: 'bar', 'bracket' or 'marker' (see the module's docstring)."""
        if self.fact.measure.aggregation == "cumulative":
            return "marker"
        return "bar" if is_monthly(self.fact) else "bracket"


@dataclass(frozen=True)
class Scale:
    """What charts that are shown together share, so that they compare honestly."""

    months: tuple[tuple[int, int], ...]
    bars_max: float
    totals_max: float


@dataclass(frozen=True)
class Slot:
    ym: tuple[int, int]
    x: float
    width: float
    center: float
    initial: bool  # room for a month initial under the axis


@dataclass(frozen=True)
class YearLabel:
    year: int
    x: float
    boundary: float  # x where the year starts, for a tick


@dataclass(frozen=True)
class Tick:
    value: int | float
    y: float


@dataclass(frozen=True)
class Bar:
    fact: Any
    disputed: bool
    x: float
    y: float
    width: float
    height: float
    center: float
    label: bool  # print the value above the bar


@dataclass(frozen=True)
class Gap:
    """A run of months with no monthly figure."""

    first: tuple[int, int]
    last: tuple[int, int]
    x1: float
    x2: float
    months: int


@dataclass(frozen=True)
class Marker:
    fact: Any
    disputed: bool
    x: float
    y: float


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Span:
    fact: Any
    disputed: bool
    x1: float
    x2: float
    y: float        # the bracket's line
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Panel:
    top: float
    height: float
    ticks: tuple[Tick, ...]

    @property
    def baseline(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    right: float           # x where the plot ends
    slots: tuple[Slot, ...]
    years: tuple[YearLabel, ...]
    axis_y: float
    bars_panel: Panel | None
    bars: tuple[Bar, ...]
    gaps: tuple[Gap, ...]
    totals_panel: Panel | None
    markers: tuple[Marker, ...]
    lines: tuple[Line, ...]
    spans: tuple[Span, ...]
    spans_top: float
    figures: tuple[Figure, ...]   # everything drawn, in time order: the table beside the chart

    @property
    def gap_months(self) -> int:
        return sum(g.months for g in self.gaps)


def is_monthly(fact) -> bool:
    return fact.measure.aggregation == "period" and fact.when.precision == "month"


def chartable(fact) -> bool:
    """Deprecated and undated figures stay on their pages but have no place on a time axis."""
    return fact.measure is not None and fact.when is not None and fact.rank != "deprecated"


def months_between(first: tuple[int, int], last: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    out, (y, m) = [], first
    while (y, m) <= last:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return tuple(out)


def scale_for(series: Iterable[Iterable[Figure]]) -> Scale | None:
    """One scale for several charts: every month any of them touches, and their largest values."""
    figures = [f for s in series for f in s if chartable(f.fact)]
    if not figures:
        return None
    first = min((f.fact.when.first.year, f.fact.when.first.month) for f in figures)
    last = max((f.fact.when.last.year, f.fact.when.last.month) for f in figures)
    bars = [float(f.fact.measure.value) for f in figures if is_monthly(f.fact)]
    totals = [float(f.fact.measure.value) for f in figures if f.fact.measure.aggregation == "cumulative"]
    return Scale(months_between(first, last), max(bars, default=0.0), max(totals, default=0.0))


def nice_ticks(top: float) -> tuple[list[int | Decimal], float]:
    """Round gridline values from zero past `top`, and the value the axis ends at."""
    if top <= 0:
        return [0, 1], 1
    rough = top / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    end = math.ceil(top / step) * step
    count = round(end / step)
    values = [step * i for i in range(count + 1)]
    # Decimal, not float, so that 2.5 prints as 2.5 and the same on every machine.
    return [int(v) if float(v).is_integer() else Decimal(str(v)) for v in values], end


def _r(x: float) -> float:
    return round(x, 1)


def build_chart(figures: Iterable[Figure], scale: Scale | None = None) -> Chart | None:
    """Lay out one series (one metric, one operation); None when nothing in it can be drawn."""
    figures = sorted((f for f in figures if chartable(f.fact)),
                     key=lambda f: (f.fact.when.first, f.fact.when.last, f.fact.id))
    own = scale_for([figures])
    if own is None:
        return None
    scale = scale or own
    months = scale.months
    plot_w = WIDTH - LEFT - RIGHT
    slot_w = plot_w / len(months)
    position = {ym: LEFT + i * slot_w for i, ym in enumerate(months)}

    def x_at(day: date, end: bool) -> float:
        """The x of a day's start (or end), inside its month's slot."""
        days = calendar.monthrange(day.year, day.month)[1]
        fraction = (day.day - (0 if end else 1)) / days
        return position[(day.year, day.month)] + fraction * slot_w

    slots = tuple(Slot(ym, _r(position[ym]), _r(slot_w), _r(position[ym] + slot_w / 2), slot_w >= 11)
                  for ym in months)
    years = []
    # One pass over the months, not one per year: a span of centuries has a million pairs.
    spans: dict[int, list[float]] = {}
    for ym in months:
        spans.setdefault(ym[0], [position[ym], 0.0])[1] = position[ym] + slot_w
    for year, (x1, x2) in spans.items():
        if x2 - x1 >= 30 or len(spans) == 1:
            years.append(YearLabel(year, _r((x1 + x2) / 2), _r(x1)))

    monthly = [f for f in figures if f.shape == "bar"]
    totals = [f for f in figures if f.shape == "marker"]
    spans = [f for f in figures if f.shape == "bracket"]

    y = TOP
    bars_panel, bars, gaps = None, [], []
    if monthly:
        y += PANEL_TITLE
        values, end = nice_ticks(scale.bars_max)
        bars_panel = Panel(y, BARS_HEIGHT, tuple(Tick(v, _r(y + BARS_HEIGHT - float(v) / end * BARS_HEIGHT)) for v in values))
        in_month: dict[tuple[int, int], list[Figure]] = {}
        for f in monthly:
            in_month.setdefault(f.fact.when.month, []).append(f)
        labelled = len(monthly) <= MAX_BAR_LABELS and slot_w >= 30
        for ym, group in in_month.items():
            # Two figures for one month (often a dispute) stand side by side, never stacked.
            inner = slot_w * 0.72
            each = inner / len(group)
            for i, f in enumerate(group):
                # A zero is a figure: it keeps a sliver of a bar, unlike a gap.
                height = max(float(f.fact.measure.value) / end * BARS_HEIGHT, 1.5)
                x = position[ym] + (slot_w - inner) / 2 + i * each
                bars.append(Bar(f.fact, f.disputed, _r(x + each * 0.06), _r(bars_panel.baseline - height),
                                _r(max(each * 0.88, 1.0)), _r(height), _r(x + each / 2), labelled))
        run: list[tuple[int, int]] = []
        for ym in months + (None,):
            if ym is not None and ym not in in_month:
                run.append(ym)
                continue
            if run:
                gaps.append(Gap(run[0], run[-1], _r(position[run[0]] + 1), _r(position[run[-1]] + slot_w - 1), len(run)))
                run = []
        y = bars_panel.baseline + PANEL_GAP

    totals_panel, markers, lines = None, [], []
    if totals:
        y += PANEL_TITLE
        values, end = nice_ticks(scale.totals_max)
        totals_panel = Panel(y, TOTALS_HEIGHT, tuple(Tick(v, _r(y + TOTALS_HEIGHT - float(v) / end * TOTALS_HEIGHT)) for v in values))
        by_series: dict[str, list[Marker]] = {}
        for f in sorted(totals, key=lambda f: (f.fact.when.last, f.fact.id)):
            when: Period = f.fact.when
            x = position[when.month] + slot_w / 2 if when.precision == "month" else x_at(when.last, end=True)
            marker = Marker(f.fact, f.disputed, _r(x),
                            _r(totals_panel.baseline - float(f.fact.measure.value) / end * TOTALS_HEIGHT))
            markers.append(marker)
            since = f.fact.measure.since.iso() if f.fact.measure.since else ""
            by_series.setdefault(since, []).append(marker)
        for series in by_series.values():
            lines += [Line(a.x, a.y, b.x, b.y) for a, b in zip(series, series[1:]) if b.x > a.x]
        y = totals_panel.baseline + PANEL_GAP

    if spans:
        y += PANEL_TITLE
    spans_top = y
    placed: list[Span] = []
    rows: list[float] = []  # per row, the x where it is free again
    for f in spans:
        x1, x2 = x_at(f.fact.when.first, end=False), x_at(f.fact.when.last, end=True)
        x2 = max(x2, x1 + 3)
        centre = (x1 + x2) / 2
        half = (len(f"{f.fact.measure.value:,}") + 2) * LABEL_CHAR / 2
        label_x = min(max(centre, LEFT + half), WIDTH - RIGHT - half)
        left, right = min(x1, label_x - half), max(x2, label_x + half)
        row = next((i for i, free in enumerate(rows) if left >= free + 4), None)
        if row is None:
            rows.append(0.0)
            row = len(rows) - 1
        rows[row] = right
        top = spans_top + row * SPAN_ROW
        placed.append(Span(f.fact, f.disputed, _r(x1), _r(x2), _r(top + 6), _r(label_x), _r(top + 22)))
    y = spans_top + len(rows) * SPAN_ROW

    axis_y = y + 4
    height = math.ceil(axis_y + AXIS_HEIGHT)
    return Chart(WIDTH, height, LEFT, WIDTH - RIGHT, slots, tuple(years), _r(axis_y),
                 bars_panel, tuple(bars), tuple(gaps), totals_panel, tuple(markers), tuple(lines),
                 tuple(placed), _r(spans_top), tuple(figures))


def largest_monthly(figures: Iterable[Figure]) -> Figure | None:
    """The record: the largest figure for a single month (the earliest, if two are equal)."""
    best = None
    for f in figures:
        if chartable(f.fact) and is_monthly(f.fact):
            if best is None or (f.fact.measure.value, best.fact.when.first) > (best.fact.measure.value, f.fact.when.first):
                best = f
    return best
