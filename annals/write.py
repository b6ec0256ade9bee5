"""Writing the output folder: only into a folder we made, only changed bytes, all or nothing.

Pages are first written to a staging folder beside the output; only when the
whole build has succeeded are they put in place, the whole site at once (see
publish), and Annals' own files no longer produced are removed. A failed
build removes the staging folder and leaves the last good site exactly as it was.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

from . import parallel, publish
from .publish import MARKER, STAGING  # noqa: F401  (the names the preview's server hides)



# A page is written with three calls, not the six of open(): a file object also
# asks the size of its blocks, whether it is a terminal, and where it stands.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class OutputRefused(Exception):
    pass


_ADVICE = {
    errno.ENOSPC: "free some space on that disk, then build again",
    errno.EDQUOT: "free some space within your quota, then build again",
    errno.EROFS: "the file system is read-only: choose another --out, or mount it writable",
    errno.EACCES: "make it writable by this user (`ls -ld` shows its owner), or choose another --out",
    errno.EPERM: "make it writable (`ls -ld` and `lsattr -d` show why it is not), or choose another --out",
    errno.ENOTDIR: "a file is in the way of a folder: move it, then build again",
    errno.EEXIST: "something is in the way: move it, then build again",
    errno.EISDIR: "a folder is in the way of a file: move it, then build again",
    errno.EMFILE: "too many files are open: raise the limit (ulimit -n), then build again",
    errno.ENAMETOOLONG: "a path is too long for this file system: choose a shorter --out",
}


def write_fault(error: OSError, out: Path) -> str:
    """One line for a build that the file system stopped: what, where, and what to do."""
    where = Path(error.filename) if error.filename else out
    advice = _ADVICE.get(error.errno, "fix that, then build again")
    line = f"cannot write {where}: {error.strerror or error}; {advice}"
    inside = (out.resolve(), publish.workplace(out).resolve())
    if any(where.resolve() == folder or folder in where.resolve().parents for folder in inside):
        line += f". Nothing was published: {out} is as it was"
    return line


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

    Only for an output folder that is not there yet, into the spare beside it
    (see publish) where the new site is put together: a build that fails removes it whole.
    """

    def __init__(self, out: Path | None):
        """Make `out` for the folders `start` is given, unless `out` is None: nothing to make."""
        self.out = out
        self._process = None
        if out is None or out.exists() or not parallel.can_fork():
            self.out = None
            return
        out.mkdir(parents=True)

    @classmethod
    def replacing(cls, out: Path) -> "FoldersAhead":
        """Folders made ahead in `out`, where a folder there already (a spare a killed first build left,
        or the last build's, its output folder deleted since) is put aside in one rename and removed by
        the process that makes the folders, once they are made: removing ten thousand folders took a second."""
        if out.exists() and parallel.can_fork():
            out.rename(out.with_name(f"{out.name}{_DISCARDED}{os.urandom(4).hex()}"))
        return cls(out)

    @property
    def makes_folders(self) -> bool:
        """Whether the folders are made (or being made) by this, rather than by the writer."""
        return self.out is not None

    def mirrored(self) -> None:
        """A new output has no spare to mirror it (see SpareAhead)."""
        return None

    def start(self, folders: Callable[[], Iterable[str]]) -> None:
        """Make `folders()` (paths inside `out`), worked out by the process that makes them."""
        if self.out is not None and self._process is None:
            self._process = parallel.Child(_make_folders, (str(self.out), folders))

    def done(self, failed: bool) -> None:
        """Wait for the folders (stop making them if the build failed); a failed build leaves no trace."""
        if self.out is None:
            return
        if self._process is not None:
            self._process.stop() if failed else self._process.wait()
            self._process = None
        if failed:
            shutil.rmtree(self.out, ignore_errors=True)
        self.out = None


class SpareAhead:
    """The spare made the output's mirror by a process of its own, while the build reads and renders.

    An output folder there already is swapped whole for the spare beside it
    (see publish), which must first hold what the output holds. Walking both
    trees for that, at the commit, took 0.3 s of a build that changed one
    fact among 10,000, 1.5 s when there was no spare yet (after a first
    build: ten thousand folders to make), 3 s at 100,000. The walk needs
    nothing of what the build changes: made ahead, the spare holds all of
    the output and a list of the files Annals did not write, and the commit
    puts what it staged on top and takes away what is no longer produced.
    A build into a new folder, which leaves no spare, starts one as it commits
    (while it saves its session: see pipeline._build_resumed), leaving out the
    zip: linked, its times would move on from those the session's look holds.
    Where it cannot be made ahead (no fork, no swap), and where the output
    changed while the build ran (a file added, removed or renamed over in
    any of its folders: git at work in _site/.git), the commit walks both trees itself.
    """

    makes_folders = False

    def __init__(self, out: Path, leave: frozenset[str] = frozenset()):
        self._child = None
        self._listing = publish.workplace(out) / "mirrored"
        if not out.is_dir() or not publish.can_swap(out) or not parallel.can_fork():
            return
        self._listing.unlink(missing_ok=True)
        self._child = parallel.Child(publish.mirror_ahead, (out, publish.spare(out), self._listing, leave))

    def start(self, folders) -> None:
        """Nothing more to make: the spare was started on at once."""

    def mirrored(self) -> "publish.Mirrored | None":
        """Wait for the spare: what it saw of the output; None if it was not made."""
        if self._child is None:
            return None
        code, self._child = self._child.wait(), None
        return publish.mirrored_listing(self._listing) if code == 0 else None

    def done(self, failed: bool) -> None:
        """Stop it if the build failed before its commit waited for it (the spare stays as it is: any will do)."""
        if self._child is not None:
            self._child.stop()
            self._child = None


_DISCARDED = ".discarded-"  # a folder FoldersAhead put aside, for its process to remove


def _make_folders(out: str, folders: Callable[[], Iterable[str]]) -> None:
    for rel in folders():
        path = os.path.join(out, rel)
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(path, exist_ok=True)
    head, name = os.path.split(out)
    for entry in os.scandir(head):  # what was put aside, by this build or one killed before it removed it
        if entry.name.startswith(name + _DISCARDED):
            shutil.rmtree(entry.path, ignore_errors=True)


class Writer:
    """Stage changed files, then put them in place all at once, or abort and touch nothing.

    Three ways to put them in place (see publish):
    - a new output folder is written whole in the spare beside it, then renamed into place;
    - an output folder there already is swapped whole for the spare, brought up to date;
    - the preview's own folder, which only its server reads, and a folder that cannot be
      swapped (a mount point), have their files replaced one by one, each in one rename.
    `stage` only touches the file system, so worker processes may call it;
    the process that commits records what they staged with `record`.
    """

    def __init__(self, out: Path, in_memory: bool = False, existed: bool | None = None,
                 ahead: "FoldersAhead | SpareAhead | None" = None):
        self.out = out
        self.spare = publish.spare(out)
        self.produced: set[str] = set()
        self.staged: list[str] = []
        self.found: list[str] = []  # after a commit: files kept that Annals did not write, not named before
        # Whether the folder was there before this build.
        self.existed = out.exists() if existed is None else existed
        # A new folder holds nothing to compare with or to protect: files go
        # straight to their place in the spare, and a failed build removes it.
        self.fresh = not self.existed
        self.swap = not self.fresh and not in_memory and publish.can_swap(out)
        self.staging = (publish.workplace(out) / "staging" if self.fresh or self.swap
                        else out / publish.STAGING)  # renamed from there: on the output's file system
        # The preview's own folder: changed files wait in memory and are written in place,
        # sparing a rename each. Only this process's memory: worker processes still stage files.
        self.held: dict[str, bytes] | None = {} if in_memory and not self.fresh else None
        self._pid = os.getpid()
        self._folders: set[str] = set()  # made by this writer (in this process: workers fork with it)
        self._ahead = ahead
        self._folders_made = ahead is not None and ahead.makes_folders  # most of them: open first, make on failing

    def begin(self) -> None:
        if self.staging.exists():
            shutil.rmtree(self.staging)  # left by a build that was killed
        if self.fresh and not self._folders_made and self.spare.exists():
            shutil.rmtree(self.spare)  # a first build killed: what it wrote is no part of this one
        if self.held is None:
            self.staging.mkdir(parents=True)
        if self.fresh:
            self.spare.mkdir(parents=True, exist_ok=True)

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
            return os.path.join(self.spare, rel)
        # Flat names: staging needs no folder per page, and a page's path may be long.
        return os.path.join(self.staging, hashlib.blake2b(rel.encode(), digest_size=16).hexdigest())

    def abort(self) -> None:
        if self.held is not None:
            self.held.clear()
        if self.staging.exists():
            shutil.rmtree(self.staging)
        if self.fresh and self.spare.exists():
            shutil.rmtree(self.spare)  # a first build that failed leaves no trace

    def commit(self, previous: set[str] | None = None) -> tuple[int, int]:
        """Put the staged files in place and remove Annals' files no longer produced: (written, removed).

        `previous` is what the last build produced, when known: it stands for
        the marker's list where the marker, an older Annals', has none.
        """
        record = publish.Record() if self.fresh else publish.Record.read(self.out)
        ours = record.written if record.written is not None else frozenset(previous or ())
        if self.fresh:
            removed = self._rename_into_place()
        elif not self.staged and record.written == self.produced:
            removed = 0  # nothing to put in place: the site is as it was
        elif self.swap:
            removed = self._swap(record, ours)
        else:
            removed = self._replace_in_place(record, ours)
        self.abort()
        return len(self.staged), removed

    def _rename_into_place(self) -> int:
        publish.Record(frozenset(self.produced)).write(self.spare)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.spare, self.out)
        return 0

    def _swap(self, record: publish.Record, ours: frozenset[str]) -> int:
        staged, produced = set(self.staged), self.produced
        mirrored = self._ahead.mirrored() if self._ahead is not None else None
        if mirrored is not None and record.written is not None and mirrored.still(self.out):
            removed, taken, found = self._on_the_mirror(ours, staged, list(mirrored.found))
        else:  # no mirror made ahead, or the output changed since by another hand: the walk takes it all in
            removed, taken, found = self._mirror(record, ours, staged)
        if taken:
            raise publish.InTheWay(f"{self.out / taken[0]} was not written by Annals, and this build must write "
                                   f"there{f' (and {len(taken) - 1} more)' if len(taken) > 1 else ''}: "
                                   "move it, then build again")
        for rel in self.staged:
            publish.place(self._staged(rel), self.spare, rel, self.out)
        summary = publish.foreign_summary(found, produced)
        self.found = [f"{head}{f' ({count} files)' if count > 1 else ''}"
                      for head, count in summary.items() if head not in record.foreign]
        publish.Record(frozenset(produced), frozenset(summary)).write(self.spare)
        publish.swap_in(self.spare, self.out)
        return removed

    def _on_the_mirror(self, ours: frozenset[str], staged: set[str],
                       foreign: list[str]) -> tuple[int, list[str], list[str]]:
        """What _mirror does, on a spare made the output's mirror ahead (see SpareAhead): Annals' files no
        longer produced taken away, and the editor's files found where this build writes."""
        removed = 0
        for rel in ours - self.produced - staged:
            path = os.path.join(self.spare, rel)
            if os.path.isfile(path) or os.path.islink(path):
                os.unlink(path)
                publish.prune(str(self.spare), rel)
                removed += 1
        taken = [rel for rel in foreign if rel in staged]
        return removed, taken, [rel for rel in foreign if rel not in self.produced]

    def _mirror(self, record: publish.Record, ours: frozenset[str],
                staged: set[str]) -> tuple[int, list[str], list[str]]:
        """The spare brought up to date by walking both trees: (files removed, the editor's files where
        this build writes, the editor's files kept)."""
        produced = self.produced
        taken: list[str] = []
        removed = [0]

        def drop(rel: str) -> bool:
            if rel in staged:
                if record.written is not None and rel not in ours:
                    taken.append(rel)
                return True
            if rel in produced or rel not in ours:
                return False
            removed[0] += 1
            return True

        mirror = publish.Mirror(drop, lambda rel: rel not in produced and rel not in ours)
        mirror.run(self.out, self.spare)
        return removed[0], taken, mirror.found

    def _replace_in_place(self, record: publish.Record, ours: frozenset[str]) -> int:
        folders: set[str] = set()
        for rel in self.staged:
            target = os.path.join(self.out, rel)
            folder = os.path.dirname(target)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            if os.path.isdir(target) and rel not in ours:
                raise publish.InTheWay(f"{target} is a folder where Annals must write a file: move it, then build again")
            if os.path.isdir(target):  # a page became a file where a folder was
                shutil.rmtree(target)
            if self.held is not None and rel in self.held:
                tmp = f"{target}.annals-tmp"  # renamed into place: the server never reads half a file
                with open(tmp, "wb") as handle:
                    handle.write(self.held[rel])
                os.replace(tmp, target)
            else:
                os.replace(self._staged(rel), target)
        removed = self._remove(ours - self.produced)
        if record.written != self.produced:
            publish.Record(frozenset(self.produced), record.foreign).write(self.out)
        return removed

    def _remove(self, stale) -> int:
        count = 0
        for rel in stale:
            path = self.out / rel
            if path.is_file():
                path.unlink()
                count += 1
                parent = path.parent
                while parent != self.out and not any(parent.iterdir()):
                    parent.rmdir()
                    parent = parent.parent
        return count
