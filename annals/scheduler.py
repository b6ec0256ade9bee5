"""When the live preview works, and on what: never on the thread that answers the browser.

The preview's work on its session (serve.Preview) is of three kinds, in
this order of precedence:
- a rebuild, once a save has been seen and DEBOUNCE has passed (an
  editor's save is often several writes and a rename within a millisecond
  or two). Saves that come while a rebuild runs wait in the watcher and are
  rebuilt together, in the next one. After it, the open pages are told to
  reload: a stylesheet alone is swapped in place;
- what the rebuild left for after the reload (Preview.finish), a page at a
  time, FINISH_AFTER the reload, so that the reloaded pages ask for
  themselves first;
- warming the shared pages of a preview started on its last output
  (Preview.warm), WARM_AFTER the last save and what it left.

All of it runs on one thread of the Scheduler's own, one piece at a time: a
rebuild that takes seconds (a template edited at ten thousand facts) holds up
no request and no livereload message, and the pages served meanwhile are
the last good ones, which the build replaces file by file, each in one
rename. The background work (finishing, warming) gives way, between two
values it derives, to a save not read yet, to a request for a page it has
not rendered yet (`render_first`), and to the end of the preview; a rebuild
is never cut short: `stop` waits for it.
"""
from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from . import watch
from .load import ignored
from .pages import Interrupted
from .problems import Problem

DEBOUNCE = 0.01  # seconds: an editor's save is often several writes and a rename, all within a millisecond or two
FINISH_AFTER = 0.05  # seconds: time for the open pages to ask for themselves before the rest is written
WARM_AFTER = 0.2  # seconds: how long warming waits behind a save and what it left for after the reload
POLL_EVERY = 0.3  # seconds: how often a folder is scanned where the kernel cannot tell of changes
ASK_WAIT = 2.0  # seconds a request waits for background work to give way before it is served what is on disk


@dataclass(frozen=True)
class Outcome:
    """What one piece of the preview's work did."""

    ok: bool
    problems: tuple[Problem, ...]
    rendered: int = 0
    written: int = 0
    seconds: float = 0.0

    def __add__(self, other: "Outcome") -> "Outcome":
        return Outcome(self.ok and other.ok, self.problems + other.problems, self.rendered + other.rendered,
                       self.written + other.written, self.seconds + other.seconds)


def reload_path(changed: set[str] | None, ok: bool) -> str:
    """What to tell the pages: a stylesheet alone is swapped in place; anything else reloads the page."""
    if ok and changed and all(p.startswith("static/") and p.endswith(".css") for p in changed):
        return sorted(changed)[0].removeprefix("static/")
    return "*"


def described(changed: set[str] | None) -> str:
    """The files a rebuild is for, as its report line names them."""
    if changed is None:
        return "everything"
    listed = ", ".join(sorted(changed)[:3])
    return listed + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")


class Scheduler:
    """Decides when `preview` rebuilds, finishes and warms, and does it on a thread of its own.

    `sources` are watchers (annals.watch), each giving paths relative to its
    own root: the archive's folders, and the default theme's, whose files
    are named as the archive's would be ('static/style.css'). `report(outcome,
    what)` is told what each piece of work did; `tell(path)`, passed to
    `start`, what the open pages must reload. Both are called on the
    scheduler's thread: a server hands `tell` to its own (IOLoop.add_callback).
    """

    def __init__(self, preview, sources: list, report: Callable[[Outcome, str], None]):
        self.preview = preview
        self.sources = sources
        self.report = report
        self.tell: Callable[[str], None] = lambda path: None
        self.changed: set[str] | None = set()  # seen, not rebuilt yet; None: anything may have changed
        self.due: float | None = None  # when what was seen is rebuilt
        self.finishing: Outcome | None = None  # rendered after the reload so far; None: nothing left
        self.finish_at = self.warm_at = 0.0
        self.warmed: tuple[int, float] | None = None  # pages to warm, and when warming began
        self.polled = time.perf_counter()
        self._turn = threading.Condition()  # who works on the session: this thread, or a request
        self._holder: str | None = None  # "rebuild", "work" (finishing or warming), "request", or None
        self._asking = 0  # requests waiting for their turn
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        self._thread: threading.Thread | None = None

    # -- the thread ------------------------------------------------------------------------------

    def start(self, tell: Callable[[str], None] | None = None) -> None:
        if tell is not None:
            self.tell = tell
        self._thread = threading.Thread(target=self._run, name="annals-preview", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread: a rebuild in hand is finished first, the background work gives way at once."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        os.write(self._wake_write, b"x")
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for source in self.sources:
            source.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    @property
    def rebuilding(self) -> bool:
        return self._holder == "rebuild"

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.listen(self._due_in())
            if not self._stopping.is_set():
                self.step()

    def step(self) -> None:
        """Do the next piece of work if its time has come (the thread's loop calls this)."""
        todo = self._next()
        if todo is None or todo[0] > time.perf_counter():
            return
        try:
            todo[1]()
        except Exception:  # noqa: BLE001 - Annals' own fault: said, and the preview goes on serving
            traceback.print_exc()

    def _next(self) -> tuple[float, Callable[[], None]] | None:
        """When the next piece of work is due, and what it is; None while there is nothing to do."""
        if self.due is not None:
            return self.due, self._rebuild
        if self.finishing is not None:
            return self.finish_at, self._finish
        if self.preview.warming:
            return self.warm_at, self._warm
        return None

    def _due_in(self) -> float | None:
        todo = self._next()
        return None if todo is None else max(0.0, todo[0] - time.perf_counter())

    # -- what changed ----------------------------------------------------------------------------

    def listen(self, timeout: float | None) -> None:
        """Wait up to `timeout` seconds (None: until something happens) for a change, and take in what changed."""
        kernel = [s for s in self.sources if isinstance(s, watch.Inotify)]
        polled = len(kernel) < len(self.sources)
        if polled:
            timeout = POLL_EVERY if timeout is None else min(timeout, POLL_EVERY)
        ready, _, _ = select.select([self._wake_read, *kernel], [], [], timeout)
        if self._wake_read in ready:
            os.read(self._wake_read, 64)
        scan = polled and time.perf_counter() - self.polled >= POLL_EVERY
        if scan:
            self.polled = time.perf_counter()
        for source in self.sources:
            if source in ready or (scan and not isinstance(source, watch.Inotify)):
                self.take(source.read())

    def take(self, found: set[str] | None) -> None:
        """Changed paths (None: anything may have changed), to be rebuilt DEBOUNCE after the first."""
        if found is not None:
            found = {p for p in found if not any(ignored(part) for part in p.split("/"))}
            if not found:
                return
        self.changed = None if found is None or self.changed is None else self.changed | found
        if self.due is None:
            self.due = time.perf_counter() + DEBOUNCE

    def waiting(self) -> bool:
        """Whether the background work must give way: a save not read yet, a request, or the end."""
        return (self._asking > 0 or self._stopping.is_set()
                or any(source.waiting() for source in self.sources))

    # -- the work --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _working(self, holder: str):
        """The session to this thread, once no request is rendering a page (or waiting to)."""
        with self._turn:
            self._turn.wait_for(lambda: self._holder is None and not self._asking)
            self._holder = holder
        try:
            yield
        finally:
            with self._turn:
                self._holder = None
                self._turn.notify_all()

    def _rebuild(self) -> None:
        changed, self.changed, self.due = self.changed, set(), None
        with self._working("rebuild"):
            outcome = self.preview.rebuild(changed)
        self.report(outcome, described(changed))
        if not self._stopping.is_set():
            self.tell(reload_path(changed, outcome.ok))
        # What the last rebuild left is rendered along by this one: its count starts again.
        self.finishing = Outcome(True, ()) if outcome.ok and self.preview.session.pending else None
        self.finish_at = time.perf_counter() + FINISH_AFTER
        self.warm_at = time.perf_counter() + WARM_AFTER

    def _finish(self) -> None:
        """One page of what the rebuild left for after the reload; the count said when none is left."""
        try:
            with self._working("work"):
                outcome = self.preview.finish(most=1, waiting=self.waiting)
        except Interrupted:
            return  # taken up again after what it gave way to
        self.warm_at = time.perf_counter() + WARM_AFTER
        if outcome is not None and outcome.ok:
            self.finishing += outcome
            return
        done, self.finishing = self.finishing, None
        if outcome is not None:
            self.report(outcome, "after the reload")
        elif done.rendered:
            self.report(done, "after the reload")

    def _warm(self) -> None:
        """One of the shared pages (see Preview.warm); the count said when the last is done."""
        if self.warmed is None:
            self.warmed = (len(self.preview.warming), time.perf_counter())
        try:
            with self._working("work"):
                more = self.preview.warm(self.waiting)
        except Interrupted:
            return
        if not more and self.warmed[0]:
            count, started = self.warmed
            self.report(Outcome(True, (), count, self.preview.warm_written, time.perf_counter() - started),
                        "warmed the shared pages")

    # -- a request's turn ------------------------------------------------------------------------

    def render_first(self, path: str) -> None:
        """A page asked for before its turn came: rendered now, unless a rebuild runs (the page on
        disk, the last good one, is served then: a request never waits for a rebuild)."""
        with self._turn:
            if self._holder == "rebuild" or self._stopping.is_set():
                return
            self._asking += 1  # the background work gives way (see waiting)
            try:
                if not self._turn.wait_for(lambda: self._holder is None, timeout=ASK_WAIT):
                    return
                self._holder = "request"
            finally:
                self._asking -= 1
                self._turn.notify_all()
        try:
            self.preview.finish(path=path)
        finally:
            with self._turn:
                self._holder = None
                self._turn.notify_all()
