"""Writing the output folder: only into a folder we made, only changed bytes, all or nothing.

Pages are first written to a staging folder inside the output; only when the
whole build has succeeded are they moved into place (a rename each) and
files no longer produced are removed. A failed build removes the staging
folder and leaves the last good site exactly as it was.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

MARKER = ".annals-output"
STAGING = ".annals-staging"
_MARKER_TEXT = "This folder is written by Annals (python build.py). It is replaced on every build.\n"


# A page is written with three calls, not the six of open(): a file object also
# asks the size of its blocks, whether it is a terminal, and where it stands.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


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


class FoldersAhead:
    """A new output folder's page folders, made by a process of its own while the archive is indexed.

    Nearly every page has a folder of its own. Making ten thousand took 0.6 to
    1.7 s on this project's machine, and while two processes rendered pages,
    each making folders in facts/ waited for the other, which held that
    folder's lock: the render of 10,000 facts took 0.4 to 0.9 s longer than
    with the folders made (measured). Reading the archive takes both cores,
    but validating, indexing and planning leave one idle, so the folders are
    made then (`start`), from the facts just read.

    Only into an output folder that is not there yet: nothing in it can be
    lost, and a build that fails removes it whole, as a first build always has.
    """

    def __init__(self, out: Path | None):
        """Make `out` for the folders `start` is given, unless `out` is None: nothing to make."""
        self.out = out
        self._process = None
        if out is None or out.exists() or "fork" not in multiprocessing.get_all_start_methods():
            self.out = None
            return
        out.mkdir(parents=True)
        (out / MARKER).write_text(_MARKER_TEXT)  # before any folder: check_output sees a folder of ours

    @property
    def makes_folders(self) -> bool:
        """Whether the folders are made (or being made) by this, rather than by the writer."""
        return self.out is not None

    def start(self, folders: Callable[[], Iterable[str]]) -> None:
        """Make `folders()` (paths inside `out`), worked out by the process that makes them."""
        if self.out is not None and self._process is None:
            self._process = multiprocessing.get_context("fork").Process(
                target=_make_folders, args=(str(self.out), folders), daemon=True)
            self._process.start()

    def done(self, failed: bool) -> None:
        """Wait for the folders (stop making them if the build failed); a failed build leaves no trace."""
        if self.out is None:
            return
        if self._process is not None:
            if failed:
                self._process.terminate()
            self._process.join()
            self._process = None
        if failed:
            shutil.rmtree(self.out, ignore_errors=True)
        self.out = None


def _make_folders(out: str, folders: Callable[[], Iterable[str]]) -> None:
    for rel in folders():
        path = os.path.join(out, rel)
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(path, exist_ok=True)


class Writer:
    """Stage changed files, then commit them all at once, or abort and touch nothing.

    `stage` only touches the file system, so worker processes may call it;
    the process that commits records what they staged with `record`.
    """

    def __init__(self, out: Path, in_memory: bool = False, existed: bool | None = None,
                 folders_made: bool = False):
        self.out = out
        self.staging = out / STAGING
        self.produced: set[str] = set()
        self.staged: list[str] = []
        # Whether the folder was there before this build (FoldersAhead may have made it since).
        self.existed = out.exists() if existed is None else existed
        # A new folder holds nothing to compare with or to protect: files go
        # straight to their place, and a failed build removes the whole folder.
        self.fresh = not self.existed
        # The preview's own folder, which only its server reads, and not while it builds:
        # changed files wait in memory and are written in place, sparing a rename each.
        # Only this process's memory: worker processes still stage files.
        self.held: dict[str, bytes] | None = {} if in_memory and not self.fresh else None
        self._pid = os.getpid()
        self._folders: set[str] = set()  # made by this writer (in this process: workers fork with it)
        self._folders_made = folders_made  # by FoldersAhead, most of them: open first, make on failing

    def begin(self) -> None:
        if self.staging.exists():
            shutil.rmtree(self.staging)  # left by a build that was killed
        if self.held is None:
            self.staging.mkdir(parents=True)

    def keep_all(self, rels) -> None:
        """Files this build produces, whether it renders them again or not."""
        self.produced.update(rels)

    def stage(self, rel: str, data: bytes) -> bool:
        """Put `data` in staging for out/rel unless it already holds those bytes; True if staged."""
        if not self.fresh:
            target = os.path.join(self.out, rel)
            try:
                if os.stat(target).st_size == len(data):
                    with open(target, "rb") as handle:
                        if handle.read() == data:
                            return False
            except OSError:
                pass
        if self.held is not None and os.getpid() == self._pid:
            self.held[rel] = data
            return True
        path = self._staged(rel)
        folder = os.path.dirname(path)
        if self.fresh and not self._folders_made and folder not in self._folders:
            # Nearly every page has a folder of its own: make it first rather than
            # fail to open the file, a wasted call each on a slow file system.
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        try:
            fd = os.open(path, _NEW_FILE, 0o666)
        except FileNotFoundError:  # a folder not made ahead, or the staging folder a writer in memory had no need of yet
            os.makedirs(folder, exist_ok=True)
            fd = os.open(path, _NEW_FILE, 0o666)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        return True

    def add_written(self, rel: str, write) -> None:
        """Stage a file that `write(handle)` writes, too large to hold in memory (the offline zip)."""
        path = self._staged(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            write(handle)
        self.record(rel, True)

    @property
    def spool(self) -> Path:
        """A folder for what a build writes on the way to its files, removed with the staging folder."""
        return self.staging / "spool"

    def record(self, rel: str, staged: bool) -> None:
        self.produced.add(rel)
        if staged:
            self.staged.append(rel)

    def add(self, rel: str, data: bytes) -> bool:
        staged = self.stage(rel, data)
        self.record(rel, staged)
        return staged

    def _staged(self, rel: str) -> str:
        if self.fresh:
            return os.path.join(self.out, rel)
        # Flat names: staging needs no folder per page, and a page's path may be long.
        return os.path.join(self.staging, hashlib.blake2b(rel.encode(), digest_size=16).hexdigest())

    def abort(self) -> None:
        if self.held is not None:
            self.held.clear()
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
        marker = self.out / MARKER
        if not marker.is_file() or marker.read_text() != _MARKER_TEXT:  # a build that changes nothing writes nothing
            marker.write_text(_MARKER_TEXT)
        folders: set[str] = set()
        for rel in () if self.fresh else self.staged:
            target = os.path.join(self.out, rel)
            folder = os.path.dirname(target)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            if os.path.isdir(target):  # a page became a file where a folder was
                shutil.rmtree(target)
            if self.held is not None and rel in self.held:
                with open(target, "wb") as handle:
                    handle.write(self.held[rel])
            else:
                os.replace(self._staged(rel), target)
        if previous is not None:
            removed = self._remove(previous - self.produced)
        elif self.fresh:
            removed = 0
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
        for folder, dirs, files in os.walk(self.out, topdown=False):
            rel_folder = os.path.relpath(folder, self.out)
            if rel_folder == STAGING or rel_folder.startswith(STAGING + os.sep):
                continue
            for name in files:
                rel = name if rel_folder == "." else f"{rel_folder}/{name}".replace(os.sep, "/")
                if rel != MARKER and rel not in self.produced:
                    os.unlink(os.path.join(folder, name))
                    removed += 1
            if rel_folder != "." and not os.listdir(folder):
                os.rmdir(folder)
        return removed
