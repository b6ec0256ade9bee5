"""What one content file yields: its records, every problem located, and what did parse of a broken one.

`read_file` is a pure function of a file's path and bytes, so that a
second process can run it (see annals.load), a session can keep what it
yielded by the file's signature, and git's old versions of a fact are read
the same way (see annals.versions).
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import fields as F, markup, urls
from .model import Article, Broken, Fact, Metric, Operation, Redirect, Site, Source, Withdrawn
from .problems import Loc, Problem, Problems
from .schema import ID_RE, Incomplete, Invalid, record, text as text_field
from .yamlread import Map, YamlError, read_yaml

MAX_YAML_BYTES = 256 * 1024
MAX_MARKDOWN_BYTES = 1024 * 1024
# `[[fact:id]]` or `[[fact:id|label]]`, the forms annals.markup renders.
FACT_REF = re.compile(markup.FACT_REF)
# C0 controls but tab, line feed and carriage return, and DEL: never in a text an
# editor means, and the renderer uses some of them as marks of its own.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)


@dataclass(frozen=True)
class Loaded:
    """What one file yields: its records (zero or more), its problems, and what did parse of records with errors."""

    kind: str
    records: tuple[Any, ...]
    problems: tuple[Problem, ...]
    broken: tuple[Broken, ...] = ()


def kind_of(rel: str) -> str | None:
    """Which loader reads a path relative to the project root, or None if none should."""
    parts = rel.split("/")
    name = parts[-1]
    if rel == "content/site.yaml":
        return "site"
    if rel == "content/metrics.yaml":
        return "metrics"
    if rel == "content/redirects.yaml":
        return "redirects"
    if len(parts) == 3 and parts[1] == "operations" and name.endswith(".yaml"):
        return "operation"
    if len(parts) == 3 and parts[1] == "sources" and name.endswith(".yaml"):
        return "source"
    if len(parts) >= 3 and parts[1] == "facts" and name.endswith(".yaml"):
        return "fact"
    if len(parts) == 3 and parts[1] == "articles" and name.endswith(".md"):
        return "article"
    if len(parts) == 3 and parts[1] == "withdrawn" and name.endswith(".yaml"):
        return "withdrawn"
    return None


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def stem_of(rel: str) -> str:
    return rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def read_file(rel: str, data: bytes) -> Loaded:
    kind = kind_of(rel) or "unknown"
    problems = Problems()
    out: tuple = ()
    limit = MAX_MARKDOWN_BYTES if kind == "article" else MAX_YAML_BYTES
    if len(data) > limit:
        problems.error(Loc(rel, 1), f"file is over the limit of {limit:,} bytes and was not read: split it up")
    else:
        text = decode(rel, data, problems)
        if text is not None:
            try:
                out = tuple(_READERS[kind](rel, text, digest(data), problems))
            except Invalid:
                out = ()
    records = tuple(r for r in out if not isinstance(r, Broken))
    broken = tuple(r for r in out if isinstance(r, Broken))
    if problems.errors and not out:
        broken = (_unread(rel, kind),)
    return Loaded(kind, records, tuple(problems.items), broken)


def _unread(rel: str, kind: str) -> Broken:
    """A file of which nothing could be read: all that is known is what its name says."""
    stem = stem_of(rel)
    named = kind not in ("site", "metrics", "redirects")  # files of their own name hold no record named by it
    return Broken(kind, rel, stem if named and ID_RE.match(stem) else None)


def decode(rel: str, data: bytes, problems: Problems) -> str | None:
    """A text file's text, or None with the line of the first byte that is not UTF-8 or not text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        problems.error(Loc(rel, line), f"not UTF-8: byte 0x{data[err.start]:02x} cannot be read; save the file as UTF-8")
        return None
    control = _CONTROL.search(text)
    if control:
        at = control.start()
        problems.error(Loc(rel, text[:at].count("\n") + 1),
                       f"contains the control character U+{ord(text[at]):04X}; is this a text file? "
                       "Only tabs and line breaks may stand between the words")
        return None
    return text.removeprefix("\ufeff")


def _parse(rel: str, text: str, problems: Problems, line_offset: int = 0, empty: bool = False):
    """The file's tree; None only if it may be `empty` and is."""
    try:
        root, soft = read_yaml(text, rel, line_offset)
    except YamlError as err:
        problems.error(err.loc, err.message)
        raise Invalid
    for loc, message in soft:
        problems.error(loc, message)
    if root is None and not empty:
        problems.error(Loc(rel, 1 + line_offset), "is empty")
        raise Invalid
    return root


def _values(node, fields, problems: Problems, what: str,
            locs: dict | None = None) -> tuple[dict, frozenset, frozenset]:
    """A record's fields; the names of those that had a problem (reported); and of those of which nothing is known."""
    try:
        return record(node, fields, problems, what, locs), frozenset(), frozenset()
    except Incomplete as err:
        return err.values, err.failed, err.failed - err.kept


def _stem_id(rel: str, values: dict, problems: Problems, locs: dict) -> str | None:
    """The file name stem, which is the record's id; None if it is not a valid one. An `id` field must equal it."""
    stem = stem_of(rel)
    written = values.pop("id", None)
    if not ID_RE.match(stem):
        problems.error(Loc(rel, 1), f"file name '{stem}' is not a valid id; use lower-case letters, digits and single hyphens")
        return None
    if written not in (None, stem):
        problems.error(locs["id"], f"id '{written}' differs from the file name '{stem}'; the file name is the id")
    return stem


def _whole(kind: str, rel: str, ident: str | None, rec, unknown: frozenset, problems: Problems, before: int = 0):
    """The record, or, if reading it reported an error, a Broken holding what did parse."""
    if len(problems.errors) == before:
        return rec
    return Broken(kind, rel, ident, rec, unknown)


def _site(rel, text, dig, problems):
    root = _parse(rel, text, problems)
    values = record(root, F.SITE_FIELDS, problems, "site.yaml")
    return (Site(loc=Loc(rel, 1), **values),)


def _metrics(rel, text, dig, problems):
    root = _parse(rel, text, problems)
    if not isinstance(root, Map):
        problems.error(root.loc, "metrics.yaml: expected a mapping from metric id to its fields")
        raise Invalid
    out = []
    for key, (key_loc, node) in root.items.items():
        before = len(problems.errors)
        if not ID_RE.match(key):
            problems.error(key_loc, f"'{key}' is not a valid metric id; use lower-case letters, digits and single hyphens")
            continue
        try:
            values, _, unknown = _values(node, F.METRIC_FIELDS, problems, f"metric '{key}'")
        except Invalid:
            out.append(Broken("metric", rel, key))
            continue
        out.append(_whole("metric", rel, key, Metric(id=key, loc=key_loc, **values), unknown, problems, before))
    return tuple(out)


def _redirects(rel, text, dig, problems):
    root = _parse(rel, text, problems, empty=True)
    if root is None:  # only comments, or nothing: no redirects yet
        return ()
    if not isinstance(root, Map):
        problems.error(root.loc, "redirects.yaml: expected a mapping from an old address to the page "
                                 "that replaces it, like `/operations/old-id/: /operations/new-id/`")
        raise Invalid
    out = []
    for key, (key_loc, node) in root.items.items():
        before = len(problems.errors)
        old = _redirect_path(key, key_loc, "the old address", problems)
        try:
            to = _redirect_path(text_field(node, key, problems), node.loc, "the page", problems)
        except Invalid:
            to = None
        if old is not None and urls.fact_id(old) is not None:
            ident = urls.fact_id(old)
            problems.error(key_loc, f"'{key}': a fact's old permalink is kept by `aliases: [{ident}]` in the fact "
                                    f"that replaces it, or retired by a tombstone, content/withdrawn/{ident}.yaml")
        if old is not None and to is not None and urls.is_page(old) != urls.is_page(to):
            what = "a page" if urls.is_page(old) else "a data file"
            problems.error(node.loc, f"'{key}' is {what}; it can only be kept by {what}, and '/{to}' is not one")
        elif old is not None and to is not None and not urls.is_page(old) and \
                old.rsplit(".", 1)[-1] != to.rsplit(".", 1)[-1]:
            problems.error(node.loc, f"'{key}' can only be answered with a copy of a data file of its own kind "
                                     f"(.{old.rsplit('.', 1)[-1]}), and '/{to}' is not one")
        entry = Redirect(old, to, key_loc, node.loc)
        out.append(entry if len(problems.errors) == before else Broken("redirect", rel, old, entry))
    return tuple(out)


def _redirect_path(written: str, loc: Loc, what: str, problems: Problems) -> str | None:
    """A path of the site as urls makes it (no leading '/'), or None (reported) if it is none."""
    if not written.startswith("/"):
        problems.error(loc, f"'{written}': write {what} from the site's root, starting with '/', like /operations/old-id/")
        return None
    path = written[1:]
    if urls.parse(path) is None:
        problems.error(loc, f"'{written}' is not an address this site makes (see README, \"Permalinks never break\")")
        return None
    return path


def _plain(make, fields, what):
    """The reader of a file that is one record of its fields, named by its file, and nothing more."""
    kind = make.__name__.lower()

    def read(rel, text, dig, problems):
        root = _parse(rel, text, problems)
        locs: dict[str, Loc] = {}
        values, _, unknown = _values(root, fields, problems, what, locs)
        ident = _stem_id(rel, values, problems, locs)
        return (_whole(kind, rel, ident, make(id=ident, loc=Loc(rel, 1), digest=dig, locs=locs, **values),
                       unknown, problems),)
    return read


_operation = _plain(Operation, F.OPERATION_FIELDS, "operation")
_source = _plain(Source, F.SOURCE_FIELDS, "source")
_withdrawn = _plain(Withdrawn, F.WITHDRAWN_FIELDS, "withdrawn fact")


def _fact(rel, text, dig, problems):
    root = _parse(rel, text, problems)
    locs: dict[str, Loc] = {}
    values, failed, unknown = _values(root, F.FACT_FIELDS, problems, "fact", locs)
    ident = _stem_id(rel, values, problems, locs)

    def known(*names: str) -> bool:  # a rule between fields is checked only on values that did convert
        return failed.isdisjoint(names)

    if known("sources") and not values["sources"]:
        problems.error(locs["sources"], "sources: a fact needs at least one source")
    measure = values["measure"]
    if known("measure") and measure is not None and measure.since is not None:
        if measure.aggregation != "cumulative":
            problems.error(locs["measure"], "measure.since: only a cumulative measure counts from a start")
        elif known("when") and values["when"] is not None and measure.since.first > values["when"].last:
            problems.error(locs["measure"], "measure.since: the running total starts after `when` ends")
    if known("rank", "rank_reason") and values["rank"] == "deprecated" and not values["rank_reason"]:
        problems.error(locs["rank"], "rank: a deprecated fact needs a rank_reason")
    if known("speaker", "speaker_role") and values["speaker_role"] and not values["speaker"]:
        problems.error(locs["speaker_role"], "speaker_role: given without a speaker")
    if ident in values["aliases"]:
        problems.error(locs["aliases"], f"aliases: '{ident}' is the fact's own id")
    return (_whole("fact", rel, ident, Fact(id=ident, loc=Loc(rel, 1), digest=dig, locs=locs, **values),
                   unknown, problems),)


def _article(rel, text, dig, problems):
    match = _FRONT.match(text)
    if not match:
        problems.error(Loc(rel, 1), "an article starts with YAML front matter between two '---' lines")
        raise Invalid
    front = match.group(1) or ""
    locs: dict[str, Loc] = {}
    try:
        root = _parse(rel, front, problems, line_offset=1)
        values, _, unknown = _values(root, F.ARTICLE_FIELDS, problems, "article front matter", locs)
    except Invalid:
        # Front matter that does not read still leaves the body, whose citations can be checked.
        values, unknown = {f.name: f.default for f in F.ARTICLE_FIELDS}, frozenset(f.name for f in F.ARTICLE_FIELDS)
    slug = _stem_id(rel, values, problems, locs)
    body = text[match.end():]
    body_line = text[: match.end()].count("\n") + 1
    cites, line, counted = [], body_line, 0
    for m in FACT_REF.finditer(body):  # lines counted on from the last citation: a body of thousands stays linear
        line, counted = line + body.count("\n", counted, m.start()), m.start()
        cites.append((m.group(1).strip(), Loc(rel, line)))
    cites = tuple(cites)
    article = Article(slug=slug, body=body, body_line=body_line, loc=Loc(rel, 1), digest=dig,
                      cites=cites, locs=locs, **values)
    return (_whole("article", rel, slug, article, unknown, problems),)


_READERS = {
    "site": _site, "metrics": _metrics, "operation": _operation,
    "source": _source, "fact": _fact, "article": _article, "withdrawn": _withdrawn,
    "redirects": _redirects,
}


def refused_file(rel: str) -> Loaded:
    """What a file the walk refused yields: nothing, but that it is there (its problem is the walk's)."""
    kind = kind_of(rel) or "unknown"
    return Loaded(kind, (), (), (_unread(rel, kind),))


def unreadable(rel: str, path: Path, err: OSError) -> Loaded:
    """A file the system would not give us: a link to nowhere, no permission, a folder named like a file."""
    if err.errno == errno.ENOENT and path.is_symlink():
        message = f"is a symbolic link to '{os.readlink(path)}', which does not exist: remove the link or restore its file"
    else:
        message = f"cannot be read: {err.strerror or err}"
    kind = kind_of(rel) or "unknown"
    return Loaded(kind, (), (Problem(Loc(rel, 1), message),), (_unread(rel, kind),))
