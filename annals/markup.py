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
        super().__init__(r"\[\[fact:([^\]\|\n]*)(?:\|([^\]\n]*))?\]\]", md)
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
