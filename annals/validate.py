"""Cross-reference checks: every id a record names must exist.

Runs on the whole Archive after loading; each check reports at the line where
the reference was written, and all of them run, whatever the others found.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from .markup import Markdown, Resolver
from .model import Archive, Article, Citation, Fact, Operation, Source, Withdrawn
from .problems import Loc, Problems
from .schema import did_you_mean

QUOTE_MAX = 300


def validate(archive: Archive, root: Path, problems: Problems, only: set[str] | None = None) -> None:
    """Every check, of every record and of what did parse of records with errors (archive.broken),
    which never reach the site; with `only`, the checks of each fact run for those facts alone.

    The preview passes `only` when nothing but those facts changed since a
    build that passed: every other fact's checks would find what they found then.
    """
    broken = _broken(archive)
    facts = _all(archive, archive.facts, Fact) if only is None else [archive.facts[i] for i in sorted(only)
                                                                       if i in archive.facts]
    _operations(archive, problems, broken)
    _facts(archive, facts, problems, broken)
    _articles(archive, problems, broken)
    _withdrawn(archive, problems, broken)
    _quotes_against_texts(archive, facts, root, problems)
    _figures(archive, facts, problems)
    _markdown_links(archive, facts, problems, others=only is None)


def _broken(archive: Archive) -> set[tuple[str, str | None]]:
    """(kind, id) of every record with an error of its own (see model.Broken), and of the old ids
    it lists; (kind, None) when a whole file of that kind could not be read (metrics.yaml).

    A reference to such a record is not reported again as unknown: the editor
    fixes the file, and one mistake shows as one message, not twenty.
    """
    out: set[tuple[str, str | None]] = set()
    for item in archive.broken:
        if item.kind == "metrics":
            out.add(("metric", None))
        elif item.id is not None:
            out.add((item.kind, item.id))
        if isinstance(item.record, Fact):
            out.update(("fact", alias) for alias in item.record.aliases)
    return out


def _all(archive: Archive, table, kind: type) -> list:
    """The records of a table, then what did parse of the broken ones of that kind."""
    return [*table.values(), *(b.record for b in archive.broken if isinstance(b.record, kind))]


def _missing(problems: Problems, loc: Loc, what: str, ident: str, known, broken=frozenset()) -> None:
    if (what, ident) in broken or (what, None) in broken:
        return
    problems.error(loc, f"unknown {what} '{ident}'{did_you_mean(ident, known)}")


def _citations(citations: tuple[Citation, ...], archive: Archive, problems: Problems, broken) -> None:
    for cite in citations:  # of a broken record, source or quote may be None: it did not convert
        if cite.source is not None and cite.source not in archive.sources:
            _missing(problems, cite.loc, "source", cite.source, archive.sources, broken)
        if cite.quote is not None and len(cite.quote) > QUOTE_MAX:
            problems.warning(cite.loc, f"quote is {len(cite.quote)} characters; keep quotes short (at most {QUOTE_MAX})")


def _operations(archive: Archive, problems: Problems, broken) -> None:
    for op in _all(archive, archive.operations, Operation):
        _citations(op.sources, archive, problems, broken)
        if op.parent is not None and op.parent not in archive.operations:
            others = [o for o in archive.operations if o != op.id]  # never suggest itself as its parent
            _missing(problems, op.locs["parent"], "operation", op.parent, others, broken)
        if op.start and op.end and op.end.last < op.start.first:
            problems.error(op.locs["end"], f"end {op.end.iso()} is before start {op.start.iso()}")
    for op in archive.operations.values():
        seen, current = [op.id], op.parent
        while current in archive.operations:
            if current in seen:
                problems.error(op.locs["parent"], f"operation parents form a loop: {' → '.join(seen + [current])}")
                break
            seen.append(current)
            current = archive.operations[current].parent


def _facts(archive: Archive, facts, problems: Problems, broken) -> None:
    for fact in facts:
        _citations(fact.sources, archive, problems, broken)
        for op in fact.operations:
            if op not in archive.operations:
                _missing(problems, fact.locs["operations"], "operation", op, archive.operations, broken)
        metric = fact.measure.metric if fact.measure is not None else None
        if metric is not None and metric not in archive.metrics:
            _missing(problems, fact.locs["measure"], "metric", metric, archive.metrics, broken)


def _figures(archive: Archive, facts, problems: Problems) -> None:
    """Figures their metric says cannot be: below zero, unless it declares `negative: allowed`.

    A count of weapons or sorties is never below zero; a published "-5 weapons"
    is a sign typed by mistake, or a change that belongs to a metric of its own.
    """
    for fact in facts:
        measure = fact.measure
        metric = archive.metrics.get(measure.metric) if measure is not None else None
        if metric is None or measure.value is None or metric.negative == "allowed" or measure.value >= 0:
            continue  # no figure, or an unknown metric: reported as that
        problems.error(measure.value_loc or fact.locs.get("measure", fact.loc),
                       f"value: {measure.value} is below zero, and metric '{metric.id}' counts {metric.unit}, "
                       f"which cannot be fewer than none; if its figures may be negative, write `negative: allowed` "
                       f"under '{metric.id}' in content/metrics.yaml")


def _old_ids(archive: Archive):
    """Old id -> current id, worked out the first time a reference names no live fact: most never do."""
    return functools.cache(lambda: {alias: f.id for f in archive.facts.values() for alias in f.aliases})


def _articles(archive: Archive, problems: Problems, broken) -> None:
    old_ids = _old_ids(archive)
    for article in _all(archive, archive.articles, Article):
        for op in article.operations:
            if op not in archive.operations:
                _missing(problems, article.locs["operations"], "operation", op, archive.operations, broken)
        for ident, loc in article.cites:
            if ident in archive.facts:
                continue
            if ident in old_ids():
                problems.warning(loc, f"[[fact:{ident}]] is an old id of '{old_ids()[ident]}'; cite the current id")
            else:
                _missing(problems, loc, "fact", ident, archive.facts, broken)


def _withdrawn(archive: Archive, problems: Problems, broken) -> None:
    old_ids = _old_ids(archive)
    # A tombstone that shares its id with a live fact or alias is caught by
    # the pipeline's check that no two pages write one path.
    for entry in _all(archive, archive.withdrawn, Withdrawn):
        target = entry.replaced_by
        if target is not None and target not in archive.facts:
            if target in old_ids():
                problems.error(entry.locs["replaced_by"], f"replaced_by: '{target}' is an old id of '{old_ids()[target]}'; name the current id")
            else:
                _missing(problems, entry.locs["replaced_by"], "fact", target, archive.facts, broken)


def _normal(text: str) -> str:
    # Quotes are checked modulo white space and typographic quote marks,
    # which copy-and-paste routinely changes.
    text = text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))
    return re.sub(r"\s+", " ", text).strip()


def _quotes_against_texts(archive: Archive, facts, root: Path, problems: Problems) -> None:
    texts: dict[str, str] = {}
    for source in _all(archive, archive.sources, Source):
        if source.text_file is None:
            continue
        path = (root / "content" / "sources" / source.text_file).resolve()
        inside = (root / "content" / "sources").resolve()
        if inside not in path.parents or not path.is_file():
            problems.error(source.locs["text_file"], f"text_file '{source.text_file}' is not a file under content/sources/")
            continue
        try:
            texts[source.id] = _normal(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.error(source.locs["text_file"], f"text_file '{source.text_file}' is not UTF-8")
        except OSError as err:
            problems.error(source.locs["text_file"], f"text_file '{source.text_file}' cannot be read: {err.strerror or err}")
    if not texts:
        return
    records = list(facts) + _all(archive, archive.operations, Operation)
    for rec in records:
        for cite in rec.sources:
            if cite.source in texts and cite.quote is not None and _normal(cite.quote) not in texts[cite.source]:
                problems.error(cite.loc, f"quote does not occur in the text of source '{cite.source}'")


def _markdown_links(archive: Archive, facts, problems: Problems, others: bool = True) -> None:
    """Links the page would show dead (javascript:, data:, empty): the editor meant something else.

    The renderer already drops them; reporting them here tells the editor
    before a reader finds a link that goes nowhere.
    """
    converter = Markdown()
    fields = [(f.notes, f.locs.get("notes")) for f in facts]
    articles = _all(archive, archive.articles, Article)
    if others:
        fields += [(o.summary, o.locs.get("summary")) for o in _all(archive, archive.operations, Operation)]
        fields += [(s.notes, s.locs.get("notes")) for s in _all(archive, archive.sources, Source)]
    else:
        articles = []  # only facts changed: every other record's links are as they were checked
    for text, loc in fields:
        if text:
            for href in _unsafe(converter, text):
                problems.error(loc, _unsafe_message(href))
    for article in articles:
        for href in _unsafe(converter, article.body):
            at = article.body.find(href if href.strip() else "]()")
            line = article.body_line + (article.body[:at].count("\n") if at >= 0 else 0)
            problems.error(Loc(article.loc.path, line), _unsafe_message(href))


def _unsafe(converter: Markdown, text: str) -> list[str]:
    resolver = Resolver(lambda ident: ("#", ident))  # fact references are checked above
    converter.render(text, resolver)
    return resolver.unsafe


def _unsafe_message(href: str) -> str:
    if not href.strip():
        return "link with an empty address; write the address between the parentheses"
    if href.startswith("/") and not href.startswith("//"):
        return (f"link to '{href}' starts from the server's root, which breaks at a sub-path and offline: "
                "write it relative to the page, or cite a fact with [[fact:id]]")
    return (f"link to '{href}' is not allowed and is shown as plain text: "
            "links may be http(s), mailto or relative to the site")
