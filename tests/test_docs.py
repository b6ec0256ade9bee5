"""The docs are tested like code: every field and option is documented, and the examples are valid.

The README says what Annals is and how to start; docs/guide.md explains it,
with an example of every content file; docs/reference.md is generated from
the fields' and the options' one declaration (annals/reference.py).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from annals import fields, reference
from annals.cli import _parser
from annals.records import read_file
from conftest import REPO, annals

README = (REPO / "README.md").read_text(encoding="utf-8")
GUIDE = (REPO / "docs/guide.md").read_text(encoding="utf-8")
GENERATED = (REPO / "docs/reference.md").read_text(encoding="utf-8")
DOCS = ("README.md", "docs/guide.md", "docs/reference.md", "benchmarks/README.md")


def section(title: str, level: int = 2, text: str = GUIDE) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    match = re.search(rf"^{'#' * level} {re.escape(title)}\n(.*?)(?=^#{{1,{level}}} |\Z)", text, re.S | re.M)
    where = {README: "README.md", GUIDE: "docs/guide.md", GENERATED: "docs/reference.md"}.get(text, "the text")
    assert match, f"{where} has no {'#' * level} {title} section"
    return match.group(1)


def code_blocks(text: str) -> list[str]:
    return [textwrap.dedent(block) for block in re.findall(r"^ *```(?:yaml|markdown)\n(.*?)^ *```", text, re.S | re.M)]


REFERENCE = section("Content reference")  # the guide's: an example of each file


@pytest.mark.parametrize("heading", list(fields.ALL))
def test_every_field_is_in_the_reference(heading):
    text = section(heading, 3, REFERENCE)
    examples = "\n".join(code_blocks(text))
    undocumented = [f.name for f in fields.ALL[heading]
                    if not re.search(rf"^\s*(?:- )?{re.escape(f.name)}:", examples, re.M)]
    assert undocumented == [], f"docs/guide.md § {heading}: no example line for {undocumented}"
    lines = examples.splitlines()
    for f in fields.ALL[heading]:
        at = next(i for i, l in enumerate(lines) if re.match(rf"^\s*(?:- )?{re.escape(f.name)}:", l))
        comment = lines[at] + "".join(l for l in lines[at + 1:] if l.lstrip().startswith("#"))
        if f.required:
            assert "required" in comment, f"{heading}: {f.name} is required, and the example should say so"


def test_the_reference_is_generated_from_the_declarations():
    assert GENERATED == reference.text(), \
        "docs/reference.md is not what annals/fields.py and annals/cli.py declare: " \
        "run `.venv/bin/python -m annals.reference --write` and commit docs/reference.md"
    assert [code for code in (0, 1, 2) if f"| {code} |" not in section("Exit status", text=GENERATED)] == []


def test_the_reference_module_prints_and_writes_the_reference(tmp_path):
    printed = subprocess.run([sys.executable, "-m", "annals.reference"], capture_output=True, text=True,
                             timeout=60, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == GENERATED and not (tmp_path / "docs").exists()
    written = subprocess.run([sys.executable, "-m", "annals.reference", "--write"], capture_output=True,
                             text=True, timeout=60, cwd=tmp_path)
    assert written.returncode == 0 and written.stdout == "", written.stderr
    assert (tmp_path / "docs/reference.md").read_text(encoding="utf-8") == GENERATED


def test_the_readme_is_short_and_leads_into_the_docs():
    assert len(README.splitlines()) < 200
    linked = set(re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)", README))
    assert {"docs/guide.md", "docs/reference.md", "benchmarks/README.md"} <= linked


@pytest.mark.parametrize("doc", DOCS)
def test_every_link_between_the_docs_leads_to_a_file_and_a_heading(doc):
    """A relative link names a file that exists and, after #, a heading of it (GitHub's anchors)."""
    here = (REPO / doc).parent
    text = (REPO / doc).read_text(encoding="utf-8")
    broken = []
    for target, fragment in re.findall(r"\]\((?!https?:|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)", text):
        path = (here / target).resolve() if target else REPO / doc
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif fragment and path.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.M)
            if fragment not in {reference.anchor(h.replace("`", "")) for h in headings}:
                broken.append(f"{target}#{fragment}: no such heading")
    assert broken == [], f"{doc}: {broken}"


def test_range_fields_are_documented():
    from annals.schema import RANGE_FIELDS
    assert all(f"{f.name}:" in REFERENCE for f in RANGE_FIELDS)


def test_every_cli_option_and_command_is_in_the_reference():
    documented = section("Commands and options", text=GENERATED)
    options = [opt for action in _parser()._actions for opt in action.option_strings if opt not in ("-h", "--help")]
    assert options, "the parser has options"
    assert [opt for opt in options if f"`{opt}" not in documented] == []
    commands = next(a.choices for a in _parser()._actions if a.dest == "command")
    assert [c for c in commands if f"`{c}`" not in documented] == []


def test_reference_examples_are_valid_content():
    examples = {
        "content/site.yaml": "content/site.yaml",
        "content/operations/<id>.yaml": "content/operations/mosul-offensive.yaml",
        "content/sources/<id>.yaml": "content/sources/mosul-airstrikes-record-level.yaml",
        "content/facts/**/<id>.yaml": "content/facts/2017/2017-06-oir-weapons-released.yaml",
        "content/metrics.yaml (each metric)": "content/metrics.yaml",
        "content/articles/<slug>.md (front matter)": "content/articles/an-article.md",
    }
    for heading, rel in examples.items():
        (block,) = code_blocks(section(heading, 3, REFERENCE))
        loaded = read_file(rel, block.encode())
        assert loaded.problems == (), (heading, loaded.problems)
        assert loaded.records, heading


def test_redirects_example_is_valid_content():
    from annals.model import Redirect
    (block,) = code_blocks(section("content/redirects.yaml", 3, REFERENCE))
    loaded = read_file("content/redirects.yaml", block.encode())
    assert loaded.problems == ()
    assert [(r.old, r.to) for r in loaded.records] == [
        ("operations/mosul-offensive-2016/", "operations/mosul-offensive/"),
        ("operations/mosul-offensive-2016/facts.json", "operations/mosul-offensive/facts.json"),
        ("timeline/2014/07/", "timeline/2014/08/"),
    ] and all(isinstance(r, Redirect) for r in loaded.records)


def test_the_address_list_names_every_kind_of_address():
    from annals import urls
    listed = section("Permalinks never break").split("permalinks.txt")[0]
    examples = {"fact": "/facts/<id>/", "version": "/facts/<id>/v/<n>/", "year": "/timeline/<yyyy>/", "month": "/timeline/<yyyy>/<mm>/",
                "operation": "/operations/<id>/", "source": "/sources/<id>/", "article": "/articles/<slug>/",
                "metric": "/metrics/<id>/", "month-json": "/timeline/<yyyy>/<mm>/` and its `facts.json",
                "operation-json": "/operations/<id>/` and its `facts.json"}
    fixed = {kind: f"/{path}" for path, kind in urls.fixed_paths().items()}
    missing = [kind for kind in urls.kinds() if f"`{examples.get(kind) or fixed[kind]}`" not in listed]
    assert missing == []


def test_nested_examples_are_valid_inside_a_fact():
    measure = code_blocks(section("measure (in a fact)", 3, REFERENCE))[0]
    cites = code_blocks(section("sources[] (in a fact, operation)", 3, REFERENCE))[0]
    loaded = read_file("content/facts/x.yaml", f"claim: A claim.\nwhen: 2016-11\n{measure}{cites}".encode())
    assert loaded.problems == ()


def adding_a_fact_example() -> str:
    (block,) = code_blocks(section("Adding a fact"))
    return block


def test_adding_a_fact_example_builds_in_the_embedded_archive(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(REPO / "content", project / "content")
    target = project / "content/facts/2017/2017-06-oir-weapons-released.yaml"
    target.write_text(adding_a_fact_example(), encoding="utf-8")
    run = annals(project, "check", "--strict")
    assert run.code == 0, run.err


def test_adding_a_fact_example_is_the_file_it_names():
    named = re.search(r"This is `(content/facts/[^`]+\.yaml)`", section("Adding a fact")).group(1)
    assert (REPO / named).read_text(encoding="utf-8") == adding_a_fact_example()


def test_readme_commands_are_the_real_ones():
    assert ".venv/bin/python build.py serve" in README and ".venv/bin/python -m pytest -n 2" in README
    (commands, *_) = re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M)
    assert "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -n 2" \
        in commands
    ci = (REPO / ".ci/run").read_text()
    assert ".venv/bin/python -m pytest -n 2" in ci


def test_installed_console_script_checks_the_embedded_archive():
    script = Path(sys.executable).parent / "annals"
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from annals.cli import run; run()"]
    done = subprocess.run([*command, "check", "--strict", "--root", str(REPO)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 error(s), 0 warning(s)"
    assert "Traceback" not in done.stderr
    help_ = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    assert help_.returncode == 0 and help_.stdout.startswith("usage: annals")


def test_pyproject_declares_the_console_script():
    import tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["annals"] == "annals.cli:run"
    names = sorted(d.split(">")[0].split("=")[0] for d in project["dependencies"])
    assert names == ["isal", "jinja2", "livereload", "markdown", "pyyaml"]
    runtime = section("Dependencies", text=README).split("For the tests only")[0]
    assert [name for name in names if f"**{name}**" not in runtime] == []  # each one says why it is there


def test_every_name_a_template_can_use_is_in_the_guide(site):
    """The Templates section names everything a template may call, and a page is given all of it."""
    from annals.pages import Page, Reader
    from annals.pipeline import Options, read_archive
    from annals.problems import Problems
    from annals.render import PAGE_NAMES, Renderer
    root = site({"templates/every-name.html": "{% for name in [" + ", ".join(PAGE_NAMES) + "] %}{% endfor %}ok"})
    renderer = Renderer(root)
    ours = set(renderer.env.globals) - set(__import__("jinja2").Environment().globals)
    filters = set(renderer.env.filters) - set(__import__("jinja2").Environment().filters)
    table = section("Templates")
    assert [name for name in (*PAGE_NAMES, *sorted(ours), *sorted(filters)) if f"`{name}" not in table] == []
    _, index = read_archive(Options(root=root, out=root / "_site"), Problems())
    page = Page("search/", "every-name.html", "search")
    assert renderer.render(page, {"site": index.archive.site}, Reader(index)) == b"ok"
