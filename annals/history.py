"""When each content file last changed, read from git: the date a citation names.

The date of a file is the committer date of the last commit that touched it,
in UTC, so that the same history gives the same bytes on any machine. A file
git cannot vouch for has no date, and nothing here ever falls back on a clock:
- outside a git checkout, or without git installed: no file has a date;
- in a shallow clone (CI's default checkout of depth 1): the oldest commit
  it holds stands for all the history it cut off, so no file has a date;
- a file with uncommitted changes, or not yet committed: its change is not
  part of any history yet, so it has no date.

Three git commands run per build, whatever the number of files.
"""
from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from pathlib import Path

_COMMIT = "commit "


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "surrogateescape")


def last_changed(root: Path, folder: str = "content") -> dict[str, str]:
    """Path relative to root (e.g. 'content/facts/x.yaml') -> 'YYYY-MM-DDTHH:MM:SSZ'."""
    where = _git(root, "rev-parse", "--show-prefix", "--is-shallow-repository")
    if where is None:
        return {}
    prefix, shallow = (where.splitlines() + ["", ""])[:2]
    if shallow.strip() != "false":
        return {}
    log = _git(root, "log", "-z", "--no-renames", "--format=" + _COMMIT + "%ct", "--name-only", "--", folder)
    status = _git(root, "status", "-z", "--porcelain", "--untracked-files=all", "--", folder)
    if log is None or status is None:
        return {}
    newest: dict[str, int] = {}
    when = 0
    for token in log.split("\0"):
        token = token.strip("\n")
        if token.startswith(_COMMIT):
            when = int(token[len(_COMMIT):])
        elif token.startswith(prefix) and token:
            rel = token[len(prefix):]
            newest[rel] = max(newest.get(rel, 0), when)
    for rel in _dirty(status, prefix):
        newest.pop(rel, None)
    return {rel: datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            for rel, t in sorted(newest.items())}


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
