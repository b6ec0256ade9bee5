#!/usr/bin/env python3
"""Two versions of Annals building the same archive in turn: is a change quicker, measured in pairs?

    git worktree add /tmp/before <commit>
    python benchmarks/compare.py benchmarks/out/annals-10000 --before /tmp/before --pairs 6

This machine's speed wanders by a fifth within minutes, so a figure taken
now and one taken later say little of a change. Here each pair builds the
archive cold with the code before and the code after, one right after the
other (which goes first alternates), each into a folder of its own, and the
ratio of each pair is printed, then the medians. Each version builds a copy
of the archive with its own templates/ (a change may touch them); the
copies and the built sites are left under --work for a look, and deleted
only when it starts again (see bench.py on deleting right before a build).
It asserts nothing.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import USER_ENV, timed  # noqa: E402  (beside this script, not a package)


def project_for(archive: Path, code: Path, where: Path) -> Path:
    """A copy of the archive's content/ and static/, with the templates/ of `code` where they stood
    at the top (later revisions carry them inside the package, as their default theme)."""
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    for part in ("content", "static"):
        if (archive / part).is_dir():
            shutil.copytree(archive / part, where / part)
    if (code / "templates").is_dir():
        shutil.copytree(code / "templates", where / "templates")
    return where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="an Annals project, such as one bench.py wrote")
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code before (a git worktree)")
    parser.add_argument("--after", type=Path, default=HERE.parent, help="a checkout of the code after (this one)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--work", type=Path, default=HERE / "out" / "compare")
    args = parser.parse_args()
    code = {"before": args.before.resolve(), "after": args.after.resolve()}
    shutil.rmtree(args.work, ignore_errors=True)
    projects = {side: project_for(args.archive.resolve(), code[side], args.work / side) for side in code}
    for side in code:  # writes the bytecode a user's first run leaves behind
        subprocess.run([sys.executable, str(code[side] / "build.py"), "--help"], env=USER_ENV,
                       stdout=subprocess.DEVNULL, check=True)
    took: dict[str, list[float]] = {side: [] for side in code}
    for n in range(args.pairs):
        for side in ("before", "after") if n % 2 == 0 else ("after", "before"):
            out = args.work / f"site-{side}-{n}"
            for leftover in (".annals-cache", "permalinks.txt"):  # cold: no state, no compiled templates
                if (projects[side] / leftover).exists():
                    (projects[side] / leftover).rename(args.work / f"{leftover}-{side}-{n}")
            seconds, _ = timed([sys.executable, str(code[side] / "build.py"), "--root", str(projects[side]),
                                "--out", str(out), "-q"])
            took[side].append(seconds)
        print(f"pair {n + 1}: before {took['before'][-1]:.2f} s, after {took['after'][-1]:.2f} s, "
              f"after/before {took['after'][-1] / took['before'][-1]:.3f}", flush=True)
    ratios = [a / b for a, b in zip(took["after"], took["before"])]
    print(f"median of {args.pairs}: before {statistics.median(took['before']):.2f} s, "
          f"after {statistics.median(took['after']):.2f} s, after/before {statistics.median(ratios):.3f} "
          f"(each pair's: {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
