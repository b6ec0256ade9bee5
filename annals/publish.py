"""Putting a build in place, as a reader of the output folder sees it: the last site whole, then the next whole.

Beside the output folder `_site/` Annals keeps a working folder of its own,
`._site.annals/`, never inside the output (a hand deploy would upload it):
- `lock`: held by the build that writes the output; another build waits;
- `staging/`: the files a build rendered, until they are put in place;
- `spare/`: where the next site is put together, then swapped with the
  output in one rename (renameat2 with RENAME_EXCHANGE). After the swap the
  spare holds the site before, whose files, but for those the build changed,
  are hard links to the same files as the new one's. The next build brings
  it up to date by walking both trees (inode numbers from readdir, no stat
  a file) and linking again what differs, then puts what it rendered on
  top. A kill at any moment leaves the output one whole build, and the
  spare in some state or other, which the next build brings up to date as
  it would any: there is nothing to recover.

The output's `.annals-output` marker lists every file Annals wrote there:
only those are ever replaced or removed. Anything else (the `.git` of a
branch published from `_site/`, a file an editor put there) is carried
into every next site untouched, and named once, the first time it is found.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

MARKER = ".annals-output"
STAGING = ".annals-staging"  # inside the output, only where the working folder is on another file system
_HEAD = "This folder is written by Annals (python build.py). It is replaced on every build.\n"
_LISTED = "Written by Annals (only these are ever replaced or removed):\n"
_FOREIGN = "Not written by Annals (left alone):\n"


class InTheWay(Exception):
    """A file Annals did not write stands where this build must write."""


def workplace(out: Path) -> Path:
    """The working folder beside `out`: on the same file system, and never published with it."""
    return out.parent / f".{out.name}.annals"


def spare(out: Path) -> Path:
    return workplace(out) / "spare"


# --- what the output holds -------------------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    """What the marker says: the files Annals wrote, and those it found and left alone.

    `written` is None for a marker of an older Annals, which listed nothing:
    then a file is taken as Annals' own only where this build writes it again.
    """

    written: frozenset[str] | None = None
    foreign: frozenset[str] = frozenset()

    @classmethod
    def read(cls, folder: Path) -> "Record":
        try:
            text = (folder / MARKER).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return cls()
        if _LISTED not in text:
            return cls()
        listed, _, foreign = text.partition(_LISTED)[2].partition(_FOREIGN)
        return cls(frozenset(listed.split("\n")) - {""}, frozenset(foreign.split("\n")) - {""})

    def text(self) -> str:
        return (_HEAD + _LISTED + "".join(f"{rel}\n" for rel in sorted(self.written or ()))
                + (_FOREIGN + "".join(f"{rel}\n" for rel in sorted(self.foreign)) if self.foreign else ""))

    def write(self, folder: Path) -> None:
        _replace_text(folder / MARKER, self.text())


def _replace_text(path: Path, text: str) -> None:
    """Written beside and renamed: the marker's hard link in the spare must not change with it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --- one build at a time -----------------------------------------------------------------------------

@contextlib.contextmanager
def locked(out: Path, waiting: Callable[[str], None]) -> Iterator[None]:
    """Hold the output's lock while the body runs; `waiting(message)` first if another build holds it.

    An flock: the kernel lets go of it when its holder ends in any way, kill -9 included.
    """
    folder = workplace(out)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            waiting(f"waiting for process {holder}, which is writing {out}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


# --- the swap -------------------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


_EXCHANGE = _renameat2()


def exchange(a: Path, b: Path) -> None:
    """Swap two folders in one step: a reader sees one or the other, never neither."""
    if _EXCHANGE is None:
        raise OSError(38, "this system cannot swap two folders in one step (renameat2)", str(b))
    if _EXCHANGE(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(b))


def can_swap(out: Path) -> bool:
    """Whether `out` can be swapped whole with a spare beside it (not a mount point, swaps supported)."""
    try:
        return (_EXCHANGE is not None and not os.path.ismount(out)
                and os.stat(out).st_dev == os.stat(out.parent).st_dev)
    except OSError:
        return False


# --- bringing the spare up to date ------------------------------------------------------------------

@dataclass
class Mirror:
    """The spare made to hold what the output holds, less what this build drops or writes anew.

    `drop(rel)` names the files of the output the next site does not take over
    as they are: Annals' own files no longer produced, and those rendered
    again. Every other file is linked (the same inode: nothing copied) unless
    the spare already has it; `foreign(rel)` names those Annals did not write.
    """

    drop: Callable[[str], bool]
    foreign: Callable[[str], bool]
    found: list[str] = field(default_factory=list)  # files kept that Annals did not write
    # Each folder of the output and its modification time, taken before it was listed, when asked
    # for: a file added, removed or renamed over in it since moves that time on (see mirror_ahead).
    stamps: dict[str, int] | None = None

    def run(self, live: Path, into: Path) -> None:
        into.mkdir(parents=True, exist_ok=True)
        self._folder(str(live), str(into), "")

    def _folder(self, live: str, spare: str, prefix: str) -> bool:
        """Whether the folder keeps anything (an empty folder is kept as it is)."""
        if self.stamps is not None:
            self.stamps[prefix] = os.stat(live).st_mtime_ns
        with os.scandir(spare) as entries:
            theirs = {e.name: e for e in entries}
        kept = False
        with os.scandir(live) as entries:
            ours = list(entries)
        for entry in ours:
            rel = prefix + entry.name
            there = theirs.pop(entry.name, None)
            if entry.is_dir(follow_symlinks=False):
                target = os.path.join(spare, entry.name)
                if there is not None and not there.is_dir(follow_symlinks=False):
                    os.unlink(target)
                    there = None
                if there is None:
                    os.mkdir(target)
                if self._folder(entry.path, target, rel + "/"):
                    kept = True
                else:
                    os.rmdir(target)
                continue
            if rel == MARKER or self.drop(rel):
                if there is not None:
                    _remove(there)
                continue
            kept = True
            if self.foreign(rel):
                self.found.append(rel)
            if there is not None and there.inode() == entry.inode() and not there.is_dir(follow_symlinks=False):
                continue
            if there is not None:
                _remove(there)
            _link(entry, os.path.join(spare, entry.name))
        for there in theirs.values():
            _remove(there)
        return kept or not ours


@dataclass(frozen=True)
class Mirrored:
    """What mirror_ahead saw of the output: the files Annals did not write, and each folder's time."""

    found: tuple[str, ...]
    stamps: dict[str, int]

    def still(self, live: Path) -> bool:
        """Whether the output is as the mirror saw it: no file added, removed or renamed over in any
        of its folders since (someone's git in _site/.git, a deploy script). A file written in place
        is the spare's too, which holds the same file under a second name."""
        try:
            return all(os.stat(os.path.join(live, rel)).st_mtime_ns == time for rel, time in self.stamps.items())
        except OSError:
            return False


def mirror_ahead(live: Path, into: Path, listing: Path, leave: frozenset[str] = frozenset()) -> None:
    """The spare made the output's mirror, but for its marker and the files `leave` names, before a
    build knows what it will change; then `listing`, last, saying what it saw (see Mirrored, and
    write.SpareAhead).

    Nothing listed where the marker lists nothing (an older Annals'): the commit walks both trees itself."""
    ours = Record.read(live).written
    if ours is None:
        return
    mirror = Mirror(leave.__contains__, lambda rel: rel not in ours, stamps={})
    mirror.run(live, into)
    tmp = listing.with_name(listing.name + ".tmp")
    tmp.write_bytes(pickle.dumps(Mirrored(tuple(mirror.found), mirror.stamps), protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(tmp, listing)


def mirrored_listing(listing: Path) -> Mirrored | None:
    """What `mirror_ahead` listed, once; None if it did not finish."""
    try:
        found = pickle.loads(listing.read_bytes())
        listing.unlink()
    except Exception:  # noqa: BLE001 - Annals' own file, cut short or missing: the commit walks both trees
        return None
    return found if isinstance(found, Mirrored) else None


def prune(root: str, rel: str) -> None:
    """The folders of `rel` under root removed, from the deepest, while they are empty."""
    folder = os.path.dirname(rel)
    while folder:
        try:
            os.rmdir(os.path.join(root, folder))
        except OSError:
            return
        folder = os.path.dirname(folder)


def _remove(entry: os.DirEntry) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def _link(entry: os.DirEntry, target: str) -> None:
    """The same file under a second name; a copy where the file system has no hard links."""
    if entry.is_symlink():
        os.symlink(os.readlink(entry.path), target)
        return
    try:
        os.link(entry.path, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(entry.path, target, follow_symlinks=False)


def place(staged: str, spare_root: Path, rel: str, out: Path) -> None:
    """Move a staged file to `rel` in the spare, making its folders; a file of the editor's in the way is refused."""
    target = os.path.join(spare_root, rel)
    folder = os.path.dirname(target)
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InTheWay(_in_the_way(out, spare_root, rel)) from None
    if os.path.isdir(target) and not os.path.islink(target):
        raise InTheWay(f"{out / rel} is a folder where Annals must write a file: move it, then build again")
    os.replace(staged, target)


def _in_the_way(out: Path, spare_root: Path, rel: str) -> str:
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        prefix = "/".join(parts[:depth])
        if os.path.isfile(os.path.join(spare_root, prefix)):
            return (f"{out / prefix} is a file Annals did not write, and /{rel} must go inside a folder of that name: "
                    "move the file, then build again")
    return f"{out / rel}: its folder cannot be made"


def foreign_summary(found: list[str], written: set[str]) -> dict[str, int]:
    """The files found that Annals did not write, those in a folder of their own counted under it ('.git/')."""
    if not found:
        return {}  # nearly always: the folders of every file written need not be worked out
    ours = set()
    for rel in written:
        folder = rel.rpartition("/")[0]
        while folder and folder not in ours:
            ours.add(folder)
            folder = folder.rpartition("/")[0]
    shown: dict[str, int] = {}
    for rel in found:
        parts = rel.split("/")
        head = next(("/".join(parts[:d]) + "/" for d in range(1, len(parts)) if "/".join(parts[:d]) not in ours), rel)
        shown[head] = shown.get(head, 0) + 1
    return dict(sorted(shown.items()))


def swap_in(spare_root: Path, out: Path) -> None:
    """The spare becomes the output and the output the spare, in one step where the file system can."""
    try:
        exchange(spare_root, out)
        return
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    # No swap in one step here: two renames, between which the output is missing for a moment.
    old = spare_root.with_name("old")
    os.rename(out, old)
    os.rename(spare_root, out)
    os.rename(old, spare_root)
