"""Derived views of a valid Archive: timelines, roll-ups, backlinks, disputes, number checks.

Pure functions of the Archive. Pages ask the Index everything they show
through `Index.get(key)`, which is the one place a page's dependencies arise.
"""
from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Hashable

from .history import NOT_A_CHECKOUT
from .model import Archive, Fact, upward
from .periods import days_in
from .problems import Problem, Problems

Key = tuple[Hashable, ...]


def sort_key(fact: Fact):
    if fact.when is None:
        return (date.max, date.max, fact.id)
    return (fact.when.first, fact.when.last, fact.id)


def bounds(fact: Fact) -> tuple[Decimal | None, Decimal | None]:
    """The interval a figure allows: 'over 2,000' is [2000, ∞); '1,200 to 1,500' is [1200, 1500]."""
    m = fact.measure
    v = m.value
    if v is None:
        return (m.low, m.high)
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
    by_month: dict[tuple[int, int], tuple[str, ...]]    # facts dated in the month
    by_year: dict[int, tuple[str, ...]]                 # facts dated in the year, and spans that overlap it
    covering: dict[tuple[int, int], tuple[str, ...]]    # facts over a span of months, on each month they cover
    undated: tuple[str, ...]
    by_operation: dict[str, tuple[tuple[str, str], ...]]   # op -> (fact id, via op id), rolled up
    children: dict[str, tuple[str, ...]]
    by_source: dict[str, tuple[str, ...]]
    by_metric: dict[str, tuple[str, ...]]
    citing: dict[str, tuple[str, ...]]            # fact id -> article slugs
    disputes: dict[str, tuple[str, ...]]          # fact id -> fact ids it contradicts
    aliases: dict[str, str]                       # old fact id -> current id
    replacing: dict[str, tuple[str, ...]]         # fact id -> the deprecated facts it replaces (their replaced_by)
    related: dict[tuple[str, Hashable], dict[str, tuple]]  # (kind, id) -> kind -> ((id, facts shared), ...)
    lists: dict[str, tuple]                       # whole-archive lists: facts, months, years, ...
    # What update_index needs to patch this index for a few facts, kept beside the views: the
    # figures of each dispute group and of each (metric, operation) lane, each lane's warnings,
    # and how many facts each page shares with each other (see _related).
    groups: dict = field(default_factory=dict, compare=False, repr=False)
    lanes: dict = field(default_factory=dict, compare=False, repr=False)
    warnings: dict = field(default_factory=dict, compare=False, repr=False)
    shared: dict = field(default_factory=dict, compare=False, repr=False)
    # One tuple for each key pages read, however many read it: a hundred thousand pages
    # list millions of keys, and each list holds the same few hundred thousand.
    keys: dict = field(default_factory=dict, compare=False, repr=False)

    # -- the one door pages use -------------------------------------------
    def get(self, key: Key) -> Any:
        return _GET[key[0]](self, key)


# Each kind of key, and how the index answers it. A dictionary of small functions
# rather than a chain of tests: pages ask tens of thousands of times a build.
_GET = {
    "site": lambda ix, key: ix.archive.site,
    "fact": lambda ix, key: ix.archive.facts[key[1]],
    "source": lambda ix, key: ix.archive.sources[key[1]],
    "operation": lambda ix, key: ix.archive.operations[key[1]],
    "metric": lambda ix, key: ix.archive.metrics[key[1]],
    "article": lambda ix, key: ix.archive.articles[key[1]],
    "withdrawn": lambda ix, key: ix.archive.withdrawn[key[1]],
    "redirect": lambda ix, key: ix.archive.redirects[key[1]],
    "month": lambda ix, key: ix.by_month.get(key[1], ()),
    "covering": lambda ix, key: ix.covering.get(key[1], ()),
    "replaces": lambda ix, key: ix.replacing.get(key[1], ()),
    "year": lambda ix, key: ix.by_year.get(key[1], ()),
    "op-facts": lambda ix, key: ix.by_operation.get(key[1], ()),
    "children": lambda ix, key: ix.children.get(key[1], ()),
    "source-facts": lambda ix, key: ix.by_source.get(key[1], ()),
    "metric-facts": lambda ix, key: ix.by_metric.get(key[1], ()),
    "citing": lambda ix, key: ix.citing.get(key[1], ()),
    "disputes": lambda ix, key: ix.disputes.get(key[1], ()),
    # ("related", "source", id): what that page's facts also belong to
    "related": lambda ix, key: ix.related.get((key[1], key[2]), _UNRELATED),
    "all": lambda ix, key: ix.lists[key[1]],
    # when a fact's file was last committed, or None
    "changed": lambda ix, key: ix.archive.changed.get(ix.archive.facts[key[1]].loc.path),
    # a content file's date from git, by its path, or None
    "file-changed": lambda ix, key: ix.archive.changed.get(key[1]),
    # a fact's versions (see versions): its Lineage by the id it has (or had last), or None; one Version
    # by the id it was committed under and its number; why there are none (None when git has them)
    "versions": lambda ix, key: ix.archive.history.lineages.get(key[1]) if ix.archive.history else None,
    "version": lambda ix, key: ix.archive.history.version(key[1], key[2]),
    "history": lambda ix, key: ix.archive.history.unavailable if ix.archive.history else NOT_A_CHECKOUT,
}


# -- what a fact belongs to: the tables of ids that list it -------------------------

# A span is listed on each month it covers and each year it overlaps while it covers at most
# these; a longer one only where it ends, so that one fact never makes thousands of pages.
SPREAD_MONTHS = 120
SPREAD_YEARS = 100


def is_span(when) -> bool:
    """A period over more than one calendar month (a rolling twelve months, 17 October to the end of
    November): its months list it as covering them, not as dated in them."""
    return when is not None and when.is_range and (when.first.year, when.first.month) != (when.last.year, when.last.month)


def _months_of(fact: Fact):
    when = fact.when
    if when is None or when.month is None or is_span(when):
        return ()
    return (when.month,)


def _covering_of(fact: Fact):
    when = fact.when
    if not is_span(when):
        return ()
    if when.month_count() > SPREAD_MONTHS:
        return ((when.last.year, when.last.month),)
    return tuple(when.months())


def _years_of(fact: Fact):
    when = fact.when
    if when is None:
        return ()
    if not when.is_range or when.last.year - when.first.year >= SPREAD_YEARS:
        return (when.year,)
    return tuple(range(when.first.year, when.last.year + 1))


def listed_in(fact: Fact) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """The years and months whose timeline pages list a fact: dated in them, or over a span covering them."""
    return _years_of(fact), _months_of(fact) + _covering_of(fact)


def _replacing_of(fact: Fact):
    return (fact.replaced_by,) if fact.rank == "deprecated" and fact.replaced_by is not None else ()


def _undated_of(fact: Fact):
    return (None,) if fact.when is None else ()


def _sources_of(fact: Fact):
    return tuple(dict.fromkeys(c.source for c in fact.sources))


def _metrics_of(fact: Fact):
    return (fact.measure.metric,) if fact.measure is not None else ()


def _live_figure(fact: Fact) -> bool:
    return fact.measure is not None and fact.rank != "deprecated" and fact.when is not None


def _groups_of(fact: Fact):
    """Dispute groups: the figures of one series for one period, which must agree."""
    if not _live_figure(fact):
        return ()
    return tuple((_series_key(fact, op), fact.when.iso()) for op in fact.operations or (None,))


def _lanes_of(fact: Fact):
    """Number-check lanes: the figures of one metric and operation, checked against each other."""
    if not _live_figure(fact):
        return ()
    return tuple((fact.measure.metric, op) for op in fact.operations or (None,))


# table name -> what puts a fact in it
_TABLES = {"by_month": _months_of, "by_year": _years_of, "covering": _covering_of, "undated": _undated_of,
           "by_source": _sources_of, "by_metric": _metrics_of, "replacing": _replacing_of,
           "groups": _groups_of, "lanes": _lanes_of}
# the kind of index key under which pages read a table's groups
_TABLE_KEYS = {"by_month": "month", "by_year": "year", "covering": "covering", "by_source": "source-facts",
               "by_metric": "metric-facts", "replacing": "replaces"}


def _grouped(facts, ordered, keys_of) -> dict:
    out = defaultdict(list)
    for ident in ordered:
        for k in keys_of(facts[ident]):
            out[k].append(ident)
    return {k: tuple(v) for k, v in out.items()}


def build_index(archive: Archive, problems: Problems) -> Index:
    facts = archive.facts
    ordered = tuple(f.id for f in sorted(facts.values(), key=sort_key))
    tables = {name: _grouped(facts, ordered, keys_of) for name, keys_of in _TABLES.items()}
    children = defaultdict(list)
    for op in sorted(archive.operations.values(), key=lambda o: (o.start or o.end or _NEVER, o.id)):
        if op.parent in archive.operations:
            children[op.parent].append(op.id)
    aliases = {alias: f.id for f in facts.values() for alias in f.aliases}
    citing = _citing(archive)
    shared = _shared(archive, ordered, citing)
    return _made(archive, ordered, tables, problems, by_operation=_rolled_up(archive, ordered),
                 children=_freeze(children), citing=citing, aliases=aliases, shared=shared,
                 disputes=_disputes(facts, tables["groups"], {i for ids in tables["groups"].values() for i in ids}, {}),
                 related={page: _ranked(counts) for page, counts in shared.items()},
                 lists=_lists(archive, ordered, tables, tables["undated"].get(None, ()), aliases),
                 warnings={lane: _check_lane(archive, ids) for lane, ids in tables["lanes"].items()})


def _made(archive: Archive, ordered, tables, problems: Problems, **rest) -> Index:
    """The one place an Index is made, built or patched: the tables by their names, the rest as given;
    the number checks' warnings reported."""
    for found in rest["warnings"].values():
        problems.items.extend(found)
    return Index(archive=archive, ordered=ordered, by_month=tables["by_month"], by_year=tables["by_year"],
                 covering=tables["covering"], undated=tables["undated"].get(None, ()),
                 by_source=tables["by_source"], by_metric=tables["by_metric"], replacing=tables["replacing"],
                 groups=tables["groups"], lanes=tables["lanes"], **rest)


def _lists(archive: Archive, ordered, tables, undated, aliases) -> dict[str, tuple]:
    return {
        "facts": ordered, "months": _months(tables), "years": tuple(sorted(tables["by_year"])),
        "span": _span(archive.facts, ordered, undated, None), "undated": undated,
        "operations": tuple(sorted(archive.operations)),
        "sources": tuple(sorted(archive.sources)), "metrics": tuple(sorted(archive.metrics)),
        "articles": tuple(sorted(archive.articles, key=lambda s: (archive.articles[s].date, s))),
        "aliases": tuple(sorted(aliases.items())),
        "withdrawn": tuple(sorted(archive.withdrawn)),
    }


def _months(tables) -> tuple[tuple[int, int], ...]:
    """Every month with a page: a fact dated in it, or a span covering it."""
    return tuple(sorted(tables["by_month"].keys() | tables["covering"].keys()))


def _span(facts, ordered, undated, end) -> tuple | None:
    """(where the earliest fact starts, where the latest ends) as Points, or None with no dated fact.

    The time order is by first day, so the start is its first fact's; the end is looked for among all
    of them unless `end`, the latest end known and still standing, is given."""
    dated = len(ordered) - len(undated)
    if not dated:
        return None
    if end is None:
        end = max((facts[i].when for i in ordered[:dated]), key=lambda w: (w.last, w.end.iso())).end
    return (facts[ordered[0]].when.start, end)


def _citing(archive: Archive) -> dict[str, tuple[str, ...]]:
    citing = defaultdict(list)
    for slug in sorted(archive.articles):
        for ident, _ in archive.articles[slug].cites:
            if ident in archive.facts and slug not in citing[ident]:
                citing[ident].append(slug)
    return _freeze(citing)


def update_index(old: Index, archive: Archive, changed: set[str], problems: Problems) -> tuple[Index, set] | None:
    """`old` patched for the facts in `changed` (edited, added or removed), and the keys whose value changed.

    The preview's way to keep a save of one fact quick in a large archive:
    only the months, operations, sources, dispute groups and number-check
    lanes those facts were or are in are worked out again, and of those
    only the ones a fact joined or left. None when anything but facts
    changed: then build_index does it all. `archive.changed` (git's dates)
    may differ from the old one's for the changed facts only.
    """
    a, b = old.archive, archive
    if any(x is not y and x != y for x, y in ((a.site, b.site), (a.metrics, b.metrics), (a.operations, b.operations),
                                             (a.sources, b.sources), (a.articles, b.articles),
                                             (a.withdrawn, b.withdrawn), (a.redirects, b.redirects))):
        return None
    before, facts = a.facts, b.facts
    versions = [f for c in changed for f in (before.get(c), facts.get(c)) if f is not None]
    keys: set = {("fact", c) for c in changed}
    # The sitemap reads it alone; a fact that came or went changed it too.
    keys.update(("changed", c) for c in changed if (c in a.facts, _date(a, c)) != (c in b.facts, _date(b, c)))
    ordered = _reordered(old.ordered, before, facts, changed)
    # Where a fact that kept its date and its places in every table would go: nowhere new.
    stayed = {c for c in changed if c in before and c in facts and sort_key(before[c]) == sort_key(facts[c])}
    position = _Positions(ordered)
    tables = _regrouped(old, before, facts, changed, stayed, position, keys)
    moving = [c for c in changed if c not in stayed or before[c].operations != facts[c].operations]
    by_operation, differ = _rerolled(old, archive, moving, position)
    keys.update(("op-facts", op) for op in differ)
    aliases = _realiased(old, before, facts, changed)
    citing = _citing(archive) if any((c in before) != (c in facts) for c in changed) else old.citing
    keys.update(("citing", i) for i in set(citing) | set(old.citing) if citing.get(i) != old.citing.get(i))
    involved = {i for f in versions for g in _groups_of(f) for i in old.groups.get(g, ()) + tables["groups"].get(g, ())}
    disputes = _disputes(facts, tables["groups"], involved, old.disputes)
    keys.update(("disputes", i) for i in involved | changed if disputes.get(i) != old.disputes.get(i))
    shared, related = _rerelated(old, archive, citing, changed, keys)
    undated = tables["undated"].get(None, ())
    lists = dict(old.lists, facts=ordered, months=_months(tables), years=tuple(sorted(tables["by_year"])),
                 span=_span(facts, ordered, undated, _end_kept(old.lists["span"], versions)), undated=undated,
                 aliases=old.lists["aliases"] if aliases is old.aliases else tuple(sorted(aliases.items())))
    keys.update(("all", name) for name, value in lists.items() if value != old.lists[name])
    # The keys pages read, interned, carried over (a copy: the old index is a session's, kept as it was).
    index = _made(archive, ordered, tables, problems, by_operation=by_operation, children=old.children,
                  citing=citing, disputes=disputes, aliases=aliases, related=related, lists=lists,
                  warnings=_rechecked(old, archive, tables, versions), shared=shared, keys=dict(old.keys))
    return index, keys


def _regrouped(old: Index, before, facts, changed, stayed, position, keys: set) -> dict:
    """Each table of _TABLES with the changed facts moved to the groups they are in now; the keys of
    the groups whose facts differ added to `keys`."""
    tables = {}
    for name, keys_of in _TABLES.items():
        table = {None: old.undated} if name == "undated" else getattr(old, name)
        moving = [c for c in changed if c not in stayed or keys_of(before[c]) != keys_of(facts[c])]
        if name in ("groups", "lanes"):  # a figure's value matters to these even when it stays put
            moving = list(changed)
        tables[name], differ = _regroup(table, before, facts, moving, keys_of, position)
        if name in _TABLE_KEYS:
            keys.update((_TABLE_KEYS[name], k) for k in differ)
    return tables


def _realiased(old: Index, before, facts, changed) -> dict:
    if not any(before[c].aliases != facts[c].aliases if c in before and c in facts else c in before or c in facts
               for c in changed):
        return old.aliases
    aliases = {alias: ident for alias, ident in old.aliases.items() if ident not in changed}
    aliases.update((alias, c) for c in changed if c in facts for alias in facts[c].aliases)
    return aliases


def _rerelated(old: Index, archive: Archive, citing, changed, keys: set) -> tuple[dict, dict]:
    """The facts each page shares with others, and the ranked lists made of them, for the pages the
    changed facts were or are on; the pages whose list differs added to `keys`."""
    shared, differ = _reshared(old, archive, citing, changed)
    related = dict(old.related) if differ else old.related
    for page in differ:
        if page in shared:
            related[page] = _ranked(shared[page])
        else:
            related.pop(page, None)
        if related.get(page) != old.related.get(page):
            keys.add(("related", *page))
    return shared, related


def _rechecked(old: Index, archive: Archive, tables, versions) -> dict:
    """The number checks of every lane a changed fact was or is in, done again."""
    warnings = dict(old.warnings)
    for lane in {lane for f in versions for lane in _lanes_of(f)}:
        ids = tables["lanes"].get(lane)
        if ids:
            warnings[lane] = _check_lane(archive, ids)
        else:
            warnings.pop(lane, None)
    return warnings


def _date(archive: Archive, ident: str) -> str | None:
    fact = archive.facts.get(ident)
    return archive.changed.get(fact.loc.path) if fact is not None else None


def _end_kept(span, versions):
    """The old span's end, if no changed fact (as it was or is) ends as late: else None, to look again."""
    if span is None or any(f.when is not None and f.when.last >= span[1].last for f in versions):
        return None
    return span[1]


class _Positions:
    """Each fact's place in the time order, worked out the first time a table needs it."""

    def __init__(self, ordered):
        self._ordered, self._places = ordered, None

    def __getitem__(self, ident: str) -> int:
        if self._places is None:
            self._places = {i: n for n, i in enumerate(self._ordered)}
        return self._places[ident]


def _reordered(ordered, before, facts, changed) -> tuple[str, ...]:
    """The time order with the changed facts taken out and put back where they now belong."""
    if all(c in before and c in facts and sort_key(before[c]) == sort_key(facts[c]) for c in changed):
        return ordered
    kept = [i for i in ordered if i not in changed]
    for c in sorted(c for c in changed if c in facts):
        bisect.insort(kept, c, key=lambda i: sort_key(facts[i]))
    return tuple(kept)


def _regroup(table: dict, before, facts, moving, keys_of, position) -> tuple[dict, set]:
    """`table` with the moving facts taken out of their groups and put in the ones they now belong to;
    and the groups that differ."""
    affected = {k for c in moving for f in (before.get(c), facts.get(c)) if f is not None for k in keys_of(f)}
    if not affected:
        return table, set()
    out = dict(table)
    differ = set()
    gone = set(moving)
    for k in affected:
        members = [i for i in table.get(k, ()) if i not in gone]
        members += [c for c in moving if c in facts and k in keys_of(facts[c])]
        members.sort(key=position.__getitem__)
        members = tuple(members)
        if members != table.get(k, ()):
            differ.add(k)
        if members:
            out[k] = members
        else:
            out.pop(k, None)
    return out, differ


def _rerolled(old: Index, archive: Archive, moving, position) -> tuple[dict, set]:
    """The roll-ups of the operations the moving facts were or are in, and of every operation above them."""
    before, facts = old.archive.facts, archive.facts
    ops = {up for c in moving for f in (before.get(c), facts.get(c)) if f is not None
           for op in f.operations for up in upward(op, archive.operations.get)}
    if not ops:
        return old.by_operation, set()
    out = dict(old.by_operation)
    differ = set()
    gone = set(moving)
    through = {c: _through(facts[c].operations, archive.operations) for c in moving if c in facts}
    for op in ops:
        rows = [row for row in old.by_operation.get(op, ()) if row[0] not in gone]
        for c, vias in through.items():
            if op in vias:
                rows.append((c, vias[op]))
        rows.sort(key=lambda row: position[row[0]])
        rows = tuple(rows)
        if rows != old.by_operation.get(op, ()):
            differ.add(op)
        out[op] = rows
    return out, differ


class _Never:
    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return True


_NEVER = _Never()


def _freeze(table) -> dict:
    return {k: tuple(v) for k, v in table.items()}


def _through(listed, ops) -> dict[str, str]:
    """Each operation a fact's roll-up belongs to, and which of the operations it lists it comes through.

    An operation it lists, through that one; every operation above one it
    lists, through the first of them that is inside it.
    """
    via = {op: op for op in listed if op in ops}
    for op in listed:
        for up in upward(op, ops.get):
            via.setdefault(up, op)
    return via


def _rolled_up(archive: Archive, ordered) -> dict[str, tuple[tuple[str, str], ...]]:
    """For each operation, its facts and those of the operations under it, each with the one it came through.

    In one pass over the facts, each going up from its operations: asking
    every operation of every fact took time that grew with both.
    """
    rows: dict[str, list] = {op: [] for op in archive.operations}
    for ident in ordered:
        for outer, op in _through(archive.facts[ident].operations, archive.operations).items():
            rows[outer].append((ident, op))
    return {op: tuple(found) for op, found in rows.items()}


_RELATED_KINDS = ("operation", "source", "month", "year", "article")
_UNRELATED = {kind: () for kind in _RELATED_KINDS}
_TIME = ("month", "year")


def _tags(fact: Fact, archive: Archive, citing) -> list[tuple[str, Hashable]]:
    """The pages that list a fact: its sources, its operations and those above them, its month and year, its articles."""
    tags = [("source", s) for s in dict.fromkeys(c.source for c in fact.sources)]
    ops = {up for op in fact.operations for up in upward(op, archive.operations.get)}
    tags += [("operation", o) for o in sorted(ops)]
    years, months = listed_in(fact)
    tags += [("month", ym) for ym in months]
    tags += [("year", y) for y in years]
    tags += [("article", slug) for slug in citing.get(fact.id, ())]
    return tags


def _count(shared: dict, tags, step: int) -> None:
    for a in tags:
        counts = shared.setdefault(a, {})
        for b in tags:
            # A month and its year are linked by the timeline itself.
            if a[0] != b[0] and not (a[0] in _TIME and b[0] in _TIME):
                counts[b] = counts.get(b, 0) + step


def _written(archive: Archive) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Links an editor wrote (an operation's sources, an article's operations): related with no fact shared."""
    pairs = [(("operation", op.id), ("source", c.source)) for op in archive.operations.values() for c in op.sources]
    pairs += [(("article", a.slug), ("operation", o)) for a in archive.articles.values() for o in a.operations]
    return pairs + [(b, a) for a, b in pairs]


def _shared(archive: Archive, ordered, citing) -> dict:
    """For each source, operation, month, year and article: how many facts it shares with each other one.

    Counted in one pass over the facts so that no page scans the archive; an
    operation counts the facts of its sub-operations, as its page lists them.
    """
    shared: dict = {}
    for ident in ordered:
        _count(shared, _tags(archive.facts[ident], archive, citing), 1)
    written = _written(archive)
    for a, b in written:
        shared.setdefault(a, {}).setdefault(b, 0)
    return _kept(shared, list(shared), {a for a, _ in written}, set(written))


def _kept(shared: dict, pages, written_pages: set, written: set) -> dict:
    """`shared` with, for the given pages, counts fallen to nought taken out unless an editor wrote the link."""
    for page in pages:
        counts = {b: n for b, n in shared[page].items() if n > 0 or (page, b) in written}
        if counts or page in written_pages:
            shared[page] = counts
        else:
            del shared[page]
    return shared


def _reshared(old: Index, archive: Archive, citing, changed) -> tuple[dict, set]:
    """The shared counts with the changed facts' old tags taken away and their new ones added."""
    before = old.archive.facts
    steps = []
    for c in changed:
        was = _tags(before[c], old.archive, old.citing) if c in before else []
        now = _tags(archive.facts[c], archive, citing) if c in archive.facts else []
        if was != now:
            steps += [(was, -1), (now, 1)]
    if not steps:
        return old.shared, set()
    pages = {a for tags, _ in steps for a in tags}
    shared = dict(old.shared)
    for page in pages:
        shared[page] = dict(shared.get(page, {}))
    for tags, step in steps:
        _count(shared, tags, step)
    written = _written(archive)
    return _kept(shared, pages, {a for a, _ in written}, set(written)), pages


def _ranked(counts: dict) -> dict[str, tuple]:
    """The most shared first; ties in id order, months and years in time order."""
    ranked = sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1]) if kv[0][0] in _TIME
                    else (kv[0][0], -kv[1], kv[0][1]))
    table = {kind: [] for kind in _RELATED_KINDS}
    for (kind, ident), n in ranked:
        table[kind].append((ident, n))
    return {kind: tuple(rows) for kind, rows in table.items()}


def _series_key(fact: Fact, op: str | None):
    m = fact.measure
    return (m.metric, op, m.aggregation, m.since.iso() if m.since else None)


def _disputes(facts, groups, involved, old) -> dict[str, tuple[str, ...]]:
    """Which facts contradict each other: `old` with the entries of the `involved` facts worked out again."""
    out = {k: v for k, v in old.items() if k not in involved}
    for ident in involved:
        fact = facts.get(ident)
        mine = _groups_of(fact) if fact is not None else ()
        if not mine:
            continue
        allows = bounds(fact)
        found = {other for g in mine for other in groups.get(g, ())
                 if other != ident and not _overlap(allows, bounds(facts[other]))}
        if found:
            out[ident] = tuple(sorted(found))
    return out


def _fmt(value: Decimal) -> str:
    # "about" bounds are computed as 0.9 × value: show 380, not 380.0.
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return f"{value:,}"


def _figure(fact: Fact) -> str:
    """A figure as the checks' messages write it: 4,848, or a range 1,200–1,500."""
    m = fact.measure
    return _fmt(m.value) if m.value is not None else f"{_fmt(m.low)}–{_fmt(m.high)}"


def _check_lane(archive: Archive, ids) -> tuple[Problem, ...]:
    """Sums a source states, monthly figures against running totals, totals that fall: one metric, one operation."""
    problems = Problems()
    facts = [archive.facts[i] for i in ids]
    months = {}
    for fact in facts:
        if fact.measure.aggregation == "period" and fact.when.precision == "month":
            months.setdefault(fact.when.month, fact)
    series = defaultdict(list)
    for fact in facts:
        m = fact.measure
        if m.aggregation == "period" and fact.when.precision in ("range", "year") and fact.when.covers_whole_months():
            _check_sum(fact, months, problems)
        if m.aggregation == "cumulative":
            # Only months wholly inside the running total's span count: a July
            # figure says nothing about a total "as of 15 July".
            start = m.since.first if m.since else date.min
            span = [k for k in sorted(months) if start <= date(*k, 1) and _month_end(k) <= fact.when.last]
            _check_not_exceeded(fact, span, months, problems, "running total")
            series[(m.since.iso() if m.since else None)].append(fact)
    for found in series.values():
        _check_never_falls(sorted(found, key=lambda f: (f.when.last, f.id)), problems)
    return tuple(problems.items)


def _check_never_falls(facts: list[Fact], problems: Problems) -> None:
    """A running total may only grow: compare each with the highest floor set before it.

    Comparing neighbours alone misses a fall hidden behind a vague figure
    (100, then "at least 50", then 90).
    """
    floor: Fact | None = None
    for fact in facts:
        hi = bounds(fact)[1]
        if floor is not None and hi is not None and fact.when.last > floor.when.last and hi < bounds(floor)[0]:
            problems.warning(fact.loc, f"running total falls: {_figure(fact)} as of {fact.when.label()} "
                             f"is less than {_figure(floor)} as of {floor.when.label()} ({floor.loc})")
        lo = bounds(fact)[0]
        if lo is not None and (floor is None or lo > bounds(floor)[0]):
            floor = fact


def _month_end(ym: tuple[int, int]) -> date:
    return date(ym[0], ym[1], days_in(*ym))


def _check_sum(fact: Fact, months, problems: Problems) -> None:
    """A stated sum against its months' figures. Months given as ranges add up to a range (the lows
    added, the highs added), and the sum is reported only when the stated figure falls outside it."""
    # The months that have a figure, not every month of the span: a range may cover millennia.
    span = [k for k in sorted(months) if fact.when.touches(k)]
    present = [months[k] for k in span]
    if not present:
        return
    if len(present) < fact.when.month_count() or any(f.measure.approx != "exact" for f in present) or fact.measure.approx != "exact":
        _check_not_exceeded(fact, span, months, problems, "figure")
        return
    low, high = sum(f.measure.least for f in present), sum(f.measure.most for f in present)
    if not _overlap((low, high), bounds(fact)):
        parts = " + ".join(f"{_figure(f)} ({f.id})" for f in present)
        total = _fmt(low) if low == high else f"{_fmt(low)}–{_fmt(high)}"
        problems.warning(fact.loc, f"sum does not add up: {fact.when.label()} states {_figure(fact)} "
                         f"but its months give {parts} = {total}")


def _check_not_exceeded(fact: Fact, span, months, problems: Problems, what: str) -> None:
    present = [months[k] for k in span if k in months and months[k].id != fact.id]
    lower = sum((bounds(f)[0] or 0) for f in present)
    upper = bounds(fact)[1]
    if present and upper is not None and lower > upper:
        parts = " + ".join(f"{_figure(f)} ({f.id})" for f in present)
        problems.warning(fact.loc, f"monthly figures exceed the {what}: {parts} = {_fmt(lower)} "
                         f"is more than {_figure(fact)}")
