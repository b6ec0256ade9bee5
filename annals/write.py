"""Writing the output folder: only into a folder we made, only changed bytes, all or nothing.

Pages are first written to a staging folder inside the output; only when the
whole build has succeeded are they moved into place (a rename each) and
files no longer produced are removed. A failed build removes the staging
folder and leaves the last good site exactly as it was.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

MARKER = ".annals-output"
STAGING = ".annals-staging"
_MARKER_TEXT = "This folder is written by Annals (python build.py). It is replaced on every build.\n"


class OutputRefused(Exception):
    pass


def check_output(out: Path, root: Path) -> None:
    """Refuse any output folder that Annals did not create, or that holds the project."""
    out, root = out.resolve(), root.resolve()
    protected = [root / "content", root / "templates", root / "static", root / "annals", root / "tests"]
    if out == Path(out.anchor) or out == Path.home().resolve():
        raise OutputRefused(f"refusing to write the site into {out}: choose a folder of its own, like _site")
    if out == root or out in root.parents:
        raise OutputRefused(f"refusing to write the site into {out}: it holds the project itself")
    for folder in protected:
        if out == folder or folder in out.parents:
            raise OutputRefused(f"refusing to write the site into {out}: it is inside {folder.name}/, which holds your sources")
    if out.exists():
        if not out.is_dir():
            raise OutputRefused(f"refusing to write the site into {out}: it is a file")
        if not (out / MARKER).is_file() and any(out.iterdir()):
            raise OutputRefused(f"refusing to write the site into {out}: it has files and no {MARKER} marker, "
                                "so Annals did not create it; remove it or choose another folder")


class Writer:
    """Stage changed files, then commit them all at once, or abort and touch nothing."""

    def __init__(self, out: Path):
        self.out = out
        self.staging = out / STAGING
        self.produced: set[str] = set()
        self.staged: list[str] = []
        self.existed = out.exists()

    def begin(self) -> None:
        if self.staging.exists():
            shutil.rmtree(self.staging)  # left by a build that was killed

    def keep(self, rel: str) -> None:
        """A file this build produces but did not need to re-render."""
        self.produced.add(rel)

    def add(self, rel: str, data: bytes) -> bool:
        """Stage `data` for out/rel unless it already holds those bytes; True if staged."""
        self.produced.add(rel)
        target = self.out / rel
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                return False
        except (FileNotFoundError, NotADirectoryError):
            pass
        path = self.staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.staged.append(rel)
        return True

    def abort(self) -> None:
        if self.staging.exists():
            shutil.rmtree(self.staging)
        if not self.existed and self.out.exists() and not (self.out / MARKER).exists():
            shutil.rmtree(self.out)  # a first build that failed leaves no trace

    def commit(self, previous: set[str] | None = None) -> tuple[int, int]:
        """Move staged files into place and remove files no longer produced: (written, removed).

        `previous` is what the last build produced, when known: then only those
        files are candidates for removal and the folder need not be walked.
        """
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / MARKER).write_text(_MARKER_TEXT)
        for rel in self.staged:
            target = self.out / rel
            if target.is_dir():  # a page became a file where a folder was
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / rel, target)
        if previous is not None:
            removed = self._remove(previous - self.produced)
        else:
            removed = self._sweep()
        self.abort()
        return len(self.staged), removed

    def _remove(self, stale: set[str]) -> int:
        for rel in stale:
            path = self.out / rel
            if path.is_file():
                path.unlink()
                parent = path.parent
                while parent != self.out and not any(parent.iterdir()):
                    parent.rmdir()
                    parent = parent.parent
        return len(stale)

    def _sweep(self) -> int:
        removed = 0
        for path in sorted(self.out.rglob("*"), reverse=True):
            rel = path.relative_to(self.out).as_posix()
            if rel == MARKER or rel == STAGING or rel.startswith(STAGING + "/"):
                continue
            if path.is_file() and rel not in self.produced:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        return removed
