"""The plan: every page of the site, and how each gathers what it shows.

A page's context is built through a `Reader`, which records every record and
query the page touches. Those keys are the page's dependencies: nobody
declares them by hand, so an incremental build that re-renders a page when
one of its keys changes is right by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Callable, Hashable

from . import cite, exports, urls, versions
from .charts import Chart, Figure, build_chart, chartable, record, scales_for
from .index import Index, Key, is_span, listed_in
from .model import Archive, upward
from .periods import Point
from .problems import Problems
from .schema import did_you_mean
from .search import search_index


@dataclass(frozen=True)
class Page:
    path: str                 # the permalink path, see urls
    template: str             # Jinja template, or "" for files made by a producer (see PRODUCERS)
    kind: str                 # which context builder / producer makes it
    key: Hashable = None      # the record or period it is about
    source: str = ""          # what asked for this page, for error messages


class Interrupted(BaseException):
    """The work in hand gives way: raised by a Memo's `interrupt` (the preview's, when a save waits).

    Not an Exception, so that nothing on the way, a template's error
    handling least of all, takes it for a problem of the page being drawn.
    """


class Reader:
    """The index as one page sees it: every lookup is recorded as a dependency."""

    def __init__(self, index: Index, memo: "Memo | None" = None):
        self._index = index
        self._intern = index.keys.setdefault
        self.deps: dict[Key, None] = {}
        self._memo = Memo() if memo is None else memo

    def get(self, *key: Hashable) -> Any:
        self.deps[self._intern(key, key)] = None
        return self._index.get(key)

    def facts(self, ids) -> list:
        return [self.get("fact", i) for i in ids]

    def derive(self, make: Callable[..., Any], *args: Hashable) -> Any:
        """`make(reader, *args)`, computed once however many pages ask for it.

        What `make` read the first time is recorded for every page that asks
        again, so sharing the work never hides a dependency. A memo kept from
        an earlier build (see Memo) holds only values none of whose keys changed.
        """
        memo = self._memo
        key = (make, args)
        found = self._found(key)
        if found is None:
            self.checkpoint()
            inner = Reader(self._index, memo)
            found = memo.put(key, make(inner, *args), inner.deps)
        self.deps.update(zip(found[1], repeat(None)))
        return found[0]

    def derive_each(self, make: Callable[..., Any], ids) -> list:
        """`[self.derive(make, i) for i in ids]`, derived in blocks of ids.

        A data file holds a line for each of ten thousand facts; asked for
        block by block, the lines cost a few dozen lookups when one fact
        changed, not ten thousand.
        """
        ids = tuple(ids)
        out: list = []
        for start in range(0, len(ids), BLOCK):
            out.extend(self.derive(_each, make, ids[start:start + BLOCK]))
        return out

    def kept(self, key: Hashable, make: Callable[..., tuple[Any, tuple]], *args) -> Any:
        """A value kept in the memo under `key` that no page derives from the index: `make(*args)` gives it
        with the keys it stands on, and it is made again once one of them changed (see Memo.forget).

        What the renderer draws of a row (see Renderer._fragments_of): the keys are the row's, which the
        page read as it derived the row, so none is recorded for the page here.
        """
        found = self._found(key)
        if found is None:
            self.checkpoint()
            value, deps = make(*args)
            found = self._memo.put(key, value, deps)
        return found[0]

    def _found(self, key: Hashable) -> tuple | None:
        """The memo's value under `key`, with the keys it read; a memo that meets another index forgets all."""
        if self._memo.index is not self._index:
            self._memo.meet(self._index)
        return self._memo.found(key)

    def checkpoint(self) -> None:
        """Where work not done yet begins: the memo's `interrupt`, if it has one, may stop it here."""
        if self._memo.interrupt is not None:
            self._memo.interrupt()


BLOCK = 256


def _each(r: Reader, make: Callable[..., Any], ids: tuple) -> tuple:
    return tuple(r.derive(make, i) for i in ids)


class Memo:
    """Values derived from the index, with the keys each read.

    One build fills it. The preview keeps it for the next build, and first
    tells it (`forget`) which keys changed since: the values that read any
    of them go, and the rest stand. A memo that meets an index it was not
    told about forgets everything, so a value never outlives its build by mistake.
    """

    def __init__(self, track: bool = False, behind: "Memo | None" = None):
        self.entries: dict = {}  # (make, args) -> (value, the keys it read)
        # A render worker's view of the build's memo, as it stood when the render began (see
        # rebuild.start_worker): read, never written, so that a thread of a pool changes nothing of it.
        self._behind = behind.entries if behind is not None else {}
        self.index: Index | None = behind.index if behind is not None else None
        # key -> the entries that read it; kept only by a memo that lives through several builds
        self._readers: dict[Key, list] | None = {} if track else None
        # Called before each value not derived yet (and each fragment not drawn yet): the
        # preview's, while it renders in the background, raises Interrupted once a save waits.
        # What was derived until then stays, so the work starts again from where it stopped.
        self.interrupt: Callable[[], None] | None = None
        self._resumed = False  # entries from disk, not counted in _readers yet

    def found(self, key) -> tuple | None:
        """The value kept under `key` with the keys it read, or None."""
        found = self.entries.get(key)
        return found if found is not None else self._behind.get(key)

    @classmethod
    def resumed(cls, entries: dict) -> "Memo":
        """A session's memo as `text` left it, for a build in another process; told what changed,
        it keeps the values that read none of it (see forget)."""
        memo = cls(track=True)
        memo.entries, memo._readers, memo._resumed = dict(entries), None, True
        return memo

    def text(self) -> dict:
        """The values that are text (a data file's line for each fact, say), with the keys each read.

        What a session leaves on disk: text pickles as fast as memory copies
        (25 MB in 0.13 s at 10,000 facts), and the data files' lines for ten
        thousand facts took 2.5 s to derive again; and the rows the renderer
        drew (see Reader.kept), which one fact edited would otherwise draw
        again for every list it is on: ten thousand each for the lists of an
        operation at 100,000 facts. Records and rows themselves are derived
        again instead: pickled, they cost more than they save."""
        named: dict = {}  # each kind of value asked once: a session's memo holds a few hundred thousand
        out = {}
        for key, found in self.entries.items():
            make = key[0] if key[0] is not _each else key[1][0]
            kept = named.get(make)
            if kept is None:
                kept = named[make] = _by_name(key[0]) and _by_name(make)
            if kept and _is_text(found[0]):
                out[key] = found
        return out

    def count_readers(self) -> None:
        """Count which entries read each key, for a session that builds again and again (the preview):
        each `forget` then looks at the entries that read a changed key only, not at all of them."""
        if self._resumed:
            self._readers, self._resumed = {}, False
            for key, (_, deps) in self.entries.items():
                for dep in deps:
                    self._readers.setdefault(dep, []).append(key)

    def meet(self, index: Index) -> None:
        self.entries.clear()
        self._behind = {}
        if self._readers is not None or self._resumed:
            self._readers, self._resumed = {}, False
        self.index = index

    def forget(self, changed, index: Index) -> None:
        """The next build reads `index`, in which `changed` keys differ from the last one's."""
        self._behind = {}
        if self._resumed:  # entries from disk, not counted: one pass over them (see count_readers)
            self.entries = {key: found for key, found in self.entries.items() if changed.isdisjoint(found[1])}
            self.index = index
            return
        if self._readers is None:
            self.meet(index)
            return
        for key in changed:
            for entry in self._readers.pop(key, ()):
                self.entries.pop(entry, None)
        self.index = index

    def drop(self, make: Callable) -> None:
        """Let go of every value `make` made: those the renderer drew of rows, say, once a template changed."""
        self.entries = {key: found for key, found in self.entries.items() if key[0] is not make}

    @property
    def lasting(self) -> bool:
        """Whether this memo lives on after the build (a session's), or goes with it."""
        return self._readers is not None or self._resumed

    def keys(self):
        """Every key some value held here read, where the memo keeps count (see _readers)."""
        return self._readers.keys() if self._readers is not None else ()

    def put(self, key, value, deps: dict) -> tuple:
        # The keys as a tuple: a third of a dict's memory, and a memo holds a few for every fact.
        found = self.entries[key] = (value, tuple(deps))
        if self._readers is not None and not self._resumed:
            for dep in deps:
                self._readers.setdefault(dep, []).append(key)
        return found


def _by_name(make) -> bool:
    """Whether pickle can name the function (a module's own, not a lambda or a function inside another)."""
    return "<" not in getattr(make, "__qualname__", "<")


def _is_text(value) -> bool:
    """Text, None, or tuples of them: a block of a data file's lines, or of the feed's (time, entry)
    pairs, whose time is None for a fact of no known date (its block was derived on every build)."""
    kind = type(value)
    if kind is str or value is None:
        return True
    return kind is tuple and all(map(_is_text, value))


def plan(index: Index, problems: Problems, claims: "Claims | None" = None) -> list[Page]:
    """Every page to write, in a stable order; a redirect that cannot be one is reported instead.

    `claims` are the addresses files with errors would still make: a redirect to
    one of them is planned (the build fails on that file and renders nothing).
    """
    a = index.archive
    scheme = scheme_of(a)
    pages = [
        Page(urls.home(), "home.html", "home"),
        Page(urls.timeline(), "timeline.html", "timeline"),
        Page(scheme.operations(), "operations.html", "operations"),
        Page(urls.sources(), "sources.html", "sources"),
        Page(urls.articles(), "articles.html", "articles"),
        Page(urls.not_found(), "404.html", "404"),
        Page(urls.search(), "search.html", "search"),
        Page(urls.search_index(), "", "search-index"),
        Page(urls.metrics(), "metrics.html", "metrics"),
    ]
    pages += [Page(urls.year(y), "year.html", "year", y) for y in sorted(index.by_year)]
    pages += [Page(urls.month(ym), "month.html", "month", ym) for ym in index.lists["months"]]
    pages += [Page(scheme.operation(i), "operation.html", "operation", i, a.operations[i].loc.path) for i in sorted(a.operations)]
    pages += [Page(urls.metric(i), "metric.html", "metric", i, a.metrics[i].loc.path) for i in sorted(a.metrics)]
    pages += [Page(urls.source(i), "source.html", "source", i, a.sources[i].loc.path) for i in sorted(a.sources)]
    pages += [Page(urls.article(s), "article.html", "article", s, a.articles[s].loc.path) for s in sorted(a.articles)]
    pages += [Page(urls.fact(i), "fact.html", "fact", i, a.facts[i].loc.path) for i in index.ordered]
    pages += [Page(urls.fact(old), "redirect.html", "alias", old, a.facts[new].loc.path)
              for old, new in sorted(index.aliases.items())]
    pages += [Page(urls.fact(i), "withdrawn.html", "withdrawn", i, a.withdrawn[i].loc.path) for i in sorted(a.withdrawn)]
    pages += [Page(urls.version(*key), "version.html", "version", key, path) for key, path in versions.planned(a)]
    pages += data_files(index)
    pages.append(Page(urls.sitemap(), "", "sitemap", tuple(p.path for p in pages if listed(p))))
    return pages + redirects(index, pages, claims or Claims(), problems)


REDIRECTS = "content/redirects.yaml"


def redirects(index: Index, pages: list[Page], claims: "Claims", problems: Problems) -> list[Page]:
    """A page at each old address of content/redirects.yaml: a redirect to its live page, or,
    for a data file (a static host cannot redirect one), a copy of the file it names."""
    live = {p.path: p for p in pages}
    entries = index.archive.redirects
    out = []
    for entry in entries.values():
        still = live.get(entry.old)
        if still is not None:
            made = f"made by {still.source}" if still.source else "one the site always has"
            problems.error(entry.loc, f"/{entry.old} is still a page of this site ({made}): "
                                      "a redirect would hide it; remove this line")
            continue
        target = live.get(entry.to)
        if target is None and not claims.covers(entry.to):
            if entry.to in entries:
                why = f"is itself redirected, to /{entries[entry.to].to}: name that page"
            else:
                why = f"is not a page of this site{did_you_mean('/' + entry.to, ['/' + p for p in live])}"
            problems.error(entry.to_loc, f"/{entry.to} {why}")
            continue
        if target is not None and target.kind == "alias":
            fact = dict(index.lists["aliases"])[target.key]
            problems.error(entry.to_loc, f"/{entry.to} is itself a redirect, an old id of fact '{fact}': "
                                         f"name /{urls.fact(fact)}")
            continue
        if urls.is_page(entry.old):
            out.append(Page(entry.old, "redirect.html", "redirect", entry.old, REDIRECTS))
        else:
            kind, key = (target.kind, target.key) if target is not None else urls.parse(entry.to)
            out.append(Page(entry.old, "", kind, key, REDIRECTS))
    return out


@dataclass(frozen=True)
class Claims:
    """Addresses that files with errors would still publish (see model.Broken).

    None of them is reported as dropped while its file is broken: fixing the
    file brings it back. `kinds` are kinds of page (urls.parse) of which a file
    that did not read far enough might make any one.
    """

    paths: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    history: str | None = None  # why this build has no versions (see versions.available): then it makes none

    def covers(self, path: str) -> bool:
        if path in self.paths:
            return True
        parsed = urls.parse(path) if self.kinds else None
        return parsed is not None and parsed[0] in self.kinds


def scheme_of(archive: Archive) -> urls.Scheme:
    """The archive's permalink scheme: its groups' pages under the segment its site.yaml names."""
    return urls.Scheme(archive.site.groups.path if archive.site is not None else urls.DEFAULT_GROUPS)


def _record_pages(scheme: urls.Scheme) -> dict:
    """The pages a record of each kind makes of its own, by its id."""
    return {"fact": (urls.fact,), "withdrawn": (urls.fact,), "operation": (scheme.operation, scheme.operation_facts),
            "source": (urls.source,), "article": (urls.article,), "metric": (urls.metric,)}


# The kinds of a group's pages: a site.yaml that did not read may have put them under any segment.
_GROUP_KINDS = frozenset({"operations", "operation", "operation-json"})


def claimed(archive: Archive) -> Claims:
    paths: set[str] = set()
    kinds: set[str] = set()
    record_pages = _record_pages(scheme_of(archive))
    for item in archive.broken:
        if item.kind == "site":
            kinds.update(_GROUP_KINDS)
        if item.kind == "metrics":  # metrics.yaml did not read: any metric page may be one of its
            kinds.add("metric")
        if item.kind == "redirects":  # nor redirects.yaml: it may keep any address but a fact's
            kinds.update(urls.kinds() - {"fact"})
        if item.id is None:
            continue
        if item.kind == "redirect":
            paths.add(item.id)
            continue
        paths.update(page(item.id) for page in record_pages.get(item.kind, ()))
        if item.kind != "fact":
            continue
        if item.knows("aliases"):
            paths.update(urls.fact(alias) for alias in item.record.aliases)
        else:
            kinds.add("fact")
        if not item.knows("when"):
            kinds.update(("year", "month", "month-json"))  # it may be the last fact of any month
        elif item.record.when is not None:
            years, months = listed_in(item.record)
            paths.update(urls.year(y) for y in years)
            paths.update(path for ym in months for path in (urls.month(ym), urls.month_facts(ym)))
    history = versions.available(archive)
    if history is not None:  # without git's history no version is built, nor dropped (see permalinks.check)
        kinds.add("version")
    return Claims(frozenset(paths), frozenset(kinds), history)


# HTML pages that are not content of their own (the robots meta says noindex): left out of the sitemap.
# A fact's versions are its past, reached from its page: the sitemap lists the fact as it stands.
UNLISTED_KINDS = frozenset({"404", "alias", "withdrawn", "redirect", "version"})


def listed(page: Page) -> bool:
    return bool(page.template) and page.kind not in UNLISTED_KINDS


def data_files(index: Index) -> list[Page]:
    """The facts as data (see exports): whole archive, per month, per operation; and the feed."""
    a = index.archive
    scheme = scheme_of(a)
    pages = [Page(urls.facts_json(), "", "facts-json"), Page(urls.facts_schema(), "", "facts-schema"),
             Page(urls.facts_csv(), "", "facts-csv"), Page(urls.feed(), "", "feed")]
    pages += [Page(urls.month_facts(ym), "", "month-json", ym) for ym in index.lists["months"]]
    pages += [Page(scheme.operation_facts(i), "", "operation-json", i, a.operations[i].loc.path)
              for i in sorted(a.operations)]
    return pages


# -- context builders: one per kind of page ---------------------------------

@dataclass(frozen=True, eq=False)
class Row:
    """What a list of facts shows of one fact: derived once a fact, with the keys it was derived
    from, so that the renderer draws each row once however many lists show it, and keeps what it
    drew in the memo until one of those keys changes (see Renderer._fragments_of)."""

    fact: Any
    disputed: bool
    metric: Any
    via: Any = None  # the sub-operation through which an operation's list holds the fact
    reads: tuple[Key, ...] = ()

    @property
    def name(self) -> tuple[str, str | None]:
        """Which row this is, in any build: its fact's id, and the sub-operation's it is listed through."""
        return self.fact.id, None if self.via is None else self.via.id


def _row(r: Reader, ident: str) -> Row:
    fact = r.get("fact", ident)
    disputed = bool(r.get("disputes", ident))
    metric = r.get("metric", fact.measure.metric) if fact.measure else None
    return Row(fact, disputed, metric, reads=tuple(r.deps))


def _row_via(r: Reader, entry: tuple[str, str | None]) -> Row:
    ident, via = entry
    if via is None:
        return r.derive(_row, ident)
    row = r.derive(_row, ident)
    operation = r.get("operation", via)
    return Row(row.fact, row.disputed, row.metric, operation, tuple(r.deps))


def _rows(r: Reader, ids) -> list[Row]:
    return r.derive_each(_row, ids)


def _home(r: Reader, _key) -> dict:
    facts = r.get("all", "facts")
    months = r.get("all", "months")
    ops = [r.get("operation", o) for o in r.get("all", "operations")]
    # Undated facts come last in the time order, so the dated ones are the rest.
    dated = facts[:len(facts) - len(r.get("all", "undated"))]
    return {
        "counts": {"facts": len(facts), "sources": len(r.get("all", "sources")),
                   "operations": len(ops), "articles": len(r.get("all", "articles"))},
        "span": r.get("all", "span"),  # where the earliest fact starts and the latest ends
        "latest": list(reversed(_rows(r, dated[-8:]))),
        "operations": [o for o in ops if o.parent is None],
        "children": {o.id: [r.get("operation", c) for c in r.get("children", o.id)] for o in ops},
        "years": r.get("all", "years"),
        "months": months,
        "articles": [r.get("article", s) for s in r.get("all", "articles")],
        "metrics": [r.get("metric", m) for m in r.get("all", "metrics")],
        "records": _records(r),
        "headline": _headline_chart(r),
        "examples": r.derive(_examples),
    }


def _examples(r: Reader) -> dict:
    """What the search hints show, from the archive's own facts: one of its figures typed both
    ways ("4848 or 4,848") and a month it has ("June 2017, 2017-06"); None where it has none.

    The figure is a metric's record (as the home page lists them), one past a thousand where
    there is one, so that the separator shows; the month is that figure's, else the latest.
    """
    facts = [rec["fact"] for rec in _records(r) if rec["fact"].measure.value is not None]
    whole = [f for f in facts if f.measure.value == f.measure.value.to_integral_value()]
    chosen = next((f for f in whole if abs(f.measure.value) >= 1000), None) or next(iter(whole or facts), None)
    figure = None
    if chosen is not None and chosen in whole:
        n = int(chosen.measure.value)
        figure = f"{n} or {n:,}" if abs(n) >= 1000 else str(n)
    elif chosen is not None:
        figure = format(chosen.measure.value, "f")
    months = r.get("all", "months")
    ym = chosen.when.month if chosen is not None and chosen.when.month in months else (months[-1] if months else None)
    month = f"{Point(*ym).label()}, {ym[0]:04d}-{ym[1]:02d}" if ym else None
    return {"figure": figure, "month": month}


# -- charts: every figure read through the Reader, laid out by annals.charts ----

def _figures(r: Reader, ids) -> list[Figure]:
    return [Figure(f, bool(r.get("disputes", f.id))) for f in r.facts(ids) if f.measure is not None]


def _metric_figures(r: Reader, metric_id: str) -> tuple[Figure, ...]:
    """Every figure of a metric, read once for its charts, its record and the home page's chart.

    A save of one of them derives this again: a sixth of the facts at
    10,000, which took the home page, open in a reader's tab, 40 to 100 ms
    to read three times over before the reload, and 15 to 40 once (measured).
    """
    return tuple(_figures(r, r.get("metric-facts", metric_id)))


def _by_operation(figures: list[Figure]) -> dict[str | None, list[Figure]]:
    """A figure about two operations belongs to both series; one about none, to a series of its own."""
    series: dict[str | None, list[Figure]] = {}
    for f in figures:
        for op in f.fact.operations or (None,):
            series.setdefault(op, []).append(f)
    return series


@dataclass(frozen=True, eq=False)
class ChartView:
    """One chart as pages show it. Derived once and compared by identity, so the renderer draws it once too."""

    id: str
    chart: Chart
    metric: Any
    op: Any


def _chart(r: Reader, metric_id: str, op_id: str | None, ids, scale=None) -> ChartView | None:
    return r.derive(_chart_of, metric_id, op_id, tuple(ids), scale)


def _chart_of(r: Reader, metric_id: str, op_id: str | None, ids: tuple, scale) -> ChartView | None:
    chart = build_chart(_figures(r, ids), scale, r.get("metric", metric_id).unit)
    if chart is None:
        return None
    return ChartView(f"chart-{metric_id}-{op_id or 'none'}", chart, r.get("metric", metric_id),
                     r.get("operation", op_id) if op_id else None)


def _metric_charts(r: Reader, metric_id: str) -> list[dict]:
    """One chart per operation, each on its own scale of values (a country's figures beside the world's
    would sit flat at zero on one), all over the same months so that they line up."""
    series = sorted(_by_operation(r.derive(_metric_figures, metric_id)).items(),
                    key=lambda kv: (kv[0] is None, kv[0] or ""))
    scales = scales_for([figs for _, figs in series])
    charts = [_chart(r, metric_id, op, (f.fact.id for f in figs), scale)
              for (op, figs), scale in zip(series, scales)]
    return [c for c in charts if c is not None]


def _records(r: Reader) -> list[dict]:
    return [found for found in (r.derive(_record_of, m) for m in r.get("all", "metrics")) if found is not None]


def _record_of(r: Reader, metric_id: str) -> dict | None:
    best = record(r.derive(_metric_figures, metric_id))
    if best is None:
        return None
    return {"metric": r.get("metric", metric_id), "fact": best.fact, "disputed": best.disputed,
            "shape": best.shape, "operations": [r.get("operation", o) for o in best.fact.operations]}


def _headline_chart(r: Reader) -> ChartView | None:
    """The home page's chart: the series with the most figures a chart can show."""
    best, size = None, 0
    for metric_id in r.get("all", "metrics"):
        for op, n in r.derive(_series_sizes, metric_id):
            if n > size:
                best, size = (metric_id, op), n
    if best is None:
        return None
    metric_id, op = best
    return _chart(r, metric_id, op, dict(r.derive(_series_ids, metric_id))[op])


def _series(r: Reader, metric_id: str) -> list:
    """Each operation's figures of a metric, by operation id (none first)."""
    series = _by_operation(r.derive(_metric_figures, metric_id))
    return sorted(series.items(), key=lambda kv: kv[0] or "")


def _series_ids(r: Reader, metric_id: str) -> tuple:
    """The ids of each operation's figures of a metric, by operation id."""
    return tuple((op, tuple(f.fact.id for f in figs)) for op, figs in _series(r, metric_id))


def _series_sizes(r: Reader, metric_id: str) -> tuple:
    """How many chartable figures each operation has of a metric, by operation id."""
    return tuple((op, sum(chartable(f.fact) for f in figs)) for op, figs in _series(r, metric_id))


def _metrics(r: Reader, _key) -> dict:
    return {"rows": [r.derive(_metric_row, metric_id) for metric_id in r.get("all", "metrics")]}


def _metric_row(r: Reader, metric_id: str) -> dict:
    facts = r.facts(r.get("metric-facts", metric_id))
    ops = dict.fromkeys(o for f in facts for o in f.operations)
    return {"metric": r.get("metric", metric_id), "count": len(facts),
            "operations": [r.get("operation", o) for o in ops]}


def _metric(r: Reader, ident) -> dict:
    return {"metric": r.get("metric", ident), "charts": _metric_charts(r, ident),
            "uncharted": [row for row in _rows(r, r.get("metric-facts", ident)) if not chartable(row.fact)]}


def _fact(r: Reader, ident) -> dict:
    fact = r.get("fact", ident)
    return {
        "fact": fact,
        "metric": r.get("metric", fact.measure.metric) if fact.measure else None,
        "sources": [(c, r.get("source", c.source)) for c in fact.sources],
        "operations": [(r.get("operation", o), _enclosing(r, o)) for o in fact.operations],
        "disputes": _rows(r, r.get("disputes", ident)),
        "replaced_by": r.derive(_row, fact.replaced_by) if fact.replaced_by and fact.rank == "deprecated" else None,
        "replaces": _rows(r, r.get("replaces", ident)),
        "spread": _spread(fact),
        "articles": [r.get("article", s) for s in r.get("citing", ident)],
        "citation": cite.fact_citation(r, ident),
        "versions": versions.of_fact(r, ident),
    }


def _version(r: Reader, key) -> dict:
    return {**versions.page(r, key), "citation": cite.version_citation(r, *key)}


def _spread(fact) -> list:
    """For a fact over a span of months, the years whose pages list it, each with the months it covers."""
    if not is_span(fact.when):
        return []
    years, months = listed_in(fact)
    return [(y, [ym for ym in months if ym[0] == y]) for y in years]


def _enclosing(r: Reader, op_id: str) -> list:
    """The operations around one, innermost first: their pages list the fact too."""
    return [r.get("operation", up) for up in upward(op_id, lambda ident: r.get("operation", ident))[1:]]


@dataclass(frozen=True, eq=False)
class Related:
    """What a page's facts also belong to, each with the number of facts it shares with the page.
    Derived once a page and compared by identity, so the renderer draws the list once too."""

    operations: tuple
    sources: tuple
    time: tuple      # (year, facts shared, ((month, facts shared), ...)), months grouped under their years
    articles: tuple


def _related(r: Reader, kind: str, ident) -> Related:
    return r.derive(_related_of, kind, ident)


def _related_of(r: Reader, kind: str, ident) -> Related:
    """Read from the index's one pass: no page scans the facts."""
    rel = r.get("related", kind, ident)
    months: dict[int, list] = {}
    for ym, n in rel["month"]:
        months.setdefault(ym[0], []).append((ym, n))
    return Related(tuple((r.get("operation", o), n) for o, n in rel["operation"]),
                   tuple((r.get("source", s), n) for s, n in rel["source"]),
                   tuple((y, n, tuple(months.get(y, ()))) for y, n in rel["year"]),
                   tuple((r.get("article", a), n) for a, n in rel["article"]))


def _timeline(r: Reader, _key) -> dict:
    months = r.get("all", "months")
    by_year: dict[int, list] = {}
    for ym in months:
        by_year.setdefault(ym[0], []).append((ym, len(r.get("month", ym)) + len(r.get("covering", ym))))
    return {"years": [(y, len(r.get("year", y)), by_year.get(y, [])) for y in r.get("all", "years")],
            "undated": _rows(r, r.get("all", "undated"))}


def _neighbours(seq, item):
    i = seq.index(item)
    return (seq[i - 1] if i > 0 else None, seq[i + 1] if i + 1 < len(seq) else None)


def _year(r: Reader, y) -> dict:
    rows = _rows(r, r.get("year", y))
    groups: dict = {}
    for row in rows:
        when = row.fact.when
        groups.setdefault("spans" if is_span(when) else when.month if when.precision != "year" else None, []).append(row)
    prev, nxt = _neighbours(list(r.get("all", "years")), y)
    spans = groups.pop("spans", [])
    # Months with a page only for the spans that cover them: linked here, as the others are by their sections.
    covered = [ym for ym in r.get("all", "months") if ym[0] == y and ym not in groups] if spans else []
    return {"year": y, "whole_year": groups.pop(None, []), "spans": spans, "covered": covered,
            "months": sorted(groups.items()), "prev": prev, "next": nxt, "related": _related(r, "year", y)}


def _month(r: Reader, ym) -> dict:
    prev, nxt = _neighbours(list(r.get("all", "months")), ym)
    return {"ym": ym, "rows": _rows(r, r.get("month", ym)), "covering": _rows(r, r.get("covering", ym)),
            "prev": prev, "next": nxt,
            "related": _related(r, "month", ym)}


def _operations(r: Reader, _key) -> dict:
    ops = [r.get("operation", o) for o in r.get("all", "operations")]
    return {"roots": [o for o in ops if o.parent is None],
            "children": {o.id: [r.get("operation", c) for c in r.get("children", o.id)] for o in ops},
            "counts": {o.id: len(r.get("op-facts", o.id)) for o in ops}}


def _operation(r: Reader, ident) -> dict:
    op = r.get("operation", ident)
    rows = r.derive_each(_row_via, [(fact_id, None if via == ident else via) for fact_id, via in r.get("op-facts", ident)])
    return {"op": op,
            "parent": r.get("operation", op.parent) if op.parent else None,
            "children": [r.get("operation", c) for c in r.get("children", ident)],
            "rows": rows,
            "charts": _operation_charts(r, ident, [row.fact for row in rows if row.via is None]),
            "sources": [(c, r.get("source", c.source)) for c in op.sources],
            "related": _related(r, "operation", ident)}


def _operation_charts(r: Reader, ident: str, facts) -> list[dict]:
    """The operation's own figures, one chart per metric; a sub-operation's figures are its own series.

    A single figure is charted too: a reader looks for the operation's figures in a chart first."""
    by_metric: dict[str, list[str]] = {}
    for fact in facts:
        if fact.measure is not None and chartable(fact):
            by_metric.setdefault(fact.measure.metric, []).append(fact.id)
    charts = [_chart(r, m, ident, ids) for m, ids in sorted(by_metric.items())]
    return [c for c in charts if c is not None]


def _sources(r: Reader, _key) -> dict:
    return {"sources": [(r.get("source", s), len(r.get("source-facts", s))) for s in r.get("all", "sources")]}


def _source(r: Reader, ident) -> dict:
    return {"source": r.get("source", ident), "rows": _rows(r, r.get("source-facts", ident)),
            "related": _related(r, "source", ident)}


def _articles(r: Reader, _key) -> dict:
    return {"articles": [r.get("article", s) for s in r.get("all", "articles")]}


def _article(r: Reader, slug) -> dict:
    article = r.get("article", slug)
    cited = [i for i, _ in article.cites]
    known = [i for i in dict.fromkeys(cited) if i in r.get("all", "facts")]
    return {"article": article, "cited": _rows(r, known),
            "operations": [r.get("operation", o) for o in article.operations],
            "related": _related(r, "article", slug), "citation": cite.article_citation(r, slug)}


def _alias(r: Reader, old) -> dict:
    fact = r.get("fact", dict(r.get("all", "aliases"))[old])
    return {"to": urls.fact(fact.id), "title": fact.claim}


def _redirect(r: Reader, old) -> dict:
    to = r.get("redirect", old).to
    return {"to": to, "title": _title(r, to)}


# What a page is called, for a link to it: by kind of page, from its record.
_TITLES = {"fact": ("fact", "claim"), "operation": ("operation", "name"), "source": ("source", "title"),
           "article": ("article", "title"), "metric": ("metric", "label")}


def _title(r: Reader, path: str) -> str:
    kind, key = urls.parse(path)
    if kind in _TITLES:
        table, name = _TITLES[kind]
        try:
            return getattr(r.get(table, key), name)
        except KeyError:  # a tombstone at a fact's address
            return r.get("withdrawn", key).claim or f"/{path}"
    if kind in ("month", "year"):
        return Point(*key).label() if kind == "month" else Point(key).label()
    return f"/{path}"


def _withdrawn(r: Reader, ident) -> dict:
    entry = r.get("withdrawn", ident)
    return {"entry": entry, "replacement": r.get("fact", entry.replaced_by) if entry.replaced_by else None}


def _not_found(r: Reader, _key) -> dict:
    return {}


def _search(r: Reader, _key) -> dict:
    return {"count": len(r.get("all", "facts")), "examples": r.derive(_examples)}


CONTEXTS: dict[str, Callable[[Reader, Any], dict]] = {
    "home": _home, "fact": _fact, "timeline": _timeline, "year": _year, "month": _month,
    "operations": _operations, "operation": _operation, "sources": _sources, "source": _source,
    "articles": _articles, "article": _article, "metrics": _metrics, "metric": _metric, "alias": _alias,
    "redirect": _redirect, "404": _not_found,
    "withdrawn": _withdrawn, "search": _search, "version": _version,
}


# Pages dated by what they list (see exports.page_date); a fact, an article or a version has its own date.
_DATED_AS_LISTED = {"home", "timeline", "year", "month", "operations", "operation", "sources", "source",
                    "articles", "metrics", "metric", "search"}


# Files that are data, not HTML (JSON, CSV): kind -> function(reader, key) -> bytes.
# They read the index through the same Reader, so their dependencies are recorded too.
PRODUCERS: dict[str, Callable[[Reader, Any], bytes]] = {
    "facts-json": exports.facts_json, "facts-schema": exports.facts_schema, "facts-csv": exports.facts_csv,
    "month-json": exports.month_json, "operation-json": exports.operation_json,
    "feed": exports.feed, "sitemap": exports.sitemap,
    "search-index": search_index,
}


def produce(page: Page, index: Index, memo: Memo | None = None) -> tuple[bytes, Reader]:
    reader = Reader(index, memo)
    return PRODUCERS[page.kind](reader, page.key), reader


def context(page: Page, index: Index, memo: Memo | None = None) -> tuple[dict, Reader]:
    reader = Reader(index, memo)
    ctx = CONTEXTS[page.kind](reader, page.key)
    if page.kind in _DATED_AS_LISTED and "changed" not in ctx:  # for its head: the sitemap's date
        ctx["changed"] = exports.page_date(reader, page.path)
    reader.get("site")
    ctx["site"] = index.archive.site
    return ctx, reader
