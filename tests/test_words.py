"""Any archive in its own words: what it groups its facts by (site.yaml's `groups`), examples taken from
its own facts, no word of the embedded archive's domain in the engine or its theme, and the home page and
charts read right on a phone."""
from __future__ import annotations

import posixpath
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from annals import urls
from annals.records import read_file
from annals.model import Groups
from conftest import MINIMAL, REPO, annals, make_site, write_files

# -- the words and the segment, as site.yaml gives them --------------------------------------------

SITE = textwrap.dedent("""\
    title: T
    description: D.
    base_url: https://example.org/t/
    language: en
    licence: CC0
    """)


def site_problems(extra: str) -> tuple[list[str], object]:
    loaded = read_file("content/site.yaml", (SITE + textwrap.dedent(extra)).encode())
    return [str(p) for p in loaded.problems], (loaded.records[0] if loaded.records else None)


def test_an_archive_that_names_no_groups_has_operations():
    problems, site = site_problems("")
    assert problems == [] and site.groups == Groups("operation", "operations", "operations")


def test_site_yaml_names_its_groups_and_their_segment():
    problems, site = site_problems("groups:\n  singular: department\n  plural: departments\n  path: departments\n")
    assert problems == []
    assert (site.groups.singular, site.groups.plural, site.groups.path) == ("department", "departments", "departments")


@pytest.mark.parametrize("path, message", [
    ("facts", "path: 'facts/' is taken by the site's own pages (articles/, data/, facts/, metrics/, search/, "
              "sources/, static/, timeline/; and cname, beside the CNAME file): choose another"),
    ("static", "path: 'static/' is taken by the site's own pages"),
    ("cname", "path: 'cname/' is taken by the site's own pages"),
    ("Seasons", "path: 'Seasons' is not a valid id; use lower-case letters, digits and single hyphens"),
    ("seasons/2023", "path: 'seasons/2023' is not a valid id"),
])
def test_a_segment_that_is_no_safe_slug_or_is_taken_is_an_error_at_its_line(path, message):
    problems, site = site_problems(f"groups:\n  singular: season\n  plural: seasons\n  path: {path}\n")
    assert site is None and len(problems) == 1
    assert problems[0].startswith(f"content/site.yaml:9: {message}")


def test_every_problem_of_the_groups_is_reported_at_once():
    problems, _ = site_problems("groups:\n  singular: season\n  plurals: seasons\n")
    assert problems == ["content/site.yaml:8: unknown field 'plurals' in groups (did you mean 'plural'?)",
                        "content/site.yaml:7: groups: missing required field 'plural'",
                        "content/site.yaml:7: groups: missing required field 'path'"]
    problems, _ = site_problems("groups: seasons\n")
    assert problems == ["content/site.yaml:6: groups: expected a mapping of fields (key: value)"]


def test_the_reserved_segments_are_every_first_segment_the_scheme_makes():
    """A group's pages may share no first segment with any other page or file of the site."""
    made = [*urls.Scheme().fixed_paths(), urls.fact("x"), urls.year(2017), urls.month((2017, 6)),
            urls.month_facts((2017, 6)), urls.source("x"), urls.article("x"), urls.metric("x"), urls.static("x.css")]
    folders = {path.split("/")[0] for path in made if "/" in path} - {urls.DEFAULT_GROUPS}
    assert folders <= urls.RESERVED and urls.RESERVED - folders == {"cname"}


ids = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
segments = ids.filter(lambda s: s not in urls.RESERVED)


@settings(max_examples=200, deadline=None)
@given(segments, ids)
def test_a_scheme_reads_back_its_own_groups_pages_and_no_other_segments(segment, ident):
    scheme = urls.Scheme(segment)
    for path, expected in ((scheme.operations(), ("operations", None)), (scheme.operation(ident), ("operation", ident)),
                           (scheme.operation_facts(ident), ("operation-json", ident))):
        assert path.startswith(segment + "/")
        assert scheme.parse(path) == expected
        assert urls.parse(path) == expected  # an old address, read before the archive's segment is known
        other = urls.Scheme(segment + "-x")
        assert other.parse(path) is None
    assert scheme.fact(ident) == urls.fact(ident) and scheme.static("style.css") == "static/style.css"


# -- `theatre` is now `where` ----------------------------------------------------------------------

def test_theatre_is_still_read_as_where_with_a_warning_at_its_line():
    loaded = read_file("content/operations/op.yaml", b"name: An operation\ntheatre: The north\n")
    assert loaded.records[0].where == "The north"
    assert [str(p) for p in loaded.problems] == [
        "content/operations/op.yaml:2: warning: 'theatre' is now called 'where': rename it (it is read as 'where' meanwhile)"]


def test_theatre_and_where_both_written_is_an_error():
    loaded = read_file("content/operations/op.yaml", b"name: An operation\nwhere: The north\ntheatre: The south\n")
    assert [str(p) for p in loaded.problems] == [
        "content/operations/op.yaml:3: 'theatre' is the earlier name of 'where', and both 'where' and 'theatre' "
        "are written: keep 'where' only"]
    assert loaded.records == ()


def test_an_operation_with_the_old_name_builds_and_strict_check_names_it(tmp_path):
    root = make_site(tmp_path, {"content/operations/op-a.yaml": "name: Operation A\ntheatre: Somewhere\n"})
    run = annals(root)
    assert run.code == 0, run.err
    assert "<dt>Where</dt><dd>Somewhere</dd>" in (root / "_site/operations/op-a/index.html").read_text()
    strict = annals(root, "check", "--strict")
    assert strict.code != 0
    assert "content/operations/op-a.yaml:2: warning: 'theatre' is now called 'where'" in strict.err


# -- examples from the archive's own facts ------------------------------------------------------------

def _label(root: Path) -> str:
    html = (root / "_site/search/index.html").read_text()
    return re.search(r'<label for="q">(.*?)</label>', html).group(1)


def test_the_search_hints_give_a_figure_and_a_month_of_the_archive(tmp_path):
    root = make_site(tmp_path, {"content/facts/2021/f-big.yaml": """\
        claim: 12,345 weapons were released in March 2021.
        when: 2021-03
        operations: [op-a]
        measure:
          metric: weapons-released
          value: 12345
          aggregation: period
        sources:
          - source: src-1
            quote: "12,345"
        """})
    assert annals(root).code == 0
    assert _label(root) == "Find facts by words, numbers (12345 or 12,345), operation or month (March 2021, 2021-03)"
    home = (root / "_site/index.html").read_text()
    assert "by words, figures (12345 or 12,345), operation or month</span>" in home
    assert "4848" not in home + _label(root)


def test_a_small_figure_is_given_once_and_an_archive_without_figures_gives_none(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    assert _label(root) == "Find facts by words, numbers (100), operation or month (June 2017, 2017-06)"
    event = "claim: An event.\nwhen: 2017-06\nsources:\n  - source: src-1\n    quote: \"something happened\"\n"
    write_files(root, {"content/facts/2017/f-june.yaml": event})
    assert annals(root).code == 0
    assert _label(root) == "Find facts by words, numbers, operation or month (July 2017, 2017-07)"
    assert "by words, figures, operation or month</span>" in (root / "_site/index.html").read_text()
    undated = "claim: An event.\nsources:\n  - source: src-1\n    quote: \"something happened\"\n"
    (tmp_path / "undated").mkdir()
    root = make_site(tmp_path / "undated", {"content/facts/2017/f-june.yaml": undated,
                                            "content/facts/2017/f-event.yaml": undated})
    assert annals(root).code == 0
    assert _label(root) == "Find facts by words, numbers, operation or month"


# -- no word of the embedded archive's domain in the engine -------------------------------------------

# Words of the embedded archive's field, read from its content/ (and `theatre`, its old field name):
# none belongs in the engine, its theme or its starter archive, which serve every field.
DOMAIN_WORDS = (
    "ISIS", "ISIL", "Iraq", "Iraqi", "Syria", "Syrian", "Afghanistan", "Mosul", "Raqqa", "Euphrates",
    "Inherent Resolve", "Central Command", "Peshmerga", "Kurdish", "McGurk", "Tillerson", "Townsend", "Abadi",
    "Haider", "Obama", "Army", "Expeditionary", "Stratofortress", "airstrike", "airstrikes", "air strikes",
    "strikes", "airpower", "air power", "air war", "weapon", "weapons", "munitions", "bomb", "bombs",
    "sorties", "aircraft", "B-52", "tanker", "ISR", "close air support", "coalition", "militants", "combat",
    "offensive", "enemy", "war", "theatre",
)
# Where a word of the list has to be: the field's earlier name, which is still read,
ALLOWED = {("annals/fields.py", "theatre"), ("annals/markup.py", "bombs")}  # and a benchmark's name: "Markdown bombs"


def domain_hits(text: str) -> list[str]:
    return [w for w in DOMAIN_WORDS if re.search(rf"(?<![A-Za-z0-9]){re.escape(w)}(?![A-Za-z0-9])", text, re.I)]


def test_the_word_list_is_the_embedded_archives():
    content = "\n".join(p.read_text() for p in (REPO / "content").rglob("*") if p.is_file())
    assert [w for w in DOMAIN_WORDS if w not in domain_hits(content)] == ["theatre"]


def engine_files() -> list[Path]:
    files = [p for p in (REPO / "annals").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return files + [REPO / "build.py"]


def test_no_word_of_the_embedded_archive_is_in_the_engine_its_theme_or_its_starter():
    hits = []
    for path in engine_files():
        rel = path.relative_to(REPO).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            hits += [f"{rel}:{number}: {w}" for w in domain_hits(line) if (rel, w) not in ALLOWED]
    assert len(engine_files()) > 40 and hits == []


def test_the_check_finds_a_word_of_the_domain():
    assert domain_hits("if op.theatre: say('Air strikes on Mosul')") == ["Mosul", "air strikes", "strikes", "theatre"]
    assert domain_hits("restrike warfare crisis") == []


# -- a second archive, of another field, built with no change to the code ------------------------------

def _measure(metric: str, value: int, when: str, season: str, quote: str, extra: str = "") -> str:
    return (f"claim: {quote[0].upper()}{quote[1:]}.\nwhen: {when}\noperations: [{season}]\n"
            f"measure:\n  metric: {metric}\n  value: {value}\n{extra}"
            f"sources:\n  - source: league-report\n    quote: \"{quote}\"\n")


LEAGUE = {
    "content/site.yaml": """\
        title: The Northern League in figures
        description: Goals and gates of a football league, season by season, from its monthly reports.
        base_url: https://example.org/league/
        language: en
        licence: CC BY 4.0
        groups:
          singular: season
          plural: seasons
          path: seasons
        """,
    "content/metrics.yaml": """\
        goals-scored:
          label: Goals scored
          unit: goals
          description: Goals scored in league matches.
        spectators:
          label: Spectators
          unit: spectators
          description: Tickets sold for league matches.
        """,
    "content/operations/2022-23.yaml": "name: The 2022–23 season\nwhere: Northern England\nstart: 2022-08\nend: 2023-05\n",
    "content/operations/2023-24.yaml": "name: The 2023–24 season\nwhere: Northern England\nstart: 2023-08\n"
                                       "summary: The league's tenth season.\n",
    "content/operations/2023-24-cup.yaml": "name: The 2023–24 cup\nparent: 2023-24\n",
    "content/sources/league-report.yaml": "title: Monthly report of the league\nkind: report\n"
                                          "publisher: The Northern League\n",
    "content/sources/club-paper.yaml": "title: The club's paper\nkind: news-article\n",
    "content/facts/2023/2023-08-goals.yaml": _measure("goals-scored", 1084, "2023-08", "2023-24",
                                                      "1,084 goals were scored in August", "  aggregation: period\n"),
    "content/facts/2023/2023-09-goals.yaml": _measure("goals-scored", 912, "2023-09", "2023-24",
                                                      "912 goals were scored in September", "  aggregation: period\n"),
    "content/facts/2023/2023-09-goals-club.yaml": _measure(
        "goals-scored", 930, "2023-09", "2023-24", "930 goals in September", "  aggregation: period\n"
    ).replace("league-report", "club-paper"),
    "content/facts/2023/2023-10-spectators.yaml": _measure(
        "spectators", 45210, "2023-10", "2023-24", "45,210 tickets sold so far this season",
        "  aggregation: cumulative\n  since: 2023-08\n"),
    "content/facts/2023/2022-23-goals.yaml": _measure(
        "goals-scored", 9870, "{from: 2022-08, to: 2023-05}", "2022-23", "9,870 goals over the season",
        "  aggregation: period\n").replace("when: {", "aliases: [season-goals]\nwhen: {"),
    "content/facts/2023/2023-11-cup-draw.yaml": "claim: The cup draw was made.\nwhen: 2023-11-02\n"
                                                "operations: [2023-24-cup]\nsources:\n  - source: club-paper\n"
                                                "    quote: \"the draw was made on Thursday\"\n",
    "content/facts/2023/2023-11-chair.yaml": "claim: The chair called the season a success.\nwhen: 2023-11\n"
                                             "operations: [2023-24]\nspeaker: A. Chair\nspeaker_role: chair of the league\n"
                                             "sources:\n  - source: league-report\n    quote: \"a success\"\n",
    "content/facts/undated/ground-renamed.yaml": "claim: A ground was renamed.\nsources:\n  - source: club-paper\n"
                                                 "    quote: \"the ground takes a new name\"\n",
    "content/articles/a-season-of-goals.md": """\
        ---
        title: A season of goals
        date: 2023-12-01
        summary: What the reports say of the autumn.
        operations: [2023-24]
        ---
        August had the most goals [[fact:2023-08-goals]]; September is disputed [[fact:2023-09-goals]].
        """,
    "content/redirects.yaml": "/seasons/twenty-three/: /seasons/2023-24/\n",
}

FORBIDDEN = re.compile(r"operation|sub-operation", re.I)


@pytest.fixture(scope="module")
def league(tmp_path_factory) -> Path:
    """The league built from content/ alone: the theme is the package's, the code unchanged."""
    root = tmp_path_factory.mktemp("league")
    write_files(root, LEAGUE)
    run = annals(root, "--strict")
    assert run.code == 0, run.err
    return root / "_site"


def test_the_second_archives_groups_live_at_its_own_segment(league):
    assert (league / "seasons/index.html").is_file() and (league / "seasons/2023-24/index.html").is_file()
    assert (league / "seasons/2023-24/facts.json").is_file() and (league / "seasons/twenty-three/index.html").is_file()
    assert not (league / "operations").exists()
    listed = (league.parent / "permalinks.txt").read_text()
    assert "/seasons/2023-24/" in listed and "/operations/" not in listed
    season = (league / "seasons/2023-24/index.html").read_text()
    assert '<p class="crumbs"><a href="../">Seasons</a> › The 2023–24 season</p>' in season
    assert "<dt>Sub-seasons</dt>" in season and "This season’s facts, with its sub-seasons’, as data" in season
    assert "<dt>Where</dt><dd>Northern England</dd>" in season
    assert '<a href="../../seasons/">Seasons</a>' in (league / "facts/2023-08-goals/index.html").read_text()


def test_no_page_of_the_second_archive_says_operation_or_a_word_of_the_embedded_archive(league):
    pages = sorted(league.rglob("*.html"))
    assert len(pages) > 25
    said = {page.relative_to(league).as_posix(): sorted(set(FORBIDDEN.findall(page.read_text())) | set(
        domain_hits(page.read_text()))) for page in pages}
    assert {path: words for path, words in said.items() if words} == {}


def test_the_second_archive_speaks_of_seasons(league):
    home = (league / "index.html").read_text()
    assert "across 3 seasons" in home and ">By season</a>" in home and "3 seasons, sub-seasons included" in home
    assert "by words, figures (1084 or 1,084), season or month</span>" in home
    search = (league / "search/index.html").read_text()
    assert "numbers (1084 or 1,084), season or month (August 2023, 2023-08)" in search
    disputed = (league / "facts/2023-09-goals/index.html").read_text()
    assert "a different figure for the same measure, season and period" in disputed
    schema = (league / "data/facts.schema.json").read_text()
    assert "one season's (seasons/<id>/facts.json)" in schema


def test_every_link_of_the_second_archive_leads_to_a_file_of_it(league):
    missing = []
    for page in league.rglob("*.html"):
        here = page.relative_to(league).parent.as_posix()
        for link in re.findall(r'(?:href|src)="([^"#?]*)', page.read_text()):
            if not link or "://" in link or link.startswith("mailto:"):
                continue
            if link.startswith("/league/"):  # 404.html, whose links start from the site's root path
                link, here = link.removeprefix("/league/") or ".", ""
            target = posixpath.normpath(posixpath.join(here, link))
            if not (league / target).is_file() and not (league / target / "index.html").is_file():
                missing.append(f"{page.relative_to(league)} -> {link}")
    assert missing == []


# -- reading on a phone ------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}

PHONE_SITE = {
    "content/metrics.yaml": """\
        weapons-released:
          label: Goals scored in the league's home and away matches
          unit: goals
          description: Goals.
        spectators:
          label: Spectators through the turnstiles of every ground
          unit: spectators
          description: Tickets sold.
        """,
    **{f"content/facts/long/f-{y}-{m:02d}.yaml": _measure("weapons-released", 100 + 7 * m, f"{y}-{m:02d}", "op-b",
                                                          f"{100 + 7 * m} goals", "  aggregation: period\n"
                                                          ).replace("league-report", "src-1")
       for y in (2015, 2016) for m in range(1, 13)},
    "content/facts/2017/f-spectators.yaml": _measure("spectators", 45210, "2017-06", "op-a", "45,210 spectators",
                                                     "  aggregation: period\n").replace("league-report", "src-1"),
}


@pytest.fixture(scope="module")
def phone_built(tmp_path_factory) -> Path:
    root = make_site(tmp_path_factory.mktemp("phone"), PHONE_SITE)
    run = annals(root)
    assert run.code == 0, run.err
    return root / "_site"


@pytest.fixture
def phone_site(phone_built, http_server) -> str:
    return http_server(phone_built)


def test_the_home_pages_records_read_as_one_column_on_a_phone(browser, phone_site):
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(phone_site)
        boxes = page.evaluate("""() => [...document.querySelectorAll('.records dl > *')].map(e => {
            const b = e.getBoundingClientRect(); return [e.tagName, b.left, b.width]; })""")
        dl = page.evaluate("document.querySelector('.records dl').getBoundingClientRect().width")
        assert len(boxes) == 4
        assert {round(left) for _, left, _ in boxes} == {round(boxes[0][1])}, "each figure under its metric"
        assert all(width > 0.95 * dl for tag, _, width in boxes if tag == "DD"), "each figure the column's width"
        page.set_viewport_size({"width": 1100, "height": 844})
        boxes = page.evaluate("""() => [...document.querySelectorAll('.records dd')].map(e => e.getBoundingClientRect().left)""")
        dts = page.evaluate("""() => [...document.querySelectorAll('.records dt')].map(e => e.getBoundingClientRect().left)""")
        assert min(boxes) > max(dts), "beside their metrics on a wide screen"
    finally:
        page.close()


HINTS = """() => [...document.querySelectorAll('figure.chart')].map(f => {
    const box = f.querySelector('.chart-scroll'), hint = f.querySelector('.scroll-hint');
    return {id: f.id, wider: box.scrollWidth > box.clientWidth, hint: hint.checkVisibility(),
            narrow: f.classList.contains('narrow')}; })"""


def test_the_scroll_hint_shows_only_on_a_chart_wider_than_the_screen(browser, phone_site):
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(phone_site + "operations/op-a/")  # one month of spectators: a narrow chart
        (narrow,) = page.evaluate(HINTS)
        assert narrow["narrow"] and not narrow["wider"] and not narrow["hint"]
        page.goto(phone_site + "operations/op-b/")  # two years of months: a wide one
        (wide,) = page.evaluate(HINTS)
        assert not wide["narrow"] and wide["wider"] and wide["hint"]
        for width in (300, 390, 600, 640, 700, 1100):
            page.set_viewport_size({"width": width, "height": 844})
            for path in ("", "operations/op-a/", "operations/op-b/", "metrics/spectators/"):
                page.goto(phone_site + path)
                charts = page.evaluate(HINTS)
                assert charts and [c for c in charts if c["hint"] != c["wider"]] == [], (width, path)
    finally:
        page.close()


def test_a_fact_that_names_its_groups_by_the_archives_word_is_told_the_field(tmp_path):
    site = textwrap.dedent(MINIMAL["content/site.yaml"]) + "groups: {singular: outbreak, plural: outbreaks, path: outbreaks}\n"
    fact = textwrap.dedent(MINIMAL["content/facts/2017/f-june.yaml"]).replace("operations: [op-b]", "outbreaks: [op-b]")
    assert "outbreaks: [op-b]" in fact
    root = make_site(tmp_path, {"content/site.yaml": site, "content/facts/2017/f-june.yaml": fact})
    run = annals(root, "check")
    assert run.code == 1 and "Traceback" not in run.err
    [problem] = [p for p in run.problems if "outbreaks" in p]
    assert problem.startswith("content/facts/2017/f-june.yaml:")
    assert "a fact names its outbreaks under `operations:`" in problem and "did you mean" not in problem
