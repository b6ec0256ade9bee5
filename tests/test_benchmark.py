"""The benchmark runs end to end on a small archive, and its Hugo site holds the pages Annals writes.

It asserts what the benchmark measures, never how fast: speed goals are
figures the script prints (see the README's Speed section).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, annals, synthetic

ROW = re.compile(r"^\s*([\d,]+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")


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
    facts, pages, cold, noop, edit, peak, preview, hugo, ratio = row
    assert facts == "80" and int(pages.replace(",", "")) > 80
    assert float(cold) > 0 and float(noop) > 0 and float(edit) > 0 and int(peak) > 0
    assert (preview, hugo, ratio) == ("-", "-", "-")
    # The edit the benchmark timed did land in the site.
    assert list((tmp_path / "annals-80/_site/facts").glob("*/index.html"))


@pytest.mark.skipif(shutil.which("hugo") is None, reason="Debian's hugo is installed by .ci/run")
def test_the_preview_and_hugo_are_measured_and_hugo_builds_the_equivalent_pages(tmp_path):
    [row] = bench("--sizes", "60", "--out", str(tmp_path))
    preview, hugo, ratio = row[6:]
    assert float(preview) > 0 and float(hugo) > 0 and float(ratio) > 0
    recs = synthetic.records(60)
    public = tmp_path / "hugo-60/public"
    assert len(list((public / "facts").glob("*/index.html"))) == len(recs)
    assert {p.name for p in (public / "operations").iterdir() if p.is_dir()} == {r.operation for r in recs}
    assert len([p for p in (public / "months").iterdir() if p.is_dir()]) == len({r.month for r in recs if r.month})


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
