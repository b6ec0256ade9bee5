"""Derived views of a valid Archive: timelines, roll-ups, backlinks, disputes, number checks.

Pure functions of the Archive. Pages ask the Index everything they show
through `Index.get(key)`, which is the one place a page's dependencies arise.
"""
from __future__ import annotations

import calendar
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Hashable

from .model import Archive, Fact
from .problems import Problems

Key = tuple[Hashable, ...]


def sort_key(fact: Fact):
    if fact.when is None:
        return (date.max, date.max, fact.id)
    return (fact.when.first, fact.when.last, fact.id)


def bounds(fact: Fact) -> tuple[Decimal | None, Decimal | None]:
    """The interval a figure allows: 'over 2,000' is [2000, ∞)."""
    m = fact.measure
    v = m.value
    return {
        "exact": (v, v),
        "about": (v * Decimal("0.9"), v * Decimal("1.1")),
        "at-least": (v, None),
        "at-most": (None, v),
    }[m.approx]


def _overlap(a, b) -> bool:
    lo = max((x for x in (a[0], b[0]) if x is not None), default=None)
    hi = min((x for x in (a[1], b[1]) if x is not None), default=None)
    return lo is None or hi is None or lo <= hi


@dataclass(frozen=True)
class Index:
    archive: Archive
    ordered: tuple[str, ...]                      # every fact id, in time order
    by_month: dict[tuple[int, int], tuple[str, ...]]
    by_year: dict[int, tuple[str, ...]]
    undated: tuple[str, ...]
    by_operation: dict[str, tuple[tuple[str, str], ...]]   # op -> (fact id, via op id), rolled up
    children: dict[str, tuple[str, ...]]
    by_source: dict[str, tuple[str, ...]]
    by_metric: dict[str, tuple[str, ...]]
    citing: dict[str, tuple[str, ...]]            # fact id -> article slugs
    op_articles: dict[str, tuple[str, ...]]       # operation id -> slugs of articles about it
    disputes: dict[str, tuple[str, ...]]          # fact id -> fact ids it contradicts
    aliases: dict[str, str]                       # old fact id -> current id
    lists: dict[str, tuple]                       # whole-archive lists: facts, months, years, ...
    # fingerprints computed so far: an Index is one build's and never changes
    _fingerprints: dict = field(default_factory=dict, compare=False, repr=False)

    # -- the one door pages use -------------------------------------------
    def get(self, key: Key) -> Any:
        kind = key[0]
        a = self.archive
        if kind == "site":
            return a.site
        table = {"fact": a.facts, "source": a.sources, "operation": a.operations,
                 "metric": a.metrics, "article": a.articles, "withdrawn": a.withdrawn,
                 "redirect": a.redirects}.get(kind)
        if table is not None:
            return table[key[1]]
        if kind == "month":
            return self.by_month.get(key[1], ())
        if kind == "year":
            return self.by_year.get(key[1], ())
        if kind == "op-facts":
            return self.by_operation.get(key[1], ())
        if kind == "children":
            return self.children.get(key[1], ())
        if kind == "source-facts":
            return self.by_source.get(key[1], ())
        if kind == "metric-facts":
            return self.by_metric.get(key[1], ())
        if kind == "op-articles":
            return self.op_articles.get(key[1], ())
        if kind == "citing":
            return self.citing.get(key[1], ())
        if kind == "disputes":
            return self.disputes.get(key[1], ())
        if kind == "all":
            return self.lists[key[1]]
        if kind == "changed":  # when a fact's file was last committed, or None
            return a.changed.get(a.facts[key[1]].loc.path)
        raise KeyError(key)

    def fingerprint(self, key: Key) -> str:
        """A short digest of what `get(key)` returns, to compare between builds."""
        known = self._fingerprints.get(key)
        if known is None:
            known = self._fingerprints[key] = self._fingerprint(key)
        return known

    def _fingerprint(self, key: Key) -> str:
        try:
            value = self.get(key)
        except KeyError:
            return "-"
        digest = getattr(value, "digest", None)
        if digest is not None:
            return digest
        return hashlib.blake2b(repr(value).encode(), digest_size=8).hexdigest()


def build_index(archive: Archive, problems: Problems) -> Index:
    facts = archive.facts
    ordered = tuple(f.id for f in sorted(facts.values(), key=sort_key))
    by_month, by_year, by_source, by_metric = (defaultdict(list) for _ in range(4))
    undated = []
    for ident in ordered:
        fact = facts[ident]
        if fact.when is None:
            undated.append(ident)
        else:
            if fact.when.month is not None:
                by_month[fact.when.month].append(ident)
            by_year[fact.when.year].append(ident)
        for source in dict.fromkeys(c.source for c in fact.sources):
            by_source[source].append(ident)
        if fact.measure is not None:
            by_metric[fact.measure.metric].append(ident)

    children = defaultdict(list)
    for op in sorted(archive.operations.values(), key=lambda o: (o.start or o.end or _NEVER, o.id)):
        if op.parent in archive.operations:
            children[op.parent].append(op.id)
    by_operation = {op: _rolled_up(op, ordered, facts, children) for op in archive.operations}

    citing = defaultdict(list)
    for slug in sorted(archive.articles):
        for ident, _ in archive.articles[slug].cites:
            if ident in facts and slug not in citing[ident]:
                citing[ident].append(slug)
    op_articles = defaultdict(list)
    for slug in sorted(archive.articles, key=lambda s: (archive.articles[s].date, s)):
        for op in archive.articles[slug].operations:
            op_articles[op].append(slug)
    aliases = {alias: f.id for f in facts.values() for alias in f.aliases}

    index = Index(
        archive=archive, ordered=ordered,
        by_month=_freeze(by_month), by_year=_freeze(by_year), undated=tuple(undated),
        by_operation=by_operation, children=_freeze(children), by_source=_freeze(by_source),
        by_metric=_freeze(by_metric), citing=_freeze(citing), op_articles=_freeze(op_articles),
        disputes=_disputes(archive, ordered), aliases=aliases,
        lists={
            "facts": ordered, "months": tuple(sorted(by_month)), "years": tuple(sorted(by_year)),
            "undated": tuple(undated), "operations": tuple(sorted(archive.operations)),
            "sources": tuple(sorted(archive.sources)), "metrics": tuple(sorted(archive.metrics)),
            "articles": tuple(sorted(archive.articles, key=lambda s: (archive.articles[s].date, s))),
            "aliases": tuple(sorted(aliases.items())),
            "withdrawn": tuple(sorted(archive.withdrawn)),
        },
    )
    check_numbers(index, problems)
    return index


class _Never:
    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return True


_NEVER = _Never()


def _freeze(table) -> dict:
    return {k: tuple(v) for k, v in table.items()}


def _rolled_up(op: str, ordered, facts, children) -> tuple[tuple[str, str], ...]:
    family, stack = {}, [op]
    while stack:
        current = stack.pop()
        if current in family:
            continue  # a parent loop is reported by validate; never loop here
        family[current] = True
        stack.extend(children.get(current, ()))
    out = []
    for ident in ordered:
        ops = facts[ident].operations
        if op in ops:
            out.append((ident, op))
        else:
            via = next((o for o in ops if o in family), None)
            if via is not None:
                out.append((ident, via))
    return tuple(out)


def _series_key(fact: Fact, op: str | None):
    m = fact.measure
    return (m.metric, op, m.aggregation, m.since.iso() if m.since else None)


def _measured(archive: Archive, ordered):
    """(fact, op) pairs of every live figure, once per operation it belongs to."""
    for ident in ordered:
        fact = archive.facts[ident]
        if fact.measure is None or fact.rank == "deprecated" or fact.when is None:
            continue
        for op in fact.operations or (None,):
            yield fact, op


def _disputes(archive: Archive, ordered) -> dict[str, tuple[str, ...]]:
    groups = defaultdict(list)
    for fact, op in _measured(archive, ordered):
        groups[(_series_key(fact, op), fact.when.iso())].append(fact)
    out = defaultdict(list)
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if not _overlap(bounds(a), bounds(b)):
                    if b.id not in out[a.id]:
                        out[a.id].append(b.id)
                    if a.id not in out[b.id]:
                        out[b.id].append(a.id)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _fmt(value: Decimal) -> str:
    # "about" bounds are computed as 0.9 × value: show 380, not 380.0.
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return f"{value:,}"


def check_numbers(index: Index, problems: Problems) -> None:
    """Sums a source states, monthly figures against running totals, totals that fall."""
    archive = index.archive
    monthly = defaultdict(dict)  # (metric, op) -> {(y, m): fact}
    for fact, op in _measured(archive, index.ordered):
        m = fact.measure
        if m.aggregation == "period" and fact.when.precision == "month":
            monthly[(m.metric, op)].setdefault(fact.when.month, fact)
    series = defaultdict(list)
    for fact, op in _measured(archive, index.ordered):
        m = fact.measure
        months = monthly.get((m.metric, op), {})
        if m.aggregation == "period" and fact.when.precision in ("range", "year") and fact.when.covers_whole_months():
            _check_sum(fact, months, problems)
        if m.aggregation == "cumulative":
            # Only months wholly inside the running total's span count: a July
            # figure says nothing about a total "as of 15 July".
            start = m.since.first if m.since else date.min
            span = [k for k in sorted(months) if start <= date(*k, 1) and _month_end(k) <= fact.when.last]
            _check_not_exceeded(fact, span, months, problems, "running total")
            series[_series_key(fact, op)].append(fact)
    for facts in series.values():
        _check_never_falls(sorted(facts, key=lambda f: (f.when.last, f.id)), problems)


def _check_never_falls(facts: list[Fact], problems: Problems) -> None:
    """A running total may only grow: compare each with the highest floor set before it.

    Comparing neighbours alone misses a fall hidden behind a vague figure
    (100, then "at least 50", then 90).
    """
    floor: Fact | None = None
    for fact in facts:
        hi = bounds(fact)[1]
        if floor is not None and hi is not None and fact.when.last > floor.when.last and hi < bounds(floor)[0]:
            problems.warning(fact.loc, f"running total falls: {_fmt(fact.measure.value)} as of {fact.when.label()} "
                             f"is less than {_fmt(floor.measure.value)} as of {floor.when.label()} ({floor.loc})")
        lo = bounds(fact)[0]
        if lo is not None and (floor is None or lo > bounds(floor)[0]):
            floor = fact


def _month_end(ym: tuple[int, int]) -> date:
    return date(ym[0], ym[1], calendar.monthrange(*ym)[1])


def _check_sum(fact: Fact, months, problems: Problems) -> None:
    # The months that have a figure, not every month of the span: a range may cover millennia.
    span = [k for k in sorted(months) if fact.when.touches(k)]
    present = [months[k] for k in span]
    if not present:
        return
    if len(present) < fact.when.month_count() or any(f.measure.approx != "exact" for f in present) or fact.measure.approx != "exact":
        _check_not_exceeded(fact, span, months, problems, "figure")
        return
    total = sum(f.measure.value for f in present)
    if total != fact.measure.value:
        parts = " + ".join(f"{_fmt(f.measure.value)} ({f.id})" for f in present)
        problems.warning(fact.loc, f"sum does not add up: {fact.when.label()} states {_fmt(fact.measure.value)} "
                         f"but its months give {parts} = {_fmt(total)}")


def _check_not_exceeded(fact: Fact, span, months, problems: Problems, what: str) -> None:
    present = [months[k] for k in span if k in months and months[k].id != fact.id]
    lower = sum((bounds(f)[0] or 0) for f in present)
    upper = bounds(fact)[1]
    if present and upper is not None and lower > upper:
        parts = " + ".join(f"{_fmt(f.measure.value)} ({f.id})" for f in present)
        problems.warning(fact.loc, f"monthly figures exceed the {what}: {parts} = {_fmt(lower)} "
                         f"is more than {_fmt(fact.measure.value)}")
