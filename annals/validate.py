"""Cross-reference checks: every id a record names must exist.

Runs on the whole Archive after loading; each check reports at the line where
the reference was written, and all of them run, whatever the others found.
"""
from __future__ import annotations

import re
from pathlib import Path

from .load import kind_of
from .markup import Markdown, Resolver
from .model import Archive, Citation
from .problems import Loc, Problems
from .schema import did_you_mean

QUOTE_MAX = 300


def validate(archive: Archive, root: Path, problems: Problems) -> None:
    broken = _broken(problems)
    _operations(archive, problems, broken)
    _facts(archive, problems, broken)
    _articles(archive, problems, broken)
    _withdrawn(archive, problems)
    _quotes_against_texts(archive, root, problems)
    _markdown_links(archive, problems)


def _broken(problems: Problems) -> set[tuple[str, str]]:
    """(kind, id) of every file that has an error of its own.

    A reference to such a file is not reported again as unknown: the editor
    fixes the file, and one mistake shows as one message, not twenty.
    """
    out = set()
    for problem in problems.errors:
        kind = kind_of(problem.loc.path)
        if kind in ("operation", "source", "fact"):
            out.add((kind, problem.loc.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]))
    return out


def _missing(problems: Problems, loc: Loc, what: str, ident: str, known, broken=frozenset()) -> None:
    if (what, ident) in broken:
        return
    problems.error(loc, f"unknown {what} '{ident}'{did_you_mean(ident, known)}")


def _citations(citations: tuple[Citation, ...], archive: Archive, problems: Problems, broken) -> None:
    for cite in citations:
        if cite.source not in archive.sources:
            _missing(problems, cite.loc, "source", cite.source, archive.sources, broken)
        if len(cite.quote) > QUOTE_MAX:
            problems.warning(cite.loc, f"quote is {len(cite.quote)} characters; keep quotes short (at most {QUOTE_MAX})")


def _operations(archive: Archive, problems: Problems, broken) -> None:
    for op in archive.operations.values():
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


def _facts(archive: Archive, problems: Problems, broken) -> None:
    for fact in archive.facts.values():
        _citations(fact.sources, archive, problems, broken)
        for op in fact.operations:
            if op not in archive.operations:
                _missing(problems, fact.locs["operations"], "operation", op, archive.operations, broken)
        if fact.measure is not None and fact.measure.metric not in archive.metrics:
            _missing(problems, fact.locs["measure"], "metric", fact.measure.metric, archive.metrics)


def _articles(archive: Archive, problems: Problems, broken) -> None:
    aliases = {alias: f.id for f in archive.facts.values() for alias in f.aliases}
    for article in archive.articles.values():
        for op in article.operations:
            if op not in archive.operations:
                _missing(problems, article.locs["operations"], "operation", op, archive.operations, broken)
        for ident, loc in article.cites:
            if ident in archive.facts:
                continue
            if ident in aliases:
                problems.warning(loc, f"[[fact:{ident}]] is an old id of '{aliases[ident]}'; cite the current id")
            else:
                _missing(problems, loc, "fact", ident, archive.facts, broken)


def _withdrawn(archive: Archive, problems: Problems) -> None:
    aliases = {alias: f.id for f in archive.facts.values() for alias in f.aliases}
    # A tombstone that shares its id with a live fact or alias is caught by
    # the pipeline's check that no two pages write one path.
    for entry in archive.withdrawn.values():
        target = entry.replaced_by
        if target is not None and target not in archive.facts:
            if target in aliases:
                problems.error(entry.locs["replaced_by"], f"replaced_by: '{target}' is an old id of '{aliases[target]}'; name the current id")
            else:
                _missing(problems, entry.locs["replaced_by"], "fact", target, archive.facts)


def _normal(text: str) -> str:
    # Quotes are checked modulo white space and typographic quote marks,
    # which copy-and-paste routinely changes.
    text = text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))
    return re.sub(r"\s+", " ", text).strip()


def _quotes_against_texts(archive: Archive, root: Path, problems: Problems) -> None:
    texts: dict[str, str] = {}
    for source in archive.sources.values():
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
    records = list(archive.facts.values()) + list(archive.operations.values())
    for rec in records:
        for cite in rec.sources:
            if cite.source in texts and _normal(cite.quote) not in texts[cite.source]:
                problems.error(cite.loc, f"quote does not occur in the text of source '{cite.source}'")


def _markdown_links(archive: Archive, problems: Problems) -> None:
    """Links the page would show dead (javascript:, data:, empty): the editor meant something else.

    The renderer already drops them; reporting them here tells the editor
    before a reader finds a link that goes nowhere.
    """
    converter = Markdown()
    fields = [(f.notes, f.locs.get("notes")) for f in archive.facts.values()]
    fields += [(o.summary, o.locs.get("summary")) for o in archive.operations.values()]
    fields += [(s.notes, s.locs.get("notes")) for s in archive.sources.values()]
    for text, loc in fields:
        if text:
            for href in _unsafe(converter, text):
                problems.error(loc, _unsafe_message(href))
    for article in archive.articles.values():
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
