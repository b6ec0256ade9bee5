"""The live preview: `annals serve` builds, serves the site on 127.0.0.1 and rebuilds on every save.

Three parts:
- `Preview` keeps what a build needs to be quick again in memory (the
  incremental state and the files already read), builds into a folder of its
  own under .annals-cache/, and remembers the problems of the last build;
- `Site`, a WSGI app, serves the last good site as GitHub Pages would, and
  while the content has problems puts them at the top of every page;
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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

from . import watch
from .load import ignored, kind_of
from . import urls
from .pages import Interrupted
from .pipeline import Options, Session, build, finish, render_again
from .problems import BuildFailed, Loc, Problem
from .state import State
from .write import MARKER, STAGING, OutputRefused

WATCHED = ["content", "templates", "static"]
DEBOUNCE = 0.01  # seconds: an editor's save is often several writes and a rename, all within a millisecond or two
FINISH_AFTER = 0.05  # seconds: time for the open pages to ask for themselves before the rest is written
WARM_AFTER = 0.2  # seconds: how long warming waits behind a save and what it left for after the reload
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


@dataclass(frozen=True)
class Outcome:
    ok: bool
    problems: tuple[Problem, ...]
    rendered: int = 0
    written: int = 0
    seconds: float = 0.0


class Preview:
    """Builds again and again, remembering in memory what makes the next build quick (a Session)."""

    def __init__(self, options: Options):
        self.options = dataclasses.replace(options, offline=False, offline_zip=False, record_permalinks=False)
        self.session = Session()
        self.problems: tuple[Problem, ...] = ()
        self.has_site = False
        # Shared pages to render again while idle, for what they leave in the session (see warm),
        # and the files that warming wrote (none, unless the output was changed behind the preview's back).
        self.warming: list[str] = []
        self.warm_written = 0
        self.looked_at: dict[str, None] = {}  # paths of the pages served lately, the latest last

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
            State.path_for(self.options.root, self.out).unlink(missing_ok=True)
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
        looked_at = set(self.looked_at)
        return lambda page: page.source in changed or page.path in looked_at

    def looked(self, path: str) -> None:
        """The page at `path` was served: a reader has it open, perhaps, for the next save to render first."""
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
        self.session.save(self.options.root, self.out)


def _pages_first(page) -> bool:
    return bool(page.template)


class Site:
    """A WSGI app: the preview's output folder, served like GitHub Pages, with the build's problems on top."""

    def __init__(self, preview: Preview):
        self.preview = preview
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
            self.preview.finish(path=waiting)  # asked for before its turn came
        found = self._find(path)
        if isinstance(found, str):
            start_response("301 Moved Permanently", [("Location", found), ("Content-Length", "0")])
            return [b""]
        status = "200 OK"
        if found is None:
            status, found = "404 Not Found", self.preview.out / "404.html"
            if not found.is_file():
                return self._respond(start_response, status, "text/plain; charset=utf-8", b"not found\n")
        data = found.read_bytes()
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
        if parts and parts[0] in (STAGING, MARKER):
            return None
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


def reload_path(changed: set[str] | None, ok: bool) -> str:
    """What to tell the pages: a stylesheet alone is swapped in place; anything else reloads the page."""
    if ok and changed and all(p.startswith("static/") and p.endswith(".css") for p in changed):
        return sorted(changed)[0].removeprefix("static/")
    return "*"


def serve(options: Options, port: int = 8000, quiet: bool = False, out=None, err=None) -> int:
    """Build, then serve on 127.0.0.1:port until interrupted, rebuilding on every change."""
    # livereload (and tornado under it) is needed only here.
    from livereload import Server
    from livereload.handlers import LiveReloadHandler
    from livereload.watcher import Watcher
    from tornado.ioloop import IOLoop, PeriodicCallback

    out, err = out or sys.stdout, err or sys.stderr
    preview = Preview(options)
    site = Site(preview)

    def report(outcome: Outcome, what: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        if outcome.ok:
            if not quiet:
                print(f"{stamp} {what}: {outcome.rendered} page(s) rendered, {outcome.written} file(s) written "
                      f"in {outcome.seconds * 1000:.0f} ms", file=out, flush=True)
            return
        for problem in outcome.problems:
            print(problem, file=err)
        print(f"{stamp} {what}: {len(outcome.problems)} problem(s); still serving the last good site, "
              "with the problems on every page", file=err, flush=True)

    report(preview.rebuild(), "built")

    class ContentWatcher(Watcher):
        """livereload's watcher interface, driven by annals.watch instead of livereload's polling."""

        def __init__(self):
            super().__init__()
            self.source = watch.watcher(options.root, WATCHED)
            self.changed: set[str] | None = set()
            self.pending = False
            self.finishing: Outcome | None = None  # what was rendered after the reload so far
            self.warmed: tuple[int, float] | None = None  # pages to warm, and when warming began

        def start(self, callback) -> bool:
            loop = IOLoop.current()
            if isinstance(self.source, watch.Inotify):
                loop.add_handler(self.source.fileno(), lambda fd, events: self.notice(), IOLoop.READ)
            else:
                PeriodicCallback(self.notice, 300).start()
            loop.add_callback(self.warm)
            return True  # livereload must not poll as well

        def notice(self) -> None:
            found = self.source.read()
            if found is not None:
                found = {p for p in found if not any(ignored(part) for part in p.split("/"))}
                if not found:
                    return
            self.changed = None if found is None or self.changed is None else self.changed | found
            if not self.pending:
                self.pending = True
                IOLoop.current().call_later(DEBOUNCE, self.rebuild)

        def rebuild(self) -> None:
            changed, self.changed, self.pending = self.changed, set(), False
            what = "everything" if changed is None else ", ".join(sorted(changed)[:3]) + (
                f" and {len(changed) - 3} more" if len(changed) > 3 else "")
            outcome = preview.rebuild(changed)
            report(outcome, what)
            LiveReloadHandler.reload_waiters(reload_path(changed, outcome.ok))
            if outcome.ok and preview.session.pending:
                self.finishing = Outcome(True, ())
                IOLoop.current().call_later(FINISH_AFTER, self.finish)

        def warm(self) -> None:
            """The shared pages, one at a time while nothing else is to be done (see Preview.warm)."""
            if self.pending or self.finishing is not None:
                IOLoop.current().call_later(WARM_AFTER, self.warm)  # a save, and what it left for later, go first
                return
            if self.warmed is None:
                self.warmed = (len(preview.warming), time.perf_counter())
            try:
                more = preview.warm(self.source.waiting)
            except Interrupted:
                self.resume_after_change(self.warm)
                return
            if more:
                IOLoop.current().add_callback(self.warm)
            elif self.warmed[0]:
                count, started = self.warmed
                report(Outcome(True, (), count, preview.warm_written, time.perf_counter() - started),
                       "warmed the shared pages")

        def finish(self) -> None:
            """What the rebuild left for after the reload, a page at a time between whatever else comes in;
            a save goes first."""
            if self.pending:
                return  # the rebuild it waits for takes those pages along, and starts this again
            try:
                outcome = preview.finish(most=1, waiting=self.source.waiting)
            except Interrupted:
                self.resume_after_change(self.finish)
                return
            if outcome is None or not outcome.ok:
                done, self.finishing = self.finishing, None
                if outcome is not None:
                    report(outcome, "after the reload")
                elif done is not None and done.rendered:
                    report(done, "after the reload")
                return
            self.finishing = Outcome(True, (), self.finishing.rendered + outcome.rendered,
                                     self.finishing.written + outcome.written,
                                     self.finishing.seconds + outcome.seconds)
            IOLoop.current().add_callback(self.finish)

        def resume_after_change(self, resume) -> None:
            """The work in hand stopped for a change the watcher holds: take the change in at once
            (a save is rebuilt next), then `resume`, which waits behind that rebuild."""
            self.notice()
            IOLoop.current().add_callback(resume)

    class PreviewServer(Server):
        def get_web_handlers(self, script):
            site.allow_script(script)
            return super().get_web_handlers(script)

        def _setup_logging(self):
            pass  # the preview prints its own lines

    server = PreviewServer(app=site, watcher=ContentWatcher())
    # `kill` stops the preview as Ctrl-C does, so it still leaves its state on disk.
    signal.signal(signal.SIGTERM, lambda *_: IOLoop.current().add_callback_from_signal(IOLoop.current().stop))
    if not quiet:
        print(f"Serving {options.root.name} at http://127.0.0.1:{port}/ from {preview.out}; "
              f"watching {', '.join(f + '/' for f in WATCHED)}. Ctrl-C stops.", file=out, flush=True)
    try:
        server.serve(port=port, host="127.0.0.1", debug=False, restart_delay=0)
    except OSError as error:
        print(f"annals: cannot serve on 127.0.0.1:{port}: {error.strerror or error}; "
              "is another preview running? Try --port", file=err)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        preview.save()
    return 0
