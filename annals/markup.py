"""Markdown from content, rendered safely.

Content is never trusted as HTML: raw HTML is shown as text, links may only
be http(s), mailto or relative, external links get rel="noopener noreferrer",
and images from other hosts become plain links (a page asks nothing of the
network). `[[fact:id]]` becomes a numbered citation link.
"""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from typing import Callable

import markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

# A link from the server's root ('/facts/x/') is refused too: it breaks at a
# sub-path on GitHub Pages and in the offline edition.
_SAFE_SCHEME = re.compile(r"^(?:https?:|mailto:|#|\.|[^:/?#]+(?:[/?#]|$))", re.I)
_EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)

# `[[fact:id]]` or `[[fact:id|label]]`. Neither part holds a bracket, so a
# failed match ends at the next one: a run of openers that never close costs
# time in proportion to its length, not to its square.
FACT_REF = r"\[\[fact:([^\[\]|\n]*)(?:\|([^\[\]\n]*))?\]\]"

# Python-Markdown's parse is quadratic in places, in pure Python. Blocks are
# kept in a list it takes from the front, so each paragraph moves all those
# after it; a heading, rule or reference line splits its paragraph and copies
# the rest. Inline, every match (a link, an emphasis, an entity, an escape)
# copies the rest of its paragraph and hangs one more element on lists it
# walks; every link it finds makes it work out again, character by character,
# where each bracket of the paragraph closes; and it looks for the `)` of
# every `](` character by character. Twenty thousand `[a](`, or paragraphs of
# `a`, took minutes. So each of those costs is worked out first, in linear
# time: the block-level ones from the text, the inline ones from the blocks
# the parser makes of it (the paragraphs it will parse inline are not the
# text's: a list item after a line of text is that line's paragraph). Each is
# priced in nanoseconds of this machine (benchmarks/markdown_bombs.py prints
# the worst case per kilobyte), and a text over budget is refused, naming the
# cost that weighs most, at the place where it does.
BUDGET = (100_000_000, 10_000)  # nanoseconds any text may take at once, and per character of it


@dataclass(frozen=True)
class _Cost:
    ns: float  # per unit, measured
    what: str  # what to tell the editor


_BLOCKS = _Cost(2.0, "too many paragraphs, list items or blank lines in one text for the Markdown parser: "
                     "split it into several (an article into articles)")
_SPLITS = _Cost(2.5, "too many headings, rules ('---', '===') or reference definitions in one paragraph for the "
                     "Markdown parser: put a blank line before each")
_COPIES = _Cost(0.5, "too many inline marks (emphasis, code, links, entities such as &amp;, escapes, line breaks) "
                     "in one paragraph for the Markdown parser: split it into shorter paragraphs, "
                     "or write the text in a code block")
_ELEMENTS = _Cost(0.5, "too many links, emphasis and other inline marks in one text for the Markdown parser: "
                       "split it into several (an article into articles)")
_BRACKETS = _Cost(180.0, "too many links in too long a paragraph for the Markdown parser: split it into shorter "
                         "paragraphs (a blank line between them), or write \\[ for a plain '['")
_SCANS = _Cost(180.0, "links whose ')' comes late or never ('](' with no ')' after it, or a '(' or a quote left "
                      "open in the address): close each link, or write \\]( for a plain '](")
_SPANS = _Cost(0.1, "'[' left open, or nested too deep, in one paragraph for the Markdown parser: close each, "
                     "or write \\[ for a plain '['")
_NESTING = _Cost(40.0, "quotes nested too deep ('>' after '>') for the Markdown parser: nest fewer of them")
_KINDS = (_BLOCKS, _SPLITS, _NESTING, _COPIES, _ELEMENTS, _BRACKETS, _SPANS, _SCANS)

# A line that ends a block, at any depth of quotes; one that splits it; the quote marks that open a line.
_BLANK = re.compile(r"^[ \t>]*\r?$", re.M)
_QUOTED = re.compile(r"^[ \t]*>[ \t>]*", re.M)
QUOTE_DEPTH = 300  # about where Python-Markdown stops nesting quotes, short of the interpreter's recursion limit
_SPLIT = re.compile(r"^[ \t>]*(?:#|(?:[-*_=][ \t]*)+\r?$|\[[^\]\n]*\]:)", re.M)
# What inline parsing matches in a paragraph, each a copy of the rest of it.
_FACT_REF = re.compile(FACT_REF)
_ESCAPE = re.compile(r"\\[\\`*_{}\[\]()>#+.!-]")  # what Python-Markdown's escape takes (Markdown.ESCAPED_CHARS)
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z0-9]+);")
_BRACKET = re.compile(r"[\[\]]")
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*://[^<>]*>|<[^<> !]+@[^@<> ]+>")
_TICKS = re.compile(r"`+")
_MARK = re.compile(r"[*_]")
_LINK = re.compile(r"\]\(|\]\s?\[")  # an inline link or image, or a reference link: each found makes the brackets counted again
_SHORT = re.compile(r"\[([^\[\]]*)\]")  # a reference link by its label alone, if the label is defined
_OPENER = re.compile(r"\]\(")
_SIMPLE = re.compile(r"\]\([^()\"'<>\\]*\)")  # an address the parser reads up to its `)` at once


class _Bill:
    """What a text would cost, by kind, and where each cost weighs most or first passes the whole budget."""

    def __init__(self, length: int):
        self.budget = BUDGET[0] + BUDGET[1] * length
        self.units = dict.fromkeys(_KINDS, 0)
        self.worst: dict[_Cost, tuple[int, int | str]] = {}
        self.over: dict[_Cost, int | str] = {}

    def add(self, kind: _Cost, units: int, at: int | str) -> None:
        """Units of a kind, at an offset of the text or in a paragraph the parser made (found at the end)."""
        self.units[kind] += units
        if units > self.worst.get(kind, (0, 0))[0]:
            self.worst[kind] = (units, at)
        if kind not in self.over and self.units[kind] * kind.ns > self.budget:
            self.over[kind] = at

    def total(self) -> float:
        return sum(units * kind.ns for kind, units in self.units.items())

    def refusal(self, text: str) -> tuple[int, str]:
        kind = max(_KINDS, key=lambda k: self.units[k] * k.ns)
        at = self.over.get(kind, self.worst.get(kind, (0, 0))[1])
        return (at if isinstance(at, int) else _offset_of(text, at)), kind.what


def _offset_of(text: str, paragraph: str) -> int:
    """Where a paragraph the parser made starts in the text, as near as its first line tells (quote marks
    and indents are gone from it)."""
    line = next((s.strip() for s in paragraph.split("\n") if s.strip()), "")
    return max(text.find(line[:60]), 0) if line else 0


def _block_costs(text: str, bill: _Bill) -> None:
    """Blocks in one list, taken from its front; lines that split a block, each a copy of its rest;
    quotes in quotes."""
    ends = [m.start() for m in _BLANK.finditer(text)] + [len(text)]
    splits = [m.start() for m in _SPLIT.finditer(text)]
    start, at = 0, 0
    for blocks, end in enumerate(ends):
        bill.add(_BLOCKS, 2 * blocks + 1, end)  # the n-th block makes n² in all
        count = 0
        while at < len(splits) and splits[at] < end:
            at, count = at + 1, count + 1
        if count:
            bill.add(_SPLITS, count * (end - start), splits[at - 1])
        start = end
    for m in _QUOTED.finditer(text):
        # Each level of quote cleans its lines and parses them again.
        depth = min(m.group().count(">"), QUOTE_DEPTH)
        if depth > 1:
            end = text.find("\n", m.end())
            bill.add(_NESTING, depth * ((len(text) if end < 0 else end) - m.start()), m.start())


def _inline_costs(paragraph: str, references, bill: _Bill) -> int:
    """What inline parsing one paragraph costs; returns the elements it makes."""
    size = len(paragraph)
    # An escaped mark (\\[, \\*) is text to every later pattern: blanked out, so that it counts for none.
    plain, escapes = _ESCAPE.subn("\0\0", paragraph)
    facts = len(_FACT_REF.findall(plain))
    links = len(_LINK.findall(plain)) + sum(1 for m in _SHORT.finditer(plain) if m.group(1).strip().lower() in references)
    links = max(min(links, plain.count("[") - 2 * facts), 0)
    elements = facts + links + len(_TICKS.findall(plain)) // 2 + len(_MARK.findall(plain)) // 2 + len(
        _AUTOLINK.findall(plain)) + plain.count("  \n")
    copies = elements + 2 * escapes + len(_ENTITY.findall(plain))  # an escape is stashed, and then put back
    bill.add(_COPIES, copies * size + elements * elements, paragraph)
    if "[" in plain:
        # Each bracket pattern (link, reference, short reference: 3, and 3 for images) works the brackets
        # out once, and again after each link it finds; and copies what each '[' holds.
        brackets = plain.count("[") + plain.count("]")
        bill.add(_BRACKETS, (links + (6 if "![" in plain else 3)) * (size + 5 * brackets), paragraph)
        bill.add(_SPANS, _bracket_spans(plain), paragraph)
    scanned = 0
    for opener in _OPENER.finditer(plain):
        simple = _SIMPLE.match(plain, opener.start())
        scanned += simple.end() - opener.start() if simple else size - opener.start()
    if scanned:
        bill.add(_SCANS, scanned, paragraph)
    return elements


def _bracket_spans(plain: str) -> int:
    """Characters from each '[' to the ']' that closes it, or to the end for one never closed."""
    opened: list[int] = []
    spans = 0
    for m in _BRACKET.finditer(plain):
        if m.group() == "[":
            opened.append(m.start())
        elif opened:
            spans += m.start() - opened.pop()
    return spans + sum(len(plain) - at for at in opened)


def _inline_texts(root):
    """Every text of the tree that inline parsing will read, in the order of the page."""
    for el in root.iter():
        for text in (el.text, el.tail):
            if text and not isinstance(text, AtomicString):
                yield text


def _safe(url: str) -> bool:
    """Judge a URL as a browser reads it.

    The serializer keeps character references like `&#x09;` as written, and
    browsers decode them and then drop tabs and newlines from URLs, so
    `java&#x09;script:` would run; decode and strip the same way first.
    """
    plain = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(url))
    return bool(_SAFE_SCHEME.match(plain)) and not plain.lower().startswith("data:")


@dataclass
class Resolver:
    """What a rendering needs from its page: how to link a fact, and what it cited."""

    fact_link: Callable[[str], tuple[str, str] | None]  # id -> (href, title) or None
    cited: list[str] = field(default_factory=list)
    # The facts cited by number, in the order of their first numbered citation: a labelled
    # citation ([[fact:x|label]]) shows its label, so it takes no number.
    numbered: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)


class _FactRef(InlineProcessor):
    def __init__(self, md, ext):
        super().__init__(FACT_REF, md)
        self.ext = ext

    def handleMatch(self, m, data):
        resolver: Resolver = self.ext.resolver
        ident, label = m.group(1).strip(), m.group(2)
        found = resolver.fact_link(ident)
        if found is None:
            el = etree.Element("span")
            el.set("class", "broken-ref")
            el.text = f"[unknown fact {ident}]"
            return el, m.start(0), m.end(0)
        href, title = found
        if ident not in resolver.cited:
            resolver.cited.append(ident)
        el = etree.Element("a")
        el.set("href", href)
        el.set("title", title)
        if label:
            el.set("class", "fact-ref")
            el.text = label.strip()
        else:
            el.set("class", "fact-ref cite-mark")
            if ident not in resolver.numbered:
                resolver.numbered.append(ident)
            el.text = f"[{resolver.numbered.index(ident) + 1}]"
        return el, m.start(0), m.end(0)


class _SafeLinks(Treeprocessor):
    def __init__(self, md, ext):
        super().__init__(md)
        self.ext = ext

    def run(self, root):
        resolver: Resolver = self.ext.resolver
        for parent in root.iter():
            for i, el in enumerate(list(parent)):
                if el.tag == "a":
                    href = el.get("href", "")
                    if not _safe(href):
                        resolver.unsafe.append(href)
                        del el.attrib["href"]
                    elif _EXTERNAL.match(href):
                        el.set("rel", "noopener noreferrer")
                        el.set("class", (el.get("class", "") + " external").strip())
                elif el.tag == "img":
                    src = el.get("src", "")
                    link = etree.Element("a")
                    link.text = el.get("alt") or src
                    if _safe(src):
                        link.set("href", src)
                        if _EXTERNAL.match(src):
                            link.set("rel", "noopener noreferrer")
                    else:
                        resolver.unsafe.append(src)
                    link.tail = el.tail
                    parent[i] = link


class _Annals(Extension):
    def __init__(self):
        super().__init__()
        self.resolver = Resolver(lambda ident: None)

    def extendMarkdown(self, md):
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.register(_FactRef(md, self), "annals_fact", 180)
        md.treeprocessors.register(_SafeLinks(md, self), "annals_safe_links", 0)


class Markdown:
    """One reusable converter per build (building a Markdown instance is not cheap)."""

    def __init__(self):
        self._ext = _Annals()
        self._md = markdown.Markdown(extensions=[self._ext], output_format="html")

    def too_costly(self, text: str) -> tuple[int, str] | None:
        """(offset, what) if rendering `text` would take Python-Markdown too long, or None; in linear time."""
        bill = _Bill(len(text))
        _block_costs(text, bill)
        if bill.total() <= bill.budget and text.strip():
            # The blocks as the parser makes them, and so the paragraphs its inline parsing would read.
            md = self._md.reset()
            lines = text.split("\n")
            for step in md.preprocessors:
                lines = step.run(lines)
            elements = 0
            for paragraph in _inline_texts(md.parser.parseDocument(lines).getroot()):
                made = _inline_costs(paragraph, md.references, bill)
                bill.add(_ELEMENTS, 2 * elements * made + made * made, paragraph)  # all of them in one list
                elements += made
            md.reset()
        return bill.refusal(text) if bill.total() > bill.budget else None

    def render(self, text: str, resolver: Resolver) -> str:
        self._ext.resolver = resolver
        try:
            return self._md.reset().convert(text)
        finally:
            self._ext.resolver = Resolver(lambda ident: None)
