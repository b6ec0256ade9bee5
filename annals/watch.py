"""Which files changed under a few folders: told by the kernel where it can, found by polling where not.

On Linux, inotify (through ctypes, so no extra package) reports a save the
moment it happens, at no cost while nothing changes, however large the
archive. Elsewhere, `Polling` compares each file's size and times every few
tenths of a second. Both give paths relative to the project root; `None`
means "anything may have changed" (the kernel's queue overflowed), and the
caller rebuilds as if everything had.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from pathlib import Path

# inotify's constants, from <sys/inotify.h>
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW, _IN_IGNORED, _IN_ISDIR = 0x400, 0x800, 0x4000, 0x8000, 0x40000000
_IN_NONBLOCK, _IN_CLOEXEC = 0o4000, 0o2000000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
         | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF)
_EVENT = struct.Struct("iIII")


class Inotify:
    """Every folder below the watched ones, watched by the kernel; new folders are watched as they appear."""

    def __init__(self, root: Path, folders: list[str]):
        libc_name = ctypes.util.find_library("c")
        if libc_name is None:
            raise OSError("no C library to ask for inotify")
        self._libc = ctypes.CDLL(libc_name, use_errno=True)
        self.root = root
        self.fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._folders: dict[int, str] = {}  # watch descriptor -> folder relative to root
        for folder in folders:
            self._watch_tree(folder)
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)

    def fileno(self) -> int:
        return self.fd

    def waiting(self) -> bool:
        """Whether the kernel holds changes not read yet; they stay there for `read`."""
        return bool(self._poll.poll(0))

    def _watch_tree(self, rel: str) -> set[str]:
        """Watch a folder and every folder below it; the files already in them (they may be new).

        Each folder is watched before it is listed: a file written in between
        is then either listed or reported, never missed.
        """
        found, todo = set(), [rel]
        while todo:
            here = todo.pop()
            wd = self._libc.inotify_add_watch(self.fd, os.fsencode(self.root / here), _MASK)
            if wd < 0:
                continue
            self._folders[wd] = here
            try:
                entries = list(os.scandir(self.root / here))
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        todo.append(f"{here}/{entry.name}")
                else:
                    found.add(f"{here}/{entry.name}")
        return found

    def read(self) -> set[str] | None:
        """The paths changed since the last read (empty if none); None if the kernel lost count."""
        changed: set[str] = set()
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return changed
            at = 0
            while at < len(data):
                wd, mask, _cookie, size = _EVENT.unpack_from(data, at)
                name = data[at + _EVENT.size: at + _EVENT.size + size].split(b"\0", 1)[0].decode("utf-8", "replace")
                at += _EVENT.size + size
                if mask & _IN_Q_OVERFLOW:
                    return None
                folder = self._folders.get(wd)
                if mask & _IN_IGNORED:
                    self._folders.pop(wd, None)
                    continue
                if folder is None:
                    continue
                rel = f"{folder}/{name}" if name else folder
                changed.add(rel)
                if mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_TO):
                    changed |= self._watch_tree(rel)

    def close(self) -> None:
        os.close(self.fd)


class Polling:
    """Size and times of every file below the folders, compared at each `read`."""

    def __init__(self, root: Path, folders: list[str]):
        self.root = root
        self.folders = folders
        self.seen = self._scan()

    def _scan(self) -> dict[str, tuple[int, int, int]]:
        out = {}
        for folder in self.folders:
            for path, dirs, files in os.walk(self.root / folder):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    full = os.path.join(path, name)
                    try:
                        st = os.stat(full)
                    except OSError:
                        continue
                    out[Path(full).relative_to(self.root).as_posix()] = (st.st_mtime_ns, st.st_ctime_ns, st.st_size)
        return out

    def waiting(self) -> bool:
        """Polling cannot tell without a scan of every file, which is what it spares the work in hand."""
        return False

    def read(self) -> set[str] | None:
        now = self._scan()
        changed = {p for p in now.keys() | self.seen.keys() if now.get(p) != self.seen.get(p)}
        self.seen = now
        return changed

    def close(self) -> None:
        pass


def watcher(root: Path, folders: list[str]) -> Inotify | Polling:
    try:
        return Inotify(root, folders)
    except (OSError, AttributeError):  # not Linux, or no inotify: fall back on polling
        return Polling(root, folders)
