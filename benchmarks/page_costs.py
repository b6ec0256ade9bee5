#!/usr/bin/env python3
"""Where a build's time goes, page by page: the figures behind benchmarks/README.md's account of a cold build.

    python benchmarks/page_costs.py benchmarks/out/annals-10000           # after bench.py made it
    python benchmarks/page_costs.py benchmarks/out/annals-10000 --facts 500

In this one process, without a profiler (which inflates every Python call),
it reads and indexes the archive, then times each step of a fact page as a
build takes it: its context, the Jinja rendering of both editions at once,
encoding it, cutting the editions apart, deflating the offline one for the zip, and
making its folder and writing its file into a fresh folder. Then it renders
every other page once, as a build's first process does, and sums the time
by kind of page. It asserts nothing and changes nothing in the archive.
"""
from __future__ import annotations

import argparse
import collections
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annals import edition, urls  # noqa: E402
from annals.pages import Memo, context, produce  # noqa: E402
from annals.pipeline import Options, check_pages, read_archive  # noqa: E402
from annals.problems import Problems  # noqa: E402
from annals.render import Renderer, _marks_in, cut  # noqa: E402

STEPS = ("context", "render", "encode", "cut", "deflate", "write")


def fact_costs(root: Path, index, pages, count: int) -> tuple[dict[str, float], int]:
    """Seconds per fact page for each step, and the pages timed."""
    facts = [p for p in pages if p.kind == "fact"][:count]
    renderer, memo = Renderer(root), Memo()
    for page in facts[:20]:  # templates compiled and shared values derived, as a build has them by then
        ctx, reader = context(page, index, memo)
        renderer.render_both(page, ctx, reader)
    spent = dict.fromkeys(STEPS, 0.0)
    out = Path(tempfile.mkdtemp(prefix="page-costs-", dir=root))
    try:
        for page in facts:
            t0 = time.perf_counter()
            ctx, reader = context(page, index, memo)
            t1 = time.perf_counter()
            both = renderer._render(page, ctx, reader, "both", [0])
            t2 = time.perf_counter()
            both = both.encode()
            t3 = time.perf_counter()
            _marks_in(both)  # the marks counted, as render_both does
            web, offline = cut(both, "web"), cut(both, "offline")
            t4 = time.perf_counter()
            edition.compress(offline)
            t5 = time.perf_counter()
            path = out / urls.output_file(page.path)
            os.makedirs(path.parent, exist_ok=True)
            path.write_bytes(web)
            t6 = time.perf_counter()
            for step, took in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
                spent[step] += took
    finally:
        shutil.rmtree(out)
    return {step: took / max(1, len(facts)) for step, took in spent.items()}, len(facts)


def shared_costs(root: Path, index, pages) -> dict[str, tuple[int, float, int]]:
    """For each kind of page but facts: (pages, seconds, bytes of the web edition)."""
    renderer, memo = Renderer(root), Memo()
    found: dict[str, list] = collections.defaultdict(lambda: [0, 0.0, 0])
    for page in pages:
        if page.kind == "fact":
            continue
        started = time.perf_counter()
        if page.template:
            ctx, reader = context(page, index, memo)
            data = renderer.render_both(page, ctx, reader)[0]
        else:
            data, _ = produce(page, index, memo)
        row = found[page.kind]
        row[0] += 1
        row[1] += time.perf_counter() - started
        row[2] += len(data)
    return {kind: tuple(row) for kind, row in found.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="an Annals project, such as one bench.py wrote")
    parser.add_argument("--facts", type=int, default=3000, help="how many fact pages to time")
    args = parser.parse_args()
    root = args.root.resolve()
    problems = Problems()
    started = time.perf_counter()
    _, index = read_archive(Options(root=root, out=root / "_site"), problems)
    pages, _ = check_pages(Options(root=root, out=root / "_site"), index, problems)
    if problems.errors:
        for problem in problems.sorted():
            print(problem, file=sys.stderr)
        return 1
    print(f"read, indexed and planned {len(pages):,} pages in {time.perf_counter() - started:.2f} s")
    per_page, timed = fact_costs(root, index, pages, args.facts)
    print(f"a fact page, the mean of {timed:,} (µs): "
          + ", ".join(f"{step} {took * 1e6:.0f}" for step, took in per_page.items())
          + f"; in all {sum(per_page.values()) * 1e6:.0f}")
    shared = shared_costs(root, index, pages)
    print(f"{'other pages':<16} {'pages':>6} {'seconds':>8} {'KiB each':>9}")
    for kind, (count, seconds, size) in sorted(shared.items(), key=lambda item: -item[1][1]):
        print(f"{kind:<16} {count:>6,} {seconds:>8.2f} {size / count / 1024:>9,.0f}")
    print(f"{'in all':<16} {sum(c for c, _, _ in shared.values()):>6,} {sum(s for _, s, _ in shared.values()):>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
