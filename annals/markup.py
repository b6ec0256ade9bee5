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

# A link from the server's root ('/facts/x/') is refused too: it breaks at a
# sub-path on GitHub Pages and in the offline edition.
_SAFE_SCHEME = re.compile(r"^(?:https?:|mailto:|#|\.|[^:/?#]+(?:[/?#]|$))", re.I)
_EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)

# `[[fact:id]]` or `[[fact:id|label]]`. Neither part holds a bracket, so a
# failed match ends at the next one: a run of openers that never close costs
# time in proportion to its length, not to its square.
FACT_REF = r"\[\[fact:([^\[\]|\n]*)(?:\|([^\[\]\n]*))?\]\]"

# Python-Markdown looks for the `)` of every `](` character by character to
# the end of its paragraph: twenty thousand that never close took minutes.
# What a paragraph's links would cost it is worked out first, in linear time.
LINK_SCAN_LIMIT = 1_000_000  # characters scanned: about a twentieth of a second
_OPENERS = re.compile(r"\]\(")
_CLOSE = re.compile(r"\)")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")


def costly_links(text: str) -> tuple[int, int] | None:
    """(offset, openers) of the first paragraph whose links would cost more than the limit to parse, or None."""
    start = 0
    for end in [m.start() for m in _PARAGRAPH.finditer(text)] + [len(text)]:
        closes = [m.start() for m in _CLOSE.finditer(text, start, end)]
        scanned, at = 0, 0
        for opener in _OPENERS.finditer(text, start, end):
            while at < len(closes) and closes[at] < opener.end():
                at += 1
            scanned += (closes[at] if at < len(closes) else end) - opener.end()
            if scanned > LINK_SCAN_LIMIT:
                return opener.start(), len(_OPENERS.findall(text, start, end))
        start = end
    return None


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
            el.text = f"[{resolver.cited.index(ident) + 1}]"
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

    def render(self, text: str, resolver: Resolver) -> str:
        self._ext.resolver = resolver
        try:
            return self._md.reset().convert(text)
        finally:
            self._ext.resolver = Resolver(lambda ident: None)
