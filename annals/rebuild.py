"""Which pages to render again, and rendering them: one context, both editions, on every core.

A page is rendered again when its template or any index key it read last
time has changed, or when a file it makes is missing. Each page's context
is gathered once and rendered for the web and, where the build makes the
offline edition too, for file://. With many pages to do, the work is split
over worker processes forked from this one, which inherit the index and the
compiled templates instead of receiving them; each worker stages its files
itself and sends back only what the state must remember.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import deque
from concurrent.futures import Executor, wait
from dataclasses import dataclass
from typing import Callable

from . import edition, parallel, urls
from .index import Index, Key
from .pages import Memo, Page, context, produce
from .problems import Problem
from .render import Renderer, TemplateProblem
from .state import PageState, State
from .write import Writer

# Below this many pages, starting workers costs more than it saves.
PARALLEL_FROM = 400
# Under PARALLEL_FROM, pages are dealt one at a time from this many: a list of a thousand facts
# takes 60-100 ms, a worker forked from a build of ten thousand starts in about 15.
SPREAD_FROM = 8
CHUNK = 64
# Chunks dealt to each worker before its first comes back. A chunk comes back
# to a thread of this process, which waits for the lock of the interpreter
# while this process renders (up to its switch interval, 5 ms, twice: to take
# the chunk in, and to send the next). With one chunk in hand, a worker sat
# idle that long after each; with a second queued, it starts that at once:
# both cores went from 90-94% busy while rendering to 98-100% (sampled).
AHEAD = 2
# The last chunks are smaller: when none is left, this process waits for the
# chunks the workers hold (up to AHEAD each, 0.1 s a chunk of fact pages).
LAST_CHUNK = 8


@dataclass(frozen=True)
class Job:
    """Everything rendering needs; worker processes inherit it when they are forked."""

    index: Index
    pages: tuple[Page, ...]
    renderer: Renderer
    writer: Writer            # receives the web edition, or the offline one for an offline build
    offline: bool             # the writer's edition is the offline one
    zip_entries: dict[str, edition.Entry] | None  # the last zip's entries, when this build makes one
    memo: Memo                # values derived from the index, perhaps kept from the last build
    memory_kept: bool = False  # this process's memo and fragments serve the next build (the preview's)
    spool: edition.Spool | None = None  # where the pages' new zip entries are written, when it makes one


@dataclass(frozen=True)
class Rendered:
    path: str
    template: str
    deps: tuple[Key, ...]
    staged: bool
    entry: edition.Entry | None = None  # the page in the offline zip
    problem: Problem | None = None


def template_fingerprint(renderer: Renderer, page: Page) -> str:
    if page.template:
        return renderer.template_fingerprint(page.template)
    # A producer's key may carry what it makes (the sitemap's list of pages),
    # so a changed key must remake the file even when no record changed.
    return "key:" + hashlib.blake2b(repr(page.key).encode(), digest_size=8).hexdigest()


def stale_for(job: Job, state: State, changed: set, readers: dict | None, every_page: bool,
              pending=()) -> list[int]:
    """Positions of the pages to render again, when the keys that changed are known, longest first.

    Only the pages that read one of them, and those left pending, unless the plan or the templates
    changed: then every page is looked at for a template or a place of its own.
    """
    marked = set(pending)
    if readers is None:  # no session kept them: one pass over the pages' keys (0.04 s at 10,000 facts, not 0.4)
        marked.update(path for path, page in state.pages.items() if not changed.isdisjoint(page.deps))
    for key in changed if readers is not None else ():
        marked.update(readers.get(key, ()))
    out = []
    for i, page in enumerate(job.pages) if every_page else ():
        old = state.pages.get(page.path)
        if old is None or page.path in marked or old.template != template_fingerprint(job.renderer, page):
            out.append(i)
    if not every_page:
        position = {page.path: i for i, page in enumerate(job.pages)} if marked else {}
        out = sorted(position[p] for p in marked if p in position)
    # Those that read most keys first: a list of a thousand facts reads a thousand, and takes longest.
    # Dealt first to the render's workers (see render), the long ones do not finish last.
    return sorted(out, key=lambda i: -len(getattr(state.pages.get(job.pages[i].path), "deps", ())))


def render_one(job: Job, page: Page, memo: Memo) -> Rendered:
    tfp = template_fingerprint(job.renderer, page)
    try:
        if page.template:
            ctx, reader = context(page, job.index, memo)
            if job.zip_entries is not None:
                mine, offline = job.renderer.render_both(page, ctx, reader)
            else:
                mine, offline = job.renderer.render(page, ctx, reader, offline=job.offline), None
        else:
            mine, reader = produce(page, job.index, memo)
            offline = mine if job.zip_entries is not None else None  # data files have no links to spell out
    except TemplateProblem as err:
        return Rendered(page.path, tfp, (), False, problem=err.problem)
    target = urls.output_file(page.path)
    entry = None
    if offline is not None:
        entry = edition.entry_for(offline, job.zip_entries.get(target), job.spool)
    return Rendered(page.path, tfp, tuple(reader.deps), job.writer.stage(target, mine), entry)


def render(job: Job, todo: list[int], executor: Executor | None, advance: Callable[[int], None]) -> list[Rendered]:
    """Render the pages at `todo`, here and, given an `executor`, on its workers too.

    This process renders the pages whose values the next build of its
    session keeps itself: in the preview's, which keeps all it derived in
    memory, every page that shares values with others (lists, charts, data
    files); in one kept on disk, which keeps only text, the data files. The
    rest are dealt out in chunks to the executor's workers, a few ahead each,
    and this one takes chunks too once its own pages are done. A few pages,
    as one fact edited makes, are dealt one at a time: the two lists of an
    operation, the home page and a chart took two thirds of the time. A
    worker starts with `start_worker(job)` (see annals.parallel, which makes
    the executor).
    """
    few = len(todo) < PARALLEL_FROM
    if executor is None or len(todo) < SPREAD_FROM or (few and job.memory_kept):
        out = []
        for i in todo:
            out.append(render_one(job, job.pages[i], job.memo))
            advance(1)
        return out
    for name in {job.pages[i].template for i in todo} - {""}:
        try:
            job.renderer.env.get_template(name)  # compiled once here, inherited by every worker
        except Exception:
            pass  # reported by the page that uses it
    parallel.freeze_for_workers()
    keep = (lambda page: not page.template) if few else (lambda page: page.kind != "fact")
    here = [i for i in todo if keep(job.pages[i])]
    dealt = [i for i in todo if not keep(job.pages[i])]
    workers = parallel.capacity(executor)
    chunks = [[i] for i in dealt] if few else _chunks(dealt, (AHEAD + 1) * (workers + 1))
    dealer = _Dealer(executor, deque(chunks), AHEAD * workers, advance)
    dealer.deal()
    mine = []
    for start in range(0, len(here), CHUNK):
        mine += _rendered_here(job, here[start:start + CHUNK], advance)
        dealer.deal()
    if not job.memo.lasting:
        # No build follows this one in this process: what the shared pages derived can go
        # before the fact pages, which hardly share anything (a tenth of a large build's memory).
        job.memo.meet(job.index)
        job.renderer.forget_fragments()
    while (chunk := dealer.take()) is not None:
        mine += _rendered_here(job, chunk, advance)
        dealer.deal()
    return mine + dealer.rest()


def _rendered_here(job: Job, chunk: list[int], advance: Callable[[int], None]) -> list[Rendered]:
    done = [render_one(job, job.pages[i], job.memo) for i in chunk]
    advance(len(done))
    return done


class _Dealer:
    """Chunks given to an executor's workers, `ahead` at a time, and taken back as they are done.

    A worker's next chunk is dealt the moment one comes back, from the future's
    done-callback (any Executor's futures have one): dealt only between this
    process's own chunks, a worker waited idle while this one rendered a data
    file of ten thousand facts, and the render of 10,000 facts took 1.7 times
    as long as with two processes busy. What comes back is counted by this
    process's rendering thread (`deal`, `take`, `rest`), never by a callback."""

    def __init__(self, executor: Executor, chunks: deque, ahead: int, advance: Callable[[int], None]):
        self.executor, self.chunks, self.ahead, self.advance = executor, chunks, max(1, ahead), advance
        self.lock = threading.RLock()  # a future already done runs its callback at once, in the thread that adds it
        self.running: set = set()
        self.back: list[list[Rendered]] = []
        self.failed: BaseException | None = None
        self.done: list[Rendered] = []
        self.owner = threading.get_ident()  # the thread that renders here: the preview's is not the main one

    def deal(self) -> None:
        with self.lock:
            while self.chunks and len(self.running) < self.ahead and self.failed is None:
                try:
                    future = self.executor.submit(_work, self.chunks.popleft())
                except BaseException as error:  # noqa: BLE001 - a broken or shut executor: the build's failure
                    self.failed = error
                    break
                self.running.add(future)
                future.add_done_callback(self._returned)
        self._count()

    def _returned(self, future) -> None:
        with self.lock:
            self.running.discard(future)
            error = future.exception()
            if error is not None:
                self.failed = self.failed or error
            else:
                self.back.append(future.result())
        self.deal()

    def _count(self) -> None:
        if threading.get_ident() != self.owner:
            return
        with self.lock:
            back, self.back = self.back, []
        for done in back:
            self.done += done
            self.advance(len(done))

    def take(self) -> list[int] | None:
        """A chunk for this process to render, or None when every chunk is dealt."""
        self._count()
        with self.lock:
            return self.chunks.pop() if self.chunks and self.failed is None else None

    def rest(self) -> list[Rendered]:
        """What the workers rendered, once all of it is back; a worker's failure is the build's."""
        while True:
            with self.lock:
                running = set(self.running)
            if not running:
                break
            wait(running)
        self._count()
        if self.failed is not None:
            raise self.failed
        return self.done


def _chunks(todo: list[int], tail: int) -> list[list[int]]:
    """`todo` in chunks of CHUNK, but for the last `tail` chunks, which shrink towards LAST_CHUNK."""
    out, start = [], 0
    while start < len(todo):
        left = len(todo) - start
        size = max(LAST_CHUNK, min(CHUNK, -(-left // tail)))
        out.append(todo[start:start + size])
        start += size
    return out


# A worker process's own job and memo, set once when it starts: the pool
# gives a task only picklable arguments, and the index is not sent, but inherited.
_WORKER = threading.local()  # a thread of a thread pool is a worker of its own, with its own memo


def start_worker(job: Job) -> None:
    """Set up a worker of the render's executor: `job` is inherited by a forked process, or the same object in a thread.

    Its memo starts from what the build's held as the render began (the rows drawn in the builds
    before, above all): what it derives itself is its own."""
    _WORKER.job, _WORKER.memo = job, Memo(behind=job.memo if job.memo.index is job.index else None)


def _work(chunk: list[int]) -> list[Rendered]:
    job, memo = _WORKER.job, _WORKER.memo
    done = [render_one(job, job.pages[i], memo) for i in chunk]
    if job.spool is not None:
        job.spool.flush()  # the zip is written from it once every chunk is back
    return done


def next_state(state: State, config: str, job: Job, done: list[Rendered],
               readers: dict | None = None, replanned: bool = True) -> State:
    """What this build leaves for the next: the kept pages as they were, the rendered ones anew,
    and `readers` (key -> pages), when the session keeps them, up to date."""
    pages = dict(state.pages)
    # Keys sent back by worker processes are copies: a state holds one of each.
    intern = job.index.keys.setdefault
    for r in done:
        if r.problem is None:
            old = state.pages.get(r.path)
            if old is not None and old.template == r.template and old.deps == r.deps:
                pages[r.path] = old  # its keys are interned already: a data file reads ten thousand
            else:
                pages[r.path] = PageState(r.template, tuple([intern(k, k) for k in r.deps]))
        else:
            pages.pop(r.path, None)
    gone = pages.keys() - {page.path for page in job.pages} if replanned else ()
    for path in gone:
        del pages[path]
    if readers is not None:
        for path in {r.path for r in done} | set(gone):
            old, new = state.pages.get(path), pages.get(path)
            if old is not None and new is not None and old.deps == new.deps:
                continue
            before, after = set(old.deps) if old else set(), set(new.deps) if new else set()
            for k in before - after:
                readers.get(k, set()).discard(path)
            for k in after - before:
                readers.setdefault(k, set()).add(path)
    return State(config=config, pages=pages, produced=set(job.writer.produced), templates=job.renderer.outlines())


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
