"""The command line: `annals [build|check|serve]` and `annals new DIR`, also run as `python build.py`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import parallel, starter
from .pipeline import Options, build, check
from .progress import Bar, Lines, Silent
from .rebuild import default_workers
from .schema import base_url_fault
from .state import CACHE

PREVIEW_FOLDER = f"{CACHE}/preview"  # `serve` builds apart from _site: a preview is not a publication
from .problems import BuildFailed, Problem
from .write import OutputRefused

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

# The commands and exit statuses, declared once: --help shows them and docs/reference.md is made from them.
COMMANDS = {
    "build": "(the default) checks everything, then writes the site into _site/ (only files whose bytes changed)",
    "check": "checks everything and writes nothing; prints every problem as path:line: message",
    "serve": "builds, then previews at http://127.0.0.1:8000, rebuilding and reloading on every change",
    "new": "`annals new DIR` writes a small example archive into DIR, a new or empty folder (a .git alone is "
           "allowed), that builds, checks and serves as it is: content/, .gitignore and the GitHub Pages workflow",
}
EXIT_STATUSES = {
    EXIT_OK: "all is well",
    EXIT_PROBLEMS: "the content has problems: nothing is written and the last good site is left exactly as it was",
    EXIT_USAGE: "the command line or the output folder is refused, or the file system stops the build "
                "(a full disk, a read-only folder, permission denied, a file in the way): one line says which "
                "folder and what to do, and the last good site is left as it was",
    128 + 2: "stopped by Ctrl-C (SIGINT): every process the build started has ended, and the output folder "
             "holds the last whole build",
    128 + 15: "stopped by SIGTERM, as by Ctrl-C",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="annals", description="Build a fact archive from content/ into a static site.",
        epilog="exit status: " + "; ".join(f"{code} when {meaning}" for code, meaning in EXIT_STATUSES.items()))
    parser.add_argument("command", nargs="?", default="build", choices=tuple(COMMANDS),
                        help="; ".join(f"{name}: {what}" for name, what in COMMANDS.items()))
    parser.add_argument("folder", nargs="?", type=Path, metavar="DIR", help="new: the folder to write the archive into")
    parser.add_argument("--root", type=Path, default=Path.cwd(), metavar="DIR",
                        help="the project folder holding content/, and templates/ or static/ if it overrides files "
                             "of the default theme (default: the current folder)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help=f"output folder (default: _site; _offline with --offline; {PREVIEW_FOLDER} for serve). "
                             "Annals refuses /, the project itself, content/ and any folder with files but no "
                             ".annals-output marker, since it did not create it")
    parser.add_argument("--base-url", type=_base_url, metavar="URL",
                        help="override base_url from content/site.yaml, e.g. https://owner.github.io/repo/; checked "
                             "the same way (an http(s) address, no ? or #), a missing final / added; a bad or empty "
                             "one exits with status 2")
    parser.add_argument("--offline", action="store_true",
                        help="write the edition that reads from disk (file://): links name index.html")
    parser.add_argument("--strict", action="store_true",
                        help="fail on warnings too (number checks, long quotes, old ids cited, URLs permalinks.txt "
                             "does not list yet)")
    parser.add_argument("--locked", action="store_true",
                        help="add nothing to permalinks.txt: fail, naming them, if the site would publish URLs it "
                             "does not list (the GitHub Pages workflow builds this way)")
    parser.add_argument("--port", type=int, default=8000, metavar="N",
                        help="serve: port on 127.0.0.1 (default 8000)")
    parser.add_argument("--jobs", "-j", type=int, default=default_workers(), metavar="N",
                        help="processes that read the archive and render pages when there are many (default: the "
                             "cores Annals may use); -j 1 does all in one process")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="also print each stage (load, validate, index, plan, render, write, zip, commit) with "
                             "its count and time, and every page rendered")
    return parser


def _base_url(value: str) -> str:
    """The same check as base_url in content/site.yaml; a missing final '/' is added."""
    if not value.strip():
        raise argparse.ArgumentTypeError("is empty: give the address the site is published at, "
                                         "like https://owner.github.io/repo/")
    fault = base_url_fault(value, final_slash=False)
    if fault:
        raise argparse.ArgumentTypeError(fault)
    return value if value.endswith("/") else value + "/"


def options_from(args) -> Options:
    root = args.root.resolve()
    default = "_offline" if args.offline else PREVIEW_FOLDER if args.command == "serve" else "_site"
    out = args.out if args.out is not None else Path(default)
    out = out if out.is_absolute() else root / out
    # A link to the folder the site is served from (_site -> /var/www/site): the build swaps a
    # folder into place, so it builds the folder the link names, and the link stays as it was.
    out = out.resolve() if out.is_symlink() else out
    return Options(root=root, out=out, base_url=args.base_url, offline=args.offline, strict=args.strict,
                   locked=args.locked, workers=max(1, args.jobs))


def progress_for(args, stream=None) -> Silent:
    """Stages as lines with --verbose; a redrawn line on a terminal; nothing with --quiet, on CI or in a log."""
    stream = stream or sys.stderr
    if args.quiet:
        return Silent()
    if args.verbose:
        return Lines(stream)
    if stream.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb":
        return Bar(stream)
    return Silent(notes=stream)


def report_problems(problems: list[Problem], stream=None) -> None:
    # Resolved at call time, not definition time, so redirected output is honoured.
    stream = stream or sys.stderr
    for problem in problems:
        print(problem, file=stream)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    print(f"{errors} error(s), {warnings} warning(s)", file=stream)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "new" or args.folder is not None:
        return _new(parser, args)
    options = options_from(args)
    if args.command == "serve":
        from .serve import serve  # livereload is only needed here
        return serve(options, port=args.port, quiet=args.quiet)
    try:
        with parallel.stopped_by_signals():
            return _build_or_check(args, options)
    except parallel.Stopped as stopped:
        print(f"annals: stopped by {stopped.name}; every process it started has ended, and "
              f"{options.out} holds the last whole build", file=sys.stderr)
        return 128 + stopped.signum


def _build_or_check(args: argparse.Namespace, options: Options) -> int:
    if args.command == "check":
        problems = check(options)
        listed = problems.sorted()
        if listed or not args.quiet:
            report_problems(listed, sys.stderr if problems.fails(args.strict) else sys.stdout)
        return EXIT_PROBLEMS if problems.fails(args.strict) else EXIT_OK
    try:
        report = build(options, progress=progress_for(args))
    except BuildFailed as failed:
        report_problems(failed.problems)
        print(f"build failed: nothing written; {options.out} is as it was", file=sys.stderr)
        return EXIT_PROBLEMS
    except OutputRefused as refused:
        print(f"annals: {refused}", file=sys.stderr)
        return EXIT_USAGE
    for warning in report.warnings:
        print(warning, file=sys.stderr)
    if args.verbose:
        for path in report.rendered:
            print(f"rendered /{path}")
    if not args.quiet:
        print(f"built {report.pages} pages into {options.out}: {len(report.rendered)} rendered, "
              f"{report.written} files written, {report.removed} removed, in {report.seconds:.2f}s")
    return EXIT_OK


def _new(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`annals new DIR`: the starter archive written, and what to do next."""
    if args.command != "new" or args.folder is None:
        parser.error("only `new` takes a folder (annals new DIR); give the other commands the project with --root DIR"
                     if args.command != "new" else "new needs the folder to write the archive into: annals new DIR")
    try:
        written = starter.write(args.folder)
    except starter.Refused as refused:
        print(f"annals: {refused}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        folder = args.folder
        print(f"wrote a new archive of {len(written.files)} files into {folder}, every fact an example to replace.\n"
              f"  annals serve --root {folder}           preview it at http://127.0.0.1:8000 as you edit\n"
              f"  annals check --strict --root {folder}  check everything\n"
              f"  annals build --root {folder}           build {folder / '_site'} and write {folder / 'permalinks.txt'}"
              ", to commit with your content before the first push")
        if not written.installs:
            print(f"Before publishing, write in {folder / starter.WORKFLOW} how CI installs Annals (see its comment).")
    return EXIT_OK


def run() -> None:
    """The program: main(), then the process ends at once.

    A build of 10,000 facts leaves a few million objects behind, and the
    interpreter took 0.37 s to free them one by one after the last line was
    printed (measured). Everything the build writes is closed and its
    processes are joined by the time main() returns; only the output streams
    are left to flush.
    """
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)
