"""Every committed change to a fact's file is a version with a permanent page: listed on the fact's page,
cited on its own, kept through renames and deletions, guarded by permalinks.txt against a rewritten history,
read from git in one pass; without git's history the rest builds, and says so once."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import REPO, annals, git, make_site, write_files

sys.path.insert(0, str(REPO / "benchmarks"))
import history_repo  # noqa: E402

JUNE = "content/facts/2017/f-june.yaml"


def page(root: Path, path: str):
    return lxml_html.fromstring((root / "_site" / path / "index.html").read_bytes())


def text(doc, xpath: str) -> str:
    return " ".join(" ".join(e.text_content().split()) for e in doc.xpath(xpath))


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


def commit(root: Path, message: str, when: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message, when=when)


@pytest.fixture
def three(tmp_path) -> Path:
    """The small site in git, with f-june committed three times: written, its figure corrected, its claim reworded."""
    root = make_site(tmp_path)
    git(root, "init", "-q")
    commit(root, "First facts", "2026-11-20T10:00:00Z")
    edit(root, JUNE, "100", "110")
    commit(root, "Correct the June figure\n\nThe source says 110.", "2026-11-21T10:00:00Z")
    edit(root, JUNE, "110 weapons were released", "A hundred and ten weapons were released")
    commit(root, "Reword the June claim", "2026-11-22T10:00:00Z")
    return root


def test_a_fact_lists_its_versions_newest_first_each_with_a_page_of_its_own(three):
    run = annals(three)
    assert run.code == 0, run.err
    fact = page(three, "facts/f-june")
    items = fact.xpath("//section[@id='versions']//li")
    assert [" ".join(li.text_content().split()) for li in items] == [
        "Version of 22 November 2026 (what this page shows): claim · Reword the June claim",
        "Version of 21 November 2026: claim, figure, sources · Correct the June figure",
        "Version of 20 November 2026: first version · First facts",
    ]
    assert [li.xpath(".//a/@href")[0] for li in items] == ["v/3/", "v/2/", "v/1/"]
    assert [li.xpath(".//time/@datetime")[0] for li in items] == [
        "2026-11-22T10:00:00Z", "2026-11-21T10:00:00Z", "2026-11-20T10:00:00Z"]

    first = page(three, "facts/f-june/v/1")
    assert first.xpath("//h1")[0].text_content() == "100 weapons were released in June 2017."
    assert text(first, "//dd[@class='figure']") == "100 weapons"
    notice = text(first, "//div[contains(@class, 'notice')]")
    assert notice.startswith("A newer version of this fact exists.")
    assert first.xpath("//div[contains(@class, 'notice')]//a/@href") == ["../3/", "../../", "../2/"]
    assert first.xpath("//link[@rel='canonical']/@href") == ["https://example.org/archive/facts/f-june/v/1/"]
    assert text(first, "//section[@id='cite']/p[@class='citation']") == (
        "Test Archive. “100 weapons were released in June 2017.” Fact for June 2017. Source: A report. "
        "Version of 20 November 2026. https://example.org/archive/facts/f-june/v/1/")
    assert "version = {1}" in text(first, "//details[summary='biblatex']//code")
    assert "Version of 20 November 2026" in first.xpath("//title")[0].text_content()

    newest = page(three, "facts/f-june/v/3")
    assert "A newer version" not in text(newest, "//div[contains(@class, 'notice')]")
    assert text(newest, "//dl//dt[.='What changed']/following-sibling::dd[1]") == \
        "claim (since the version of 21 November 2026)"


def test_the_fact_pages_cite_block_cites_the_current_version_and_the_permalink(three):
    assert annals(three).code == 0
    fact = page(three, "facts/f-june")
    cites = [" ".join(p.text_content().split()) for p in fact.xpath("//section[@id='cite']/p[@class='citation']")]
    assert cites == [
        "Test Archive. “A hundred and ten weapons were released in June 2017.” Fact for June 2017. Source: A report. "
        "Last changed 22 November 2026. https://example.org/archive/facts/f-june/",
        "Test Archive. “A hundred and ten weapons were released in June 2017.” Fact for June 2017. Source: A report. "
        "Version of 22 November 2026. https://example.org/archive/facts/f-june/v/3/",
    ]
    assert fact.xpath("//section[@id='cite']//a/@href") == ["v/3/"]
    # edited and not committed: the page is no version yet, and says so
    edit(three, JUNE, "A hundred and ten", "One hundred and ten")
    assert annals(three).code == 0
    fact = page(three, "facts/f-june")
    assert len(fact.xpath("//section[@id='cite']/p[@class='citation']")) == 1
    assert "changes not committed yet" in text(fact, "//section[@id='versions']")
    assert "(what this page shows)" not in text(fact, "//section[@id='versions']")


def test_version_pages_are_recorded_and_a_locked_build_takes_a_new_one_from_its_commit(three):
    assert annals(three).code == 0
    listed = (three / "permalinks.txt").read_text().splitlines()
    assert {"/facts/f-june/v/1/", "/facts/f-june/v/2/", "/facts/f-june/v/3/", "/facts/f-event/v/1/"} <= set(listed)
    git(three, "add", "permalinks.txt")
    git(three, "commit", "-qm", "Record the URLs", when="2026-11-22T11:00:00Z")
    edit(three, JUNE, "in June 2017.", "in June 2017, says the report.")
    commit(three, "One more version", "2026-11-23T10:00:00Z")
    manifest = (three / "permalinks.txt").read_bytes()
    # as the Pages workflow builds, in a folder of its own: no second commit is asked for v/4
    run = annals(three, "--locked", "--out", str(three / "_ci"))
    assert run.code == 0, run.err
    assert run.problems == []
    assert (three / "_ci/facts/f-june/v/4/index.html").is_file()
    assert (three / "permalinks.txt").read_bytes() == manifest
    assert annals(three, "check").problems == []  # nor does check warn of it
    assert annals(three).code == 0
    assert "/facts/f-june/v/4/" in (three / "permalinks.txt").read_text().splitlines()


def test_a_rewritten_history_that_loses_a_published_version_fails_the_build(three):
    assert annals(three).code == 0
    site = (three / "_site/facts/f-june/v/3/index.html").read_bytes()
    git(three, "reset", "-q", "--soft", "HEAD~2")
    git(three, "commit", "-qm", "Squashed", when="2026-11-23T10:00:00Z")
    run = annals(three)
    assert run.code == 1
    line = (three / "permalinks.txt").read_text().splitlines().index("/facts/f-june/v/3/") + 1
    assert run.problems == [
        f"permalinks.txt:{line}: /facts/f-june/v/3/ was published, but git's history now holds only 2 versions of "
        "fact 'f-june' (up to /facts/f-june/v/2/): the history was rewritten (commits already published were "
        "amended, squashed or rebased, or the branch was reset), and version 3 is lost. Bring those commits back "
        "(`git reflog` still lists them for a while, and another clone may hold them); if this version must "
        "really go, delete this line in a commit that says why"]
    assert (three / "_site/facts/f-june/v/3/index.html").read_bytes() == site  # nothing written


def test_a_renamed_fact_keeps_its_versions_and_their_addresses(three):
    assert annals(three).code == 0
    git(three, "mv", JUNE, "content/facts/2017/f-june-2017.yaml")
    edit(three, "content/facts/2017/f-june-2017.yaml", "sources:", "aliases: [f-june]\nsources:")
    commit(three, "Rename the June fact", "2026-11-24T10:00:00Z")
    run = annals(three)
    assert run.code == 0, run.err
    fact = page(three, "facts/f-june-2017")
    items = [" ".join(li.text_content().split()) for li in fact.xpath("//section[@id='versions']//li")]
    assert items[0] == ("Version of 24 November 2026 (what this page shows): aliases, its id (the file was renamed "
                        "from f-june) · Rename the June fact")
    assert len(items) == 4
    assert fact.xpath("//section[@id='versions']//li//a/@href") == ["v/1/", "../f-june/v/3/", "../f-june/v/2/",
                                                                    "../f-june/v/1/"]
    old = page(three, "facts/f-june/v/1")  # where it was published, still
    assert old.xpath("//h1")[0].text_content() == "100 weapons were released in June 2017."
    assert "../../../f-june-2017/" in old.xpath("//div[contains(@class, 'notice')]//a/@href")


def test_a_deleted_fact_keeps_its_versions_which_say_it_was_removed(three):
    assert annals(three).code == 0
    git(three, "rm", "-q", JUNE)
    write_files(three, {
        "content/withdrawn/f-june.yaml": "withdrawn: 2026-11-25\nreason: A duplicate.\n",
        # June keeps a fact of its own, and so its pages: a file too unlike the old one to be taken for it renamed
        "content/facts/2017/f-june-event.yaml": "claim: The coalition met in Kuwait.\nwhen: 2017-06-20\n"
                                                "sources:\n  - source: src-1\n    quote: \"met in Kuwait\"\n"})
    commit(three, "Withdraw the June fact", "2026-11-25T10:00:00Z")
    run = annals(three)
    assert run.code == 0, run.err
    for n in (1, 2, 3):
        doc = page(three, f"facts/f-june/v/{n}")
        notice = text(doc, "//div[contains(@class, 'notice')]")
        assert "later removed from the archive, on 25 November 2026 (Withdraw the June fact): why it was withdrawn" \
            in notice, notice
        assert "../../" in doc.xpath("//div[contains(@class, 'notice')]//a/@href")
    assert "withdrawn" in page(three, "facts/f-june").xpath("//article/@class")[0]


def test_a_shallow_clone_says_once_that_versions_are_unavailable_and_builds_the_rest(three, tmp_path):
    assert annals(three).code == 0
    git(three, "add", "permalinks.txt")
    git(three, "commit", "-qm", "Record the URLs", when="2026-11-22T11:00:00Z")
    git(tmp_path, "clone", "-q", "--depth", "1", (three / ".git").as_uri(), "shallow")
    shallow = tmp_path / "shallow"
    run = annals(shallow)
    assert run.code == 0, run.err
    listed = sum("/v/" in line for line in (shallow / "permalinks.txt").read_text().splitlines())
    assert len([p for p in run.problems if "shallow clone" in p]) == 1
    assert run.problems == [f"permalinks.txt:{_first_version_line(shallow)}: warning: {listed} version pages of "
                            "facts listed here are not built: this is a shallow clone (git clone --depth, CI's default "
                            "checkout), whose history is cut off, so no fact lists its versions: fetch the whole "
                            "history (`git fetch --unshallow`; in GitHub Actions, actions/checkout with "
                            "`fetch-depth: 0`)"]
    assert not (shallow / "_site/facts/f-june/v").exists()
    assert "No versions are listed: this is a shallow clone" in text(page(shallow, "facts/f-june"),
                                                                      "//section[@id='versions']")
    # a shallow clone that lists no versions yet says it too, once
    (shallow / "permalinks.txt").unlink()
    said = [p for p in annals(shallow).problems if "shallow clone" in p]
    assert len(said) == 1 and said[0].startswith("content/facts: warning: this is a shallow clone")
    assert [line for line in annals(shallow, "check").out.splitlines() if "shallow clone" in line] == said


def _first_version_line(root: Path) -> int:
    return next(i for i, line in enumerate((root / "permalinks.txt").read_text().splitlines(), 1) if "/v/" in line)


def test_a_plain_copy_of_an_archive_with_versions_says_once_they_are_unavailable(three, tmp_path):
    """A download of the repository (GitHub's zip, say): its permalinks.txt lists versions git cannot show here."""
    assert annals(three).code == 0
    copy = tmp_path / "copy"
    shutil.copytree(three, copy, ignore=shutil.ignore_patterns(".git", "_site", ".annals*"))
    run = annals(copy)
    assert run.code == 0, run.err
    listed = sum("/v/" in line for line in (copy / "permalinks.txt").read_text().splitlines())
    assert listed == 4
    assert run.problems == [f"permalinks.txt:{_first_version_line(copy)}: warning: {listed} version pages of facts "
                            "listed here are not built: there is no git history here (a plain copy, not a git "
                            "checkout, or git is not installed), so no fact lists its versions"]
    assert not (copy / "_site/facts/f-june/v").exists()
    assert (copy / "_site/facts/f-june/index.html").is_file() and (copy / "_site/timeline/2017/06/index.html").is_file()
    assert "No versions are listed: there is no git history here" in text(page(copy, "facts/f-june"),
                                                                          "//section[@id='versions']")
    # --locked, as CI builds, passes too: nothing the manifest lists is dropped for want of history
    assert annals(copy, "--locked", "--out", str(copy / "_ci")).problems == run.problems


def test_a_plain_copy_builds_without_a_word_of_versions_it_never_had(tmp_path):
    root = make_site(tmp_path)
    run = annals(root)
    assert run.code == 0 and run.problems == []
    assert "No versions are listed: there is no git history here" in text(page(root, "facts/f-june"),
                                                                          "//section[@id='versions']")


def test_a_new_commit_renders_the_fact_and_its_versions_again_even_within_the_same_second(three):
    assert annals(three).code == 0
    assert annals(three, "-v").out.splitlines()[-1].startswith("built")  # nothing changed: nothing rendered
    edit(three, JUNE, "in June 2017.", "in June 2017 (revised).")
    assert annals(three).code == 0  # the edit, not committed: no version yet
    commit(three, "Same second as the last", "2026-11-22T10:00:00Z")
    run = annals(three, "-v")
    rendered = {line.removeprefix("rendered ") for line in run.out.splitlines() if line.startswith("rendered /")}
    assert {"/facts/f-june/v/4/", "/facts/f-june/v/3/", "/facts/f-june/"} <= rendered
    assert "/facts/f-event/" not in rendered and "/facts/f-event/v/1/" not in rendered
    assert "(what this page shows)" in text(page(three, "facts/f-june"), "//section[@id='versions']//li[1]")


def test_a_merge_is_one_version_of_the_branch_it_was_merged_into(three):
    git(three, "checkout", "-qb", "side")
    edit(three, JUNE, "in June 2017.", "in June 2017, a first try.")
    commit(three, "Try one", "2026-11-23T10:00:00Z")
    edit(three, JUNE, "a first try", "a second try")
    commit(three, "Try two", "2026-11-23T11:00:00Z")
    git(three, "checkout", "-q", "main")
    write_files(three, {"content/facts/2017/f-july.yaml": (three / JUNE).read_text().replace("June", "July")
                        .replace("2017-06", "2017-07")})
    commit(three, "Add July", "2026-11-23T12:00:00Z")
    git(three, "merge", "-q", "--no-ff", "side", "-m", "Merge the June tries", when="2026-11-24T10:00:00Z")
    assert annals(three).code == 0
    items = [" ".join(li.text_content().split()) for li in page(three, "facts/f-june").xpath(
        "//section[@id='versions']//li")]
    assert len(items) == 4 and items[0].endswith("· Merge the June tries")


def test_every_version_is_read_in_one_pass_of_git(tmp_path):
    """1,000 facts of three versions each: a constant number of git processes, one cat-file for every file."""
    root = tmp_path / "archive"
    history_repo.write(root, 1000, versions=3)
    shims = tmp_path / "bin"
    shims.mkdir()
    calls = tmp_path / "calls"
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout.strip()
    (shims / "git").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec {real} "$@"\n')
    (shims / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "-q"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    made = list((root / "_site/facts").glob("*/v/*/index.html"))
    assert len(made) == 3000
    ran = calls.read_text().splitlines()
    assert len(ran) <= 4, ran
    assert sum("cat-file --batch" in line for line in ran) == 1
    doc = page(root, "facts/f000001")
    assert len(doc.xpath("//section[@id='versions']//li")) == 3
    assert re.search(r"claim, figure", text(doc, "//section[@id='versions']//li[1]"))


def test_a_build_after_a_commit_reads_only_the_versions_it_made(tmp_path):
    """The session keeps every version read, by blob and path: after a commit, git is asked for the files
    that commit made alone, and the site is the one a build from nothing makes."""
    root = tmp_path / "archive"
    recs = history_repo.write(root, 200, versions=3)
    shims = tmp_path / "bin"
    shims.mkdir()
    asked = tmp_path / "asked"
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout.strip()
    (shims / "git").write_text(f'#!/bin/sh\ncase "$*" in *"cat-file --batch"*) tee -a {asked} | {real} "$@";; '
                               f'*) exec {real} "$@";; esac\n')
    (shims / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}

    def build() -> int:
        asked.write_text("")
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "-q"], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return len(asked.read_text().splitlines())

    assert build() >= 600  # every version's file, the first time
    rel = history_repo.synthetic.fact_path(root, recs[7]).relative_to(root).as_posix()
    (root / rel).write_text(re.sub(r"(?m)^claim: .*$", "claim: A fourth wording of this fact.",
                                   (root / rel).read_text()))
    commit(root, "A fourth version of one fact", "2026-12-01T10:00:00Z")
    assert build() == 1  # the one file that commit made
    ident = recs[7].id
    assert len(list((root / f"_site/facts/{ident}/v").glob("*/index.html"))) == 4
    cold = tmp_path / "cold"
    shutil.copytree(root, cold, ignore=shutil.ignore_patterns("_site", ".annals-cache", "._site.annals"))
    shutil.copy(root / "permalinks.txt", cold / "permalinks.txt")
    assert annals(cold).code == 0
    built = {p.relative_to(root / "_site"): p.read_bytes() for p in (root / "_site").rglob("*") if p.is_file()}
    fresh = {p.relative_to(cold / "_site"): p.read_bytes() for p in (cold / "_site").rglob("*") if p.is_file()}
    assert built.keys() == fresh.keys() and [p for p in built if built[p] != fresh[p]] == []
