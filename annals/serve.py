"""The live preview: `annals serve` builds, serves the site on 127.0.0.1 and rebuilds on every save.

Four parts:
- `Preview` keeps what a build needs to be quick again in memory (the
  incremental state and the files already read), builds into a folder of its
  own under .annals-cache/, and remembers the problems of the last build;
- `Site`, a WSGI app, serves the last good site as GitHub Pages would, and
  while the content has problems puts them at the top of every page;
- `scheduler.Scheduler` decides when the Preview rebuilds and what the pages
  are told, and does that work on a thread of its own, so that a slow
  rebuild holds up no request: the last good pages are served meanwhile;
- livereload serves it and tells the open pages to reload. Its own watcher
  polls every 0.8 s and ignores a second change within 3 s, so `annals.watch`
  replaces it: the kernel reports a save at once, and the page reloads as
  soon as the rebuild is written.

The reload script livereload injects is inline, which the pages' own
Content-Security-Policy refuses; the preview allows that one script, by its
hash, in the pages it serves. Nothing of this reaches `annals build` output.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import html
import mimetypes
import posixpath
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

from . import theme, urls, watch
from .records import kind_of
from .pages import Interrupted
from .pipeline import Options, build, finish, render_again, resume_session, save_session
from .problems import BuildFailed, Loc, Problem
from .scheduler import Outcome, Scheduler
from .session import forget as forget_session
from .write import MARKER, STAGING, OutputRefused

WATCHED = ["content", "templates", "static"]
LOOKED_AT = 16  # pages served lately that a save renders before the reload: a reader's open tabs
# Work in the background (warming, what a rebuild left for after the reload) looks this often
# whether a change waits, and gives way to it: one page of it may take seconds (see give_way).
LOOK_EVERY = 0.002  # seconds
PROBLEMS_CSS = "/.annals-preview/problems.css"
_PROBLEMS_STYLE = b"""\
.annals-problems{margin:0;padding:1rem 1.25rem;background:#fff4f2;color:#5c0f00;border-bottom:3px solid #b3261e;
  font:1rem/1.45 system-ui,sans-serif}
.annals-problems h2{margin:0 0 .4rem;font-size:1.15rem}
.annals-problems ol{margin:.4rem 0 0;padding-left:1.4rem}
.annals-problems code{font:.9rem/1.4 ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
@media (prefers-color-scheme: dark){.annals-problems{background:#3b0d08;color:#ffdad4;border-color:#ffb4a8}}
"""


class Preview:
    """Builds again and again, remembering in memory what makes the next build quick (a Session)."""

    def __init__(self, options: Options):
        self.options = dataclasses.replace(options, offline=False, offline_zip=False, record_permalinks=False)
        # The session the last preview left, so that this one starts from its output.
        self.session = dataclasses.replace(resume_session(self.options), in_place=True)
        self.problems: tuple[Problem, ...] = ()
        self.has_site = False
        # Shared pages to render again while idle, for what they leave in the session (see warm),
        # and the files that warming wrote (none, unless the output was changed behind the preview's back).
        self.warming: list[str] = []
        self.warm_written = 0
        self.looked_at: dict[str, None] = {}  # paths of the pages served lately, the latest last
        self._looked_lock = threading.Lock()  # served on one thread, read by a rebuild on another

    @property
    def out(self) -> Path:
        return self.options.out

    def rebuild(self, changed: set[str] | None = None) -> Outcome:
        """Build again; `changed` names the files that changed since the last call, when known.

        After the first build, what the reader looks at comes first and the
        rest is left for `finish`, which renders it just after the reload, or
        at once for a page asked for before its turn (see Site). When only
        facts changed, that is their own pages and the pages served lately
        (LOOKED_AT): a fact is listed on its month, year, operations,
        source and metric, megabytes at ten thousand facts, as Hugo's fast
        render mode renders only the pages a browser has open. Else it is
        every page, and the data files (facts.json, the feed, the search
        index, ...) wait.
        """
        started = time.perf_counter()
        try:
            report = build(self.options, session=self.session, changed=changed, first=self._first(changed))
        except BuildFailed as failed:
            self.problems = tuple(failed.problems)
            return Outcome(False, self.problems, seconds=time.perf_counter() - started)
        except OutputRefused as refused:
            self.problems = (Problem(Loc(str(self.out)), str(refused)),)
            return Outcome(False, self.problems, seconds=time.perf_counter() - started)
        if not self.has_site:
            # From now on the state lives in memory; a state left on disk would
            # not know of the pages this session writes, so it goes until `save`.
            forget_session(self.options.root, self.out)
            drawn = set(report.rendered)
            shared = [p for p in self.session.good.pages if p.kind != "fact" and p.path not in drawn]
            self.warming = [p.path for p in sorted(shared, key=lambda p: not _pages_first(p))]
        self.problems, self.has_site = (), True
        return Outcome(True, tuple(report.warnings), len(report.rendered), report.written,
                       time.perf_counter() - started)

    def _first(self, changed: set[str] | None):
        """Which pages a rebuild renders before the reload (see rebuild); None: all of them."""
        if not self.has_site:
            return None
        if changed is None or not all(kind_of(path) == "fact" for path in changed):
            return _pages_first
        with self._looked_lock:
            looked_at = set(self.looked_at)
        return lambda page: page.source in changed or page.path in looked_at

    def looked(self, path: str) -> None:
        """The page at `path` was served: a reader has it open, perhaps, for the next save to render first."""
        with self._looked_lock:
            self.looked_at.pop(path, None)
            self.looked_at[path] = None
            if len(self.looked_at) > LOOKED_AT:
                del self.looked_at[next(iter(self.looked_at))]

    def finish(self, most: int | None = None, path: str | None = None,
               waiting: Callable[[], bool] | None = None) -> Outcome | None:
        """Render what the last rebuild left for later (at most `most` pages, or the one at `path`);
        None if it left nothing.

        With `waiting`, this gives way when it says a change waits (see
        give_way): Interrupted is raised, and what is left stays left.
        """
        started = time.perf_counter()
        try:
            with self.give_way(waiting):
                report = finish(self.options, self.session, most, None if path is None else [path])
        except BuildFailed as failed:  # a template of a data file: shown like any other problem
            self.problems = tuple(failed.problems)
            return Outcome(False, self.problems, seconds=time.perf_counter() - started)
        if report is None:
            return None
        return Outcome(True, tuple(report.warnings), len(report.rendered), report.written,
                       time.perf_counter() - started)

    def warm(self, waiting: Callable[[], bool] | None = None) -> bool:
        """Render one page of `warming` again; whether more are left.

        A preview that starts from the output a last preview left renders
        nothing, so the values its pages share (a month's rows, an
        operation's charts, each fact's record in the data files) are not in
        memory, and the first saves would derive every one they touch: 300
        to 1,800 ms a save at 10,000 facts against 60 ms once warm
        (measured). Pages come before data files, as in a build. The shared
        pages' bytes are those on disk, so this writes nothing.

        With `waiting`, this gives way as `finish` does, and the page stays first in line.
        """
        if not self.warming:
            return False
        path = self.warming.pop(0)
        try:
            with self.give_way(waiting):
                warmed = render_again(self.options, self.session, [path])
        except Interrupted:
            self.warming.insert(0, path)
            raise
        except BuildFailed:
            warmed = None  # a template's problem: the next build shows it
        if warmed is None:
            self.warming = []  # no good build to warm from: the next good one renders what it needs
        else:
            self.warm_written += warmed.written
        return bool(self.warming)

    @contextlib.contextmanager
    def give_way(self, waiting: Callable[[], bool] | None):
        """Inside, work not done yet stops, raising Interrupted, once `waiting()` is true.

        A save must not wait behind a page of the background work: from
        nothing, facts.json takes 1.8 s at 10,000 facts and an operation's
        page a quarter of one, and saves came back in up to 1.8 s instead of
        60 ms (measured). The session's memo asks before each value it has
        not derived yet and each fragment not drawn yet (Memo.interrupt),
        looking at once and then at most every LOOK_EVERY seconds; what was
        derived until then stays, so the page takes up again where it stopped.
        """
        if waiting is None:
            yield
            return
        looked = [float("-inf")]  # the first value not derived yet looks at once

        def interrupt() -> None:
            now = time.perf_counter()
            if now - looked[0] >= LOOK_EVERY:
                looked[0] = now
                if waiting():
                    raise Interrupted

        memo = self.session.memo
        memo.interrupt = interrupt
        try:
            yield
        finally:
            memo.interrupt = None

    def pending(self, rel: str) -> str | None:
        """The path of the page written to `rel` in the output, if it waits for `finish`."""
        path = urls.page_path(rel)
        return path if path in self.session.pending else None

    def save(self) -> None:
        """Leave the state on disk, so that the next preview starts from this one's output."""
        self.finish()
        save_session(self.options, self.session)


def _pages_first(page) -> bool:
    return bool(page.template)


class Site:
    """A WSGI app: the preview's output folder, served like GitHub Pages, with the build's problems on top."""

    def __init__(self, preview: Preview, render_first: Callable[[str], None] | None = None):
        self.preview = preview
        # A page asked for before its turn came (see Preview.rebuild): rendered at once, unless the
        # server's Scheduler says otherwise (a rebuild runs, and the page on disk is served).
        self.render_first = render_first or (lambda path: preview.finish(path=path))
        self.script_hash: str | None = None

    def allow_script(self, script: bytes) -> None:
        """Let the pages run livereload's inline script, and only it, by its hash."""
        body = re.search(rb"<script[^>]*>(.*)</script>", script, re.S)
        if body:
            self.script_hash = "'sha256-" + base64.b64encode(hashlib.sha256(body.group(1)).digest()).decode() + "'"

    def __call__(self, environ, start_response):
        path = unquote(environ.get("PATH_INFO") or "/")
        if path == PROBLEMS_CSS:
            return self._respond(start_response, "200 OK", "text/css; charset=utf-8", _PROBLEMS_STYLE)
        if not self.preview.has_site:
            return self._respond(start_response, "500 Internal Server Error", "text/html; charset=utf-8",
                                 self._decorate(_FAILED_PAGE))
        waiting = self.preview.pending(urls.output_file(path.lstrip("/")))
        if waiting is not None:
            self.render_first(waiting)
        found = self._find(path)
        if isinstance(found, str):
            start_response("301 Moved Permanently", [("Location", found), ("Content-Length", "0")])
            return [b""]
        status = "200 OK"
        if found is None:
            status, found = "404 Not Found", self.preview.out / "404.html"
            if not found.is_file():
                return self._respond(start_response, status, "text/plain; charset=utf-8", b"not found\n")
        try:
            data = found.read_bytes()
        except OSError:  # removed by a rebuild between the look and the read
            return self._respond(start_response, "404 Not Found", "text/plain; charset=utf-8", b"not found\n")
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        if kind == "text/html":
            data = self._decorate(data)
            if status == "200 OK":
                self.preview.looked(urls.page_path(found.relative_to(self.preview.out).as_posix()))
        if kind.startswith("text/") or kind in ("application/json", "application/javascript", "application/xml"):
            kind += "; charset=utf-8"
        return self._respond(start_response, status, kind, data)

    def _find(self, path: str) -> Path | str | None:
        """The file a URL path names; a str to redirect to; None when there is none."""
        clean = posixpath.normpath(path)
        if not path.startswith("/") or clean.startswith("/.."):
            return None
        parts = [p for p in clean.split("/") if p]
        if parts and (parts[0] in (STAGING, MARKER) or parts[-1].endswith(".annals-tmp")):
            return None  # Annals' own working files, never a page
        target = self.preview.out.joinpath(*parts)
        if target.is_dir():
            if not path.endswith("/"):
                return path + "/"
            target = target / "index.html"
        return target if target.is_file() else None

    def _decorate(self, page: bytes) -> bytes:
        """Allow the reload script; while the content has problems, list them atop the page."""
        if self.script_hash:
            page = page.replace(b"script-src 'self'", b"script-src 'self' " + self.script_hash.encode(), 1)
        if self.preview.problems:
            page = page.replace(b"</head>", f'<link rel="stylesheet" href="{PROBLEMS_CSS}">\n</head>'.encode(), 1)
            page = re.sub(rb"<body[^>]*>", lambda m: m.group(0) + _panel(self.preview.problems), page, count=1)
        return page

    @staticmethod
    def _respond(start_response, status: str, kind: str, data: bytes):
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(data))),
                                ("Cache-Control", "no-store")])
        return [data]


_FAILED_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; style-src 'self'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The archive does not build</title></head>
<body><main><p>There is no good build to show yet. Fix the problems above; this page reloads when you save.</p></main></body>
</html>
"""


def _panel(problems) -> bytes:
    items = "".join(f"<li><code>{html.escape(str(p))}</code></li>" for p in problems)
    return (f'\n<section class="annals-problems" role="alert" aria-labelledby="annals-problems-title">'
            f'<h2 id="annals-problems-title">The last change does not build: {len(problems)} problem(s)</h2>'
            f"<p>This is the last good version of the site. Fix these and save; the page reloads.</p>"
            f"<ol>{items}</ol></section>\n").encode()


class Printer:
    """Says what each piece of the preview's work did: a line on `out`, or the problems on `err`."""

    def __init__(self, quiet: bool, out, err):
        self.quiet, self.out, self.err = quiet, out, err

    def __call__(self, outcome: Outcome, what: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        if outcome.ok:
            if not self.quiet:
                print(f"{stamp} {what}: {outcome.rendered} page(s) rendered, {outcome.written} file(s) written "
                      f"in {outcome.seconds * 1000:.0f} ms", file=self.out, flush=True)
            return
        for problem in outcome.problems:
            print(problem, file=self.err)
        print(f"{stamp} {what}: {len(outcome.problems)} problem(s); still serving the last good site, "
              "with the problems on every page", file=self.err, flush=True)


def serve(options: Options, port: int = 8000, quiet: bool = False, out=None, err=None) -> int:
    """Build, then serve on 127.0.0.1:port until Ctrl-C or SIGTERM, rebuilding on every change.

    The preview's end is its normal way out, status 0, with its state left on
    disk for the next one; a stop during the first build leaves nothing to keep.
    """
    out, err = out or sys.stdout, err or sys.stderr
    report = Printer(quiet, out, err)
    main = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, _as_ctrl_c) if main else None
    try:
        preview = Preview(options)
        report(preview.rebuild(), "built")
        return _serve(preview, port, report, quiet, out, err)
    except KeyboardInterrupt:
        return 0
    finally:
        if main:
            signal.signal(signal.SIGTERM, before)


def _as_ctrl_c(signum, frame) -> None:
    # `kill` stops the preview as Ctrl-C does: it finishes the rebuild in hand and leaves its state on disk.
    raise KeyboardInterrupt


def _serve(preview: Preview, port: int, report: Printer, quiet: bool, out, err) -> int:
    root = preview.options.root
    scheduler = Scheduler(preview, watched(root), report)
    server = _server(Site(preview, scheduler.render_first), scheduler)
    if not quiet:
        print(f"Serving {root.name} at http://127.0.0.1:{port}/ from {preview.out}; "
              f"watching {', '.join(f + '/' for f in WATCHED)}. Ctrl-C stops.", file=out, flush=True)
    try:
        server.serve(port=port, host="127.0.0.1", debug=False, restart_delay=0)
    except OSError as error:
        print(f"annals: cannot serve on 127.0.0.1:{port}: {error.strerror or error}; "
              "is another preview running? Try --port", file=err)
        return 2
    except KeyboardInterrupt:
        pass  # livereload's own catch covers only its IOLoop
    finally:
        _stop(scheduler, preview, err)
    return 0


def watched(root: Path) -> list:
    """The watchers of what the preview rebuilds on: the archive's folders, and the default theme's
    for whoever works on it (a few folders: one more inotify, or a scan of a few dozen files).
    Each names its files from its own root, the theme's as the archive's would be (static/style.css),
    so that a stylesheet of either is swapped in place."""
    return [watch.watcher(root, WATCHED), watch.watcher(theme.DEFAULT, list(theme.FOLDERS))]


def _stop(scheduler: Scheduler, preview: Preview, err) -> None:
    """The rebuild in hand is finished, then the state left on disk; a second Ctrl-C stops at once.

    Stopped at once, the output folder still holds whole files (each written
    in one rename), and the next preview, finding no state, builds in full.
    """
    try:
        if scheduler.rebuilding:
            print("stopping once the rebuild in hand is written (Ctrl-C again stops at once)", file=err, flush=True)
        scheduler.stop()
        preview.save()
    except KeyboardInterrupt:
        print("stopped at once: the next preview builds everything again", file=err, flush=True)


def _server(site: Site, scheduler: Scheduler):
    """livereload's server for `site`, with `scheduler` in the place of livereload's watcher."""
    # livereload (and tornado under it) is needed only here.
    from livereload import Server
    from livereload.handlers import LiveReloadHandler
    from livereload.watcher import Watcher
    from tornado.ioloop import IOLoop

    class Scheduled(Watcher):
        """livereload's watcher interface: the scheduler's thread works, and tells the pages on the IOLoop."""

        def start(self, callback) -> bool:
            loop = IOLoop.current()
            scheduler.start(lambda path: loop.add_callback(LiveReloadHandler.reload_waiters, path))
            return True  # livereload must not poll as well

    class PreviewServer(Server):
        def get_web_handlers(self, script):
            site.allow_script(script)
            return super().get_web_handlers(script)

        def _setup_logging(self):
            pass  # the preview prints its own lines

    return PreviewServer(app=site, watcher=Scheduled())
