"""What the pages link to and show: related pages linked both ways, and what a list says of a figure."""
from __future__ import annotations

import itertools
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html

from conftest import annals

BASE = "https://example.org/archive/"

# MINIMAL has op-a (with sub-operation op-b), src-1, f-june (op-b, June 2017) and f-event (op-a, 9 July 2017).
FILES = {
    "content/operations/op-c.yaml": """\
        name: Operation C
        sources:
          - source: src-3
            quote: "Operation C"
        """,
    "content/operations/op-d.yaml": "name: Operation D\n",
    "content/sources/src-2.yaml": "title: A second report\nkind: report\n",
    "content/sources/src-3.yaml": "title: A third report, cited only for Operation C's name\nkind: report\n",
    "content/facts/2016/f-2016.yaml": """\
        claim: Something happened in 2016.
        when: 2016
        operations: [op-c]
        sources: [{source: src-2, quote: "in 2016"}]
        """,
    "content/facts/2017/f-winter.yaml": """\
        claim: 300 weapons were released from November 2016 to January 2017.
        when: {from: 2016-11, to: 2017-01}
        operations: [op-b, op-c]
        measure: {metric: weapons-released, value: 300, aggregation: period}
        sources: [{source: src-1, quote: "300 weapons"}, {source: src-2, quote: "300"}]
        """,
    "content/facts/f-undated.yaml": """\
        claim: Something happened, no one says when.
        operations: [op-a]
        sources: [{source: src-2, quote: "something"}]
        """,
    "content/articles/art-1.md": """\
        ---
        title: The first article
        date: 2018-01-01
        operations: [op-c]
        ---
        It cites [[fact:f-june]] and [[fact:f-2016]].
        """,
    "content/articles/art-2.md": """\
        ---
        title: The second article
        date: 2018-02-01
        operations: [op-d]
        ---
        It cites [[fact:f-winter]].
        """,
}

# Written out by hand from FILES and MINIMAL: every page each fact appears on. A fact of op-b is
# also on op-a's page (op-b is part of op-a); a range is on the page of the month it ends in.
APPEARS_ON = {
    "f-june": {"sources/src-1/", "operations/op-b/", "operations/op-a/", "timeline/2017/06/", "timeline/2017/",
               "articles/art-1/"},
    "f-event": {"sources/src-1/", "operations/op-a/", "timeline/2017/07/", "timeline/2017/"},
    "f-2016": {"sources/src-2/", "operations/op-c/", "timeline/2016/", "articles/art-1/"},
    "f-winter": {"sources/src-1/", "sources/src-2/", "operations/op-b/", "operations/op-a/", "operations/op-c/",
                 "timeline/2016/11/", "timeline/2016/12/", "timeline/2017/01/", "timeline/2016/", "timeline/2017/",
                 "articles/art-2/"},  # a span: on each year it overlaps and each month it covers
    "f-undated": {"sources/src-2/", "operations/op-a/"},
}
# Related by what an editor wrote rather than by a fact: an operation's sources, an article's operations.
WRITTEN = {("operations/op-c/", "sources/src-3/"), ("articles/art-1/", "operations/op-c/"),
           ("articles/art-2/", "operations/op-d/")}

KINDS = {"fact": r"facts/[^/]+/", "source": r"sources/[^/]+/", "operation": r"operations/[^/]+/",
         "month": r"timeline/\d{4}/\d\d/", "year": r"timeline/\d{4}/", "article": r"articles/[^/]+/"}


def kind(path: str) -> str | None:
    return next((k for k, pattern in KINDS.items() if re.fullmatch(pattern, path)), None)


def other_year(a: str, b: str) -> bool:
    """A month and a year of the timeline that are not its own: a span over both links them through the fact."""
    return {kind(a), kind(b)} == {"month", "year"} and a[:len("timeline/2017")] != b[:len("timeline/2017")]


def links_between_pages(out: Path) -> dict[str, set[str]]:
    """page path -> the page paths it links to, for every fact, source, operation, month, year and article page."""
    graph = {}
    for file in out.rglob("index.html"):
        path = file.relative_to(out).as_posix().removesuffix("index.html")
        if kind(path) is None or 'http-equiv="refresh"' in file.read_text():
            continue
        here = urljoin(BASE, path)
        targets = set()
        for href in lxml.html.fromstring(file.read_bytes()).xpath("//a/@href"):
            url = urlsplit(urljoin(here, href))
            if url.geturl().startswith(BASE):
                target = url.path.removeprefix(urlsplit(BASE).path)
                if kind(target) is not None and target != path:
                    targets.add(target)
        graph[path] = targets
    return graph


def test_related_pages_link_each_other_both_ways(site):
    root = site(FILES)
    assert annals(root, "-q").code == 0
    graph = links_between_pages(root / "_site")

    expected = set(WRITTEN)
    for fact, pages in APPEARS_ON.items():
        pages = pages | {f"facts/{fact}/"}
        expected |= {(a, b) for a, b in itertools.permutations(pages, 2) if kind(a) != kind(b) and not other_year(a, b)}
    expected |= {(b, a) for a, b in expected}
    missing = sorted((a, b) for a, b in expected if b not in graph.get(a, ()))
    assert missing == []

    # And nothing links one way only: prev/next, parent/child and disputes are pairs too.
    one_way = sorted((a, b) for a, targets in graph.items() for b in targets if a not in graph.get(b, ()))
    assert one_way == []

    # Every pair of kinds is covered, both ways.
    kinds_linked = {(kind(a), kind(b)) for a, b in expected}
    assert kinds_linked >= {(x, y) for x in KINDS for y in KINDS if x != y}


def test_related_navigation_groups_months_by_year_with_counts(site):
    root = site(FILES)
    assert annals(root, "-q").code == 0
    # op-a holds f-event and, through op-b, f-june and f-winter (November 2016 to January 2017, on the
    # pages of each of those months and of both years); f-undated has no date.
    assert related(root, "operations/op-a/") == {
        "When": "2016 (1): November (1), December (1)2017 (3): January (1), June (1), July (1)",
        "Sources": "A report (3), A second report (2)",  # the most shared first
        "Articles": "The first article (1), The second article (1)",
    }
    assert related(root, "timeline/2017/") == {
        "Operations": "Operation A (3), Operation B (2), Operation C (1)",
        "Sources": "A report (3), A second report (1)",
        "Articles": "The first article (1), The second article (1)",
    }
    # An editor's link has no count: Operation C names src-3 but holds none of its facts.
    assert related(root, "sources/src-3/") == {"Operations": "Operation C"}


def related(root: Path, page: str) -> dict[str, str]:
    """A page's related navigation as {heading: its text}."""
    html = lxml.html.fromstring((root / "_site" / page / "index.html").read_bytes())
    (nav,) = html.xpath("//nav[@class='related']")
    return {dt.text_content(): " ".join(dt.getnext().text_content().split()) for dt in nav.xpath(".//dt")}


def test_a_long_list_of_related_pages_folds_away_whole(site):
    sources = {f"content/sources/s-{i:02d}.yaml": f"title: Report {i:02d}\nkind: report\n" for i in range(13)}
    facts = {f"content/facts/f-{i:02d}.yaml": f"""\
        claim: Fact {i}.
        when: 2017-03
        operations: [op-c]
        sources: [{{source: s-{i:02d}, quote: "fact {i}"}}]
        """ for i in range(13)}
    root = site({**sources, **facts, "content/operations/op-c.yaml": "name: Operation C\n"})
    assert annals(root, "-q").code == 0
    page = lxml.html.fromstring((root / "_site/operations/op-c/index.html").read_bytes())
    (folded,) = page.xpath("//nav[@class='related']//details")
    assert folded.xpath("string(summary)") == "13 sources"
    assert len(folded.xpath(".//a")) == 13


RUNNING_TOTALS = {
    "content/facts/2017/f-ytd.yaml": """\
        claim: 400 weapons in 2017 up to the end of July.
        when: 2017-07
        operations: [op-b]
        measure: {metric: weapons-released, value: 400, aggregation: cumulative, since: 2017-01}
        sources: [{source: src-1, quote: "400 so far this year"}]
        """,
    "content/facts/2017/f-total.yaml": """\
        claim: 900 weapons in all by July 2017.
        when: 2017-07
        operations: [op-b]
        measure: {metric: weapons-released, value: 900, aggregation: cumulative}
        sources: [{source: src-1, quote: "900 in all"}]
        """,
}


def test_lists_say_where_a_running_total_counts_from(site):
    root = site(RUNNING_TOTALS)
    assert annals(root, "-q").code == 0
    for page in ("timeline/2017/07/", "timeline/2017/", "operations/op-b/", "operations/op-a/", "sources/src-1/"):
        html = lxml.html.fromstring((root / "_site" / page / "index.html").read_bytes())
        tags = {li.xpath("string(.//a[@class='claim'])"): li.xpath("string(.//span[@class='tag'])")
                for li in html.xpath("//ol[@class='facts']/li")}
        assert tags["400 weapons in 2017 up to the end of July."] == "running total since January 2017", page
        # Where the source gives no start, none is made up.
        assert tags["900 weapons in all by July 2017."] == "running total", page
