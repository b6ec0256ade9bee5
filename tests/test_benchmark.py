"""The benchmark runs end to end on a small archive, and its Hugo site holds the pages Annals writes.

It asserts what the benchmark measures, never how fast: speed goals are
figures the script prints (see benchmarks/README.md).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, annals, synthetic

ROW = re.compile(r"^\s*([\d,]+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)" + r"\s+(\S+)" * 7 + r"\s*$")


def bench(*args: str) -> list[tuple[str, ...]]:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks/bench.py"), *args],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    rows = [m.groups() for m in map(ROW.match, done.stdout.splitlines()) if m]
    assert rows, done.stdout
    return rows


def test_the_synthetic_archive_is_a_valid_annals_project(tmp_path):
    recs = synthetic.records(120)
    synthetic.write_annals(tmp_path / "a", recs)
    run = annals(tmp_path / "a", "--strict")
    assert run.code == 0, run.err
    facts = list((tmp_path / "a/_site/facts").glob("*/index.html"))
    assert len(facts) == len(recs)


def test_every_figure_is_printed_and_a_skipped_one_is_a_dash(tmp_path):
    [row] = bench("--sizes", "80", "--no-serve", "--no-hugo", "--out", str(tmp_path))
    facts, pages, cold, noop, edit, template, peak, preview, hugo, ratio, bare, bare_ratio, minimal, minimal_ratio = row
    assert facts == "80" and int(pages.replace(",", "")) > 80
    assert float(cold) > 0 and float(noop) > 0 and float(edit) > 0 and float(template) > 0 and float(bare) > 0 and int(peak) > 0
    assert (preview, hugo, ratio, bare_ratio, minimal, minimal_ratio) == ("-",) * 6
    # The edit the benchmark timed did land in the site, and the last build, without the zip, made none.
    site = tmp_path / "annals-80/_site"
    assert list((site / "facts").glob("*/index.html")) and not list(site.glob("*.zip"))


@pytest.mark.skipif(shutil.which("hugo") is None, reason="Debian's hugo is installed by .ci/run")
def test_the_preview_and_both_hugo_sites_are_measured_and_the_last_run_is_cleared_away_after(tmp_path):
    bench("--sizes", "60", "--no-serve", "--no-hugo", "--out", str(tmp_path))
    [row] = bench("--sizes", "60", "--out", str(tmp_path))
    assert all(float(figure) > 0 for figure in row[7:])  # the preview, Hugo's builds, the build without the zip, the ratios
    assert not (tmp_path / ".trash").exists()  # the first run's folders, moved aside, are gone
    recs = synthetic.records(60)
    for site in ("hugo-60", "hugo-minimal-60"):
        public = tmp_path / site / "public"
        assert len(list((public / "facts").glob("*/index.html"))) == len(recs)
        assert {p.name for p in (public / "operations").iterdir() if p.is_dir()} == {r.operation for r in recs}
        assert len([p for p in (public / "months").iterdir() if p.is_dir()]) == len({r.month for r in recs if r.month})


@pytest.mark.skipif(shutil.which("hugo") is None, reason="Debian's hugo is installed by .ci/run")
def test_the_equivalent_hugo_site_writes_what_annals_writes_of_each_fact(tmp_path):
    recs = synthetic.records(150)
    synthetic.write_annals(tmp_path / "annals", recs)
    assert annals(tmp_path / "annals").code == 0
    synthetic.write_hugo(tmp_path / "hugo", recs, equivalent=True)
    done = subprocess.run(["hugo", "--quiet", "-s", str(tmp_path / "hugo")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    built, public = tmp_path / "annals/_site", tmp_path / "hugo/public"
    measure = next(r for r in recs if r.metric and r.operation in ("canyon-run", "river-gate"))
    statement = next(r for r in recs if r.claim.startswith("Statement"))
    for r in (measure, statement):
        pages = [(built / f"facts/{r.id}/index.html").read_text(), (public / f"facts/{r.id}/index.html").read_text()]
        for page in pages:
            for part in (r.claim, f"“{r.quote}”", "DC.title", "og:site_name", "application/ld+json",
                         "<summary>biblatex</summary>", f"@online{{{r.id},", "CSL-JSON", "TY  - ELEC",
                         synthetic.PLACES[int(r.id[1:]) % len(synthetic.PLACES)], 'href="../../style.css"'
                         if page is pages[1] else 'href="../../static/style.css"'):
                assert part in page, (part, page[:200])
        if r is measure:  # its figure, and the operation it is part of
            assert all(f"{r.value:,} {synthetic.METRICS[r.metric][1]}" in page for page in pages)
            parent = synthetic.OPERATIONS[synthetic.OPERATIONS[r.operation][1]][0]
            assert all(f"(part of <a " in page and parent in page for page in pages)
    # A page for each year and source too, and every fact in the feed, the sitemap and both data files.
    assert {p.name for p in (public / "years").iterdir() if p.is_dir()} == {r.when[:4] for r in recs}
    assert {p.name for p in (public / "sources").iterdir() if p.is_dir()} == {r.source for r in recs}
    for data in ("index.xml", "sitemap.xml", "facts.json", "facts.csv"):
        text = (public / data).read_text()
        assert all(r.id in text for r in recs), data


def test_the_page_costs_name_every_step_of_a_fact_page_and_every_kind_of_other_page(tmp_path):
    root = tmp_path / "a"
    synthetic.write_annals(root, synthetic.records(120))
    before = sorted(p.name for p in root.iterdir())
    done = subprocess.run([sys.executable, str(REPO / "benchmarks/page_costs.py"), str(root), "--facts", "50"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    fact = re.search(r"a fact page, the mean of 50 \(µs\): (.*); in all (\d+)", done.stdout)
    assert fact, done.stdout
    steps = dict(part.rsplit(" ", 1) for part in fact.group(1).split(", "))
    assert list(steps) == ["context", "render", "encode", "cut", "deflate", "write"]
    assert int(fact.group(2)) >= sum(map(int, steps.values())) - len(steps)  # rounded each
    kinds = {line.split()[0] for line in done.stdout.splitlines()[3:-1]}
    assert {"home", "month", "year", "operation", "source", "metric", "facts-json", "feed"} <= kinds
    assert sorted(p.name for p in root.iterdir()) == before  # its pages went to a folder it removed


def test_two_versions_are_compared_in_pairs_of_cold_builds(tmp_path):
    """benchmarks/compare.py builds one archive with two checkouts in turn; here both are this one."""
    synthetic.write_annals(tmp_path / "archive", synthetic.records(60))
    done = subprocess.run([sys.executable, str(REPO / "benchmarks/compare.py"), str(tmp_path / "archive"),
                           "--before", str(REPO), "--pairs", "2", "--work", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    pairs = re.findall(r"^pair \d: before ([\d.]+) s, after ([\d.]+) s, after/before ([\d.]+)$", done.stdout, re.M)
    assert len(pairs) == 2 and all(float(x) > 0 for pair in pairs for x in pair)
    assert re.search(r"^median of 2: .* \(each pair's: [\d.]+, [\d.]+\)$", done.stdout, re.M)
    for side in ("before", "after"):  # each built cold, into a site of its own, for every pair
        assert len(list((tmp_path / "work").glob(f"site-{side}-*/facts/*/index.html"))) == 2 * 60


def test_the_history_step_is_measured_cold_and_after_a_commit(tmp_path):
    out = subprocess.run([sys.executable, str(REPO / "benchmarks/bench.py"), "--history", "60", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    cold, after = out.stdout.strip().splitlines()[-2:]
    assert re.fullmatch(r"60 facts of 3 versions, [\d,]+ pages: "
                        r"history step [\d.]+ s of a [\d.]+ s cold build \(\d+%\)", cold), cold
    assert re.fullmatch(r"after a commit of one fact's fourth version: history step [\d.]+ s of a [\d.]+ s build",
                        after), after
