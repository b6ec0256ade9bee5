"""Figures that cannot be: below zero unless their metric says so (`negative: allowed` in metrics.yaml)."""
from __future__ import annotations

import textwrap

import pytest

from conftest import MINIMAL, annals, write_files

FACT = "content/facts/2017/f-june.yaml"
GOOD_FACT = textwrap.dedent(MINIMAL[FACT])  # `value: 100` at line 6
METRICS = textwrap.dedent(MINIMAL["content/metrics.yaml"])


def negative_message(value: str, metric: str = "weapons-released", unit: str = "weapons") -> str:
    return (f"value: {value} is below zero, and metric '{metric}' counts {unit}, which cannot be fewer than none; "
            f"if its figures may be negative, write `negative: allowed` under '{metric}' in content/metrics.yaml")


@pytest.mark.parametrize("value, approx", [("-5", "exact"), ("-0.5", "about"), ("-2000", "at-least"), ("-1", "at-most")])
def test_a_figure_below_zero_is_an_error_at_its_line(site, value, approx):
    root = site()
    assert annals(root).code == 0
    before = (root / "_site/facts/f-june/index.html").read_bytes()
    write_files(root, {FACT: GOOD_FACT.replace("value: 100", f"value: {value}\n  approx: {approx}")})
    for command in ("check", "build"):
        run = annals(root, command)
        assert run.code == 1 and "Traceback" not in run.err
        assert [p for p in run.problems if "is not listed yet" not in p] == [f"{FACT}:6: {negative_message(value)}"]
    assert (root / "_site/facts/f-june/index.html").read_bytes() == before


def test_a_metric_that_allows_negative_figures_publishes_them(site):
    root = site({
        "content/metrics.yaml": METRICS + "net-change:\n  label: Net change\n  unit: fighters\n"
                                          "  description: Fighters gained less fighters lost.\n  negative: allowed\n",
        FACT: GOOD_FACT.replace("weapons-released", "net-change").replace("value: 100", "value: -5"),
    })
    run = annals(root, "--strict")
    assert run.code == 0, run.err
    assert "-5" in (root / "_site/facts/f-june/index.html").read_text()


def test_a_metric_that_refuses_them_says_so_like_the_default(site):
    root = site({"content/metrics.yaml": METRICS + "  negative: refused\n",
                 FACT: GOOD_FACT.replace("value: 100", "value: -5")})
    assert annals(root, "check").problems == [f"{FACT}:6: {negative_message('-5')}"]


def test_the_declaration_takes_only_its_two_words(site):
    root = site({"content/metrics.yaml": METRICS + "  negative: yes\n"})
    assert annals(root, "check").problems == [
        "content/metrics.yaml:5: negative: 'yes' is not one of allowed, refused"]


def test_a_negative_figure_is_found_beside_the_other_problems_of_its_fact(site):
    root = site({FACT: GOOD_FACT.replace("value: 100", "value: -5") + "colour: red\n"})
    assert annals(root, "check").problems == [f"{FACT}:6: {negative_message('-5')}",
                                              f"{FACT}:11: unknown field 'colour' in fact"]


def test_a_figure_of_an_unknown_metric_is_reported_as_that_alone(site):
    root = site({FACT: GOOD_FACT.replace("weapons-released", "weapons-relased").replace("value: 100", "value: -5")})
    problems = annals(root, "check").problems
    assert problems == [f"{FACT}:5: unknown metric 'weapons-relased' (did you mean 'weapons-released'?)"]


def test_zero_is_a_figure(site):
    root = site({FACT: GOOD_FACT.replace("value: 100", "value: 0")})
    assert annals(root, "check", "--strict").code == 0
