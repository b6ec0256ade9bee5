"""Problems found in content: collected, never raised one at a time.

Every stage appends to a `Problems` list instead of stopping at the first
error, so an editor sees everything wrong with the archive in one run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Loc:
    """Where something was written: a file relative to the project, and a 1-based line."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, order=True)
class Problem:
    loc: Loc
    message: str
    severity: str = "error"  # "error" stops the build; "warning" only with --strict

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.loc}: {tag}{self.message}"


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def error(self, loc: Loc, message: str) -> None:
        self.items.append(Problem(loc, message))

    def warning(self, loc: Loc, message: str) -> None:
        self.items.append(Problem(loc, message, "warning"))

    def extend(self, other: "Problems") -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def sorted(self) -> list[Problem]:
        # Sorted by file and line so the report reads top to bottom, and
        # de-duplicated because two checks may find the same fault.
        return sorted(set(self.items), key=lambda p: (p.loc.path, p.loc.line, p.message))

    def fails(self, strict: bool = False) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))


class BuildFailed(Exception):
    """Raised by the pipeline when content has errors; carries every problem."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
