"""A fact's versions: each committed change to its file, every one with a permanent page of its own.

Read from git in one pass (see history): one `git log` lists every change to
content/, one `git cat-file --batch` reads the file as each change left it,
and each is read as a fact by the loader, as the archive's files are.

A version is addressed by the id its file had then and a number,
/facts/<id>/v/<n>/, n counting the versions committed under that id from 1.
Its address is fixed the day its commit is made: later commits only add
versions after it, so nothing ever renumbers it, unless the history itself is
rewritten, which the permalink check then reports (see permalinks).

A fact's file may be renamed or moved (`git log -M` follows it: its id is the
new name, its versions before the rename keep their addresses under the old
one) and deleted (its versions stay, saying so). The fact's page lists all of
them, newest first, with what each changed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from . import history, records, urls
from .model import Archive, Fact
from .periods import Point

# What a version changed, by the fields it differs in from the one before, as the versions list names it.
_WHAT = (("claim", ("claim",)), ("figure", ("measure",)), ("period", ("when",)), ("sources", ("sources",)),
         ("rank", ("rank", "rank_reason", "replaced_by")), ("operations", ("operations",)), ("places", ("places",)),
         ("originator", ("originator",)), ("speaker", ("speaker", "speaker_role")), ("notes", ("notes",)),
         ("aliases", ("aliases",)))
_NOT_CONTENT = {"id", "loc", "digest", "locs"}


@dataclass(frozen=True)
class Version:
    fact: str                  # the id the fact had in this version: its file's name then
    number: int                # the n-th version committed under that id
    lineage: str               # the id of the fact whose versions these are: its id now, or when it was deleted
    path: str                  # the file, as this version's commit left it
    commit: str
    date: str                  # the commit's date, 'YYYY-MM-DDTHH:MM:SSZ', UTC
    subject: str               # the first line of the commit's message
    changes: tuple[str, ...]   # what it changed from the version before, in words (see _WHAT)
    record: Fact | None        # the fact as it was; None if the file could not be read as one
    text: str | None = None    # the file as committed, kept only where it could not be read
    problem: str | None = None  # why it could not be read

    @property
    def path_to(self) -> str:
        return urls.version(self.fact, self.number)

    @property
    def day(self) -> Point:
        return _day(self.date)


def _day(date: str) -> Point:
    y, m, d = (int(part) for part in date[:10].split("-"))
    return Point(y, m, d)


@dataclass(frozen=True)
class Lineage:
    """One fact's file through its history: every version, oldest first, and where it is now."""

    id: str
    versions: tuple[Version, ...]
    path: str | None           # the file that holds it now; None once deleted
    removed: tuple[str, str, str] | None = None  # the commit, date and subject that deleted it

    @property
    def newest(self) -> Version:
        return self.versions[-1]

    @property
    def removed_day(self) -> Point | None:
        return _day(self.removed[1]) if self.removed else None


@dataclass(frozen=True)
class History:
    unavailable: str | None = None                       # why there are no versions (see history)
    lineages: Mapping[str, Lineage] = field(default_factory=dict)
    by_address: Mapping[tuple[str, int], Version] = field(default_factory=dict)

    def version(self, ident: str, number: int) -> Version:
        return self.by_address[(ident, number)]


def read(archive: Archive, root: Path, dates: dict[str, str] | None, log: history.Log | None = None,
         known: dict | None = None) -> Archive:
    """The archive with git's dates (`dates`, when the caller has them already) and every fact's versions,
    from `log` when the caller has read it already (see history.state_of), else from git.

    `known`, a session's, holds each version already read, by its blob and path: only the others
    are asked of git and read (after a commit, the versions it made), and it is left holding the
    versions of this history alone. A version is a function of its file's bytes and path, which
    its blob and path name."""
    log = log if log is not None else history.read_log(root)
    changes = [c for c in log.changes if _is_fact(c.path) or (c.old is not None and _is_fact(c.old))]
    known = {} if known is None else known
    blobs = history.read_blobs(root, (c.blob for c in changes if _is_fact(c.path) and (c.blob, c.path) not in known))
    if dates is not None:  # the caller's, from history.state: without the log's digest, which is no file's date
        dates = {rel: date for rel, date in dates.items() if rel != history.FACTS}
    found = build(changes, blobs, archive.facts, log.unavailable, known)
    return dataclasses.replace(archive, changed=log.dates if dates is None else dates, history=found)


def _is_fact(path: str) -> bool:
    return records.kind_of(path) == "fact"


@dataclass
class _Growing:
    versions: list = field(default_factory=list)  # (id, number, change)
    path: str | None = None
    removed: history.Change | None = None


def build(changes, blobs: dict[str, bytes], facts: Mapping[str, Fact], unavailable: str | None,
          known: dict | None = None) -> History:
    """Follow each fact's file through `changes` (oldest first) and read it as each version left it
    (from `blobs`, or as `known` holds it: see read)."""
    live: dict[str, _Growing] = {}
    ended: dict[str, _Growing] = {}  # deleted, by their last id: a file of that id again continues them
    counts: dict[str, int] = {}
    for change in changes:
        if not _is_fact(change.path):  # moved out of the facts (to content/withdrawn/, say): deleted
            _end(live.pop(change.old or change.path, None), change, ended)
            continue
        if change.status == "D":
            _end(live.pop(change.path, None), change, ended)
            continue
        ident = _stem(change.path)
        grown = live.pop(change.old, None) if change.old is not None else live.get(change.path)
        grown = grown or ended.pop(ident, None) or _Growing()
        grown.removed, grown.path = None, change.path
        counts[ident] = counts.get(ident, 0) + 1
        grown.versions.append((ident, counts[ident], change))
        live[change.path] = grown
    lineages: dict[str, Lineage] = {}
    reading = _Versions(blobs, known if known is not None else {})
    for grown in [*ended.values(), *live.values()]:
        lineage = _lineage(grown, reading, facts)
        other = lineages.get(lineage.id)
        if other is not None:  # two files of one name at once (a duplicate id, in some commit): listed as one
            merged = tuple(sorted(other.versions + lineage.versions, key=lambda v: (v.date, v.number)))
            lineage = Lineage(lineage.id, merged, lineage.path or other.path, lineage.removed or other.removed)
        lineages[lineage.id] = lineage
    by_address = {(v.fact, v.number): v for lineage in lineages.values() for v in lineage.versions}
    reading.keep_used()
    return History(unavailable, lineages, by_address)


class _Versions:
    """Each version's file read once: from its bytes, or as a build before read them (see read)."""

    def __init__(self, blobs: dict[str, bytes], known: dict):
        self._blobs, self._known, self._used = blobs, known, set()

    def read(self, change, now: Fact | None) -> tuple[Fact | None, str | None, str | None]:
        key = (change.blob, change.path)
        self._used.add(key)
        found = self._known.get(key)
        if found is None:
            data = self._blobs.get(change.blob)
            if data is None:
                return None, None, "git does not hold this version's file (a partial clone?)"
            digest = records.digest(data)
            # The version the archive holds is read once, by the loader; any other, here.
            found = self._known[key] = (digest, now, None, None) if _holds(now, change, digest) else (
                digest, *_read(change, data))
        digest, record, text, problem = found
        return (now, None, None) if _holds(now, change, digest) else (record, text, problem)

    def keep_used(self) -> None:
        """Let go of the versions no longer in the history (a rewritten one): what is known stays small."""
        for key in self._known.keys() - self._used:
            del self._known[key]


def _end(grown: _Growing | None, change, ended: dict[str, _Growing]) -> None:
    if grown is not None:
        grown.removed, grown.path = change, None
        ended[grown.versions[-1][0]] = grown


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _holds(now: Fact | None, change, digest: str) -> bool:
    """Whether the archive's record of the fact is this version's: the same file, the same bytes."""
    return now is not None and now.loc.path == change.path and now.digest == digest


def _lineage(grown: _Growing, reading: _Versions, facts: Mapping[str, Fact]) -> Lineage:
    last = grown.versions[-1][0]
    out: list[Version] = []
    before: Fact | None = None
    for ident, number, change in grown.versions:
        record, text, problem = reading.read(change, facts.get(ident))
        if not out:
            what: tuple[str, ...] = ("first version",)
        elif record is None or before is None:
            what = ("the file, which cannot be read as a fact",)
        else:
            what = differences(before, record)
        if out and out[-1].fact != ident:
            what += (f"its id (the file was renamed from {out[-1].fact})",)
        date = history.utc(change.time)
        out.append(Version(ident, number, last, change.path, change.commit, date, change.subject,
                           what or ("the file's layout only",), record, text, problem))
        before = record if record is not None else before
    removed = grown.removed
    return Lineage(last, tuple(out), grown.path,
                   (removed.commit, history.utc(removed.time), removed.subject) if removed else None)


def _read(change, data: bytes) -> tuple[Fact | None, str | None, str | None]:
    """A version's fact, or (None, its text, why) if it cannot be read as one."""
    loaded = records.read_file(change.path, data)
    found = [r for r in loaded.records if isinstance(r, Fact)]
    if found:
        return found[0], None, None
    partial = [b.record for b in loaded.broken if isinstance(b.record, Fact)]
    if partial:
        return partial[0], None, None
    errors = [p.message for p in loaded.problems if p.severity == "error"]
    return None, data.decode("utf-8", "replace"), errors[0] if errors else "not a fact"


def differences(a: Fact, b: Fact) -> tuple[str, ...]:
    """The names (see _WHAT) of what differs between two versions of a fact."""
    named = {name for _, names in _WHAT for name in names}
    out = [label for label, names in _WHAT if any(_value(a, n) != _value(b, n) for n in names)]
    others = sorted(f.name for f in dataclasses.fields(Fact)
                    if f.name not in named and f.name not in _NOT_CONTENT and _value(a, f.name) != _value(b, f.name))
    return tuple(out + others)


def _value(fact: Fact, name: str):
    value = getattr(fact, name, None)
    if name == "sources":  # a citation's line is where it stands in the file, not what it says
        return tuple((c.source, c.quote) for c in value)
    return value


# -- what pages show of them, read through a page's Reader -----------------------

def of_fact(r, ident: str) -> dict:
    """A fact page's versions: the list, newest first; the one the page shows, if it is committed as it
    stands; and why there are none, where git has no history."""
    lineage = r.get("versions", ident)
    listed = tuple(reversed(lineage.versions)) if lineage is not None else ()
    fact = r.get("fact", ident)
    committed = r.get("changed", ident) is not None  # git vouches for the file as it stands: no edit since
    current = listed[0] if listed and committed and listed[0].path == fact.loc.path else None
    return {"list": listed, "current": current, "unavailable": r.get("history")}


def current(r, ident: str) -> Version | None:
    return of_fact(r, ident)["current"]


def page(r, key) -> dict:
    """A version's page: the fact as it was, what came after it, and where the fact is now."""
    ident, number = key
    version = r.get("version", ident, number)
    lineage = r.get("versions", version.lineage)
    at = lineage.versions.index(version)
    fact = version.record
    return {
        "version": version, "fact": fact, "lineage": lineage,
        "older": lineage.versions[at - 1] if at > 0 else None,
        "newer": lineage.versions[at + 1] if at + 1 < len(lineage.versions) else None,
        "newest": lineage.newest,
        "now": _now(r, lineage),
        "metric": _found(r, "metric", fact.measure.metric) if fact is not None and fact.measure else None,
        "sources": [(c, _found(r, "source", c.source)) for c in fact.sources] if fact is not None else [],
        "operations": [(o, _found(r, "operation", o)) for o in fact.operations] if fact is not None else [],
    }


def _now(r, lineage: Lineage) -> str:
    """What the fact's permalink shows now: 'live' (the fact), 'withdrawn' (its tombstone), 'moved' (an
    alias of another fact), or 'removed' (nothing of this build: the permalink check guards a published one)."""
    if lineage.path is not None:
        return "live"
    if _found(r, "withdrawn", lineage.id) is not None:
        return "withdrawn"
    return "moved" if lineage.id in dict(r.get("all", "aliases")) else "removed"


def _found(r, table: str, key: str):
    try:
        return r.get(table, key)
    except KeyError:  # named in a version, gone from the archive since: shown by its id
        return None


def planned(archive: Archive) -> list[tuple[tuple[str, int], str]]:
    """Every version's page: its (id, number), and the file that holds its fact now ('' once deleted)."""
    found = archive.history
    if found is None:
        return []
    return [((v.fact, v.number), lineage.path or "")
            for _, lineage in sorted(found.lineages.items()) for v in lineage.versions]


def available(archive: Archive) -> str | None:
    """Why this build has no versions, or None when it has them."""
    return archive.history.unavailable if archive.history is not None else history.NOT_A_CHECKOUT
