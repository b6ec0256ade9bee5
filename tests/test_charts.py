"""Charts drawn at build time: what each mark is, where it goes, where it links, and what it says."""
import functools
import itertools
import math
import posixpath
import re

import pytest
from hypothesis import example, given, strategies as st
from lxml import html

from annals.charts import build_chart, nice_ticks, Figure
from annals.pipeline import Options, read_archive
from annals.problems import Problems
from conftest import CHARTED, REPO, _measure, annals, make_site

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
        assert "(disputed)" in bars[ident].get("aria-label")
    assert "disputed" not in bars["f-jan"].get("class").split()
    a, b = (bars[i].find(f"{SVG}rect") for i in ("f-mar-a", "f-mar-b"))
    assert float(a.get("x")) + float(a.get("width")) <= float(b.get("x"))
    # Each bar its own ≠, or, where the bars are too thin for two, one ≠ over both.
    signs = [bars[i].xpath(".//*[local-name()='text'][@class='dispute-mark']") for i in ("f-mar-a", "f-mar-b")]
    if all(signs):
        assert all(s[0].text == "≠" for s in signs)
    else:
        [[sign], []] = signs
        assert sign.text == "≠"
        assert float(a.get("x")) <= float(sign.get("x")) <= float(b.get("x")) + float(b.get("width"))
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


def test_metric_page_charts_every_operation_on_its_own_scale_over_the_same_months(charted):
    doc = parse(charted, "metrics/weapons-released/index.html")
    a, b = chart(doc, "chart-weapons-released-op-a"), chart(doc, "chart-weapons-released-op-b")
    months = [[t.text for t in f.iter(f"{SVG}text") if t.get("class") == "month"] for f in (a, b)]
    assert months[0] == months[1] == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug"]
    # Each monthly axis reaches just past its own largest figure, not past the other chart's.
    ticks = [[t.text for t in f.iter(f"{SVG}text") if t.get("class") == "tick"] for f in (a, b)]
    assert ticks[0] == ["0", "20", "40", "60"] and ticks[1][:5] == ["0", "25", "50", "75", "100"]
    # and the months line up all the same: one margin for both
    slots = [[l.get("x1") for l in f.iter(f"{SVG}line") if l.get("class") == "grid"][:1] for f in (a, b)]
    assert slots[0] == slots[1]
    assert "Each chart has its own scale" in "".join(doc.xpath('//p[@class="meta"]//text()'))
    assert set(marks(a, "bar")) == {"f-a-feb", "f-a-aug"}
    index = parse(charted, "metrics/index.html")
    assert index.xpath('//a[.="Weapons released"]/@href') == ["weapons-released/"]


def test_chart_has_title_description_and_the_same_numbers_in_a_table(charted):
    fig = chart(parse(charted, "operations/op-b/index.html"), "chart-weapons-released-op-b")
    svg = fig.find(f".//{SVG}svg")
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


# -- many months, huge numbers, a phone: charts read in a real browser ----------

def long_archive() -> dict[str, str | None]:
    """Five years of monthly figures and running totals, with gaps, disputed months, a disputed
    running total and a figure over a whole year: more marks than a chart has room to label."""
    files: dict[str, str | None] = {"content/facts/2017/f-june.yaml": None}
    total = 0
    for i in range(60):
        y, m = 2014 + i // 12, i % 12 + 1
        ym = f"{y}-{m:02d}"
        if i % 7 == 3:
            continue
        value = 800 + (i * 2677) % 4100
        total += value
        files[f"content/facts/{y}/w-{ym}.yaml"] = _measure(f"{value} weapons in {ym}.", ym, "op-b", value)
        if i % 13 == 5:
            files[f"content/facts/{y}/w-{ym}-b.yaml"] = _measure(f"{value + 333} weapons in {ym}.", ym, "op-b",
                                                                 value + 333)
        files[f"content/facts/{y}/t-{ym}.yaml"] = _measure(f"{total} weapons since January 2014.", ym, "op-b", total,
                                                           "  since: 2014-01\n", aggregation="cumulative")
    files["content/facts/2016/t-2016-06-low.yaml"] = _measure("12345 weapons since January 2014.", "2016-06", "op-b",
                                                              12345, "  since: 2014-01\n", aggregation="cumulative")
    files["content/facts/2015/y-2015.yaml"] = _measure("30000 weapons in 2015.", "2015", "op-b", 30000)
    return files


# A city budget: monthly figures in the billions, a running total past a hundred billion.
BILLIONS = {
    "content/facts/2017/f-june.yaml": None,
    **{f"content/facts/b-2020-{m:02d}.yaml": _measure(f"{v} spent.", f"2020-{m:02d}", "op-b", v)
       for m, v in ((1, 1200000000), (2, 1850000000), (3, 950000000), (4, 2300000000))},
    "content/facts/b-total.yaml": _measure("123456789012 spent.", "2020-04", "op-b", 123456789012,
                                           "  since: 2020-01\n", aggregation="cumulative"),
}


# Ranges and levels: monthly bars with whiskers beside exact bars, levels (one a range) joined by a line,
# a running total given as a range, a range over a span; and a second operation of figures a hundred times smaller.
RANGES = {
    "content/facts/2017/f-june.yaml": None,
    **{f"content/facts/r-2020-{m:02d}.yaml": _measure(f"Released in month {m}.", f"2020-{m:02d}", "op-b", v)
       for m, v in ((1, "{low: 1200, high: 1500}"), (2, 1800), (3, "{low: 900, high: 2400}"), (5, 1300))},
    **{f"content/facts/l-2020-{m:02d}.yaml": _measure(f"Standing in month {m}.", f"2020-{m:02d}-28", "op-b", v,
                                                      aggregation="level")
       for m, v in ((1, 37), (2, "{low: 30, high: 36}"), (4, 35), (5, 38))},
    "content/facts/t-2020-04.yaml": _measure("Some since January.", "2020-04", "op-b", "{low: 5000, high: 6000}",
                                             "  since: 2020-01\n", aggregation="cumulative"),
    "content/facts/s-2020.yaml": _measure("Some over the spring.", "{from: 2020-03, to: 2020-05}", "op-b",
                                          "{low: 3000, high: 4500}"),
    **{f"content/facts/small-2020-{m:02d}.yaml": _measure(f"A few released in month {m}.", f"2020-{m:02d}", "op-a", v)
       for m, v in ((2, 12), (4, "{low: 10, high: 19}"))},
}


def test_ranges_and_levels_are_charted_as_whiskers_and_joined_points(tmp_path):
    root = make_site(tmp_path, RANGES)
    assert annals(root, "--strict").code == 0
    doc = parse(root, "metrics/weapons-released/index.html")
    b, a = chart(doc, "chart-weapons-released-op-b"), chart(doc, "chart-weapons-released-op-a")
    whiskers = {mark.get("href").split("/")[-2] for mark in b.iter("a") if mark.find("path") is not None
                and mark.find("path").get("class") == "whisker"}
    assert whiskers == {"r-2020-01", "r-2020-03", "l-2020-02", "t-2020-04"}
    assert len([ln for ln in b.iter("line") if ln.get("class") == "level-line"]) == 3
    titles = [t.text for t in b.iter("text") if t.get("class") == "panel-title"]
    assert titles == ["Per month (weapons)", "Running totals (weapons)", "Levels (weapons)", "Over longer spans (weapons)"]
    # the small operation's chart reaches 20, not the large one's 2,500
    ticks = [t.text for t in a.iter("text") if t.get("class") == "tick"]
    assert ticks == ["0", "5", "10", "15", "20"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """name -> output folder: the 60-month archive, the billions, CHARTED, ranges and levels, and the embedded archive."""
    out = {}
    for name, files in (("long", long_archive()), ("billions", BILLIONS), ("charted", CHARTED), ("ranges", RANGES)):
        root = make_site(tmp_path_factory.mktemp(name), files)
        run = annals(root, "-q")
        assert run.code == 0, run.err
        out[name] = root / "_site"
    out["embedded"] = tmp_path_factory.mktemp("embedded") / "out"
    run = annals(REPO, "--out", str(out["embedded"]), "-q")
    assert run.code == 0, run.err
    return out


@pytest.fixture
def sites(built, http_server):
    """name -> the base URL a built site is served at."""
    return {name: http_server(folder) for name, folder in built.items()}


# Every text of every chart on a page, with its box in the chart's own units, and every dot.
CHART_GEOMETRY = """() => [...document.querySelectorAll('svg.chart-svg')].map(svg => {
  const box = e => { const b = e.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
  const href = e => e.closest('a') ? e.closest('a').getAttribute('href') : null;
  return {id: svg.closest('figure').id, width: svg.viewBox.baseVal.width, height: svg.viewBox.baseVal.height,
    texts: [...svg.querySelectorAll('text')].map(t => ({cls: t.getAttribute('class'), text: t.textContent,
                                                       box: box(t), href: href(t)})),
    dots: [...svg.querySelectorAll('a.marker circle')].map(c => ({x: c.cx.baseVal.value, y: c.cy.baseVal.value,
      r: c.r.baseVal.value + parseFloat(getComputedStyle(c).strokeWidth) / 2, href: href(c)}))};
})"""


def overlaps(texts) -> list[str]:
    out = []
    for a, b in itertools.combinations(texts, 2):
        (a1, a2, a3, a4), (b1, b2, b3, b4) = a["box"], b["box"]
        if a1 < b3 - 0.5 and b1 < a3 - 0.5 and a2 < b4 - 0.5 and b2 < a4 - 0.5:
            out.append(f"{a['text']!r} ({a['cls']}) and {b['text']!r} ({b['cls']})")
    return out


PAGES = [("long", "operations/op-b/"), ("billions", "operations/op-b/"), ("charted", "operations/op-b/"),
         ("ranges", "operations/op-b/"), ("ranges", "metrics/weapons-released/"),
         ("charted", "metrics/weapons-released/"), ("embedded", ""), ("embedded", "operations/inherent-resolve/"),
         ("embedded", "metrics/weapons-released/"), ("embedded", "operations/afghanistan-air-operations/")]


@pytest.mark.parametrize("name, path", PAGES)
def test_no_chart_text_overlaps_another_or_leaves_the_chart(name, path, sites, page):
    page.goto(sites[name] + path)
    charts = page.evaluate(CHART_GEOMETRY)
    assert charts
    for c in charts:
        assert overlaps(c["texts"]) == [], c["id"]
        outside = [t["text"] for t in c["texts"] if t["box"][0] < 0 or t["box"][2] > c["width"]
                   or t["box"][1] < 0 or t["box"][3] > c["height"]]
        assert outside == [], f"{c['id']}: cut off at the chart's edge"


def test_sixty_months_label_only_the_dots_that_matter_and_keep_dots_apart(sites, page):
    page.goto(sites["long"] + "operations/op-b/")
    (c,) = page.evaluate(CHART_GEOMETRY)
    values = [t for t in c["texts"] if t["cls"] == "value"]
    assert not [t for t in values if "w-" in (t["href"] or "")], "60 bars: no value over a bar"
    labelled = {i for i in (t["href"].split("/")[-2] for t in values) if i.startswith("t-")}
    # the first, the last (November 2018, since December has no figure; also the largest), and
    # both running totals for June 2016, which disagree
    assert labelled == {"t-2014-01", "t-2018-11", "t-2016-06", "t-2016-06-low"}
    assert len(c["dots"]) == 52
    dots = sorted(c["dots"], key=lambda d: d["x"])
    crowded = [(a["href"], b["href"]) for a, b in zip(dots, dots[1:])
               if math.dist((a["x"], a["y"]), (b["x"], b["y"])) < a["r"] + b["r"] - 0.1]
    assert crowded == [], "dots of neighbouring months overlap"
    # one ≠ over each of the four disputed months (two thin bars share one), none over another
    marks = [t for t in c["texts"] if t["cls"] == "dispute-mark"]
    assert len(marks) == 4


def test_billions_are_abbreviated_on_the_axis_and_written_out_in_the_table(sites, page):
    page.goto(sites["billions"] + "operations/op-b/")
    (c,) = page.evaluate(CHART_GEOMETRY)
    ticks = [t["text"] for t in c["texts"] if t["cls"] == "tick"]
    assert ticks == ["0", "1B", "2B", "3B", "0", "50B", "100B", "150B"]
    assert [t["text"] for t in c["texts"] if t["cls"] == "value"] == ["1.2B", "1.85B", "0.95B", "2.3B", "123B"]
    table = page.locator("table.chart-table").inner_text()
    assert "1,850,000,000" in table and "123,456,789,012" in table
    assert page.locator("a.marker").get_attribute("aria-label").startswith("April 2020: 123,456,789,012 weapons")


def test_a_chart_is_legible_on_a_phone_and_scrolls_inside_its_own_box(sites, page):
    page.set_viewport_size({"width": 360, "height": 740})
    for name, path in (("long", "operations/op-b/"), ("embedded", "")):
        page.goto(sites[name] + path)
        sizes = page.evaluate("""() => [...document.querySelectorAll('svg.chart-svg text')].map(t => {
            const svg = t.ownerSVGElement;
            return parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        })""")
        assert sizes and min(sizes) >= 10, f"{name}: chart text {min(sizes):.1f}px tall on a 360px phone"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the page itself scrolls sideways"
        box = page.locator(".chart-scroll").first
        assert box.evaluate("e => e.scrollWidth > e.clientWidth"), "the chart scrolls in its own box"
        assert page.locator(".scroll-hint").first.is_visible(), "and says so"
    page.set_viewport_size({"width": 1100, "height": 740})
    assert page.locator(".chart-scroll").first.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert not page.locator(".scroll-hint").first.is_visible(), "no hint where the chart fits"


def test_home_records_name_the_largest_running_total_or_span_of_a_metric_without_monthly_figures(site):
    """A metric with only running totals, and one with only a figure over a span, still have a record."""
    def fact(metric, value, when, aggregation, extra=""):
        return (f"claim: {value} of {metric}.\nwhen: {when}\nmeasure:\n  metric: {metric}\n  value: {value}\n"
                f"  aggregation: {aggregation}\n{extra}sources:\n  - source: src-1\n    quote: \"{value}\"\n")
    root = site({**CHARTED, "content/metrics.yaml": """\
        weapons-released:
          label: Weapons released
          unit: weapons
          description: Bombs and missiles released.
        sorties:
          label: Sorties
          unit: sorties
          description: Flights.
        killed:
          label: Militants killed
          unit: militants
          description: Fighters killed.
        """,
        "content/facts/s-1.yaml": fact("sorties", 900, "2017-03", "cumulative", "  since: 2017-01\n"),
        "content/facts/s-2.yaml": fact("sorties", 2500, "2017-06", "cumulative", "  since: 2017-01\n"),
        "content/facts/k-1.yaml": fact("killed", 700, "{from: 2016-10-17, to: 2016-12}", "period"),
        "content/facts/k-2.yaml": fact("killed", 300, "2016", "period")})
    run = annals(root, "-q")
    assert run.code == 0, run.err
    records = parse(root, "index.html").xpath('//section[contains(@class, "records")]')[0]
    rows = {dt.xpath("string(a)"): " ".join(dd.text_content().split())
            for dt, dd in zip(records.xpath(".//dt"), records.xpath(".//dd"))}
    assert rows == {
        "Weapons released": "100 weapons in June 2017 Operation B",
        "Sorties": "2,500 sorties in all by June 2017 largest running total since January 2017",
        "Militants killed": "700 militants over 17 October 2016 – December 2016 largest figure over a span",
    }
    assert records.xpath('.//dd/a/@href') == ["facts/k-1/", "facts/s-2/", "facts/f-june/"]


def test_a_chart_of_few_months_names_them_and_gaps_are_hatched_with_whole_strokes(charted):
    fig = chart(parse(charted, "operations/op-a/index.html"), "chart-weapons-released-op-a")
    months = [t.text for t in fig.iter("text") if t.get("class") == "month"]
    assert months == ["Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug"]  # not "J" for three different months
    gaps = [g for g in fig.iter("g") if g.get("class") == "gap"]
    assert gaps and all(g.findall("line") for g in gaps)
    baseline = float(fig.xpath('.//*[@class="baseline"]/@y1')[0])
    for line in (ln for g in gaps for ln in g.findall("line")):
        x1, y1, x2, y2 = (float(line.get(k)) for k in ("x1", "y1", "x2", "y2"))
        assert y1 == baseline and y2 == baseline - 10 and x2 - x1 == pytest.approx(10, abs=0.15), \
            "every stroke of the hatching is whole, from the baseline up 10 units"


def test_a_label_a_gridline_runs_through_stands_on_a_halo_of_the_background(sites, page):
    page.goto(sites["embedded"] + "operations/afghanistan-air-operations/")
    crossed = page.evaluate("""() => [...document.querySelectorAll('svg.chart-svg')].flatMap(svg => {
        const grid = [...svg.querySelectorAll('line.grid')].map(l => l.y1.baseVal.value);
        return [...svg.querySelectorAll('text.value')].filter(t => {
            const b = t.getBBox(); return grid.some(y => y > b.y && y < b.y + b.height); })
          .map(t => { const s = getComputedStyle(t);
            return {text: t.textContent, order: s.paintOrder, stroke: s.stroke, width: parseFloat(s.strokeWidth),
                    bg: getComputedStyle(document.body).backgroundColor}; });
      })""")
    assert "389" in [c["text"] for c in crossed], "389 sits just under the 400 gridline"
    for c in crossed:
        assert c["order"].startswith("stroke") and c["stroke"] == c["bg"] and c["width"] >= 2, c


_coordinate = st.floats(-50, 900, allow_nan=False)
_corners = st.tuples(_coordinate, _coordinate, _coordinate, _coordinate)


@given(st.lists(_corners, max_size=40), _corners, st.sampled_from([0.0, 1.0, 2.5]))
@example([(16.2, 0.0, 20.0, 10.0)], (0.0, 0.0, 15.5, 10.0), 1.0)  # within the pad, in the next column
@example([(-3.0, 0.0, -0.5, 10.0)], (0.0, 0.0, 15.5, 10.0), 1.0)  # and in the column before
def test_a_box_is_clear_of_the_boxes_filed_by_column_exactly_when_it_is_clear_of_every_box(boxes, box, pad):
    """charts._Taken asks only the boxes in the columns a box crosses: the answer must be the one all boxes give."""
    from annals.charts import _clear, _Taken

    boxes = [(min(a, c), min(b, d), max(a, c), max(b, d)) for a, b, c, d in boxes]
    box = (min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3]))
    every = all(box[2] + pad <= t[0] or t[2] + pad <= box[0] or box[3] + pad <= t[1] or t[3] + pad <= box[1]
                for t in boxes)
    assert _clear(box, _Taken(boxes), pad) == every


@functools.cache
def _measured_facts() -> tuple:
    """The embedded archive's facts with a figure, read once."""
    archive, _ = read_archive(Options(root=REPO, out=REPO / "_site"), Problems())
    return tuple(f for f in archive.facts.values() if f.measure is not None)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from([1, 2, 3, 1000]), st.booleans()), max_size=30))
def test_a_metrics_record_is_its_largest_figure_of_the_first_shape_it_has_the_earliest_of_equals(picked):
    """charts.record against its definition: bars before running totals before spans, the largest
    value, the earliest period among equal values, the first listed among equal periods."""
    import dataclasses
    from annals.charts import chartable, record

    facts = _measured_facts()
    figures = [Figure(dataclasses.replace(f, measure=dataclasses.replace(f.measure, value=value)), disputed)
               for f, value, disputed in ((facts[n % len(facts)], v, d) for n, v, d in picked)]
    expected = None
    drawn = [f for f in figures if chartable(f.fact)]
    for shape in ("bar", "marker", "bracket"):
        same = [f for f in drawn if f.shape == shape]
        if same:
            expected = max(same, key=lambda f: (f.fact.measure.value, -f.fact.when.first.toordinal()))
            break
    assert record(figures) is expected
