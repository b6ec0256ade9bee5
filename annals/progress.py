"""How a build reports its progress: stages and counts, on a terminal or as plain lines.

The pipeline names each stage and counts its work through one of these; it
never prints. `Silent` is for --quiet, for CI and other logs (a build there
prints only its closing line), and for the preview server; `Lines` prints a
line per finished stage for --verbose; `Bar` redraws one line on a terminal,
and only once the build has taken more than a moment.
"""
from __future__ import annotations

import time
from typing import TextIO


class Silent:
    """Counts nothing, prints nothing but notes; the other kinds share its interface."""

    def __init__(self, notes: TextIO | None = None):
        self.notes = notes  # where a note goes (a build waits for another); None: nowhere

    def note(self, text: str) -> None:
        """Something the person waiting should know now, not at the end."""
        if self.notes is not None:
            print(text, file=self.notes, flush=True)

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class _Counting(Silent):
    def __init__(self, stream: TextIO, clock=time.perf_counter):
        super().__init__(stream)
        self.stream = stream
        self.clock = clock
        self.name: str | None = None
        self.total: int | None = None
        self.done = 0
        self.started = self.stage_started = clock()

    def stage(self, name: str, total: int | None = None) -> None:
        self._close_stage()
        self.name, self.total, self.done, self.stage_started = name, total, 0, self.clock()

    def advance(self, count: int = 1) -> None:
        self.done += count

    def finish(self) -> None:
        self._close_stage()
        self.name = None

    def _close_stage(self) -> None:
        pass

    def _count(self) -> str:
        if self.total is None:
            return f"{self.done:,}" if self.done else ""
        return f"{self.done:,}/{self.total:,}"


class Lines(_Counting):
    """One line per stage when it ends: `load: 10,523 in 1.20s`."""

    def _close_stage(self) -> None:
        if self.name is not None:
            count = self._count()
            print(f"{self.name}: {count + ' ' if count else ''}in {self.clock() - self.stage_started:.2f}s",
                  file=self.stream, flush=True)


class Bar(_Counting):
    """A single status line on a terminal, redrawn at most ten times a second, cleared at the end."""

    DELAY = 0.3  # a build quicker than this shows nothing
    EVERY = 0.1

    def __init__(self, stream: TextIO, clock=time.perf_counter):
        super().__init__(stream, clock)
        self.drawn_at = 0.0
        self.shown = False

    def stage(self, name: str, total: int | None = None) -> None:
        super().stage(name, total)
        self._draw()

    def advance(self, count: int = 1) -> None:
        super().advance(count)
        self._draw()

    def finish(self) -> None:
        super().finish()
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _draw(self) -> None:
        now = self.clock()
        if now - self.started < self.DELAY or now - self.drawn_at < self.EVERY:
            return
        self.drawn_at, self.shown = now, True
        fraction = ""
        if self.total:
            filled = 20 * self.done // self.total
            fraction = f" [{'#' * filled}{'.' * (20 - filled)}]"
        count = self._count()
        self.stream.write(f"\r\x1b[K{self.name}{fraction} {count} {now - self.started:.1f}s")
        self.stream.flush()
