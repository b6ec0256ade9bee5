"""Chart geometry: where each figure of a series goes in an SVG, and nothing else.

Pure functions from facts to coordinates. The markup lives in
templates/chart.html, so escaping stays Jinja's job and an editor can restyle
a chart without touching Python.

Four kinds of figure are drawn four ways, because they answer different
questions and putting them on one scale would mislead:
- a figure for one calendar month is a bar in its month;
- a figure over any other span (a year, two months, part of a month) is a
  bracket over exactly that span, labelled with its value: it is never spread
  out into invented monthly bars;
- a running total is a marker on its own scale at the date it runs to;
- a level (a count standing at a date) is a point on a scale of its own, the
  points joined by a line: it is never added to anything.
A month with no monthly figure gets no bar and a visible gap mark, never a zero.
A figure given as a range is a whisker from its low bound to its high one: a
bar stands up to the low bound, a whisker takes a marker's or a point's place
(the line joins it at its middle), and a bracket is labelled with both bounds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import chain
from typing import Any, Iterable

from .periods import MONTHS, Period, days_in

WIDTH = 640
NARROW_WIDTH = 320   # a chart of a few months, which fits a phone's screen (.chart.narrow in static/style.css)
MONTH_ROOM = 30      # the least room a month's slot needs for its short name
LEFT, RIGHT, TOP = 56, 10, 8   # LEFT is the least room for tick labels: a wider label widens it
TICK_GAP = 6         # between a tick label's end and the plot
BARS_HEIGHT, TOTALS_HEIGHT = 150, 100
PANEL_TITLE = 18     # room above a panel for its name
PANEL_GAP = 14
SPAN_ROW = 30        # one row of brackets: the bracket, then its label
AXIS_HEIGHT = 34     # month names and years under the last panel
FONT, MARK_FONT = 11, 14       # px of labels and of the ≠ mark: keep in step with static/style.css
MAX_BAR_LABELS = 24  # print values on bars and dots only when they are few enough to stay legible
MAX_GROUP_WIDTH = 64  # a month's bars together
DOT_R = 5            # a running total's dot, where its month leaves room for it

# Advance widths (in em) of DejaVu Sans, the widest of the fonts `system-ui` resolves to,
# so that a label measured here is never wider in a reader's browser; other letters take 0.7.
_EM = {**dict.fromkeys("0123456789", 0.64), **dict.fromkeys(",. ", 0.32), **dict.fromkeys("~≥≤≠", 0.84),
       "M": 0.87, "B": 0.69, "T": 0.62}
ASCENT, DESCENT = 0.93, 0.24   # of the font's box, as a browser's getBBox() reports it
APPROX_MARKS = {"exact": "", "about": "~", "at-least": "≥", "at-most": "≤"}
MONTH_NAMES = tuple(m[:3] for m in MONTHS)
# Axes past a million count in millions (1.5M), past a billion in billions: the table gives every digit.
_UNITS = ((10 ** 12, "T"), (10 ** 9, "B"), (10 ** 6, "M"))


def text_width(text: str, size: float = FONT) -> float:
    return sum(_EM.get(c, 0.7) for c in text) * size


@dataclass(frozen=True)
class Figure:
    """One figure to draw: its fact, and whether another fact contradicts it."""

    fact: Any  # model.Fact with a measure and a date
    disputed: bool = False

    @property
    def shape(self) -> str:
        """How the chart draws it: 'bar', 'bracket', 'marker' or 'point' (see the module's docstring)."""
        return _SHAPES.get(self.fact.measure.aggregation) or ("bar" if is_monthly(self.fact) else "bracket")


_SHAPES = {"cumulative": "marker", "level": "point"}


@dataclass(frozen=True)
class Scale:
    """What charts that are shown together share: the months always, so that they line up; the values
    too where they are to be compared on one scale."""

    months: tuple[tuple[int, int], ...]
    bars_max: float
    totals_max: float
    levels_max: float = 0.0
    left: float = LEFT  # the least margin for tick labels: the widest of the charts shown together
    whole: bool = True  # every figure a whole number: no tick between two (no 2.5 districts)


@dataclass(frozen=True)
class Slot:
    ym: tuple[int, int]
    x: float
    width: float
    center: float
    label: str  # the month under the axis, as much of its name as the slot has room for


@dataclass(frozen=True)
class YearLabel:
    year: int
    x: float
    boundary: float  # x where the year starts, for a tick


@dataclass(frozen=True)
class Tick:
    value: int | Decimal
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    """Text drawn on the chart, centred on x, standing on y."""

    text: str
    x: float
    y: float


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Whisker:
    """A range's bounds: a vertical line at x from y1 (the high bound) down to y2 (the low one)."""

    x: float
    y1: float
    y2: float
    cap: float  # half the width of the short lines across its ends


@dataclass(frozen=True)
class Bar:
    fact: Any
    disputed: bool
    x: float
    y: float
    width: float
    height: float
    center: float
    label: Label | None  # the value above the bar, where it fits
    mark: Label | None   # ≠ over a disputed bar, or one over a month's disputed bars when they are thin
    whisker: Whisker | None = None  # a range: the bar stands to its low bound, the whisker goes on to its high


@dataclass(frozen=True)
class Gap:
    """A run of months with no monthly figure."""

    first: tuple[int, int]
    last: tuple[int, int]
    x1: float
    x2: float
    months: int
    hatch: tuple[Line, ...]  # whole strokes: a repeating pattern leaves fragments at the box's edges


@dataclass(frozen=True)
class Marker:
    fact: Any
    disputed: bool
    x: float
    y: float
    label: Label | None
    whisker: Whisker | None = None  # a range: drawn instead of a dot, y at its middle


@dataclass(frozen=True)
class Span:
    fact: Any
    disputed: bool
    x1: float
    x2: float
    y: float        # the bracket's line
    label: Label


@dataclass(frozen=True)
class Panel:
    top: float      # the highest tick
    height: float
    ticks: tuple[Tick, ...]
    title_y: float

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
    dot_r: float
    lines: tuple[Line, ...]
    spans: tuple[Span, ...]
    spans_top: float
    figures: tuple[Figure, ...]   # everything drawn, in time order: the table beside the chart
    levels_panel: Panel | None = None
    points: tuple[Marker, ...] = ()   # levels
    level_lines: tuple[Line, ...] = ()

    @property
    def gap_months(self) -> int:
        return sum(g.months for g in self.gaps)

    @property
    def top(self) -> float:
        """Where the first panel's plot begins."""
        panel = self.bars_panel or self.totals_panel or self.levels_panel
        return panel.top if panel else self.spans_top

    @property
    def dense(self) -> bool:
        """Months too narrow for full-size dots: the stylesheet thins their rings too."""
        return self.dot_r < DOT_R

    @property
    def narrow(self) -> bool:
        """Laid out NARROW_WIDTH wide: the stylesheet gives it a narrower least width."""
        return self.width < WIDTH


def chart_width(months: int, left: float, unit: str = "") -> int:
    """NARROW_WIDTH where each month keeps room for its name and a panel's title, "Over longer
    spans (<unit>)" the longest templates/chart.html writes, fits; else WIDTH. A chart of a few
    months drawn 640 wide would scroll sideways on a phone for no more than two bars."""
    right = NARROW_WIDTH - RIGHT
    fits = left + text_width(f"Over longer spans ({unit})", 12) <= right
    return NARROW_WIDTH if fits and (right - left) / months >= MONTH_ROOM else WIDTH


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
    top = {shape: max((float(f.fact.measure.most) for f in figures if f.shape == shape), default=0.0)
           for shape in ("bar", "marker", "point")}
    whole = all(v % 1 == 0 for f in figures
                for v in (f.fact.measure.value, f.fact.measure.low, f.fact.measure.high) if v is not None)
    return Scale(months_between(first, last), top["bar"], top["marker"], top["point"], whole=whole)


def scales_for(series: list[list[Figure]]) -> list[Scale | None]:
    """A scale for each of several charts shown together: each its own values, so that a small series
    is not flattened beside a large one; all the same months and margin, so that the months line up."""
    shared = scale_for(series)
    own = [scale_for([s]) for s in series]
    if shared is None:
        return own
    left = max((_margin(s) for s in own if s is not None), default=LEFT)
    return [s and replace(s, months=shared.months, left=left) for s in own]


def _margin(scale: Scale) -> float:
    """The room a scale's tick labels need left of the plot."""
    widest = 0.0
    for top in (scale.bars_max, scale.totals_max, scale.levels_max):
        ticks, end = nice_ticks(top, scale.whole)
        widest = max([widest] + [text_width(short_number(v, units(end))) for v in ticks])
    return max(scale.left, math.ceil(widest + TICK_GAP + 2))


def nice_ticks(top: float, whole: bool = False) -> tuple[list[int | Decimal], float]:
    """Round gridline values from zero past `top`, and the value the axis ends at. For `whole` figures
    (counts of districts, of countries) every step is a whole number: a tick at 2.5 would name a
    figure no fact can have."""
    if top <= 0:
        return [0, 1], 1
    rough = top / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10)
                if m * power >= rough and not (whole and not float(m * power).is_integer()))
    end = math.ceil(top / step) * step
    count = round(end / step)
    values = [step * i for i in range(count + 1)]
    # Decimal, not float, so that 2.5 prints as 2.5 and the same on every machine.
    return [int(v) if float(v).is_integer() else Decimal(str(v)) for v in values], end


def units(end: float) -> tuple[int, str]:
    """What an axis ending at `end` counts in: ones, or millions (M), billions (B), trillions (T)."""
    return next(((d, s) for d, s in _UNITS if end >= d), (1, ""))


def short_number(value: int | Decimal, unit: tuple[int, str] = (1, "")) -> str:
    """A number as the chart prints it: every digit in ones; three significant digits in millions and up (1.85M)."""
    divisor, suffix = unit
    if divisor == 1:
        return format(value, ",f") if isinstance(value, Decimal) else f"{value:,}"
    if value == 0:
        return "0"
    scaled = Decimal(value) / divisor
    text = f"{scaled:,.{max(0, 3 - len(str(int(abs(scaled)))))}f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix


def _value(fact, unit: tuple[int, str]) -> str:
    m = fact.measure
    if m.value is None:
        return f"{short_number(m.low, unit)}–{short_number(m.high, unit)}"
    return APPROX_MARKS[m.approx] + short_number(m.value, unit)


def _mid(fact) -> float:
    """Where a figure's mark stands on its scale: its value, or the middle of its range."""
    m = fact.measure
    return float(m.value) if m.value is not None else (float(m.low) + float(m.high)) / 2


Box = tuple[float, float, float, float]  # x1, y1, x2, y2


def _box(text: str, x: float, y: float, size: float = FONT) -> Box:
    half = text_width(text, size) / 2
    return (x - half, y - ASCENT * size, x + half, y + DESCENT * size)


class _Taken:
    """The boxes already placed on a chart, each filed under every column of the chart it crosses.

    A label or a mark need only be kept clear of the boxes in the columns it
    crosses: asked of every box, a chart of thousands of bars placed its ≠
    marks in time that grew with the square of the bars (a 100,000-fact
    archive's metric pages took 27 s, nearly all of it here).
    """

    COLUMN = 16.0

    def __init__(self, boxes: Iterable[Box] = ()):
        self.boxes: list[Box] = []
        self._columns: dict[int, list[Box]] = {}
        for box in boxes:
            self.add(box)

    def _crossed(self, x1: float, x2: float) -> range:
        return range(int(x1 // self.COLUMN), int(x2 // self.COLUMN) + 1)

    def add(self, box: Box) -> None:
        self.boxes.append(box)
        for column in self._crossed(box[0], box[2]):
            self._columns.setdefault(column, []).append(box)

    def near(self, box: Box, pad: float) -> Iterable[Box]:
        """Every box that comes within `pad` of `box` across the chart (and some that do not)."""
        columns = self._columns
        return chain.from_iterable(columns.get(c, ()) for c in self._crossed(box[0] - pad, box[2] + pad))


def _clear(box: Box, taken: _Taken, pad: float = 1.0) -> bool:
    return all(box[2] + pad <= t[0] or t[2] + pad <= box[0] or box[3] + pad <= t[1] or t[3] + pad <= box[1]
               for t in taken.near(box, pad))


def _hatch(x1: float, x2: float, bottom: float, height: float = 10, step: float = 6) -> tuple[Line, ...]:
    """Diagonal strokes centred in a gap's box, each whole."""
    width = max(x2 - x1, 0.5)
    if width <= height:
        return (Line(_r(x1), _r(bottom), _r(x1 + width), _r(bottom - width)),)
    n = int((width - height) // step) + 1
    start = x1 + (width - height - (n - 1) * step) / 2
    return tuple(Line(_r(start + i * step), _r(bottom), _r(start + i * step + height), _r(bottom - height))
                 for i in range(n))


def _r(x: float) -> float:
    return round(x, 1)


def build_chart(figures: Iterable[Figure], scale: Scale | None = None, unit: str = "") -> Chart | None:
    """Lay out one series (one metric, one group of facts), its metric counting in `unit`; None when
    nothing in it can be drawn."""
    figures = sorted((f for f in figures if chartable(f.fact)),
                     key=lambda f: (f.fact.when.first, f.fact.when.last, f.fact.id))
    own = scale_for([figures])
    if own is None:
        return None
    scale = scale or own
    months = scale.months
    bar_ticks, bar_end = nice_ticks(scale.bars_max, scale.whole)
    left = _margin(scale)
    width = chart_width(len(months), left, unit)
    right = width - RIGHT
    slot_w = (right - left) / len(months)
    position = {ym: left + i * slot_w for i, ym in enumerate(months)}
    frame = _Frame(position, slot_w, left, right)
    slots, years = _axis(months, position, slot_w)
    by_shape = {shape: [f for f in figures if f.shape == shape] for shape in ("bar", "marker", "point", "bracket")}

    y = TOP
    bars_panel, bars, gaps = None, [], []
    if by_shape["bar"]:
        y += PANEL_TITLE
        bar_unit = units(bar_end)
        bars, room = _bars(by_shape["bar"], position, slot_w, left, y + BARS_HEIGHT, bar_end, bar_unit)
        # Labels and ≠ marks that rise above the axis get room of their own, under the panel's name.
        bars_panel = _panel(y + room, BARS_HEIGHT, bar_ticks, bar_end, bar_unit, y - 6)
        bars = [_shifted(b, room) for b in bars]
        gaps = _gaps(months, {b.fact.when.month for b in bars}, position, slot_w, bars_panel.baseline)
        y = bars_panel.baseline + PANEL_GAP

    # Dots as wide as their month at most, so that a month's dot never covers the next one's.
    dot_r = DOT_R if slot_w >= 16 else max(2.0, _r(slot_w * 0.45 - 1))
    totals_panel, markers, lines, y = _dots(by_shape["marker"], scale.totals_max, frame, dot_r, y, scale.whole)
    levels_panel, points, level_lines, y = _dots(by_shape["point"], scale.levels_max, frame, dot_r, y, scale.whole)

    if by_shape["bracket"]:
        y += PANEL_TITLE
    spans_top = y
    placed, rows = _brackets(by_shape["bracket"], frame, spans_top)
    axis_y = spans_top + rows * SPAN_ROW + 4
    height = math.ceil(axis_y + AXIS_HEIGHT)
    return Chart(width, height, left, right, slots, years, _r(axis_y),
                 bars_panel, tuple(bars), tuple(gaps), totals_panel, tuple(markers), dot_r, tuple(lines),
                 tuple(placed), _r(spans_top), tuple(figures), levels_panel, tuple(points), tuple(level_lines))


@dataclass(frozen=True)
class _Frame:
    """Where the months stand across the plot."""

    position: dict
    slot_w: float
    left: float
    right: float

    def x_at(self, day: date, end: bool) -> float:
        """The x of a day's start (or end), inside its month's slot."""
        fraction = (day.day - (0 if end else 1)) / days_in(day.year, day.month)
        return self.position[(day.year, day.month)] + fraction * self.slot_w


def _axis(months, position, slot_w) -> tuple[tuple[Slot, ...], tuple[YearLabel, ...]]:
    # A lone initial is ambiguous (J is three months): where there is room, the month's short name.
    names = MONTH_NAMES if slot_w >= 30 else tuple(m[0] for m in MONTHS) if slot_w >= 11 else ("",) * 12
    slots = tuple(Slot(ym, _r(position[ym]), _r(slot_w), _r(position[ym] + slot_w / 2), names[ym[1] - 1])
                  for ym in months)
    # One pass over the months, not one per year: a span of centuries has a million pairs.
    spans: dict[int, list[float]] = {}
    for ym in months:
        spans.setdefault(ym[0], [position[ym], 0.0])[1] = position[ym] + slot_w
    years = tuple(YearLabel(year, _r((x1 + x2) / 2), _r(x1)) for year, (x1, x2) in spans.items()
                  if x2 - x1 >= 30 or len(spans) == 1)
    return slots, years


def _gaps(months, have, position, slot_w, baseline) -> list[Gap]:
    """The runs of months with no monthly figure."""
    gaps, run = [], []
    for ym in months + (None,):
        if ym is not None and ym not in have:
            run.append(ym)
            continue
        if run:
            x1, x2 = position[run[0]] + 1, position[run[-1]] + slot_w - 1
            gaps.append(Gap(run[0], run[-1], _r(x1), _r(x2), len(run), _hatch(x1, x2, baseline)))
            run = []
    return gaps


def _dots(figures: list[Figure], top: float, frame: _Frame, dot_r: float, y: float, whole: bool = False):
    """A panel of dots on a scale of its own (running totals, or levels), each series joined by a line;
    and the y below it. A range is a whisker, the line joining it at its middle."""
    if not figures:
        return None, [], [], y
    ticks, end = nice_ticks(top, whole)
    unit = units(end)
    y += PANEL_TITLE
    base = y + TOTALS_HEIGHT
    points = []
    for f in sorted(figures, key=lambda f: (f.fact.when.last, f.fact.id)):
        when: Period = f.fact.when
        x = frame.position[when.month] + frame.slot_w / 2 if when.precision == "month" else frame.x_at(when.last, end=True)
        points.append((f, _r(x), _r(base - _mid(f.fact) / end * TOTALS_HEIGHT)))
    every = len(points) <= MAX_BAR_LABELS and frame.slot_w >= 30
    labels, highest = _dot_labels(points, base, frame.left, frame.right, dot_r, unit, every, end)
    room = max(0.0, math.ceil(y - highest + 2))
    panel = _panel(y + room, TOTALS_HEIGHT, ticks, end, unit, y - 6)
    markers = [Marker(f.fact, f.disputed, x, _r(yy + room), _lowered(labels.get(i), room),
                      _whisker(f.fact, x, base + room, end, TOTALS_HEIGHT, dot_r))
               for i, (f, x, yy) in enumerate(points)]
    by_series: dict[str, list[Marker]] = {}
    for mk in markers:
        since = mk.fact.measure.since.iso() if mk.fact.measure.since else ""
        by_series.setdefault(since, []).append(mk)
    lines = [Line(a.x, a.y, b.x, b.y) for series in by_series.values() for a, b in zip(series, series[1:]) if b.x > a.x]
    return panel, markers, lines, panel.baseline + PANEL_GAP


def _whisker(fact, x: float, baseline: float, end: float, height: float, cap: float) -> Whisker | None:
    m = fact.measure
    if m.value is not None:
        return None
    return Whisker(_r(x), _r(baseline - float(m.high) / end * height), _r(baseline - float(m.low) / end * height), cap)


def _brackets(figures: list[Figure], frame: _Frame, spans_top: float) -> tuple[list[Span], int]:
    """Each figure over a span as a bracket over exactly it, in as few rows as keep them apart."""
    placed: list[Span] = []
    rows: list[float] = []  # per row, the x where it is free again
    for f in figures:
        x1, x2 = frame.x_at(f.fact.when.first, end=False), frame.x_at(f.fact.when.last, end=True)
        x2 = max(x2, x1 + 3)
        text = _value(f.fact, units(float(f.fact.measure.most))) + (" ≠" if f.disputed else "")
        half = text_width(text) / 2 + 3
        label_x = min(max((x1 + x2) / 2, frame.left + half), frame.right - half)
        start, end = min(x1, label_x - half), max(x2, label_x + half)
        row = next((i for i, free in enumerate(rows) if start >= free + 4), None)
        if row is None:
            rows.append(0.0)
            row = len(rows) - 1
        rows[row] = end
        top = spans_top + row * SPAN_ROW
        placed.append(Span(f.fact, f.disputed, _r(x1), _r(x2), _r(top + 6), Label(text, _r(label_x), _r(top + 22))))
    return placed, len(rows)


def _panel(top: float, height: float, values, end: float, unit: tuple[int, str], title_y: float) -> Panel:
    ticks = tuple(Tick(v, _r(top + height - float(v) / end * height), short_number(v, unit)) for v in values)
    return Panel(top, height, ticks, _r(title_y))


def _bars(monthly: list[Figure], position: dict, slot_w: float, left: float, baseline: float, end: float,
          unit: tuple[int, str]) -> tuple[list[Bar], float]:
    """The bars on a provisional baseline, their labels and ≠ marks kept apart; and how far the
    highest of those rises above the axis's top (the room the panel must add)."""
    in_month: dict[tuple[int, int], list[Figure]] = {}
    for f in monthly:
        in_month.setdefault(f.fact.when.month, []).append(f)
    # Wide months (a chart of one or two) keep bars bar-shaped rather than a block across the chart.
    inner = min(slot_w * 0.72, MAX_GROUP_WIDTH)
    bars: list[Bar] = []
    groups: list[list[int]] = []
    for ym, group in in_month.items():
        # Two figures for one month (often a dispute) stand side by side, never stacked.
        each = inner / len(group)
        groups.append([])
        for i, f in enumerate(group):
            # A zero is a figure: it keeps a sliver of a bar, unlike a gap. A range's bar stands to its low bound.
            height = max(float(f.fact.measure.least) / end * BARS_HEIGHT, 1.5)
            x = position[ym] + (slot_w - inner) / 2 + i * each
            width = max(each * 0.88, 1.0)
            groups[-1].append(len(bars))
            bars.append(Bar(f.fact, f.disputed, _r(x + each * 0.06), _r(baseline - height),
                            _r(width), _r(height), _r(x + each / 2), None, None,
                            _whisker(f.fact, _r(x + each / 2), baseline, end, BARS_HEIGHT, min(width / 2, DOT_R))))
    tops = [min(b.y, b.whisker.y1) if b.whisker else b.y for b in bars]  # where the stack above each bar begins
    taken = _Taken((b.x, top, b.x + b.width, baseline) for b, top in zip(bars, tops))
    if len(bars) <= MAX_BAR_LABELS and slot_w >= 30:
        for i, b in enumerate(bars):
            text = _value(b.fact, unit)
            half = text_width(text) / 2
            label = Label(text, _r(min(max(b.center, left + half), left + slot_w * len(position) + RIGHT - 1 - half)),
                          _r(tops[i] - 4))
            box = _box(label.text, label.x, label.y)
            if _clear(box, taken):
                taken.add(box)
                tops[i] = box[1]
                bars[i] = replace(b, label=label)
    mark_w = text_width("≠", MARK_FONT)
    for members in groups:
        disputed = [i for i in members if bars[i].disputed]
        if not disputed:
            continue
        # Thin bars share one ≠: two side by side would run into each other.
        together = bars[disputed[0]].width < mark_w + 2
        for over in ([disputed] if together else [[i] for i in disputed]):
            x = (bars[over[0]].x + bars[over[-1]].x + bars[over[-1]].width) / 2
            mark_y = min(tops[i] for i in over) - 3 - DESCENT * MARK_FONT
            while not _clear(_box("≠", x, mark_y, MARK_FONT), taken):
                mark_y -= 3
            taken.add(_box("≠", x, mark_y, MARK_FONT))
            bars[over[0]] = replace(bars[over[0]], mark=Label("≠", _r(x), _r(mark_y)))
    highest = min((t[1] for t in taken.boxes), default=baseline)
    return bars, max(0.0, math.ceil(baseline - BARS_HEIGHT - highest + 2))


# Made field by field, not with dataclasses.replace, which looks the fields up each time: a chart shifts
# every bar, and replace() took a tenth of laying out the 120 charts of a 10,000-fact archive.

def _lowered(label: Label | None, dy: float) -> Label | None:
    return label and Label(label.text, label.x, _r(label.y + dy))


def _shifted(bar: Bar, dy: float) -> Bar:
    w = bar.whisker
    return Bar(bar.fact, bar.disputed, bar.x, _r(bar.y + dy), bar.width, bar.height, bar.center,
               _lowered(bar.label, dy), _lowered(bar.mark, dy),
               w and Whisker(w.x, _r(w.y1 + dy), _r(w.y2 + dy), w.cap))


def _dot_labels(points: list[tuple[Figure, float, float]], baseline: float, left: float, right: float, r: float,
                unit: tuple[int, str], every: bool, end: float) -> tuple[dict[int, Label], float]:
    """Labels for the dots, none over another label or another dot, and the top of the highest.

    When there are too many dots for all to be labelled, only the disputed, the last, the first and the
    largest are; a label that finds no free place near its dot is left out (the table and each dot's
    title give every figure). A range's mark reaches from its high bound to its low one."""
    reach = []  # each mark's top and bottom
    for f, _, y in points:
        w = _whisker(f.fact, 0.0, baseline, end, TOTALS_HEIGHT, r)
        reach.append((w.y1, w.y2) if w else (y - r, y + r))
    taken = _Taken((x - r - 1.5, top - 1.5, x + r + 1.5, bottom + 1.5) for (_, x, _), (top, bottom) in zip(points, reach))
    largest = max(range(len(points)), key=lambda i: points[i][0].fact.measure.most)
    order = [i for i, p in enumerate(points) if p[0].disputed] + [len(points) - 1, 0, largest]
    if every:
        order += range(len(points))
    labels: dict[int, Label] = {}
    highest = min(t[1] for t in taken.boxes)
    for i in dict.fromkeys(order):
        f, x, y = points[i]
        top, bottom = reach[i]
        text = _value(f.fact, unit) + (" ≠" if f.disputed else "")
        half = text_width(text) / 2
        x = min(max(x, left + half), right - half)
        # Just above the dot, else just below it; then a little further out, clear of a neighbour's dot.
        for baseline_y in (top - 3 - DESCENT * FONT - d if above else bottom + 3 + ASCENT * FONT + d
                           for d in (0, 6, 12) for above in (True, False)):
            box = _box(text, x, baseline_y)
            if box[3] <= baseline - 1 and _clear(box, taken):
                taken.add(box)
                highest = min(highest, box[1])
                labels[i] = Label(text, _r(x), _r(baseline_y))
                break
    return labels, highest


def record(figures: Iterable[Figure]) -> Figure | None:
    """A metric's record: its largest figure for a single month; with none, its largest running total;
    with none, its highest level; with none, its largest figure over a longer span (the earliest, if two
    are equal). A range counts by its low bound, the most it surely reached, then by its high one."""
    by_shape: dict[str, list[Figure]] = {}
    for f in figures:
        if chartable(f.fact):
            by_shape.setdefault(f.shape, []).append(f)
    for shape in ("bar", "marker", "point", "bracket"):
        same = by_shape.get(shape)
        if same:
            # The home page asks again after each save of a figure: the dates only of the largest.
            top = max(_reach(f) for f in same)
            return min((f for f in same if _reach(f) == top), key=lambda f: f.fact.when.first)
    return None


def _reach(f: Figure) -> tuple:
    return (f.fact.measure.least, f.fact.measure.most)
