"""The embedded archive holds nothing its seed articles do not say.

The seeds live beside the repository (../shared/seeds/*.txt); a fresh clone
elsewhere has no seeds, and then these tests are skipped, saying why.
"""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from annals.load import load
from annals.periods import MONTHS
from annals.problems import Problems
from conftest import REPO

SEEDS = REPO.parent / "shared" / "seeds"
seeds_present = pytest.mark.skipif(not any(SEEDS.glob("*.txt")),
                                   reason=f"no seed articles at {SEEDS}: quotes cannot be checked against them")


@pytest.fixture(scope="module")
def archive():
    problems = Problems()
    loaded = load(REPO, problems)
    assert problems.errors == []
    return loaded


@pytest.fixture(scope="module")
def seed_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))


def cited(archive):
    return list(archive.facts.values()) + list(archive.operations.values())


@seeds_present
def test_every_quote_occurs_verbatim_in_a_seed(archive, seed_text):
    missing = [(rec.id, c.quote) for rec in cited(archive) for c in rec.sources if c.quote not in seed_text]
    assert missing == []
    assert sum(len(rec.sources) for rec in cited(archive)) > 30


def written_forms(value: Decimal) -> set[str]:
    return {str(value), f"{value:,}"}


def test_every_measured_number_occurs_in_its_quotes(archive):
    wrong = []
    for fact in archive.facts.values():
        if fact.measure is None:
            continue
        quotes = " ".join(c.quote for c in fact.sources)
        numbers = set(re.findall(r"\d[\d,]*(?:\.\d+)?", quotes))
        if not written_forms(fact.measure.value) & numbers:
            wrong.append((fact.id, fact.measure.value, quotes))
    assert wrong == []


@seeds_present
def test_every_number_in_a_claim_is_in_the_seeds(archive, seed_text):
    """A claim restates its sources: a figure in it that no seed prints was invented (years and days aside)."""
    seed_numbers = set(re.findall(r"\d[\d,]*", seed_text))
    invented = []
    for fact in archive.facts.values():
        for number in re.findall(r"\d[\d,]*", fact.claim):
            number = number.rstrip(",")
            if re.fullmatch(r"(19|20)\d\d", number) or (len(number) <= 2 and int(number) <= 31):
                continue
            if number not in seed_numbers:
                invented.append((fact.id, number))
    assert invented == []


@seeds_present
def test_no_source_url_or_date_that_the_seeds_do_not_print(archive, seed_text):
    for source in archive.sources.values():
        if source.url is not None:
            assert source.url in seed_text, source.id
        for field in ("published", "updated"):
            when = getattr(source, field)
            if when is None:
                continue
            point = when.start
            assert point.precision == "day", (source.id, field)
            month = MONTHS[point.month - 1]
            forms = [f"{month[:3]} {point.day}, {point.year}", f"{month} {point.day}, {point.year}",
                     f"{point.day} {month} {point.year}", point.iso()]
            assert any(form in seed_text for form in forms), (source.id, field, forms)


def test_the_misread_total_is_explained(archive):
    """'In November, the coalition released 27,800 weapons' is the year to November, and says so."""
    (fact,) = [f for f in archive.facts.values() if f.measure and f.measure.value == 27800]
    assert fact.measure.aggregation == "cumulative"
    assert fact.when.iso() == "2016-11"
    assert "running total" in fact.notes and "27,800" in fact.notes


def test_the_article_cites_facts_and_is_not_copied(archive, seed_text):
    (article,) = archive.articles.values()
    assert len(article.cites) >= 5
    if not seed_text:
        pytest.skip(f"no seed articles at {SEEDS}")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", re.sub(r"\[\[fact:[^\]]*\]\]", "", article.body))]
    words = lambda s: " ".join(re.findall(r"[\w,]+", s.lower()))  # noqa: E731
    seed_words = words(seed_text)
    copied = [s for s in sentences if len(s.split()) >= 8 and words(s) in seed_words]
    assert copied == []


def test_what_the_seeds_leave_unsaid_stays_absent_and_explained(archive):
    """The seed credits Air Forces Central Command in the sentence of the combat sorties only, and gives
    no end to the Mosul offensive: the archive does not carry either over, and says why."""
    for ident in ("2017-07-oir-isr-sorties-year-to-date", "2017-07-oir-tanker-sorties-year-to-date"):
        fact = archive.facts[ident]
        assert fact.originator is None, ident
        assert "`originator` is left out" in fact.notes and "Air Forces Central Command" in fact.notes, ident
    assert archive.facts["2017-07-oir-combat-sorties-year-to-date"].originator == "U.S. Air Forces Central Command"
    mosul = archive.operations["mosul-offensive"]
    assert mosul.end is None
    assert "do not say when the offensive ended" in mosul.summary


def test_a_statement_claim_keeps_every_part_it_quotes(archive):
    """Tillerson congratulated, promised continued support and warned: the claim says all three."""
    fact = archive.facts["2017-07-tillerson-much-work-to-be-done"]
    assert "promised continued support as displaced civilians returned" in fact.claim
    assert "promised continued support as displaced civilians returned to the city" in [c.quote for c in fact.sources]
