"""The build, as a short list of named steps: load → validate → index → plan → render → write.

This is the only module that calls every stage.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import edition, history, permalinks, rebuild, urls
from .index import Index, build_index
from .load import load
from .model import Archive
from .pages import Memo, Page, claimed, plan
from .problems import BuildFailed, Loc, Problem, Problems
from .progress import Silent
from .render import Renderer
from .state import CACHE, State
from .validate import validate
from .write import Writer, check_output


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
    remember: bool = True  # keep the incremental state on disk (the preview keeps it in memory)
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
    state: State | None = None  # what the next build starts from, for a caller that keeps it in memory


def read_archive(options: Options, problems: Problems, progress: Silent | None = None,
                 files: dict | None = None) -> tuple[Archive, Index]:
    """Load, validate and index: everything `check` reads, nothing written.

    The index holds the records that loaded whole, also when other files have
    errors, so that the checks after it (number checks, the plan, the
    permalink manifest) still report what they find in the same run.
    `files` is a cache of files already read (see load), for a caller that builds again and again.
    """
    progress = progress or Silent()
    archive = load(options.root, problems, progress, files, options.workers)
    archive = dataclasses.replace(archive, changed=history.last_changed(options.root))
    progress.stage("validate")
    validate(archive, options.root, problems)
    if options.base_url and archive.site is not None:  # checked, and ending in '/', by the command line
        archive = dataclasses.replace(archive, site=dataclasses.replace(archive.site, base_url=options.base_url))
    progress.stage("index")
    return archive, build_index(archive, problems)


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
    _, index = read_archive(options, problems)
    check_pages(options, index, problems, warn_unrecorded=True)
    return problems


def check_paths(pages: list[Page], problems: Problems) -> None:
    """Two pages may never write the same file (a fact id and another's alias, say)."""
    seen: dict[str, Page] = {}
    for page in pages:
        first = seen.setdefault(urls.output_file(page.path), page)
        if first is not page:
            problems.error(Loc(page.source or first.source, 1),
                           f"/{page.path} would be written twice: by this {page.kind} and by {first.source or first.kind}")


def build(options: Options, state: State | None = None, progress: Silent | None = None,
          files: dict | None = None, renderer: Renderer | None = None, memo: Memo | None = None) -> Report:
    """Build the site into options.out. Raises BuildFailed with every problem, writing nothing.

    `state` and `files` are what a caller that builds again and again (the
    preview) keeps in memory: the last build's state, the files read and
    the templates compiled (a Renderer, which it replaces when a template
    changes) and the values derived from the index (a Memo). Given a state,
    the build trusts that the files it lists are still in options.out.
    """
    started = time.perf_counter()
    progress = progress or Silent()
    problems = Problems()
    _, index = read_archive(options, problems, progress, files)
    progress.stage("plan")
    pages, published = check_pages(options, index, problems)
    if problems.fails(options.strict):
        raise BuildFailed(problems.sorted())

    check_output(options.out, options.root)
    extra = {} if options.offline else github_pages_files(index.archive.site)
    renderer = renderer or Renderer(options.root, options.root / CACHE / "templates")
    report = write_site(options, index, pages, problems, state, extra, progress, renderer, memo)
    if not options.offline and options.record_permalinks and not options.locked:
        report.manifest_updated = permalinks.update(options.root, published, set(addresses(pages)))
    progress.finish()
    report.seconds = time.perf_counter() - started
    return report


def write_site(options: Options, index: Index, pages: list[Page], problems: Problems,
               state: State | None, extra: dict[str, bytes], progress: Silent, renderer: Renderer,
               memo: Memo | None = None) -> Report:
    """Render what changed and copy static files into options.out, all at once or not at all.

    A web build also makes the offline edition, as one zip: pages that were
    not rendered again keep their entry from the last zip.
    """
    state_path = State.path_for(options.root, options.out)
    trusted = state is not None
    if state is None:
        state = State.read(state_path)
    config = _config_fingerprint(options, index)
    if state.config != config or not options.out.exists():
        state = State(config=config, produced=state.produced)

    make_zip = not options.offline and options.offline_zip
    zip_path = options.out / urls.offline_zip()
    writer = Writer(options.out)
    writer.begin()
    job = rebuild.Job(index=index, pages=tuple(pages), renderer=renderer, writer=writer,
                      offline=options.offline, zip_entries=edition.read_entries(zip_path) if make_zip else None,
                      memo=memo or Memo(), trust_outputs=trusted)
    report = Report(pages=len(pages))
    try:
        todo, changed = rebuild.stale(job, state)
        job.memo.begin(index, changed, set(state.keys))
        progress.stage("render", len(todo))
        done = rebuild.render(job, todo, options.workers, progress.advance)
        _record(job, todo, done, writer, problems, report)
        progress.stage("write")
        static = static_files(options.root)
        for rel, data in static.items():
            writer.add(rel, data)
        for rel, data in sorted(extra.items()):
            writer.add(rel, data)
        if make_zip:
            progress.stage("zip")
            writer.add(urls.offline_zip(), _zip(job, done, static))
        if problems.fails(options.strict):
            raise BuildFailed(problems.sorted())
        progress.stage("commit", len(writer.staged))
        report.written, report.removed = writer.commit(state.produced)
        progress.advance(report.written)
    except BaseException:
        writer.abort()
        raise
    report.state = rebuild.next_state(state, config, job, done, changed, exact=options.remember)
    if options.remember:
        report.state.write(state_path)
    report.warnings = problems.warnings
    return report


def _record(job: rebuild.Job, todo: list[int], done: list, writer: Writer, problems: Problems,
            report: Report) -> None:
    """Tell the writer what was staged and kept; gather template problems, each once."""
    redone = set(todo)
    for i, page in enumerate(job.pages):
        if i not in redone:
            writer.keep(urls.output_file(page.path))
    reported = set()
    for r in done:
        if r.problem is not None:
            if r.problem.loc not in reported:
                reported.add(r.problem.loc)
                problems.items.append(r.problem)
            continue
        writer.record(urls.output_file(r.path), r.staged)
        report.rendered.append(r.path)


def _zip(job: rebuild.Job, done: list, static: dict[str, bytes]) -> bytes:
    entries = dict(job.zip_entries)
    entries.update((urls.output_file(r.path), r.entry) for r in done if r.entry is not None)
    planned = {urls.output_file(p.path) for p in job.pages}
    entries = {rel: e for rel, e in entries.items() if rel in planned}
    for rel, data in static.items():
        entries[rel] = edition.entry_for(data, job.zip_entries.get(rel))
    return edition.zip_entries(entries)


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
    static = root / "static"
    if not static.is_dir():
        return {}
    return {urls.static(path.relative_to(static).as_posix()): path.read_bytes()
            for path in sorted(static.rglob("*")) if path.is_file() and not path.name.startswith(".")}
