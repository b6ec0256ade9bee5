"""Property tests: corrupt a valid fact any way at all, and the loader still answers with located problems."""
from __future__ import annotations

import calendar
import posixpath
from datetime import date

from hypothesis import HealthCheck, given, settings, strategies as st

from annals import exports, urls
from annals.load import assemble
from annals.records import read_file
from annals.periods import Period, Point, days_in, parse_point
from annals.problems import Problems
from annals.validate import validate
from conftest import MINIMAL, REPO

import textwrap

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REL = "content/facts/2017/f-june.yaml"
VALID = [
    textwrap.dedent(MINIMAL[REL]).encode(),
    b"""\
claim: Over 2,000 militants were killed in the Mosul offensive.
when: {from: 2016-10-17, to: 2016-11-15}
operations: [op-a, op-b]
places: [Mosul, Iraq]
measure:
  metric: weapons-released
  value: 2000
  aggregation: cumulative
  approx: at-least
  since: 2016-10-17
originator: "Iraq"
speaker: Someone
speaker_role: envoy
sources:
  - source: src-1
    quote: "over 2,000 ISIS militants"
rank: preferred
notes: |
  Read as *at least*; see [the report](https://example.org/).
aliases: [old-name, older-name]
""",
]
PUNCTUATION = [":", "-", "[", "]", "{", "}", ",", "'", '"', "|", ">", "&a", "*a", "!", "!!str", "%YAML 1.1\n",
               "---\n", "...\n", "#", "?", "@", "`", "\t", "\n", "\r", "\ufeff", "\x00", "  ", "- ", ": "]
VALUES = ["[1, 2]", "{a: b}", "yes", "NO", "~", "null", '""', "''", "01234", "1:20", "1.10", "0x1F", ".inf",
          "2017-02-30", "2017-13", "-1", "1e9", "[[[[", "{}", "[]", "&x a", "*x", "!!binary aGk=", "|\n  text"]


@st.composite
def corrupted(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "unicode", "delete", "duplicate", "swap", "bytes"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(PUNCTUATION)).encode()
        elif op == "unicode":
            data[at:at] = draw(st.text(min_size=1, max_size=8)).encode("utf-8", "surrogatepass")
        elif op == "bytes":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        else:
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            if op == "delete":
                del lines[i]
            elif op == "duplicate":
                lines.insert(i, lines[i])
            elif b":" in lines[i]:  # swap: give a key a value of another type
                key = lines[i].split(b":", 1)[0]
                lines[i] = key + b": " + draw(st.sampled_from(VALUES)).encode()
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def minimal_results():
    return [(rel, read_file(rel, textwrap.dedent(text).encode())) for rel, text in MINIMAL.items() if rel != REL]


@SETTINGS
@given(corrupted())
def test_corruption_yields_a_valid_load_or_located_problems(data):
    loaded = read_file(REL, data)
    errors = [p for p in loaded.problems if p.severity == "error"]
    if not errors:
        assert len(loaded.records) == 1 and loaded.records[0].id == "f-june"
    else:
        # A record may still come with soft errors (a duplicate key keeps the first
        # value), but the errors fail the build either way.
        assert len(loaded.records) <= 1
    assert loaded.records or errors, "a file that yields nothing must say why"
    for problem in loaded.problems:
        assert problem.loc.path == REL
        assert problem.loc.line >= 1, problem
        assert problem.message and "Traceback" not in problem.message
    # The rest of the pipeline's checks also take it without an exception.
    problems = Problems()
    archive = assemble(minimal_results() + [(REL, loaded)], problems)
    validate(archive, REPO, problems)
    for problem in problems.items:
        assert problem.loc.path.startswith("content/") and problem.loc.line >= 1, problem


@SETTINGS
@given(corrupted())
def test_load_is_a_pure_function_of_the_bytes(data):
    first, second = read_file(REL, data), read_file(REL, bytes(data))
    assert first == second
    assert repr(first) == repr(second)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["content/operations/op-a.yaml", "content/sources/src-1.yaml", "content/site.yaml",
                        "content/metrics.yaml"]), st.data())
def test_other_content_files_take_corruption_too(rel, data):
    text = bytearray(textwrap.dedent(MINIMAL[rel]).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        text[at:at] = data.draw(st.sampled_from(PUNCTUATION + VALUES)).encode()
    loaded = read_file(rel, bytes(text))
    assert loaded.records or loaded.problems
    assert all(p.loc.path == rel and p.loc.line >= 1 for p in loaded.problems)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_any_article_text_is_read_or_located(body):
    rel = "content/articles/some-article.md"
    loaded = read_file(rel, ("---\ntitle: T\ndate: 2020-01-01\n---\n" + body).encode("utf-8", "surrogatepass"))
    assert all(p.loc.path == rel and p.loc.line >= 1 for p in loaded.problems)
    loaded = read_file(rel, body.encode("utf-8", "surrogatepass"))
    assert all(p.loc.path == rel and p.loc.line >= 1 for p in loaded.problems)


# -- periods ---------------------------------------------------------------------------

def points_between(first: int, last: int):
    return st.one_of(
        st.builds(Point, st.integers(first, last)),
        st.builds(Point, st.integers(first, last), st.integers(1, 12)),
        st.dates(min_value=date(first, 1, 1), max_value=date(last, 12, 31)).map(lambda d: Point(d.year, d.month, d.day)),
    )


points = points_between(1, 9999)
near_points = points_between(1890, 2110)  # spans of a few centuries keep months() small


@SETTINGS
@given(points)
def test_a_point_reads_back_as_written(point):
    assert parse_point(point.iso()) == point
    assert point.first <= point.last
    assert point.precision == {4: "year", 7: "month", 10: "day"}[len(point.iso())]


@SETTINGS
@given(near_points, near_points)
def test_period_months_cover_the_span_in_order(a, b):
    start, end = min(a, b, key=lambda p: p.first), max(a, b, key=lambda p: p.last)
    period = Period(start, end)
    months = period.months()
    assert months == sorted(months) and len(set(months)) == len(months)
    assert months[0] == (period.first.year, period.first.month)
    assert months[-1] == (period.last.year, period.last.month)
    assert period.month in (None, months[-1])
    assert period.month_count() == len(months)  # what the checks ask instead of listing a long span
    assert all(period.touches(ym) for ym in months)
    before = (period.first.year - 1, 12) if period.first.month == 1 else (period.first.year, period.first.month - 1)
    after = (period.last.year + 1, 1) if period.last.month == 12 else (period.last.year, period.last.month + 1)
    assert not period.touches(before) and not period.touches(after)
    whole = period.covers_whole_months()
    assert whole == (period.first.day == 1 and Point(period.last.year, period.last.month).last == period.last)


@SETTINGS
@given(st.text(max_size=12))
def test_parse_point_accepts_only_dates(text):
    try:
        point = parse_point(text)
    except ValueError as err:
        assert str(err)
    else:
        assert point.iso() == text.strip()


# -- relative links --------------------------------------------------------------------

ids = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
SCHEME = urls.Scheme()
page_paths = st.one_of(
    st.just(urls.home()), st.just(urls.timeline()), st.just(SCHEME.operations()), st.just(urls.sources()),
    st.just(urls.articles()), st.just(urls.search()), st.just("404.html"), st.just("data/facts.json"),
    st.just("feed.xml"), ids.map(urls.fact), ids.map(SCHEME.operation), ids.map(urls.source),
    ids.map(urls.article), ids.map(urls.metric), ids.map(urls.static),
    st.integers(1, 9999).map(urls.year),
    st.tuples(st.integers(1, 9999), st.integers(1, 12)).map(urls.month),
)


def resolve(from_path: str, link: str) -> str:
    here = posixpath.dirname(urls.output_file(from_path))
    return posixpath.normpath(posixpath.join(here, link))


@SETTINGS
@given(page_paths, page_paths)
def test_relative_links_resolve_back_to_the_target(a, b):
    link = urls.relative(a, b)
    assert not link.startswith("/") and "://" not in link
    expected = posixpath.normpath(b) if b else "."
    assert resolve(a, link) == expected
    assert link.endswith("/") == b.endswith("/") or b == ""


@SETTINGS
@given(page_paths, page_paths)
def test_offline_links_name_the_file(a, b):
    link = urls.relative(a, b, offline=True)
    assert resolve(a, link) == urls.output_file(b)
    assert not link.endswith("/")


# -- the scheme read backwards ----------------------------------------------------

years = st.integers(1, 9999)
months = st.tuples(years, st.integers(1, 12))
made = st.one_of(
    ids.map(lambda i: (urls.fact(i), ("fact", i))), ids.map(lambda i: (SCHEME.operation(i), ("operation", i))),
    ids.map(lambda i: (SCHEME.operation_facts(i), ("operation-json", i))),
    ids.map(lambda i: (urls.source(i), ("source", i))), ids.map(lambda i: (urls.article(i), ("article", i))),
    ids.map(lambda i: (urls.metric(i), ("metric", i))), years.map(lambda y: (urls.year(y), ("year", y))),
    months.map(lambda ym: (urls.month(ym), ("month", ym))),
    months.map(lambda ym: (urls.month_facts(ym), ("month-json", ym))),
)


@SETTINGS
@given(made)
def test_parse_reads_back_every_path_the_scheme_makes(case):
    path, expected = case
    assert urls.parse(path) == expected and SCHEME.parse(path) == expected


@SETTINGS
@given(st.text(alphabet="abz019-_/.J", max_size=30))
def test_parse_knows_only_paths_the_scheme_makes(path):
    parsed = SCHEME.parse(path)
    if parsed is not None:
        kind, key = parsed
        remade = {"fact": urls.fact, "operation": SCHEME.operation, "operation-json": SCHEME.operation_facts,
                  "source": urls.source, "article": urls.article, "metric": urls.metric, "year": urls.year,
                  "month": urls.month, "month-json": urls.month_facts}.get(kind)
        assert (remade(key) if remade else path) == path


def test_parse_refuses_what_the_scheme_never_makes():
    for path in ("facts/Old_ID/", "facts/x", "timeline/2017/13/", "timeline/0000/", "timeline/17/",
                 "old/page.html", "/facts/x/", "operations/x/y/", "static/style.css"):
        assert urls.parse(path) is None, path
    assert urls.parse("") == ("home", None) and urls.parse("annals-offline.zip") == ("offline-zip", None)


def test_the_days_of_every_month_of_every_year_are_the_calendars():
    assert [days_in(y, m) for y in range(1, 10_000) for m in range(1, 13)] == \
        [calendar.monthrange(y, m)[1] for y in range(1, 10_000) for m in range(1, 13)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab&<>\"'\n\r\t é\x85")))
def test_the_feed_escapes_text_and_attributes_as_the_standard_library_does(text):
    from xml.sax.saxutils import escape, quoteattr
    assert exports.escape(text) == escape(text)
    assert exports.quoteattr(text) == quoteattr(text)
