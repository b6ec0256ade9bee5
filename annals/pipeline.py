"""The build, as a short list of named steps: load → validate → index → plan → render → write.

This is the only module that calls every stage.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import edition, history, load as loading, permalinks, publish, rebuild, theme, urls
from .index import Index, Key, build_index, update_index
from .load import load
from .model import Archive
from .pages import Memo, Page, claimed, plan
from .problems import BuildFailed, Loc, Problem, Problems
from .progress import Silent
from .render import Renderer
from .state import CACHE, State
from .validate import validate
from .write import FoldersAhead, OutputRefused, Writer, check_output, write_fault


@dataclass(frozen=True)
class Options:
    root: Path
    out: Path
    base_url: str | None = None
    offline: bool = False
    strict: bool = False
    offline_zip: bool = True  # a web build also makes the offline edition's zip
    locked: bool = False  # fail, rather than add to permalinks.txt, if the build publishes a URL it lacks
    record_permalinks: bool = True  # a web build adds new URLs to permalinks.txt (the preview does not)
    workers: int = 1  # processes that render pages when many must be rendered


@dataclass
class Report:
    pages: int = 0
    rendered: list[str] = field(default_factory=list)
    written: int = 0
    removed: int = 0
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    manifest_updated: bool = False
    patched: bool = False  # a session's build that read only the changed facts and patched the index


@dataclass(frozen=True)
class Good:
    """A build that passed: what the next build of a session is compared with, or patched from."""

    archive: Archive
    index: Index
    pages: tuple[Page, ...]
    outputs: frozenset[str]  # the files the pages are written to
    checked: tuple[Problem, ...]  # what validate found (warnings only, since it passed)


@dataclass
class Session:
    """What a caller that builds again and again in one process (the preview) keeps between builds.

    After a good build it holds that build's archive, index and plan, the
    files read, the templates compiled, the values derived (a Memo) and each
    page's keys. Told which files changed, the next build reads only those;
    when they are facts, it patches the index (index.update_index), which
    says which keys changed, and renders the pages that read one. Anything
    else is read and indexed from scratch, and compared with the last good
    build to find the keys that changed. The state stays in memory until
    `save` leaves it on disk for the next `build.py`.
    """

    files: dict = field(default_factory=dict)
    renderer: Renderer | None = None
    memo: Memo = field(default_factory=lambda: Memo(track=True))
    state: State | None = None
    good: Good | None = None
    readers: dict[Key, set[str]] | None = None  # key -> the pages that read it, once needed
    # Pages a build left for later (see build's `first`): the next build renders them whatever changed.
    pending: set[str] = field(default_factory=set)
    # A build failed since `good`: files were read that `good` does not know of,
    # so the next build reads everything rather than patch.
    failed: bool = False

    def renderer_for(self, root: Path) -> tuple[Renderer, bool]:
        """The compiled templates, compiled again if a template changed; and whether they were."""
        if self.renderer is None or self.renderer.changed_since():
            self.renderer = Renderer(root, root / CACHE / "templates")
            return self.renderer, True
        return self.renderer, False

    def save(self, root: Path, out: Path) -> None:
        """Leave the state on disk, with each key's fingerprint, so that a later build starts from it."""
        if self.state is not None and self.good is not None:
            fp = self.good.index.fingerprint
            keys = {k: fp(k) for page in self.state.pages.values() for k in page.deps}
            dataclasses.replace(self.state, keys=keys).write(State.path_for(root, out))


@dataclass(frozen=True)
class Read:
    """What load, validate and index made of content/: also with errors, the index of what is valid."""

    archive: Archive
    checked: tuple[Problem, ...]
    index: Index
    keys: set | None = None  # the keys that changed since the session's last good build, when patched


def read_archive(options: Options, problems: Problems, progress: Silent | None = None,
                 files: dict | None = None) -> tuple[Archive, Index]:
    """Load, validate and index: everything `check` reads, nothing written.

    The index holds the records that loaded whole, also when other files have
    errors, so that the checks after it (number checks, the plan, the
    permalink manifest) still report what they find in the same run.
    `files` is a cache of files already read (see load), for a caller that builds again and again.
    """
    read = _read(options, problems, progress or Silent(), files)
    return read.archive, read.index


def _read(options: Options, problems: Problems, progress: Silent, files: dict | None,
          loaded: Callable[[Archive], None] = lambda archive: None) -> Read:
    """`loaded(archive)` is called once the files are read, which takes every core there is, and the rest does not."""
    archive = load(options.root, problems, progress, files, options.workers)
    loaded(archive)
    archive = dataclasses.replace(archive, changed=history.last_changed(options.root))
    progress.stage("validate")
    before = len(problems.items)
    validate(archive, options.root, problems)
    checked = tuple(problems.items[before:])
    archive = _with_base_url(archive, options)
    progress.stage("index")
    return Read(archive, checked, build_index(archive, problems))


def _with_base_url(archive: Archive, options: Options) -> Archive:
    if not options.base_url or archive.site is None:  # the command line checked it (see cli._base_url)
        return archive
    url = options.base_url if options.base_url.endswith("/") else options.base_url + "/"
    return dataclasses.replace(archive, site=dataclasses.replace(archive.site, base_url=url))


def _patch(options: Options, session: Session, changed: set[str], problems: Problems) -> Read | None:
    """The last good build with only the changed facts read, checked and indexed again; None if it cannot be."""
    good = session.good
    facts = loading.update(options.root, good.archive, changed, session.files)
    if facts is None:
        return None
    archive = loading.patched(good.archive, facts)
    # An edited file has no date git vouches for until it is committed (see history).
    paths = {f.loc.path for f in (*facts.values(), *(good.archive.facts.get(i) for i in facts)) if f is not None}
    if paths & set(good.archive.changed):
        archive = dataclasses.replace(archive, changed={p: t for p, t in good.archive.changed.items() if p not in paths})
    kept = [p for p in good.checked if loading.kind_of(p.loc.path) == "fact" and p.loc.path not in paths]
    checking = Problems(list(kept))
    validate(archive, options.root, checking, only=set(facts))
    if checking.errors:
        return None  # the whole way, so that every problem is found as a cold build finds it
    problems.items.extend(checking.items)
    patched = update_index(good.index, archive, set(facts), problems)
    if patched is None:
        return None
    index, keys = patched
    return Read(archive, tuple(checking.items), index, keys)


# Keys that decide the plan: while none of them changed, the last plan stands.
_PLAN_KEYS = {("all", "facts"), ("all", "months"), ("all", "years"), ("all", "aliases")}


def check_pages(options: Options, index: Index, problems: Problems,
                warn_unrecorded: bool = False) -> tuple[list[Page], dict[str, int] | None]:
    """Plan every page and check the plan: no two pages on one path, no published URL dropped,
    and (locked, or warned of) no URL missing from the manifest.

    Also the manifest as read (None if it could not be), for the build to add to.
    """
    claims = claimed(index.archive)
    pages = plan(index, problems, claims)
    check_paths(pages, problems)
    published = permalinks.read(options.root, problems)
    if published is not None:
        permalinks.check(published, set(addresses(pages)), claims, problems)
        if options.locked or warn_unrecorded:
            permalinks.unrecorded(options.root, published, addresses(pages), problems, options.locked)
    return pages, published


def addresses(pages: list[Page]) -> dict[str, str]:
    """Every URL the published site answers, each with the file that makes it ('' if none):
    the pages, and the offline edition's zip, which every page links to (whichever edition this build writes)."""
    out = {p.path: p.source for p in pages}
    out[urls.offline_zip()] = ""
    return out


def check(options: Options) -> Problems:
    problems = Problems()
    try:
        with _lasting():  # as a build reads: unpickling what the read-ahead process sent took 0.3 s, not 0.07, without it
            _, index = read_archive(options, problems)
        pages, _ = check_pages(options, index, problems, warn_unrecorded=True)
        check_templates(options.root, Renderer(options.root), pages, problems)
    finally:
        gc.unfreeze()
    return problems


def check_templates(root: Path, renderer: Renderer, pages: list[Page], problems: Problems) -> None:
    """Every template the plan uses compiles, and every static file they link is published:
    found before anything is rendered, so that what `check` passes the build renders."""
    names = {page.template for page in pages if page.template}
    problems.items.extend(renderer.check(names, set(theme.static_files(root))))


def check_paths(pages: list[Page], problems: Problems) -> None:
    """Two pages may never write the same file (a fact id and another's alias, say)."""
    seen: dict[str, Page] = {}
    for page in pages:
        first = seen.setdefault(urls.output_file(page.path), page)
        if first is not page:
            problems.error(Loc(page.source or first.source, 1),
                           f"/{page.path} would be written twice: by this {page.kind} and by {first.source or first.kind}")


def build(options: Options, progress: Silent | None = None, session: Session | None = None,
          changed: set[str] | None = None, first=None) -> Report:
    """Build the site into options.out. Raises BuildFailed with every problem, writing nothing.

    With a `session` (the preview), the build starts from what the session
    kept; `changed` names the files that changed since its last build, when
    known (None: anything may have). `first(page)`, if given, says which of
    the pages to render now: the others are left in `session.pending` for
    the next build, which the preview runs as soon as the reader's page has
    reloaded (see `finish`).
    """
    progress = progress or Silent()
    try:
        with _output_locked(options, progress):
            existed = options.out.exists()
            ahead = _folders_ahead(options, session, existed)
            try:
                with _young_only():
                    report = _build(options, progress, session, changed, first, existed, ahead)
            except BaseException:
                ahead.done(failed=True)
                raise
            finally:
                gc.unfreeze()  # what _lasting froze, and the render froze for its workers
            ahead.done(failed=False)
            return report
    except publish.InTheWay as error:
        raise OutputRefused(str(error)) from None
    except OSError as error:
        raise OutputRefused(write_fault(error, options.out)) from None


@contextlib.contextmanager
def _output_locked(options: Options, progress: Silent):
    """One build at a time writes an output folder: a second waits for the first (and says so)."""
    try:
        check_output(options.out, options.root)
    except OutputRefused:
        yield  # nothing is written, nothing locked: the build refuses it once the content is checked
        return
    with publish.locked(options.out, progress.note):
        yield


def _folders_ahead(options: Options, session: Session | None, existed: bool) -> FoldersAhead:
    """The fact pages' folders made while the archive is indexed, by a first build into a new folder."""
    if options.workers <= 1 or (session is not None and session.good is not None) or existed:
        return FoldersAhead(None)
    try:
        check_output(options.out, options.root)  # refused here, nothing is made: the build refuses it later
    except OutputRefused:
        return FoldersAhead(None)
    spare = publish.spare(options.out)
    if spare.exists():
        shutil.rmtree(spare)  # what a killed first build left: no part of this one
    return FoldersAhead(spare)


def _fact_folders(archive: Archive) -> list[str]:
    """The folder of each fact's page."""
    return [os.path.dirname(urls.output_file(urls.fact(ident))) for ident in archive.facts]


def _build(options: Options, progress: Silent | None, session: Session | None, changed: set[str] | None,
           first, existed: bool, ahead: FoldersAhead) -> Report:
    started = time.perf_counter()
    progress = progress or Silent()
    problems = Problems()
    remember = session is None  # a session keeps its state in memory instead of on disk
    session = session or Session(memo=Memo())
    renderer, recompiled = session.renderer_for(options.root)
    compiling = renderer.compile_ahead() if options.workers > 1 and recompiled else None
    with _child_of_the_build(compiling):
        session.failed, failed = True, session.failed
        with _lasting():
            read = None
            if session.good is not None and changed is not None and not failed:
                read = _patch(options, session, changed, problems)
                problems = problems if read is not None else Problems()
            patched = read is not None
            if read is None:
                read = _read(options, problems, progress, session.files if not remember else None,
                             lambda archive: ahead.start(lambda: _fact_folders(archive)))
                if session.good is not None and not problems.errors:
                    read = dataclasses.replace(read, keys=_differing(session.good.index, read.index, session))
        index = read.index
        progress.stage("plan")
        if patched and not read.keys & _PLAN_KEYS:
            # Only facts changed, and none of what decides the plan: the last plan stands.
            pages, planned = list(session.good.pages), False
            published = permalinks.read(options.root, problems) if options.record_permalinks else {}
        else:
            pages, published = check_pages(options, index, problems)
            planned = True
        if planned or recompiled:
            if compiling is not None:
                compiling.wait()  # the templates it compiles, loaded by the check from the cache it fills
            check_templates(options.root, renderer, pages, problems)
        if problems.fails(options.strict):
            raise BuildFailed(problems.sorted())

        check_output(options.out, options.root)
        if compiling is not None:
            compiling.wait()  # long done: the archive took longer to read
        extra = {} if options.offline else github_pages_files(index.archive.site)
        outputs = session.good.outputs if not planned else frozenset(urls.output_file(p.path) for p in pages)
        report = write_site(options, index, pages, outputs, problems, session, read.keys, extra, progress,
                            remember, planned or recompiled, first, existed=existed, folders_made=ahead.makes_folders)
        report.patched = patched
        if not options.offline and options.record_permalinks and not options.locked:
            report.manifest_updated = permalinks.update(options.root, published, set(addresses(pages)))
        session.good = Good(read.archive, index, tuple(pages), outputs, read.checked)
        session.failed = False
        progress.finish()
        report.seconds = time.perf_counter() - started
        return report


@contextlib.contextmanager
def _child_of_the_build(child):
    """A forked helper that must not outlive the build: stopped if the build fails, however it fails."""
    try:
        yield
    except BaseException:
        if child is not None:
            child.stop()
        raise


@contextlib.contextmanager
def _lasting():
    """What is made inside lives as long as the build: the cyclic garbage collector leaves it alone.

    Records and the index are hundreds of thousands of objects, and each full
    collection while they were made walked all of them again: 1.4 s of a
    10,000-fact build, of which this leaves 0.5 s (gc.callbacks). Frozen, they
    are not walked by later collections either, nor written to by one in a
    forked worker, which would copy each page of memory they lie on. Objects
    freed by their count go as ever, frozen or not; `build` hands them back to
    the collector when it ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _young_only():
    """While a build runs, the cyclic collector looks at young objects only, never at all of them.

    Rendering leaves a few dozen objects in cycles a page (Jinja's macros and
    contexts), which young collections free while they are young. What lives
    on, the values derived and the fragments drawn, was walked by every full
    collection: six of them took 0.6 s of the first process's render of 10,000
    facts (gc.callbacks), and young ones alone leave the build's peak memory
    as it was. The thresholds are put back when the build ends.
    """
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, 1 << 30)  # a full collection only after a billion young ones
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


def finish(options: Options, session: Session, most: int | None = None,
           paths: list[str] | None = None) -> Report | None:
    """Render pages a session's last build left for later, from that build's index: those at `paths`,
    or (at most `most` of) all, HTML pages before data files.

    None if it left nothing. The preview calls it a page at a time between
    the events it serves, so that a save never waits behind the rest, and
    for the page a reader asks for before its turn came.
    """
    if not session.pending:
        return None
    if paths is None:
        paths = sorted(session.pending, key=lambda path: (not urls.is_page(path), path))[:most]
    paths = [path for path in paths if path in session.pending]
    if not paths:
        return None
    report = render_again(options, session, paths)
    if report is not None:
        session.pending = session.pending - set(paths)
    return report


def render_again(options: Options, session: Session, paths: list[str]) -> Report | None:
    """Render the pages at `paths` from the session's last good build, writing the files that changed.

    None if the session has no good build to render from (or a build failed
    since). `finish` renders the pages a build left for later this way, and
    the preview warms its memo with pages already current on disk.
    """
    good = session.good
    if good is None or session.failed or session.state is None:
        return None
    started = time.perf_counter()
    wanted = set(paths)
    todo = [i for i, page in enumerate(good.pages) if page.path in wanted]
    problems = Problems()
    writer = Writer(options.out, in_memory=True)
    writer.begin()
    job = rebuild.Job(index=good.index, pages=good.pages, renderer=session.renderer, writer=writer,
                      offline=options.offline, zip_entries=None, memo=session.memo, trust_outputs=True)
    report = Report(pages=len(good.pages))
    try:
        done = rebuild.render(job, todo, 1, lambda n: None)
        writer.keep_all(session.state.produced)  # all the last build made stays
        _record(good.outputs, done, writer, problems, report)
        if problems.errors:
            raise BuildFailed(problems.sorted())
        with publish.locked(options.out, lambda message: None):  # a build of the same folder waits
            report.written, report.removed = writer.commit(session.state.produced)
    except BaseException:
        writer.abort()
        raise
    session.state = rebuild.next_state(session.state, session.state.config, job, done, fingerprints=False,
                                       readers=session.readers, replanned=False)
    report.seconds = time.perf_counter() - started
    return report


def _differing(old: Index, new: Index, session: Session) -> set | None:
    """The keys some page read whose value is not what it was in the last good build."""
    if session.state is None:
        return None
    readers = _readers(session)

    def value(index: Index, key):
        try:
            return index.get(key)
        except KeyError:
            return _ABSENT

    keys = readers.keys() | session.memo.keys()
    return {k for k in keys if (a := value(old, k)) is not (b := value(new, k)) and a != b}


_ABSENT = object()


def _readers(session: Session) -> dict[Key, set[str]]:
    if session.readers is None:
        readers: dict[Key, set[str]] = {}
        for path, page in session.state.pages.items():
            for k in page.deps:
                readers.setdefault(k, set()).add(path)
        session.readers = readers
    return session.readers


def write_site(options: Options, index: Index, pages: list[Page], outputs: frozenset[str], problems: Problems,
               session: Session,
               keys: set | None, extra: dict[str, bytes], progress: Silent, remember: bool,
               look_at_every_page: bool = True, first=None, *, existed: bool, folders_made: bool) -> Report:
    """Render what changed and copy static files into options.out, all at once or not at all.

    A web build also makes the offline edition, as one zip: pages that were
    not rendered again keep their entry from the last zip. `keys`, when
    known, are the keys that changed since the session's state: the pages
    that read them are rendered again, and every page is looked at only
    when the plan or the templates changed.
    """
    state_path = State.path_for(options.root, options.out)
    trusted = session.state is not None
    # Into a folder that was not there, nothing is kept: the last state need not be read (0.6 s at 10,000 facts).
    state = session.state if trusted else State.read(state_path) if existed else State()
    config = _config_fingerprint(options, index)
    if state.config != config or not existed:
        state, keys, session.readers, look_at_every_page = State(config=config, produced=state.produced), None, None, True

    make_zip = not options.offline and options.offline_zip
    zip_path = options.out / urls.offline_zip()
    writer = Writer(options.out, in_memory=not remember, existed=existed, folders_made=folders_made)
    writer.begin()
    job = rebuild.Job(index=index, pages=tuple(pages), renderer=session.renderer, writer=writer,
                      offline=options.offline, zip_entries=edition.read_entries(zip_path) if make_zip else None,
                      spool=edition.Spool(writer.spool) if make_zip else None,
                      memo=session.memo, trust_outputs=trusted)
    report = Report(pages=len(pages))
    try:
        if keys is None:
            todo, keys = rebuild.stale(job, state)
        else:
            todo = rebuild.stale_for(job, state, keys, _readers(session), look_at_every_page, session.pending)
        later = {job.pages[i].path for i in todo if not first(job.pages[i])} if first is not None else set()
        todo = [i for i in todo if job.pages[i].path not in later]
        job.memo.forget(keys, index)
        progress.stage("render", len(todo))
        done = rebuild.render(job, todo, options.workers, progress.advance)
        _record(outputs, done, writer, problems, report)
        progress.stage("write")
        static = static_files(options.root)
        for rel, data in static.items():
            writer.add(rel, data)
        for rel, data in sorted(extra.items()):
            writer.add(rel, data)
        if make_zip:
            progress.stage("zip")
            _zip(job, done, static, outputs)
        if problems.fails(options.strict):
            raise BuildFailed(problems.sorted())
        progress.stage("commit", len(writer.staged))
        report.written, report.removed = writer.commit(state.produced)
        progress.advance(report.written)
        if writer.found:
            problems.warning(Loc(str(options.out)), "left alone, since Annals did not write them (named once): "
                             + ", ".join(writer.found))
    except BaseException:
        writer.abort()
        raise
    session.pending = later  # only now: a build that fails leaves the last one's pending pages pending
    if remember:
        unchanged = (not done and state.config == config and state.produced == writer.produced
                     and state.pages.keys() == {page.path for page in pages})
        if not unchanged:  # else every key still has the fingerprint the file holds: nothing to write
            rebuild.next_state(state, config, job, done).write(state_path)
    else:
        session.state = rebuild.next_state(state, config, job, done, fingerprints=False,
                                           readers=session.readers, replanned=look_at_every_page)
        _readers(session)  # now, while the first build takes its time, not on the first save
    report.warnings = problems.warnings
    return report


def _record(outputs: frozenset[str], done: list, writer: Writer, problems: Problems, report: Report) -> None:
    """Tell the writer what the pages make and what was staged; gather template problems, each once."""
    writer.keep_all(outputs)
    reported = set()
    for r in done:
        if r.problem is not None:
            if r.problem.loc not in reported:
                reported.add(r.problem.loc)
                problems.items.append(r.problem)
            continue
        writer.record(urls.output_file(r.path), r.staged)
        report.rendered.append(r.path)


def _zip(job: rebuild.Job, done: list, static: dict[str, bytes], outputs: frozenset[str]) -> None:
    """The offline edition's zip: the last one's entries, with those rendered now in their place."""
    job.spool.flush()
    entries = {rel: e for rel, e in job.zip_entries.items() if rel in outputs}
    entries.update((urls.output_file(r.path), r.entry) for r in done if r.entry is not None)
    for rel, data in static.items():
        entries[rel] = edition.entry_for(data, job.zip_entries.get(rel), job.spool)
    job.spool.flush()
    if entries == job.zip_entries:  # every entry as it was: the same zip
        job.writer.keep_all((urls.offline_zip(),))
        return
    job.writer.add_written(urls.offline_zip(), lambda handle: edition.write_zip(handle, entries))


def github_pages_files(site) -> dict[str, bytes]:
    """.nojekyll, so GitHub Pages serves the files as they are; CNAME for a custom domain."""
    files = {urls.nojekyll(): b""}
    if site.cname:
        files[urls.cname()] = f"{site.cname}\n".encode()
    return files


def _config_fingerprint(options: Options, index: Index) -> str:
    text = f"{options.offline}|{options.offline_zip}|{index.archive.site!r}"
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def static_files(root: Path) -> dict[str, bytes]:
    """The static files to publish, by output path: the archive's over the default theme's."""
    return {urls.static(rel.split("/", 1)[1]): path.read_bytes() for rel, path in theme.static_files(root).items()}
