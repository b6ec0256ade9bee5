"""The manifest of every URL the archive has published, so that none is ever dropped silently.

`permalinks.txt` sits beside content/ and is committed with it: one path per
line, from the site's root, sorted. A build that would no longer write a
path listed there fails, naming the path; a web build appends the paths it
adds, so the file only ever grows unless an editor deletes a line by hand,
which is a decision the commit history then records.

A fact's versions (/facts/<id>/v/<n>/, see annals.versions) are listed like
any URL once a plain build has seen them, but need not be: a version exists
only once its commit is made, and the commit is its record. So `--locked`
accepts a version page the manifest does not list yet (git's history vouches
for it), and the next plain build lists it; from then on a build that would
no longer make it, the history having been rewritten, fails as for any URL.
Without git's history (a shallow clone, a plain copy) no version page is
built and none is reported dropped: the build says so once instead.
"""
from __future__ import annotations

from pathlib import Path

from . import history, starter, urls
from .records import decode
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


def check(published: dict[str, int], planned: set[str], claims, problems: Problems) -> bool:
    """Every published path must still be planned, or claimed by a file with errors (see pages.Claims).

    True if the manifest looks like another archive's (see `_copied`): one error then says so, instead
    of one for each of its URLs.
    """
    dropped = [(path, line) for path, line in sorted(published.items(), key=lambda item: item[1])
               if path not in planned and not claims.covers(path)]
    facts = [path for path in published if urls.fact_id(path) is not None]
    examples = _examples_replaced(facts, {path for path, _ in dropped})
    if examples:
        problems.error(Loc(NAME, 1), f"this file lists the example facts `annals new` wrote ({_named(examples)}), "
                       f"which this archive no longer has, and {len(dropped) - len(examples)} other URLs it no longer "
                       f"builds: the examples were replaced by this archive's own. If the examples were never "
                       f"published, delete {NAME}: the next `annals build` (or `python build.py`) writes it again "
                       f"with this archive's own URLs; commit it with your content. If they were, keep each "
                       f"address: content/withdrawn/<id>.yaml for a fact, a line of content/redirects.yaml for a page")
        return True
    if _copied(published, facts, {path for path, _ in dropped}):
        problems.error(Loc(NAME, 1), f"this archive builds none of the {len(facts)} fact pages this file lists "
                       f"({_named(facts)}), nor {len(dropped) - len(facts)} of its other URLs: it looks like a new archive "
                       f"started from a copy of another, whose published URLs it still holds. A new archive starts "
                       f"without {NAME}: delete it, and the first `annals build` (or `python build.py`) writes one "
                       f"listing this archive's own URLs; commit it with your content. If this archive did publish "
                       f"them, restore its content/ instead")
        return True
    held = _versions_held(planned) if any(_is_version(path) for path, _ in dropped) else {}
    for path, line in dropped:
        problems.error(Loc(NAME, line), _dropped_version(path, held) if _is_version(path) else _dropped(path))
    if claims.history is not None:
        _versionless(published, planned, claims.history, problems)
    return False


def _is_version(path: str) -> bool:
    parsed = urls.parse(path) if path.startswith("facts/") else None
    return parsed is not None and parsed[0] == "version"


def _versions_held(planned) -> dict[str, int]:
    """How many versions this build makes of each id."""
    held: dict[str, int] = {}
    for path in planned:
        if _is_version(path):
            ident, number = urls.parse(path)[1]
            held[ident] = max(held.get(ident, 0), number)
    return held


def _dropped_version(path: str, held: dict[str, int]) -> str:
    ident, number = urls.parse(path)[1]
    count = held.get(ident, 0)
    now = (f"only {count} version{'s' if count != 1 else ''} of fact '{ident}' (up to /{urls.version(ident, count)})"
           if count else f"no version of fact '{ident}'")
    return (f"/{path} was published, but git's history now holds {now}: the history was rewritten (commits "
            f"already published were amended, squashed or rebased, or the branch was reset), and version "
            f"{number} is lost. Bring those commits back (`git reflog` still lists them for a while, and another "
            f"clone may hold them); if this version must really go, delete this line in a commit that says why")


def _versionless(published: dict[str, int], planned, why: str, problems: Problems) -> None:
    """Without git's history no version page is built: said once, with how many listed ones this leaves out."""
    left = sorted(line for path, line in published.items() if path not in planned and _is_version(path))
    if left:
        problems.warning(Loc(NAME, left[0]), f"{len(left)} version page{'s' if len(left) != 1 else ''} of facts "
                                             f"listed here {'are' if len(left) != 1 else 'is'} not built: {why}")
    elif why == history.SHALLOW:
        problems.warning(Loc(history.FACTS), why)


def _named(paths: list[str]) -> str:
    return ", ".join(f"/{path}" for path in sorted(paths)[:3]) + (", ..." if len(paths) > 3 else "")


def _examples_replaced(facts: list[str], dropped: set[str]) -> list[str]:
    """The example fact pages of `annals new` the manifest lists, if this build drops every one of them
    and no other fact page: the manifest of a new archive built as it was written, since made the
    editor's own. Else none."""
    ids = starter.example_facts()
    examples = [path for path in facts if urls.fact_id(path) in ids]
    others = [path for path in facts if path in dropped and urls.fact_id(path) not in ids]
    return examples if examples and dropped.issuperset(examples) and not others else []


def _copied(published: dict[str, int], facts: list[str], dropped: set[str]) -> bool:
    """Whether the manifest is another archive's: none of its fact pages is built, and most of its URLs
    are not (the home page, the search and a year or two two archives may share)."""
    return bool(facts) and dropped.issuperset(facts) and 2 * len(dropped) > len(published)


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
        if _is_version(path):
            continue  # vouched for by the commit that made it (see the module's docstring)
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
