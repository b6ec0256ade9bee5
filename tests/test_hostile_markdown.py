"""No Markdown text hangs a check or a build: each is rendered in time linear in its length, or refused at
its line. Citations and links are checked in every Markdown field, before anything is rendered.

Every kind of text pathological for Python-Markdown (benchmarks/markdown_bombs.py holds them) is written
into each kind of Markdown field, at the largest size the loader accepts, and a real `build.py` process
checks or builds the site under a generous timeout: a regression fails rather than hangs.
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import markdown_bombs
from annals.records import MAX_MARKDOWN_BYTES, MAX_YAML_BYTES
from annals.markup import Markdown
from conftest import MINIMAL, REPO, make_site

TIMEOUT = 120  # seconds: far more than any of these takes, so that a hang fails
PARSER = "for the Markdown parser"  # in every message that refuses a text as too costly

# Each kind of Markdown field: the file a record of it is written to, the fields before the Markdown
# one, and the Markdown field's name (None: an article's body).
FIELDS = {
    "fact notes": ("content/facts/hostile/{id}.yaml",
                   "claim: A claim.\nsources:\n  - source: src-1\n    quote: \"a quote\"\n", "notes"),
    "operation summary": ("content/operations/{id}.yaml", "name: An operation\n", "summary"),
    "source notes": ("content/sources/{id}.yaml", "title: A source\nkind: report\n", "notes"),
    "withdrawn reason": ("content/withdrawn/{id}.yaml", "withdrawn: 2018-03-02\n", "reason"),
    "article body": ("content/articles/{id}.md", "---\ntitle: An article\ndate: 2020-01-01\n---\n\n", None),
}


def record(kind: str, ident: str, text: str) -> tuple[str, str, int]:
    """(path, file, line of the field) of a record of `kind` whose Markdown field holds `text`."""
    pattern, head, name = FIELDS[kind]
    path = pattern.format(id=ident)
    if name is None:
        return path, head + text + "\n", head.count("\n") + 1
    # A literal block, its indent given: lines of the text may start with spaces.
    body = "".join(f"  {line}\n" if line else "\n" for line in text.split("\n"))
    return path, f"{head}{name}: |2\n{body}", head.count("\n") + 1


def largest(kind: str, make) -> str:
    """The text of `make` at the largest size the loader reads for a file of `kind`."""
    limit = MAX_MARKDOWN_BYTES if kind == "article body" else MAX_YAML_BYTES
    size = limit
    while True:
        text = make(size)
        length = len(record(kind, "x", text)[1].encode("utf-8"))
        if length <= limit:
            return text
        size = min(size - 1, size * limit // length)


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "--quiet", *args],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


def problems(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if re.match(r"\S+:\d+: ", line)]


def hostile_site(tmp_path: Path, kind: str, texts: dict[str, str]) -> tuple[Path, dict[str, tuple[str, int]]]:
    """A small site with one record of `kind` per text: the project, and each text's (path, line)."""
    files, where = {}, {}
    for ident, text in texts.items():
        path, data, line = record(kind, ident, text)
        files[path], where[ident] = data, (path, line)
    return make_site(tmp_path, files), where


def assert_each_rendered_or_refused_at_its_line(done, where: dict[str, tuple[str, int]], kind: str) -> set[str]:
    """Every record's problems are one line saying the text is too costly, at its field's line (in an
    article, a line of its body), or there are none; the ids refused."""
    found = problems(done)
    refused = set()
    for ident, (path, line) in where.items():
        mine = [p for p in found if p.startswith(path + ":")]
        if not mine:
            continue
        refused.add(ident)
        assert len(mine) == 1 and PARSER in mine[0], (ident, mine)
        at = int(mine[0].split(":")[1])
        if kind == "article body":
            assert at >= line, (ident, mine)
        else:
            assert at == line, (ident, mine)
    assert len(found) == len(refused), [p for p in found if not any(p.startswith(where[i][0]) for i in where)]
    assert done.returncode == (1 if refused else 0), done.stderr[-2000:]
    return refused


@pytest.mark.parametrize("kind", list(FIELDS))
def test_every_bomb_at_the_largest_size_is_checked_in_time_and_rendered_or_refused_at_its_line(tmp_path, kind):
    texts = {f"b-{name}": largest(kind, make) for name, make in markdown_bombs.BOMBS.items()}
    if kind == "article body":
        # At a megabyte each, the article kinds the estimate accepts cost seconds each to check; those
        # it refuses, next to nothing. One site of each half keeps this test quick.
        converter = Markdown()
        texts = {i: t for i, t in texts.items() if converter.too_costly(t) is not None}
    root, where = hostile_site(tmp_path, kind, texts)
    done = run(root, "check")
    refused = assert_each_rendered_or_refused_at_its_line(done, where, kind)
    # What no parser would take long on is never refused.
    assert not refused & {"b-backticks", "b-less-than", "b-close-brackets", "b-list-markers"}
    # What was minutes before the estimate is refused.
    assert {"b-link-open", "b-closed-links", "b-star-underscore",
            "b-paragraphs", "b-links-after-text", "b-escapes", "b-setext-headings"} <= refused | (
        set() if kind != "article body" else set(markdown_bombs.BOMBS) - set(texts))


def test_the_article_bombs_accepted_at_a_megabyte_are_checked_in_time(tmp_path):
    converter = Markdown()
    texts = {f"b-{name}": largest("article body", make) for name, make in markdown_bombs.BOMBS.items()}
    texts = {i: t for i, t in texts.items() if converter.too_costly(t) is None}
    assert texts and "b-link-open" not in texts
    root, where = hostile_site(tmp_path, "article body", texts)
    done = run(root, "check")
    assert done.returncode == 0 and not problems(done), done.stderr[-2000:]


# One bomb per kind of field built whole: refused ones fail the build at their line, accepted ones are
# pages.
BUILT = {
    "fact notes": ("link-open", "facts/b-link-open/index.html"),
    "operation summary": ("fact-ref-open", "operations/b-fact-ref-open/index.html"),
    "source notes": ("star-underscore", "sources/b-star-underscore/index.html"),
    "withdrawn reason": ("nested-brackets", "facts/b-nested-brackets/index.html"),
    "article body": ("less-than", "articles/b-less-than/index.html"),  # each one escaped: a page larger than it
}


@pytest.mark.parametrize("kind", list(FIELDS))
def test_a_full_build_of_a_bomb_ends_with_its_page_or_its_line(tmp_path, kind):
    name, page = BUILT[kind]
    text = largest(kind, markdown_bombs.BOMBS[name])
    root, where = hostile_site(tmp_path, kind, {f"b-{name}": text})
    done = run(root)
    refused = assert_each_rendered_or_refused_at_its_line(done, where, kind)
    if refused:
        assert not (root / "_site").exists()
    else:
        html = (root / "_site" / page).read_text(encoding="utf-8")
        assert len(html) > len(text) // 2


# The classes costliest per character, each at the largest size the estimate still accepts (up to 24
# KiB, a long field): they build, and their pages hold what they say.
NEAR = ["closed-links", "links-after-text", "emphasis", "star-underscore", "escapes", "paragraphs",
        "setext-headings", "quote-markers", "mixed"]


def test_texts_just_within_the_budget_build(tmp_path):
    converter = Markdown()
    texts = {}
    for name in NEAR:
        size = markdown_bombs.largest_accepted(markdown_bombs.BOMBS[name], 24 * 1024, converter)
        assert size > 256, name
        texts[f"b-{name}"] = markdown_bombs.BOMBS[name](size)
        if size < 24 * 1024:  # refused from somewhere below twice that: the budget, not the field's length, stopped it
            assert converter.too_costly(markdown_bombs.BOMBS[name](size * 2)) is not None, name
    root, where = hostile_site(tmp_path, "fact notes", texts)
    done = run(root)
    assert done.returncode == 0 and not problems(done), done.stderr[-2000:]
    html = (root / "_site/facts/b-closed-links/index.html").read_text(encoding="utf-8")
    assert html.count('<a href="b"') > 100


# -- citations and links in every Markdown field ------------------------------------------------------

def cited(kind: str, ident: str, lines: list[str]) -> tuple[str, str, int]:
    """A record of `kind` whose Markdown field is `lines`: (path, file, line of the field)."""
    return record(kind, ident, "\n".join(lines))


@pytest.mark.parametrize("kind", list(FIELDS))
def test_every_unknown_fact_cited_in_a_field_is_reported_at_its_line_and_an_old_id_warned(tmp_path, kind):
    lines = ["Read [[fact:f-june]] first,", "then [[fact:no-such-fact]] and", "", "[[fact:f-jnue|a typo]].",
             "The old id [[fact:june-old]] still answers.", "Again [[fact:no-such-fact]]."]
    path, data, line = cited(kind, "x-cites", lines)
    # f-june, known by an old id too
    june = textwrap.dedent(MINIMAL["content/facts/2017/f-june.yaml"]) + "aliases: [june-old]\n"
    root = make_site(tmp_path, {path: data, "content/facts/2017/f-june.yaml": june})
    done = run(root, "check")
    first = line if kind == "article body" else line + 1  # a YAML block's text starts below its field
    assert done.returncode == 1
    assert problems(done) == [
        f"{path}:{first + 1}: unknown fact 'no-such-fact'",
        f"{path}:{first + 3}: unknown fact 'f-jnue' (did you mean 'f-june'?)",
        f"{path}:{first + 4}: warning: [[fact:june-old]] is an old id of 'f-june'; cite the current id",
        f"{path}:{first + 5}: unknown fact 'no-such-fact'",
    ]


def test_thousands_of_unknown_citations_are_each_reported_at_their_line_at_once(tmp_path):
    lines = [f"See [[fact:missing-{n}]] here." for n in range(6000)]
    path, data, line = cited("fact notes", "x-many", lines)
    root = make_site(tmp_path, {path: data})
    done = run(root, "check")
    found = problems(done)
    assert done.returncode == 1 and len(found) == 6000
    assert found[0].startswith(f"{path}:{line + 1}: unknown fact 'missing-0'")
    assert found[-1] == f"{path}:{line + 6000}: unknown fact 'missing-5999'"


@pytest.mark.parametrize("kind", list(FIELDS))
def test_unsafe_links_are_refused_in_every_field_at_their_lines(tmp_path, kind):
    lines = ["A [fine one](https://example.org/),", "a [script](javascript:alert(1)),", "",
             "an ![image](data:image/png;base64,AA)", "and [again](javascript:alert(1))."]
    path, data, line = cited(kind, "x-links", lines)
    root = make_site(tmp_path, {path: data})
    done = run(root, "check")
    first = line if kind == "article body" else line + 1
    refused = "is not allowed and is shown as plain text: links may be http(s), mailto or relative to the site"
    assert done.returncode == 1
    assert problems(done) == [
        f"{path}:{first + 1}: link to 'javascript:alert(1)' {refused}",
        f"{path}:{first + 3}: link to 'data:image/png;base64,AA' {refused}",
        f"{path}:{first + 4}: link to 'javascript:alert(1)' {refused}",
    ]


def test_the_benchmark_prints_each_kinds_worst_case_per_kilobyte_and_the_worst_of_all():
    done = subprocess.run([sys.executable, str(REPO / "benchmarks/markdown_bombs.py"), "--sizes", "2,8",
                           "--only", "link-open,paragraphs,backticks", "--limit", "60"],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    rows = {m.group(1): (float(m.group(2)), m.group(3)) for m in
            re.finditer(r"^\s*(\S+)\s+([\d.]+) ms/KB\s+[\d.]+ ms at once\s*(.*)$", done.stdout, re.M)}
    assert list(rows) == ["link-open", "paragraphs", "backticks", "worst"], done.stdout
    assert rows["worst"][0] == max(per_kb for name, (per_kb, _) in rows.items() if name != "worst") > 0
    assert "refused" in rows["link-open"][1] and "2K: rendered" in rows["backticks"][1]
