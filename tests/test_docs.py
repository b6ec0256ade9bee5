"""The README is tested like code: every field and option is documented, and its examples are valid."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from annals import fields
from annals.cli import _parser
from annals.load import read_file
from conftest import REPO, annals

README = (REPO / "README.md").read_text(encoding="utf-8")


def section(title: str, level: int = 2, text: str = README) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    match = re.search(rf"^{'#' * level} {re.escape(title)}\n(.*?)(?=^#{{1,{level}}} |\Z)", text, re.S | re.M)
    assert match, f"README has no {'#' * level} {title} section"
    return match.group(1)


def code_blocks(text: str) -> list[str]:
    return [textwrap.dedent(block) for block in re.findall(r"^ *```(?:yaml|markdown)\n(.*?)^ *```", text, re.S | re.M)]


REFERENCE = section("Content reference")


@pytest.mark.parametrize("heading", list(fields.ALL))
def test_every_field_is_in_the_reference(heading):
    text = section(heading, 3, REFERENCE)
    examples = "\n".join(code_blocks(text))
    undocumented = [f.name for f in fields.ALL[heading]
                    if not re.search(rf"^\s*(?:- )?{re.escape(f.name)}:", examples, re.M)]
    assert undocumented == [], f"README § {heading}: no example line for {undocumented}"
    lines = examples.splitlines()
    for f in fields.ALL[heading]:
        at = next(i for i, l in enumerate(lines) if re.match(rf"^\s*(?:- )?{re.escape(f.name)}:", l))
        comment = lines[at] + "".join(l for l in lines[at + 1:] if l.lstrip().startswith("#"))
        if f.required:
            assert "required" in comment, f"{heading}: {f.name} is required, and the example should say so"


def test_range_fields_are_documented():
    from annals.schema import RANGE_FIELDS
    assert all(f"{f.name}:" in REFERENCE for f in RANGE_FIELDS)


def test_every_cli_option_and_command_is_in_the_readme():
    documented = section("Commands and options")
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
    examples = {"fact": "/facts/<id>/", "year": "/timeline/<yyyy>/", "month": "/timeline/<yyyy>/<mm>/",
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
    for folder in ("content", "templates", "static"):
        shutil.copytree(REPO / folder, project / folder)
    target = project / "content/facts/2017/2017-06-oir-weapons-released.yaml"
    target.write_text(adding_a_fact_example(), encoding="utf-8")
    run = annals(project, "check", "--strict")
    assert run.code == 0, run.err


def test_adding_a_fact_example_is_the_file_it_names():
    named = re.search(r"This is `(content/facts/[^`]+\.yaml)`", section("Adding a fact")).group(1)
    assert (REPO / named).read_text(encoding="utf-8") == adding_a_fact_example()


def test_readme_commands_are_the_real_ones():
    assert ".venv/bin/python build.py serve" in README and ".venv/bin/python -m pytest -n 2" in README
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
    runtime = section("Dependencies").split("For the tests only")[0]
    assert [name for name in names if f"**{name}**" not in runtime] == []  # each one says why it is there


def test_every_name_a_template_can_use_is_in_the_readme(site):
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
