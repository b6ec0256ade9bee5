"""The project's files as Annals reads them: one walk, which follows symbolic links only inside the project.

A link whose target is inside the project folder is followed, to a file or
to a folder. One that leads outside it (to `/`, say), round in a loop of
links, or nowhere, is refused at its line 1, and nothing it leads to is
read. Each folder is read once: a link to a folder that holds the link
(an ancestor, which would be a loop), or to one read already in its own
place or through another link, is refused, so no walk goes round for ever.
Anything that is no regular file (a pipe would block the build) is refused too.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Callable

from .problems import Loc, Problem

Skip = Callable[[str], bool]


def walk(root: Path, top: str, skip_file: Skip, skip_folder: Skip) -> tuple[list[str], list[Problem]]:
    """The files under root/top, as paths from root in no order, and what was refused, each at its line 1.

    `skip_file` and `skip_folder` leave out, by name and unread, what is never
    content (hidden files, editor droppings); a link is left out if both would.
    """
    walker = _Walk(root, skip_file, skip_folder)
    walker.run(top)
    return walker.files, walker.problems


class _Walk:
    def __init__(self, root: Path, skip_file: Skip, skip_folder: Skip):
        self.root = str(root)
        self.home = os.path.realpath(root)
        self.skip_file, self.skip_folder = skip_file, skip_folder
        self.files: list[str] = []
        self.problems: list[Problem] = []
        self.seen: dict[str, str] = {}  # real path of a folder read -> the path it is read as
        # Links to folders, followed once every folder in its own place is read, so that one
        # that leads to such a folder is known to: (path, its target, the real folder holding it, as written).
        self.later: list[tuple[str, str, str, str]] = []

    def run(self, top: str) -> None:
        path = os.path.join(self.root, top)
        if os.path.islink(path):
            self.link(top, path, self.home)
        elif os.path.isdir(path):
            self.folder(top, os.path.join(self.home, top))
        while self.later:
            self.later.sort()
            self.follow(*self.later.pop(0))

    def refuse(self, rel: str, message: str) -> None:
        self.problems.append(Problem(Loc(rel, 1), message))

    def folder(self, rel: str, real: str) -> None:
        self.seen[real] = rel
        stack = [(rel, real)]
        while stack:
            rel, real = stack.pop()
            try:
                with os.scandir(real) as listing:
                    entries = list(listing)
            except OSError as err:
                self.refuse(rel, f"is a folder that cannot be read: {err.strerror or err}")
                continue
            for entry in entries:
                name, child = entry.name, f"{rel}/{entry.name}"
                if entry.is_symlink():
                    self.link(child, entry.path, real)
                elif entry.is_dir(follow_symlinks=False):
                    inside = f"{real}/{name}"
                    if not self.skip_folder(name) and inside not in self.seen:
                        self.seen[inside] = child
                        stack.append((child, inside))
                elif self.skip_file(name):
                    continue
                elif entry.is_file(follow_symlinks=False):
                    self.files.append(child)
                else:
                    self.refuse(child, _NOT_A_FILE)

    def link(self, rel: str, path: str, holder: str) -> None:
        """A symbolic link at `path`, in the real folder `holder`: followed, put off (a folder), or refused."""
        name = rel.rsplit("/", 1)[-1]
        if self.skip_file(name) and self.skip_folder(name):
            return
        try:
            written = os.readlink(path)
            real = os.path.realpath(path, strict=True)
        except OSError as err:
            self.refuse(rel, _unfollowed(path, err))
            return
        if real != self.home and not real.startswith(self.home.rstrip(os.sep) + os.sep):
            shown = f"'{written}'" + (f" ({real})" if real != written else "")
            self.refuse(rel, f"is a symbolic link to {shown}, outside the project folder: Annals follows links "
                             "only within the project; copy what it points to into the project instead")
        elif os.path.isdir(real):
            if not self.skip_folder(name):
                self.later.append((rel, real, holder, written))
        elif self.skip_file(name):
            return
        elif os.path.isfile(real):
            self.files.append(rel)
        else:
            self.refuse(rel, _NOT_A_FILE)

    def follow(self, rel: str, real: str, holder: str, written: str) -> None:
        if real == holder or holder.startswith(real.rstrip(os.sep) + os.sep):
            self.refuse(rel, f"is a symbolic link to '{written}', a folder that holds the link itself: following "
                             "it would go round for ever; remove the link")
        elif real in self.seen:
            self.refuse(rel, f"is a symbolic link to '{written}', a folder read already as {self.seen[real]}/: "
                             "each file is read once; remove the link")
        else:
            self.folder(rel, real)


def hidden(name: str) -> bool:
    """static/'s files left out: hidden files, though not hidden folders (.well-known/ is published)."""
    return name.startswith(".")


def never(name: str) -> bool:
    return False


_NOT_A_FILE = "is not a regular file (a pipe, a socket or a device): Annals reads only files; remove it"


def _unfollowed(path: str, err: OSError) -> str:
    """Why a link cannot be followed: its target is missing, or links lead round in a loop."""
    try:
        written = f"'{os.readlink(path)}'"
    except OSError:
        written = "a place that cannot be read"
    if err.errno == errno.ENOENT:
        return f"is a symbolic link to {written}, which does not exist: remove the link or restore what it pointed to"
    if err.errno == errno.ELOOP:
        return (f"is a symbolic link to {written}, which leads round in a loop of links: point it at a file "
                "or a folder, or remove it")
    return f"is a symbolic link to {written}, which cannot be followed: {err.strerror or err}"
