"""The preview's patched index is the index: for any edits of facts, update_index gives what build_index gives.

Hypothesis draws a small archive and a run of edits (a fact's date, operations,
sources, figure, rank or aliases changed; facts added and removed), patches
the index after each one and compares it, field by field, with the index
built from nothing; and checks that every key whose value changed is among
the keys the patch reports, since those are what decides the pages redrawn.
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

from annals.index import Index, build_index, update_index
from annals.model import Archive, Article, Citation, Fact, Measure, Metric, Operation, Site, Source
from annals.periods import Period, Point, single
from annals.problems import Loc, Problems

SITE = Site("T", "A test archive.", "https://example.org/", "en", "CC0")
OPS = {"a": None, "b": "a", "c": "b", "d": None}
OPERATIONS = {i: Operation(i, f"Operation {i}", Loc(f"content/operations/{i}.yaml", 1), f"op-{i}", parent=p,
                           sources=(Citation("s1", "q", Loc(f"content/operations/{i}.yaml", 3)),) if i == "d" else ())
              for i, p in OPS.items()}
SOURCES = {i: Source(i, f"Source {i}", "report", Loc(f"content/sources/{i}.yaml", 1), f"src-{i}") for i in ("s1", "s2", "s3")}
METRICS = {i: Metric(i, i, "things", "Counted.", Loc("content/metrics.yaml", 1)) for i in ("m1", "m2")}
IDS = [f"f{i}" for i in range(12)]
ARTICLES = {"story": Article("story", "A story", single(Point(2020, 1, 1)), "Body [[fact:f1]] [[fact:f7]] [[fact:f11]]",
                             4, Loc("content/articles/story.md", 1), "art", operations=("b",),
                             cites=(("f1", Loc("content/articles/story.md", 4)), ("f7", Loc("content/articles/story.md", 4)),
                                    ("f11", Loc("content/articles/story.md", 4))))}

# Few dates and few operations, so that figures often share a period: disputes and number checks need them to.
# Spans over several months and years are listed on each (one of 134 months only where it ends).
WHENS = [None, single(Point(2016)), single(Point(2016, 1)), single(Point(2016, 1)), single(Point(2016, 2)),
         single(Point(2016, 1, 15)), Period(Point(2016, 1), Point(2016, 2)), single(Point(2017, 3)),
         Period(Point(2015, 11), Point(2016, 2)), Period(Point(2005), Point(2016, 2)), Period(Point(2017, 3, 1), Point(2017, 3, 9))]
# A figure: one value, or a range (low, high) that overlaps some of the values and not others.
VALUES = [10, 20, 100, (15, 25), (90, 120)]


@st.composite
def facts(draw, ident: str):
    when = draw(st.sampled_from(WHENS))
    measure = None
    if draw(st.integers(0, 3)):
        aggregation = draw(st.sampled_from(["period", "period", "cumulative", "level"]))
        since = draw(st.sampled_from([None, Point(2016, 1)])) if aggregation == "cumulative" else None
        if since is not None and when is not None and since.first > when.last:
            since = None
        figure = draw(st.sampled_from(VALUES))
        approx = "exact" if isinstance(figure, tuple) else draw(
            st.sampled_from(["exact", "exact", "exact", "about", "at-least", "at-most"]))
        value, low, high = (None, Decimal(figure[0]), Decimal(figure[1])) if isinstance(figure, tuple) else \
            (Decimal(figure), None, None)
        measure = Measure(draw(st.sampled_from(["m1", "m1", "m1", "m2"])), value, aggregation, approx,
                          single(since) if since else None, low=low, high=high)
    sources = tuple(Citation(s, "a quote", Loc(f"content/facts/{ident}.yaml", 9))
                    for s in draw(st.lists(st.sampled_from(sorted(SOURCES)), min_size=1, max_size=2, unique=True)))
    ops = draw(st.sampled_from([(), ("b",), ("b",), ("b",), ("c",), ("a", "d")]))
    aliases = tuple(draw(st.lists(st.sampled_from([f"{ident}-old", f"{ident}-older"]), max_size=1)))
    rank = draw(st.sampled_from(["normal"] * 6 + ["preferred", "deprecated", "deprecated"]))
    replaced_by = draw(st.sampled_from([None, "f1", "f2"])) if rank == "deprecated" else None
    revision = draw(st.integers(0, 3))
    return Fact(ident, f"Claim {ident} ({revision})", Loc(f"content/facts/{ident}.yaml", 1), f"{ident}-{revision}",
                sources, when=when, operations=ops, measure=measure, rank=rank, aliases=aliases,
                rank_reason="Superseded." if rank == "deprecated" else None,
                replaced_by=replaced_by if replaced_by != ident else None)


@st.composite
def histories(draw):
    live = draw(st.lists(st.sampled_from(IDS), min_size=4, unique=True))
    first = {i: draw(facts(i)) for i in live}
    edits = []
    for _ in range(draw(st.integers(1, 5))):
        changed = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True))
        edits.append({i: (None if draw(st.integers(0, 4)) == 0 else draw(facts(i))) for i in changed})
    return first, edits


def archive_of(facts: dict) -> Archive:
    return Archive(site=SITE, metrics=METRICS, operations=OPERATIONS, sources=SOURCES, facts=facts,
                   articles=ARTICLES)


FIELDS = [f.name for f in dataclasses.fields(Index) if f.name not in ("archive",)]


def keys_of(index) -> set:
    """Every key a page may read of this index."""
    keys = {("fact", i) for i in index.archive.facts} | {("changed", i) for i in index.archive.facts}
    keys |= {("disputes", i) for i in IDS} | {("citing", i) for i in IDS}
    keys |= {("month", ym) for ym in index.by_month} | {("year", y) for y in index.by_year}
    keys |= {("covering", ym) for ym in index.covering} | {("replaces", i) for i in IDS}
    keys |= {("op-facts", o) for o in OPS} | {("source-facts", s) for s in SOURCES} | {("metric-facts", m) for m in METRICS}
    keys |= {("related", *page) for page in index.related} | {("all", name) for name in index.lists}
    return keys


def value(index, key):
    try:
        return index.get(key)
    except KeyError:
        return "absent"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_a_patched_index_is_the_index_built_from_nothing(history):
    first, edits = history
    current = dict(first)
    index = build_index(archive_of(dict(current)), Problems())
    for edit in edits:
        for ident, fact in edit.items():
            if fact is None:
                current.pop(ident, None)
            else:
                current[ident] = fact
        archive = archive_of(dict(current))
        patched_problems, built_problems = Problems(), Problems()
        patched, changed = update_index(index, archive, set(edit), patched_problems)
        built = build_index(archive, built_problems)
        for name in FIELDS:
            assert getattr(patched, name) == getattr(built, name), name
        assert patched_problems.sorted() == built_problems.sorted()
        differ = {k for k in keys_of(index) | keys_of(built) if value(index, k) != value(built, k)}
        assert differ <= changed, sorted(differ - changed, key=repr)
        index = patched


def test_anything_but_facts_changed_is_built_from_nothing():
    index = build_index(archive_of({}), Problems())
    renamed = {**SOURCES, "s1": dataclasses.replace(SOURCES["s1"], title="Another title")}
    assert update_index(index, dataclasses.replace(archive_of({}), sources=renamed), set(), Problems()) is None
    assert update_index(index, dataclasses.replace(archive_of({}), sources=dict(SOURCES)), set(), Problems()) is not None


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdef"), st.none() | st.sampled_from("abcdefx"), min_size=1),
       st.lists(st.lists(st.sampled_from("abcdefx"), max_size=3), min_size=1, max_size=8))
def test_an_operation_rolls_up_the_facts_of_every_operation_under_it(parents, listed):
    """Each operation's facts, by the definition: those listed under it, or under an operation inside it (its
    family, by the children below it), each through the first of its operations that is; parent loops and
    unknown parents included, as an archive with errors may have them."""
    operations = {i: dataclasses.replace(OPERATIONS["a"], id=i, parent=p) for i, p in parents.items()}
    made = {f"f{n}": Fact(f"f{n}", f"Claim {n}", Loc(f"content/facts/f{n}.yaml", 1), f"f{n}",
                          (Citation("s1", "a quote", Loc(f"content/facts/f{n}.yaml", 3)),),
                          when=WHENS[n % len(WHENS)], operations=tuple(ops))
            for n, ops in enumerate(listed)}
    archive = dataclasses.replace(archive_of(made), operations=operations)
    index = build_index(archive, Problems())
    children: dict[str, list[str]] = {}
    for op in operations.values():
        if op.parent in operations:
            children.setdefault(op.parent, []).append(op.id)
    for op in operations:
        family, todo = set(), [op]
        while todo:
            current = todo.pop()
            if current not in family:
                family.add(current)
                todo += children.get(current, [])
        expected = []
        for ident in index.ordered:
            ops = made[ident].operations
            via = op if op in ops else next((o for o in ops if o in family), None)
            if via is not None:
                expected.append((ident, via))
        assert index.by_operation[op] == tuple(expected), op
