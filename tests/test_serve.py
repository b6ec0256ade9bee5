"""The live preview: `build.py serve` on a real port, a real browser on it, real files edited under it."""
from __future__ import annotations

import base64
import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from annals import urls
from conftest import REPO, THEME, annals, make_site, synthetic, write_files

FACT = "content/facts/2017/f-june.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Preview:
    """`python build.py serve` in a process of its own, and what it prints."""

    def __init__(self, root: Path, timeout: float = 20):
        self.root, self.port = root, free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self.printed_lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("Serving", timeout=timeout)
        self.url = f"http://127.0.0.1:{self.port}/"
        for _ in range(100):  # the port opens just after the line is printed
            try:
                urllib.request.urlopen(self.url, timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.printed_lock:
                self.lines.append(line)
                self.printed_lock.notify_all()

    def wait_for(self, *texts: str, timeout: float = 20) -> str:
        """The first line not yet waited for that holds every one of `texts`."""
        end = time.monotonic() + timeout
        with self.printed_lock:
            while True:
                for line in self.lines:
                    if all(text in line for text in texts):
                        self.lines.remove(line)
                        return line
                if time.monotonic() > end or not self.printed_lock.wait(end - time.monotonic()):
                    raise AssertionError(f"the preview never printed {texts!r}; it printed: {self.lines}")

    def printed(self, *texts: str) -> bool:
        """Whether a line holding every one of `texts` has been printed (and not waited for yet)."""
        with self.printed_lock:
            return any(all(text in line for text in texts) for line in self.lines)

    def wait_built(self, changed: str) -> str:
        """The line of a good build after `changed`. A save seen half-written is
        reported as a problem first (rightly), and built when the write ends."""
        return self.wait_for(changed, "page(s) rendered")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def stop(self, timeout: float = 10) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.proc.stdout.close()


@pytest.fixture
def preview(tmp_path):
    running = []

    def start(files=None) -> Preview:
        running.append(Preview(make_site(tmp_path, files)))
        return running[-1]

    yield start
    for p in running:
        if p.proc.poll() is None:
            p.stop()


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))


def test_an_edit_reloads_the_open_page_with_the_change(preview, page):
    p = preview()
    page.goto(p.url + "facts/f-june/")
    page.wait_for_function("() => window.LiveReload !== undefined")  # livereload.js is connected
    refused = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    edit(p.root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
    page.wait_for_selector("h1:has-text('Exactly 100 weapons')", timeout=15000)
    line = p.wait_built("content/facts/2017/f-june.yaml")
    # Only the pages that show the fact were rendered again, and the page knew it without polling.
    rendered = int(re.search(r"(\d+) page\(s\) rendered", line).group(1))
    assert 1 <= rendered <= 16, line
    assert refused == []


def test_a_list_open_in_the_browser_is_rendered_before_the_reload_and_the_rest_after_it(preview, page):
    p = preview()
    page.goto(p.url + "timeline/2017/06/")
    page.wait_for_function("() => window.LiveReload !== undefined")
    edit(p.root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
    page.wait_for_selector("a:has-text('Exactly 100 weapons')", timeout=15000)
    line = p.wait_built("content/facts/2017/f-june.yaml")
    # The fact's own page, the open month, and the home page, which Preview fetched to see the server up.
    assert "3 page(s) rendered" in line, line
    assert p.wait_for("after the reload")  # its year, operations, source, metric and data files
    for path in ("timeline/2017/", "operations/op-a/", "data/facts.json"):
        assert "Exactly 100 weapons" in p.get(path)[1], path


def test_bad_content_keeps_the_last_good_site_and_shows_the_problems_on_every_page(preview, page):
    p = preview()
    page.goto(p.url + "timeline/2017/06/")
    page.wait_for_function("() => window.LiveReload !== undefined")
    edit(p.root, FACT, "value: 100", "value: 1OO")
    panel = page.wait_for_selector(".annals-problems", timeout=15000)
    text = panel.inner_text()
    assert "content/facts/2017/f-june.yaml:" in text and "value" in text
    assert p.wait_for("problem(s); still serving the last good site")
    # Every page, not only the open one, shows the problems; the last good content is still there.
    for path in ("", "facts/f-event/", "operations/op-a/"):
        status, html = p.get(path)
        assert status == 200 and "annals-problems" in html and "content/facts/2017/f-june.yaml:" in html
    assert "100 weapons" in p.get("facts/f-june/")[1]
    # Fixed: the page reloads without the panel, and with the fix.
    edit(p.root, FACT, "value: 1OO", "value: 120")
    page.wait_for_selector(".value:has-text('120 weapons')", timeout=15000)
    assert page.query_selector(".annals-problems") is None
    assert "annals-problems" not in p.get("facts/f-event/")[1]


def test_adding_renaming_and_deleting_files(preview):
    p = preview()
    write_files(p.root, {"content/facts/2017/f-new.yaml": """\
        claim: A fact added while the preview runs.
        when: 2017-06-02
        sources: [{source: src-1, quote: "added"}]
        """})
    p.wait_built("f-new.yaml")
    assert p.get("facts/f-new/")[0] == 200
    assert "A fact added while the preview runs" in p.get("timeline/2017/06/")[1]
    os.rename(p.root / "content/facts/2017/f-new.yaml", p.root / "content/facts/2017/f-renamed.yaml")
    p.wait_built("f-renamed.yaml")
    assert p.get("facts/f-renamed/")[0] == 200
    assert p.get("facts/f-new/")[0] == 404  # never published: the preview does not record permalinks
    (p.root / "content/facts/2017/f-renamed.yaml").unlink()
    p.wait_built("f-renamed.yaml")
    assert p.get("facts/f-renamed/")[0] == 404
    assert "A fact added" not in p.get("timeline/2017/06/")[1]
    assert not (p.root / "permalinks.txt").exists()


def test_a_template_and_a_new_folder_are_watched_too(preview):
    p = preview()
    edit(p.root, "templates/base.html", '<main id="main">', '<main id="main" class="edited">')
    p.wait_built("templates/base.html")
    assert 'class="edited"' in p.get("facts/f-event/")[1]
    (p.root / "content/facts/2018").mkdir()
    write_files(p.root, {"content/facts/2018/f-later.yaml": """\
        claim: A fact in a folder made while the preview runs.
        when: 2018-01
        sources: [{source: src-1, quote: "later"}]
        """})
    p.wait_built("f-later.yaml")
    assert p.get("facts/f-later/")[0] == 200


def test_a_preview_started_again_warms_its_shared_pages_while_idle(tmp_path):
    root = make_site(tmp_path)
    first = Preview(root)
    assert first.stop() == 0  # leaves its state on disk
    again = Preview(root)
    try:
        assert again.wait_for("built: 0 page(s) rendered")
        line = again.wait_for("warmed the shared pages")
        assert int(re.search(r"(\d+) page\(s\) rendered, 0 file\(s\) written", line).group(1)) > 10, line
        edit(root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
        again.wait_built("f-june.yaml")
        assert "Exactly 100 weapons" in again.get("timeline/2017/06/")[1]
    finally:
        again.stop()


def test_the_preview_serves_like_github_pages(preview):
    p = preview()
    status, html = p.get("facts/f-june")
    assert status == 200 and "100 weapons" in html  # redirected to the folder, as Pages does
    status, html = p.get("no/such/page/")
    assert status == 404 and "static/style.css" in html
    assert p.get("../../etc/passwd")[0] == 404


def test_the_reload_script_never_reaches_the_built_site(preview, tmp_path):
    p = preview()
    assert "livereload.js" in p.get("")[1]
    assert p.stop() == 0
    built = [f for f in (p.root / ".annals-cache/preview").rglob("*.html")]
    assert built and not [f for f in built if "livereload" in f.read_text()]
    assert annals(p.root).code == 0
    assert not [f for f in (p.root / "_site").rglob("*") if f.is_file() and b"livereload" in f.read_bytes()]


def test_a_busy_port_is_a_clear_message(tmp_path):
    root = make_site(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "--root", str(root),
                               "--port", str(port)], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


def test_a_data_file_asked_for_before_its_turn_is_written_first(tmp_path):
    """After a save the preview writes what the reader looks at first and the rest just after;
    asked for in between, a data file is made at once, and only it."""
    from annals.cli import PREVIEW_FOLDER
    from annals.pipeline import Options
    from annals.serve import Preview as InProcess, Site
    root = make_site(tmp_path)
    preview = InProcess(Options(root=root, out=root / PREVIEW_FOLDER))
    assert preview.rebuild().ok
    edit(root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
    assert preview.rebuild({FACT}).ok
    assert "data/facts.json" in preview.session.pending
    assert b"Exactly 100" not in (root / PREVIEW_FOLDER / "data/facts.json").read_bytes()
    answered = []
    body = b"".join(Site(preview)({"PATH_INFO": "/data/facts.json"}, lambda status, headers: answered.append(status)))
    assert answered == ["200 OK"] and b"Exactly 100 weapons" in body
    assert "data/facts.json" not in preview.session.pending and "data/facts.csv" in preview.session.pending
    while preview.finish(most=1) is not None:
        pass
    assert preview.session.pending == set()
    assert b"Exactly 100 weapons" in (root / PREVIEW_FOLDER / "data/facts.csv").read_bytes()


def test_a_saved_fact_renders_its_own_page_and_the_pages_served_lately_before_the_reload(tmp_path):
    """A save of a fact renders first its page and what a reader had open (Preview.looked_at); every
    other page that shows the fact follows, or is rendered when asked for, and then equals a cold build."""
    from annals.cli import PREVIEW_FOLDER
    from annals.pipeline import Options
    from annals.serve import Preview as InProcess, Site
    root = make_site(tmp_path)
    preview = InProcess(Options(root=root, out=root / PREVIEW_FOLDER))
    site = Site(preview)

    def get(path: str) -> bytes:
        return b"".join(site({"PATH_INFO": path}, lambda status, headers: None))

    assert preview.rebuild().ok
    get("/operations/op-a/")
    get("/timeline/2017/06/index.html")
    assert list(preview.looked_at) == ["operations/op-a/", "timeline/2017/06/"]
    edit(root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
    done = preview.rebuild({FACT})
    assert done.ok and done.rendered == 3  # the fact's page, and the two pages served
    out = root / PREVIEW_FOLDER
    for rel in ("facts/f-june/index.html", "operations/op-a/index.html", "timeline/2017/06/index.html"):
        assert b"Exactly 100 weapons" in (out / rel).read_bytes(), rel
    later = preview.session.pending
    assert {"timeline/2017/", "operations/op-b/", "sources/src-1/", "", "data/facts.json"} <= later
    assert b"Exactly 100" not in (out / "timeline/2017/index.html").read_bytes()
    assert b"Exactly 100 weapons" in get("/timeline/2017/")  # asked for before its turn
    assert "timeline/2017/" not in preview.session.pending and "operations/op-b/" in preview.session.pending
    steps = 0
    while preview.finish(most=1) is not None:
        steps += 1
    assert steps == len(later) - 1  # a page at a time
    assert annals(root, "--out", "cold").code == 0
    assert tree_of(out) == tree_of(root / "cold")
    # A template changed: every page it makes comes before the reload, as after the first build.
    write_files(root, {"templates/base.html": (root / "templates/base.html").read_text() + "\n"})
    done = preview.rebuild({"templates/base.html"})
    assert done.ok and done.rendered > 3 and all(not urls.is_page(p) for p in preview.session.pending)


def tree_of(folder: Path) -> dict[str, bytes]:
    """Every file of an output folder, but its marker and the zip, which the preview does not make."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".annals-staging" not in p.parts
            and p.name not in (".annals-output", "annals-offline.zip")}


def test_what_a_save_left_for_later_gives_way_to_the_next_save_and_keeps_what_it_did(tmp_path, monkeypatch):
    """The pages a rebuild left for after the reload are rendered between events, a page at a
    time; a page of them may take seconds, so it stops for a change the watcher holds, leaving
    every file as it was and the page still to do, and takes up again with what it derived."""
    from annals import serve, watch
    from annals.cli import PREVIEW_FOLDER
    from annals.pages import Interrupted
    from annals.pipeline import Options
    from annals.serve import Preview as InProcess
    root = make_site(tmp_path)
    out = root / PREVIEW_FOLDER
    preview = InProcess(Options(root=root, out=out))
    assert preview.rebuild().ok
    watcher = watch.watcher(root, serve.WATCHED)
    assert isinstance(watcher, watch.Inotify) and not watcher.waiting()
    edit(root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
    assert watcher.waiting()
    assert watcher.read() == {FACT} and not watcher.waiting()  # read, the change waits no more
    assert preview.rebuild({FACT}).ok
    left = set(preview.session.pending)
    assert "data/facts.json" in left
    before = tree_of(out)

    edit(root, FACT, "Exactly 100 weapons", "Exactly 101 weapons")  # the next save, not read yet
    with pytest.raises(Interrupted):
        preview.finish(most=1, waiting=watcher.waiting)
    assert preview.session.pending == left and tree_of(out) == before
    assert preview.session.memo.interrupt is None  # only while it gave way
    assert watcher.read() == {FACT}
    assert preview.rebuild({FACT}).ok
    assert b"Exactly 101 weapons" in (out / "facts/f-june/index.html").read_bytes()

    # Stopped again and again, each time further on: what it derived until then stays.
    monkeypatch.setattr(serve, "LOOK_EVERY", 0)
    looks, stops = [0], 0

    def now_and_then() -> bool:
        looks[0] += 1
        return looks[0] % 5 == 0

    for _ in range(10_000):
        try:
            if preview.finish(most=1, waiting=now_and_then) is None:
                break
        except Interrupted:
            stops += 1
    assert stops >= 3 and preview.session.pending == set()
    assert annals(root, "--out", "cold").code == 0
    assert tree_of(out) == tree_of(root / "cold")


def test_warming_gives_way_to_a_save_and_the_page_stays_first_in_line(tmp_path):
    from annals.cli import PREVIEW_FOLDER
    from annals.pages import Interrupted
    from annals.pipeline import Options
    from annals.serve import Preview as InProcess
    root = make_site(tmp_path)
    out = root / PREVIEW_FOLDER
    first = InProcess(Options(root=root, out=out))
    assert first.rebuild().ok
    first.save()
    again = InProcess(Options(root=root, out=out))
    assert again.rebuild().ok and again.warming
    line = list(again.warming)
    with pytest.raises(Interrupted):
        again.warm(waiting=lambda: True)
    assert again.warming == line and again.session.memo.interrupt is None
    while again.warm():
        pass
    assert again.warm_written == 0 and again.session.memo.entries  # the pages' values, and nothing to write


def test_a_save_while_the_preview_warms_is_built_and_warming_goes_on(tmp_path):
    root = make_site(tmp_path)
    first = Preview(root)
    assert first.stop() == 0
    again = Preview(root)
    try:
        again.wait_for("built: 0 page(s) rendered")
        edit(root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
        again.wait_built("f-june.yaml")
        line = again.wait_for("warmed the shared pages")
        assert int(re.search(r"(\d+) page\(s\) rendered", line).group(1)) > 10, line
        assert "Exactly 100 weapons" in again.get("timeline/2017/06/")[1]
    finally:
        again.stop()


# -- the work off the thread that answers ---------------------------------------------------------

def until(condition, timeout: float = 60, what: str = "") -> None:
    """Wait for `condition()`; a guard, so that a hang fails rather than hangs."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"never happened: {what}"
        time.sleep(0.01)


@pytest.mark.parametrize("kind", ["kernel", "polling"])
def test_the_scheduler_rebuilds_saves_together_and_tells_the_pages_what_to_reload(tmp_path, kind):
    """The scheduler, with no server: real saves, a real session, its own thread, told of changes by
    inotify or by polling. Saves made while it cannot look (as while a rebuild runs) are rebuilt in one
    rebuild; a stylesheet alone, of the archive or of a theme, is swapped in place; what a rebuild left
    is rendered after the reload; `stop` leaves no thread."""
    from annals import serve, theme, watch
    from annals.cli import PREVIEW_FOLDER
    from annals.pipeline import Options
    from annals.scheduler import Scheduler
    root = make_site(tmp_path)
    out = root / PREVIEW_FOLDER
    preview = serve.Preview(Options(root=root, out=out))
    assert preview.rebuild().ok
    watched = serve.watched(root)
    assert [s.root for s in watched] == [root, theme.DEFAULT]  # the default theme is watched too
    for source in watched:
        source.close()
    a_theme = tmp_path / "theme"  # a theme's folders, watched as the preview watches the default one
    shutil.copytree(THEME, a_theme)
    reports, told = [], queue.Queue()
    watcher = watch.watcher if kind == "kernel" else watch.Polling
    sources = [watcher(root, serve.WATCHED), watcher(a_theme, list(theme.FOLDERS))]
    assert all(isinstance(s, watch.Inotify) == (kind == "kernel") for s in sources)
    scheduler = Scheduler(preview, sources, lambda outcome, what: reports.append((outcome, what)))
    edit(root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
    edit(root, "content/facts/2017/f-event.yaml", "Something happened.", "Something else happened.")
    scheduler.start(told.put)
    try:
        assert told.get(timeout=30) == "*"
        outcome, what = reports[0]
        assert outcome.ok and what == "content/facts/2017/f-event.yaml, content/facts/2017/f-june.yaml"
        assert b"Exactly 100 weapons" in (out / "facts/f-june/index.html").read_bytes()
        until(lambda: any(what == "after the reload" for _, what in reports), what="the rest after the reload")
        assert preview.session.pending == set() and len(reports) == 2
        assert b"Something else happened" in (out / "timeline/2017/index.html").read_bytes()

        write_files(root, {"static/style.css": (root / "static/style.css").read_text() + "\nmain{color:#111}\n"})
        assert told.get(timeout=30) == "style.css"
        write_files(a_theme, {"static/style.css": (a_theme / "static/style.css").read_text() + "\n"})
        assert told.get(timeout=30) == "style.css"
        write_files(a_theme, {"templates/base.html": (a_theme / "templates/base.html").read_text() + "\n"})
        assert told.get(timeout=30) == "*"
        until(lambda: reports[-1][1] == "templates/base.html", what="the theme's template rebuilt")
        assert b"main{color:#111}" in (out / "static/style.css").read_bytes()
    finally:
        scheduler.stop()
    assert not [t for t in threading.enumerate() if t.name == "annals-preview"]
    assert told.empty()


def slow_archive(tmp_path: Path) -> tuple[Path, str]:
    """An archive whose site.yaml, edited, renders every page again: seconds at 3,000 facts; and a fact's id."""
    root = tmp_path / "big"
    records = synthetic.records(3000)
    synthetic.write_annals(root, records)
    return root, records[0].id


class LiveReload:
    """livereload's websocket, spoken by hand (RFC 6455): send a command, read what the preview says."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET /livereload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self._exactly(1)  # a byte at a time: nothing of the first message is read with it
        assert head.startswith(b"HTTP/1.1 101"), head
        self.heard: list[dict] = []

    def send(self, **message) -> None:
        data, mask = json.dumps(message).encode(), os.urandom(4)
        assert len(data) < 126
        self.sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def receive(self, command: str) -> dict:
        """The next message with `command` (messages with another are kept in `heard`)."""
        for message in self.heard:
            if message.get("command") == command:
                self.heard.remove(message)
                return message
        while True:
            _, size = self._exactly(2)
            size &= 0x7F
            if size >= 126:
                size = int.from_bytes(self._exactly(2 if size == 126 else 8), "big")
            message = json.loads(self._exactly(size))
            if message.get("command") == command:
                return message
            self.heard.append(message)

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            assert chunk, "the preview closed the websocket"
            data += chunk
        return data


def test_while_a_slow_rebuild_runs_the_preview_serves_the_last_good_pages_and_answers_livereload(tmp_path):
    """A save that renders every page of 3,000 facts takes seconds: all along, pages are answered, whole and
    as they were, and so is the livereload websocket; then the open pages reload, onto the new pages."""
    root, ident = slow_archive(tmp_path)
    p = Preview(root, timeout=180)
    try:
        live = LiveReload(p.port)
        live.send(command="hello", protocols=["http://livereload.com/protocols/official-7"])
        assert live.receive("hello")
        live.send(command="info", url=p.url + f"facts/{ident}/")  # an open page, to be told to reload
        status, before = p.get(f"facts/{ident}/")
        assert status == 200 and "Synthetic archive" in before
        edit(root, "content/site.yaml", "title: Synthetic archive", "title: Edited archive")
        during = []  # what was answered before the rebuild said it was done
        while not p.printed("content/site.yaml", "page(s) rendered"):
            status, html = p.get(f"facts/{ident}/")
            live.send(command="hello", protocols=["http://livereload.com/protocols/official-7"])
            live.receive("hello")
            if not p.printed("content/site.yaml", "page(s) rendered"):
                during.append((status, html))
        assert len(during) >= 5, len(during)  # a server held up by the rebuild answers once it is done
        assert all(status == 200 and html.rstrip().endswith("</html>") for status, html in during)  # whole pages
        assert all("Synthetic archive" in html or "Edited archive" in html for _, html in during)
        assert "Synthetic archive" in during[0][1]  # the last good page
        line = p.wait_built("content/site.yaml")
        assert int(re.search(r"(\d+) page\(s\) rendered", line).group(1)) > 3000, line
        assert live.receive("reload")["path"] == "*"
        assert "Edited archive" in p.get(f"facts/{ident}/")[1]
    finally:
        assert p.stop(timeout=120) == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_during_a_rebuild_lets_it_finish_and_ends_without_a_traceback(tmp_path, signum):
    """SIGTERM (a `kill`) and SIGINT (Ctrl-C) while a slow save is rebuilt: the rebuild is written, the state
    left on disk for the next preview, and the process ends with status 0 and no traceback."""
    root, ident = slow_archive(tmp_path)
    p = Preview(root, timeout=180)
    edit(root, "content/site.yaml", "title: Synthetic archive", "title: Edited archive")
    time.sleep(0.3)  # the rebuild begins within milliseconds of the save, and takes seconds
    p.proc.send_signal(signum)
    try:
        assert p.proc.wait(timeout=120) == 0
    finally:
        p.proc.kill()
        p.proc.stdout.close()
    printed = "".join(p.lines)
    assert "Traceback" not in printed and "Error" not in printed, printed
    assert "stopping once the rebuild in hand is written" in printed, printed
    assert re.search(r"content/site\.yaml: \d+ page\(s\) rendered", printed), printed
    assert "Edited archive" in (root / ".annals-cache/preview/facts" / ident / "index.html").read_text()
    again = Preview(root, timeout=180)  # starts from what this one left: nothing to render
    try:
        assert again.wait_for("built: 0 page(s) rendered")
    finally:
        assert again.stop(timeout=120) == 0
