"""The archive as data files: facts as JSON (with its JSON Schema) and CSV, an Atom feed, a sitemap.

Each producer is a function (reader, key) -> bytes that reads the index through
the page's Reader, like a page's context does, so its dependencies are recorded.
Output is deterministic: fields in a fixed order, no clock; a date that is not
known is null or left out.
"""
from __future__ import annotations

import csv
import io
import json

from . import cite, urls
from .model import json_number

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Only when neither git nor any fact gives a date does an entry need one.
NO_DATE = "1970-01-01T00:00:00Z"


def escape(text: str) -> str:
    """XML's text escaped as xml.sax.saxutils.escape does it (that module imports urllib.request
    and http.client, 21 ms of every build's start)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


_ATTR_CONTROLS = str.maketrans({"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def quoteattr(text: str) -> str:
    """An XML attribute's value in quotes, as xml.sax.saxutils.quoteattr writes it."""
    text = escape(text).translate(_ATTR_CONTROLS)
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', "&quot;") + '"'


# -- one fact as data --------------------------------------------------------------

def fact_record(r, ident: str) -> dict:
    """One fact, every field present (null or [] when absent), in a fixed order."""
    c = r.derive(cite.cited, ident)  # once a fact for facts.json and the feed, with its note
    f = c.fact
    when = None
    if f.when is not None:
        when = {"iso": f.when.iso(), "precision": f.when.precision,
                "first": f.when.first.isoformat(), "last": f.when.last.isoformat(), "label": f.when.label()}
    measure = None
    if f.measure is not None:
        metric = r.get("metric", f.measure.metric)
        measure = {"metric": metric.id, "label": metric.label, "unit": metric.unit, "value": f.measure.number,
                   "low": json_number(f.measure.low), "high": json_number(f.measure.high),
                   "aggregation": f.measure.aggregation, "approx": f.measure.approx,
                   "since": f.measure.since.iso() if f.measure.since else None}
    return {
        "id": f.id, "permalink": c.url, "claim": f.claim, "kind": f.kind, "when": when,
        "operations": list(f.operations), "places": list(f.places), "measure": measure,
        "originator": f.originator, "speaker": f.speaker, "speaker_role": f.speaker_role,
        "sources": [_cited_source(r.get("source", s.source), s.quote) for s in f.sources],
        "rank": f.rank, "rank_reason": f.rank_reason, "replaced_by": f.replaced_by,
        "disputed_with": list(r.get("disputes", ident)), "aliases": list(f.aliases),
        "notes": f.notes, "last_changed": c.changed,
    }


def fact_line(r, ident: str) -> str:
    """One fact as a line of JSON: the same in facts.json and in its month's and operations' files."""
    return _json(r.derive(fact_record, ident))


def _cited_source(source, quote: str) -> dict:
    # The archived copy goes wherever the source is named: it is what a reader opens once `url` is gone.
    return {"source": source.id, "title": source.title, "publisher": source.publisher,
            "url": source.url, "archived": source.archived,
            "archived_date": source.archived_date.iso() if source.archived_date else None, "quote": quote}


def _document(r, ids, **scope) -> bytes:
    site = r.get("site")
    # "$schema" names the JSON Schema the file follows (data/facts.schema.json), as editors and validators read it.
    head = {"$schema": urls.absolute(site.base_url, urls.facts_schema()), "archive": site.title, "base_url": site.base_url, "licence": site.licence,
            "language": site.language, **scope, "count": len(ids)}
    # One fact per line: diffs between builds stay readable, and json's fast
    # encoder (used only without `indent`) does the work.
    lines = r.derive_each(fact_line, ids)
    return (_json(head)[:-1] + ', "facts": [\n' + ",\n".join(lines) + "\n]}\n").encode("utf-8")


def _json(value) -> str:
    # <, > and & only ever occur inside JSON strings; written as \u escapes they
    # stay the same data, and a file a browser mistakes for HTML still holds no markup.
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def facts_json(r, _key) -> bytes:
    return _document(r, r.get("all", "facts"))


def month_json(r, ym) -> bytes:
    """As the month page lists them: the facts dated in the month, then the figures over a span covering it."""
    ids = r.get("month", ym) + r.get("covering", ym)
    return _document(r, ids, month=f"{ym[0]:04d}-{ym[1]:02d}")


def operation_json(r, ident) -> bytes:
    """An operation's facts rolled up: its own and those of its sub-operations."""
    op = r.get("operation", ident)
    ids = [fact_id for fact_id, _via in r.get("op-facts", ident)]
    return _document(r, ids, operation={"id": op.id, "name": op.name})


# -- the JSON Schema of those documents --------------------------------------------------

def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict, required=None) -> dict:
    return {"type": "object", "additionalProperties": False,
            "required": list(properties) if required is None else required, "properties": properties}


_TEXT = {"type": "string", "minLength": 1}
_ID = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}
_DATE = {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"}
_DAY = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_WEB = {"type": "string", "format": "uri", "pattern": "^https?://"}  # as the loader takes a source's addresses

FACT_SCHEMA = _object({
    "id": _ID,
    "permalink": {"type": "string", "format": "uri", "pattern": "^https?://"},
    "claim": _TEXT,
    "kind": {"enum": ["measure", "event", "statement"]},
    "when": _nullable(_object({
        "iso": {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?$",
                "description": "ISO 8601 at the precision written; a range is start/end"},
        "precision": {"enum": ["year", "month", "day", "range"]},
        "first": {**_DAY, "description": "first day the period covers"},
        "last": {**_DAY, "description": "last day the period covers"},
        "label": _TEXT})),
    "operations": {"type": "array", "items": _ID},
    "places": {"type": "array", "items": _TEXT},
    "measure": _nullable(_object({
        "metric": _ID, "label": _TEXT, "unit": _TEXT,
        "value": {**_nullable({"type": "number"}), "description": "null when the figure is a range"},
        "low": {**_nullable({"type": "number"}), "description": "a range's low bound; null for one value"},
        "high": {**_nullable({"type": "number"}), "description": "a range's high bound; null for one value"},
        "aggregation": {"enum": ["period", "cumulative", "level"]},
        "approx": {"enum": ["exact", "about", "at-least", "at-most"]},
        "since": _nullable(_DATE)})),
    "originator": _nullable(_TEXT),
    "speaker": _nullable(_TEXT),
    "speaker_role": _nullable(_TEXT),
    "sources": {"type": "array", "minItems": 1, "items": _object({
        "source": _ID, "title": _TEXT, "publisher": _nullable(_TEXT),
        "url": _nullable(_WEB),
        "archived": {**_nullable(_WEB),
                     "description": "a web archive's copy of the source, for when its url stops answering"},
        "archived_date": {**_nullable(_DATE), "description": "when that copy was taken"},
        "quote": _TEXT})},
    "rank": {"enum": ["preferred", "normal", "deprecated"]},
    "rank_reason": _nullable(_TEXT),
    "replaced_by": _nullable(_ID),
    "disputed_with": {"type": "array", "items": _ID},
    "aliases": {"type": "array", "items": _ID},
    "notes": _nullable({"type": "string"}),
    "last_changed": _nullable({"type": "string", "format": "date-time",
                               "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
                               "description": "UTC time of the last git commit of the fact's file"}),
})

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Annals facts",
    "description": "The facts of an Annals archive: all of them (data/facts.json), "
                   "one month's (timeline/<yyyy>/<mm>/facts.json) or one {singular}'s ({path}/<id>/facts.json).",
    **_object({
        "$schema": {"type": "string", "format": "uri", "description": "the address of this schema"},
        "archive": _TEXT,
        "base_url": {"type": "string", "format": "uri"},
        "licence": _TEXT,
        "language": _TEXT,
        "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
        "operation": _object({"id": _ID, "name": _TEXT}),
        "count": {"type": "integer", "minimum": 0},
        "facts": {"type": "array", "items": FACT_SCHEMA},
    }, required=["$schema", "archive", "base_url", "licence", "language", "count", "facts"]),
}


def facts_schema(r, _key) -> bytes:
    """The schema, described in the archive's words. Its keys ("operations", "operation") are the data's
    own, the same in every archive as the fact files' `operations:` field, so that one reader reads them all."""
    groups = r.get("site").groups
    described = {**SCHEMA, "description": SCHEMA["description"].format(singular=groups.singular, path=groups.path)}
    return (json.dumps(described, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


# -- CSV: one row per fact ---------------------------------------------------------

CSV_COLUMNS = ("id", "permalink", "claim", "kind", "when", "precision", "first_day", "last_day",
               "operations", "places", "metric", "value", "low", "high", "unit", "aggregation", "approx", "since",
               "originator", "speaker", "speaker_role", "sources", "quotes", "rank", "rank_reason", "replaced_by",
               "disputed_with", "aliases", "last_changed", "archived", "archived_date")


def _csv_row(record: dict, fact) -> list[str]:
    when, measure = record["when"] or {}, record["measure"] or {}
    row = {
        **{k: record[k] for k in ("id", "permalink", "claim", "kind", "originator", "speaker",
                                  "speaker_role", "rank", "rank_reason", "replaced_by", "last_changed")},
        "when": when.get("iso"), "precision": when.get("precision"),
        "first_day": when.get("first"), "last_day": when.get("last"),
        "operations": "; ".join(record["operations"]), "places": "; ".join(record["places"]),
        "metric": measure.get("metric"), "unit": measure.get("unit"),
        # the value as written, not through a float: 0.1 stays 0.1
        **{k: (None if v is None else str(v)) for k, v in _bounds_as_written(fact.measure).items()},
        "aggregation": measure.get("aggregation"), "approx": measure.get("approx"), "since": measure.get("since"),
        "sources": "; ".join(s["source"] for s in record["sources"]),
        "quotes": "\n".join(s["quote"] for s in record["sources"]),
        "disputed_with": "; ".join(record["disputed_with"]), "aliases": "; ".join(record["aliases"]),
        **{k: _per_source(record["sources"], k) for k in ("archived", "archived_date")},
    }
    return ["" if row[c] is None else str(row[c]) for c in CSV_COLUMNS]


def _per_source(sources: list[dict], key: str) -> str | None:
    """One line per source, in the order of `sources` as `quotes` is, empty where a source has none;
    nothing at all where none has one, so that most rows stay as short as they were."""
    values = [s[key] or "" for s in sources]
    return "\n".join(values) if any(values) else None


def _bounds_as_written(measure) -> dict:
    if measure is None:
        return {"value": None, "low": None, "high": None}
    return {"value": measure.value, "low": measure.low, "high": measure.high}


def _csv_line(row) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(row)  # RFC 4180: CRLF, quotes doubled
    return buffer.getvalue()


def _fact_csv_line(r, ident: str) -> str:
    return _csv_line(_csv_row(r.derive(fact_record, ident), r.get("fact", ident)))


def facts_csv(r, _key) -> bytes:
    lines = [_csv_line(CSV_COLUMNS)] + r.derive_each(_fact_csv_line, r.get("all", "facts"))
    return "".join(lines).encode("utf-8")


# -- Atom feed ---------------------------------------------------------------------

def _updated(c: cite.Cited) -> str | None:
    """When git last saw the fact change, else the end of the period it covers."""
    if c.changed:
        return c.changed
    return f"{c.fact.when.last.isoformat()}T00:00:00Z" if c.fact.when else None


def _entry(r, c: cite.Cited, updated: str) -> str:
    f = c.fact
    parts = [f"<id>{escape(c.url)}</id>",
             f"<title type=\"text\">{escape(f.claim)}</title>",
             f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(c.url)}/>",
             f"<updated>{updated}</updated>",
             f"<summary type=\"text\">{escape(c.note)}</summary>"]
    parts += [f"<category term={quoteattr(o)} label={quoteattr(r.get('operation', o).name)}/>"
              for o in f.operations]
    return "<entry>\n" + "\n".join(parts) + "\n</entry>\n"


def _feed_item(r, ident: str) -> tuple[str | None, str]:
    """A fact's time, if it has one, and its entry; `{updated}` stands for the time of an entry without."""
    c = r.derive(cite.cited, ident)  # once a fact for facts.json and the feed, with its note
    updated = _updated(c)
    return updated, _entry(r, c, updated or "{updated}")


def feed(r, _key) -> bytes:
    """Every fact, the most recently changed first; each entry's id is its permalink."""
    site = r.get("site")
    items = r.derive_each(_feed_item, r.get("all", "facts"))
    times = [t for t, _ in items]
    # An undated fact outside git is as new as the newest entry: never the clock.
    newest = max((t for t in times if t), default=NO_DATE)
    # Of entries as new, the later fact first, and a fact of no known date after the dated ones.
    ids, undated = r.get("all", "facts"), set(r.get("all", "undated"))
    order = sorted(range(len(items)), key=lambda i: (times[i] or newest, ids[i] not in undated, i), reverse=True)
    head = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<feed xmlns={quoteattr(ATOM_NS)} xml:lang={quoteattr(site.language)}>",
        f"<title type=\"text\">{escape(site.title)}</title>",
        f"<subtitle type=\"text\">{escape(site.description)}</subtitle>",
        f"<id>{escape(site.base_url)}</id>",
        f"<link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(urls.absolute(site.base_url, urls.feed()))}/>",
        f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(site.base_url)}/>",
        f"<updated>{newest}</updated>",
        f"<author><name>{escape(site.publisher or site.title)}</name></author>",
        f"<rights>{escape(site.licence)}</rights>",
        "<generator>Annals</generator>",
    ]
    body = "".join(items[i][1] if times[i] else
                   items[i][1].replace("<updated>{updated}</updated>", f"<updated>{newest}</updated>", 1)
                   for i in order)
    return ("\n".join(head) + "\n" + body + "</feed>\n").encode("utf-8")


# -- sitemap -----------------------------------------------------------------------

def sitemap(r, paths) -> bytes:
    """Absolute URLs of the HTML pages the plan lists (its key), in plan order, each with the time it
    last changed where git knows one (see lastmod)."""
    base = r.get("site").base_url
    dates = [lastmod(r, p) for p in paths]
    newest = max((d for d in dates if d), default=None)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f"<urlset xmlns={quoteattr(SITEMAP_NS)}>"]
    for path, date in zip(paths, dates):
        date = date if date or urls.parse(path) not in _WHOLE else newest
        stamp = f"<lastmod>{date}</lastmod>" if date else ""
        lines.append(f"<url><loc>{escape(urls.absolute(base, path))}</loc>{stamp}</url>")
    return ("\n".join(lines) + "\n</urlset>\n").encode("utf-8")


# Pages about the whole archive (home, lists, search): as new as the newest page listed.
_WHOLE = [(kind, None) for kind in ("home", "timeline", "operations", "sources", "articles", "metrics", "search")]


def page_date(r, path: str) -> str | None:
    """The date a page's head gives it: as the sitemap does, a page about the whole archive as new as
    its newest fact."""
    if urls.parse(path) in _WHOLE:
        return r.derive(_newest)
    return lastmod(r, path)


def _newest(r) -> str | None:
    return max((d for d in (r.get("changed", i) for i in r.get("all", "facts")) if d), default=None)


def lastmod(r, path: str) -> str | None:
    """When what a page shows last changed: the newest git date of its record's file and of the facts it
    lists. None where git knows none of them."""
    kind, key = urls.parse(path) or (None, None)
    record = {"article": "article", "source": "source", "operation": "operation", "metric": "metric"}.get(kind)
    listed = {"source": "source-facts", "operation": "op-facts", "metric": "metric-facts", "month": "month",
              "year": "year"}.get(kind)
    if kind == "fact":
        return r.get("changed", key)
    ids = ()
    if kind == "article":
        ids = dict.fromkeys(i for i, _ in r.get("article", key).cites if i in r.get("all", "facts"))
    elif listed is not None:
        ids = [i if isinstance(i, str) else i[0] for i in r.get(listed, key)]
        if kind == "month":  # it lists the figures over a span covering it too, some months only those
            ids += r.get("covering", key)
    dates = [r.get("changed", i) for i in ids]
    if record is not None:
        dates.append(r.get("file-changed", r.get(record, key).loc.path))
    return max((d for d in dates if d), default=None)
