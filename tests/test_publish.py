"""Publication under faults: a whole site at every instant, one build at a time, nothing lost that Annals did not write.

Builds run as real processes; a kill is a real SIGKILL, sent by the build
to itself at the n-th change it makes to the file system while it puts the
site in place (the driver below counts them), so that the kills are spread
over the whole commit rather than left to chance.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, annals, make_site, write_files

DRIVER = r"""
import os, signal, sys, time
from pathlib import Path
from annals import publish, write
from annals.cli import main

kill_at = int(os.environ.get("KILL_AT", "0"))
pause = os.environ.get("PAUSE_IN_COMMIT")
calls = [0]
committing = [False]

def counted(function):
    def call(*args, **kwargs):
        if committing[0]:
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    return call

for name in ("link", "replace", "rename", "unlink", "mkdir", "rmdir", "symlink"):
    setattr(os, name, counted(getattr(os, name)))
publish.exchange = counted(publish.exchange)
commit = write.Writer.commit

def commit_counted(self, *args, **kwargs):
    if pause:
        Path(pause, "ready").write_text(str(os.getpid()))
        while not Path(pause, "go").exists():
            time.sleep(0.01)
    committing[0] = True
    try:
        return commit(self, *args, **kwargs)
    finally:
        committing[0] = False
        print(f"commit calls: {calls[0]}", file=sys.stderr)

write.Writer.commit = commit_counted
sys.exit(main(sys.argv[1:]))
"""

NEW_FACT = {"content/facts/2018/f-new.yaml": """\
    claim: 7 weapons were released in January 2018.
    when: 2018-01
    operations: [op-a]
    measure:
      metric: weapons-released
      value: 7
      aggregation: period
    sources:
      - source: src-1
        quote: "7 weapons"
    """}
EDITED = {"content/facts/2017/f-event.yaml": """\
    claim: Something else happened.
    when: 2017-07-09
    operations: [op-a]
    sources:
      - source: src-1
        quote: "something happened"
    """}
FOREIGN = {".git/HEAD": "ref: refs/heads/gh-pages\n", ".git/objects/ab/cdef": b"\x00\x01blob",
           "facts/f-june/editor-notes.txt": "mine"}


def tree(folder: Path) -> dict[str, bytes] | None:
    """Every file and folder under `folder` with its bytes; None if it is not there."""
    if not folder.exists():
        return None
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(folder.rglob("*"))}


def driven(root: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", DRIVER, "--root", str(root), "-j", "1", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO), **env})


def commit_calls(run: subprocess.CompletedProcess) -> int:
    return int(run.stderr.rsplit("commit calls: ", 1)[1].split()[0])


def no_working_files(root: Path, out: Path, after_a_kill: bool = False) -> None:
    """Nothing of the build's own in the output; beside it, only what a killed build could not clear."""
    if out.exists():
        assert not any(p.name.startswith(".annals-staging") or p.name.endswith((".tmp", ".annals-tmp"))
                       for p in out.rglob("*")), "a working file was left in the output"
    if not after_a_kill:
        assert not (out.parent / f".{out.name}.annals" / "staging").exists()


def published_once(site) -> tuple[Path, Path]:
    """A site built twice (so that a spare is beside it) with an editor's files in its output."""
    root = site()
    out = root / "_site"
    assert annals(root).code == 0
    write_files(out, FOREIGN)
    write_files(root, {"content/facts/2017/f-june.yaml": (root / "content/facts/2017/f-june.yaml").read_text()
                       .replace("100 weapons were", "One hundred weapons were")})
    assert annals(root).code == 0
    return root, out


# One process, which walks both trees at the commit; two, the spare made ahead (see write.SpareAhead).
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_kill_at_any_point_of_the_commit_leaves_one_whole_site_and_the_next_build_recovers(site, tmp_path, jobs):
    root, out = published_once(site)
    before = tree(out)
    saved = tmp_path / "saved"
    shutil.copytree(root, saved, symlinks=True)
    write_files(root, {**NEW_FACT, **EDITED})
    whole = driven(root, "-j", jobs)
    assert whole.returncode == 0, whole.stderr
    after, calls = tree(out), commit_calls(whole)
    assert after != before and calls > 20
    assert {k: v for k, v in after.items() if k in FOREIGN} == {k: v for k, v in before.items() if k in FOREIGN}
    # Spread over the whole commit: its first steps, its last, and evenly between.
    points = sorted({1, 2, 3, calls - 2, calls - 1, calls, *range(4, calls, max(1, calls // 14))})
    for point in points:
        shutil.rmtree(root)
        shutil.copytree(saved, root, symlinks=True)
        write_files(root, {**NEW_FACT, **EDITED})
        killed = driven(root, "-j", jobs, KILL_AT=str(point))
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        assert tree(out) in (before, after), f"a mix of two sites after a kill at step {point} of {calls}"
        no_working_files(root, out, after_a_kill=True)
        again = annals(root)
        assert again.code == 0, again.err
        assert tree(out) == after, f"the build after a kill at step {point} did not make the same site"
        no_working_files(root, out)


def test_a_kill_in_a_first_build_leaves_no_site_or_a_whole_one(site, tmp_path):
    root = site()
    out = root / "_site"
    whole = driven(root)
    assert whole.returncode == 0
    complete, calls = tree(out), commit_calls(whole)
    for point in sorted({1, max(1, calls // 2), calls}):
        shutil.rmtree(out)
        killed = driven(root, KILL_AT=str(point))
        assert killed.returncode == -signal.SIGKILL
        assert tree(out) in (None, complete)
        no_working_files(root, out, after_a_kill=True)
        assert annals(root).code == 0 and tree(out) == complete
        no_working_files(root, out)


def test_files_annals_did_not_write_are_kept_and_named_once_even_without_the_cache(site):
    root, out = published_once(site)
    kept = {rel: (out / rel).read_bytes() for rel in FOREIGN}
    shutil.rmtree(root / ".annals-cache")
    write_files(root, {**NEW_FACT, "static/extra.txt": "a static file"})
    first = annals(root)
    assert first.code == 0, first.err
    assert {rel: (out / rel).read_bytes() for rel in FOREIGN} == kept
    assert (out / "static/extra.txt").is_file() and (out / "facts/f-new/index.html").is_file()
    # Named when first found (by the second build of published_once), not again.
    assert "left alone" not in first.err
    write_files(root, {"static/extra.txt": None, **EDITED})
    second = annals(root)
    assert second.code == 0 and "left alone" not in second.err
    assert not (out / "static/extra.txt").exists(), "a file Annals wrote and no longer makes stays"
    assert {rel: (out / rel).read_bytes() for rel in FOREIGN} == kept


def test_a_new_file_of_the_editor_is_named_once(site):
    root, out = published_once(site)
    write_files(out, {"README.txt": "the branch's readme"})
    write_files(root, EDITED)
    named = annals(root)
    assert named.code == 0
    assert "README.txt" in named.err and "left alone" in named.err and ".git/" not in named.err
    write_files(root, NEW_FACT)
    assert "left alone" not in annals(root).err
    assert (out / "README.txt").read_text() == "the branch's readme"


def test_a_marker_of_an_older_annals_deletes_nothing_it_does_not_write_again(site):
    root, out = published_once(site)
    shutil.rmtree(root / ".annals-cache")
    (out / ".annals-output").write_text("This folder is written by Annals (python build.py). It is replaced on every build.\n")
    write_files(root, EDITED)
    assert annals(root).code == 0
    assert all((out / rel).is_file() for rel in FOREIGN)


@pytest.mark.parametrize("in_the_way, written", [
    ("timeline/2018", "a file where this build makes a folder"),
    ("facts/f-new/index.html", "a file where this build writes a page"),
])
def test_a_file_of_the_editor_in_the_way_is_refused_and_kept(site, in_the_way, written):
    root, out = published_once(site)
    write_files(out, {in_the_way: "the editor's"})
    before = tree(out)
    write_files(root, NEW_FACT)
    run = annals(root)
    assert run.code == 2, run.err
    assert run.err.count("\n") == 1 and "Traceback" not in run.err
    assert str(out / in_the_way) in run.err and "move" in run.err
    assert tree(out) == before
    no_working_files(root, out)
    (out / in_the_way).unlink()
    assert annals(root).code == 0 and (out / "facts/f-new/index.html").is_file()


def test_a_second_build_waits_for_the_first_and_names_it(site, tmp_path):
    root, out = published_once(site)
    write_files(root, {**NEW_FACT, **EDITED})
    signals = tmp_path / "signals"
    signals.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PAUSE_IN_COMMIT": str(signals)}
    command = [sys.executable, "-c", DRIVER, "--root", str(root), "-j", "1"]
    first = subprocess.Popen(command, env=env, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(3000):
            if (signals / "ready").exists():
                break
            time.sleep(0.01)
        pid = (signals / "ready").read_text()
        second = subprocess.Popen([sys.executable, "build.py", "--root", str(root), "-j", "1"],
                                  cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        waiting = second.stderr.readline()
        assert waiting.startswith(f"waiting for process {pid}, which is writing {out}"), waiting
        assert second.poll() is None  # it waits while the first holds the output
        (signals / "go").write_text("")
        assert first.wait(timeout=120) == 0
        assert second.wait(timeout=120) == 0
        rest = second.stderr.read()
    finally:
        (signals / "go").write_text("")
        first.kill()
    assert "Traceback" not in rest + first.stderr.read()
    clean = tmp_path / "clean"
    assert annals(root, "--out", str(clean)).code == 0
    assert {k: v for k, v in tree(out).items() if k not in FOREIGN and k.split("/")[0] != ".git"
            and k != ".annals-output"} == {k: v for k, v in tree(clean).items() if k != ".annals-output"}


# -- faults of the file system, made real --------------------------------------------------------

def _mount_tmpfs(where: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    where.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"this machine cannot mount a tmpfs here: {made.stderr.decode().strip()}")


@pytest.fixture
def small_disk(tmp_path):
    where = tmp_path / "disk"
    _mount_tmpfs(where, "4m")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> None:
    """Leave the file system no room at all."""
    with open(disk / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


def test_a_full_disk_ends_in_one_line_and_the_last_site_whole(site, small_disk):
    root = site()
    out = small_disk / "_site"
    assert annals(root, "--out", str(out)).code == 0
    write_files(root, EDITED)
    assert annals(root, "--out", str(out)).code == 0  # a spare beside it now
    before = tree(out)
    write_files(root, {**NEW_FACT, "static/big.bin": os.urandom(1 << 20)})
    fill(small_disk)
    run = annals(root, "--out", str(out))
    assert run.code == 2
    assert "Traceback" not in run.err and run.err.count("\n") == 1
    assert "No space left on device" in run.err and "free some space" in run.err
    assert f"{out} is as it was" in run.err
    assert tree(out) == before
    no_working_files(root, out)
    (small_disk / "filler").unlink()
    assert annals(root, "--out", str(out)).code == 0 and (out / "facts/f-new/index.html").is_file()


def test_a_read_only_file_system_ends_in_one_line_and_the_site_whole(site, small_disk):
    root = site()
    out = small_disk / "_site"
    assert annals(root, "--out", str(out)).code == 0
    before = tree(out)
    write_files(root, NEW_FACT)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        run = annals(root, "--out", str(out))
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert run.code == 2 and "Traceback" not in run.err and run.err.count("\n") == 1
    assert "Read-only file system" in run.err and "read-only" in run.err.split(";")[1]
    assert tree(out) == before


def test_an_output_folder_that_is_a_mount_point_is_written_in_place_and_whole(site, small_disk):
    root = site()
    out = small_disk  # a mount point cannot be swapped whole: its files are replaced one by one
    assert annals(root, "--out", str(out)).code == 0
    write_files(out, {"kept.txt": "mine"})
    write_files(root, NEW_FACT)
    assert annals(root, "--out", str(out)).code == 0
    assert (out / "facts/f-new/index.html").is_file() and (out / "kept.txt").read_text() == "mine"
    assert not (out / ".annals-staging").exists()


@pytest.fixture
def unwritable(tmp_path):
    """Make a folder refuse changes, even to root (chattr +i) where that works; undone after."""
    made = []

    def make(folder: Path) -> None:
        if os.geteuid() != 0:
            folder.chmod(0o555)
        elif subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("this file system cannot make a folder immutable, and root ignores permissions")
        made.append(folder)

    yield make
    for folder in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=False)
        else:
            folder.chmod(0o755)


def test_an_output_folder_that_refuses_changes_ends_in_one_line(site, unwritable):
    root, out = published_once(site)
    before = tree(out)
    write_files(root, NEW_FACT)
    unwritable(out)
    run = annals(root)
    assert run.code == 2 and "Traceback" not in run.err and run.err.count("\n") == 1
    assert str(out) in run.err and ("not permitted" in run.err or "Permission denied" in run.err)
    assert "make it writable" in run.err
    assert tree(out) == before


def test_a_project_folder_that_refuses_changes_ends_in_one_line(site, unwritable):
    root = site()
    out = root / "_site"
    unwritable(root)
    run = annals(root)
    assert run.code == 2 and "Traceback" not in run.err and run.err.count("\n") == 1
    assert "cannot write" in run.err
    assert not out.exists()


# -- the spare made ahead (write.SpareAhead), held to the walk of both trees at the commit -------------------

def test_a_spare_made_ahead_commits_what_the_walk_of_both_trees_commits(tmp_path):
    """Two copies of one project through the same edits: one built with the spare made the output's
    mirror by a process of its own while the build reads and renders, one by a single process that
    walks both trees at the commit. The outputs, the spares and what the builds say are the same."""
    made = {}
    for jobs in ("1", "2"):
        (tmp_path / f"jobs-{jobs}").mkdir()
        made[jobs] = make_site(tmp_path / f"jobs-{jobs}")
    steps = [
        {},  # the first build, into a new folder
        {"static/extra.txt": "a static file"},
        {**NEW_FACT, "static/extra.txt": None},  # a file Annals wrote and no longer makes
        EDITED,
    ]
    for n, files in enumerate(steps):
        runs = {}
        for jobs, root in made.items():
            write_files(root, files)
            if n == 2:
                write_files(root / "_site", FOREIGN)  # the editor's, found once, kept always
            runs[jobs] = annals(root, "-j", jobs)
            assert runs[jobs].code == 0, runs[jobs].err
        said = {jobs: run.out.replace(f"jobs-{jobs}", "").rsplit(" in ", 1)[0] for jobs, run in runs.items()}
        assert runs["1"].err.replace("jobs-1", "") == runs["2"].err.replace("jobs-2", "") and said["1"] == said["2"]
        assert tree(made["1"] / "_site") == tree(made["2"] / "_site"), f"step {n}"
        assert tree(made["1"] / "._site.annals/spare") == tree(made["2"] / "._site.annals/spare"), f"step {n}"
        no_working_files(made["2"], made["2"] / "_site")
    assert "left alone" in runs["2"].err or all((made["2"] / "_site" / rel).is_file() for rel in FOREIGN)
    # An editor's file where the build must write is refused with the spare made ahead too.
    root = made["2"]
    write_files(root / "_site", {"timeline/2019": "the editor's"})
    write_files(root, {"content/facts/2019/f-late.yaml": NEW_FACT["content/facts/2018/f-new.yaml"]
                       .replace("2018-01", "2019-01").replace("January 2018", "January 2019")})
    refused = annals(root, "-j", "2")
    assert refused.code == 2 and str(root / "_site/timeline/2019") in refused.err



def test_a_first_build_leaves_the_spare_the_next_one_swaps_in(site):
    """A folder built new has no spare beside it: the build makes it while it saves its session, each
    file linked, so that the next build, one fact edited, has ten thousand fewer to link as it renders."""
    root = site()
    assert annals(root).code == 0
    live, spare = root / "_site", root / "._site.annals/spare"
    # All but the marker, and the zip, which each build makes anew (linked, its times would move on).
    files = {p.relative_to(live) for p in live.rglob("*") if p.is_file()} - {Path(".annals-output"),
                                                                              Path("annals-offline.zip")}
    assert files and files == {p.relative_to(spare) for p in spare.rglob("*") if p.is_file()}
    assert all((live / rel).stat().st_ino == (spare / rel).stat().st_ino for rel in files)
    write_files(root, EDITED)
    run = annals(root, "-v")
    assert run.code == 0 and " 0 removed" in run.out and "rendered /facts/f-june/" not in run.out  # patched
    assert "Something else happened." in (live / "facts/f-event/index.html").read_text()
    no_working_files(root, live)


def test_what_another_hand_changes_in_the_output_while_a_build_runs_is_kept(site, tmp_path):
    """git at work in _site/.git while a build runs (a file renamed over, one added, one removed):
    the spare made ahead saw the output before, and the commit, seeing it changed, walks it again."""
    root, out = published_once(site)
    write_files(root, EDITED)
    signals = tmp_path / "signals"
    signals.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PAUSE_IN_COMMIT": str(signals)}
    build = subprocess.Popen([sys.executable, "-c", DRIVER, "--root", str(root), "-j", "2"], env=env, cwd=REPO,
                             stderr=subprocess.PIPE, text=True)
    try:
        listing = root / "._site.annals/mirrored"
        for _ in range(3000):  # the build waits before its commit, and the spare is made
            if (signals / "ready").exists() and listing.exists():
                break
            time.sleep(0.01)
        assert listing.exists()
        (out / ".git/HEAD.lock").write_text("ref: refs/heads/elsewhere\n")
        os.replace(out / ".git/HEAD.lock", out / ".git/HEAD")
        (out / ".git/during").write_text("written while the build ran")
        (out / ".git/objects/ab/cdef").unlink()
        (signals / "go").write_text("")
        assert build.wait(timeout=120) == 0
    finally:
        (signals / "go").write_text("")
        build.kill()
    assert "Traceback" not in build.stderr.read()
    assert (out / ".git/HEAD").read_text() == "ref: refs/heads/elsewhere\n"
    assert (out / ".git/during").read_text() == "written while the build ran"
    assert not (out / ".git/objects/ab/cdef").exists()
    assert "Something else happened" in (out / "facts/f-event/index.html").read_text()
    write_files(root, NEW_FACT)
    assert annals(root).code == 0 and (out / ".git/during").is_file()  # and the next build keeps them too
