"""What git knows of content/: when each file last changed, and every committed change to each file.

Both come from one `git log` over content/ along the first-parent line of
the commit checked out: the states the branch itself held, one after the
other, which is what a site built from it published. A merge is one change
(what it brought, against the branch it was merged into); the commits of a
merged branch were never published one by one, and following them would
number a merge's changes among older ones. So a change is only ever added
after the others, never between them, unless the history is rewritten.

The date of a file is the committer date of the last change to it, in UTC,
so that the same history gives the same bytes on any machine. A file git
cannot vouch for has no date, and nothing here ever falls back on a clock:
- outside a git checkout, or without git installed: no history at all;
- in a shallow clone (CI's default checkout of depth 1): the oldest commit
  it holds stands for all the history it cut off, so there is none either;
- a file with uncommitted changes, or not yet committed: its change is not
  part of any history yet, so it has no date.

`state` is the dates with, under the facts folder's own path (FACTS), a
digest of that log: what a build compares with the last one's to tell what
changed. A commit that makes a new version of a fact without moving any
file's date (two commits within a second, a history rewritten) still
changes it, and a build told that the folder changed reads it all again.

Whatever the number of files, reading the log takes three git processes
(rev-parse, log, status), and reading every version's file one more
(`cat-file --batch`, see `read_blobs`).
"""
from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

FACTS = "content/facts"
_HEAD = "\x01"  # starts each commit's header in the log: never in a status line or a path where one is read
_FORMAT = "--format=" + "%x01%H %ct%n%B"
NOT_A_CHECKOUT = ("there is no git history here (a plain copy, not a git checkout, or git is not installed), "
                  "so no fact lists its versions")
SHALLOW = ("this is a shallow clone (git clone --depth, CI's default checkout), whose history is cut off, "
           "so no fact lists its versions: fetch the whole history (`git fetch --unshallow`; in GitHub "
           "Actions, actions/checkout with `fetch-depth: 0`)")


@dataclass(frozen=True)
class Change:
    """One file changed by one commit of the first-parent line."""

    commit: str
    time: int          # the committer date, in seconds since the epoch
    subject: str       # the first line of the commit's message
    status: str        # "A" added, "M" modified, "T" its type changed, "D" deleted, "R" renamed from `old`
    path: str          # relative to the project's root
    blob: str | None   # the file as the commit left it; None when deleted
    old: str | None = None


@dataclass(frozen=True)
class Log:
    dates: dict[str, str] = field(default_factory=dict)   # see last_changed
    changes: tuple[Change, ...] = ()                      # every change under content/, oldest first
    unavailable: str | None = None                        # why there is no history; None when there is
    digest: str = ""                                      # of the log as git wrote it


def _git(root: Path, *args: str, given: bytes | None = None) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(root), "-c", "core.quotepath=off", *args], capture_output=True,
                              timeout=600, input=given, stdin=None if given is not None else subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def last_changed(root: Path, folder: str = "content") -> dict[str, str]:
    """Path relative to root (e.g. 'content/facts/x.yaml') -> 'YYYY-MM-DDTHH:MM:SSZ'."""
    return read_log(root, folder).dates


def state(root: Path) -> dict[str, str]:
    """`last_changed`, and FACTS -> the digest of the log (see the module's docstring)."""
    return state_of(read_log(root))


def state_of(log: Log) -> dict[str, str]:
    """`state` of a log already read: a build that reads it once for both hands the same log to versions.read."""
    return {**log.dates, FACTS: log.digest} if log.digest else log.dates


def read_log(root: Path, folder: str = "content") -> Log:
    """The history of `folder`: every change along the first-parent line, and each file's date."""
    where = _git(root, "rev-parse", "--show-prefix", "--is-shallow-repository")
    if where is None:
        return Log(unavailable=NOT_A_CHECKOUT)
    prefix, shallow = (_text(where).splitlines() + ["", ""])[:2]
    if shallow.strip() != "false":
        return Log(unavailable=SHALLOW)
    log = _git(root, "log", "-z", "--first-parent", "--raw", "--no-abbrev", "-M", "--no-color", _FORMAT,
               "--", folder)
    status = _git(root, "status", "-z", "--porcelain", "--untracked-files=all", "--", folder)
    if log is None or status is None:
        # HEAD holds no commit yet (a repository just made), or git failed: nothing is committed
        return Log(unavailable=None if log is None and _git(root, "rev-parse", "HEAD") is None else NOT_A_CHECKOUT)
    changes = _changes(_text(log), prefix)
    newest: dict[str, int] = {}
    for change in changes:
        newest[change.path] = max(newest.get(change.path, 0), change.time)
    for rel in _dirty(_text(status), prefix):
        newest.pop(rel, None)
    dates = {rel: utc(t) for rel, t in sorted(newest.items())}
    return Log(dates, tuple(reversed(changes)), None, hashlib.blake2b(log, digest_size=12).hexdigest())


def utc(time: int) -> str:
    """A commit's time as dates are written: 'YYYY-MM-DDTHH:MM:SSZ'."""
    return datetime.fromtimestamp(time, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _changes(log: str, prefix: str) -> list[Change]:
    """The changes `git log -z --raw` lists, newest first: a header, then status lines each followed by
    its path (two for a rename or a copy). Paths outside `prefix` (the project's folder) are left out."""
    out: list[Change] = []
    tokens = log.split("\0")
    commit, when, subject = "", 0, ""
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip("\n")
        i += 1
        if token.startswith(_HEAD):
            head, _, message = token[1:].partition("\n")
            commit, _, stamp = head.partition(" ")
            when, subject = int(stamp or 0), message.strip("\n").split("\n", 1)[0].strip()
            continue
        if not token.startswith(":"):
            continue
        fields = token[1:].split()
        code = fields[-1][:1]
        paths = tokens[i:i + (2 if code in "RC" else 1)]
        i += len(paths)
        blob = None if code == "D" else fields[3]
        old = paths[0] if code in "RC" else None
        path = paths[-1]
        if not path.startswith(prefix):
            continue
        out.append(Change(commit, when, subject, "A" if code == "C" else code, path[len(prefix):], blob,
                          old[len(prefix):] if old is not None and old.startswith(prefix) and code == "R" else None))
    return out


def read_blobs(root: Path, blobs) -> dict[str, bytes]:
    """Each blob's bytes, all read by one `git cat-file --batch`; a blob git does not hold is left out."""
    wanted = list(dict.fromkeys(b for b in blobs if b))
    if not wanted:
        return {}
    data = _git(root, "cat-file", "--batch", given=("\n".join(wanted) + "\n").encode())
    out: dict[str, bytes] = {}
    if data is None:
        return out
    at = 0
    while at < len(data):
        end = data.index(b"\n", at)
        header = data[at:end].split()
        at = end + 1
        if len(header) != 3:  # "<blob> missing"
            continue
        size = int(header[2])
        out[header[0].decode()] = data[at:at + size]
        at += size + 1
    return out


def _dirty(status: str, prefix: str) -> list[str]:
    """Paths `git status --porcelain -z` lists; a rename's entry is followed by its old path."""
    out, tokens = [], iter(status.split("\0"))
    for token in tokens:
        if len(token) < 4:
            continue
        code, path = token[:2], token[3:]
        if "R" in code or "C" in code:
            next(tokens, None)
        if path.startswith(prefix):
            out.append(path[len(prefix):])
    return out
