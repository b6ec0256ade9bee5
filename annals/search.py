"""The client-side search index: every fact as the words a reader might type to find it.

It is written as a script that assigns one global, not as JSON: a page opened
from file:// may load a script with <script src>, but may not fetch() a file.
The text is kept as written; static/search.js folds case, accents and the
thousands separators of numbers, so the folding lives in one place and
"4,848" and "4848" find the same facts.

Each fact's words are kept by where they come from, because search.js ranks
by it and because a year typed must match the fact's date, never a year in
the name of an operation ("France 2019" is not a fact of 2019):
- claim: the claim;
- dates: the fact's date, each month it covers (2017-06, June) and each year it touches;
- within: the year, and the month, that hold the whole of the fact's date, if one does: search.js
  ranks a figure for April above a twelve-month span that takes April in;
- figure: its figure's numbers, as written;
- names: its operations (names, other names and ids, and those of the operations enclosing them),
  places, originator, speaker, the metric's label and unit;
- quotes: its sources' quotes.
"""
from __future__ import annotations

import json

from . import urls
from .model import upward
from .periods import MONTHS

GLOBAL = "ANNALS_SEARCH"
# A range names each month it touches, so "March 2016" finds a fact that
# spans it; beyond a few years that would only make every query match it.
MAX_MONTHS_NAMED = 36


def _when_words(when) -> list[str]:
    if when is None:
        return ["undated"]
    first, last = when.first.year, when.last.year
    # Each year a span touches, so "2015" finds a figure over 2014 to 2016; within reason, as for months.
    years = range(first, last + 1) if last - first < MAX_MONTHS_NAMED else (first, last)
    words = [when.label(), when.iso(), *(str(y) for y in years)]
    if when.precision != "year" and when.month_count() <= MAX_MONTHS_NAMED:
        for y, m in when.months():
            words += [f"{MONTHS[m - 1]} {y}", f"{y:04d}-{m:02d}"]
    return words


def _within_words(when) -> list[str]:
    """The year and the month that hold the whole of `when`, where one does."""
    if when is None or when.first.year != when.last.year:
        return []
    words = [str(when.first.year)]
    if when.precision != "year" and when.month_count() == 1:
        y, m = when.first.year, when.first.month
        words += [f"{MONTHS[m - 1]} {y}", f"{y:04d}-{m:02d}"]
    return words


def _operation_words(reader, ids) -> list[str]:
    """Names, other names and ids of a fact's operations and of every operation enclosing them."""
    def find(ident):
        return reader.get("operation", ident)

    ops = dict.fromkeys(up for ident in ids for up in upward(ident, find))
    return [word for ident in ops for op in (find(ident),) for word in (op.name, op.id, *op.aliases)]


def _joined(words) -> str:
    return " ".join(dict.fromkeys(w for w in words if w))


def entry(reader, ident: str) -> dict:
    fact = reader.get("fact", ident)
    names = [*_operation_words(reader, fact.operations), *fact.places, fact.originator, fact.speaker,
             fact.speaker_role]
    figure = []
    if fact.measure is not None:
        m = fact.measure
        metric = reader.get("metric", m.metric)
        figure = [str(v) for v in (m.value, m.low, m.high) if v is not None]
        names += [metric.label, metric.unit]
    return {"path": urls.fact(ident), "claim": fact.claim,
            "when": fact.when.label() if fact.when else "undated",
            "dates": _joined(_when_words(fact.when)), "within": _joined(_within_words(fact.when)),
            "figure": _joined(figure),
            "names": _joined(names), "quotes": _joined(c.quote for c in fact.sources)}


def search_index(reader, _key) -> bytes:
    facts = ",".join(reader.derive_each(_entry_json, reader.get("all", "facts")))
    return f'window.{GLOBAL} = {{"facts":[{facts}]}};\n'.encode("ascii")


def _entry_json(reader, ident: str) -> str:
    return json.dumps(entry(reader, ident), ensure_ascii=True, sort_keys=True, separators=(",", ":"))
