"""`annals new DIR`: a small archive that builds, checks and serves as it is, for an editor to make their own.

Its files are the package's data (annals/starter/), written as they are but
for the names a package cannot carry as such (`.gitignore`, `.github/`) and
the publishing workflow's step that installs Annals, which names the Annals
that wrote the archive only where pip recorded an address CI can reach.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from annals import __version__

FILES = Path(__file__).resolve().parent / "starter"
RENAMED = {"gitignore": ".gitignore", "github": ".github"}
WORKFLOW = ".github/workflows/pages.yml"
INSTALL_MARK = "        # ANNALS_INSTALL (annals new writes this step's command here)\n"
KEPT = {".git"}  # a folder holding only these is empty enough: a fresh clone of a new repository


class Refused(Exception):
    """The folder cannot take a new archive: the message says why and what to do."""


class Written(NamedTuple):
    files: list[str]  # the paths written, under the folder
    installs: bool  # whether the workflow installs Annals as it is, or the editor must write how


def example_facts() -> frozenset[str]:
    """The ids of the example facts a new archive starts with."""
    return frozenset(path.stem for path in (FILES / "content" / "facts").rglob("*.yaml"))


def write(folder: Path) -> Written:
    """Write the starter archive into `folder`, which must be new or empty; nothing is overwritten.

    Raises Refused, having removed whatever it had written, if it cannot.
    """
    _check_empty(folder)
    step, installs = install_step(_origin(), __version__)
    files, made = _files(step), []
    if not any(rel == "content/site.yaml" for rel, _ in files):
        raise Refused(f"this installation of Annals lacks the starter archive ({FILES}): reinstall Annals")
    try:
        for rel, data in files:
            path = folder / rel
            _make_folders(path.parent, made)
            with open(path, "xb") as handle:  # "x": never over a file that appeared meanwhile
                made.append(path)
                handle.write(data)
    except OSError as error:
        left = _take_back(made)
        raise Refused(f"cannot write the new archive into {folder}: {error.strerror or error}; " + (
            "nothing of it is left there" if not left else f"remove what is left of it: {', '.join(left)}")) from None
    return Written([rel for rel, _ in files], installs)


def _take_back(made: list[Path]) -> list[str]:
    """Remove what a write that failed had made, last first; what could not be removed."""
    left = []
    for path in reversed(made):
        try:
            path.rmdir() if path.is_dir() else path.unlink()
        except OSError:
            left.append(str(path))
    return left


def _check_empty(folder: Path) -> None:
    try:
        if not folder.exists():
            return
        if not folder.is_dir():
            raise Refused(f"{folder} is a file: `annals new` writes a new archive into a new or empty folder")
        found = sorted(entry.name for entry in folder.iterdir() if entry.name not in KEPT)
    except OSError as error:
        raise Refused(f"cannot read {folder}: {error.strerror or error}") from None
    if found:
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
        raise Refused(f"{folder} is not empty (it holds {shown}): `annals new` writes a new archive only into a "
                      "new or empty folder, so that it overwrites nothing; name another folder")


def _make_folders(folder: Path, made: list[Path]) -> None:
    """Make `folder` and its missing parents, noting each in `made` (so that a failure can remove them)."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


def _files(step: str) -> list[tuple[str, bytes]]:
    """Each file of the starter archive, by its path in the new folder."""
    files = []
    for path in sorted(p for p in FILES.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        first, *rest = path.relative_to(FILES).parts
        rel = "/".join((RENAMED.get(first, first), *rest))
        data = path.read_bytes()
        if rel == WORKFLOW:
            data = data.replace(INSTALL_MARK.encode(), step.encode())
        files.append((rel, data))
    return files


def _origin() -> dict | None:
    """Where pip installed this Annals from (PEP 610's direct_url.json), if it says."""
    from importlib import metadata  # here, not above: a tenth of every build's start, for `annals new` alone

    try:
        text = metadata.distribution("annals").read_text("direct_url.json")
        return json.loads(text) if text else None
    except (metadata.PackageNotFoundError, ValueError):
        return None


def install_step(origin: dict | None, version: str) -> tuple[str, bool]:
    """The workflow's lines that install Annals, and whether they do as they are.

    They install the Annals that wrote the archive from where pip got it, if
    that is a git repository at a commit or an https address; else (a folder, a
    file, an index) they fail, saying the editor must write how. Annals is not
    on PyPI: the project named `annals` there is another program.
    """
    origin = origin or {}
    url, vcs = origin.get("url", ""), origin.get("vcs_info") or {}
    if url.startswith("https://") and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return (f"        # Annals {version}, which wrote this archive: its repository at the commit installed\n"
                f'        run: pip install "annals @ git+{url}@{vcs["commit_id"]}"\n', True)
    if url.startswith("https://") and "archive_info" in origin:
        return (f"        # Annals {version}, which wrote this archive, from the address it was installed from\n"
                f'        run: pip install "annals @ {url}"\n', True)
    return (f"        # Write here how CI installs Annals: this archive was written by Annals {version}, installed\n"
            "        # from a folder or a file that CI cannot reach. For example, from its git repository:\n"
            '        #   run: pip install "annals @ git+https://<host>/<owner>/<repository>@<tag or commit>"\n'
            "        # Annals is not on PyPI: `pip install annals` installs another program of that name.\n"
            "        run: |\n"
            '          echo "::error file=.github/workflows/pages.yml::write in this file how to install Annals"\n'
            "          exit 1\n", False)
