"""A third archive, of public-health surveillance, built with no change to the code by a real build.py process.

Its facts are grouped by outbreak (site.yaml's `groups`) and count what surveillance counts: cases by
month, running totals, levels at a date (districts affected, countries that eliminated a disease), ranges
("between 1,200 and 1,500 deaths"), rolling twelve-month spans, a deprecated figure replaced by a revised
one. Every organisation, address and figure in it is invented for the test: it is a test archive.
"""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lxml import html

from annals.charts import nice_ticks
from conftest import REPO, annals, write_files
from test_words import domain_hits

TEST = "test archive, invented figures"


def source(title: str, kind: str, publisher: str, published: str, slug: str) -> str:
    return textwrap.dedent(f"""\
        title: "{title} ({TEST})"
        kind: {kind}
        publisher: {publisher}
        published: {published}
        url: https://health.example.org/{slug}
        archived: https://archive.example.org/{published}/health.example.org/{slug}
        archived_date: {published}
        accessed: 2024-03-01
        """)


def measure(claim: str, when: str, outbreak: str, metric: str, value: str, src: str, quote: str,
            aggregation: str = "period", more: str = "", fact_more: str = "") -> str:
    return (f"claim: \"{claim}\"\nwhen: {when}\noperations: [{outbreak}]\n"
            f"measure:\n  metric: {metric}\n  value: {value}\n  aggregation: {aggregation}\n{more}"
            f"originator: Surveillance unit of the Examplian health ministry\n"
            f"sources:\n  - source: {src}\n    quote: \"{quote}\"\n{fact_more}")


def event(claim: str, when: str | None, outbreak: str | None, src: str, quote: str, more: str = "") -> str:
    return (f"claim: \"{claim}\"\n" + (f"when: {when}\n" if when else "")
            + (f"operations: [{outbreak}]\n" if outbreak else "")
            + f"{more}sources:\n  - source: {src}\n    quote: \"{quote}\"\n")


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DENGUE_CASES = (120, 340, 910, 1480, 1210, 640)  # 2021-01 to 2021-06
CHOLERA_CASES = (85, 430, 1250, 2100, 1640, 720)  # 2022-03 to 2022-08

FACTS = {
    **{f"dengue-2021-{m:02}-cases": measure(
        f"{n:,} confirmed dengue cases were reported on the Coast in {MONTHS[m - 1]} 2021.", f"2021-{m:02}",
        "coast-dengue-2021", "confirmed-cases", str(n), "moh-dengue-bulletin-26" if m > 3 else "moh-dengue-bulletin-14",
        f"{n:,} confirmed cases in {MONTHS[m - 1]}") for m, n in enumerate(DENGUE_CASES, start=1)},
    "dengue-2021-03-running-total": measure(
        "1,370 confirmed dengue cases had been reported on the Coast in 2021 by the end of March.", "2021-03",
        "coast-dengue-2021", "confirmed-cases", "1370", "moh-dengue-bulletin-14", "1,370 confirmed cases so far this year",
        "cumulative", "  since: 2021-01\n"),
    "dengue-2021-06-running-total": measure(
        "4,700 confirmed dengue cases had been reported on the Coast in 2021 by the end of June.", "2021-06",
        "coast-dengue-2021", "confirmed-cases", "4700", "moh-dengue-bulletin-26", "4,700 confirmed cases since January",
        "cumulative", "  since: 2021-01\n"),
    "port-city-2021-04-cases": measure(
        "610 of April's confirmed dengue cases were in Port Example.", "2021-04", "port-example-cluster",
        "confirmed-cases", "610", "moh-dengue-bulletin-26", "610 of them in Port Example"),
    "dengue-2021-h1-deaths": measure(
        "Between 12 and 18 people died of dengue on the Coast in the first half of 2021.", "{from: 2021-01, to: 2021-06}",
        "coast-dengue-2021", "deaths", "{low: 12, high: 18}", "moh-dengue-bulletin-26", "between 12 and 18 deaths"),
    "dengue-12-months-to-2022-03": measure(
        "6,900 confirmed dengue cases were reported on the Coast in the twelve months to March 2022.",
        "{from: 2021-04, to: 2022-03}", "coast-dengue-2021", "confirmed-cases", "6900", "rho-sitrep-2022-04",
        "6,900 confirmed cases in the last twelve months"),
    "dengue-2021-districts-may": measure(
        "Dengue was present in 7 districts of the Coast on 31 May 2021.", "2021-05-31", "coast-dengue-2021",
        "districts-affected", "7", "moh-dengue-bulletin-26", "7 districts reporting cases", "level"),
    "dengue-2021-outbreak-declared": event(
        "The health ministry declared a dengue outbreak on the Coast.", "2021-02-11", "coast-dengue-2021",
        "moh-dengue-bulletin-14", "declared an outbreak on 11 February", "places: [Coast Province]\n"),
    **{f"cholera-2022-{m:02}-cases": measure(
        f"{'About ' if m == 6 else ''}{n:,} suspected cholera cases were reported in the River Districts in "
        f"{MONTHS[m - 1]} 2022.", f"2022-{m:02}", "river-cholera-2022", "suspected-cases", str(n),
        "moh-cholera-sitrep-05" if m < 5 else "moh-cholera-sitrep-09", f"{n:,} suspected cases in {MONTHS[m - 1]}",
        more="  approx: about\n" if m == 6 else "") for m, n in enumerate(CHOLERA_CASES, start=3)},
    "cholera-2022-04-cases-first-count": measure(
        "390 suspected cholera cases were reported in the River Districts in April 2022.", "2022-04",
        "river-cholera-2022", "suspected-cases", "390", "moh-cholera-sitrep-04", "390 suspected cases in April",
        fact_more="rank: deprecated\nrank_reason: The ministry revised its count for April in its May report.\n"
                  "replaced_by: cholera-2022-04-cases\n"),
    "cholera-2022-08-running-total": measure(
        "More than 6,200 suspected cholera cases had been reported in the River Districts by the end of August 2022.",
        "2022-08", "river-cholera-2022", "suspected-cases", "6200", "moh-cholera-sitrep-09",
        "more than 6,200 suspected cases since the outbreak began", "cumulative",
        "  approx: at-least\n  since: 2022-03\n"),
    "cholera-12-months-to-2023-02": measure(
        "7,480 suspected cholera cases were reported in the River Districts in the twelve months to February 2023.",
        "{from: 2022-03, to: 2023-02}", "river-cholera-2022", "suspected-cases", "7480", "moh-cholera-final-report",
        "7,480 suspected cases over twelve months"),
    **{f"cholera-2022-districts-{day}": measure(
        f"Cholera was present in {n} of the River Districts on {label}.", day, "river-cholera-2022",
        "districts-affected", str(n), "moh-cholera-sitrep-09", f"{n} districts affected", "level")
       for day, n, label in (("2022-04-15", 3, "15 April 2022"), ("2022-06-15", 9, "15 June 2022"),
                             ("2022-08-31", 5, "31 August 2022"))},
    "cholera-2022-districts-2023-02-20": measure(
        "No district had a cholera case on 20 February 2023.", "2023-02-20", "river-cholera-2022",
        "districts-affected", "0", "moh-cholera-final-report", "no district reporting cases", "level"),
    "cholera-2022-05-deaths": measure(
        "41 people died of cholera in the River Districts in May 2022, the ministry reported.", "2022-05",
        "river-cholera-2022", "deaths", "41", "moh-cholera-sitrep-09", "41 deaths in May"),
    "cholera-2022-05-deaths-herald": measure(
        "47 people died of cholera in the River Districts in May 2022, the Herald reported.", "2022-05",
        "river-cholera-2022", "deaths", "47", "river-herald-deaths", "47 people died in May"),
    "cholera-2022-06-deaths": measure(
        "Between 60 and 75 people died of cholera in the River Districts in June 2022.", "2022-06",
        "river-cholera-2022", "deaths", "{low: 60, high: 75}", "moh-cholera-sitrep-09", "between 60 and 75 deaths"),
    "cholera-2022-06-doses": measure(
        "150,000 doses of oral cholera vaccine had been given by the end of June 2022.", "2022-06",
        "river-cholera-2022", "vaccine-doses", "150000", "moh-vaccination-release", "150,000 doses given",
        "cumulative", "  since: 2022-05\n"),
    "cholera-2022-09-doses": measure(
        "410,000 doses of oral cholera vaccine had been given by the end of September 2022.", "2022-09",
        "river-cholera-2022", "vaccine-doses", "410000", "moh-cholera-final-report", "410,000 doses in all",
        "cumulative", "  since: 2022-05\n"),
    "cholera-2022-outbreak-declared": event(
        "The health ministry declared a cholera outbreak in the River Districts.", "2022-03-09",
        "river-cholera-2022", "moh-cholera-sitrep-04", "declared on 9 March", "places: [River Districts]\n"),
    "cholera-2022-outbreak-over": event(
        "The health ministry declared the River Districts' cholera outbreak over.", "2023-02-20",
        "river-cholera-2022", "moh-cholera-final-report", "the outbreak is over"),
    "cholera-2022-minister": event(
        "The health minister said every district would have a treatment centre by July.", "2022-05",
        "river-cholera-2022", "moh-vaccination-release", "a treatment centre in every district by July",
        "speaker: Dr A. Example\nspeaker_role: health minister (fictional)\n"),
    **{f"measles-free-{year}": measure(
        f"{n} countries of the region had eliminated measles at the end of {year}.", f"{year}-12-31",
        "measles-elimination", "countries-eliminated", str(n), "rho-measles-report",
        f"{n} countries verified as having eliminated measles", "level")
       for year, n in ((2018, 37), (2019, 35), (2020, 35), (2021, 36))},
    "measles-free-2019-valley-times": measure(
        "34 countries of the region had eliminated measles at the end of 2019, the Valley Times reported.",
        "2019-12-31", "measles-elimination", "countries-eliminated", "34", "valley-times-measles",
        "only 34 countries remain free of measles", "level"),
    "measles-12-months-to-2020-06": measure(
        "18,400 suspected measles cases were reported in the region in the twelve months to June 2020.",
        "{from: 2019-07, to: 2020-06}", "measles-elimination", "suspected-cases", "18400", "rho-measles-report",
        "18,400 suspected cases in the twelve months to June 2020"),
    "measles-12-months-to-2021-06": measure(
        "9,950 suspected measles cases were reported in the region in the twelve months to June 2021.",
        "{from: 2020-07, to: 2021-06}", "measles-elimination", "suspected-cases", "9950", "rho-measles-report",
        "9,950 suspected cases in the twelve months to June 2021"),
    "measles-2020-deaths": measure(
        "Between 1,200 and 1,500 people died of measles in the region in 2020.", "2020",
        "measles-elimination", "deaths", "{low: 1200, high: 1500}", "rho-measles-report",
        "between 1,200 and 1,500 deaths"),
    "measles-2019-verification": event(
        "The regional verification commission met to review each country's measles data.", "2019-09",
        "measles-elimination", "rho-measles-report", "the commission met in September 2019"),
    "surveillance-manual": event(
        "The health ministry published a manual for district surveillance officers.", None, None,
        "moh-vaccination-release", "a manual for district officers"),
}

ARCHIVE = {
    "content/site.yaml": """\
        title: Fever Watch (test archive)
        description: >-
          A TEST ARCHIVE of invented outbreak surveillance figures for the fictional country of Examplia:
          every organisation, address and number in it is made up.
        base_url: https://example.org/fever-watch/
        language: en
        licence: CC0 1.0
        publisher: The Examplia Surveillance Desk (fictional)
        groups:
          singular: outbreak
          plural: outbreaks
          path: outbreaks
        """,
    "content/metrics.yaml": """\
        confirmed-cases:
          label: Confirmed cases
          unit: cases
          description: Cases confirmed by a laboratory and reported to the ministry.
        suspected-cases:
          label: Suspected cases
          unit: cases
          description: Cases meeting the case definition, confirmed or not.
        deaths:
          label: Deaths
          unit: deaths
          description: Deaths attributed to the disease by the reporting body.
        districts-affected:
          label: Districts affected
          unit: districts
          description: Districts reporting at least one case in the last four weeks, on a date.
        countries-eliminated:
          label: Countries that eliminated measles
          unit: countries
          description: Countries of the region verified as having eliminated endemic measles, at a date.
        vaccine-doses:
          label: Vaccine doses given
          unit: doses
          description: Doses of oral cholera vaccine given since the campaign began.
        """,
    "content/operations/coast-dengue-2021.yaml": "name: Dengue on the Coast, 2021\nwhere: Coast Province\n"
                                                 "start: 2021-02-11\nend: 2021-11\n"
                                                 "summary: A dengue outbreak that peaked in April 2021.\n",
    "content/operations/port-example-cluster.yaml": "name: The Port Example cluster\nparent: coast-dengue-2021\n"
                                                    "where: Port Example\n",
    "content/operations/river-cholera-2022.yaml": "name: Cholera in the River Districts, 2022–23\n"
                                                  "where: River Districts\nstart: 2022-03-09\nend: 2023-02-20\n",
    "content/operations/measles-elimination.yaml": "name: Measles elimination in the region\nstart: 2018\n"
                                                   "summary: The region's countries and their measles status.\n",
    "content/sources/moh-dengue-bulletin-14.yaml": source("Dengue bulletin, week 14 of 2021", "report",
                                                          "Ministry of Health of Examplia", "2021-04-09", "dengue/w14"),
    "content/sources/moh-dengue-bulletin-26.yaml": source("Dengue bulletin, week 26 of 2021", "report",
                                                          "Ministry of Health of Examplia", "2021-07-02", "dengue/w26"),
    "content/sources/rho-sitrep-2022-04.yaml": source("Regional dengue situation report, April 2022", "report",
                                                      "Regional Health Office (fictional)", "2022-04-20", "rho/dengue"),
    "content/sources/moh-cholera-sitrep-04.yaml": source("Cholera situation report no. 4", "report",
                                                         "Ministry of Health of Examplia", "2022-05-03", "cholera/4"),
    "content/sources/moh-cholera-sitrep-05.yaml": source("Cholera situation report no. 5", "report",
                                                         "Ministry of Health of Examplia", "2022-06-02", "cholera/5"),
    "content/sources/moh-cholera-sitrep-09.yaml": source("Cholera situation report no. 9", "report",
                                                         "Ministry of Health of Examplia", "2022-09-06", "cholera/9"),
    "content/sources/moh-cholera-final-report.yaml": source("Cholera outbreak: final report", "report",
                                                            "Ministry of Health of Examplia", "2023-03-15",
                                                            "cholera/final"),
    "content/sources/moh-vaccination-release.yaml": source("Vaccination campaign reaches the River Districts",
                                                           "press-release", "Ministry of Health of Examplia",
                                                           "2022-07-01", "press/ocv"),
    "content/sources/river-herald-deaths.yaml": source("Cholera deaths rise in May", "news-article",
                                                       "The River Herald (fictional)", "2022-06-04", "herald/may"),
    "content/sources/rho-measles-report.yaml": source("Measles in the region, annual report 2021", "dataset",
                                                      "Regional Health Office (fictional)", "2022-02-01",
                                                      "rho/measles-2021"),
    "content/sources/valley-times-measles.yaml": source("Measles returns to two countries", "news-article",
                                                        "The Valley Times (fictional)", "2020-01-15", "times/measles"),
    **{f"content/facts/{ident[:ident.index('-')]}/{ident}.yaml": text for ident, text in FACTS.items()},
    "content/articles/counting-outbreaks.md": """\
        ---
        title: How this test archive counts an outbreak
        date: 2023-04-01
        summary: Confirmed and suspected cases, running totals, levels and twelve-month spans.
        authors: [Examplia Surveillance Desk]
        operations: [coast-dengue-2021, river-cholera-2022]
        ---
        April was the dengue outbreak's worst month [[fact:dengue-2021-04-cases]], and the bulletins' running
        total stood at 4,700 by June [[fact:dengue-2021-06-running-total]]. The cholera count for April was
        revised upwards ([[fact:cholera-2022-04-cases|the revised figure]]); the number of districts affected
        rose and fell [[fact:cholera-2022-districts-2022-06-15]].
        """,
}


@pytest.fixture(scope="module")
def fever(tmp_path_factory) -> Path:
    """The archive built from its content/ alone by build.py, in a process of its own."""
    root = tmp_path_factory.mktemp("fever")
    write_files(root, ARCHIVE)
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "--strict", "-j", "1"],
                         capture_output=True, text=True, cwd=root)
    assert run.returncode == 0 and "warning" not in run.stderr, run.stderr
    return root / "_site"


def page(site: Path, rel: str):
    return html.fromstring((site / rel / "index.html").read_bytes())


@pytest.fixture
def page_in_browser(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def text(doc) -> str:
    """The words of a page as read: a term and its description (<dt>, <dd>) are two words, not one."""
    return re.sub(r"\s+", " ", " ".join(doc.itertext())).replace(" ,", ",").replace(" .", ".")


# Group words of the embedded archive's default; "outbreak" and "Outbreaks" are this archive's.
OPERATION = re.compile(r"operation|sub-operation", re.I)


def test_no_page_or_feed_says_operation_or_a_word_of_the_embedded_archive(fever):
    read = sorted(fever.rglob("*.html")) + [fever / "feed.xml", fever / "sitemap.xml"]
    assert len(read) > 120
    said = {p.relative_to(fever).as_posix(): sorted(set(OPERATION.findall(p.read_text())) | set(domain_hits(
        p.read_text()))) for p in read}
    assert {path: words for path, words in said.items() if words} == {}
    assert not (fever / "operations").exists() and (fever / "outbreaks/river-cholera-2022/index.html").is_file()


def test_every_page_speaks_of_outbreaks(fever):
    home = text(page(fever, "."))
    assert "across 4 outbreaks" in home and "By outbreak 4 outbreaks, sub-outbreaks included" in home
    for rel in (".", "search", "timeline/2021/04", "facts/measles-2020-deaths", "metrics/deaths", "sources"):
        assert page(fever, rel).xpath('//nav//a[text()="Outbreaks"]'), rel
    dengue = page(fever, "outbreaks/coast-dengue-2021")
    assert "Outbreaks › Dengue on the Coast, 2021" in text(dengue)
    assert "Sub-outbreaks The Port Example cluster" in text(dengue)
    assert "This outbreak’s facts, with its sub-outbreaks’, as data" in text(dengue)
    # an outbreak with none says nothing of sub-outbreaks
    assert "sub-outbreak" not in text(page(fever, "outbreaks/river-cholera-2022"))
    assert "the same measure, outbreak and period" in text(page(fever, "facts/cholera-2022-05-deaths"))
    assert "the same measure, outbreak and date" in text(page(fever, "facts/measles-free-2019"))  # a level
    assert "one chart per outbreak" in text(page(fever, "metrics/suspected-cases"))


def test_the_search_hints_come_from_this_archive(fever):
    assert "Search by words, figures (1480 or 1,480), outbreak or month" in text(page(fever, "."))
    assert ("Find facts by words, numbers (1480 or 1,480), outbreak or month (April 2021, 2021-04)"
            in text(page(fever, "search")))
    assert "1,480 confirmed dengue cases" in FACTS["dengue-2021-04-cases"]


def test_ranges_and_levels_are_printed_as_such(fever):
    deaths = text(page(fever, "facts/measles-2020-deaths"))
    assert "Figure 1,200–1,500 deaths" in deaths and "a range, from the least to the most the source gives" in deaths
    assert "12–18 deaths" in text(page(fever, "outbreaks/coast-dengue-2021"))
    home = text(page(fever, "."))
    assert "60–75 deaths in June 2022" in home and "37 countries as of 31 December 2018 highest level" in home
    level = text(page(fever, "facts/measles-free-2020"))
    assert "Figure 35 countries" in level and "a level standing at the date, not a sum" in level
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO((fever / "data/facts.csv").read_text()))}
    assert (rows["measles-2020-deaths"]["value"], rows["measles-2020-deaths"]["low"],
            rows["measles-2020-deaths"]["high"]) == ("", "1200", "1500")
    assert rows["measles-free-2019"]["aggregation"] == "level" and rows["measles-free-2019"]["value"] == "35"
    facts = {f["id"]: f for f in json.loads((fever / "data/facts.json").read_text())["facts"]}
    measure = facts["cholera-2022-06-deaths"]["measure"]
    assert (measure["value"], measure["low"], measure["high"]) == (None, 60, 75)
    assert len(facts) == len(FACTS)


def _span(ident: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    found = re.search(r"when: \{from: (\d{4})-(\d\d), to: (\d{4})-(\d\d)\}", FACTS[ident])
    return found and ((int(found[1]), int(found[2])), (int(found[3]), int(found[4])))


def test_a_span_is_listed_on_every_year_and_month_it_covers(fever):
    spans = {ident: span for ident in FACTS if (span := _span(ident))}
    assert len(spans) == 5
    missing = []
    for ident, ((y1, m1), (y2, m2)) in spans.items():
        y, m = y1, m1
        while (y, m) <= (y2, m2):
            for rel in (f"timeline/{y}", f"timeline/{y}/{m:02}"):
                if f"facts/{ident}/" not in (fever / rel / "index.html").read_text():
                    missing.append(f"{rel}: {ident}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    assert missing == []
    # the home page starts where the earliest fact does, a span's first month included
    assert "from December 2018 to February 2023" in text(page(fever, "."))
    assert "July 2019 – June 2020" in text(page(fever, "timeline/2019"))


def test_a_deprecated_figure_names_its_replacement_in_one_sentence(fever):
    old = page(fever, "facts/cholera-2022-04-cases-first-count")
    (notice,) = old.xpath('//p[@class="notice"]')
    assert text(notice) == ("This fact is deprecated: The ministry revised its count for April in its May report. "
                            "It is replaced by the fact that gives 430 cases: 430 suspected cholera cases were "
                            "reported in the River Districts in April 2022.")
    assert "This fact replaces a deprecated fact" in text(page(fever, "facts/cholera-2022-04-cases"))


def test_a_fact_of_a_year_names_its_year_once(fever):
    (when,) = page(fever, "facts/measles-2020-deaths").xpath('//dt[text()="When"]/following-sibling::dd[1]')
    assert text(when) == "2020" and when.xpath("a/@href") == ["../../timeline/2020/"]


def test_charts_say_only_the_marks_they_have_and_count_whole_districts(fever):
    for rel in ("metrics/districts-affected", "metrics/countries-eliminated", "outbreaks/river-cholera-2022", "."):
        for desc in page(fever, rel).iter("desc"):
            assert not re.search(r"(?<![\d,])0 (monthly|figures|running)", desc.text), desc.text
    ticks = [t.text for t in page(fever, "metrics/districts-affected").iter("text") if t.get("class") == "tick"]
    assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), ticks


def test_ticks_of_whole_counts_are_whole():
    assert nice_ticks(9, whole=True) == ([0, 5, 10], 10)
    assert nice_ticks(2, whole=True) == ([0, 1, 2], 2)
    assert nice_ticks(150, whole=True) == nice_ticks(150) == ([0, 50, 100, 150], 150)
    assert [str(v) for v in nice_ticks(2)[0]] == ["0", "0.5", "1", "1.5", "2"]  # a figure may be 1.5


def test_a_month_searched_lists_its_own_figures_before_the_spans_that_cover_it(fever, page_in_browser):
    page_in_browser.goto((fever / "search/index.html").as_uri())
    page_in_browser.fill("#q", "april 2021")
    found = [a.get_attribute("href").split("facts/")[1].rstrip("/")
             for a in page_in_browser.locator("#search-results a.claim").all()]
    assert found[:2] == ["dengue-2021-04-cases", "port-city-2021-04-cases"]
    assert set(found[2:]) == {"measles-12-months-to-2021-06", "dengue-2021-h1-deaths", "dengue-12-months-to-2022-03"}


def test_an_archive_without_sub_outbreaks_speaks_of_none(tmp_path):
    flat = {path: body for path, body in ARCHIVE.items() if "port-" not in path}
    write_files(tmp_path, {**flat, "content/articles/counting-outbreaks.md": None})
    run = annals(tmp_path, "--strict")
    assert run.code == 0, run.err
    site = tmp_path / "_site"
    assert "By outbreak 3 outbreaks By metric" in text(page(site, "."))
    assert [p for p in site.rglob("*.html") if "sub-outbreak" in p.read_text()] == []
