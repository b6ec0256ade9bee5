"""No process outlives its build: on success, on failure, on Ctrl-C and on SIGTERM.

Each build runs as a real `build.py` process leading a session of its own,
so that every process it forks, however deep, is found afterwards in /proc by
its session id. The archive is large enough (2,500 facts) that a cold build
forks every kind of helper: the read-ahead, the templates compiled ahead, the
folders made ahead and the render pool.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, make_site
from synthetic import fact_path, fact_yaml, records, write_annals

FACTS = 2500
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc to find processes")


def session_members(session: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(int(entry))
    return found


def left_behind(session: int, grace: float = 5.0) -> list[int]:
    """The processes of a session still running once its leader has exited (a child killed by
    its parent's death takes a moment to go)."""
    deadline = time.monotonic() + grace
    while (members := session_members(session)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return members


def start(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(root), "-q", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def tree(folder: Path) -> str | None:
    if not folder.exists():
        return None
    digest = hashlib.blake2b()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_stamp(root: Path) -> list[tuple[str, int, int]]:
    cache = root / ".annals-cache"
    return sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in cache.rglob("*") if p.is_file()) \
        if cache.exists() else []


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("processes") / "archive"
    write_annals(root, records(FACTS))
    return root


def fresh_copy(archive: Path, where: Path) -> Path:
    root = where / "archive"
    shutil.copytree(archive / "content", root / "content")
    return root


def test_a_failed_cold_build_leaves_no_process_behind_and_nothing_writing(archive, tmp_path):
    root = fresh_copy(archive, tmp_path)
    recs = records(FACTS)
    # An error found only after the archive is read and indexed: its helpers are all at work by then.
    fact_path(root, recs[-1]).write_text(fact_yaml(recs[-1]).replace("operations: [", "operations: [no-such-op, "))
    build = start(root)
    out, err = build.communicate(timeout=300)
    assert build.returncode == 1, err
    assert "no-such-op" in err and "Traceback" not in err
    assert left_behind(build.pid) == [], "a forked helper outlived the build"
    stamp = cache_stamp(root)
    time.sleep(1.0)
    assert cache_stamp(root) == stamp, "something still writes .annals-cache/ after the build exited"
    assert not (root / "_site").exists()


def test_a_small_archive_that_fails_at_once_leaves_nothing_compiling_behind(tmp_path):
    # A cold build compiles the templates in a forked process while the archive is read; a small
    # archive is read, and refused, long before that process is done.
    root = make_site(tmp_path, {"content/facts/2017/bad.yaml": "claim: A fact with no date.\n"}, minimal=True)
    shutil.rmtree(root / "templates")  # the default theme's, compiled from the package
    build = start(root)
    out, err = build.communicate(timeout=120)
    assert build.returncode == 1 and "bad.yaml" in err and "Traceback" not in err, err
    assert left_behind(build.pid, grace=0.0) == [], "the templates were still being compiled after the build exited"
    stamp = cache_stamp(root)
    time.sleep(1.0)
    assert cache_stamp(root) == stamp, "something still writes .annals-cache/ after the build exited"


def test_a_good_cold_build_leaves_no_process_behind(archive, tmp_path):
    root = fresh_copy(archive, tmp_path)
    build = start(root)
    out, err = build.communicate(timeout=300)
    assert build.returncode == 0, err
    assert left_behind(build.pid) == []


def signalled(build: subprocess.Popen, signum: int, to_group: bool, after: float) -> tuple[int, str]:
    time.sleep(after)
    try:
        os.killpg(build.pid, signum) if to_group else os.kill(build.pid, signum)
    except ProcessLookupError:
        pass  # it had finished
    out, err = build.communicate(timeout=300)
    return build.returncode, err


# Ctrl-C reaches the whole process group; `kill` and a service manager send SIGTERM to the one process or to all.
WAYS = [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)]


@pytest.mark.parametrize("signum, to_group", WAYS, ids=["ctrl-c", "kill", "kill-group"])
def test_a_signal_at_any_moment_stops_every_process_and_leaves_a_whole_site(archive, tmp_path, signum, to_group):
    root = fresh_copy(archive, tmp_path)
    assert subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "-q"],
                          capture_output=True, timeout=300).returncode == 0
    out = root / "_site"
    old = tree(out)
    reference = fresh_copy(archive, tmp_path / "reference")
    # A new site: every fact's page changes, so the render and the commit have work to do.
    (reference / "content/site.yaml").write_text((reference / "content/site.yaml").read_text()
                                                 .replace("Synthetic archive", "Synthetic archive, renamed"))
    assert subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(reference), "-q"],
                          capture_output=True, timeout=300).returncode == 0
    new = tree(reference / "_site")
    shutil.copy(reference / "content/site.yaml", root / "content/site.yaml")

    began = time.monotonic()
    timing = start(root, "--out", str(tmp_path / "timing"))
    timing.communicate(timeout=300)
    whole = time.monotonic() - began
    stopped, fractions, tries = 0, [0.2, 0.35, 0.5, 0.65, 0.8, 0.95], 0  # after the interpreter has started
    while fractions and tries < 12:
        fraction, tries = fractions[0], tries + 1
        shutil.rmtree(root / ".annals-cache", ignore_errors=True)  # a whole build each time: every helper forked
        began = time.monotonic()
        build = start(root)
        code, err = signalled(build, signum, to_group, whole * fraction)
        took = time.monotonic() - began
        assert "Traceback" not in err, err
        assert code in (0, 128 + signum), (code, err)
        if code:
            stopped += 1
            assert f"stopped by {signal.Signals(signum).name}" in err, err
        assert left_behind(build.pid) == [], f"a process outlived the build stopped at {fraction:.0%}"
        assert tree(out) in (old, new), f"stopped at {fraction:.0%}, the output is neither the old site nor the new"
        assert not list(out.glob(".annals-staging*"))
        if not code and took < whole:  # it ended before the signal: this is how long a build takes, try again
            whole = took
        else:
            fractions.pop(0)
    assert stopped >= 3, "the signals came too late to stop a build: spread them over it"
    # The next build recovers whatever a stop left, without a word from the editor.
    again = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "-q"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert tree(out) == new
