"""The archive as data: frozen records, each knowing where it was written.

Records refer to each other by id only; `index` resolves the references, so
that every cross-record lookup passes through one place that can record it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Mapping

from .periods import Period
from .problems import Loc
from .urls import DEFAULT_GROUPS


@dataclass(frozen=True)
class Groups:
    """What the archive groups its facts by, in its own words (site.yaml's `groups`):
    what pages call them, and the URL segment of their pages."""

    singular: str = "operation"
    plural: str = "operations"
    path: str = DEFAULT_GROUPS
    loc: Loc | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Site:
    title: str
    description: str
    base_url: str
    language: str
    licence: str
    publisher: str | None = None
    cname: str | None = None
    groups: Groups = Groups()
    loc: Loc = Loc("content/site.yaml", 1)


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    unit: str
    description: str
    loc: Loc
    negative: str = "refused"  # "allowed" | "refused": whether its figures may be below zero


@dataclass(frozen=True)
class Citation:
    source: str
    quote: str
    loc: Loc


@dataclass(frozen=True)
class Operation:
    id: str
    name: str
    loc: Loc
    digest: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    start: Period | None = None
    end: Period | None = None
    where: str | None = None
    summary: str | None = None
    sources: tuple[Citation, ...] = ()
    locs: Mapping[str, Loc] = field(default_factory=dict, compare=False, repr=False)


def upward(ident: str | None, find: Callable[[str], Operation | None]) -> list[str]:
    """`ident` and every operation above it, innermost first: the one walk up the parents.

    It stops at an id `find` does not know (None) and before the first
    operation met twice: a loop of parents is validate's to report, and every
    other walker must end all the same.
    """
    out: list[str] = []
    while ident is not None and ident not in out:
        op = find(ident)
        if op is None:
            break
        out.append(ident)
        ident = op.parent
    return out


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    kind: str
    loc: Loc
    digest: str
    publisher: str | None = None
    author: str | None = None
    published: Period | None = None
    updated: Period | None = None
    url: str | None = None
    accessed: Period | None = None
    archived: str | None = None          # a web archive's copy, for when `url` stops answering
    archived_date: Period | None = None  # when that copy was taken
    notes: str | None = None
    text_file: str | None = None
    locs: Mapping[str, Loc] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Measure:
    metric: str
    value: Decimal | None  # None when the figure is a range: then low and high are its bounds
    aggregation: str  # "period" (covers `when`) | "cumulative" (running total to its end) | "level" (stands at it)
    approx: str = "exact"  # "exact" | "about" | "at-least" | "at-most"
    since: Period | None = None
    low: Decimal | None = None   # "between 1,200 and 1,500": 1200 and 1500
    high: Decimal | None = None
    value_loc: Loc | None = field(default=None, compare=False, repr=False)  # where the figure was written
    locs: Mapping[str, Loc] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_range(self) -> bool:
        return self.value is None and self.low is not None and self.high is not None

    @property
    def least(self) -> Decimal:
        """The smallest value the figure states: the value itself, or a range's low bound."""
        return self.low if self.value is None else self.value

    @property
    def most(self) -> Decimal:
        """The largest value the figure states: the value itself, or a range's high bound."""
        return self.high if self.value is None else self.value

    @property
    def number(self) -> int | float | None:
        """The value as a JSON number: an int where it is whole; None for a range."""
        return json_number(self.value)


def json_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class Fact:
    id: str
    claim: str
    loc: Loc
    digest: str
    sources: tuple[Citation, ...]
    when: Period | None = None
    operations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    measure: Measure | None = None
    originator: str | None = None
    speaker: str | None = None
    speaker_role: str | None = None
    rank: str = "normal"  # "preferred" | "normal" | "deprecated"
    rank_reason: str | None = None
    replaced_by: str | None = None  # deprecated only: the id of the fact that takes its place
    notes: str | None = None
    aliases: tuple[str, ...] = ()
    locs: Mapping[str, Loc] = field(default_factory=dict, compare=False, repr=False)

    @property
    def kind(self) -> str:
        if self.measure is not None:
            return "measure"
        if self.speaker is not None:
            return "statement"
        return "event"


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    date: Period
    body: str
    body_line: int  # the line of the file where the Markdown body starts
    loc: Loc
    digest: str
    summary: str | None = None
    authors: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    cites: tuple[tuple[str, Loc], ...] = ()  # fact ids cited inline, with where
    locs: Mapping[str, Loc] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Withdrawn:
    """A tombstone: a fact taken out of the archive whose permalink still answers."""

    id: str
    withdrawn: Period
    reason: str
    loc: Loc
    digest: str
    claim: str | None = None
    replaced_by: str | None = None
    locs: Mapping[str, Loc] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Redirect:
    """An address once published whose page is gone, kept alive by the live page that replaces it."""

    old: str      # paths as urls makes them: from the site's root, without the leading '/'
    to: str
    loc: Loc      # where the old path is written
    to_loc: Loc


@dataclass(frozen=True)
class Broken:
    """A content file (or a metric) with errors, and what of it did parse. It never reaches the site.

    Validate checks the references it makes, load the ids and aliases it
    claims, and the permalink check the addresses it would keep, so that one
    run reports every problem, and none that fixing this file would undo.
    """

    kind: str                  # the record's kind ("fact", "metric", "redirect", ...), or the file's
                               # ("metrics", "redirects") when nothing of it could be read
    path: str
    id: str | None             # its id if that much is valid: the file name stem, a metric's key, a redirect's old path
    record: Any = None         # the record with what did convert (defaults elsewhere), None if nothing did
    # Fields of `record` of which nothing is known: a date that is none, a list
    # that is not a list. A list with bad items holds the good ones, and those
    # are all the ids it can name, since a bad item is no valid id.
    unknown: frozenset[str] = frozenset()

    def knows(self, name: str) -> bool:
        return self.record is not None and name not in self.unknown


@dataclass(frozen=True)
class Archive:
    """Everything loaded from content/, before cross-references are checked."""

    site: Site | None
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    operations: Mapping[str, Operation] = field(default_factory=dict)
    sources: Mapping[str, Source] = field(default_factory=dict)
    facts: Mapping[str, Fact] = field(default_factory=dict)
    articles: Mapping[str, Article] = field(default_factory=dict)
    # content path -> UTC time of the last commit that touched it (see history);
    # a file without an entry has no known date.
    changed: Mapping[str, str] = field(default_factory=dict)
    withdrawn: Mapping[str, Withdrawn] = field(default_factory=dict)
    redirects: Mapping[str, Redirect] = field(default_factory=dict)  # old path -> its redirect
    broken: tuple[Broken, ...] = ()  # files with errors: checked, never published
    # Every fact's versions, from git (a versions.History); None until read.
    history: object = field(default=None, compare=False, repr=False)
