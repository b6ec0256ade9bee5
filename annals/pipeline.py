"""The build, as a short list of named steps: load → validate → index → plan → render → write.

This is the only module that calls every stage.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import edition, history, permalinks, urls
from .index import Index, build_index
from .load import load
from .model import Archive
from .pages import Page, context, plan, produce
from .problems import BuildFailed, Loc, Problem, Problems
from .render import Renderer, TemplateProblem
from .state import CACHE, PageState, State
from .validate import validate
from .write import MARKER, Writer, check_output


@dataclass(frozen=True)
class Options:
    root: Path
    out: Path
    base_url: str | None = None
    offline: bool = False
    strict: bool = False
    offline_zip: bool = True  # a web build also makes the offline edition's zip


@dataclass
class Report:
    pages: int = 0
    rendered: list[str] = field(default_factory=list)
    written: int = 0
    removed: int = 0
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    manifest_updated: bool = False


def read_archive(options: Options, problems: Problems) -> tuple[Archive, Index | None]:
    """Load, validate and index: everything `check` does, nothing written."""
    archive = load(options.root, problems)
    archive = dataclasses.replace(archive, changed=history.last_changed(options.root))
    validate(archive, options.root, problems)
    if problems.errors:
        return archive, None
    if options.base_url:
        url = options.base_url if options.base_url.endswith("/") else options.base_url + "/"
        archive = dataclasses.replace(archive, site=dataclasses.replace(archive.site, base_url=url))
    return archive, build_index(archive, problems)


def check(options: Options) -> Problems:
    problems = Problems()
    archive, index = read_archive(options, problems)
    if index is not None:
        pages = plan(index)
        check_paths(pages, problems)
        permalinks.check(permalinks.read(options.root), {p.path for p in pages}, problems)
    return problems


def check_paths(pages: list[Page], problems: Problems) -> None:
    """Two pages may never write the same file (a fact id and another's alias, say)."""
    seen: dict[str, Page] = {}
    for page in pages:
        first = seen.setdefault(urls.output_file(page.path), page)
        if first is not page:
            problems.error(Loc(page.source or page.path),
                           f"/{page.path} would be written twice: by this {page.kind} and by {first.source or first.kind}")


def build(options: Options, state: State | None = None) -> Report:
    """Build the site into options.out. Raises BuildFailed with every problem, writing nothing."""
    started = time.perf_counter()
    problems = Problems()
    archive, index = read_archive(options, problems)
    if index is None:
        raise BuildFailed(problems.sorted())
    pages = plan(index)
    check_paths(pages, problems)
    published = permalinks.read(options.root)
    permalinks.check(published, {p.path for p in pages}, problems)
    if problems.fails(options.strict):
        raise BuildFailed(problems.sorted())

    check_output(options.out, options.root)
    extra: dict[str, bytes] = {}
    if not options.offline:
        extra = github_pages_files(index.archive.site)
        if options.offline_zip:
            extra[urls.offline_zip()] = offline_edition(options, index, pages, problems)
    report = write_site(options, index, pages, problems, state, extra)
    if not options.offline:
        report.manifest_updated = permalinks.update(options.root, published, {p.path for p in pages})
    report.seconds = time.perf_counter() - started
    return report


def write_site(options: Options, index: Index, pages: list[Page], problems: Problems,
               state: State | None, extra: dict[str, bytes]) -> Report:
    """Render what changed and copy static files into options.out, all at once or not at all."""
    state_path = State.path_for(options.root, options.out)
    if state is None:
        state = State.read(state_path)
    config = _config_fingerprint(options, index)
    if state.config != config or not options.out.exists():
        state = State(config=config, produced=state.produced)

    renderer = Renderer(options.root, offline=options.offline)
    writer = Writer(options.out)
    writer.begin()
    report = Report(pages=len(pages))
    try:
        new_pages = render_pages(pages, index, renderer, state, writer, problems, report)
        copy_static(options.root, writer)
        for rel, data in sorted(extra.items()):
            writer.add(rel, data)
        if problems.fails(options.strict):
            raise BuildFailed(problems.sorted())
        report.written, report.removed = writer.commit(state.produced)
    except BaseException:
        writer.abort()
        raise
    state.pages, state.produced, state.config = new_pages, set(writer.produced), config
    state.write(state_path)
    report.warnings = problems.warnings
    return report


def github_pages_files(site) -> dict[str, bytes]:
    """.nojekyll, so GitHub Pages serves the files as they are; CNAME for a custom domain."""
    files = {urls.nojekyll(): b""}
    if site.cname:
        files[urls.cname()] = f"{site.cname}\n".encode()
    return files


def offline_edition(options: Options, index: Index, pages: list[Page], problems: Problems) -> bytes:
    """The offline flavour, built (incrementally) into a cache folder of its own, as one zip."""
    tag = State.path_for(options.root, options.out).stem.removeprefix("state-")
    folder = options.root / CACHE / f"offline-{tag}"
    offline = dataclasses.replace(options, offline=True, out=folder)
    write_site(offline, index, pages, problems, None, {})
    return edition.zip_files(edition.files_in(folder, skip={MARKER}))


def _config_fingerprint(options: Options, index: Index) -> str:
    text = f"{options.offline}|{index.archive.site!r}"
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _key_fingerprint(key) -> str:
    # A producer's key may carry what it makes (the sitemap's list of pages),
    # so a changed key must remake the file even when no record changed.
    return "key:" + hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()


def render_pages(pages, index, renderer, state, writer, problems, report) -> dict[str, PageState]:
    """Render the pages whose inputs changed; keep the others as they are on disk."""
    fingerprints: dict = {}

    def fp(key):
        if key not in fingerprints:
            fingerprints[key] = index.fingerprint(key)
        return fingerprints[key]

    new_state: dict[str, PageState] = {}
    reported: set[Loc] = set()
    for page in pages:
        template_fp = renderer.template_fingerprint(page.template) if page.template else _key_fingerprint(page.key)
        old = state.pages.get(page.path)
        target = urls.output_file(page.path)
        if (old is not None and old.template == template_fp
                and all(fp(k) == v for k, v in old.deps.items())
                and (writer.out / target).is_file()):
            writer.keep(target)
            new_state[page.path] = old
            continue
        try:
            if page.template:
                ctx, reader = context(page, index)
                data = renderer.render(page, ctx, reader)
            else:
                data, reader = produce(page, index)
        except TemplateProblem as err:
            if err.problem.loc not in reported:
                reported.add(err.problem.loc)
                problems.items.append(err.problem)
            continue
        writer.add(target, data)
        report.rendered.append(page.path)
        new_state[page.path] = PageState(template_fp, {k: fp(k) for k in reader.deps})
    return new_state


def copy_static(root: Path, writer: Writer) -> None:
    static = root / "static"
    if not static.is_dir():
        return
    for path in sorted(static.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            writer.add(urls.static(path.relative_to(static).as_posix()), path.read_bytes())
