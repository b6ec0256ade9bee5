"""A YAML syntax error is reported where the mistake is: an unclosed quote or bracket at the line it opens.

Each kind of mistake is written into every kind of YAML file the build reads
(facts, sources, operations, site.yaml, metrics.yaml, article front matter,
redirects.yaml, tombstones), each at a line of its own, and `check` must name
that line: not the line where the parser gave up, lines later or at the end.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO, annals, make_site

# path: (the file, with {X} for the mistaken value and {Q} for the quote marks of the values after it;
#        the line of {X} in the file; the indentation of its key)
FILES = {
    "content/facts/2017/f-june.yaml": ("""\
when: 2017-06
claim: {X}
operations: [op-b]
measure:
  metric: weapons-released
  value: 100
  aggregation: period
sources:
  - source: src-1
    quote: {Q}100 weapons in June{Q}
""", 2, ""),
    "content/sources/src-1.yaml": ("""\
kind: report
title: {X}
publisher: {Q}Someone{Q}
notes: A note.
""", 2, ""),
    "content/operations/op-a.yaml": ("""\
theatre: Somewhere
name: {X}
summary: {Q}A summary.{Q}
""", 2, ""),
    "content/site.yaml": ("""\
description: A small archive written by a test.
title: {X}
base_url: https://example.org/archive/
language: en
licence: {Q}CC BY 4.0{Q}
""", 2, ""),
    "content/metrics.yaml": ("""\
weapons-released:
  unit: weapons
  label: {X}
  description: {Q}Bombs and missiles released.{Q}
""", 3, "  "),
    "content/articles/a.md": ("""\
---
date: 2017-07-01
title: {X}
summary: {Q}One sentence.{Q}
---
Body.
""", 3, ""),  # front matter starts at the file's line 2
    "content/redirects.yaml": ("""\
/operations/gone/: /operations/op-a/
/operations/old/: {X}
/operations/older/: {Q}/operations/op-b/{Q}
""", 2, ""),
    "content/withdrawn/f-old.yaml": ("""\
withdrawn: 2018-01-01
reason: {X}
claim: {Q}An old claim.{Q}
""", 2, ""),
}

# name: (the mistaken value, given its key's indentation; the quote mark of the values after it;
#        the mistake's line counted from the key's; what the message says)
MISTAKES = {
    "unclosed double quote": (lambda i: '"Never closed', "", 0, 'the " at column'),
    "unclosed single quote": (lambda i: "'Never closed", "", 0, "the ' at column"),
    "double quote closed by the next one": (lambda i: '"Closed by the next', '"', 0, "is not closed on its line"),
    "single quote closed by the next one": (lambda i: "'Closed by the next", "'", 0, "is not closed on its line"),
    "apostrophe inside single quotes": (lambda i: "'It's here'", "", 0, "write an apostrophe as ''"),
    "unclosed list": (lambda i: "[a, b", "", 0, "the '[' at column"),
    "unclosed mapping": (lambda i: "{a: b", "", 0, "the '{' at column"),
    "unclosed list around a closed one": (lambda i: "[a, [b, c]", "", 0, "the '[' at column"),
    "block text indented less": (lambda i: f"|\n{i}      line one\n{i}    line two", "", 2,
                                 "indented less than the text begun by '|'"),
    "a line without its colon": (lambda i: f"A value\n{i}just words", "", 1, "a ':' is missing"),
    "a colon inside a plain text": (lambda i: "Figure: 4,848", "", 0, "': ' here would begin a key"),
    "a tab": (lambda i: f"A value\n\t{i}x: y", "", 1, "a tab"),
    "a bad escape": (lambda i: '"C:\\qx"', "", 0, "backslash begins an escape"),
    "a value beginning with @": (lambda i: "@someone", "", 0, "cannot begin with '@'"),
}


def broken_everywhere(tmp_path, value, quote: str):
    files = {path: text.replace("{X}", value(indent)).replace("{Q}", quote)
             for path, (text, _, indent) in FILES.items()}
    return make_site(tmp_path, files)


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_is_reported_at_its_line_in_every_kind_of_file(tmp_path, mistake):
    value, quote, below, says = MISTAKES[mistake]
    run = annals(broken_everywhere(tmp_path, value, quote), "check")
    assert run.code == 1 and "Traceback" not in run.out + run.err
    for path, (_, line, _) in FILES.items():
        mine = [p for p in run.problems if p.startswith(path + ":")]
        assert len(mine) == 1, (path, run.problems)
        assert mine[0].startswith(f"{path}:{line + below}: "), mine
        assert says in mine[0], mine


def test_the_message_names_what_was_left_open_and_where_the_parser_noticed(site):
    root = site({"content/facts/2017/f-june.yaml": "when: 2017-06\nplaces: [Iraq, Syria\noperations: [op-b]\n"
                                                   "notes: \"an unclosed note\nsources: []\nrank: normal\n"})
    assert annals(root, "check").problems == [
        "content/facts/2017/f-june.yaml:2: YAML syntax: the '[' at column 9 is never closed: add the ']' where "
        "the list ends (the YAML stops reading at line 3)",
    ]
    root = site({"content/facts/2017/f-june.yaml": "when: 2017-06\nnotes: \"an unclosed note\nsources: []\n"})
    assert annals(root, "check").problems == [
        "content/facts/2017/f-june.yaml:2: YAML syntax: the \" at column 8 is never closed (it is still open where "
        "the YAML ends, at line 4): add the closing \" where the text ends",
    ]


def test_an_unclosed_quote_that_a_later_quote_closes_and_that_still_reads_is_found(site):
    # The text runs on to the next field's own quote, and what follows reads as YAML: the fields
    # between would silently become part of the claim; the line it stands on shows the mistake.
    fact = ('claim: "100 weapons\nwhen: 2017-06\nnotes: "How it was read."\nsources:\n'
            '  - source: src-1\n    quote: "100 weapons in June"\n')
    root = site({"content/facts/2017/f-june.yaml": fact})
    assert annals(root, "check").problems == [
        "content/facts/2017/f-june.yaml:1: YAML syntax: the \" at column 8 is not closed on its line: the text "
        "runs on to line 2, which stands where the next key would. Close the quote on this line, or indent the "
        "lines that continue the text",
    ]


def test_a_quoted_text_over_several_indented_lines_is_fine(site):
    fact = ('claim: "100 weapons were released\n  in June 2017."\nwhen: 2017-06\nsources:\n'
            '  - source: src-1\n    quote: "100 weapons\n      in June"\n')
    root = site({"content/facts/2017/f-june.yaml": fact})
    assert annals(root, "check").code == 0


def test_a_bracket_closed_later_is_reported_where_the_parser_stopped(site):
    # The ']' is there: the mistake is inside the list, at the line that does not read.
    root = site({"content/facts/2017/f-june.yaml": "when: 2017-06\noperations: [\n  op-b,\n  a: b: c,\n]\n"})
    assert annals(root, "check").problems == [
        "content/facts/2017/f-june.yaml:4: YAML syntax: did not find expected ',' or ']', inside the '[' opened at "
        "line 2, column 13",
    ]


@pytest.mark.parametrize("odd, name", [("\u2028", "U+2028 LINE SEPARATOR"), ("\u2029", "U+2029 PARAGRAPH SEPARATOR"),
                                       ("\x85", "U+0085 NEXT LINE"), ("\r", "a carriage return (CR) with no line feed")])
def test_lines_are_counted_as_an_editor_counts_them(site, odd, name):
    # YAML breaks lines at these too; an editor, grep and git do not, and the line named must be theirs.
    fact = f'claim: "One{odd}two{odd}three."\nwhen: 2017-06\nplaces: [Iraq\nsources: []\n'
    root = site({"content/facts/2017/f-june.yaml": fact.encode()})
    assert annals(root, "check").problems[0].startswith("content/facts/2017/f-june.yaml:3: YAML syntax: the '['")
    fact = f'claim: "One{odd}two."\nwhen: 2017-06\ncolour: red\n'
    root = site({"content/facts/2017/f-june.yaml": fact.encode()})
    assert "content/facts/2017/f-june.yaml:3: unknown field 'colour' in fact" in annals(root, "check").problems
    # Unquoted, what follows the break reads as a line of its own, and the message says why.
    fact = f"when: 2017-06\nclaim: One{odd}two.\nsources: []\n"
    root = site({"content/facts/2017/f-june.yaml": fact.encode()})
    assert annals(root, "check").problems == [
        f"content/facts/2017/f-june.yaml:2: YAML syntax: this line holds {name}, a line break that editors do not "
        "show, and YAML reads what follows it as a line of its own: remove it, or put the text in quotes"]


def test_windows_line_ends_count_one_line_each(site):
    fact = "when: 2017-06\r\nclaim: [unclosed\r\nsources: []\r\n"
    root = site({"content/facts/2017/f-june.yaml": fact.encode()})
    assert annals(root, "check").problems[0].startswith("content/facts/2017/f-june.yaml:2: YAML syntax: the '['")


@pytest.mark.parametrize("char", ["\x80", "\x9f", "\ufffe"])
def test_a_character_yaml_refuses_is_named_at_its_line(site, char):
    root = site({"content/facts/2017/f-june.yaml": f"when: 2017-06\nplaces: [Iraq]\nclaim: \u00e9t\u00e9 {char}\n"})
    assert annals(root, "check").problems == [
        f"content/facts/2017/f-june.yaml:3: contains the character U+{ord(char):04X}, which a YAML file cannot "
        "hold; is this a text file? Remove it",
    ]


def test_the_real_command_line_names_the_opening_lines(tmp_path):
    root = make_site(tmp_path, {
        "content/articles/a.md": '---\ndate: 2017-07-01\ntitle: "An unclosed title\nsummary: x\n---\nBody.\n',
        "content/metrics.yaml": "weapons-released:\n  label: Weapons released\n  unit: {weapons\n"
                                "  description: Bombs.\n",
        "content/site.yaml": "title: 'Test\ndescription: A test.\nbase_url: https://example.org/archive/\n"
                             "language: en\nlicence: CC BY 4.0\n",
    })
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "check"],
                          capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    located = [line.split(": YAML syntax: ")[0] for line in done.stderr.splitlines() if "YAML syntax" in line]
    assert located == ["content/articles/a.md:3", "content/metrics.yaml:3", "content/site.yaml:1"]
