"""The fields of every content file: one declaration, read by the loader and the docs test."""
from __future__ import annotations

from decimal import Decimal

from . import urls
from .model import Citation, Groups, Measure
from .problems import Problems
from .schema import (Field, Invalid, base_url, date, hostname, identifier, list_of, nested, number,
                     one_of, period, record, text, url)
from .yamlread import Map, Node

SOURCE_KINDS = ("news-article", "press-release", "report", "dataset", "statement",
                "social-media", "web-page", "book", "other")
APPROX = ("exact", "about", "at-least", "at-most")
RANKS = ("preferred", "normal", "deprecated")
NEGATIVE = ("allowed", "refused")

CITATION_FIELDS = (
    Field("source", identifier, required=True, doc="id of a file in content/sources/"),
    Field("quote", text, required=True, doc="short passage, verbatim from the source"),
)
citations = list_of(nested(CITATION_FIELDS, Citation))

def segment(node: Node, name: str, problems: Problems) -> str:
    """The first segment of a group's address: an id that no other page of the site begins with."""
    value = identifier(node, name, problems)
    if value in urls.RESERVED:
        taken = ", ".join(f"{r}/" for r in sorted(urls.RESERVED - {"cname"}))
        problems.error(node.loc, f"{name}: '{value}/' is taken by the site's own pages ({taken}; "
                                 "and cname, beside the CNAME file): choose another")
        raise Invalid
    return value


GROUP_FIELDS = (
    Field("singular", text, required=True, doc="what pages call one of them, e.g. season"),
    Field("plural", text, required=True, doc="and more than one, e.g. seasons"),
    Field("path", segment, required=True,
          doc="the first segment of their pages' addresses, e.g. seasons for /seasons/<id>/: "
              "part of every such permalink, so chosen once"),
)

SITE_FIELDS = (
    Field("title", text, required=True, doc="the archive's name"),
    Field("description", text, required=True, doc="one or two sentences on what it holds"),
    Field("base_url", base_url, required=True, doc="absolute URL the site is published at, ending in /"),
    Field("language", text, required=True, doc="BCP 47 language tag, e.g. en"),
    Field("licence", text, required=True, doc="licence of the archive's text and data"),
    Field("publisher", text, doc="who publishes the archive"),
    Field("cname", hostname, doc="custom domain for GitHub Pages, e.g. annals.example.org: written to CNAME"),
    Field("groups", nested(GROUP_FIELDS, Groups), default=Groups(),
          doc="what the archive groups its facts by (the files of content/operations/), in its own words: "
              "`{singular, plural, path}`; by default operation, operations, operations"),
)

METRIC_FIELDS = (
    Field("label", text, required=True, doc="name shown on pages"),
    Field("unit", text, required=True, doc="plural noun written after numbers"),
    Field("description", text, required=True, doc="what is counted"),
    Field("negative", one_of(*NEGATIVE), default="refused",
          doc="allowed | refused: whether a figure may be below zero (a change, a balance); a count may not"),
)

OPERATION_FIELDS = (
    Field("id", identifier, doc="must equal the file name stem if given"),
    Field("name", text, required=True, doc="full name"),
    Field("aliases", list_of(text), default=(), doc="other names"),
    Field("parent", identifier, doc="id of the enclosing operation"),
    Field("start", date, doc="when it began, at the precision known"),
    Field("end", date, doc="when it ended, at the precision known"),
    Field("where", text, was=("theatre",), doc="where it took place: a region, a city, a venue"),
    Field("summary", text, doc="Markdown"),
    Field("sources", citations, default=(), doc="where its name and dates come from"),
)

SOURCE_FIELDS = (
    Field("id", identifier, doc="must equal the file name stem if given"),
    Field("title", text, required=True, doc="headline, or a [description] if it has none"),
    Field("kind", one_of(*SOURCE_KINDS), required=True, doc=" | ".join(SOURCE_KINDS)),
    Field("publisher", text, doc="who published it"),
    Field("author", text, doc="who wrote it"),
    Field("published", date, doc="publication date"),
    Field("updated", date, doc="a date the source prints as updated"),
    Field("url", url, doc="http(s) address; never invented"),
    Field("accessed", date, doc="when the archive last read it"),
    Field("archived", url, doc="address of a copy kept by a web archive (e.g. the Wayback Machine); never invented"),
    Field("archived_date", date, doc="when that copy was taken, as the web archive gives it"),
    Field("notes", text, doc="Markdown"),
    Field("text_file", text, doc="path under content/sources/ of the full text, to check quotes against"),
)

AGGREGATIONS = ("period", "cumulative", "level")

BOUNDS_FIELDS = (
    Field("low", number, required=True, doc="the least the source gives"),
    Field("high", number, required=True, doc="the most the source gives; at least low"),
)


def figure(node: Node, name: str, problems: Problems) -> Decimal | tuple[Decimal, Decimal]:
    """A number, or a range `{low: 1200, high: 1500}` ("between 1,200 and 1,500")."""
    if not isinstance(node, Map):
        return number(node, name, problems)
    values = record(node, BOUNDS_FIELDS, problems, name)
    if values["low"] > values["high"]:
        problems.error(node.loc, f"{name}: low {values['low']} is more than high {values['high']}; "
                                 "write the smaller bound as low")
        raise Invalid
    if values["low"] == values["high"]:
        problems.error(node.loc, f"{name}: low and high are both {values['low']}; write `{name}: {values['low']}`")
        raise Invalid
    return values["low"], values["high"]


MEASURE_FIELDS = (
    Field("metric", identifier, required=True, doc="id from content/metrics.yaml"),
    Field("value", figure, required=True,
          doc="digits only, no separators; or a range {low, high} (\"between 1,200 and 1,500\")"),
    Field("aggregation", one_of(*AGGREGATIONS), required=True,
          doc="period: covers `when`; cumulative: running total as of the end of `when`; "
              "level: a count standing at `when` (countries free of a disease), neither summed nor a running total"),
    Field("approx", one_of(*APPROX), default="exact", doc=" | ".join(APPROX) + "; exact for a range"),
    Field("since", date, doc="cumulative only: when the running total starts counting"),
)


def _measure(loc, locs, value=None, **values) -> Measure:
    if isinstance(value, tuple):  # a range: its bounds, and no single value
        return Measure(value=None, low=value[0], high=value[1], value_loc=locs.get("value"), locs=locs, **values)
    return Measure(value=value, value_loc=locs.get("value"), locs=locs, **values)


FACT_FIELDS = (
    Field("id", identifier, doc="must equal the file name stem if given"),
    Field("claim", text, required=True, doc="one sentence, the fact in the archive's words"),
    Field("when", period, doc="date or {from, to} range; absent if unknown"),
    Field("operations", list_of(identifier), default=(), doc="operation ids"),
    Field("places", list_of(text), default=(), doc="place names"),
    Field("measure", nested(MEASURE_FIELDS, _measure, with_locs=True), doc="makes the fact a measure"),
    Field("originator", text, doc="who produced the figure or statement"),
    Field("speaker", text, doc="makes the fact a statement"),
    Field("speaker_role", text, doc="the speaker's role, as the source gives it"),
    Field("sources", citations, required=True, default=(), doc="at least one {source, quote}"),
    Field("rank", one_of(*RANKS), default="normal", doc=" | ".join(RANKS)),
    Field("rank_reason", text, doc="why; required when deprecated"),
    Field("replaced_by", identifier, doc="deprecated only: id of the fact that takes its place; both pages link each other"),
    Field("notes", text, doc="Markdown: how an ambiguous source was read"),
    Field("aliases", list_of(identifier), default=(), doc="earlier ids, kept as redirects"),
)

ARTICLE_FIELDS = (
    Field("title", text, required=True, doc="headline"),
    Field("date", date, required=True, doc="publication date"),
    Field("summary", text, doc="one sentence"),
    Field("authors", list_of(text), default=(), doc="names"),
    Field("operations", list_of(identifier), default=(), doc="operation ids it is about"),
)

WITHDRAWN_FIELDS = (
    Field("id", identifier, doc="must equal the file name stem if given"),
    Field("withdrawn", date, required=True, doc="when the fact was withdrawn"),
    Field("reason", text, required=True, doc="why, in a sentence or two (Markdown)"),
    Field("claim", text, doc="the claim as it was published, so an old link still says what it pointed to"),
    Field("replaced_by", identifier, doc="id of the fact that supersedes it, if any"),
)

ALL = {
    "content/site.yaml": SITE_FIELDS,
    "groups (in site.yaml)": GROUP_FIELDS,
    "content/metrics.yaml (each metric)": METRIC_FIELDS,
    "content/operations/<id>.yaml": OPERATION_FIELDS,
    "content/sources/<id>.yaml": SOURCE_FIELDS,
    "content/facts/**/<id>.yaml": FACT_FIELDS,
    "measure (in a fact)": MEASURE_FIELDS,
    "measure.value as a range": BOUNDS_FIELDS,
    "sources[] (in a fact, operation)": CITATION_FIELDS,
    "content/articles/<slug>.md (front matter)": ARTICLE_FIELDS,
    "content/withdrawn/<id>.yaml": WITHDRAWN_FIELDS,
}
