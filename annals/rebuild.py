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

import gc
import hashlib
import os
import threading
from collections import deque
from dataclasses import dataclass
from itertools import chain
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
    trust_outputs: bool = False  # the state is this process's own: its files need no stat each
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


def stale(job: Job, state: State) -> tuple[list[int], set]:
    """Positions in job.pages of the pages to render again, and the keys that changed."""
    fp = job.index.fingerprint
    changed = {k for k, old in state.keys.items() if fp(k) != old}
    out = []
    for i, page in enumerate(job.pages):
        old = state.pages.get(page.path)
        target = urls.output_file(page.path)
        if (old is None or old.template != template_fingerprint(job.renderer, page)
                or not changed.isdisjoint(old.deps)
                or (not job.trust_outputs and not os.path.isfile(os.path.join(job.writer.out, target)))
                or (job.zip_entries is not None and target not in job.zip_entries)):
            out.append(i)
    return out, changed


def stale_for(job: Job, state: State, changed: set, readers: dict, every_page: bool,
              pending=()) -> list[int]:
    """Positions of the pages to render again, when the keys that changed are known (the preview).

    Only the pages that read one of them, and those left pending, unless the plan or the templates
    changed: then every page is looked at for a template or a place of its own.
    """
    marked = set(pending)
    for key in changed:
        marked.update(readers.get(key, ()))
    out = []
    for i, page in enumerate(job.pages) if every_page else ():
        old = state.pages.get(page.path)
        if old is None or page.path in marked or old.template != template_fingerprint(job.renderer, page):
            out.append(i)
    if not every_page:
        position = {page.path: i for i, page in enumerate(job.pages)} if marked else {}
        out = sorted(position[p] for p in marked if p in position)
    return out


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


def render(job: Job, todo: list[int], workers: int, advance: Callable[[int], None]) -> list[Rendered]:
    """Render the pages at `todo` on up to `workers` processes, this one among them.

    This process renders the pages whose values other pages share (lists,
    charts, data files) itself, so that its memo and its renderer hold them
    for the next build of a session; the fact pages are dealt out in chunks
    to worker processes, and this one takes chunks too once its own pages are done.
    """
    if workers <= 1 or len(todo) < PARALLEL_FROM or not parallel.can_fork():
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
    gc.freeze()  # a worker's collections would otherwise write to, and so copy, every page it inherits
    here = [i for i in todo if job.pages[i].kind != "fact"]
    facts = [i for i in todo if job.pages[i].kind == "fact"]
    chunks = deque(_chunks(facts, (AHEAD + 1) * workers))
    out: list[Rendered] = []
    lock, finished = threading.Lock(), threading.Event()
    busy = [0]  # chunks given to a worker and not yet back

    with parallel.pool(workers - 1, _start_worker, (job,)) as pool:
        def deal() -> None:
            """Give a worker the next chunk; runs here, and in the pool's thread as each chunk comes back."""
            with lock:
                if not chunks:
                    if busy[0] == 0:
                        finished.set()
                    return
                chunk = chunks.popleft()
                busy[0] += 1
            pool.apply_async(_work, (chunk,), callback=back, error_callback=failed)

        def back(done: list[Rendered]) -> None:
            with lock:
                out.extend(done)
                busy[0] -= 1
                advance(len(done))
            deal()

        errors: list[BaseException] = []

        def failed(error: BaseException) -> None:
            errors.append(error)
            with lock:
                busy[0] -= 1
            deal()

        for _ in range(AHEAD * (workers - 1)):
            deal()
        mine = []
        for start in range(0, len(here), CHUNK):
            done = [render_one(job, job.pages[i], job.memo) for i in here[start:start + CHUNK]]
            mine += done
            with lock:
                advance(len(done))
        if not job.memo.lasting:
            # No build follows this one in this process: what the shared pages derived can go
            # before the fact pages, which hardly share anything (a tenth of a large build's memory).
            job.memo.meet(job.index)
            job.renderer.forget_fragments()
        while True:
            with lock:
                chunk = chunks.popleft() if chunks else None
            if chunk is None:
                break
            done = [render_one(job, job.pages[i], job.memo) for i in chunk]
            mine += done
            with lock:
                advance(len(done))
        deal()  # nothing left to deal: marks the end once the workers' chunks are back
        finished.wait()
    if errors:
        raise errors[0]
    return mine + out


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
_WORKER: tuple[Job, Memo] | None = None


def _start_worker(job: Job) -> None:
    global _WORKER
    _WORKER = (job, Memo())


def _work(chunk: list[int]) -> list[Rendered]:
    job, memo = _WORKER
    done = [render_one(job, job.pages[i], memo) for i in chunk]
    if job.spool is not None:
        job.spool.flush()  # the zip is written from it once every chunk is back
    return done


def next_state(state: State, config: str, job: Job, done: list[Rendered], fingerprints: bool = True,
               readers: dict | None = None, replanned: bool = True) -> State:
    """What this build leaves for the next: the kept pages as they were, the rendered ones anew.

    With `fingerprints`, each key some page reads is fingerprinted, for a
    build in another process to compare with. The preview keeps its state in
    memory and knows which keys change, so it skips them and keeps `readers`
    (key -> pages) up to date instead.
    """
    pages = dict(state.pages)
    # Keys sent back by worker processes are copies: a state kept in memory (the preview's)
    # holds one of each, and one only written to disk need not look them up (0.2 s at 10,000 facts).
    intern = None if fingerprints else job.index.keys.setdefault
    for r in done:
        if r.problem is None:
            old = state.pages.get(r.path)
            if old is not None and old.template == r.template and old.deps == r.deps:
                pages[r.path] = old  # its keys are interned already: a data file reads ten thousand
            else:
                pages[r.path] = PageState(r.template, r.deps if intern is None else tuple([intern(k, k) for k in r.deps]))
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
    keys = {}
    if fingerprints:
        fp = job.index.fingerprint
        # Each key once: ten thousand pages read 400,000 keys, of which 40,000 differ.
        keys = {k: fp(k) for k in dict.fromkeys(chain.from_iterable(s.deps for s in pages.values()))}
    return State(config=config, pages=pages, keys=keys, produced=set(job.writer.produced))


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
