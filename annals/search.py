"""The client-side search index: every fact as the words a reader might type to find it.

It is written as a script that assigns one global, not as JSON: a page opened
from file:// may load a script with <script src>, but may not fetch() a file.
The text is kept as written; static/search.js folds case, accents and the
thousands separators of numbers, so the folding lives in one place and
"4,848" and "4848" find the same facts.
"""
from __future__ import annotations

import json

from . import urls
from .periods import MONTHS

GLOBAL = "ANNALS_SEARCH"
# A range names each month it touches, so "March 2016" finds a fact that
# spans it; beyond a few years that would only make every query match it.
MAX_MONTHS_NAMED = 36


def _when_words(when) -> list[str]:
    if when is None:
        return ["undated"]
    words = [when.label(), when.iso(), str(when.first.year), str(when.last.year)]
    if when.precision != "year" and when.month_count() <= MAX_MONTHS_NAMED:
        for y, m in when.months():
            words += [f"{MONTHS[m - 1]} {y}", f"{y:04d}-{m:02d}"]
    return words


def _operation_words(reader, ids) -> list[str]:
    """Names, other names and ids of a fact's operations and of every operation enclosing them."""
    words, seen, todo = [], set(), list(ids)
    while todo:
        ident = todo.pop(0)
        if ident in seen:
            continue
        seen.add(ident)
        op = reader.get("operation", ident)
        words += [op.name, op.id, *op.aliases]
        if op.parent is not None:
            todo.append(op.parent)
    return words


def entry(reader, ident: str) -> dict:
    fact = reader.get("fact", ident)
    words = [fact.claim, *fact.places, *_when_words(fact.when), *_operation_words(reader, fact.operations)]
    words += [w for w in (fact.originator, fact.speaker, fact.speaker_role) if w]
    words += [c.quote for c in fact.sources]
    if fact.measure is not None:
        metric = reader.get("metric", fact.measure.metric)
        words += [str(fact.measure.value), metric.label, metric.unit]
    return {"path": urls.fact(ident), "claim": fact.claim,
            "when": fact.when.label() if fact.when else "undated",
            "text": " ".join(dict.fromkeys(words))}


def search_index(reader, _key) -> bytes:
    facts = ",".join(reader.derive_each(_entry_json, reader.get("all", "facts")))
    return f'window.{GLOBAL} = {{"facts":[{facts}]}};\n'.encode("ascii")


def _entry_json(reader, ident: str) -> str:
    return json.dumps(entry(reader, ident), ensure_ascii=True, sort_keys=True, separators=(",", ":"))
