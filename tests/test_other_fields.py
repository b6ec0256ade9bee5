"""Figures other fields count: levels, ranges, facts replaced, spans of months, and the footnotes that cite them.

Each test builds a small archive of an epidemic's surveillance figures,
written here, with the real command line, and reads the pages it makes.
"""
from __future__ import annotations

import csv
import io
import json
import re

from lxml import html

from conftest import annals, make_site, write_files

SVG = ""  # lxml.html reads inline SVG as plain, un-namespaced elements

SURVEILLANCE = {
    "content/site.yaml": """\
        title: Measles Watch
        description: Measles surveillance figures, as the health agencies report them.
        base_url: https://example.org/measles/
        language: en
        licence: CC BY 4.0
        """,
    "content/metrics.yaml": """\
        cases:
          label: Measles cases
          unit: cases
          description: Confirmed cases reported.
        countries-free:
          label: Countries free of measles
          unit: countries
          description: Countries verified to have eliminated endemic measles, as of a date.
        deaths:
          label: Measles deaths
          unit: deaths
          description: Deaths attributed to measles.
        """,
    "content/operations/world.yaml": "name: World\n",
    "content/operations/europe.yaml": "name: European Region\nparent: world\n",
    "content/sources/bulletin.yaml": "title: Surveillance bulletin\nkind: report\n",
}


def fact(claim: str, when: str, measure: str = "", ops: str = "[world]", more: str = "") -> str:
    """A fact file; `measure` is the lines under `measure:`, each indented two spaces."""
    text = f"claim: {claim}\nwhen: {when}\noperations: {ops}\n"
    if measure:
        text += "measure:\n" + "".join(f"  {line}\n" for line in measure.strip().splitlines())
    return text + f"sources:\n  - source: bulletin\n    quote: \"{claim[:20]}\"\n" + more


def whisker(mark) -> tuple[float, float, float]:
    """(x, the high bound's y, the low bound's y) of the whisker drawn in a chart mark."""
    path = mark.find(f"{SVG}path")
    assert path is not None and path.get("class") == "whisker"
    found = re.match(r"M([\d.]+) ([\d.]+)V([\d.]+)M", path.get("d"))
    return tuple(float(v) for v in found.groups())


def built(site, facts: dict[str, str], *args: str):
    root = site({**SURVEILLANCE, **{f"content/facts/{k}.yaml": v for k, v in facts.items()}}, minimal=False)
    run = annals(root, *args)
    return root, run


def page(root, rel: str):
    return html.fromstring((root / "_site" / rel / "index.html").read_bytes())


def text(doc) -> str:
    return " ".join(doc.text_content().split())


LEVELS = {
    "free-2017": fact("37 countries were free of measles at the end of 2017.", "2017-12-31",
                      "metric: countries-free\nvalue: 37\naggregation: level"),
    "free-2018": fact("35 countries were free of measles at the end of 2018.", "2018-12-31",
                      "metric: countries-free\nvalue: 35\naggregation: level"),
    "free-2019": fact("36 countries were free of measles at the end of 2019.", "2019-12-31",
                      "metric: countries-free\nvalue: 36\naggregation: level"),
}


# -- levels ------------------------------------------------------------------------------------

def test_a_level_that_falls_is_no_running_total_and_passes_strict(site):
    root, run = built(site, LEVELS, "--strict")
    assert run.code == 0, run.err
    assert "running total" not in run.err and "warning" not in run.err.replace("0 warning(s)", "")
    doc = page(root, "facts/free-2018")
    assert "35 countries" in text(doc) and "a level standing at the date, not a sum" in text(doc)
    chart = page(root, "metrics/countries-free").xpath('//figure[@class="chart"]')[0]
    points = [a for a in chart.iter("a") if "level" in (a.get("class") or "").split()]
    assert [a.get("href").split("/")[-2] for a in points] == ["free-2017", "free-2018", "free-2019"]
    assert all(a.find(f"{SVG}circle") is not None for a in points)
    # joined by a line: one segment between each two points, falling then rising
    lines = [ln for ln in chart.iter(f"{SVG}line") if ln.get("class") == "level-line"]
    assert len(lines) == 2
    assert float(lines[0].get("y2")) > float(lines[0].get("y1")) and float(lines[1].get("y2")) < float(lines[1].get("y1"))
    assert "Levels (countries)" in [t.text for t in chart.iter(f"{SVG}text")]
    assert not [a for a in chart.iter("a") if (a.get("class") or "").split() in (["bar"], ["span"])]


def test_a_level_is_never_added_to_the_figures_of_its_period(site):
    # Monthly cases that add up to the year's stated total, and a level of cases standing in one of those
    # months: the level is not one of the months' figures, so the sum holds.
    months = {f"cases-2018-{m:02d}": fact(f"{m * 10} cases in month {m} of 2018.", f"2018-{m:02d}",
                                          f"metric: cases\nvalue: {m * 10}\naggregation: period") for m in range(1, 13)}
    months["cases-2018"] = fact("780 cases in 2018.", "2018", "metric: cases\nvalue: 780\naggregation: period")
    months["cases-active"] = fact("5000 cases were under care on 15 March 2018.", "2018-03-15",
                                  "metric: cases\nvalue: 5000\naggregation: level")
    root, run = built(site, months, "--strict")
    assert run.code == 0, run.err
    # and a total that a level would have broken, had it been added, is still reported when wrong
    months["cases-2018"] = months["cases-2018"].replace("value: 780", "value: 790")
    _, run = built(site, months, "check", "--strict")
    assert run.code == 1 and "sum does not add up" in run.err and "cases-active" not in run.err


def test_levels_dispute_each_other_and_give_the_record(site):
    facts = dict(LEVELS, **{"free-2018-other": fact("33 countries were free of measles at the end of 2018.",
                                                   "2018-12-31", "metric: countries-free\nvalue: 33\naggregation: level")})
    root, run = built(site, facts)
    assert run.code == 0, run.err
    for ident, other in (("free-2018", "free-2018-other"), ("free-2018-other", "free-2018")):
        doc = page(root, f"facts/{ident}")
        assert doc.xpath(f'//div[contains(@class, "disputed")]//a[contains(@href, "/{other}/")]'), ident
    assert not page(root, "facts/free-2017").xpath('//div[contains(@class, "disputed")]')
    home = text(page(root, ""))
    assert "37 countries as of 31 December 2017" in home and "highest level" in home


# -- ranges ------------------------------------------------------------------------------------

RANGES = {
    "deaths-2018": fact("Between 1,200 and 1,500 people died of measles in 2018.", "2018",
                        "metric: deaths\nvalue: {low: 1200, high: 1500}\naggregation: period"),
    "deaths-2018-estimate": fact("About 1,400 people died of measles in 2018, says an estimate.", "2018",
                                 "metric: deaths\nvalue: 1400\naggregation: period"),
    "deaths-2019": fact("Between 900 and 1,000 people died of measles in 2019.", "2019",
                        "metric: deaths\nvalue: {low: 900, high: 1000}\naggregation: period"),
    "deaths-2019-other": fact("Between 1,100 and 1,300 people died of measles in 2019, says another report.",
                              "2019", "metric: deaths\nvalue: {low: 1100, high: 1300}\naggregation: period"),
    "deaths-2019-06": fact("Between 80 and 120 people died of measles in June 2019.", "2019-06",
                           "metric: deaths\nvalue: {low: 80, high: 120}\naggregation: period"),
}


def test_a_range_is_printed_as_a_range_and_overlapping_ranges_are_no_dispute(site):
    root, run = built(site, RANGES)
    assert run.code == 0, run.err
    doc = page(root, "facts/deaths-2018")
    assert doc.xpath('//dd[@class="figure"]')[0].text == "1,200–1,500 deaths"
    assert "a range, from the least to the most the source gives" in text(doc)
    # 1,400 lies within 1,200–1,500: they agree
    assert not doc.xpath('//div[contains(@class, "disputed")]')
    # 900–1,000 and 1,100–1,300 do not meet: each disputes the other
    for ident, other in (("deaths-2019", "deaths-2019-other"), ("deaths-2019-other", "deaths-2019")):
        assert page(root, f"facts/{ident}").xpath(f'//div[contains(@class, "disputed")]//a[contains(@href, "/{other}/")]')
    year = text(page(root, "timeline/2019"))
    assert "900–1,000 deaths" in year and "80–120 deaths" in year


def test_a_chart_draws_a_range_from_its_low_bound_to_its_high_one(site):
    root, run = built(site, RANGES)
    assert run.code == 0, run.err
    chart = page(root, "metrics/deaths").xpath('//figure[@class="chart"]')[0]
    (bar,) = [a for a in chart.iter("a") if (a.get("class") or "").split()[:1] == ["bar"]]
    rect = bar.find(f"{SVG}rect")
    _, top, bottom = whisker(bar)
    # the bar stands to 80; the whisker runs on from there up to 120
    assert bottom == float(rect.get("y")) and top < bottom
    assert abs(float(rect.get("height")) / (bottom - top) - 80 / 40) < 0.05
    brackets = [a for a in chart.iter("a") if "span" in (a.get("class") or "").split()]
    labels = {a.get("href").split("/")[-2]: a.find(f"{SVG}text").text for a in brackets}
    assert labels["deaths-2018"] == "1,200–1,500"
    assert "a range, from its low bound to its high one" in text(chart)


def test_a_range_level_is_a_whisker_joined_at_its_middle(site):
    facts = dict(LEVELS)
    facts["free-2018"] = facts["free-2018"].replace("value: 35", "value: {low: 34, high: 36}")
    root, run = built(site, facts, "--strict")
    assert run.code == 0, run.err
    chart = page(root, "metrics/countries-free").xpath('//figure[@class="chart"]')[0]
    points = {a.get("href").split("/")[-2]: a for a in chart.iter("a") if "level" in (a.get("class") or "").split()}
    assert points["free-2018"].find(f"{SVG}circle") is None
    x, y1, y2 = whisker(points["free-2018"])
    line = [ln for ln in chart.iter(f"{SVG}line") if ln.get("class") == "level-line"][0]
    assert float(line.get("x2")) == x and abs(float(line.get("y2")) - (y1 + y2) / 2) <= 0.1


def test_a_range_goes_to_the_data_files_as_its_bounds(site):
    root, run = built(site, RANGES)
    assert run.code == 0, run.err
    facts = {f["id"]: f for f in json.loads((root / "_site/data/facts.json").read_text())["facts"]}
    assert facts["deaths-2018"]["measure"]["value"] is None
    assert (facts["deaths-2018"]["measure"]["low"], facts["deaths-2018"]["measure"]["high"]) == (1200, 1500)
    assert facts["deaths-2018-estimate"]["measure"]["value"] == 1400
    assert facts["deaths-2018-estimate"]["measure"]["low"] is None
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO((root / "_site/data/facts.csv").read_text()))}
    assert (rows["deaths-2018"]["value"], rows["deaths-2018"]["low"], rows["deaths-2018"]["high"]) == ("", "1200", "1500")
    assert (rows["deaths-2018-estimate"]["value"], rows["deaths-2018-estimate"]["low"]) == ("1400", "")
    schema = json.loads((root / "_site/data/facts.schema.json").read_text())
    measure = schema["properties"]["facts"]["items"]["properties"]["measure"]["anyOf"][0]
    assert {"low", "high"} <= set(measure["required"]) and "level" in measure["properties"]["aggregation"]["enum"]


def test_a_range_written_wrong_is_an_error_at_its_line(site):
    bad = {
        "a-upside-down": ("{low: 1500, high: 1200}", "", "value: low 1500 is more than high 1200; write the smaller bound as low"),
        "b-one-bound": ("{low: 1500}", "", "value: missing required field 'high'"),
        "c-same": ("{low: 5, high: 5}", "", "value: low and high are both 5; write `value: 5`"),
        "d-below-zero": ("{low: -5, high: 10}", "", "value: -5 is below zero, and metric 'deaths' counts deaths, "
                         "which cannot be fewer than none; if its figures may be negative, write `negative: allowed` "
                         "under 'deaths' in content/metrics.yaml"),
        "e-approx": ("{low: 5, high: 10}", "\napprox: about", "approx: a range gives its own bounds; leave out "
                     "`approx: about` (\"over 1,200\" is at-least 1200, \"1,200 to 1,500\" is {low: 1200, high: 1500})"),
        "f-word": ("{low: 5, high: many}", "", "high: 'many' is not a number; write digits, like 4848 or 12.5"),
    }
    facts = {ident: fact("Some died.", "2018", f"metric: deaths\nvalue: {value}\naggregation: period{more}")
             for ident, (value, more, _) in bad.items()}
    for command in ("check", "build"):
        _, run = built(site, facts, command)
        assert run.code == 1 and "Traceback" not in run.err
        line = {"e-approx": 8}
        expected = {f"content/facts/{ident}.yaml:{line.get(ident, 6)}: {message}" for ident, (_, _, message) in bad.items()}
        assert expected <= set(run.problems), sorted(set(run.problems) ^ expected)


def test_sums_of_ranges_are_ranges(site):
    months = {f"cases-{m}": fact(f"Between {m * 10} and {m * 10 + 5} cases in month {m}.", f"2018-{m:02d}",
                                 f"metric: cases\nvalue: {{low: {m * 10}, high: {m * 10 + 5}}}\naggregation: period")
              for m in (1, 2, 3)}  # 60 to 75 in all
    for stated, warned in (("70", False), ("{low: 50, high: 61}", False), ("80", True), ("{low: 40, high: 59}", True)):
        months["cases-q1"] = fact("Cases in the first quarter.", "{from: 2018-01, to: 2018-03}",
                                  f"metric: cases\nvalue: {stated}\naggregation: period")
        _, run = built(site, months, "check", "--strict")
        assert (run.code == 1) == warned, (stated, run.err)
        if warned:
            assert "sum does not add up" in run.err and "= 60–75" in run.err, run.err


def test_a_record_counts_a_range_by_its_low_bound(site):
    facts = {
        "cases-may": fact("Between 100 and 900 cases in May.", "2018-05",
                          "metric: cases\nvalue: {low: 100, high: 900}\naggregation: period"),
        "cases-june": fact("500 cases in June.", "2018-06", "metric: cases\nvalue: 500\naggregation: period"),
    }
    root, run = built(site, facts)
    assert run.code == 0, run.err
    records = page(root, "").xpath('//section[@class="records"]//dd/a')
    assert [a.get("href") for a in records] == ["facts/cases-june/"]
    facts["cases-may"] = facts["cases-may"].replace("low: 100", "low: 600")
    root, run = built(site, facts)
    records = page(root, "").xpath('//section[@class="records"]//dd/a')
    assert [a.get("href") for a in records] == ["facts/cases-may/"] and records[0].text.startswith("600–900 cases")


# -- a deprecated fact and the one that replaces it --------------------------------------------------

REPLACED = {
    "cases-2018-first": fact("8,000 cases in 2018, a first count.", "2018",
                             "metric: cases\nvalue: 8000\naggregation: period",
                             more="rank: deprecated\nrank_reason: The agency revised its count.\n"
                                  "replaced_by: cases-2018-revised\n"),
    "cases-2018-revised": fact("8,400 cases in 2018, the revised count.", "2018",
                               "metric: cases\nvalue: 8400\naggregation: period"),
}


def test_a_deprecated_fact_and_its_replacement_link_each_other(site):
    root, run = built(site, REPLACED, "--strict")
    assert run.code == 0, run.err
    old = page(root, "facts/cases-2018-first")
    link = old.xpath('//p[@class="notice"]//a[@class="replaced-by"]')[0]
    assert link.get("href") == "../cases-2018-revised/" and link.text == "8,400 cases in 2018, the revised count."
    assert "It is replaced by the fact that gives 8,400 cases: 8,400 cases in 2018, the revised count." in text(old)
    new = page(root, "facts/cases-2018-revised")
    (back,) = new.xpath('//div[contains(@class, "replaces")]//a[@class="claim"]')
    assert back.get("href") == "../../facts/cases-2018-first/"
    assert "This fact replaces a deprecated fact" in text(new)
    assert json.loads((root / "_site/data/facts.json").read_text())["facts"][0]["replaced_by"] == "cases-2018-revised"


def test_replaced_by_names_a_live_fact_of_a_deprecated_one(site):
    cases = {
        "x-unknown": ("rank: deprecated\nrank_reason: Revised.\nreplaced_by: cases-2018-revise\n", 13,
                      "unknown fact 'cases-2018-revise' (did you mean 'cases-2018-revised'?)"),
        "x-not-deprecated": ("replaced_by: cases-2018-revised\n", 11,
                             "replaced_by: only a deprecated fact is replaced; add `rank: deprecated` and a "
                             "rank_reason, or leave replaced_by out"),
        "x-itself": ("rank: deprecated\nrank_reason: Revised.\nreplaced_by: x-itself\n", 13,
                     "replaced_by: names the fact itself"),
        "x-old-id": ("rank: deprecated\nrank_reason: Revised.\nreplaced_by: cases-2018-old\n", 13,
                     "replaced_by: 'cases-2018-old' is an old id of 'cases-2018-revised'; name the current id"),
        "x-not-an-id": ("rank: deprecated\nrank_reason: Revised.\nreplaced_by: Cases 2018\n", 13,
                        "replaced_by: 'Cases 2018' is not a valid id; use lower-case letters, digits and single hyphens"),
    }
    facts = {"cases-2018-revised": REPLACED["cases-2018-revised"] + "aliases: [cases-2018-old]\n"}
    facts.update({ident: fact("A count.", "2018", "metric: cases\nvalue: 1\naggregation: period", more=more)
                  for ident, (more, _, _) in cases.items()})
    _, run = built(site, facts, "check")
    assert run.code == 1 and "Traceback" not in run.err
    expected = {f"content/facts/{ident}.yaml:{line}: {message}" for ident, (_, line, message) in cases.items()}
    assert expected <= set(run.problems), sorted(set(run.problems) ^ expected)


def test_removing_the_replacement_is_reported_in_the_preview_too(site):
    """The preview checks only the facts saved; a replaced_by that names a fact just deleted is still found."""
    root, run = built(site, REPLACED)
    assert run.code == 0, run.err
    (root / "content/facts/cases-2018-revised.yaml").unlink()
    run = annals(root, "check")
    assert run.code == 1 and "content/facts/cases-2018-first.yaml:13: unknown fact 'cases-2018-revised'\n" in run.err


# -- spans of months -----------------------------------------------------------------------------

SPANS = {
    "cases-rolling": fact("8,000 cases in the twelve months to June 2018.", "{from: 2017-07, to: 2018-06}",
                          "metric: cases\nvalue: 8000\naggregation: period", ops="[europe]"),
    "cases-2018-03": fact("500 cases in March 2018.", "2018-03", "metric: cases\nvalue: 500\naggregation: period",
                          ops="[europe]"),
    "cases-early-march": fact("200 cases in the first half of March 2018.", "{from: 2018-03-01, to: 2018-03-15}",
                              "metric: cases\nvalue: 200\naggregation: period", ops="[europe]"),
}


def test_a_span_is_on_every_year_it_overlaps_and_covers_each_of_its_months(site):
    root, run = built(site, SPANS, "--strict")
    assert run.code == 0, run.err
    for year in (2017, 2018):
        doc = page(root, f"timeline/{year}")
        (section,) = doc.xpath('//section[@class="covering"]')
        assert [a.get("href") for a in section.xpath('.//a[@class="claim"]')] == ["../../facts/cases-rolling/"]
        assert "July 2017 – June 2018" in text(section)
    months = [f"2017/{m:02d}" for m in range(7, 13)] + [f"2018/{m:02d}" for m in range(1, 7)]
    for ym in months:
        doc = page(root, f"timeline/{ym}")
        (section,) = doc.xpath('//section[@class="covering"]')
        assert "Covering this month" in text(section) and "July 2017 – June 2018" in text(section), ym
        assert section.xpath('.//a[@class="claim"]/@href') == ["../../../facts/cases-rolling/"]
        # a span is not a fact dated in the month
        dated = doc.xpath('//ol[@class="facts"][not(ancestor::section[@class="covering"])]//a[@class="claim"]/@href')
        assert dated == (["../../../facts/cases-early-march/", "../../../facts/cases-2018-03/"] if ym == "2018/03" else []), ym
    assert not (root / "_site/timeline/2017/06").exists() and not (root / "_site/timeline/2018/07").exists()
    # the month's data file holds what the page lists
    march = json.loads((root / "_site/timeline/2018/03/facts.json").read_text())
    assert [f["id"] for f in march["facts"]] == ["cases-early-march", "cases-2018-03", "cases-rolling"]
    home = text(page(root, ""))
    assert "every year and month, from July 2017 to June 2018" in home
    assert "from July 2017 to June 2018" in home.split("Ways in")[0]
    timeline = page(root, "timeline")
    assert timeline.xpath('//a[.="July 2017"]/@href') == ["2017/07/"]


def test_a_span_of_centuries_is_listed_where_it_ends(site, tmp_path):
    facts = {"cases-century": fact("A million cases in the twentieth century.", "{from: 1901, to: 2000}",
                                   "metric: cases\nvalue: 1000000\naggregation: period")}
    root, run = built(site, facts)
    assert run.code == 0, run.err
    years = sorted(p.name for p in (root / "_site/timeline").iterdir() if p.is_dir())
    assert years == [str(y) for y in range(1901, 2001)]  # a hundred years: each is listed
    assert [p.name for p in (root / "_site/timeline/2000").iterdir() if p.is_dir()] == ["12"]
    facts["cases-century"] = facts["cases-century"].replace("from: 1901", "from: 1801")
    (tmp_path / "longer").mkdir()
    root = make_site(tmp_path / "longer", {**SURVEILLANCE, "content/facts/cases-century.yaml": facts["cases-century"]},
                     minimal=False)
    assert annals(root).code == 0
    assert sorted(p.name for p in (root / "_site/timeline").iterdir() if p.is_dir()) == ["2000"]


# -- footnotes ---------------------------------------------------------------------------------

def test_a_labelled_citation_takes_no_footnote_number(site):
    facts = {**LEVELS}
    root = site({**SURVEILLANCE, **{f"content/facts/{k}.yaml": v for k, v in facts.items()},
                 "content/articles/elimination.md": """\
                    ---
                    title: Elimination
                    date: 2020-01-10
                    ---
                    As [[fact:free-2017|the 2017 count]] showed, 37 were free; then 35 [[fact:free-2018]],
                    and 36 [[fact:free-2019]]; again [[fact:free-2018]] and [[fact:free-2017]].
                    """}, minimal=False)
    run = annals(root)
    assert run.code == 0, run.err
    refs = page(root, "articles/elimination").xpath('//a[contains(@class, "fact-ref")]')
    assert [(a.get("href").split("/")[-2], a.text) for a in refs] == [
        ("free-2017", "the 2017 count"), ("free-2018", "[1]"), ("free-2019", "[2]"), ("free-2018", "[1]"),
        ("free-2017", "[3]")]


def test_an_edit_that_makes_a_fact_a_span_builds_what_a_build_from_nothing_builds(site, tmp_path):
    """A build after an edit (which may patch the last build's index) writes the pages a first build would."""
    root, run = built(site, SPANS)
    assert run.code == 0, run.err
    edited = dict(SPANS, **{"cases-2018-03": SPANS["cases-2018-03"].replace(
        "when: 2018-03", "when: {from: 2018-02, to: 2018-08}")})
    write_files(root, {"content/facts/cases-2018-03.yaml": edited["cases-2018-03"]})
    assert annals(root).code == 0
    (tmp_path / "fresh").mkdir()
    fresh = make_site(tmp_path / "fresh", {**SURVEILLANCE, **{f"content/facts/{k}.yaml": v for k, v in edited.items()}},
                      minimal=False)
    assert annals(fresh).code == 0

    def output(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert output(root / "_site") == output(fresh / "_site")
    assert "Covering this month" in text(page(root, "timeline/2018/08"))
