"""Dates at the precision they were written: a year, a month, a day, or a range.

`2017` is a year and stays a year: nothing here turns it into 2017-01-01.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in(year: int, month: int) -> int:
    # calendar.monthrange works out the weekday too: it was most of the time a
    # build spends on periods, which each fact page, chart and search entry ask.
    return 29 if month == 2 and calendar.isleap(year) else _DAYS[month - 1]


@dataclass(frozen=True, order=True)
class Point:
    """One date at the precision written: day and month may be absent."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @property
    def first(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last(self) -> date:
        if self.day:
            return date(self.year, self.month, self.day)
        month = self.month or 12
        return date(self.year, month, days_in(self.year, month))

    def iso(self) -> str:
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
        if self.day:
            text += f"-{self.day:02d}"
        return text

    def label(self) -> str:
        if self.day:
            return f"{self.day} {MONTHS[self.month - 1]} {self.year}"
        if self.month:
            return f"{MONTHS[self.month - 1]} {self.year}"
        return str(self.year)


def parse_point(text: str) -> Point:
    """Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; raise ValueError with a reason."""
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a date: write 2017, 2017-06 or 2017-06-15")
    year, month, day = (int(g) if g else None for g in match.groups())
    if year < 1:
        raise ValueError(f"'{text}' has no year 0")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"'{text}' has no month {month}")
    if day is not None:
        last = days_in(year, month)
        if not 1 <= day <= last:
            raise ValueError(f"'{text}' is not a date: {MONTHS[month - 1]} {year} has {last} days")
    return Point(year, month, day)


@dataclass(frozen=True, order=True)
class Period:
    """A single point (any precision) or a range between two points."""

    start: Point
    end: Point

    @property
    def is_range(self) -> bool:
        # `single` makes both ends one object: the identity test spares a comparison on every page.
        return self.start is not self.end and self.start != self.end

    @property
    def precision(self) -> str:
        return "range" if self.is_range else self.start.precision

    @property
    def first(self) -> date:
        return self.start.first

    @property
    def last(self) -> date:
        return self.end.last

    def iso(self) -> str:
        """ISO 8601: a range is written start/end."""
        if self.is_range:
            return f"{self.start.iso()}/{self.end.iso()}"
        return self.start.iso()

    def label(self) -> str:
        if not self.is_range:
            return self.start.label()
        return f"{self.start.label()} – {self.end.label()}"

    @property
    def month(self) -> tuple[int, int] | None:
        """The month whose timeline shows this period: its own, or where a range ends."""
        if self.end.month is None:
            return None
        return (self.end.year, self.end.month)

    @property
    def year(self) -> int:
        return self.end.year

    def month_count(self) -> int:
        """How many calendar months the period touches, without listing them (a range may span millennia)."""
        first, last = self.first, self.last
        return (last.year - first.year) * 12 + last.month - first.month + 1

    def touches(self, ym: tuple[int, int]) -> bool:
        first, last = self.first, self.last
        return (first.year, first.month) <= ym <= (last.year, last.month)

    def months(self) -> list[tuple[int, int]]:
        """Every calendar month the period touches, in order: as long as the period, so ask month_count first."""
        out = []
        first, last = self.first, self.last
        y, m, end = first.year, first.month, (last.year, last.month)
        while (y, m) <= end:
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def covers_whole_months(self) -> bool:
        return self.first.day == 1 and self.last == Point(self.last.year, self.last.month).last


def single(point: Point) -> Period:
    return Period(point, point)
