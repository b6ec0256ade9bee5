"""One test per validation rule: the exact `path:line: message`, exit 1, and the last good site untouched.

Each rule is exercised the way an editor meets it: build a good site, break
one file, build again. The build must fail with exactly the located message,
print no traceback, and leave every byte of `_site/` as the good build wrote it.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import MINIMAL, REPO, annals, make_site, write_files

FACT = "content/facts/2017/f-june.yaml"
GOOD_FACT = textwrap.dedent(MINIMAL[FACT])  # a valid measure, 11 lines


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def broken_build(root: Path, files: dict, change=None) -> tuple[list[str], "object"]:
    """Build good, write `files` (and make `change(root)`), build again: the problems printed,
    after checking nothing changed."""
    good = annals(root)
    assert good.code == 0, good.err
    before = snapshot(root / "_site")
    write_files(root, files)
    if change is not None:
        change(root)
    run = annals(root)
    assert run.code == 1, run.out + run.err
    assert "Traceback" not in run.out + run.err
    assert snapshot(root / "_site") == before, "a failed build changed the last good site"
    assert run.err.rstrip().endswith(f"{root / '_site'} is as it was")
    checked = annals(root, "check")
    # check also warns of new pages permalinks.txt does not list yet, which a build that succeeds adds
    assert checked.code == 1 and [p for p in checked.problems if "is not listed yet" not in p] == run.problems
    return run.problems, run


def fact(text: str) -> dict:
    return {FACT: text}


def test_yaml_syntax(site):
    problems, _ = broken_build(site(), fact("claim: [unclosed\nwhen: 2017-06\n"))
    assert problems == [f"{FACT}:1: YAML syntax: the '[' at column 8 is never closed: add the ']' where the list "
                        "ends (the YAML stops reading at line 2)"]


def test_yaml_syntax_bad_indentation(site):
    problems, _ = broken_build(site(), fact("claim: x\n  when: 2017-06\nsources: []\n"))
    assert problems == [f"{FACT}:2: YAML syntax: a ': ' here would begin a key where none can: put a text that "
                        "holds ': ' in quotes, or check this line's indentation"]


def test_duplicate_keys_name_both_lines(site):
    text = GOOD_FACT.replace("when: 2017-06\n", "when: 2017-06\nclaim: again\n")
    problems, _ = broken_build(site(), fact(text))
    assert problems == [f"{FACT}:3: duplicate key 'claim' (first written at line 1)"]


def test_duplicate_keys_nested(site):
    text = GOOD_FACT.replace("  value: 100\n", "  value: 100\n  value: 200\n")
    problems, _ = broken_build(site(), fact(text))
    assert problems == [f"{FACT}:7: duplicate key 'value' (first written at line 6)"]


@pytest.mark.parametrize("text, message", [
    ("claim: &c Something\nsources:\n  - source: src-1\n    quote: *c\n",
     "1: YAML anchor &c is not allowed: write the value out in full"),
    ("claim: x\nsources:\n  - source: src-1\n    quote: *c\n",
     "4: YAML alias *c is not allowed: write the value out in full"),
    ("claim: !!str 12\nsources:\n  - source: src-1\n    quote: q\n",
     "1: YAML tag !!str is not allowed: values are typed by their field"),
    ("claim: x\nsources: !!python/object:os.system\n  - source: src-1\n",
     "2: YAML tag !!python/object:os.system is not allowed: values are typed by their field"),
    ("claim: !custom x\nsources:\n  - source: src-1\n    quote: q\n",
     "1: YAML tag !custom is not allowed: values are typed by their field"),
])
def test_anchors_aliases_and_tags_refused(site, text, message):
    problems, _ = broken_build(site(), fact(text))
    assert problems == [f"{FACT}:{message}"]


def test_merge_key_is_just_an_unknown_field(site):
    # `<<` merges mappings in YAML 1.1; here it is a key like any other, and unknown.
    problems, _ = broken_build(site(), fact(GOOD_FACT + "<<: {claim: x}\n"))
    assert problems == [f"{FACT}:11: unknown field '<<' in fact"]


def test_yaml_11_typing_never_applied_to_text(site):
    from annals.records import read_file
    text = ("claim: NO\nplaces: [yes, Off, 1:20, 01234, 1.10, 0x1F, ~x, .inf, 2017-06-15]\n"
            "originator: null-island\nsources:\n  - source: src-1\n    quote: 1e3\n")
    loaded = read_file(FACT, text.encode())
    assert loaded.problems == ()
    (record,) = loaded.records
    assert record.claim == "NO"
    assert record.places == ("yes", "Off", "1:20", "01234", "1.10", "0x1F", "~x", ".inf", "2017-06-15")
    assert record.sources[0].quote == "1e3"
    root = site(fact(text))
    assert annals(root).code == 0
    page = (root / "_site/facts/f-june/index.html").read_text()
    assert "<h1>NO</h1>" in page or ">NO<" in page
    assert "01234" in page and "1:20" in page and "1.10" in page


def test_number_written_as_decimal_keeps_its_digits(site):
    from annals.records import read_file
    loaded = read_file(FACT, GOOD_FACT.replace("value: 100", "value: 1.10").encode())
    assert loaded.problems == ()
    assert str(loaded.records[0].measure.value) == "1.10"
    root = site(fact(GOOD_FACT.replace("value: 100", "value: 1.10")))
    assert annals(root).code == 0
    assert "1.10" in (root / "_site/facts/f-june/index.html").read_text()


@pytest.mark.parametrize("value, message", [
    ("01234", "'01234' has a leading zero; write 1234, or quote it if it is not a number"),
    ("1:20", "'1:20' is not a number; write digits, like 4848 or 12.5"),
    ("4,848", "'4,848' has separators; write digits only (4848)"),
    ("4_848", "'4_848' has separators; write digits only (4848)"),
    ("0x1F", "'0x1F' is not a number; write digits, like 4848 or 12.5"),
    ("1e3", "'1e3' is not a number; write digits, like 4848 or 12.5"),
    (".inf", "'.inf' is not a figure; write a finite number, or leave the fact without a measure"),
    (".NaN", "'.NaN' is not a figure; write a finite number, or leave the fact without a measure"),
    ("-.inf", "'-.inf' is not a figure; write a finite number, or leave the fact without a measure"),
    ("NO", "'NO' is a yes or no, not a number; write digits, like 4848 or 12.5"),
    ("true", "'true' is a yes or no, not a number; write digits, like 4848 or 12.5"),
    ("+5", "'+5': write the number without '+' (5)"),
    ("-0", "'-0' is zero; write 0"),
    ("-0.00", "'-0.00' is zero; write 0"),
    ('"100"', "write the number without quotes"),
    ("~", "is empty; write a value or leave the field out"),
])
def test_number_field_refuses_what_yaml_11_would_retype(site, value, message):
    problems, _ = broken_build(site(), fact(GOOD_FACT.replace("value: 100", f"value: {value}")))
    assert problems == [f"{FACT}:6: value: {message}"]


@pytest.mark.parametrize("when, message", [
    ("2017-13", "'2017-13' has no month 13"),
    ("2017-02-30", "'2017-02-30' is not a date: February 2017 has 28 days"),
    ("2016-02-30", "'2016-02-30' is not a date: February 2016 has 29 days"),
    ("2017-00", "'2017-00' has no month 0"),
    ("June 2017", "'June 2017' is not a date: write 2017, 2017-06 or 2017-06-15"),
    ("2017-6", "'2017-6' is not a date: write 2017, 2017-06 or 2017-06-15"),
    ("17-06-2017", "'17-06-2017' is not a date: write 2017, 2017-06 or 2017-06-15"),
])
def test_invalid_dates(site, when, message):
    problems, _ = broken_build(site(), fact(GOOD_FACT.replace("when: 2017-06", f"when: {when}")))
    assert problems == [f"{FACT}:2: when: {message}"]


def test_invalid_range(site):
    text = GOOD_FACT.replace("when: 2017-06", "when: {from: 2017-06, to: 2017-02}")
    problems, _ = broken_build(site(), fact(text))
    assert problems == [f"{FACT}:2: when: the range must end after it starts (2017-06 to 2017-02)"]
    text = GOOD_FACT.replace("when: 2017-06", "when: {from: 2017-06, until: 2017-08}")
    problems, _ = broken_build(site(), fact(text))
    assert problems == [f"{FACT}:2: unknown field 'until' in when",
                        f"{FACT}:2: when: missing required field 'to'"]


@pytest.mark.parametrize("typo, message", [
    ("wehn: 2017-06", "unknown field 'wehn' in fact (did you mean 'when'?)"),
    ("sorces: []", "unknown field 'sorces' in fact (did you mean 'sources'?)"),
    ("colour: red", "unknown field 'colour' in fact"),
])
def test_unknown_keys_with_did_you_mean(site, typo, message):
    problems, _ = broken_build(site(), fact(GOOD_FACT + f"{typo}\n"))
    assert problems == [f"{FACT}:11: {message}"]


def test_unknown_nested_key_and_choice(site):
    text = GOOD_FACT.replace("aggregation: period", "agregation: period\n  approx: about-so")
    problems, _ = broken_build(site(), fact(text))
    assert problems == [
        f"{FACT}:5: measure: missing required field 'aggregation'",
        f"{FACT}:7: unknown field 'agregation' in measure (did you mean 'aggregation'?)",
        f"{FACT}:8: approx: 'about-so' is not one of exact, about, at-least, at-most (did you mean 'about'?)",
    ]


@pytest.mark.parametrize("old, new, line, message", [
    ("claim: 100 weapons were released in June 2017.", "claim: [a, b]", 1,
     "claim: expected a single value, found a list"),
    ("operations: [op-b]", "operations: op-b", 3, "operations: expected a list, like [a, b]"),
    ("operations: [op-b]", "operations: {op: b}", 3, "operations: expected a list, like [a, b]"),
    ("when: 2017-06", "when: [2017]", 2, "when: expected a single value, found a list"),
])
def test_wrong_types(site, old, new, line, message):
    text = GOOD_FACT.replace(old, new)
    problems, _ = broken_build(site(), fact(text))
    assert problems == [f"{FACT}:{line}: {message}"]


def test_measure_written_as_a_number(site):
    text = GOOD_FACT.replace("measure:\n  metric: weapons-released\n  value: 100\n  aggregation: period\n",
                             "measure: 100\n")
    problems, _ = broken_build(site(), fact(text))
    assert problems == [f"{FACT}:4: measure: expected a mapping of fields (key: value)"]


def test_missing_required_fields(site):
    problems, _ = broken_build(site(), fact("when: 2017-06\nmeasure:\n  value: 3\n  aggregation: period\n"))
    assert problems == [
        f"{FACT}:1: fact: missing required field 'claim'",
        f"{FACT}:1: fact: missing required field 'sources'",
        f"{FACT}:3: measure: missing required field 'metric'",
    ]


def test_missing_required_fields_in_every_kind_of_file(site):
    problems, _ = broken_build(site(), {
        "content/site.yaml": "title: T\n",
        "content/sources/src-2.yaml": "publisher: Someone\n",
        "content/operations/op-c.yaml": "where: Sea\n",
        "content/articles/a.md": "---\ntitle: An article\n---\nBody.\n",
    })
    assert problems == [
        "content/articles/a.md:2: article front matter: missing required field 'date'",
        "content/operations/op-c.yaml:1: operation: missing required field 'name'",
        "content/site.yaml:1: site.yaml: missing required field 'base_url'",
        "content/site.yaml:1: site.yaml: missing required field 'description'",
        "content/site.yaml:1: site.yaml: missing required field 'language'",
        "content/site.yaml:1: site.yaml: missing required field 'licence'",
        "content/sources/src-2.yaml:1: source: missing required field 'kind'",
        "content/sources/src-2.yaml:1: source: missing required field 'title'",
    ]


def test_references_that_do_not_exist(site):
    text = GOOD_FACT.replace("[op-b]", "[op-b, op-z]").replace("metric: weapons-released", "metric: weapons-releesed")
    text = text.replace("source: src-1", "source: src-2")
    problems, _ = broken_build(site(), {
        FACT: text,
        "content/operations/op-b.yaml": "name: Operation B\nparent: op-q\n",
        "content/articles/a.md": "---\ntitle: T\ndate: 2020-01-01\noperations: [op-x]\n---\n\nSee [[fact:f-junee]].\n",
    })
    assert problems == [
        "content/articles/a.md:4: unknown operation 'op-x' (did you mean 'op-b'?)",
        "content/articles/a.md:7: unknown fact 'f-junee' (did you mean 'f-june'?)",
        f"{FACT}:3: unknown operation 'op-z' (did you mean 'op-b'?)",
        f"{FACT}:5: unknown metric 'weapons-releesed' (did you mean 'weapons-released'?)",
        f"{FACT}:9: unknown source 'src-2' (did you mean 'src-1'?)",
        "content/operations/op-b.yaml:2: unknown operation 'op-q' (did you mean 'op-a'?)",
    ]


def test_same_id_twice_in_two_subfolders(site):
    problems, _ = broken_build(site(), {"content/facts/2016/f-june.yaml": GOOD_FACT})
    assert problems == [
        "content/facts/2017/f-june.yaml:1: fact id 'f-june' is already used: "
        "that is the id written at content/facts/2016/f-june.yaml:1",
    ]


def test_ids_differing_only_in_case(site):
    problems, _ = broken_build(site(), {"content/facts/2016/F-June.yaml": GOOD_FACT})
    assert problems == [
        "content/facts/2016/F-June.yaml:1: file name 'F-June' is not a valid id; "
        "use lower-case letters, digits and single hyphens",
        "content/facts/2017/f-june.yaml:1: file name 'f-june' differs only in case from "
        "content/facts/2016/F-June.yaml; ids must differ in more than case",
    ]


def test_alias_clashing_with_an_id(site):
    other = GOOD_FACT.replace("when: 2017-06", "when: 2017-05") + "aliases: [f-june]\n"
    problems, _ = broken_build(site(), {"content/facts/2016/other.yaml": other})
    assert problems == [
        "content/facts/2017/f-june.yaml:1: fact id 'f-june' is already used: "
        "that is the alias written at content/facts/2016/other.yaml:11",
    ]


def test_alias_clashing_with_another_alias(site):
    one = GOOD_FACT + "aliases: [old-name]\n"
    problems, _ = broken_build(site(), {"content/facts/2016/other.yaml": one, FACT: one})
    assert problems == [
        "content/facts/2017/f-june.yaml:11: fact alias 'old-name' is already used: "
        "that is the alias written at content/facts/2016/other.yaml:11",
    ]


@pytest.mark.parametrize("where, line, message", [
    ("content/facts/2017/a_b.yaml", 1, "file name 'a_b' is not a valid id; use lower-case letters, digits and single hyphens"),
    ("content/facts/2017/été.yaml", 1, "file name 'été' is not a valid id; use lower-case letters, digits and single hyphens"),
    ("content/facts/2017/a--b.yaml", 1, "file name 'a--b' is not a valid id; use lower-case letters, digits and single hyphens"),
    ("content/sources/My Source.yaml", 1, "file name 'My Source' is not a valid id; use lower-case letters, digits and single hyphens"),
])
def test_ids_outside_the_alphabet(site, where, line, message):
    text = GOOD_FACT if "facts" in where else "title: T\nkind: report\n"
    problems, _ = broken_build(site(), {where: text})
    assert problems == [f"{where}:{line}: {message}"]


def test_id_fields_outside_the_alphabet(site):
    text = GOOD_FACT.replace("[op-b]", "[Op_B]") + "aliases: [OldName]\n"
    problems, _ = broken_build(site(), fact(text))
    assert problems == [
        f"{FACT}:3: operations[1]: 'Op_B' is not a valid id; use lower-case letters, digits and single hyphens",
        f"{FACT}:11: aliases[1]: 'OldName' is not a valid id; use lower-case letters, digits and single hyphens",
    ]


def test_not_utf8_names_the_line_of_the_bad_byte(site):
    data = "claim: Caf\u00e9\nwhen: 2017-06\nsources:\n  - source: src-1\n    quote: caf".encode("utf-8") + b"\xe9\n"
    problems, _ = broken_build(site(), {FACT: data})
    assert problems == [f"{FACT}:5: not UTF-8: byte 0xe9 cannot be read; save the file as UTF-8"]


def test_utf16_file_is_refused(site):
    problems, _ = broken_build(site(), {FACT: "claim: x\n".encode("utf-16")})
    assert problems == [f"{FACT}:1: not UTF-8: byte 0xff cannot be read; save the file as UTF-8"]


def test_oversized_file_refused_before_parsing(site):
    # Not even valid YAML: were it parsed, the message would be a syntax error.
    big = b"claim: [" + b"x" * (256 * 1024)
    problems, _ = broken_build(site(), {FACT: big})
    assert problems == [f"{FACT}:1: file is over the limit of 262,144 bytes and was not read: split it up"]


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_deep_nesting_refused_without_a_crash(site, opening):
    problems, _ = broken_build(site(), fact("claim: x\nplaces: " + opening * 10_000 + "\n"))
    assert problems == [f"{FACT}:2: nested more than 16 levels deep"]


def test_deep_block_nesting_refused(site):
    block = "".join(" " * (2 * depth) + "- \n" for depth in range(40))
    problems, _ = broken_build(site(), fact("claim: x\nplaces:\n" + block))
    assert problems == [f"{FACT}:18: nested more than 16 levels deep"]


def test_deepest_nesting_the_size_limit_allows(site):
    problems, _ = broken_build(site(), fact("claim: " + "[" * 200_000 + "\n"))
    assert problems == [f"{FACT}:1: nested more than 16 levels deep"]


def test_every_problem_reported_at_once(site):
    problems, run = broken_build(site(), {
        "content/facts/2017/a.yaml": "claim: [broken\n",
        "content/facts/2017/b.yaml": GOOD_FACT.replace("when: 2017-06", "when: 2017-13"),
        "content/facts/2017/c.yaml": GOOD_FACT + "colour: red\n",
        "content/operations/op-b.yaml": "name: B\nparent: op-nowhere\n",
        "content/sources/src-1.yaml": "title: A report\nkind: report\ntitle: again\n",
    })
    assert problems == [
        "content/facts/2017/a.yaml:1: YAML syntax: the '[' at column 8 is never closed: add the ']' where the "
        "list ends (the YAML stops reading at line 2)",
        "content/facts/2017/b.yaml:2: when: '2017-13' has no month 13",
        "content/facts/2017/c.yaml:11: unknown field 'colour' in fact",
        "content/operations/op-b.yaml:2: unknown operation 'op-nowhere'",
        "content/sources/src-1.yaml:3: duplicate key 'title' (first written at line 1)",
    ]
    assert "5 error(s), 0 warning(s)" in run.err


def test_first_build_that_fails_creates_no_output(site):
    root = site(fact("claim: [\n"))
    run = annals(root)
    assert run.code == 1
    assert not (root / "_site").exists()


def test_check_and_build_through_a_real_subprocess(site):
    root = site({
        FACT: "claim: x\nclaim: y\nwhen: 2017-02-30\n",
        "content/facts/2017/deep.yaml": "claim: " + "[" * 10_000 + "\n",
        "content/facts/2017/bytes.yaml": b"claim: \xff\n",
    })
    for command in (["check"], []):
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), *command],
                              capture_output=True, text=True, cwd=root, timeout=60)
        assert done.returncode == 1
        assert "Traceback" not in done.stdout + done.stderr
        lines = done.stderr.splitlines()
        assert lines[:5] == [
            "content/facts/2017/bytes.yaml:1: not UTF-8: byte 0xff cannot be read; save the file as UTF-8",
            "content/facts/2017/deep.yaml:1: nested more than 16 levels deep",
            f"{FACT}:1: fact: missing required field 'sources'",
            f"{FACT}:2: duplicate key 'claim' (first written at line 1)",
            f"{FACT}:3: when: '2017-02-30' is not a date: February 2017 has 28 days",
        ]
        assert lines[5] == "5 error(s), 0 warning(s)"


def test_a_number_with_more_digits_than_a_figure_keeps_is_refused(site):
    problems, _ = broken_build(site(), fact(GOOD_FACT.replace("value: 100", "value: 1" + "0" * 320)))
    assert problems == [f"{FACT}:6: value: '1{'0' * 320}' has more than 15 digits, more than a figure "
                        "can keep exactly in charts and data files"]


def test_a_tiny_decimal_is_printed_in_plain_digits(site):
    root = site(fact(GOOD_FACT.replace("value: 100", "value: 0.0000000000002")))
    run = annals(root)
    assert run.code == 0, run.err
    assert "0.0000000000002" in (root / "_site/facts/f-june/index.html").read_text()


@pytest.mark.parametrize("char", ["\x1f", "\x07", "\x00", "\x7f"])
def test_control_characters_are_refused_with_their_line(site, char):
    article = f"---\ntitle: A\ndate: 2017-07-01\n---\nFirst line.\nSecond {char} line.\n"
    problems, _ = broken_build(site(), {"content/articles/a.md": article})
    assert problems == [f"content/articles/a.md:6: contains the control character U+{ord(char):04X}; "
                        "is this a text file? Only tabs and line breaks may stand between the words"]


def test_a_link_from_the_servers_root_in_content_is_refused(site):
    notes = GOOD_FACT + 'notes: "See [June](/facts/f-june/)."\n'
    problems, _ = broken_build(site(), fact(notes))
    assert len(problems) == 1 and problems[0].startswith(f"{FACT}:")
    assert "link to '/facts/f-june/' starts from the server's root" in problems[0]


def test_a_range_over_every_year_the_format_allows_builds_in_seconds(site):
    # A historian's archive may reach back to year 1, so no year is refused; nothing may
    # take time in proportion to a range's months (this one has 119,988 of them).
    text = GOOD_FACT.replace("when: 2017-06", "when: {from: 0001, to: 9999-12-31}")
    root = site({"content/facts/f-always.yaml": text.replace("value: 100", "value: 5"), FACT: GOOD_FACT})
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "-j", "1", "--quiet"],
                          capture_output=True, text=True, cwd=root, timeout=90)
    assert done.returncode == 0, done.stderr
    page = (root / "_site/facts/f-always/index.html").read_text()
    assert "1 – 31 December 9999" in page


def test_a_link_to_nowhere_in_content_is_a_located_problem(site):
    def link(root):
        (root / "content/facts/undated").mkdir(parents=True)
        (root / "content/facts/undated/x.yaml").symlink_to("nowhere")
    problems, _ = broken_build(site(), {}, link)
    assert problems == ["content/facts/undated/x.yaml:1: is a symbolic link to 'nowhere', which does not exist: "
                        "remove the link or restore what it pointed to"]


def test_a_content_file_the_system_will_not_give_is_a_located_problem(site):
    def link(root):  # a link to itself: reading it fails with an OSError of its own
        (root / "content/facts/loop.yaml").symlink_to("loop.yaml")
    problems, _ = broken_build(site(), {}, link)
    assert problems == ["content/facts/loop.yaml:1: is a symbolic link to 'loop.yaml', which leads round in a loop "
                        "of links: point it at a file or a folder, or remove it"]


def test_problems_about_a_whole_file_name_its_first_line(site):
    problems, _ = broken_build(site(), {"content/facts/notes.txt": "jotted\n", "content/site.yaml": None})
    assert problems == [
        "content/facts/notes.txt:1: is not read: not a content file (expected site.yaml, metrics.yaml, redirects.yaml, "
        "operations/<id>.yaml, sources/<id>.yaml, facts/**/<id>.yaml, articles/<slug>.md or withdrawn/<id>.yaml)",
        "content/site.yaml:1: missing: every archive needs a site.yaml",
    ]


def test_no_content_folder_names_the_folder(tmp_path):
    run = annals(tmp_path, "check")
    assert run.code == 1 and "Traceback" not in run.err
    assert run.problems[0] == (f"content/: missing: there is no content/ folder in {tmp_path}; "
                               "run Annals in the project folder, or give it with --root")


def template_build(root: Path, name: str, old: str, new: str) -> tuple[list[str], int]:
    """Build good, edit templates/<name>, build again: the problems printed, after checking nothing changed,
    and the line the edit is on.

    `check` renders nothing, so only a build finds a template's problems."""
    good = annals(root)
    assert good.code == 0, good.err
    before = snapshot(root / "_site")
    path = root / "templates" / name
    text = path.read_text()
    assert old in text
    line = text[:text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    run = annals(root)
    assert run.code == 1, run.out + run.err
    assert "Traceback" not in run.out + run.err
    assert snapshot(root / "_site") == before, "a failed build changed the last good site"
    assert run.err.rstrip().endswith(f"{root / '_site'} is as it was")
    path.write_text(text)
    assert annals(root).code == 0  # fixed, it builds again
    return run.problems, line


@pytest.mark.parametrize("name, old, new, message", [
    ("fact.html", "<h1>{{ fact.claim }}</h1>", "<h1>{{ fact.claim }}{{ no_such_thing }}</h1>",
     "while rendering /facts/f-june/: UndefinedError: 'no_such_thing' is undefined"),
    ("fact.html", "<h1>{{ fact.claim }}</h1>", "<h1>{{ fact.claime }}</h1>",
     "while rendering /facts/f-june/: UndefinedError: 'annals.model.Fact object' has no attribute 'claime'"),
    ("base.html", "<title>{% block title %}", "<title>{{ site.titel }}{% block title %}",
     "while rendering /: UndefinedError: 'annals.model.Site object' has no attribute 'titel'"),
])
def test_an_undefined_variable_in_a_template_fails_the_build_at_its_line(site, name, old, new, message):
    problems, line = template_build(site(), name, old, new)
    assert problems == [f"templates/{name}:{line}: {message}"]


def test_a_template_syntax_error_fails_the_build_at_its_line(site):
    problems, line = template_build(site(), "fact.html", "{% if fact.rank == 'deprecated' %}", "{% if %}")
    assert problems == [f"templates/fact.html:{line}: template syntax: Expected an expression, got 'end of statement block'"]


def test_a_missing_template_is_named_where_it_is_asked_for(site):
    problems, line = template_build(site(), "fact.html", "<h1>{{ fact.claim }}</h1>", '{% include "nowhere.html" %}')
    assert problems == [f"templates/fact.html:{line}: template not found: nowhere.html"]


# -- every problem at once, also several in one file and across the stages ------------------

def test_every_problem_in_one_file_at_once(site):
    text = (GOOD_FACT.replace("when: 2017-06", "when: 2017-13").replace("[op-b]", "[nope-op]")
            .replace("source: src-1", "source: nope-src"))
    problems, _ = broken_build(site(), fact(text))
    assert problems == [
        f"{FACT}:2: when: '2017-13' has no month 13",
        f"{FACT}:3: unknown operation 'nope-op'",
        f"{FACT}:9: unknown source 'nope-src'",
    ]


def test_an_unknown_field_hides_no_reference_of_its_record(site):
    text = (GOOD_FACT.replace("metric: weapons-released", "metric: bombs").replace("source: src-1", "source: src-9")
            + "foo: 1\n")
    problems, _ = broken_build(site(), fact(text))
    assert problems == [
        f"{FACT}:5: unknown metric 'bombs'",
        f"{FACT}:9: unknown source 'src-9' (did you mean 'src-1'?)",
        f"{FACT}:11: unknown field 'foo' in fact",
    ]


def test_an_invalid_alias_hides_no_clash_of_the_others(site):
    problems, _ = broken_build(site(), fact(GOOD_FACT + "aliases: [f-event, Old-ID]\n"))
    assert problems == [
        f"{FACT}:11: aliases[2]: 'Old-ID' is not a valid id; use lower-case letters, digits and single hyphens",
        f"{FACT}:11: fact alias 'f-event' is already used: that is the id written at content/facts/2017/f-event.yaml:1",
    ]


def test_a_broken_file_still_clashes_by_its_id(site):
    problems, _ = broken_build(site(), {"content/facts/2016/f-june.yaml": GOOD_FACT + "colour: red\n"})
    assert problems == [
        "content/facts/2016/f-june.yaml:11: unknown field 'colour' in fact",
        f"{FACT}:1: fact id 'f-june' is already used: that is the id written at content/facts/2016/f-june.yaml:1",
    ]


@pytest.mark.parametrize("front, message", [
    ("titel: A\ndate: 2017-07-01\n", "2: unknown field 'titel' in article front matter (did you mean 'title'?)"),
    ("title: [A\ndate: 2017-07-01\n", "2: YAML syntax: the '[' at column 8 is never closed: add the ']' where "
                                      "the list ends (the YAML stops reading at line 3)"),
])
def test_an_article_with_broken_front_matter_still_has_its_citations_checked(site, front, message):
    article = f"---\n{front}---\nSee [[fact:nope]] and [[fact:f-june]].\n"
    problems, _ = broken_build(site(), {"content/articles/a.md": article})
    assert f"content/articles/a.md:{message}" in problems
    assert "content/articles/a.md:5: unknown fact 'nope'" in problems
    assert len(problems) == 2 + front.startswith("titel")  # and title: missing


def test_references_to_a_broken_record_are_not_reported_again(site):
    # One mistake, one message: what names a broken operation, metric, source or an old id
    # of a broken fact is not "unknown" too.
    problems, _ = broken_build(site(), {
        "content/operations/op-b.yaml": "name: Operation B\nparent: op-a\ncolour: red\n",
        "content/sources/src-1.yaml": "title: A report\n",
        "content/metrics.yaml": "weapons-released:\n  label: Weapons released\n  unit: weapons\n",
        "content/facts/2017/f-event.yaml": "claim: Something happened.\nwhen: 2017-07-09\naliases: [f-old]\n",
        "content/articles/a.md": "---\ntitle: A\ndate: 2017-07-01\n---\nSee [[fact:f-old]].\n",
    })
    assert problems == [
        "content/facts/2017/f-event.yaml:1: fact: missing required field 'sources'",
        "content/metrics.yaml:2: metric 'weapons-released': missing required field 'description'",
        "content/operations/op-b.yaml:3: unknown field 'colour' in operation",
        "content/sources/src-1.yaml:1: source: missing required field 'kind'",
    ]


def test_a_broken_record_never_reaches_the_site(site):
    from annals.pages import plan
    from annals.pipeline import Options, read_archive
    from annals.problems import Problems
    root = site({FACT: GOOD_FACT + "colour: red\n"})
    problems = Problems()
    archive, index = read_archive(Options(root=root, out=root / "_site"), problems)
    assert "f-june" not in archive.facts and [b.id for b in archive.broken] == ["f-june"]
    paths = {p.path for p in plan(index, problems)}
    assert "facts/f-event/" in paths and "facts/f-june/" not in paths and "timeline/2017/06/" not in paths


def test_problems_of_every_stage_at_once(site):
    """A load error, a validation error, a dropped permalink, two pages on one path and a number check."""
    root = site({"content/facts/2017/f-july.yaml": GOOD_FACT.replace("2017-06", "2017-07").replace("100", "40"),
                 "content/facts/2017/f-summer.yaml": GOOD_FACT.replace("when: 2017-06", "when: {from: 2017-06, to: 2017-07}")
                 .replace("100", "90")})
    files = {
        "content/facts/2017/f-new-name.yaml": (root / "content/facts/2017/f-event.yaml").read_text(),
        "content/facts/2017/f-event.yaml": None,                       # renamed, no alias: a dropped permalink
        "content/withdrawn/f-july.yaml": "withdrawn: 2018\nreason: Twice.\n",   # a second page on /facts/f-july/
        "content/sources/src-2.yaml": "title: B\nkind: reprot\n",      # a load error
        "content/operations/op-a.yaml": "name: Operation A\nparent: op-q\n",   # a validation error
    }
    problems, run = broken_build(root, files)
    line = next(i for i, l in enumerate((root / "permalinks.txt").read_text().splitlines(), 1) if l == "/facts/f-event/")
    assert problems[0] == ("content/facts/2017/f-summer.yaml:1: warning: sum does not add up: June 2017 – July 2017 "
                           "states 90 but its months give 100 (f-june) + 40 (f-july) = 140")
    assert problems[1:3] == [
        "content/operations/op-a.yaml:2: unknown operation 'op-q' (did you mean 'op-b'?)",
        "content/sources/src-2.yaml:2: kind: 'reprot' is not one of news-article, press-release, report, dataset, "
        "statement, social-media, web-page, book, other (did you mean 'report'?)",
    ]
    assert problems[3] == ("content/withdrawn/f-july.yaml:1: /facts/f-july/ would be written twice: "
                           "by this withdrawn and by content/facts/2017/f-july.yaml")
    assert problems[4].startswith(f"permalinks.txt:{line}: /facts/f-event/ was published, but")
    assert len(problems) == 5


RENAMED = "content/facts/2017/june-weapons.yaml"


@pytest.mark.parametrize("files", [
    {FACT: GOOD_FACT + "colour: red\n"},                           # its page and its month stay claimed
    {FACT: GOOD_FACT.replace("when: 2017-06", "when: 2017-13")},  # its month is not known: any may be its
    {FACT: "claim: [broken\n"},                                    # nothing of it reads
    {FACT: None, RENAMED: GOOD_FACT + "aliases: [f-june]\ncolour: red\n"},  # renamed with an alias, and broken
    {FACT: None, RENAMED: GOOD_FACT + "aliases: f-june\n"},        # its aliases are not known
    {FACT: None, RENAMED: "claim: [\naliases: [f-june]\n"},        # nor here
    {"content/operations/op-b.yaml": "name: [B\n"},
    {"content/sources/src-1.yaml": "title: A report\nkind: nope\n"},
    {"content/articles/a.md": "---\ntitle: A\ndate: 2017-07-01\n---\nA.\n"},
    {"content/metrics.yaml": "weapons-released: [\n"},
    {"content/metrics.yaml": "weapons-released:\n  label: Weapons\n"},
])
def test_an_address_a_broken_file_still_claims_is_not_reported_dropped(site, files):
    root = site({"content/articles/a.md": "---\ntitle: A\ndate: 2017-07-01\n---\nA.\n"})
    if "content/articles/a.md" in files:
        files = {"content/articles/a.md": "---\ntitle: A\ndate: 2017-07-01\nfoo: 1\n---\nA.\n"}
    problems, _ = broken_build(root, files)
    assert problems and not any("was published" in p for p in problems), problems


def test_a_dropped_address_is_reported_beside_a_broken_file(site):
    root = site()
    event = "content/facts/2017/f-event.yaml"
    problems, _ = broken_build(root, {FACT: GOOD_FACT + "colour: red\n", event: None,
                                      "content/facts/2017/f-renamed.yaml": (root / event).read_text()})
    assert problems[0] == f"{FACT}:11: unknown field 'colour' in fact"
    assert problems[1].startswith("permalinks.txt:") and "/facts/f-event/ was published, but" in problems[1]
    assert len(problems) == 2


def _event(n: int) -> str:
    return (f"claim: Event {n}.\nwhen: 2016-{n % 12 + 1:02d}-01\noperations: [op-b]\n"
            f"sources:\n  - source: src-1\n    quote: \"event {n}\"\n")


def test_an_archive_read_on_two_processes_reports_what_one_process_reports(tmp_path):
    """From load.PARALLEL_FROM files, a second process reads the last part of them (parallel.ReadAhead)."""
    from annals import load as loading
    from annals.problems import Problems

    files = {f"content/facts/2016/e-{n:04d}.yaml": _event(n) for n in range(loading.PARALLEL_FROM)}
    names = sorted(files)
    files[names[0]] = "claim: x\n  when: 2016-01\n"  # read by this process
    files[names[-1]] = "claim: [unclosed\nwhen: 2016-01\n"  # by the other
    files[names[-2]] = _event(7).replace("when: 2016-08-01", "when: 2016-13-01")
    root = make_site(tmp_path, files)
    one, two = annals(root, "-j", "1"), annals(root, "-j", "2")
    assert one.code == two.code == 1
    assert "Traceback" not in one.err + two.err
    assert two.problems == one.problems
    assert any(p.startswith(names[0] + ":2: YAML syntax") for p in two.problems)
    assert any(p.startswith(names[-1] + ":1: YAML syntax") for p in two.problems)
    assert any(p.startswith(names[-2] + ":2: ") for p in two.problems)
    # The records too, as the index gets them: every fact, each with its lines.
    alone, shared = Problems(), Problems()
    assert loading.load(root, shared, workers=2) == loading.load(root, alone)
    assert shared.items == alone.items


def test_files_the_other_process_could_not_send_are_read_by_this_one(tmp_path):
    import os
    import signal

    from annals import load as loading, parallel, records

    files = {f"content/facts/2016/e-{n:04d}.yaml": _event(n) for n in range(2000)}
    root = make_site(tmp_path, files)
    rels, _ = loading.content_files(root)
    ahead = loading._read_ahead(root, rels)
    assert ahead.process.pid != os.getpid()
    while ahead.claims.met > len(rels) - 3 * parallel.CLAIM:
        time.sleep(0.001)  # it has taken files from the end
    # What it read is more than a pipe holds: it cannot have sent it all before it is killed.
    os.kill(ahead.process.pid, signal.SIGKILL)
    assert ahead.process.wait() == -signal.SIGKILL
    mine = list(ahead.front())  # this process takes every file the other did not
    theirs = loading._theirs(ahead, root, None)
    assert 0 < len(theirs) < len(rels) and mine + [rel for rel, _ in theirs] == rels
    assert theirs == [(rel, records.read_file(rel, (root / rel).read_bytes())) for rel in rels[len(mine):]]


def test_two_processes_share_the_files_as_fast_as_each_reads(tmp_path):
    """Each process takes files as it goes (parallel.Claims): one that is held up reads fewer, and the
    two parts still make the whole list, in order."""
    import os
    import signal

    from annals import load as loading, parallel, records

    files = {f"content/facts/2016/e-{n:04d}.yaml": _event(n) for n in range(2000)}
    root = make_site(tmp_path, files)
    rels, _ = loading.content_files(root)
    ahead = loading._read_ahead(root, rels)
    os.kill(ahead.process.pid, signal.SIGSTOP)  # held up: this process reads on alone
    try:
        taken = 0
        for taken, _ in enumerate(ahead.front(), 1):
            pass
    finally:
        os.kill(ahead.process.pid, signal.SIGCONT)
    theirs = loading._theirs(ahead, root, None)
    assert len(theirs) < len(rels) // 4 < len(rels) * 3 // 4 < taken
    assert taken + len(theirs) == len(rels) and [rel for rel, _ in theirs] == rels[taken:]
    assert theirs == [(rel, records.read_file(rel, (root / rel).read_bytes())) for rel in rels[taken:]]


@pytest.mark.parametrize("value", ["https://[example.org/archive/", "https://example.org]:80/archive/"])
def test_a_base_url_the_url_parser_refuses_is_a_located_problem_not_a_traceback(site, value):
    site_yaml = MINIMAL["content/site.yaml"].replace("https://example.org/archive/", value)
    run = annals(site({"content/site.yaml": site_yaml}), "check")
    assert run.code == 1 and "Traceback" not in run.err
    assert run.problems == [f"content/site.yaml:3: base_url: '{value}' is not an http(s) URL"]
    run = annals(site(), "check", "--base-url", value)
    assert run.code == 2 and "Traceback" not in run.err
