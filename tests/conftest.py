"""Shared fixtures: small inline sites, the real CLI, a real browser, a real HTTP server."""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import http.server
import io
import shutil
import socketserver
import threading
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from annals.cli import main

REPO = Path(__file__).resolve().parent.parent
THEME = REPO / "annals/theme"
sys.path.insert(0, str(REPO / "benchmarks"))
import synthetic  # noqa: E402  (beside bench.py, not a package): archives of any size, for tests that need many facts
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# The smallest valid archive; tests add or override files by path.
MINIMAL = {
    "content/site.yaml": """\
        title: Test Archive
        description: A small archive written by a test.
        base_url: https://example.org/archive/
        language: en
        licence: CC BY 4.0
        """,
    "content/metrics.yaml": """\
        weapons-released:
          label: Weapons released
          unit: weapons
          description: Bombs and missiles released.
        """,
    "content/operations/op-a.yaml": """\
        name: Operation A
        where: Somewhere
        """,
    "content/operations/op-b.yaml": """\
        name: Operation B
        parent: op-a
        """,
    "content/sources/src-1.yaml": """\
        title: A report
        kind: report
        """,
    "content/facts/2017/f-june.yaml": """\
        claim: 100 weapons were released in June 2017.
        when: 2017-06
        operations: [op-b]
        measure:
          metric: weapons-released
          value: 100
          aggregation: period
        sources:
          - source: src-1
            quote: "100 weapons in June"
        """,
    "content/facts/2017/f-event.yaml": """\
        claim: Something happened.
        when: 2017-07-09
        operations: [op-a]
        sources:
          - source: src-1
            quote: "something happened"
        """,
}


def write_files(root: Path, files: dict[str, str | bytes | None]) -> None:
    """Write files under root; a None value deletes the file."""
    for rel, text in files.items():
        path = root / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")


def make_site(tmp_path: Path, files: dict[str, str | bytes | None] | None = None, minimal: bool = True) -> Path:
    """A project folder with copies of the default theme's templates and static files (for a test to
    edit) and the given content."""
    root = tmp_path / "site"
    root.mkdir(exist_ok=True)
    for folder in ("templates", "static"):
        if not (root / folder).exists():
            shutil.copytree(THEME / folder, root / folder)
    write_files(root, {**(MINIMAL if minimal else {}), **(files or {})})
    return root


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def problems(self) -> list[str]:
        return [line for line in self.err.splitlines() if ": " in line and not line.startswith("build failed")
                and not line[0].isdigit()]


def annals(root: Path, *args: str) -> Run:
    """Run the real command line in-process, capturing what it prints."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["--root", str(root), *args])
        except SystemExit as exit_:  # argparse usage errors
            code = exit_.code
    return Run(code, out.getvalue(), err.getvalue())


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the current build instead of comparing against it")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture
def site(tmp_path):
    return functools.partial(make_site, tmp_path)


def source_urls(root: Path) -> set[str]:
    """The addresses of a project's sources and of their archived copies: the only other hosts its pages link to."""
    return {u for p in (root / "content/sources").glob("*.yaml") for key in ("url", "archived")
            if (u := yaml.safe_load(p.read_text()).get(key))}


def copy_embedded(tmp_path: Path) -> Path:
    """The embedded archive in a folder of its own, so a test's builds never touch the repo."""
    root = tmp_path / "embedded"
    shutil.copytree(REPO / "content", root / "content")
    if (REPO / "permalinks.txt").is_file():
        # Less the versions of facts (facts/<id>/v/<n>/): a copy has no history, or one of its own.
        lines = (REPO / "permalinks.txt").read_text(encoding="utf-8").splitlines(keepends=True)
        (root / "permalinks.txt").write_text("".join(line for line in lines if "/v/" not in line), encoding="utf-8")
    return root


# -- a real browser ------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


# -- a real HTTP server on 127.0.0.1 ---------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _LikeGitHubPages(_Quiet):
    """Answers a missing path with the site's own 404.html and status 404, as GitHub Pages does."""

    not_found: Path

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.exists() and not (path.is_dir() and self.path.split("?")[0].endswith("/")
                                  and not (path / "index.html").is_file()):
            return super().send_head()
        body = self.not_found.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@pytest.fixture
def http_server():
    """serve(folder, prefix='', not_found=False) -> base URL; the folder appears under /prefix/ like on
    GitHub Pages. With not_found, a missing path gets folder/404.html with status 404, as there."""
    servers = []

    def serve(folder: Path, prefix: str = "", not_found: bool = False) -> str:
        docroot = folder
        if prefix:
            docroot = folder.parent / f"_serve_{prefix}"
            docroot.mkdir(exist_ok=True)
            link = docroot / prefix
            if not link.exists():
                link.symlink_to(folder, target_is_directory=True)
        handler_class = _Quiet
        if not_found:
            handler_class = type("_Pages", (_LikeGitHubPages,), {"not_found": folder / "404.html"})
        handler = functools.partial(handler_class, directory=str(docroot))
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        return base + (prefix + "/" if prefix else "")

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def published(tmp_path, http_server):
    """The embedded archive built with --base-url for, and served at, /repo/ on 127.0.0.1,
    answering missing paths with its 404.html like GitHub Pages: (project folder, base URL)."""
    root = copy_embedded(tmp_path)
    base = http_server(root / "_site", "repo", not_found=True)
    run = annals(root, "--base-url", base)
    assert run.code == 0, run.err
    return root, base


# -- checkers from npm: axe-core (accessibility) and the Nu HTML Checker (vnu) ----------

AXE_CORE = "axe-core@4.14.1"
VNU_JAR = "vnu-jar@26.9.27"
TOOLS = REPO / ".test-tools"


@dataclass(frozen=True)
class WebTools:
    axe: Path   # axe.min.js, to inject into a page
    vnu: Path   # vnu.jar, run with Debian's java


@pytest.fixture(scope="session")
def web_tools() -> WebTools:
    """Pinned checkers, installed once into .test-tools/ by npm (xdist workers take turns)."""
    import fcntl
    import subprocess
    TOOLS.mkdir(exist_ok=True)
    tools = WebTools(TOOLS / "node_modules/axe-core/axe.min.js", TOOLS / "node_modules/vnu-jar/build/dist/vnu.jar")
    stamp = TOOLS / f"installed {AXE_CORE} {VNU_JAR}".replace("/", "_")
    with open(TOOLS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            # --ignore-scripts: vnu-jar's install script would fetch a Java runtime; Debian's is used.
            subprocess.run(["npm", "install", "--prefix", str(TOOLS), "--no-save", "--no-audit", "--no-fund",
                            "--ignore-scripts", AXE_CORE, VNU_JAR], check=True, capture_output=True)
            stamp.touch()
    assert tools.axe.is_file() and tools.vnu.is_file()
    return tools


def _measure(claim: str, when: str | None, op: str, value: int, extra: str = "", aggregation: str = "period",
             source: str = "src-1") -> str:
    return (f"claim: {claim}\n" + (f"when: {when}\n" if when else "") + f"operations: [{op}]\n"
            f"measure:\n  metric: weapons-released\n  value: {value}\n  aggregation: {aggregation}\n{extra}"
            f"sources:\n  - source: {source}\n    quote: \"{value} weapons\"\n")


# A site whose figures need every way a chart draws: bars, a gap, a dispute, a
# span, a running total, and figures that cannot be charted (undated, deprecated).
CHARTED = {
    "content/sources/src-2.yaml": """\
        title: An article with an address
        kind: news-article
        url: https://example.org/reports/june-2017
        """,
    "content/facts/2017/f-june.yaml": _measure("100 weapons were released in June 2017.", "2017-06", "op-b", 100,
                                               source="src-2"),
    "content/facts/2017/f-jan.yaml": _measure("80 weapons in January 2017.", "2017-01", "op-b", 80),
    "content/facts/2017/f-mar-a.yaml": _measure("50 weapons in March 2017.", "2017-03", "op-b", 50),
    "content/facts/2017/f-mar-b.yaml": _measure("70 weapons in March 2017.", "2017-03", "op-b", 70),
    "content/facts/2017/f-spring.yaml": _measure("150 weapons in April and May 2017.", "{from: 2017-04, to: 2017-05}",
                                                 "op-b", 150),
    "content/facts/2017/f-ytd.yaml": _measure("400 weapons in 2017 to the end of June.", "2017-06", "op-b", 400,
                                              "  since: 2017-01\n", aggregation="cumulative"),
    "content/facts/2017/f-feb-old.yaml": _measure("999 weapons in February 2017.", "2017-02", "op-b", 999)
    + "rank: deprecated\nrank_reason: A misprint, corrected by the source.\n",
    "content/facts/f-undated.yaml": _measure("5 weapons, date unknown.", None, "op-b", 5),
    "content/facts/2017/f-a-feb.yaml": _measure("30 weapons in February 2017 in Operation A itself.", "2017-02",
                                                "op-a", 30),
    "content/facts/2017/f-a-aug.yaml": _measure("45 weapons in August 2017 in Operation A itself.", "2017-08",
                                                "op-a", 45),
}


# -- the embedded archive, built once per test session ---------------------------

def git(repo: Path, *args: str, when: str | None = None) -> str:
    """Run git in repo with a fixed identity, and commit dates `when` if given."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    done = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
                           "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                          cwd=repo, env=env, check=True, capture_output=True, text=True)
    return done.stdout


EMBEDDED_COMMIT = "2026-01-02T03:04:05+00:00"


@pytest.fixture(scope="session")
def embedded_build(tmp_path_factory) -> Path:
    """_site/ of a copy of the embedded archive, committed to a git repo of its own at
    EMBEDDED_COMMIT (so every fact has that last-changed date); read-only for tests."""
    root = copy_embedded(tmp_path_factory.mktemp("embedded-git"))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "embedded archive", when=EMBEDDED_COMMIT)
    run = annals(root, "--quiet")
    assert run.code == 0, run.err
    return root / "_site"
