"""The render is dealt to a standard concurrent.futures.Executor: any kind gives the same site.

The stages do not know how many processes run (annals.parallel makes the
executor); a build may be given another kind through Options.executor, as an
archive that outgrows one machine would give a distributed one. Here a pool
of threads stands for that other kind: every file it makes, the offline zip
included, is the same byte for byte as what forked processes and a single
process make.
"""
from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from annals.pipeline import Options, build
from conftest import synthetic


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_threads_processes_and_one_process_render_the_same_bytes(tmp_path):
    root = tmp_path / "archive"
    synthetic.write_annals(root, synthetic.records(900))  # enough pages to be dealt out
    threads_used: set[int] = set()

    def threads(workers, initializer, args):
        def start(*given):
            threads_used.add(threading.get_ident())
            initializer(*given)
        return ThreadPoolExecutor(workers, initializer=start, initargs=args)

    base = Options(root=root, out=root / "unused", record_permalinks=False)
    built = {}
    for name, changes in {"one": {"workers": 1}, "forked": {"workers": 2},
                          "threads": {"workers": 3, "executor": threads}}.items():
        report = build(dataclasses.replace(base, out=tmp_path / name, **changes))
        assert len(report.rendered) > 900
        built[name] = files(tmp_path / name)
    assert len(threads_used) == 2, "the thread pool's workers rendered pages"
    assert built["one"].keys() == built["forked"].keys() == built["threads"].keys()
    for name in ("forked", "threads"):
        differ = [rel for rel in built["one"] if built["one"][rel] != built[name][rel]]
        assert differ == [], f"{name} made other bytes: {differ[:5]}"
