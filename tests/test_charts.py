"""Charts drawn at build time: what each mark is, where it goes, where it links, and what it says."""
import posixpath
import re

import pytest
from lxml import html

from annals.charts import build_chart, nice_ticks, Figure
from annals.pipeline import Options, read_archive
from annals.problems import Problems
from conftest import CHARTED, REPO, annals

SVG = ""  # lxml.html reads inline SVG as plain, un-namespaced elements


@pytest.fixture
def charted(site):
    root = site(CHARTED)
    run = annals(root)
    assert run.code == 0, run.err
    return root


def parse(root, rel):
    return html.fromstring((root / "_site" / rel).read_bytes())


def chart(doc, chart_id):
    found = doc.xpath(f'//figure[@id="{chart_id}"]')
    assert len(found) == 1, f"no chart {chart_id}"
    return found[0]


def marks(figure, kind):
    """{fact id: <a> element} for the marks of one kind ('bar', 'marker', 'span') in a chart."""
    out = {}
    for a in figure.iter("a"):
        if kind in (a.get("class") or "").split():
            out[a.get("href").rstrip("/").split("/")[-1]] = a
    return out


def test_every_mark_links_to_its_fact_by_a_relative_link(charted):
    page = "operations/op-b/index.html"
    fig = chart(parse(charted, page), "chart-weapons-released-op-b")
    links = [a.get("href") for a in fig.iter(f"{SVG}a")]
    assert links, "the chart has no links"
    for href in links:
        assert not re.match(r"^[a-z]+:|^/", href), href
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), href, "index.html"))
        assert (charted / "_site" / target).is_file(), href


def test_monthly_figures_are_bars_running_totals_markers_spans_brackets(charted):
    fig = chart(parse(charted, "operations/op-b/index.html"), "chart-weapons-released-op-b")
    assert set(marks(fig, "bar")) == {"f-jan", "f-mar-a", "f-mar-b", "f-june"}
    assert set(marks(fig, "marker")) == {"f-ytd"}
    assert set(marks(fig, "span")) == {"f-spring"}
    # a running total is a dot, never a bar; a span is a bracket, never bars in its months
    assert marks(fig, "marker")["f-ytd"].find(f"{SVG}circle") is not None
    assert marks(fig, "marker")["f-ytd"].find(f"{SVG}rect") is None
    assert marks(fig, "span")["f-spring"].find(f"{SVG}path") is not None
    assert marks(fig, "span")["f-spring"].find(f"{SVG}rect") is None


def test_bar_heights_follow_the_figures(charted):
    fig = chart(parse(charted, "operations/op-b/index.html"), "chart-weapons-released-op-b")
    bars = {k: float(a.find(f"{SVG}rect").get("height")) for k, a in marks(fig, "bar").items()}
    assert bars["f-june"] == pytest.approx(bars["f-jan"] * 100 / 80, rel=0.01)
    assert bars["f-mar-a"] == pytest.approx(bars["f-mar-b"] * 50 / 70, rel=0.01)


def test_gaps_are_gaps_not_zeros_and_uncharted_figures_stay_out(charted):
    fig = chart(parse(charted, "operations/op-b/index.html"), "chart-weapons-released-op-b")
    gaps = [g.findtext(f"{SVG}title") for g in fig.iter(f"{SVG}g") if g.get("class") == "gap"]
    # February's only figure is deprecated; April and May have only the two-month figure.
    assert gaps == ["No figure for February 2017", "No figure for April 2017 – May 2017"]
    linked = {a.get("href") for a in fig.iter("a")}
    assert not any("f-feb-old" in h or "f-undated" in h for h in linked)
    assert "No monthly figure for February 2017; April 2017 – May 2017." in fig.text_content()
    # the metric page lists what it could not chart
    metric = parse(charted, "metrics/weapons-released/index.html")
    section = metric.xpath('//section[h2="Not charted"]')[0].text_content()
    assert "999 weapons in February 2017" in section and "5 weapons, date unknown" in section


def test_disputed_figures_are_marked_and_stand_side_by_side(charted):
    fig = chart(parse(charted, "operations/op-b/index.html"), "chart-weapons-released-op-b")
    bars = marks(fig, "bar")
    for ident in ("f-mar-a", "f-mar-b"):
        assert "disputed" in bars[ident].get("class").split()
        assert "≠" in bars[ident].xpath("string(.//*[local-name()='text'][@class='dispute-mark'])")
        assert "(disputed)" in bars[ident].get("aria-label")
    assert "disputed" not in bars["f-jan"].get("class").split()
    a, b = (bars[i].find(f"{SVG}rect") for i in ("f-mar-a", "f-mar-b"))
    assert float(a.get("x")) + float(a.get("width")) <= float(b.get("x"))
    rows = fig.xpath('.//table//tr[contains(@class, "disputed")]/th/a/@href')
    assert sorted(h.split("/")[-2] for h in rows) == ["f-mar-a", "f-mar-b"]


def test_a_span_is_a_bracket_over_exactly_its_months(tmp_path, site):
    root = site(CHARTED)
    problems = Problems()
    archive, index = read_archive(Options(root=root, out=root / "_site"), problems)
    figures = [Figure(archive.facts[i], bool(index.disputes.get(i))) for i in index.by_metric["weapons-released"]
               if "op-b" in archive.facts[i].operations]
    geometry = build_chart(figures)
    slots = {s.ym: s for s in geometry.slots}
    assert list(slots) == [(2017, m) for m in range(1, 7)]
    (span,) = geometry.spans
    assert span.x1 == slots[(2017, 4)].x
    assert span.x2 == pytest.approx(slots[(2017, 5)].x + slots[(2017, 5)].width, abs=0.2)
    assert not any(b.fact.id == "f-spring" for b in geometry.bars)
    assert [b.fact.id for b in geometry.bars if b.center < span.x1 or b.center > span.x2] == \
        [b.fact.id for b in geometry.bars]


def test_a_span_that_starts_mid_month_starts_mid_slot():
    root = REPO
    archive, index = read_archive(Options(root=root, out=root / "_site"), Problems())
    fact = archive.facts["2016-mosul-offensive-militants-killed"]
    assert fact.when.first.day == 17
    geometry = build_chart([Figure(fact)])
    october = geometry.slots[0]
    (span,) = geometry.spans
    assert span.x1 == pytest.approx(october.x + october.width * 16 / 31, abs=0.1)


def test_ticks_are_round_and_reach_the_top():
    assert nice_ticks(4848) == ([0, 2000, 4000, 6000], 6000)
    assert nice_ticks(27800) == ([0, 10000, 20000, 30000], 30000)
    assert [str(v) for v in nice_ticks(9)[0]] == ["0", "2.5", "5", "7.5", "10"]


def test_metric_page_charts_every_operation_on_one_scale(charted):
    doc = parse(charted, "metrics/weapons-released/index.html")
    a, b = chart(doc, "chart-weapons-released-op-a"), chart(doc, "chart-weapons-released-op-b")
    months = [[t.text for t in f.iter(f"{SVG}text") if t.get("class") == "month"] for f in (a, b)]
    assert months[0] == months[1] == list("JFMAMJJA")
    ticks = [[t.text for t in f.iter(f"{SVG}text") if t.get("class") == "tick"] for f in (a, b)]
    assert ticks[0] == ticks[1][:len(ticks[0])]
    assert set(marks(a, "bar")) == {"f-a-feb", "f-a-aug"}
    index = parse(charted, "metrics/index.html")
    assert index.xpath('//a[.="Weapons released"]/@href') == ["weapons-released/"]


def test_chart_has_title_description_and_the_same_numbers_in_a_table(charted):
    fig = chart(parse(charted, "operations/op-b/index.html"), "chart-weapons-released-op-b")
    svg = fig.find(f"{SVG}svg")
    title = fig.xpath(f'.//*[@id="{svg.get("aria-labelledby")}"]')[0]
    desc = fig.xpath(f'.//*[@id="{svg.get("aria-describedby")}"]')[0]
    assert title.tag == f"{SVG}title" and "Weapons released, Operation B" in title.text
    assert desc.tag == f"{SVG}desc" and "4 monthly figures drawn as bars, 1 figure over another span" in desc.text
    assert "3 months have no monthly figure" in desc.text
    table = fig.find(".//table")
    assert "Weapons released, Operation B" in table.findtext("caption")
    assert [th.get("scope") for th in table.xpath(".//thead/tr/th")] == ["col"] * 3
    rows = table.xpath(".//tbody/tr")
    assert all(r.find("th").get("scope") == "row" for r in rows)
    in_table = [(r.find("th/a").get("href").split("/")[-2], r.xpath("string(td[1])").split()[0]) for r in rows]
    drawn = [(k, a.get("aria-label").split(": ")[1].split()[0]) for kind in ("bar", "marker", "span")
             for k, a in marks(fig, kind).items()]
    assert sorted(in_table) == sorted(drawn)
    assert ("f-ytd", "400") in in_table


def test_operation_page_charts_only_its_own_figures(charted):
    doc = parse(charted, "operations/op-a/index.html")
    fig = chart(doc, "chart-weapons-released-op-a")
    assert set(marks(fig, "bar")) == {"f-a-feb", "f-a-aug"}  # op-b's figures are not op-a's monthly figures


def test_home_page_orients(charted):
    doc = parse(charted, "index.html")
    text = " ".join(doc.text_content().split())
    assert "holds 11 facts from 2 sources, across 2 operations, from January 2017 to August 2017" in text
    records = doc.xpath('//section[contains(@class, "records")]')[0]
    assert records.xpath('.//dt/a/@href') == ["metrics/weapons-released/"]
    assert records.xpath('.//dd/a/@href') == ["facts/f-june/"]
    assert "100 weapons in June 2017" in records.text_content()
    ways = doc.xpath('//nav[@aria-label="Ways in"]//a/@href')
    assert {"timeline/", "operations/", "metrics/"} <= set(ways)
    assert ("search/" in ways) == (charted / "_site/search/index.html").exists()
    assert doc.xpath('//figure[@id="chart-weapons-released-op-b"]'), "the richest series is charted on the home page"
    latest = doc.xpath('//section[h2="Latest facts"]//a[@class="claim"]/@href')
    assert latest[0] == "facts/f-a-aug/"


def test_embedded_home_page_charts_weapons_released(tmp_path):
    run = annals(REPO, "--out", str(tmp_path / "out"), "-q")
    assert run.code == 0, run.err
    doc = html.fromstring((tmp_path / "out/index.html").read_bytes())
    fig = chart(doc, "chart-weapons-released-inherent-resolve")
    assert set(marks(fig, "bar")) >= {"2017-06-oir-weapons-released", "2016-06-oir-weapons-released"}
    record = doc.xpath('//section[contains(@class, "records")]//dd/a[contains(@href, "weapons")]/text()')
    assert record == ["4,848 weapons in June 2017"]
