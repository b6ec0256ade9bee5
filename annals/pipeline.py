"""The build, as a short list of named steps: load → validate → index → plan → render → write.

This is the only module that calls every stage.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import edition, history, load as loading, parallel, permalinks, publish, rebuild, records, session as saved
from . import theme, urls, versions
from .index import Index, build_index, update_index
from .load import load
from .model import Archive
from .pages import Page, claimed, plan
from .problems import BuildFailed, Loc, Problem, Problems
from .progress import Silent
from .render import Renderer
from .session import Good, Session
from .state import CACHE, State
from .validate import validate
from .write import FoldersAhead, OutputRefused, SpareAhead, Writer, check_output, write_fault


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
    # What makes the render's executor (see annals.parallel): forked processes unless told otherwise.
    executor: "parallel.ExecutorFactory | None" = None


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
          loaded: Callable[[Archive], None] = lambda archive: None, git: history.Log | None = None,
          known: dict | None = None) -> Read:
    """`loaded(archive)` is called once the files are read, which takes every core there is, and the rest does not.
    `git` is the history's log (see history), when the caller has read it already; `known`, the versions
    read already (see versions.read)."""
    archive = load(options.root, problems, progress, files, options.workers)
    loaded(archive)
    progress.stage("history")
    archive = versions.read(archive, options.root, None, git, known)  # git's dates and every fact's versions
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


def _patch(options: Options, session: Session, changed: set[str], problems: Problems,
           git: history.Log | None) -> Read | None:
    """The last good build with only the changed facts read, checked and indexed again; None if it cannot be.

    `git` is the history's log now, when known (the command line's); else an
    edited file has no date git vouches for until it is committed (see history)."""
    good = session.good
    dates = git.dates if git is not None else None
    facts = loading.update(options.root, good.archive, changed, session.files)
    if facts is None:
        return None
    if dates is not None:  # a fact committed as it was read: the same record, with a new date
        redated = {f.loc.path: ident for ident, f in good.archive.facts.items()}
        facts.update((redated[rel], good.archive.facts[redated[rel]]) for rel in changed
                     if rel in redated and redated[rel] not in facts
                     and good.archive.changed.get(rel) != dates.get(rel))
    archive = loading.patched(good.archive, facts)
    paths = {f.loc.path for f in (*facts.values(), *(good.archive.facts.get(i) for i in facts)) if f is not None}
    if dates is not None:
        archive = dataclasses.replace(archive, changed=dates)
    elif paths & set(good.archive.changed):
        archive = dataclasses.replace(archive, changed={p: t for p, t in good.archive.changed.items() if p not in paths})
    kept = [p for p in good.checked if records.kind_of(p.loc.path) == "fact" and p.loc.path not in paths]
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
        copied = permalinks.check(published, set(addresses(pages)), claims, problems)
        if (options.locked or warn_unrecorded) and not copied:  # each URL of a copied manifest is noise
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
        with parallel.lasting():  # as a build reads: unpickling what the read-ahead process sent took 0.3 s, not 0.07, without it
            _, index = read_archive(options, problems)
        pages, _ = check_pages(options, index, problems, warn_unrecorded=True)
        # Templates the last build compiled are loaded from its cache, which `check` leaves as it is.
        renderer = Renderer(options.root, options.root / CACHE / "templates", read_only=True)
        check_templates(options.root, renderer, pages, problems)
    finally:
        parallel.unfreeze()
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
        with _output_locked(options, progress), parallel.young_only():
            try:
                if session is None:
                    return _build_resumed(options, progress)
                return _build_in(options, progress, session, changed, first)
            finally:
                parallel.unfreeze()  # what lasting() froze, and the render froze for its workers
    except publish.InTheWay as error:
        raise OutputRefused(str(error)) from None
    except OSError as error:
        raise OutputRefused(write_fault(error, options.out)) from None


def _build_resumed(options: Options, progress: Silent) -> Report:
    """The command line's build: the session the last one left resumed, told what changed since, and saved again.

    With nothing changed it does nothing but say again what the last build
    warned of, having read no more than the session's glance."""
    config = _session_config(options)
    seen = saved.glance(options.root, options.out, config)
    git = history.read_log(options.root)  # read once: for the look, and for the versions if it reads again
    now, _ = saved.look_now(options.root, history.state_of(git))
    if seen is not None and not saved.trusted(seen, options.out):
        seen = None  # the output is not what the session's build left there: build it whole
    missing = saved.missing(seen.produced if seen else (), options.out)
    changed = saved.changes(seen.look if seen else None, now)
    if changed == set() and not seen.pending and not missing:
        if Problems(list(seen.warnings)).fails(options.strict):
            raise BuildFailed(sorted(seen.warnings))
        return Report(pages=seen.pages, warnings=list(seen.warnings))
    ahead = _ahead(options, Session(), options.out.exists())  # begun first: the session takes a while to load
    try:
        with parallel.lasting():  # unpickled with the collector off, as the read-ahead's records are (see there)
            session = saved.resume(options.root, options.out, config, seen)
    except BaseException:
        ahead.done(failed=True)
        raise
    if session.good is not None:  # pages whose file went from the output: written again whatever changed
        session.pending |= {page.path for page in session.good.pages if urls.output_file(page.path) in missing}
        session.vouched = changed is not None and seen.look.templates == now.templates
    report = _build_in(options, progress, session, changed if session.good else None, None, git, ahead)
    # A folder built new leaves no spare for the next build to swap in: one made now, while the
    # session is saved, saves the next build linking ten thousand files (0.7 s) while it renders.
    first = not publish.spare(options.out).exists()
    spare = SpareAhead(options.out, leave=frozenset([urls.offline_zip()])) if first else None
    try:
        saved.committed(session, now, options.root, options.out, report.manifest_updated)
        lost = saved.save(session, options.root, options.out, config)
        if spare is not None:
            spare.mirrored()
    finally:
        if spare is not None:
            spare.done(failed=True)
    if lost is not None:
        report.warnings.append(Problem(Loc(CACHE + "/"), lost, "warning"))
    return report


def _session_config(options: Options) -> str:
    return f"{options.offline}|{options.offline_zip}|{options.base_url}|{options.locked}"


def resume_session(options: Options) -> Session:
    """The session the last build of options.out left on disk, or an empty one."""
    config = _session_config(options)
    return saved.resume(options.root, options.out, config, saved.glance(options.root, options.out, config))


def save_session(options: Options, session: Session) -> None:
    """Leave the session on disk, for the next build of options.out (by build.py or the preview) to resume."""
    if session.look is None:  # a preview's: its next start reads everything anyway, and looks only at the output
        now, _ = saved.look_now(options.root, history.state(options.root))
        saved.committed(session, now, options.root, options.out, False)
    saved.save(session, options.root, options.out, _session_config(options))


def _build_in(options: Options, progress: Silent, session: Session, changed: set[str] | None, first,
              git: history.Log | None = None, ahead: "FoldersAhead | SpareAhead | None" = None) -> Report:
    existed = options.out.exists()
    ahead = ahead or _ahead(options, session, existed)
    try:
        report = _build(options, progress, session, changed, first, existed, ahead, git)
    except BaseException:
        ahead.done(failed=True)
        raise
    ahead.done(failed=False)
    return report


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


def _ahead(options: Options, session: Session, existed: bool) -> FoldersAhead | SpareAhead:
    """What a process of its own makes of the output while the build reads and renders: the fact pages'
    folders, for a first build into a new folder; the spare's mirror of an output folder there already."""
    if options.workers <= 1 or session.in_place or (session.good is not None and not existed):
        return FoldersAhead(None)
    try:
        check_output(options.out, options.root)  # refused here, nothing is made: the build refuses it later
    except OutputRefused:
        return FoldersAhead(None)
    if existed:
        return SpareAhead(options.out)
    return FoldersAhead.replacing(publish.spare(options.out))  # what was there is no part of this build


def _fact_folders(archive: Archive) -> list[str]:
    """The folder of each fact's page."""
    return [os.path.dirname(urls.output_file(urls.fact(ident))) for ident in archive.facts]


@dataclass(frozen=True)
class Plan:
    """Every page to write, the files they make, the manifest as read, and whether they were planned
    anew (else the last build's plan stands: only facts changed, none of what decides it)."""

    pages: list[Page]
    outputs: frozenset[str]
    published: dict[str, int] | None
    anew: bool


def _build(options: Options, progress: Silent, session: Session, changed: set[str] | None,
           first, existed: bool, ahead: FoldersAhead | SpareAhead, git: history.Log | None) -> Report:
    """Read (or patch) → validate → index → plan and check → find stale pages → render → write → remember."""
    started = time.perf_counter()
    problems = Problems()
    renderer, recompiled = session.renderer_for(options.root)
    if recompiled and session.vouched and session.state is not None:
        renderer.know(session.state.templates)  # the templates the last build walked, untouched since
    templates_changed = recompiled and not session.vouched
    if templates_changed:  # the rows drawn with the old ones are keyed by their fingerprint: never asked again
        session.memo.drop(Renderer._rows_drawn)
    compiling = renderer.compile_ahead() if options.workers > 1 and recompiled else None
    with parallel.stopped_on_failure(compiling):
        read, patched = _read_or_patch(options, session, changed, problems, progress, ahead, git)
        progress.stage("plan")
        planned = _plan(options, session, read, patched, problems)
        if planned.anew or templates_changed:
            _wait(compiling)  # the templates it compiles, loaded by the check from the cache it fills
            check_templates(options.root, renderer, planned.pages, problems)
        if problems.fails(options.strict):
            raise BuildFailed(problems.sorted())
        check_output(options.out, options.root)
        _wait(compiling)
        report = write_site(options, read.index, planned, problems, session, read.keys, progress,
                            planned.anew or templates_changed, first, existed=existed, ahead=ahead)
    report.patched = patched
    _remember(options, session, read, planned, report)
    progress.finish()
    report.seconds = time.perf_counter() - started
    return report


def _wait(child) -> None:
    if child is not None:
        child.wait()


def _read_or_patch(options: Options, session: Session, changed: set[str] | None, problems: Problems,
                   progress: Silent, ahead: FoldersAhead | SpareAhead, git: history.Log | None) -> tuple[Read, bool]:
    """The archive read, checked and indexed; patched from the session's last good build where only
    facts changed. With the keys that changed since that build, when it can tell. And whether it patched."""
    session.failed, failed = True, session.failed
    with parallel.lasting():
        if session.good is not None and changed is not None and not failed:
            found = Problems()
            read = _patch(options, session, changed, found, git)
            if read is not None:
                problems.items.extend(found.items)
                return read, True
        read = _read(options, problems, progress, session.files,
                     lambda archive: ahead.start(lambda: _fact_folders(archive)), git, session.versions)
        if session.good is not None and not problems.errors:
            read = dataclasses.replace(read, keys=_differing(session.good.index, read.index, session))
        return read, False


def _plan(options: Options, session: Session, read: Read, patched: bool, problems: Problems) -> Plan:
    if patched and not read.keys & _PLAN_KEYS:
        good = session.good
        published = permalinks.read(options.root, problems) if options.record_permalinks else {}
        return Plan(list(good.pages), good.outputs, published, False)
    pages, published = check_pages(options, read.index, problems)
    return Plan(pages, frozenset(urls.output_file(p.path) for p in pages), published, True)


def _remember(options: Options, session: Session, read: Read, planned: Plan, report: Report) -> None:
    """The manifest told of new URLs, and the session of this good build, for the next to start from."""
    if not options.offline and options.record_permalinks and not options.locked:
        report.manifest_updated = permalinks.update(options.root, planned.published, set(addresses(planned.pages)))
    session.good = Good(read.archive, read.index, tuple(planned.pages), planned.outputs, read.checked)
    session.failed, session.warnings = False, tuple(report.warnings)
    session.patched_only = session.patched_only and report.patched


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
                      offline=options.offline, zip_entries=None, memo=session.memo)
    report = Report(pages=len(good.pages))
    try:
        done = rebuild.render(job, todo, None, lambda n: None)
        writer.keep_all(session.state.produced)  # all the last build made stays
        _record(good.pages, good.outputs, done, writer, problems, report)
        if problems.errors:
            raise BuildFailed(problems.sorted())
        with publish.locked(options.out, lambda message: None):  # a build of the same folder waits
            report.written, report.removed = writer.commit(session.state.produced)
    except BaseException:
        writer.abort()
        raise
    session.state = rebuild.next_state(session.state, session.state.config, job, done,
                                       readers=session.readers, replanned=False)
    report.seconds = time.perf_counter() - started
    return report


def _differing(old: Index, new: Index, session: Session) -> set | None:
    """The keys some page read whose value is not what it was in the last good build."""
    if session.state is None:
        return None
    readers = session.readers_of()

    def value(index: Index, key):
        try:
            return index.get(key)
        except KeyError:
            return _ABSENT

    keys = readers.keys() | session.memo.keys()
    return {k for k in keys if (a := value(old, k)) is not (b := value(new, k)) and a != b}


_ABSENT = object()


def write_site(options: Options, index: Index, planned: Plan, problems: Problems, session: Session,
               keys: set | None, progress: Silent, look_at_every_page: bool = True, first=None, *,
               existed: bool, ahead: FoldersAhead | SpareAhead | None = None) -> Report:
    """Render what changed and copy static files into options.out, all at once or not at all.

    A web build also makes the offline edition, as one zip: pages that were
    not rendered again keep their entry from the last zip. `keys`, when
    known, are the keys that changed since the session's state: the pages
    that read them are rendered again, and every page is looked at only
    when the plan or the templates changed. Unknown, every page is rendered.
    """
    state, keys = _state_for(options, index, session, keys, existed)
    writer = Writer(options.out, in_memory=session.in_place, existed=existed, ahead=ahead)
    writer.begin()
    job = _job(options, index, planned.pages, session, writer)
    if job.zip_entries == {} and keys is not None:  # the last zip gone or not ours: every page goes in anew
        keys, session.readers = None, None
    report = Report(pages=len(planned.pages))
    try:
        todo, later = _stale(job, state, keys, session, look_at_every_page, first)
        progress.stage("render", len(todo))
        with parallel.executor(options.workers, rebuild.start_worker, (job,), options.executor) as executor:
            done = rebuild.render(job, todo, executor, progress.advance)
        _record(planned.pages, planned.outputs, done, writer, problems, report)
        _add_the_rest(options, job, done, planned.outputs, progress)
        if problems.fails(options.strict):
            raise BuildFailed(problems.sorted())
        _commit(options, writer, state, problems, report, progress)
    except BaseException:
        writer.abort()
        raise
    session.pending = later  # only now: a build that fails leaves the last one's pending pages pending
    session.state = rebuild.next_state(state, state.config, job, done, readers=session.readers,
                                       replanned=look_at_every_page)
    if session.in_place:  # now, while the preview's first build takes its time, not on the first save
        session.readers_of()
        session.memo.count_readers()
    report.warnings = problems.warnings
    return report


def _state_for(options: Options, index: Index, session: Session, keys: set | None,
               existed: bool) -> tuple[State, set | None]:
    """The state to render from, and the keys that changed: none known (render everything) for a
    new output folder, another configuration, or a build that could not tell."""
    state = session.state or State()
    config = _config_fingerprint(options, index)
    if state.config != config or not existed or keys is None:
        session.readers = None
        return State(config=config, produced=state.produced), None
    return state, keys


def _job(options: Options, index: Index, pages: list[Page], session: Session, writer: Writer) -> rebuild.Job:
    make_zip = not options.offline and options.offline_zip
    # Streams are copied from the last zip only when this session's last build wrote it (and, resumed
    # from disk, the output is as its commit left it: see session.trusted). A zip it cannot vouch
    # for may hold a stream damaged under an entry whose size and CRC still say it is the page.
    last = edition.read_entries(options.out / urls.offline_zip()) if make_zip and session.good is not None else {}
    return rebuild.Job(index=index, pages=tuple(pages), renderer=session.renderer, writer=writer,
                       offline=options.offline, zip_entries=last if make_zip else None,
                       spool=edition.Spool(writer.spool) if make_zip else None, memo=session.memo,
                       memory_kept=session.in_place)


def _stale(job: rebuild.Job, state: State, keys: set | None, session: Session, look_at_every_page: bool,
           first) -> tuple[list[int], set[str]]:
    """Positions of the pages to render now, and the paths of those `first` leaves for later."""
    if keys is None:
        todo = list(range(len(job.pages)))
        job.memo.meet(job.index)
    else:
        readers = session.readers_of() if session.in_place else session.readers
        todo = rebuild.stale_for(job, state, keys, readers, look_at_every_page, session.pending)
        job.memo.forget(keys, job.index)
    later = {job.pages[i].path for i in todo if not first(job.pages[i])} if first is not None else set()
    return [i for i in todo if job.pages[i].path not in later], later


def _add_the_rest(options: Options, job: rebuild.Job, done: list, outputs: frozenset[str], progress: Silent) -> None:
    """The static files, GitHub Pages' own files, and the offline edition's zip."""
    progress.stage("write")
    static = static_files(options.root)
    extra = {} if options.offline else github_pages_files(job.index.archive.site)
    for rel, data in [*static.items(), *sorted(extra.items())]:
        job.writer.add(rel, data)
    if job.zip_entries is not None:
        progress.stage("zip")
        _zip(job, done, static, outputs)


def _commit(options: Options, writer: Writer, state: State, problems: Problems, report: Report,
            progress: Silent) -> None:
    progress.stage("commit", len(writer.staged))
    report.written, report.removed = writer.commit(state.produced)
    progress.advance(report.written)
    if writer.found:
        problems.warning(Loc(str(options.out)), "left alone, since Annals did not write them (named once): "
                         + ", ".join(writer.found))


def _record(pages: list[Page], outputs: frozenset[str], done: list, writer: Writer, problems: Problems,
            report: Report) -> None:
    """Tell the writer what the pages make and what was staged; gather template problems, each once.

    A problem many pages share is told for the first of them in the plan, whatever order the
    render finished them in, so that the same fault reads the same on every build."""
    writer.keep_all(outputs)
    failed = []
    for r in done:
        if r.problem is not None:
            failed.append(r)
            continue
        writer.record(urls.output_file(r.path), r.staged)
        report.rendered.append(r.path)
    if failed:
        position = {page.path: i for i, page in enumerate(pages)}
        reported = set()
        for r in sorted(failed, key=lambda r: position[r.path]):  # each rendered from one of `pages`
            if r.problem.loc not in reported:
                reported.add(r.problem.loc)
                problems.items.append(r.problem)


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
