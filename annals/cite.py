"""How a page is cited: plain text, biblatex, CSL-JSON, RIS, {{cite web}}, and what reference managers read.

A fact and an article are each one `Work`, and every format writes the same
Work: the title (one line, no final full stop: styles add their own, and a
stop of the title's own came out doubled, "...in 2015., Annals of..."), who
wrote it, the archive it is part of, the date of the version cited, the
permalink and, for a fact, the period it covers, who produced the figure and
the sources that reported it.

A fact's date is the date it last changed: the version a citer saw, so it is
both the item's date and its access date (`urldate`); when git cannot vouch for
it (see history) it is left out, since a guessed date would be worse than none.
A fact's author is the archive, one organisation, never split into a person.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property

from . import urls, versions
from .model import Fact, Site, Source
from .periods import Period, Point, single


@dataclass(frozen=True)
class Work:
    """One page as every citation format names it."""

    kind: str                         # "fact" | "article"
    key: str                          # the citation key: the fact's id, the article's slug
    title: str                        # as a reference's title: see `reference_title`
    url: str                          # the absolute permalink
    site: Site
    people: tuple[str, ...] = ()      # authors as written; none: the archive is the author
    date: Period | None = None        # the version cited
    accessed: Point | None = None     # a fact's last change: the version the citer saw
    note: str | None = None           # the sentence no format has a slot for (see `describe`)
    abstract: str | None = None       # an article's one-sentence summary
    event: Period | None = None       # the period a fact covers
    quote: str | None = None          # the one quote a fact stands on, when it stands on one
    cited: "Cited | None" = field(default=None, compare=False, repr=False)  # a fact's, for biblatex's note
    version: int | None = None        # a version of a fact (see versions): its number; its date is `date`

    @property
    def archive(self) -> str:
        """The archive as an author or publisher: one organisation."""
        return self.site.publisher or self.site.title

    @property
    def authors(self) -> tuple[str, ...]:
        return self.people or (self.archive,)


@dataclass(frozen=True)
class Cited:
    """Everything a citation of one fact names."""

    site: Site
    fact: Fact
    url: str                       # the absolute permalink
    sources: tuple[Source, ...]    # each source once, in the order the fact cites them
    changed: str | None = None     # 'YYYY-MM-DDTHH:MM:SSZ' of the last commit, or None
    version: int | None = None     # when citing one version of the fact (its page), its number

    @property
    def day(self) -> Point | None:
        if self.changed is None:
            return None
        y, m, d = (int(part) for part in self.changed[:10].split("-"))
        return Point(y, m, d)

    @cached_property
    def note(self) -> str:
        """`describe(self)` in plain text, worked out once for the formats of a page that write it."""
        return describe(self)

    @cached_property
    def work(self) -> Work:
        f, day = self.fact, self.day
        # {{cite web}}'s quote= is the one quote the fact stands on; of several, none is the one.
        quote = _one_line(f.sources[0].quote) if len(f.sources) == 1 and f.sources[0].quote else None
        return Work("version" if self.version else "fact", f"{f.id}-v{self.version}" if self.version else f.id,
                    # a version never changes, so no day of reading it says more than its own date
                    reference_title(f.claim), self.url, self.site, (), single(day) if day else None,
                    None if self.version else day,
                    self.note, None, f.when, quote, self, self.version)


def cited(r, ident: str) -> Cited:
    """Gather a fact's citation through a page's Reader, so each lookup is a dependency."""
    site, fact = r.get("site"), r.get("fact", ident)
    sources = tuple(r.get("source", s) for s in dict.fromkeys(c.source for c in fact.sources))
    return Cited(site, fact, urls.absolute(site.base_url, urls.fact(ident)), sources, r.get("changed", ident))


def version_work(r, ident: str, number: int) -> Work:
    """One version of a fact as a reference names it: its own page, dated by its commit."""
    site, v = r.get("site"), r.get("version", ident, number)
    url = urls.absolute(site.base_url, urls.version(ident, number))
    if v.record is None:  # a file that could not be read as a fact: named by its id
        return Work("version", f"{ident}-v{number}", f"Fact {ident}", url, site, (), single(v.day), version=number)
    sources = tuple(s for s in (_source(r, i) for i in dict.fromkeys(c.source for c in v.record.sources)) if s)
    return Cited(site, v.record, url, sources, v.date, number).work


def _source(r, ident: str) -> Source | None:
    try:
        return r.get("source", ident)
    except KeyError:  # cited by an old version, gone from the archive since
        return None


def version_citation(r, ident: str, number: int) -> dict:
    """What a version page's head and Cite block show."""
    w = version_work(r, ident, number)
    return _formats(w, json_ld(w.cited) if w.cited else _page(w, "WebPage"))


def article_work(r, slug: str) -> Work:
    """An article as a reference names it: by its authors, dated by its own date; read when, the citer says."""
    site, a = r.get("site"), r.get("article", slug)
    return Work("article", slug, reference_title(a.title), urls.absolute(site.base_url, urls.article(slug)), site,
                tuple(_one_line(p) for p in a.authors), a.date, abstract=_one_line(a.summary) if a.summary else None)


def fact_citation(r, ident: str) -> dict:
    """What a fact page's head and Cite block show: the permalink's citation, and the version's
    page that holds what the page shows now, when it is committed as it stands."""
    c = cited(r, ident)
    found = _formats(c.work, json_ld(c))
    now = versions.current(r, ident)
    if now is not None:
        w = version_work(r, now.fact, now.number)
        found["version"] = {"url": w.url, "path": now.path_to, "text": plain(w), "day": now.day, "number": now.number}
    return found


def article_citation(r, slug: str) -> dict:
    """What an article page's head and Cite block show."""
    w = article_work(r, slug)
    return _formats(w, article_json_ld(w))


def _formats(w: Work, linked_data: dict) -> dict:
    return {"what": w.kind, "text": plain(w), "biblatex": biblatex(w), "csl_json": csl_json(w), "ris": ris(w),
            "wikitext": cite_web(w), "meta": meta_tags(w), "json_ld": linked_data, "changed": w.accessed,
            "version": None}


# A final full stop, before any closing quotes or brackets, unless it ends an ellipsis or an
# initialism ("U.S."), where taking it away would change the words rather than the punctuation.
_FINAL_STOP = re.compile(r"(?<!\.)(?<!\b[A-Za-z]\.[A-Za-z])\.(?=[\"”’)\]]*$)")


def reference_title(text: str) -> str:
    """A title as references write it: on one line, without the full stop that ends the sentence."""
    text = _one_line(text)
    return _FINAL_STOP.sub("", text, count=1) if text[-1:] in _MAY_END_IN_A_STOP else text


_MAY_END_IN_A_STOP = frozenset('."”’)]')


_ENDED = re.compile(r"[.?!…][\"”’)\]]*$")


def _sentence(text: str) -> str:
    """`text` ending as a sentence does: a full stop added unless it ends in one, or in ? ! or …."""
    return text if _ENDED.search(text) else text + "."


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
    """'Title, Publisher, Author, June 2017, URL, archived 3 May 2020 at URL': a source as a reference names it.

    `esc` and `url` write text and an address for the target format (biblatex escapes both).
    """
    parts = [esc(_one_line(p)) for p in (source.title, source.publisher, source.author,
                                          source.published.label() if source.published else None) if p]
    if source.url:
        parts.append(url(source.url))
    if source.archived:  # the copy a reader can still open when the original address has gone
        taken = f" {esc(source.archived_date.label())}" if source.archived_date else ""
        parts.append(f"{esc('archived')}{taken} {esc('at')} {url(source.archived)}")
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


def plain(w: Work) -> str:
    """A reference a reader can paste into a footnote."""
    parts = [_sentence(", ".join(w.authors)), f"“{_sentence(w.title)}”"]
    if w.people or w.archive != w.site.title:
        parts.append(f"In {w.site.title}.")
    if w.note:
        parts.append(w.note)
    if w.version and w.date:
        parts.append(f"Version of {w.date.label()}.")
    elif w.date:
        parts.append(f"Last changed {w.date.label()}." if w.accessed else f"{w.date.label()}.")
    parts.append(w.url)
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


def _tex_person(name: str) -> str:
    # biblatex splits a name itself ("Jane Doe", "Doe, Jane"), as a citer's own entry would be;
    # " and " inside one name would make two, so such a name is kept whole in braces.
    return "{" + _tex(name) + "}" if re.search(r"\sand\s", name) else _tex(name)


def biblatex(w: Work) -> str:
    # double braces: a corporate name, not "Last, First"
    author = " and ".join(map(_tex_person, w.people)) if w.people else "{" + _tex(w.archive) + "}"
    fields = [("author", author), ("title", _tex(w.title))]
    if w.version:
        fields.append(("version", str(w.version)))
    if w.people or w.archive != w.site.title:
        fields.append(("organization", _tex(w.site.title)))
    if w.date:
        fields.append(("date", w.date.iso()))
    fields.append(("url", _tex_url(w.url)))
    if w.accessed:
        fields.append(("urldate", w.accessed.iso()))
    if w.cited:
        fields.append(("note", describe(w.cited, _tex, lambda u: r"\url{" + _tex_url(u) + "}")))
    if w.abstract:
        fields.append(("abstract", _tex(w.abstract)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@online{{{w.key},\n{body}\n}}\n"


# -- CSL-JSON --------------------------------------------------------------------

def _date_parts(point: Point) -> list[int]:
    return [p for p in (point.year, point.month, point.day) if p is not None]


def _csl_period(period: Period) -> dict:
    """A date or a range as CSL date-parts, both ends of a range at one precision.

    citeproc-js refuses a range whose ends differ in precision ("element
    mismatch in date range input", as from [[2016, 10, 17], [2016, 12]]), so
    both ends are cut to the coarser one: [[2016, 10], [2016, 12]] still holds
    the range, where lengthening the coarser end would invent a day (31
    December) that no source gave. The period's own label, to the day, stays
    in the note.
    """
    if not period.is_range:
        return {"date-parts": [_date_parts(period.start)]}
    start, end = _date_parts(period.start), _date_parts(period.end)
    size = min(len(start), len(end))
    return {"date-parts": [start[:size], end[:size]]}


def _csl_name(name: str) -> dict:
    # A name the editor wrote "Family, Given" is split there; any other is kept whole, not guessed at.
    family, comma, given = name.partition(",")
    if comma and family.strip() and given.strip():
        return {"family": family.strip(), "given": given.strip()}
    return {"literal": name}


def csl(w: Work) -> dict:
    item = {"id": w.key, "type": "webpage", "title": w.title,
            "author": [_csl_name(p) for p in w.people] or [{"literal": w.archive}],
            "container-title": w.site.title, "URL": w.url, "language": w.site.language}
    if w.version:
        item["version"] = str(w.version)
    if w.note:
        item["note"] = w.note
    if w.abstract:
        item["abstract"] = w.abstract
    if w.site.publisher:
        item["publisher"] = w.site.publisher
    if w.date:
        item["issued"] = _csl_period(w.date)
    if w.accessed:
        item["accessed"] = {"date-parts": [_date_parts(w.accessed)]}
    if w.event:
        item["event-date"] = _csl_period(w.event)
    return item


def csl_json(w: Work) -> str:
    return _indented([csl(w)]) + "\n"


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

def _ris_date(point: Point) -> str:
    return "/".join(f"{p:0{4 if i == 0 else 2}d}" for i, p in enumerate(_date_parts(point)))


def ris(w: Work) -> str:
    lines = [("TY", "ELEC"), ("ID", w.key)] + [("AU", a) for a in w.authors]
    lines += [("TI", w.title), ("T2", w.site.title)]
    if w.site.publisher:
        lines.append(("PB", w.site.publisher))
    if w.date:
        lines += [("PY", f"{w.date.start.year:04d}"), ("DA", _ris_date(w.date.start))]
    if w.accessed:
        lines.append(("Y2", _ris_date(w.accessed)))
    lines += [("UR", w.url), ("LA", w.site.language)]
    if w.abstract:
        lines.append(("AB", w.abstract))
    if w.note:
        lines.append(("N1", w.note))
    lines.append(("ER", ""))
    # Lines end in LF: the text is shown in a page, where HTML reads CRLF as LF anyway.
    return "".join(f"{tag}  - {_one_line(value)}\n" for tag, value in lines)


# -- {{cite web}}, for Wikipedia ---------------------------------------------------

# What would end a template parameter, or open a link, a template or a tag: written as character
# references, which MediaWiki shows as the characters. Two apostrophes would turn text italic and
# three tildes become a signature, so runs of them are written so too; one apostrophe is left as typed.
_WIKI_TABLE = str.maketrans({"|": "&#124;", "{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;",
                             "<": "&lt;", ">": "&gt;"})
_WIKI_RUNS = re.compile(r"'{2,}|~{3,}")
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
_URL_TABLE = str.maketrans({c: f"%{ord(c):02X}" for c in " \"'<>[]{}|"})


def _wiki(text: str) -> str:
    text = _one_line(text)
    if "&" in text:  # only where MediaWiki would read an entity: "&amp;" written in a claim stays five characters
        text = _ENTITY_LIKE.sub("&amp;", text)
    text = text.translate(_WIKI_TABLE)
    if "''" in text or "~~~" in text:  # (the tests spare every page the regex: a fifth of its citing)
        text = _WIKI_RUNS.sub(lambda m: "".join(f"&#{ord(ch)};" for ch in m.group()), text)
    return text


def _wiki_date(period: Period) -> str:
    """A date as Wikipedia's citation templates read it: ISO to the day, else 'June 2017', '2017'."""
    if not period.is_range:
        return period.start.iso() if period.start.day else period.start.label()
    return f"{period.start.label()} – {period.end.label()}"


def cite_web(w: Work) -> str:
    """A `{{cite web}}` to paste into a Wikipedia article: access-date is left for the editor to fill in."""
    params = [("url", w.url.translate(_URL_TABLE)), ("title", _wiki(w.title))]
    params += [(f"author{i}", _wiki(p)) for i, p in enumerate(w.people, 1)]
    params.append(("website", _wiki(w.site.title)))
    if w.site.publisher and w.site.publisher != w.site.title:
        params.append(("publisher", _wiki(w.site.publisher)))
    if w.date:
        params.append(("date", _wiki(_wiki_date(w.date))))
    params.append(("access-date", ""))
    if w.quote:
        params.append(("quote", _wiki(w.quote)))
    return "{{cite web " + " ".join(f"|{name}={value}" for name, value in params) + "}}" + _wiki_sources(w)


def _wiki_sources(w: Work) -> str:
    """Where a source has an archived copy, the sources after the template, in the same <ref>.

    {{cite web}} has no slot for the sources of the page it cites: its archive-url
    is a copy of the cited page itself, and a bot or a reader would take it so.
    """
    sources = w.cited.sources if w.cited else ()
    if not any(s.archived for s in sources):
        return ""
    label = "Source" if len(sources) == 1 else "Sources"
    named = "; ".join(source_text(s, _wiki, lambda u: u.translate(_URL_TABLE)) for s in sources)
    return f" {label}: {named}."


# -- what Zotero, search engines and social sites read from the page ---------------

def meta_tags(w: Work) -> list[tuple[str, str, str]]:
    """(attribute, name, content) of the <meta> tags: Dublin Core `DC.*`, `description` and Open Graph `og:*`.

    Chosen by what Zotero's Embedded Metadata translator makes of them (the
    engine of the Zotero Connector and of Wikipedia's citation tool):
    - og:type `website` makes the item a web page, whatever else the head holds;
    - no Highwire `citation_*` tags: they describe scholarly articles, a lone
      citation_title makes Zotero guess a journal article, and every
      citation_author is split into a person at its last space;
    - no DC.creator for a fact, for the same split ("Archive, A City's
      Budget: an Annals"): its item has no author, the archive being its website;
      an article's authors are people, so theirs are named;
    - no DC.source (read as the journal's title) and no DC.coverage (read as
      an archive location): the sources and the period are in the JSON-LD.
    """
    tags = [("name", "DC.title", w.title)] + [("name", "DC.creator", p) for p in w.people]
    tags.append(("name", "DC.publisher", w.archive))
    if w.date:
        tags.append(("name", "DC.date", w.date.iso()))
    tags += [("name", "DC.identifier", w.url), ("name", "DC.language", w.site.language),
             ("name", "DC.rights", w.site.licence)]
    description = w.abstract or w.note
    if description:
        tags.append(("name", "description", description))
    tags += [("property", "og:type", "website"), ("property", "og:title", w.title),
             ("property", "og:site_name", w.site.title), ("property", "og:url", w.url)]
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
    page = _page(c.work, "WebPage")
    page["mainEntity"] = claim
    if c.version:
        page["version"] = str(c.version)
    if c.day:
        page["dateModified"] = c.day.iso()
    return page


def article_json_ld(w: Work) -> dict:
    """schema.org: the article, by its authors, part of the archive's website."""
    page = _page(w, "Article")
    page["headline"] = w.title
    if w.people:
        page["author"] = [{"name": p} for p in w.people]
    if w.date:
        page["datePublished"] = w.date.iso()
    if w.abstract:
        page["description"] = w.abstract
    return page


def _page(w: Work, kind: str) -> dict:
    return {"@context": "https://schema.org", "@type": kind, "@id": w.url, "url": w.url,
            "name": w.title, "inLanguage": w.site.language, "license": w.site.licence,
            "isPartOf": {"@type": "WebSite", "name": w.site.title, "url": w.site.base_url},
            "publisher": {"@type": "Organization", "name": w.archive}}


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
    if source.archived:
        work["archivedAt"] = source.archived
    return work
