"""Content is data, never code: no script, handler or dangerous URL reaches a page; output stays in its folder."""
from __future__ import annotations

import json
import shutil
import textwrap
import time
from pathlib import Path

import jinja2
import lxml.html
import pytest
from hypothesis import given, settings, strategies as st
from markupsafe import Markup

from annals.markup import Markdown, Resolver
from annals.render import Renderer
from conftest import MINIMAL, REPO, annals

MARK = "PWNED"

# Written into fields that are plain text: they must be shown as text.
TEXT_ATTACKS = [
    f"<script>alert('{MARK}')</script>",
    f'<img src=x onerror="alert(\'{MARK}\')">',
    f'" onclick="alert(\'{MARK}\')" x="',
    f"</title><script>{MARK}</script>",
    f"<a href=\"javascript:alert('{MARK}')\">x</a>",
]

# Written into Markdown fields: raw HTML must come out as text.
MARKDOWN_HTML_ATTACKS = [
    f"<script>alert('{MARK}')</script>",
    f'<div onclick="alert(\'{MARK}\')">block</div>',
    f'Inline <span onmouseover="{MARK}">html</span> and <img src=x onerror={MARK}>.',
    f"<iframe src=\"javascript:{MARK}\"></iframe>",
    f"<svg onload={MARK}></svg>",
]

# Links in Markdown whose URL would run code or carry a document.
MARKDOWN_LINK_ATTACKS = [
    f"[a](javascript:alert('{MARK}'))",
    f"[a](JaVaScRiPt:alert('{MARK}'))",
    f"[a]( javascript:alert('{MARK}'))",
    f"[a](java&#x09;script:alert('{MARK}'))",
    f"[a](javascript&colon;alert('{MARK}'))",
    f"[a](vbscript:{MARK})",
    f"[a](data:text/html;base64,{MARK})",
    f"![i](data:image/svg+xml;base64,{MARK})",
    f"![i](javascript:{MARK})",
    f"[a][r]\n\n[r]: javascript:alert('{MARK}')",
    f"<javascript:alert('{MARK}')>",
]


def assert_inert(html: str, where: str = "") -> None:
    """Parse as a browser would and look for anything that could run."""
    tree = lxml.html.document_fromstring(html) if html.lstrip().lower().startswith(("<!doctype", "<html")) \
        else lxml.html.fragment_fromstring(html, create_parent="div")
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        # The site's own scripts and charts may come from templates; none may come from content.
        assert el.tag not in ("iframe", "object", "embed", "frame", "base"), (where, lxml.html.tostring(el))
        if el.tag == "form":  # only our search boxes, which submit to our own search page
            assert el.get("class") in ("search-box", "search") and el.get("action", "").endswith(("search/", "./")), \
                (where, lxml.html.tostring(el))
        if el.tag == "script" and el.get("type") == "application/ld+json":
            # A data block (a fact's JSON-LD) may hold content's text: browsers never run it,
            # and with every "<" escaped the text cannot close the element early.
            json.loads(el.text)
            assert "<" not in el.text, (where, el.text)
        elif el.tag in ("script", "style"):
            assert MARK not in (el.text or "") and not el.get("src", "").startswith(("http:", "https:", "//")), \
                (where, lxml.html.tostring(el))
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), (where, name, value)
            if name.lower() in ("href", "src", "action", "formaction", "xlink:href", "content"):
                plain = "".join(value.split()).lower()
                assert not plain.startswith(("javascript:", "vbscript:", "data:")), (where, name, value)
                assert "javascript:" not in plain or name == "content", (where, name, value)


@pytest.mark.parametrize("text", MARKDOWN_HTML_ATTACKS + MARKDOWN_LINK_ATTACKS)
def test_markdown_renders_inert(text):
    resolver = Resolver(lambda ident: None)
    html = Markdown().render(text, resolver)
    assert_inert(html, text)


@pytest.mark.parametrize("text", MARKDOWN_LINK_ATTACKS[:-1])  # the last is not a link at all, only text
def test_markdown_reports_every_dangerous_link(text):
    resolver = Resolver(lambda ident: None)
    Markdown().render(text, resolver)
    assert len(resolver.unsafe) == 1, (text, resolver.unsafe)


def test_external_links_get_noopener():
    html = Markdown().render("[a](https://example.org/x) [b](//example.org/y) [c](../facts/x/) [m](mailto:a@b.c)",
                             Resolver(lambda ident: None))
    links = lxml.html.fragment_fromstring(html, create_parent="div").findall(".//a")
    assert [(a.get("href"), a.get("rel")) for a in links] == [
        ("https://example.org/x", "noopener noreferrer"),
        (None, None),  # protocol-relative: from file:// it would ask the local disk; dropped
        ("../facts/x/", None),
        ("mailto:a@b.c", None),
    ]


class _Safe:
    def __init__(self, html: str):
        self.html = html

    def __html__(self) -> str:
        return self.html


# Every way a value reaches a page: written out, through a filter, a macro, a call block, a filter block, a set block.
ESCAPED_EVERY_WAY = """\
{% macro row(x) %}<i>{{ x }}</i>{% endmacro %}
{% macro wrap() %}<b>{{ caller() }}</b>{% endmacro %}
{% set kept %}{{ text }}{% endset %}
{{ text }}|{{ text | upper }}|{{ markup }}|{{ number }}|{{ safe }}|{{ none }}|{{ text ~ markup }}
{{ row(text) }}|{{ row(markup) | upper }}|{% call wrap() %}{{ text }}{% endcall %}
{% filter upper %}{{ text }}{{ markup }}{% endfilter %}|{{ kept }}|{{ kept ~ text }}|{{ [text, markup] | join(text) }}
"""


OURS = Renderer(REPO).env
JINJAS = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                            keep_trailing_newline=True)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("<>&\"'a \u00e9\u2019\n"))), number=st.integers())
def test_a_template_writes_every_value_as_markupsafe_escapes_it(text, number):
    """Annals escapes a template's outputs with a faster function of its own: it must write what Jinja's would."""
    values = dict(text=text, markup=Markup(f"<em>{text}</em>"), number=number, safe=_Safe(f"<s>{text}"), none=None)
    assert OURS.from_string(ESCAPED_EVERY_WAY).render(values) == JINJAS.from_string(ESCAPED_EVERY_WAY).render(values)
    with pytest.raises(jinja2.UndefinedError):
        OURS.from_string("{{ missing }}").render()


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def block(text: str, indent: str = "  ") -> str:
    return "|\n" + "".join(indent + line + "\n" for line in text.splitlines())


def hostile_site(site) -> Path:
    """Every plain text and Markdown field of every kind of file, filled with attacks that are not link errors."""
    text = " ".join(TEXT_ATTACKS)
    md = "\n\n".join(MARKDOWN_HTML_ATTACKS + [f"Template {{{{ 7*7 }}}} and {{% for x in y %}}{MARK}{{% endfor %}}"])
    return site({
        "content/site.yaml": f"""\
            title: {quoted(text)}
            description: {quoted(text)}
            base_url: https://example.org/archive/
            language: en
            licence: {quoted(text)}
            publisher: {quoted(text)}
            """,
        "content/metrics.yaml": f"weapons-released:\n  label: {quoted(text)}\n  unit: {quoted(text)}\n"
                                f"  description: {quoted(text)}\n",
        "content/operations/op-a.yaml": f"name: {quoted(text)}\ntheatre: {quoted(text)}\naliases: [{quoted(text)}]\n"
                                        f"summary: {block(md)}",
        "content/sources/src-1.yaml": f"title: {quoted(text)}\nkind: report\npublisher: {quoted(text)}\n"
                                      f"author: {quoted(text)}\nnotes: {block(md)}",
        "content/facts/2017/f-june.yaml": f"""\
claim: {quoted(text + ' {{ 7*7 }} {% if true %}yes{% endif %}')}
when: 2017-06
operations: [op-b]
places: [{quoted(text)}]
measure:
  metric: weapons-released
  value: 100
  aggregation: period
originator: {quoted(text)}
speaker: {quoted(text)}
speaker_role: {quoted(text)}
sources:
  - source: src-1
    quote: {quoted(text + ' {{ 7*7 }}')}
notes: {block(md + chr(10) + chr(10) + '[ext](https://example.com/page)')}""",
        "content/articles/hostile.md": f"---\ntitle: {quoted(text)}\ndate: 2020-01-01\nsummary: {quoted(text)}\n"
                                      f"authors: [{quoted(text)}]\n---\n{md}\n\nSee [[fact:f-june]] and "
                                      f"[[fact:f-june|{TEXT_ATTACKS[0]}]].\n",
    })


def test_hostile_content_never_reaches_a_page_as_live_html(site):
    root = hostile_site(site)
    run = annals(root)
    assert run.code == 0, run.err
    pages = sorted((root / "_site").rglob("*.html"))
    assert len(pages) > 10
    seen_text = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert_inert(html, str(page))
        seen_text += html.count("&lt;script&gt;")
    assert seen_text > 10  # the attacks are there, as text
    fact = (root / "_site/facts/f-june/index.html").read_text()
    assert "{{ 7*7 }}" in fact and "{% if true %}yes{% endif %}" in fact and "{% for x in y %}" in fact
    assert "49" not in fact
    article = (root / "_site/articles/hostile/index.html").read_text()
    assert "{{ 7*7 }}" in article and "49" not in article


def test_external_link_in_a_page_gets_rel(site):
    root = hostile_site(site)
    assert annals(root).code == 0
    tree = lxml.html.parse(str(root / "_site/facts/f-june/index.html"))
    links = [a for a in tree.iter("a") if a.get("href") == "https://example.com/page"]
    assert len(links) == 1 and links[0].get("rel") == "noopener noreferrer"


def test_data_files_escape_content(site):
    root = hostile_site(site)
    assert annals(root).code == 0
    for path in (root / "_site").rglob("*"):
        if path.suffix in (".xml", ".json"):
            assert "<script>" not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize("field, where, line", [
    ("notes", "content/facts/2017/f-june.yaml", 11),
    ("summary", "content/operations/op-a.yaml", 3),
    ("notes", "content/sources/src-1.yaml", 3),
])
def test_dangerous_links_in_markdown_fields_are_located_errors(site, field, where, line):
    text = textwrap.dedent(MINIMAL[where]) if where in MINIMAL else ""
    text += f"{field}: Read [this](javascript:alert(1)) and ![x](data:image/png;base64,AA).\n"
    root = site({where: text})
    run = annals(root, "check")
    assert run.code == 1
    assert run.problems == [
        f"{where}:{line}: link to 'data:image/png;base64,AA' is not allowed and is shown as plain text: "
        "links may be http(s), mailto or relative to the site",
        f"{where}:{line}: link to 'javascript:alert(1)' is not allowed and is shown as plain text: "
        "links may be http(s), mailto or relative to the site",
    ]


def test_dangerous_links_in_an_article_name_their_line(site):
    root = site({"content/articles/a.md": "---\ntitle: T\ndate: 2020-01-01\n---\n\nFine [x](https://example.org/).\n\n"
                                          "Then [bad](javascript:alert(1)) and [empty]().\n"})
    run = annals(root, "check")
    assert run.code == 1
    assert run.problems == [
        "content/articles/a.md:8: link to 'javascript:alert(1)' is not allowed and is shown as plain text: "
        "links may be http(s), mailto or relative to the site",
        "content/articles/a.md:8: link with an empty address; write the address between the parentheses",
    ]


def test_source_url_must_be_http(site):
    root = site({"content/sources/src-1.yaml": "title: T\nkind: report\nurl: javascript:alert(1)\n"})
    run = annals(root, "check")
    # Facts citing the broken source are not reported again as citing an unknown one.
    assert run.problems == ["content/sources/src-1.yaml:3: url: 'javascript:alert(1)' is not an http(s) URL"]


# -- the output folder ---------------------------------------------------------------

def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(folder.rglob("*")) if ".annals-cache" not in p.parts}


@pytest.mark.parametrize("out, reason", [
    (".", "it holds the project itself"),
    ("..", "it holds the project itself"),
    ("content", "it is inside content/, which holds your sources"),
    ("content/facts", "it is inside content/, which holds your sources"),
    ("templates", "it is inside templates/, which holds your sources"),
    ("static/out", "it is inside static/, which holds your sources"),
])
def test_output_folder_that_holds_the_project_is_refused(site, out, reason):
    root = site()
    before = tree(root.parent)
    run = annals(root, "--out", out)
    assert run.code == 2
    target = (root / out).resolve()
    assert run.err == f"annals: refusing to write the site into {target}: {reason}\n"
    assert tree(root.parent) == before


def test_filesystem_root_is_refused(site):
    root = site()
    run = annals(root, "--out", "/")
    assert run.code == 2
    assert run.err == "annals: refusing to write the site into /: choose a folder of its own, like _site\n"


def test_folder_without_marker_is_refused_and_kept(site, tmp_path):
    root = site()
    other = tmp_path / "precious"
    other.mkdir()
    (other / "thesis.txt").write_text("years of work")
    run = annals(root, "--out", str(other))
    assert run.code == 2
    assert run.err == (f"annals: refusing to write the site into {other}: it has files and no .annals-output marker, "
                       "so Annals did not create it; remove it or choose another folder\n")
    assert [p.name for p in other.iterdir()] == ["thesis.txt"]
    assert (other / "thesis.txt").read_text() == "years of work"


def test_a_file_as_output_is_refused(site, tmp_path):
    root = site()
    target = tmp_path / "file.txt"
    target.write_text("keep")
    run = annals(root, "--out", str(target))
    assert run.code == 2 and "it is a file" in run.err
    assert target.read_text() == "keep"


def test_an_empty_folder_is_accepted_and_marked(site, tmp_path):
    root = site()
    out = tmp_path / "empty"
    out.mkdir()
    assert annals(root, "--out", str(out)).code == 0
    assert (out / ".annals-output").is_file() and (out / "index.html").is_file()
    assert annals(root, "--out", str(out)).code == 0  # its own folder, from now on


def test_nothing_written_outside_the_output_folder(site, tmp_path):
    root = site()
    out = tmp_path / "elsewhere" / "out"
    before = tree(tmp_path)
    assert annals(root, "--out", str(out)).code == 0
    after = tree(tmp_path)
    outside = {k for k in set(before) | set(after) if before.get(k) != after.get(k)
               and k.split("/")[0] != "elsewhere"}
    # The build's own bookkeeping for incremental builds lives in .annals-cache/ (excluded above),
    # and the permalink manifest, which the editor commits, is permalinks.txt beside content/.
    assert outside == {"site/permalinks.txt"}
    assert set(after) - set(before) >= {"elsewhere", "elsewhere/out", "elsewhere/out/index.html"}


# -- the folders a first build makes ahead (write.FoldersAhead) ----------------------

MORE_FACTS = {f"content/facts/{2015 + n % 3}/f-more-{n}.yaml": f"""\
    claim: Fact {n} happened.
    when: {2015 + n % 3}-0{1 + n % 9}
    operations: [op-a]
    sources:
      - source: src-1
        quote: "fact {n}"
    """ for n in range(12)}


def test_a_first_build_on_two_processes_makes_the_same_folders_and_files_as_one_on_one(site, tmp_path):
    root = site(MORE_FACTS)
    assert annals(root, "-j", "2").code == 0
    assert annals(root, "-j", "1", "--out", str(tmp_path / "one")).code == 0
    # Every folder made ahead holds its page: no empty folder, nothing more, nothing less.
    assert tree(root / "_site") == tree(tmp_path / "one")


def test_a_spare_left_beside_a_deleted_output_is_no_part_of_the_next_first_build(site, tmp_path):
    """The output deleted since the last build, its spare stays beside it: the next build puts it
    aside and its folders-ahead process removes it, once the folders are made."""
    root = site({**MORE_FACTS, "static/extra.txt": "a file of the first site alone"})
    assert annals(root, "-j", "2").code == 0
    (root / "static/extra.txt").unlink()
    assert annals(root, "-j", "2").code == 0  # the spare now holds the first site, extra.txt with it
    spare = root / "._site.annals/spare"
    assert (spare / "static/extra.txt").is_file()
    shutil.rmtree(root / "_site")
    assert annals(root, "-j", "2").code == 0
    assert not (root / "_site/static/extra.txt").exists()
    assert not [p.name for p in spare.parent.iterdir() if ".discarded-" in p.name]
    assert annals(root, "-j", "1", "--out", str(tmp_path / "one")).code == 0
    assert tree(root / "_site") == tree(tmp_path / "one")


def test_a_first_build_that_fails_leaves_no_folder_made_ahead(site):
    root = site({**MORE_FACTS, "content/facts/2017/f-broken.yaml": "claim: [\n"})
    run = annals(root, "-j", "2")
    assert run.code == 1 and "content/facts/2017/f-broken.yaml:" in run.err
    assert not (root / "_site").exists()


def test_folders_made_ahead_are_removed_whole_when_the_build_fails_while_they_are_made(tmp_path):
    from annals.write import FoldersAhead

    out = tmp_path / "_site"

    def slowly():
        for n in range(100_000):
            time.sleep(0.0005)
            yield f"facts/f-{n}"

    ahead = FoldersAhead(out)
    assert ahead.makes_folders and out.is_dir()
    time.sleep(0.05)
    assert not (out / "facts").exists()  # not before the archive is read
    ahead.start(slowly)
    for _ in range(2000):  # until the other process is making them
        if (out / "facts").exists():
            break
        time.sleep(0.01)
    assert (out / "facts").is_dir()
    ahead.done(failed=True)
    assert not out.exists()


def test_no_folder_is_made_ahead_in_a_folder_that_is_there_or_is_refused(site, tmp_path):
    from annals.write import FoldersAhead

    there = tmp_path / "there"
    there.mkdir()
    ahead = FoldersAhead(there)
    ahead.start(lambda: ["facts/f-x"])
    assert not ahead.makes_folders
    ahead.done(failed=True)
    assert there.is_dir() and not any(there.iterdir())
    root = site(MORE_FACTS)
    before = tree(root.parent)
    run = annals(root, "-j", "2", "--out", "content/out")
    assert run.code == 2 and "it is inside content/" in run.err
    assert tree(root.parent) == before
