"""The archive checks its numbers: disputes, sums, running totals that are exceeded or fall."""
from __future__ import annotations

import posixpath
from html.parser import HTMLParser

from conftest import annals


def measure(when: str, value, aggregation: str = "period", *, metric: str = "weapons-released",
            op: str = "op-b", approx: str = "exact", since: str | None = None, extra: str = "") -> str:
    lines = ["claim: A figure.", f"when: {when}", f"operations: [{op}]", "measure:",
             f"  metric: {metric}", f"  value: {value}", f"  aggregation: {aggregation}", f"  approx: {approx}"]
    if since:
        lines.append(f"  since: {since}")
    lines += ["sources:", "  - source: src-1", "    quote: a figure"]
    return "\n".join(lines) + "\n" + extra


def facts(**files: str) -> dict[str, str]:
    return {f"content/facts/n/{name.replace('_', '-')}.yaml": text for name, text in files.items()}


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if attrs.get("class"):
            self.classes.extend(attrs["class"].split())


def parse(path) -> Links:
    links = Links()
    links.feed(path.read_text())
    return links


# -- disputes ------------------------------------------------------------------

def test_same_metric_operation_period_different_values_are_disputed_both_ways(site):
    root = site(facts(a_report=measure("2017-06", 100), b_report=measure("2017-06", 120)) |
                {"content/facts/2017/f-june.yaml": None})
    run = annals(root)
    assert run.code == 0, run.err
    for me, other in (("a-report", "b-report"), ("b-report", "a-report")):
        page = root / f"_site/facts/{me}/index.html"
        html = page.read_text()
        assert "<strong>Disputed.</strong>" in html
        assert f"facts/{other}/" in {posixpath.normpath(f"facts/{me}/{h}") + "/" for h in parse(page).hrefs}
    month = parse(root / "_site/timeline/2017/06/index.html")
    assert month.classes.count("disputed") == 2


def test_figures_that_can_both_be_true_are_not_disputed(site):
    root = site(facts(
        same_a=measure("2017-06", 100), same_b=measure("2017-06", 100),         # agree
        about_a=measure("2017-05", 100, approx="about"), about_b=measure("2017-05", 105),  # within "about"
        least_a=measure("2017-04", 2000, approx="at-least"), least_b=measure("2017-04", 2400),
        other_op=measure("2017-03", 100, op="op-a"), other_op_b=measure("2017-03", 300),  # other operation
        old=measure("2017-02", 100, extra="rank: deprecated\nrank_reason: superseded\n"),
        new=measure("2017-02", 300),                                               # deprecated figure
    ) | {"content/facts/2017/f-june.yaml": None})
    assert annals(root).code == 0
    for page in (root / "_site/facts").glob("*/index.html"):
        assert "<strong>Disputed.</strong>" not in page.read_text(), page


def test_at_least_below_an_exact_figure_is_disputed(site):
    root = site(facts(least=measure("2017-04", 2000, approx="at-least"), exact=measure("2017-04", 1500)) |
                {"content/facts/2017/f-june.yaml": None})
    assert annals(root).code == 0
    assert "<strong>Disputed.</strong>" in (root / "_site/facts/least/index.html").read_text()
    assert "<strong>Disputed.</strong>" in (root / "_site/facts/exact/index.html").read_text()


# -- monthly figures against a running total -------------------------------------

RUNNING = dict(
    jan=measure("2017-01", 100), feb=measure("2017-02", 100), mar=measure("2017-03", 100),
)


def test_monthly_figures_exceeding_a_running_total_are_reported(site):
    root = site(facts(**RUNNING, ytd=measure("2017-03", 250, "cumulative", since="2017-01")) |
                {"content/facts/2017/f-june.yaml": None})
    warning = ("content/facts/n/ytd.yaml:1: warning: monthly figures exceed the running total: "
               "100 (jan) + 100 (feb) + 100 (mar) = 300 is more than 250")
    run = annals(root, "check")
    assert run.code == 0
    assert run.out.splitlines() == [warning, "0 error(s), 1 warning(s)"]
    strict = annals(root, "check", "--strict")
    assert strict.code == 1 and strict.err.splitlines() == [warning, "0 error(s), 1 warning(s)"]
    build = annals(root)
    assert build.code == 0 and warning in build.err.splitlines()
    strict_build = annals(root, "--strict", "--out", "_strict")
    assert strict_build.code == 1 and warning in strict_build.err.splitlines()
    assert not (root / "_strict").exists()


def test_running_total_that_covers_the_months_is_quiet(site):
    root = site(facts(**RUNNING, ytd=measure("2017-03", 300, "cumulative", since="2017-01")) |
                {"content/facts/2017/f-june.yaml": None})
    assert annals(root, "check", "--strict").code == 0


def test_running_total_counts_only_months_inside_its_span(site):
    # As of 15 March, the March figure is not part of the total; before `since`, nothing is.
    root = site(facts(**RUNNING, dec=measure("2016-12", 900),
                      ytd=measure("2017-03-15", 200, "cumulative", since="2017-01")) |
                {"content/facts/2017/f-june.yaml": None})
    run = annals(root, "check", "--strict")
    assert run.code == 0, run.err


def test_at_least_months_still_exceed(site):
    root = site(facts(jan=measure("2017-01", 200, approx="at-least"), feb=measure("2017-02", 200, approx="about"),
                      ytd=measure("2017-02", 300, "cumulative", since="2017-01")) |
                {"content/facts/2017/f-june.yaml": None})
    run = annals(root, "check")
    assert run.out.splitlines()[0] == (
        "content/facts/n/ytd.yaml:1: warning: monthly figures exceed the running total: "
        "200 (jan) + 200 (feb) = 380 is more than 300")


# -- running totals that fall ------------------------------------------------------

def test_a_running_total_that_falls_is_reported(site):
    root = site(facts(q1=measure("2017-03", 300, "cumulative", since="2017-01"),
                      q2=measure("2017-06", 280, "cumulative", since="2017-01")) |
                {"content/facts/2017/f-june.yaml": None})
    run = annals(root, "check")
    assert run.code == 0
    assert run.out.splitlines() == [
        "content/facts/n/q2.yaml:1: warning: running total falls: 280 as of June 2017 is less than "
        "300 as of March 2017 (content/facts/n/q1.yaml:1)",
        "0 error(s), 1 warning(s)",
    ]
    assert annals(root, "check", "--strict").code == 1


def test_a_fall_hidden_behind_a_vague_figure_is_reported(site):
    root = site(facts(q1=measure("2017-03", 300, "cumulative", since="2017-01"),
                      q2=measure("2017-06", 100, "cumulative", since="2017-01", approx="at-least"),
                      q3=measure("2017-09", 290, "cumulative", since="2017-01")) |
                {"content/facts/2017/f-june.yaml": None})
    run = annals(root, "check")
    assert run.out.splitlines() == [
        "content/facts/n/q3.yaml:1: warning: running total falls: 290 as of September 2017 is less than "
        "300 as of March 2017 (content/facts/n/q1.yaml:1)",
        "0 error(s), 1 warning(s)",
    ]


def test_running_totals_with_different_starts_are_separate_series(site):
    root = site(facts(q1=measure("2017-03", 300, "cumulative", since="2017-01"),
                      q2=measure("2017-06", 280, "cumulative", since="2017-04")) |
                {"content/facts/2017/f-june.yaml": None})
    assert annals(root, "check", "--strict").code == 0


def test_a_growing_running_total_is_quiet(site):
    root = site(facts(q1=measure("2017-03", 300, "cumulative", since="2017-01"),
                      q2=measure("2017-06", 600, "cumulative", since="2017-01")) |
                {"content/facts/2017/f-june.yaml": None})
    assert annals(root, "check", "--strict").code == 0


# -- a sum the source states ---------------------------------------------------------

def two_months(total: int) -> dict[str, str]:
    return facts(oct=measure("2016-10", 3038), nov=measure("2016-11", 2709),
                 oct_nov=measure("{from: 2016-10, to: 2016-11}", total)) | {"content/facts/2017/f-june.yaml": None}


def test_a_stated_sum_that_adds_up_is_quiet(site):
    run = annals(site(two_months(5747)), "check", "--strict")
    assert run.code == 0, run.err


def test_a_stated_sum_that_does_not_add_up_is_reported(site):
    run = annals(site(two_months(5757)), "check")
    assert run.code == 0
    assert run.out.splitlines() == [
        "content/facts/n/oct-nov.yaml:1: warning: sum does not add up: October 2016 – November 2016 states 5,757 "
        "but its months give 3,038 (oct) + 2,709 (nov) = 5,747",
        "0 error(s), 1 warning(s)",
    ]
    assert annals(site(two_months(5757)), "check", "--strict").code == 1


def test_a_sum_with_a_month_missing_is_only_checked_as_a_ceiling(site):
    files = two_months(3000)
    files["content/facts/n/nov.yaml"] = None
    run = annals(site(files), "check")
    assert run.out.splitlines()[0] == (
        "content/facts/n/oct-nov.yaml:1: warning: monthly figures exceed the figure: "
        "3,038 (oct) = 3,038 is more than 3,000")
    files = two_months(5000)
    files["content/facts/n/nov.yaml"] = None
    assert annals(site(files), "check", "--strict").code == 0


def test_embedded_archive_sum_is_checked(tmp_path):
    """The seed's 3,038 + 2,709 = 5,747 is in the archive, and its parts add up."""
    from conftest import REPO
    from annals.load import load
    from annals.index import build_index
    from annals.problems import Problems
    problems = Problems()
    archive = load(REPO, problems)
    ranges = [f for f in archive.facts.values() if f.measure and f.when and f.when.is_range
              and f.measure.value == 5747]
    assert len(ranges) == 1
    months = [f for f in archive.facts.values() if f.measure and f.when and not f.when.is_range
              and f.when.month in ((2016, 10), (2016, 11)) and f.measure.aggregation == "period"
              and f.measure.metric == ranges[0].measure.metric]
    assert sorted(int(f.measure.value) for f in months) == [2709, 3038]
    build_index(archive, problems)
    assert problems.items == []
