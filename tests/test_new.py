"""`annals new DIR`: a new archive that checks (--strict), builds and serves as it is written, and refuses a
folder that is not empty. Run as an editor runs it: the installed command, in real processes."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from annals import starter
from annals.pipeline import Options, read_archive
from annals.problems import Problems
from conftest import REPO, annals
from test_github_pages import actionlint  # noqa: F401  (a fixture)

SCRIPT = Path(sys.executable).parent / "annals"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from annals.cli import run; run()"]
WRITTEN = ["content/site.yaml", "content/metrics.yaml", "content/operations/example-operation.yaml",
           "content/sources/example-source.yaml", "content/articles/example-article.md", ".gitignore",
           ".github/workflows/pages.yml"]


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **env})
    assert "Traceback" not in done.stderr, done.stderr
    return done


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, within: float = 60) -> bytes:
    """The page at `url`, asked again until the server answers (or `within` seconds pass)."""
    end = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.read()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def test_a_new_archive_checks_strictly_builds_and_serves_at_once(tmp_path):
    folder = tmp_path / "newsroom" / "archive"
    done = run("new", str(folder))
    assert done.returncode == 0, done.stderr
    assert f"annals serve --root {folder}" in done.stdout and "permalinks.txt" in done.stdout
    written = files_in(folder)
    assert set(WRITTEN) <= written and len([f for f in written if f.startswith("content/facts/")]) >= 4
    assert not (folder / "permalinks.txt").exists()
    assert not (folder / "templates").exists() and not (folder / "static").exists()  # the theme is the package's

    checked = run("check", "--strict", "--root", str(folder))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "0 error(s), 0 warning(s)"
    built = run("build", "--root", str(folder))
    assert built.returncode == 0, built.stderr
    assert (folder / "_site/index.html").is_file() and (folder / "_site/static/style.css").is_file()
    assert "/facts/example-event/" in (folder / "permalinks.txt").read_text()
    assert run("--locked", "--root", str(folder)).returncode == 0  # as the workflow builds, once it is committed

    port = free_port()
    preview = subprocess.Popen([*COMMAND, "serve", "--root", str(folder), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    try:
        home = fetch(f"http://127.0.0.1:{port}/")
        assert b"Example archive" in home
        assert b"Example: the example operation began." in fetch(f"http://127.0.0.1:{port}/facts/example-event/")
    finally:
        preview.send_signal(signal.SIGTERM)
        printed, _ = preview.communicate(timeout=60)
    assert "Traceback" not in printed


def test_the_new_archive_shows_every_kind_of_fact(tmp_path):
    folder = tmp_path / "archive"
    assert annals(tmp_path, "new", str(folder)).code == 0
    problems = Problems()
    archive, _ = read_archive(Options(root=folder, out=folder / "_site"), problems)
    assert problems.items == []
    facts = list(archive.facts.values())
    measures = [f for f in facts if f.measure is not None]
    assert {m.measure.aggregation for m in measures} == {"period", "cumulative", "level"}
    assert any(m.measure.is_range for m in measures)
    assert {m.measure.approx for m in measures} > {"exact"}
    assert {f.kind for f in facts} == {"measure", "event", "statement"}
    assert {f.when.precision for f in facts} == {"day", "month", "range"}
    assert len(archive.operations) == len(archive.sources) == len(archive.articles) == 1
    assert list(archive.metrics) == ["example-items", "example-places-open"]


def test_nothing_in_the_new_archive_passes_for_real(tmp_path):
    """Claims, sources and people are examples, said so; the only addresses are placeholders."""
    folder = tmp_path / "archive"
    assert annals(tmp_path, "new", str(folder)).code == 0
    for path in (folder / "content/facts").rglob("*.yaml"):
        assert yaml.safe_load(path.read_text())["claim"].startswith("Example: "), path
    source = yaml.safe_load((folder / "content/sources/example-source.yaml").read_text())
    assert "url" not in source and "published" not in source and source["title"].startswith("[Example source")
    text = "\n".join(p.read_text() for p in folder.rglob("*") if p.is_file())
    hosts = {re.match(r"https?://([^/\s\"'@]+)", u).group(1) for u in re.findall(r"https?://\S+", text)}
    assert hosts <= {"example.org", "<owner>.github.io", "<host>"}, hosts
    site = (folder / "content/site.yaml").read_text()
    assert "placeholder" in site and "example.org is kept for examples" in site


def test_a_folder_that_is_not_empty_is_refused_and_left_as_it_was(tmp_path):
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    done = run("new", str(folder))
    assert done.returncode == 2
    assert done.stderr == (f"annals: {folder} is not empty (it holds notes.txt): `annals new` writes a new archive "
                           "only into a new or empty folder, so that it overwrites nothing; name another folder\n")
    assert files_in(folder) == {"notes.txt"} and (folder / "notes.txt").read_text() == "mine\n"

    (tmp_path / "a-file").write_text("x")
    done = run("new", str(tmp_path / "a-file"))
    assert done.returncode == 2 and "is a file" in done.stderr
    done = run("new", str(tmp_path / "a-file" / "below"))
    assert done.returncode == 2 and "cannot write the new archive into" in done.stderr


def test_a_fresh_clone_is_empty_enough(tmp_path):
    folder = tmp_path / "clone"
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    assert run("new", str(folder), "--quiet").returncode == 0
    assert set(WRITTEN) <= files_in(folder)


def test_new_takes_one_folder_and_only_new_does(tmp_path):
    missing = run("new", cwd=tmp_path)
    assert missing.returncode == 2 and "new needs the folder to write the archive into" in missing.stderr
    other = run("check", str(tmp_path), cwd=tmp_path)
    assert other.returncode == 2 and "only `new` takes a folder" in other.stderr


@pytest.fixture
def tiny_disk(tmp_path):
    """A file system with room for a few files only (tmpfs's inode limit), where root can mount one."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=8", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"this machine cannot mount a tmpfs here: {made.stderr.strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_an_archive_that_does_not_fit_is_taken_back_whole(tiny_disk):
    (tiny_disk / "kept.txt").write_text("mine\n")
    done = run("new", str(tiny_disk / "archive"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"annals: cannot write the new archive into {tiny_disk / 'archive'}: ")
    assert done.stderr.rstrip().endswith("nothing of it is left there")
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["kept.txt"]


def test_the_new_archives_workflow_lints_and_builds_the_site(tmp_path, actionlint):  # noqa: F811
    folder = tmp_path / "archive"
    assert run("new", str(folder), "--quiet").returncode == 0
    workflow_file = folder / ".github/workflows/pages.yml"
    assert actionlint(workflow_file) == []
    workflow = yaml.safe_load(workflow_file.read_text())
    steps = {s.get("name") or s["uses"].split("@")[0]: s for s in workflow["jobs"]["build"]["steps"]}
    assert "cache" not in steps["actions/setup-python"]["with"]  # nothing for setup-python to key a pip cache on
    # Installed from a folder, this Annals cannot say where CI gets it: the step fails, and says so.
    install = subprocess.run(["bash", "-c", steps["Install Annals"]["run"]], capture_output=True, text=True)
    assert install.returncode == 1 and "::error file=.github/workflows/pages.yml::" in install.stdout
    assert "Annals is not on PyPI" in workflow_file.read_text()

    env = {**os.environ, "BASE_URL": "https://owner.github.io/repo/",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    build = steps["Build the site"]["run"]
    first = subprocess.run(["bash", "-c", build], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 1 and "permalinks.txt:1: missing: --locked" in first.stderr  # as the comment says
    assert run("build", "--root", str(folder)).returncode == 0
    done = subprocess.run(["bash", "-c", build], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'href="https://owner.github.io/repo/facts/example-event/"' in \
        (folder / "_site/facts/example-event/index.html").read_text()


@pytest.mark.parametrize("origin, line", [
    ({"url": "https://git.example.org/owner/annals", "vcs_info": {"vcs": "git", "commit_id": "0123abcd",
                                                                 "requested_revision": "v0.1.0"}},
     'run: pip install "annals @ git+https://git.example.org/owner/annals@0123abcd"'),
    ({"url": "https://files.example.org/annals-0.1.0-py3-none-any.whl", "archive_info": {}},
     'run: pip install "annals @ https://files.example.org/annals-0.1.0-py3-none-any.whl"'),
])
def test_the_workflow_installs_the_annals_that_wrote_it_from_where_pip_got_it(origin, line):
    """What pip records of an install (PEP 610's direct_url.json), as it writes it, gives the install line."""
    step, installs = starter.install_step(origin, "0.1.0")
    assert installs and step.splitlines()[-1].strip() == line
    for unreachable in (None, {"url": "file:///home/me/annals", "dir_info": {"editable": True}},
                        {"url": "file:///tmp/annals.whl", "archive_info": {}}):
        step, installs = starter.install_step(unreachable, "0.1.0")
        assert not installs and "exit 1" in step


def test_a_manifest_copied_from_another_archive_is_called_so(tmp_path):
    """Started from a copy of this repository, permalinks.txt lists the embedded archive's URLs."""
    folder = tmp_path / "archive"
    assert annals(tmp_path, "new", str(folder)).code == 0
    (folder / "permalinks.txt").write_bytes((REPO / "permalinks.txt").read_bytes())
    for command in (["check"], ["build"]):
        done = annals(folder, *command)
        assert done.code == 1
        (problem,) = done.problems
        assert problem.startswith("permalinks.txt:1: this archive builds none of the ")
        assert "it looks like a new archive started from a copy of another" in problem
        assert "delete it, and the first `annals build` (or `python build.py`) writes one" in problem
    (folder / "permalinks.txt").unlink()
    assert annals(folder, "check", "--strict").code == 0


def test_a_dropped_fact_is_still_named_one_by_one(tmp_path):
    """An archive that lost one of its facts is no copy: the manifest names the URL, as ever."""
    folder = tmp_path / "archive"
    assert annals(tmp_path, "new", str(folder)).code == 0
    assert annals(folder).code == 0
    (folder / "content/facts/2000/example-event.yaml").unlink()
    done = annals(folder, "check")
    assert done.code == 1
    assert [p.split(" was published")[0] for p in done.problems] == [
        f"permalinks.txt:{line}: /facts/example-event/" for line in
        [n for n, text in enumerate((folder / "permalinks.txt").read_text().splitlines(), 1)
         if text == "/facts/example-event/"]]


def test_examples_replaced_after_a_first_build_are_called_so(tmp_path):
    """Built once as it was written, then made the editor's own: the manifest still lists the examples."""
    folder = tmp_path / "archive"
    assert annals(tmp_path, "new", str(folder)).code == 0
    assert annals(folder).code == 0
    mine = re.sub(r"(?m)^claim: .*$", "claim: My own first fact.",
                  (folder / "content/facts/2000/example-event.yaml").read_text())
    for path in [*(folder / "content/facts").rglob("*.yaml"), folder / "content/articles/example-article.md"]:
        path.unlink()
    (folder / "content/facts/2000/my-first.yaml").write_text(mine)
    for command in (["check"], ["build"]):
        done = annals(folder, *command)
        assert done.code == 1
        (problem,) = done.problems
        assert problem.startswith("permalinks.txt:1: this file lists the example facts `annals new` wrote (")
        assert "copy of another" not in problem and "delete permalinks.txt" in problem
    (folder / "permalinks.txt").unlink()
    assert annals(folder).code == 0
    assert "/facts/my-first/" in (folder / "permalinks.txt").read_text()
