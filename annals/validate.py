"""Cross-reference checks: every id a record names must exist.

Runs on the whole Archive after loading; each check reports at the line where
the reference was written, and all of them run, whatever the others found.
"""
from __future__ import annotations

import bisect
import functools
import re
from pathlib import Path

from .markup import FACT_REF as _FACT_REF, Markdown, Resolver
from .model import Archive, Article, Citation, Fact, Operation, Source, Withdrawn, upward
from .problems import Loc, Problem, Problems
from .schema import did_you_mean

FACT_REF = re.compile(_FACT_REF)

QUOTE_MAX = 300
SUGGEST = 100  # unknown ids of a run given a suggestion (see _unknown_fact)


def validate(archive: Archive, root: Path, problems: Problems, only: set[str] | None = None) -> None:
    """Every check, of every record and of what did parse of records with errors (archive.broken),
    which never reach the site; with `only`, the checks of each fact run for those facts alone.

    The preview passes `only` when nothing but those facts changed since a
    build that passed: every other fact's checks would find what they found then.
    """
    _group_words_as_fields(archive, problems)
    broken = _broken(archive)
    facts = _all(archive, archive.facts, Fact) if only is None else [archive.facts[i] for i in sorted(only)
                                                                       if i in archive.facts]
    _operations(archive, problems, broken)
    _facts(archive, facts, problems, broken)
    _articles(archive, problems, broken)
    _withdrawn(archive, problems, broken)
    _quotes_against_texts(archive, facts, root, problems)
    _archived_copies(archive, problems)
    _figures(archive, facts, problems)
    _replacements(archive, problems, broken)
    _markdown(archive, facts, root, problems, broken, others=only is None)


_UNKNOWN_FIELD = re.compile(r"unknown field '([^']*)' in (fact|article)\b")


def _group_words_as_fields(archive: Archive, problems: Problems) -> None:
    """A fact or an article that names its groups by the archive's own word for them (`outbreaks:`)
    is told the field is `operations:`, which the loader, reading each file alone, cannot know."""
    groups = archive.site.groups if archive.site is not None else None
    if groups is None:
        return
    words = {groups.singular, groups.plural}
    for at, problem in enumerate(problems.items):
        found = _UNKNOWN_FIELD.match(problem.message)
        if found and found.group(1) in words:
            problems.items[at] = Problem(problem.loc, (
                f"unknown field '{found.group(1)}' in {found.group(2)}: a {found.group(2)} names its "
                f"{groups.plural} under `operations:`, e.g. operations: [<id of a file in content/operations/>]"),
                problem.severity)


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
        chain = upward(op.id, archive.operations.get)
        last = archive.operations[chain[-1]].parent
        if last in chain:
            problems.error(op.locs["parent"], f"operation parents form a loop: {' → '.join(chain + [last])}")


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

    A count of cases or of visitors is never below zero; a published "-5 cases"
    is a sign typed by mistake, or a change that belongs to a metric of its own.
    """
    for fact in facts:
        measure = fact.measure
        if measure is not None and measure.is_range and measure.approx != "exact":
            problems.error(measure.locs.get("approx", measure.value_loc or fact.loc),
                           f"approx: a range gives its own bounds; leave out `approx: {measure.approx}` "
                           "(\"over 1,200\" is at-least 1200, \"1,200 to 1,500\" is {low: 1200, high: 1500})")
        metric = archive.metrics.get(measure.metric) if measure is not None else None
        least = measure.least if metric is not None else None
        if least is None or metric.negative == "allowed" or least >= 0:
            continue  # no figure, or an unknown metric: reported as that
        problems.error(measure.value_loc or fact.locs.get("measure", fact.loc),
                       f"value: {least} is below zero, and metric '{metric.id}' counts {metric.unit}, "
                       f"which cannot be fewer than none; if its figures may be negative, write `negative: allowed` "
                       f"under '{metric.id}' in content/metrics.yaml")


def _replacements(archive: Archive, problems: Problems, broken) -> None:
    """A deprecated fact's `replaced_by` names a live fact other than itself; no other fact has one.

    Every fact, whatever changed: a save of the fact it names may remove it."""
    old_ids = _old_ids(archive)
    for fact in _all(archive, archive.facts, Fact):
        target, loc = fact.replaced_by, fact.locs.get("replaced_by")
        if target is None or loc is None:
            continue
        if fact.rank != "deprecated" and archive.facts.get(fact.id) is fact:  # a broken file's rank may not have read
            problems.error(loc, f"replaced_by: only a deprecated fact is replaced; add `rank: deprecated` "
                                "and a rank_reason, or leave replaced_by out")
        elif target == fact.id:
            problems.error(loc, "replaced_by: names the fact itself")
        elif target not in archive.facts:
            if target in old_ids():
                problems.error(loc, f"replaced_by: '{target}' is an old id of '{old_ids()[target]}'; name the current id")
            else:
                _missing(problems, loc, "fact", target, [i for i in archive.facts if i != fact.id], broken)


def _old_ids(archive: Archive):
    """Old id -> current id, worked out the first time a reference names no live fact: most never do."""
    return functools.cache(lambda: {alias: f.id for f in archive.facts.values() for alias in f.aliases})


def _articles(archive: Archive, problems: Problems, broken) -> None:
    old_ids, unknown = _old_ids(archive), _unknown_fact(archive)
    for article in _all(archive, archive.articles, Article):
        for op in article.operations:
            if op not in archive.operations:
                _missing(problems, article.locs["operations"], "operation", op, archive.operations, broken)
        for ident, loc in article.cites:
            if ident in archive.facts:
                continue
            if ident in old_ids():
                problems.warning(loc, f"[[fact:{ident}]] is an old id of '{old_ids()[ident]}'; cite the current id")
            elif ("fact", ident) not in broken:
                problems.error(loc, unknown(ident))


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


def _archived_copies(archive: Archive, problems: Problems) -> None:
    """A date of an archived copy names a copy: without its address, it dates nothing."""
    for source in _all(archive, archive.sources, Source):
        if source.archived_date is not None and source.archived is None:
            problems.error(source.locs["archived_date"], "archived_date: give the archived copy's address too "
                           "(archived: https://web.archive.org/web/...)")


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


def _markdown_fields(archive: Archive, facts, others: bool):
    """Every Markdown text of the archive: (text, the record's file, the line its text starts at or near,
    and whether that line is exact, as an article body's is, or the field's, as in a YAML file)."""
    for fact in facts:
        yield fact.notes, fact.locs.get("notes"), False
    if not others:
        return  # only facts changed: every other record's text is as it was checked
    for op in _all(archive, archive.operations, Operation):
        yield op.summary, op.locs.get("summary"), False
    for source in _all(archive, archive.sources, Source):
        yield source.notes, source.locs.get("notes"), False
    for entry in _all(archive, archive.withdrawn, Withdrawn):
        yield entry.reason, entry.locs.get("reason"), False
    for article in _all(archive, archive.articles, Article):
        yield article.body, Loc(article.loc.path, article.body_line), True


def _markdown(archive: Archive, facts, root: Path, problems: Problems, broken, others: bool = True) -> None:
    """Every Markdown text checked before anything is rendered: what it costs to parse, its links, its citations.

    A link the page would show dead (javascript:, data:, empty) is an error, as
    is a citation of no fact: the editor meant something else, and a reader
    would find it first. An article's citations were found by the loader, with
    their lines (Article.cites); the other texts' are found here.
    """
    converter = Markdown()
    old_ids, unknown = _old_ids(archive), _unknown_fact(archive)
    for text, loc, exact in _markdown_fields(archive, facts, others):
        if not text or loc is None:
            continue
        lines = _Lines(root, loc, text, exact)
        costly = converter.too_costly(text)
        if costly is not None:
            problems.error(lines.at(costly[0]), costly[1])
            continue  # not parsed: that is what would take too long
        after = 0  # links are reported in the order of the text, each found after the one before
        for href in _unsafe(converter, text):
            key = href if href.strip() else "]()"
            at = text.find(key, after)
            at = text.find(key) if at < 0 else at
            after = max(at, 0) + 1
            problems.error(lines.at(at, key), _unsafe_message(href))
        if exact:
            continue
        for match in FACT_REF.finditer(text):
            ident = match.group(1).strip()
            if ident in archive.facts or ("fact", ident) in broken:
                continue
            at = lines.at(match.start(), match.group(0))
            if ident in old_ids():
                problems.warning(at, f"[[fact:{ident}]] is an old id of '{old_ids()[ident]}'; cite the current id")
            else:
                problems.error(at, unknown(ident))


def _unknown_fact(archive: Archive):
    """The message for a citation of no fact, worked out once per id; a suggestion for the first
    SUGGEST ids only, as each compares the id with every fact's (a text may cite thousands)."""
    @functools.cache
    def message(ident: str) -> str:
        close = did_you_mean(ident, archive.facts) if message.cache_info().currsize < SUGGEST else ""
        return f"unknown fact '{ident}'{close}"
    return message


class _Lines:
    """The lines of the file a Markdown text was read from, to say where in it a problem is.

    An article's body is its file from `loc.line` on. A YAML field's text was
    folded or unquoted by the parser, so a snippet of it is found again in the
    file (read once), from the line its text's own line breaks put it at least
    (or from the field's line, if quoting made more of them than the file has).
    """

    def __init__(self, root: Path, loc: Loc, text: str, exact: bool):
        self.root, self.loc, self.text, self.exact = root, loc, text, exact
        self.breaks: list[int] | None = None
        self.file: tuple[str, list[int]] | None = None

    def at(self, offset: int, snippet: str | None = None) -> Loc:
        if self.breaks is None:
            self.breaks = [m.start() for m in re.finditer("\n", self.text)]
        before = bisect.bisect_left(self.breaks, max(offset, 0))  # line breaks before the offset
        if self.exact:
            return Loc(self.loc.path, self.loc.line + before)
        if not snippet or self._read() is None:
            return self.loc
        whole, starts = self.file
        for line in (self.loc.line + before, self.loc.line):
            found = whole.find(snippet, starts[min(max(line, 1), len(starts)) - 1])
            if found >= 0:
                return Loc(self.loc.path, bisect.bisect_right(starts, found))
        return self.loc

    def _read(self):
        if self.file is None:
            try:
                whole = (self.root / self.loc.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            self.file = whole, [0] + [m.end() for m in re.finditer("\n", whole)]
        return self.file


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
