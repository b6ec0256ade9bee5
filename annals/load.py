"""Read content/ into an Archive: which files it holds, their bytes (read ahead by a second process,
or by threads from a slow disk, and cached by their signatures), the archive assembled from what
each yields (see annals.records), and that archive patched for a few facts saved.
"""
from __future__ import annotations

import dataclasses
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, Iterable

from . import parallel
from .model import Archive, Article, Broken, Fact, Redirect, Site
from .problems import Loc, Problem, Problems
from .records import (MAX_MARKDOWN_BYTES, MAX_YAML_BYTES, Loaded, kind_of, read_file, refused_file, stem_of,
                      unreadable)
from .tree import hidden, never, walk

# Below this many files, a process to read some of them costs more than it saves.
PARALLEL_FROM = 2000
FETCHERS = 8  # threads reading files ahead of the parser, from a slow disk (see _fetched)
SAMPLE, SLOW_DISK = 200, 250e-6  # files read to tell, and seconds a file that make a disk slow (page cache: 20-40 µs; disk: ms)


def ignored(name: str) -> bool:
    """Editor droppings and hidden files: never content, never an error."""
    return name.startswith(".") or name.endswith("~") or name.startswith("#")


def content_files(root: Path, texts: list[str] | None = None) -> tuple[list[str], list[Problem]]:
    """Every content file to read (relative paths, sorted); files that look misplaced; and links
    refused, in content/ and in templates/ and static/, which the build reads too (see annals.tree).
    `texts`, if given, is filled with the sources' full texts, which the quote checks read."""
    content = root / "content"
    found, stray = [], []
    if not content.is_dir() and not content.is_symlink():
        # A folder has no lines: the location is the folder itself.
        return [], [Problem(Loc("content/"), f"missing: there is no content/ folder in {root}; "
                                             "run Annals in the project folder, or give it with --root")]
    # scandir's entries, not Path.rglob: ten times quicker over ten thousand files, and the preview walks on every save.
    everything, refused = walk(root, "content", ignored, ignored)
    refused += walk(root, "templates", ignored, ignored)[1] + walk(root, "static", hidden, never)[1]
    for rel in sorted(everything):
        if kind_of(rel):
            found.append(rel)
        elif not _allowed_extra(rel):
            stray.append(Problem(Loc(rel, 1), _stray_message(rel)))
        elif texts is not None:
            texts.append(rel)
    return found, sorted(stray + refused)


def _allowed_extra(rel: str) -> bool:
    # Full texts of sources, kept for quote checking, live beside the sources.
    return rel.startswith("content/sources/") and rel.count("/") >= 3


def _stray_message(rel: str) -> str:
    if rel.endswith(".yml"):
        return "is not read: content files end in .yaml, not .yml"
    return ("is not read: not a content file (expected site.yaml, metrics.yaml, redirects.yaml, "
            "operations/<id>.yaml, sources/<id>.yaml, facts/**/<id>.yaml, articles/<slug>.md "
            "or withdrawn/<id>.yaml)")


def assemble(loaded: list[tuple[str, Loaded]], problems: Problems) -> Archive:
    """Gather per-file results into one Archive, reporting ids written twice.

    Files with errors take part: an id or alias they claim clashes like any
    other, and a record that clashes is kept aside as broken, not published.
    """
    site = None
    tables: dict[str, dict[str, Any]] = {k: {} for k in ("metric", "operation", "source", "fact", "article", "withdrawn")}
    broken: list[Broken] = []
    redirects: dict[str, Redirect] = {}
    # (kind, case-folded key) -> (key as written, "id" or "alias", where): ids
    # that differ only in case are one file on macOS and Windows, and one URL
    # on a case-insensitive server, so they clash as surely as equal ones.
    folded: dict[tuple[str, str], tuple[str, str, Loc]] = {}

    def claim(kind: str, keys) -> bool:
        clash = False
        for k, what, loc in keys:
            first = folded.get((kind, k.casefold()))
            if first is None:
                folded[(kind, k.casefold())] = (k, what, loc)
                continue
            other, other_what, other_loc = first
            same = "is already used" if other == k else f"differs only in case from '{other}'"
            problems.error(loc, f"{kind} {what} '{k}' {same}: that is the {other_what} written at {other_loc}")
            clash = True
        return not clash

    for rel, result in loaded:
        problems.items.extend(result.problems)
        for rec in result.records:
            if isinstance(rec, Site):
                site = rec
                continue
            if isinstance(rec, Redirect):
                redirects[rec.old] = rec
                continue
            kind = type(rec).__name__.lower()
            key = rec.slug if isinstance(rec, Article) else rec.id
            if claim(kind, _keys(rec, key, rec.loc)):
                tables[kind][key] = rec
            else:
                broken.append(Broken(kind, rel, key, rec))
        for item in result.broken:
            if item.id is not None and item.kind in tables:
                claim(item.kind, _keys(item.record, item.id, Loc(rel, 1)))
            broken.append(item)
    if site is None and not any(rel == "content/site.yaml" for rel, _ in loaded):
        problems.error(Loc("content/site.yaml", 1), "missing: every archive needs a site.yaml")
    return Archive(
        site=site,
        metrics=tables["metric"], operations=tables["operation"], sources=tables["source"],
        facts=tables["fact"], articles=tables["article"], withdrawn=tables["withdrawn"],
        redirects=redirects, broken=tuple(broken),
    )


def _keys(rec, key: str, loc: Loc) -> list[tuple[str, str, Loc]]:
    """What a record claims: its id, and a fact's aliases (its own id as an alias is reported by the reader)."""
    keys = [(key, "id", loc)]
    if isinstance(rec, Fact):
        keys += [(a, "alias", rec.locs.get("aliases", loc)) for a in rec.aliases if a != key]
    return keys


def _case_clashes(files: list[str], problems: Problems) -> None:
    """File names that differ only in case name one id on most file systems, whatever they hold."""
    seen: dict[tuple[str, str], str] = {}
    for rel in files:
        stem = stem_of(rel)
        key = (kind_of(rel) or "", stem.casefold())
        first = seen.setdefault(key, rel)
        if first != rel and stem_of(first) != stem:
            problems.error(Loc(rel, 1), f"file name '{stem}' differs only in case from {first}; "
                                        "ids must differ in more than case")


def load(root: Path, problems: Problems, progress=None, cache: dict | None = None, workers: int = 1) -> Archive:
    """Read every content file; with a `cache` (the preview keeps one), only files whose stat changed.

    `progress` is told the number of files and counts them as they are read.
    With `workers` > 1 and no cache, a forked process reads files from the
    end of the list while this one reads from the start, until they meet (see _read_ahead).
    """
    files, stray = content_files(root)
    problems.items.extend(stray)
    _case_clashes(files, problems)
    # A content file refused unread (a link out of the project) still claims its id, as one that fails to read does.
    refused = [(p.loc.path, refused_file(p.loc.path)) for p in stray if kind_of(p.loc.path)]
    if progress is not None:
        progress.stage("load", len(files))
    ahead = None
    if workers > 1 and not cache and len(files) >= PARALLEL_FROM and parallel.can_fork():
        ahead = _read_ahead(root, files, cache)
    loaded = []
    try:
        for rel, fetched in _fetched(root, files if ahead is None else ahead.front(), cache):
            loaded.append((rel, _parsed(root, rel, fetched, cache)))
            if progress is not None:
                progress.advance()
    except BaseException:
        if ahead is not None:
            ahead.stop()
        raise
    if ahead is not None:
        theirs = _theirs(ahead, root, cache)
        loaded += theirs
        if progress is not None:
            progress.advance(len(theirs))
    if cache is not None:
        for gone in set(cache) - set(files):
            del cache[gone]
    return assemble(loaded + refused, problems)


def _read_ahead(root: Path, files: list[str], cache: dict | None = None) -> parallel.ReadAhead:
    """Files of `files` read and parsed in a forked process, from the back, while this one reads
    from the front (see parallel.ReadAhead): parsing is most of reading, and runs on one core."""
    return parallel.ReadAhead(files, _read_part, (root, cache is not None))


def _read_part(root: Path, signed: bool, files: Iterable[str]):
    """What the read-ahead process yields for the files it takes: (path, (signature, records)), with
    the signature when `signed` (for the cache of the process that started it)."""
    cache = {} if signed else None
    return ((rel, (fetched[0], _parsed(root, rel, fetched, cache))) for rel, fetched in _fetched(root, files, cache))


def _theirs(ahead: parallel.ReadAhead, root: Path, cache: dict | None) -> list[tuple[str, Loaded]]:
    """(path, what it yields) for each file the read-ahead process took, in order; read here if it
    did not send it (it failed), so that a problem is reported as ever."""
    got, rest = ahead.results()
    if cache is not None:
        cache.update((rel, hit) for rel, hit in got.items() if hit[0] is not None)
    return [(rel, got[rel][1] if rel in got else _read_cached(root, rel, cache)) for rel in rest]


def _fetched(root: Path, files: Iterable[str], cache: dict | None, slow: float = SLOW_DISK):
    """(path, what _fetch found) for each file, in order.

    Reading waits on the disk, parsing on the processor. From a cold disk,
    threads that fetch ahead while this one parses made loading five times
    quicker; from the page cache they only fought over the interpreter's
    lock. So the first files are read here, and threads take over only if
    reading them was slow. They run a few chunks ahead, no more: `files`
    may be taken as they are asked for (see _Claims).
    """
    files = iter(files)
    reading, first = 0.0, list(islice(files, SAMPLE))
    for rel in first:
        started = time.perf_counter()
        fetched = _fetch(root, rel, cache)
        reading += time.perf_counter() - started  # not the parsing done between one file and the next
        yield rel, fetched
    if reading < slow * max(1, len(first)):
        for rel in files:
            yield rel, _fetch(root, rel, cache)
        return
    with ThreadPoolExecutor(FETCHERS) as pool:
        ahead: deque = deque()
        for chunk in iter(lambda: list(islice(files, 64)), []):
            ahead.append((chunk, pool.submit(lambda chunk: [_fetch(root, rel, cache) for rel in chunk], chunk)))
            if len(ahead) > FETCHERS:
                done, fetched = ahead.popleft()
                yield from zip(done, fetched.result())
        for done, fetched in ahead:
            yield from zip(done, fetched.result())


def _read_cached(root: Path, rel: str, cache: dict | None) -> Loaded:
    return _parsed(root, rel, _fetch(root, rel, cache), cache)


# What _fetch found: a file's signature, and its bytes, or the error reading it, or
# None for bytes the cache already holds the reading of.
Fetched = tuple[tuple | None, "bytes | OSError | None"]


def _fetch(root: Path, rel: str, cache: dict | None) -> Fetched:
    """The file system's part of reading a file (see load): its bytes, unless the cache knows them."""
    path = root / rel
    if cache is None:
        signature = None
    else:
        try:
            st = os.stat(path)
        except OSError as err:
            return None, err
        # A save always moves the change time on, even when size and mtime are kept.
        signature = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        hit = cache.get(rel)
        if hit is not None and hit[0] == signature:
            return signature, None
    try:
        return signature, _read_bytes(path, rel)
    except OSError as err:
        return signature, err


def _parsed(root: Path, rel: str, fetched: Fetched, cache: dict | None) -> Loaded:
    signature, data = fetched
    if data is None:
        return cache[rel][1]
    result = unreadable(rel, root / rel, data) if isinstance(data, OSError) else read_file(rel, data)
    if cache is not None and signature is not None:
        cache[rel] = (signature, result)
    return result


def _read_bytes(path: Path, rel: str) -> bytes:
    """The file's bytes, but never more than its limit and one: a file over it is refused unread.

    Five calls to the system a file, where a file object made eight: reading
    ten thousand files from the page cache took half as long (7 µs a file).
    """
    limit = MAX_MARKDOWN_BYTES if rel.endswith(".md") else MAX_YAML_BYTES
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        chunks, total, want = [], 0, min(os.fstat(fd).st_size, limit) + 1
        while total <= limit:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = limit + 1 - total
        return b"".join(chunks)
    finally:
        os.close(fd)


def update(root: Path, archive: Archive, changed: set[str], cache: dict) -> dict[str, Fact | None] | None:
    """Read again only the changed files, when all of them are fact files: their facts, None for one removed.

    The preview's way to take a save in a large archive at once; `archive`
    is the last good build's. None (read everything) for any other file, and
    for a file with problems or an id that might clash, so that the whole
    archive is read and every problem reported as a cold build would.
    """
    content = [rel for rel in changed if rel == "content" or rel.startswith("content/")]
    if any(kind_of(rel) != "fact" or any(ignored(part) for part in rel.split("/")) for rel in content):
        return None
    if _through_links(root, changed):
        return None  # a link made or changed anywhere: the whole walk says whether it is followed
    out: dict[str, Fact | None] = {}
    for rel in content:
        stem = stem_of(rel)
        old = archive.facts.get(stem)
        if old is not None and old.loc.path != rel:
            return None  # another file holds that id: the whole read names both
        if not os.path.isfile(root / rel):
            cache.pop(rel, None)
            if old is not None:
                out[stem] = None
            continue
        result = _read_cached(root, rel, cache)
        if result.problems or len(result.records) != 1:
            return None
        if old is None or result.records[0].digest != old.digest:  # an editor's save of the same bytes changes nothing
            out[stem] = result.records[0]
    claimed = [(ident, f) for ident, f in out.items()
               if f is not None and (archive.facts.get(ident) is None or f.aliases != archive.facts[ident].aliases)]
    if claimed:
        taken = {k.casefold() for ident, f in archive.facts.items() if ident not in out for k in (ident, *f.aliases)}
        mine = [k.casefold() for ident, f in claimed for k in (ident, *f.aliases)]
        if len(set(mine)) < len(mine) or taken.intersection(mine):
            return None
    return out


def _through_links(root: Path, paths: Iterable[str]) -> bool:
    """Whether any of these paths is, or lies in, a symbolic link."""
    home = os.path.realpath(root)
    return any(os.path.realpath(os.path.join(root, rel)) != os.path.join(home, *rel.split("/")) for rel in paths)


def patched(archive: Archive, facts: dict[str, Fact | None]) -> Archive:
    """`archive` with these facts put in, or taken out where None."""
    table = dict(archive.facts)
    for ident, fact in facts.items():
        if fact is None:
            table.pop(ident, None)
        else:
            table[ident] = fact
    return dataclasses.replace(archive, facts=table)
