"""A synthetic archive in git whose every fact has several versions: the history step's benchmark.

    python benchmarks/history_repo.py OUT --size 1000 --versions 3

The archive is synthetic.py's; its history is written by one `git
fast-import`, as small commits of a few dozen facts each, round after round:
the first round adds every fact (with the archive's other files), each later
one revises every fact's claim and, every other round, its figure. Dates are
fixed, one minute apart, so the same size gives the same history everywhere.
The work tree is then checked out at the last commit.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402  (beside this script, not a package)

START = 1_700_000_000  # the first commit's time (November 2023), in seconds since the epoch
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def revised(r: synthetic.Record, round_: int) -> str:
    """A fact's file in round `round_` (0: as first written): the claim revised, and the figure every other round."""
    if r.value is not None and round_ % 2 == 0 and round_:
        r = synthetic.Record(**{**r.__dict__, "value": r.value + round_})
    return synthetic.fact_yaml(r, revision=round_)


def _blob(path: str, data: bytes) -> bytes:
    return b"M 100644 inline " + path.encode() + b"\ndata %d\n" % len(data) + data + b"\n"


def _commit(n: int, message: str, files: list[bytes], first: bool) -> bytes:
    when = f"{START + 60 * n} +0000"
    text = message.encode()
    head = (b"commit refs/heads/main\nmark :%d\n" % (n + 1) +
            f"author Bench <bench@example.org> {when}\ncommitter Bench <bench@example.org> {when}\n".encode() +
            b"data %d\n" % len(text) + text + b"\n" + (b"" if first else b"from :%d\n" % n))
    return head + b"".join(files) + b"\n"


def write(root: Path, size: int, versions: int = 3, per_commit: int = 50) -> list[synthetic.Record]:
    """Write the archive at root with its history; the records, as synthetic.records(size) gives them."""
    recs = synthetic.records(size)
    synthetic.write_annals(root, recs)
    others = sorted(p for p in (root / "content").rglob("*") if p.is_file() and "facts" not in p.parts)
    stream, n = [], 0
    for round_ in range(versions):
        for start in range(0, len(recs), per_commit):
            batch = recs[start:start + per_commit]
            files = [_blob(synthetic.fact_path(root, r).relative_to(root).as_posix(), revised(r, round_).encode())
                     for r in batch]
            if n == 0:
                files += [_blob(p.relative_to(root).as_posix(), p.read_bytes()) for p in others]
            verb = "Add" if round_ == 0 else "Revise"
            stream.append(_commit(n, f"{verb} facts {batch[0].id} to {batch[-1].id}\n", files, n == 0))
            n += 1
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(stream), check=True, env=env)
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard", "main"], check=True, env=env)
    return recs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=3)
    args = parser.parse_args()
    write(args.out, args.size, args.versions)


if __name__ == "__main__":
    main()
