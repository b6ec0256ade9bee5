"""The manifest of every URL the archive has published, so that none is ever dropped silently.

`permalinks.txt` sits beside content/ and is committed with it: one path per
line, from the site's root, sorted. A build that would no longer write a
path listed there fails, naming the path; a web build appends the paths it
adds, so the file only ever grows unless an editor deletes a line by hand,
which is a decision the commit history then records.
"""
from __future__ import annotations

from pathlib import Path

from . import urls
from .load import decode
from .problems import Loc, Problems

NAME = "permalinks.txt"
HEADER = (
    "# Every URL this archive has published, one per line, from the site's root.\n"
    "# `python build.py` adds new ones; a build that would drop one fails.\n"
    "# Commit this file with your content. See README, \"Permalinks never break\".\n"
)


def read(root: Path, problems: Problems) -> dict[str, int] | None:
    """Published paths (without the leading '/') and the line each is written on.

    {} when there is no manifest yet; None, with the problem reported, when
    there is one that cannot be read: then nothing can be checked against it.
    """
    try:
        data = (root / NAME).read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as err:
        problems.error(Loc(NAME, 1), f"cannot be read: {err.strerror or err}")
        return None
    text = decode(NAME, data, problems)
    if text is None:
        return None
    published: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            published.setdefault(line.removeprefix("/"), number)
    return published


def check(published: dict[str, int], planned: set[str], claims, problems: Problems) -> None:
    """Every published path must still be planned, or claimed by a file with errors (see pages.Claims)."""
    for path, line in sorted(published.items(), key=lambda item: item[1]):
        if path not in planned and not claims.covers(path):
            problems.error(Loc(NAME, line), _dropped(path))


def unrecorded(root: Path, published: dict[str, int], planned: dict[str, str], problems: Problems,
               locked: bool) -> None:
    """Paths the build publishes that the manifest does not list yet: errors if `locked`, else warnings.

    Only a plain `python build.py` records new paths. `check` and the preview
    do not, and the site's own build on CI runs `--locked`, which adds nothing
    and fails instead, so that a URL is never published without being listed
    in the commit (and so never silently dropped after). `planned` maps each
    path to the file that makes it, or ''.
    """
    if not (root / NAME).exists():
        if locked:
            problems.error(Loc(NAME, 1), "missing: --locked builds only what this manifest of published URLs lists; "
                                         "run `python build.py` once and commit permalinks.txt")
        return
    report = problems.error if locked else problems.warning
    listed = sorted(published.items())
    end = max(published.values(), default=HEADER.count("\n")) + 1
    for path in sorted(set(planned) - set(published)):
        # The line it belongs before, the file being sorted.
        line = next((at for other, at in listed if other > path), end)
        made = f" (a page of {planned[path]})" if planned[path] else ""
        state = "is not listed, and --locked adds nothing" if locked else "is not listed yet"
        report(Loc(NAME, line), f"/{path}{made} {state}: run `python build.py`, which adds it here, "
                                "and commit permalinks.txt with your content")


def _dropped(path: str) -> str:
    ident = urls.fact_id(path)
    if ident is not None:
        return (f"/{path} was published, but no fact, alias or tombstone has the id '{ident}' any more, "
                f"so fact '{ident}' would vanish. If it was renamed, keep its permalink with "
                f"`aliases: [{ident}]` in the renamed fact; if it was retired, write "
                f"content/withdrawn/{ident}.yaml with `withdrawn:` (a date) and `reason:`")
    answer = "the page that replaces it" if path.endswith("/") else "a data file of its kind, copied here"
    return (f"/{path} was published, but this build no longer writes it. Restore what made it, or keep the "
            f"address alive with the line `/{path}: /<{answer}>` in content/redirects.yaml; "
            f"if it must really go, delete this line in a commit that says why")


def text(paths) -> str:
    return HEADER + "".join(f"/{p}\n" for p in sorted(paths))


def update(root: Path, published: dict[str, int], planned: set[str]) -> bool:
    """Add the planned paths the manifest lacks; True if the file changed."""
    new = text(set(published) | planned)
    path = root / NAME
    try:
        if path.read_text(encoding="utf-8") == new:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(NAME + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)
    return True
