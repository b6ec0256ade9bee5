#!/usr/bin/env python3
"""Texts pathological for a Markdown parser, and what each costs on Annals' own path.

    python benchmarks/markdown_bombs.py                  # every kind at 16, 64 and 256 KiB
    python benchmarks/markdown_bombs.py --sizes 1024     # at an article's largest size
    python benchmarks/markdown_bombs.py --only link-open,paragraphs

For each kind of text and each size it times what a build does with one
Markdown field: `Markdown.too_costly` (the linear estimate that refuses a text
the parser would take too long on) and then, if the text is accepted, the
render. It prints each kind's worst case in milliseconds per kilobyte and
whether the text was refused, then the worst of all. A case that runs past
--limit seconds is stopped and printed as such: that is a regression.

tests/test_hostile_markdown.py builds every kind into real sites; this
script only measures (see benchmarks/README.md for the figures).
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from annals.markup import Markdown, Resolver  # noqa: E402  (the project's own package, beside this folder)


def repeat(unit: str, head: str = "") -> Callable[[int], str]:
    """A text of about `size` characters: `head`, then `unit` as often as it fits."""
    return lambda size: head + unit * max(1, (size - len(head)) // len(unit))


def nested(step: str, leaf: str = "a\n") -> Callable[[int], str]:
    """Lines each one level deeper than the last (`step` per level), about `size` characters in all."""
    def text(size: int) -> str:
        lines, total, depth = [], 0, 1
        while total < size:
            lines.append(step * depth + leaf)
            total, depth = total + len(lines[-1]), depth + 1
        return "".join(lines)
    return text


def closing(opener: str, middle: str, closer: str) -> Callable[[int], str]:
    """`opener` n times, `middle`, `closer` n times: nested as deep as `size` allows."""
    return lambda size: opener * (size // (len(opener) + len(closer))) + middle + closer * (
        size // (len(opener) + len(closer)))


# Kinds of text, by name: those an attacker tries first, then what else makes
# Python-Markdown slow (each found by measuring it).
BOMBS: dict[str, Callable[[int], str]] = {
    "link-open": repeat("[a]("),
    "link-open-address": repeat("[a](b"),
    "image-open": repeat("![a]("),
    "link-open-angle": repeat("[a](<"),
    "link-open-title": repeat('[a](b "'),
    "link-open-paren": repeat("[a]((b)"),
    "fact-ref-open": repeat("[[fact:"),
    "closed-links": repeat("[a](b) "),
    "closed-images": repeat("![a](b) "),
    "closed-fact-refs": repeat("[[fact:f-june]] "),
    "links-after-text": repeat("- [a](b)\n", head="Text\n"),
    "emphasis": repeat("*a* "),
    "strong": repeat("**a** "),
    "underscores": repeat("_a_ "),
    "star-underscore": repeat("*_"),
    "nested-emphasis": closing("*_", "a", "_*"),
    "backticks": repeat("`"),
    "code-spans": repeat("`a` "),
    "less-than": repeat("<"),
    "html-a": repeat("<a"),
    "autolinks": repeat("<https://example.org/> "),
    "entities": repeat("&amp;"),
    "escapes": repeat("\\*"),
    "backslashes": repeat("\\"),
    "line-breaks": repeat("a  \n"),
    "open-brackets": repeat("["),
    "close-brackets": repeat("]"),
    "nested-brackets": closing("[", "a", "]"),
    "reference-links": repeat("[a][b]"),
    "defined-references": repeat("[a] [a] ", head="[a]: https://example.org/\n\n"),
    "reference-definitions": repeat("[r]: https://example.org/\n"),
    "footnotes": repeat("[^a]"),
    "quote-markers": repeat(">"),
    "nested-quotes": nested("> "),
    "quoted-emphasis": repeat("> *a* *a*\n"),
    "list-markers": repeat("- "),
    "nested-lists": nested("    ", "- a\n"),
    "tight-list": repeat("- *a*\n"),
    "loose-list": repeat("- a\n\n"),
    "paragraphs": repeat("a\n\n"),
    "blank-quote-lines": repeat("> a\n>\n"),
    "headings": repeat("# a\n"),
    "rules": repeat("---\n"),
    "setext-headings": repeat("a\n=\n"),
    "mixed": repeat("[a](b) *c* `d` &amp; \\* <https://e.org/> [[fact:f-june]]  \n"),
}

SIZES = (16, 64, 256)  # KiB


class _Late(Exception):
    pass


def _stop(signum, frame):
    raise _Late


def measure(text: str, converter: Markdown, limit: float) -> tuple[float, bool | None]:
    """Seconds to check `text` and, if accepted, render it; whether it was refused (None: stopped at `limit`)."""
    signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, limit)
    started = time.perf_counter()
    try:
        refused = converter.too_costly(text) is not None
        if not refused:
            converter.render(text, Resolver(lambda ident: ("#", ident)))
    except _Late:
        refused = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return time.perf_counter() - started, refused


def largest_accepted(make: Callable[[int], str], size: int, converter: Markdown) -> int:
    """The largest size up to `size` (characters, to a thirty-second of it) whose text is accepted; 0 if none."""
    if converter.too_costly(make(size)) is None:
        return size
    low, high = 0, size  # accepted at low (or nothing), refused at high
    while high - low > max(low // 32, 16):
        middle = (low + high) // 2
        low, high = (middle, high) if converter.too_costly(make(middle)) is None else (low, middle)
    return low


def worst(names, sizes, limit: float = 60.0, out=print) -> tuple[float, float]:
    """Print each kind's worst case, then the worst of all: (ms per KB, ms at once).

    At each size (KiB) a kind's text is timed as it is, refused or not, and
    where it is refused the largest text of that kind still accepted is timed
    too: there a text costs the most that Annals renders. A text of the
    smallest size or more counts in ms per KB; a smaller one (a kind refused
    from a few KiB on) in ms at once, the part of the budget any text may spend.
    """
    converter = Markdown()
    floor = min(sizes) * 1024
    overall, at_once = 0.0, 0.0
    for name in names:
        per_kb, small, notes = 0.0, 0.0, []
        for size in sizes:
            text = BOMBS[name](size * 1024)
            seconds, refused = measure(text, converter, limit)
            per_kb = max(per_kb, seconds * 1000 / (len(text) / 1024))
            if refused is None:
                notes.append(f"{size}K: stopped after {limit:.0f} s")
                continue
            if not refused:
                notes.append(f"{size}K: rendered")
                continue
            edge = largest_accepted(BOMBS[name], size * 1024, converter)
            seconds, late = measure(BOMBS[name](edge), converter, limit) if edge else (0.0, False)
            if edge >= floor:
                per_kb = max(per_kb, seconds * 1000 / (edge / 1024))
            else:
                small = max(small, seconds * 1000)
            notes.append(f"{size}K: refused, rendered up to {edge / 1024:.1f}K"
                         + (f" (stopped after {limit:.0f} s)" if late is None else ""))
        overall, at_once = max(overall, per_kb), max(at_once, small)
        out(f"{name:>22} {per_kb:7.2f} ms/KB {small:7.1f} ms at once  {'; '.join(notes)}")
    out(f"{'worst':>22} {overall:7.2f} ms/KB {at_once:7.1f} ms at once")
    return overall, at_once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="KiB, comma-separated")
    parser.add_argument("--only", help="kinds, comma-separated (default: all)")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds after which a case is stopped")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BOMBS)
    worst(names, [int(s) for s in args.sizes.split(",")], args.limit, out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
