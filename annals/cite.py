"""How a fact is cited: plain text, biblatex, CSL-JSON, RIS, and the metadata reference managers read.

Every format names the same things: who publishes the archive, the claim as
its title, the permalink, the period the fact covers, who produced the figure,
the sources that reported it, and the date the fact last changed. That date
is the version a citer saw, so it is both the item's date and its access date
(`urldate`); when git cannot vouch for it (see history) it is left out, since
a guessed date would be worse than none.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

from . import urls
from .model import Fact, Site, Source
from .periods import Period, Point


@dataclass(frozen=True)
class Cited:
    """Everything a citation of one fact names."""

    site: Site
    fact: Fact
    url: str                       # the absolute permalink
    sources: tuple[Source, ...]    # each source once, in the order the fact cites them
    changed: str | None = None     # 'YYYY-MM-DDTHH:MM:SSZ' of the last commit, or None

    @property
    def author(self) -> str:
        return self.site.publisher or self.site.title

    @property
    def day(self) -> Point | None:
        if self.changed is None:
            return None
        y, m, d = (int(part) for part in self.changed[:10].split("-"))
        return Point(y, m, d)

    @cached_property
    def note(self) -> str:
        """`describe(self)` in plain text, worked out once for the three formats of a page that write it."""
        return describe(self)


def cited(r, ident: str) -> Cited:
    """Gather a fact's citation through a page's Reader, so each lookup is a dependency."""
    site, fact = r.get("site"), r.get("fact", ident)
    sources = tuple(r.get("source", s) for s in dict.fromkeys(c.source for c in fact.sources))
    return Cited(site, fact, urls.absolute(site.base_url, urls.fact(ident)), sources, r.get("changed", ident))


_SPACES = re.compile(r"\s+")


def _one_line(text: str) -> str:
    # Most text is on one line already, and the regex was a third of citing a fact. Every
    # character \s matches but the space is unprintable, so this text has nothing to fold.
    if text.isprintable() and "  " not in text:
        return text.strip()
    return _SPACES.sub(" ", text).strip()


def _same(text: str) -> str:
    return text


def source_text(source: Source, esc=_same, url=_same) -> str:
    """'Title, Publisher, Author, June 2017, URL': a source as a reference names it.

    `esc` and `url` write text and an address for the target format (biblatex escapes both).
    """
    parts = [esc(_one_line(p)) for p in (source.title, source.publisher, source.author,
                                          source.published.label() if source.published else None) if p]
    if source.url:
        parts.append(url(source.url))
    return ", ".join(parts)


def _origin(c: Cited) -> str | None:
    f = c.fact
    if f.speaker:
        return f"Statement by {f.speaker}" + (f", {f.speaker_role}" if f.speaker_role else "")
    if f.originator:
        return f"Figure from {f.originator}"
    return None


def describe(c: Cited, esc=_same, url=_same) -> str:
    """Period, originator and sources as one sentence each: the fields no format has a slot for."""
    parts = [f"Fact for {c.fact.when.label()}." if c.fact.when else "Undated fact."]
    origin = _origin(c)
    if origin:
        parts.append(_one_line(origin) + ".")
    label = "Source" if len(c.sources) == 1 else "Sources"
    sources = "; ".join(source_text(s, esc, url) for s in c.sources)
    return " ".join(esc(p) for p in parts) + f" {label}: {sources}."


def plain(c: Cited) -> str:
    """A reference a reader can paste into a footnote."""
    parts = [f"{c.author}.", f"“{_one_line(c.fact.claim)}”"]
    if c.author != c.site.title:
        parts.append(f"In {c.site.title}.")
    parts.append(c.note)
    if c.day:
        parts.append(f"Last changed {c.day.label()}.")
    parts.append(c.url)
    return " ".join(parts)


# -- biblatex --------------------------------------------------------------------

_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$",
        "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


_TEX_TABLE = str.maketrans(_TEX)


def _tex(text: str) -> str:
    return _one_line(text).translate(_TEX_TABLE)


def _tex_url(url: str) -> str:
    # biber reads url verbatim, so only what would unbalance the entry is percent-encoded.
    return url.replace("%", "%25").replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")


def biblatex(c: Cited) -> str:
    fields = [("author", "{" + _tex(c.author) + "}"),  # double braces: a corporate name, not "Last, First"
              ("title", _tex(c.fact.claim))]
    if c.author != c.site.title:
        fields.append(("organization", _tex(c.site.title)))
    if c.day:
        fields.append(("date", c.day.iso()))
    fields.append(("url", _tex_url(c.url)))
    if c.day:
        fields.append(("urldate", c.day.iso()))
    fields.append(("note", describe(c, _tex, lambda u: r"\url{" + _tex_url(u) + "}")))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@online{{{c.fact.id},\n{body}\n}}\n"


# -- CSL-JSON --------------------------------------------------------------------

def _date_parts(point: Point) -> list[int]:
    return [p for p in (point.year, point.month, point.day) if p is not None]


def _csl_period(period: Period) -> dict:
    parts = [_date_parts(period.start)]
    if period.is_range:
        parts.append(_date_parts(period.end))
    return {"date-parts": parts}


def csl(c: Cited) -> dict:
    item = {"id": c.fact.id, "type": "webpage", "title": _one_line(c.fact.claim),
            "author": [{"literal": c.author}], "container-title": c.site.title,
            "URL": c.url, "language": c.site.language, "note": c.note}
    if c.site.publisher:
        item["publisher"] = c.site.publisher
    if c.day:
        item["issued"] = item["accessed"] = {"date-parts": [_date_parts(c.day)]}
    if c.fact.when:
        item["event-date"] = _csl_period(c.fact.when)
    return item


def csl_json(c: Cited) -> str:
    return _indented([csl(c)]) + "\n"


_scalar = json.JSONEncoder(ensure_ascii=False).encode


def _indented(value, margin: str = "") -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2)`, byte for byte, with json's fast encoder for
    each value: with `indent`, json encodes in Python, which took a tenth of a fact page's time."""
    inner = margin + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (f"{inner}{_scalar(str(k))}: {_indented(v, inner)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + margin + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + _indented(v, inner) for v in value) + "\n" + margin + "]"
    return _scalar(value)


# -- RIS -------------------------------------------------------------------------

def ris(c: Cited) -> str:
    lines = [("TY", "ELEC"), ("ID", c.fact.id), ("AU", c.author), ("TI", c.fact.claim), ("T2", c.site.title)]
    if c.site.publisher:
        lines.append(("PB", c.site.publisher))
    if c.day:
        slashed = f"{c.day.year:04d}/{c.day.month:02d}/{c.day.day:02d}"
        lines += [("PY", f"{c.day.year:04d}"), ("DA", slashed), ("Y2", slashed)]
    lines += [("UR", c.url), ("LA", c.site.language), ("N1", c.note), ("ER", "")]
    # Lines end in LF: the text is shown in a page, where HTML reads CRLF as LF anyway.
    return "".join(f"{tag}  - {_one_line(value)}\n" for tag, value in lines)


# -- what Zotero, Google Scholar and search engines read from the page -------------

def meta_tags(c: Cited) -> list[tuple[str, str]]:
    """(name, content) of the <meta> tags: Highwire Press `citation_*` and Dublin Core `DC.*`."""
    claim = _one_line(c.fact.claim)
    tags = [("citation_title", claim), ("citation_author", c.author)]
    if c.day:
        tags.append(("citation_date", f"{c.day.year:04d}/{c.day.month:02d}/{c.day.day:02d}"))
    tags += [("citation_public_url", c.url), ("citation_publisher", c.site.publisher or c.site.title),
             ("citation_language", c.site.language),
             ("DC.title", claim), ("DC.creator", c.author), ("DC.publisher", c.site.publisher or c.site.title)]
    if c.day:
        tags.append(("DC.date", c.day.iso()))
    tags += [("DC.identifier", c.url), ("DC.type", "Text"), ("DC.format", "text/html"),
             ("DC.language", c.site.language), ("DC.rights", c.site.licence)]
    if c.fact.when:
        tags.append(("DC.coverage", c.fact.when.iso()))
    tags += [("DC.coverage", place) for place in c.fact.places]
    tags += [("DC.source", source_text(s)) for s in c.sources]
    return tags


def json_ld(c: Cited) -> dict:
    """schema.org: the page, and the claim it is about with the works it appeared in."""
    claim: dict = {"@type": "Claim", "text": _one_line(c.fact.claim),
                   "appearance": [_work(s) for s in c.sources]}
    if c.fact.when:
        claim["temporalCoverage"] = c.fact.when.iso()
    if c.fact.places:
        claim["spatialCoverage"] = [{"@type": "Place", "name": p} for p in c.fact.places]
    if c.fact.speaker or c.fact.originator:
        claim["author"] = {"name": c.fact.speaker or c.fact.originator}
    page = {"@context": "https://schema.org", "@type": "WebPage", "@id": c.url, "url": c.url,
            "name": _one_line(c.fact.claim), "inLanguage": c.site.language, "license": c.site.licence,
            "isPartOf": {"@type": "WebSite", "name": c.site.title, "url": c.site.base_url},
            "publisher": {"@type": "Organization", "name": c.site.publisher or c.site.title},
            "mainEntity": claim}
    if c.day:
        page["dateModified"] = c.day.iso()
    return page


def _work(source: Source) -> dict:
    work = {"@type": "CreativeWork", "name": source.title}
    if source.publisher:
        work["publisher"] = {"@type": "Organization", "name": source.publisher}
    if source.author:
        work["author"] = {"name": source.author}
    if source.published:
        work["datePublished"] = source.published.iso()
    if source.url:
        work["url"] = source.url
    return work
