"""Installed, Annals builds any archive: the default theme ships in the wheel and the sdist, an archive's own
templates/ and static/ override it file by file, and `check` finds what would stop a build in the templates."""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import MINIMAL, REPO, THEME, annals, write_files

PACKAGE_DATA = sorted(p.relative_to(REPO).as_posix() for folder in (THEME, REPO / "annals/starter")
                      for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
CONTENT_ONLY = {rel: text for rel, text in MINIMAL.items() if rel.startswith("content/")}


def copy_source(into: Path) -> None:
    """The repository's files as git sees them (tracked, and new ones not ignored): what a checkout holds."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        if (REPO / rel).is_file():
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, into / rel)


def step(*command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> dict[str, Path]:
    """An sdist and a wheel built from a copy of the source (the wheel from the unpacked sdist, as `build`
    does), and a fresh virtual environment outside the repository with the wheel installed by pip.

    Made once for the whole run: test workers wait for the first one that makes it.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # this run's, which its workers share (not the next run's: built anew each run)
    work = base / "installed"
    work.mkdir(exist_ok=True)
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (work / "venv/bin/annals").exists():
            _install(work)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    (wheel,), (sdist,) = (work / "dist").glob("*.whl"), (work / "dist").glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist, "bin": work / "venv/bin", "env": env}


def _install(work: Path) -> None:
    for made in ("source", "dist", "venv"):
        shutil.rmtree(work / made, ignore_errors=True)  # what a run stopped half-way left
    copy_source(work / "source")
    # Run from `work`: in the repository, `python -m build` would import its build.py instead.
    step(sys.executable, "-m", "build", "--no-isolation", "--outdir", work / "dist", work / "source", cwd=work)
    (wheel,) = (work / "dist").glob("*.whl")
    step(sys.executable, "-m", "venv", work / "venv", cwd=work)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    step(work / "venv/bin/python", "-m", "pip", "install", "-q", wheel, cwd=work, env=env)


def test_the_theme_and_the_starter_ship_in_the_wheel_and_the_sdist(installed):
    assert PACKAGE_DATA and any(rel.endswith("base.html") for rel in PACKAGE_DATA)
    in_wheel = set(zipfile.ZipFile(installed["wheel"]).namelist())
    assert [rel for rel in PACKAGE_DATA if rel not in in_wheel] == []
    with tarfile.open(installed["sdist"]) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert [rel for rel in PACKAGE_DATA if rel not in in_sdist] == []


def test_an_installed_annals_builds_an_archive_of_content_only(installed, tmp_path):
    bin_, env = installed["bin"], installed["env"]
    where = step(bin_ / "python", "-c", "import annals; print(annals.__file__)", cwd=tmp_path, env=env).stdout
    assert Path(where.strip()).is_relative_to(bin_.parent) and not Path(where.strip()).is_relative_to(REPO)

    root = tmp_path / "elsewhere"
    write_files(root, CONTENT_ONLY)
    assert sorted(p.name for p in root.iterdir()) == ["content"]
    checked = step(bin_ / "annals", "check", "--strict", cwd=root, env=env)
    assert checked.stdout.strip() == "0 error(s), 0 warning(s)"
    step(bin_ / "annals", cwd=root, env=env)  # the current folder is the project
    assert (root / "_site/static/style.css").read_bytes() == (THEME / "static/style.css").read_bytes()
    assert (root / "_site/static/search.js").is_file()
    fact = (root / "_site/facts/f-june/index.html").read_text()
    assert 'href="../../static/style.css"' in fact and "100 weapons were released in June 2017." in fact


def test_an_installed_annals_starts_an_archive(installed, tmp_path):
    bin_, env = installed["bin"], installed["env"]
    step(bin_ / "annals", "new", tmp_path / "archive", cwd=tmp_path, env=env)
    assert (tmp_path / "archive/.github/workflows/pages.yml").is_file()
    step(bin_ / "annals", "check", "--strict", "--root", tmp_path / "archive", cwd=tmp_path, env=env)
    step(bin_ / "annals", "build", "--root", tmp_path / "archive", cwd=tmp_path, env=env)
    assert (tmp_path / "archive/_site/facts/example-event/index.html").is_file()


# -- the archive's own templates/ and static/, file by file over the theme ---------------------------------

def content_only(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "site"
    write_files(root, {**CONTENT_ONLY, **(files or {})})
    return root


def test_one_template_and_one_static_file_overridden_the_rest_from_the_theme(tmp_path):
    fact = (THEME / "templates/fact.html").read_text().replace("<h1>{{ fact.claim }}</h1>",
                                                               '<h1 class="ours">{{ fact.claim }}</h1>')
    root = content_only(tmp_path, {"templates/fact.html": fact, "static/style.css": "body { color: teal }\n",
                                   "static/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>\n"})
    assert not (root / "templates/base.html").exists()
    run = annals(root, "check", "--strict")
    assert run.code == 0, run.err
    run = annals(root)
    assert run.code == 0, run.err
    assert '<h1 class="ours">100 weapons were released in June 2017.</h1>' in \
        (root / "_site/facts/f-june/index.html").read_text()
    assert '<link rel="stylesheet" href="static/style.css">' in (root / "_site/index.html").read_text()  # base.html
    assert (root / "_site/static/style.css").read_text() == "body { color: teal }\n"
    assert (root / "_site/static/logo.svg").is_file()
    assert (root / "_site/static/search.js").read_bytes() == (THEME / "static/search.js").read_bytes()


def _line_of(path, text: str) -> int:
    whole = path.read_text()
    return whole[:whole.index(text)].count("\n") + 1


MACROS_WITHOUT_SOURCE_LINE = "{% macro fact_list(rows, show_when=True) %}{% endmacro %}\n"


@pytest.mark.parametrize("files, problems", [
    ({"templates/fact.html": '{% extends "base.html" %}\n{% block main %}\n{{ fact.claim \n{% endblock %}\n'},
     ["templates/fact.html:4: template syntax: expected token 'end of print statement', got '{'"]),
    ({"templates/search.html": '{% extends "base.html" %}\n{% block main %}{% include "box.html" %}{% endblock %}\n'},
     ["templates/search.html:2: template not found: box.html"]),
    ({"templates/year.html": '{% extends "base.html" %}\n{% block main %}\n{% if rows %}{{ rows | shout }}'
                             '{% endif %}{% endblock %}\n'},
     ["templates/year.html:3: no filter named 'shout'"]),
    ({"templates/base.html": (THEME / "templates/base.html").read_text().replace("style.css", "styles.css")},
     [f"templates/base.html:{_line_of(THEME / 'templates/base.html', 'style.css')}: links static/styles.css, "
      "which neither static/ nor the default theme has"]),
    ({"templates/year.html": '{% extends "base.html" %}\n{% from "macros.html" import fact_lists %}\n'},
     ["templates/year.html:2: macros.html has no macro 'fact_lists'"]),
    ({"templates/macros.html": (THEME / "templates/macros.html").read_text().replace("macro source_line(",
                                                                                      "macro source_lines(")},
     # named at the archive's copy, which is what to mend, with the theme's templates that use it
     ["templates/macros.html:1: has no macro 'source_line', used by the default theme's (.+, )?month.html, "
      "(.+, )?sources.html: copy it from the theme's macros.html"]),
])
def test_check_finds_what_would_stop_the_build_in_the_templates(tmp_path, files, problems):
    """Each at its file and line, all at once; the build fails on the same, writing nothing."""
    root = content_only(tmp_path, files)
    checked = annals(root, "check")
    assert checked.code == 1, checked.err
    assert len(checked.problems) == len(problems) and all(
        p == expected or re.fullmatch(expected, p)
        for p, expected in zip(checked.problems, problems)), checked.err
    built = annals(root)
    assert built.code == 1 and built.problems == checked.problems, built.err
    assert "Traceback" not in checked.err + built.err and not (root / "_site").exists()


def test_a_static_file_the_archive_adds_may_be_linked(tmp_path):
    base = (THEME / "templates/base.html").read_text().replace("style.css", "house.css")
    root = content_only(tmp_path, {"templates/base.html": base, "static/house.css": "body { margin: 0 }\n"})
    assert annals(root, "check", "--strict").code == 0
