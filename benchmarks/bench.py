#!/usr/bin/env python3
"""Annals against Hugo on the same synthetic archives: build times, rebuilds, memory, preview latency.

    python benchmarks/bench.py                      # 1,000 and 10,000 facts
    python benchmarks/bench.py --sizes 100000       # one size
    python benchmarks/bench.py --no-hugo --no-serve # Annals' builds only
    python benchmarks/bench.py --sizes 10000 --repeat 5  # Annals and Hugo in turn, five times; the medians

For each size it writes an Annals project and a Hugo site of the same records
(see synthetic.py) under benchmarks/out/, then measures, each as a process of
its own as a user would run it:
- cold: `python build.py` into an empty _site/ with no cache;
- no-op: the same again, nothing changed;
- one fact: one fact file edited, then `python build.py`;
- no zip: a cold build again, of every page but not of the offline edition's zip,
  which Hugo's sites do not make: the same pages as the same-output Hugo site;
- peak memory: the largest resident set of the build or of any worker it ran;
- preview: `build.py serve` running, one fact file saved, time until the
  reload message reaches a livereload client and the page it then fetches
  shows the change (the median of several saves);
- Hugo: `hugo` building, from nothing, the site that writes what Annals
  writes for the same records (but the offline zip), and the minimal site of
  earlier runs, with one short page per fact, month and operation.
With --repeat, Annals' builds and Hugo's take turns (which goes first
alternates), a row each time, then the medians and each run's ratio: on a
noisy machine the ratio of one pair wanders by a fifth. Annals runs with its
modules' bytecode written, as on a user's machine after the first run.
It prints a table and the ratios; it asserts nothing (see benchmarks/README.md for figures).

The last run's folders are moved aside and deleted only once every figure is
taken. Deleted right before a build, their tens of thousands of files made
each new folder cost up to milliseconds: this machine's ext4 has no journal,
and then the kernel passes over every inode freed in the last minutes before
it hands one out again (`perf` showed a third of a build in that search).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import history_repo  # noqa: E402
import synthetic  # noqa: E402  (beside this script, not a package)

REPO = HERE.parent
BUILD = [sys.executable, str(REPO / "build.py")]
# Annals runs as a user's Python runs it: writing and reading its modules'
# bytecode. Some sandboxes set PYTHONDONTWRITEBYTECODE, and then every process
# compiles its modules from source (0.13 s of the 0.5 s `build.py --help` takes).
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
# `build.py` as it is but for the offline edition's zip, which Hugo's sites do not make: the cold
# build of the same pages as the same-output Hugo site. (The preview makes no zip either; no
# option of the command line leaves it out, since every published page links to it.)
WITHOUT_ZIP = [sys.executable, "-c", "import dataclasses, sys; sys.path.insert(0, sys.argv[1]); del sys.argv[1]; "
               "from annals import cli; given = cli.options_from; "
               "cli.options_from = lambda args: dataclasses.replace(given(args), offline_zip=False); cli.run()",
               str(REPO)]


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds, and the peak resident set (KiB) of the process and the children it waited for."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=USER_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()}")
    return seconds, usage.ru_maxrss


# What a build leaves in the project: a cold build starts without any of it. The working folder
# beside the output (its spare) is put aside with the rest, and deleted with the rest at the end:
# deleted by the build, its ten thousand folders slowed the builds after it (see README.md).
LEFT_BY_A_BUILD = ("_site", "._site.annals", ".annals-cache", "permalinks.txt")


def annals_builds(root: Path, recs, trash: Path, revision: int = 1) -> dict[str, float]:
    for leftover in LEFT_BY_A_BUILD:
        put_aside(root / leftover, trash)
    cmd = BUILD + ["--root", str(root), "-q"]
    cold, peak = timed(cmd)
    noop, _ = timed(cmd)
    victim = recs[len(recs) // 2]
    synthetic.fact_path(root, victim).write_text(synthetic.fact_yaml(victim, revision=revision))
    edit, _ = timed(cmd)
    # A template edited: the archive's own month.html over the theme's, a line changed.
    theme_month = (REPO / "annals/theme/templates/month.html").read_text()
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates/month.html").write_text(theme_month.replace("</h1>", f" </h1><!-- {revision} -->", 1))
    template, _ = timed(cmd)
    put_aside(root / "templates", trash)
    for leftover in LEFT_BY_A_BUILD[:3]:
        put_aside(root / leftover, trash)
    bare, _ = timed(WITHOUT_ZIP + ["--root", str(root), "-q"])
    return {"cold": cold, "noop": noop, "edit": edit, "template": template, "bare": bare, "peak_mib": peak / 1024}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def preview_latency(root: Path, recs, saves: int = 7) -> float | None:
    """Median ms from saving a fact to the reload message and the changed page fetched."""
    from tornado.ioloop import IOLoop
    from tornado.websocket import websocket_connect

    port = free_port()
    proc = subprocess.Popen(BUILD + ["serve", "--root", str(root), "--port", str(port), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            env=USER_ENV)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(6000):  # the first build of a large archive takes a while
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.1)

        async def measure() -> list[float]:
            ws = await websocket_connect(f"ws://127.0.0.1:{port}/livereload")
            await ws.write_message(json.dumps({"command": "hello", "protocols": []}))
            await ws.read_message()
            await ws.write_message(json.dumps({"command": "info", "url": url, "plugins": {}}))
            out = []
            for n in range(saves):
                victim = recs[(n * 7919) % len(recs)]
                started = time.perf_counter()
                synthetic.fact_path(root, victim).write_text(synthetic.fact_yaml(victim, revision=100 + n))
                # A save caught half-written reloads the page with the problem first; the
                # change has reached the reader at the first reload whose page shows it.
                while True:
                    while json.loads(await ws.read_message()).get("command") != "reload":
                        pass
                    with urllib.request.urlopen(f"{url}facts/{victim.id}/", timeout=10) as page:
                        if f"(revision {100 + n})" in page.read().decode():
                            break
                out.append((time.perf_counter() - started) * 1000)
                await _sleep(0.3)
            ws.close()
            return out

        return statistics.median(IOLoop.current().run_sync(measure, timeout=600))
    finally:
        proc.terminate()
        proc.wait()


async def _sleep(seconds: float) -> None:
    import asyncio
    await asyncio.sleep(seconds)


def put_aside(folder: Path, trash: Path) -> None:
    """Move a last run's folder out of the way, to be deleted when the run is over (see above)."""
    if folder.exists() or folder.is_symlink():
        trash.mkdir(parents=True, exist_ok=True)
        folder.rename(trash / f"{folder.name}-{time.time_ns()}")


def hugo_build(site: Path, trash: Path) -> float | None:
    if shutil.which("hugo") is None:
        return None
    put_aside(site / "public", trash)
    put_aside(site / "resources", trash)
    seconds, _ = timed(["hugo", "--quiet", "-s", str(site), "-d", str(site / "public")])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="numbers of facts, comma-separated")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where the archives are written")
    parser.add_argument("--no-hugo", action="store_true", help="skip Hugo")
    parser.add_argument("--no-serve", action="store_true", help="skip the preview's latency")
    parser.add_argument("--history", metavar="SIZES", default="",
                        help="instead: the history step of a cold build of archives of these sizes in git, "
                             "each fact of three versions (history_repo.py), and its share of the build")
    parser.add_argument("--repeat", type=int, default=1,
                        help="builds of each kind per size, Annals and Hugo in turn; then the medians")
    args = parser.parse_args()
    if args.history:
        for size in (int(s) for s in args.history.split(",")):
            history_step(size, args.out)
        return
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
          f"hugo: {subprocess.run(['hugo', 'version'], capture_output=True, text=True).stdout.split()[1] if shutil.which('hugo') else 'none'}")
    timed(BUILD + ["--help"])  # writes the bytecode a user's first run leaves behind
    print(f"{'facts':>8} {'pages':>7} {'cold s':>8} {'no-op s':>8} {'1 fact s':>9} {'tmpl s':>7} {'peak MiB':>9} "
          f"{'preview ms':>11} {'hugo s':>7} {'annals/hugo':>12} {'no zip s':>9} {'nozip/hugo':>11} "
          f"{'hugo min s':>11} {'annals/min':>11}")
    trash = args.out / ".trash"
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            recs = synthetic.records(size)
            root = args.out / f"annals-{size}"
            hugo_sites = {"same": args.out / f"hugo-{size}", "minimal": args.out / f"hugo-minimal-{size}"}
            for folder in (root, *hugo_sites.values()):
                put_aside(folder, trash)
            synthetic.write_annals(root, recs)
            if not args.no_hugo:
                for variant, site in hugo_sites.items():
                    synthetic.write_hugo(site, recs, equivalent=variant == "same")
            rows = []
            for n in range(args.repeat):
                # Turn about, so that neither always builds on a disk the other just wrote to.
                hugo_first = n % 2 == 1
                hugo = hugo_builds(hugo_sites, trash) if hugo_first and not args.no_hugo else {}
                got = annals_builds(root, recs, trash, revision=n + 1)
                if not hugo_first and not args.no_hugo:
                    hugo = hugo_builds(hugo_sites, trash)
                rows.append({**got, **{f"hugo_{k}": v for k, v in hugo.items()}})
                if n < args.repeat - 1:
                    print(_row(size, None, rows[-1], None), flush=True)
            pages = sum(1 for _ in (root / "_site").rglob("index.html"))
            latency = None if args.no_serve else preview_latency(root, recs)
            print(_row(size, pages, rows[-1], latency), flush=True)
            if args.repeat > 1:
                print(f"{'median':>8} of {args.repeat}: " + ", ".join(
                    f"{key} {_shown(_median(rows, key), '.2f')}" for key in
                    ("cold", "noop", "edit", "template", "bare", "hugo_same", "hugo_minimal")) +
                    f"; annals/hugo {_ratios(rows, 'cold')}; without the zip {_ratios(rows, 'bare')}", flush=True)
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def history_step(size: int, out: Path) -> None:
    """A cold build of `size` facts of three versions each, and the seconds its history step took (`-v`);
    then the same for the build after one fact's fourth version is committed."""
    trash = out / ".trash"
    root = out / f"history-{size}"
    put_aside(root, trash)
    recs = history_repo.write(root, size, versions=3)
    cold, step = _history_build(root)
    pages = sum(1 for _ in (root / "_site").rglob("index.html"))
    print(f"{size:,} facts of 3 versions, {pages:,} pages: history step {step:.2f} s of a {cold:.2f} s cold build "
          f"({100 * step / cold:.0f}%)", flush=True)
    victim = synthetic.fact_path(root, recs[len(recs) // 2])
    victim.write_text(re.sub(r"(?m)^claim: .*$", "claim: A fourth wording of this fact.", victim.read_text()))
    git = ["git", "-C", str(root), "-c", "user.name=Bench", "-c", "user.email=bench@example.org",
           "-c", "commit.gpgsign=false"]
    subprocess.run(git + ["commit", "-qam", "A fourth version of one fact"], check=True, env=USER_ENV)
    again, step = _history_build(root)
    print(f"after a commit of one fact's fourth version: history step {step:.2f} s of a {again:.2f} s build", flush=True)
    shutil.rmtree(trash, ignore_errors=True)


def _history_build(root: Path) -> tuple[float, float]:
    """A build's wall seconds, and its history step's."""
    started = time.perf_counter()
    done = subprocess.run(BUILD + ["--root", str(root), "-v"], capture_output=True, text=True, env=USER_ENV)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.startswith("history:")]
    return seconds, float(lines[0].split()[-1][:-1]) if lines else 0.0


def hugo_builds(sites: dict[str, Path], trash: Path) -> dict[str, float | None]:
    return {variant: hugo_build(site, trash) for variant, site in sites.items()}


def _row(size: int, pages: int | None, got: dict, latency: float | None) -> str:
    same, minimal = got.get("hugo_same"), got.get("hugo_minimal")
    return (f"{size:>8,} {_shown(pages, ','):>7} {got['cold']:>8.2f} {got['noop']:>8.2f} {got['edit']:>9.2f} "
            f"{got['template']:>7.2f} "
            f"{got['peak_mib']:>9.0f} {_shown(latency, '.0f'):>11} {_shown(same, '.2f'):>7} "
            f"{_ratio(got['cold'], same):>12} {got['bare']:>9.2f} {_ratio(got['bare'], same):>11} "
            f"{_shown(minimal, '.2f'):>11} {_ratio(got['cold'], minimal):>11}")


def _median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def _ratios(rows: list[dict], key: str) -> str:
    """The ratio of the medians of `key` and of the same-output Hugo build, then each run's."""
    each = ", ".join(_ratio(r[key], r.get("hugo_same")) for r in rows)
    return f"{_ratio(_median(rows, key), _median(rows, 'hugo_same'))} (each run's: {each})"


def _ratio(annals: float, hugo: float | None) -> str:
    return f"{annals / hugo:.2f}" if hugo else "-"


def _shown(value: float | None, spec: str) -> str:
    """A figure, or "-" for one not measured (--no-serve, --no-hugo, no hugo installed)."""
    return "-" if value is None else format(value, spec)


if __name__ == "__main__":
    main()
