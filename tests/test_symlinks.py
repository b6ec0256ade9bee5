"""Symbolic links in content/, templates/ and static/: followed inside the project, refused at line 1 otherwise.

Every link here is real, made in a temporary project. A link that leads out of
the project, to `/`, round in a loop, to a folder that holds it, or nowhere is
a located problem, and nothing it leads to is read or published.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from annals import load as loading
from annals.problems import Problems
from conftest import MINIMAL, REPO, annals, make_site, write_files

FACT = "content/facts/2017/f-june.yaml"
OTHER_FACT = textwrap.dedent(MINIMAL[FACT]).replace("100 weapons were", "200 weapons were")


def problems_after(root, make) -> tuple[list[str], object]:
    """Build good, make the links, check and build again: the problems, after checking the site did not change."""
    assert annals(root).code == 0
    before = {p: p.read_bytes() for p in (root / "_site").rglob("*") if p.is_file()}
    make(root)
    checked, built = annals(root, "check"), annals(root)
    assert checked.code == built.code == 1, built.err
    assert "Traceback" not in checked.err + built.err
    assert {p: p.read_bytes() for p in (root / "_site").rglob("*") if p.is_file()} == before
    return [p for p in checked.problems if "is not listed yet" not in p], built


def outside(tmp_path):
    """A folder beside the project, holding a valid fact."""
    folder = tmp_path / "elsewhere"
    write_files(folder, {"f-outside.yaml": OTHER_FACT, "secret.txt": "not for the site\n"})
    return folder


def test_a_content_file_linked_from_outside_the_project_is_refused_unread(site, tmp_path):
    folder = outside(tmp_path)
    problems, _ = problems_after(site(), lambda root: (root / "content/facts/2017/f-outside.yaml").symlink_to(
        folder / "f-outside.yaml"))
    assert problems == [f"content/facts/2017/f-outside.yaml:1: is a symbolic link to '{folder / 'f-outside.yaml'}', "
                        "outside the project folder: Annals follows links only within the project; copy what it "
                        "points to into the project instead"]


def test_a_published_fact_replaced_by_a_link_outside_is_one_problem_not_two(site, tmp_path):
    folder = outside(tmp_path)

    def replace(root):
        (root / FACT).unlink()
        (root / FACT).symlink_to(folder / "f-outside.yaml")
    problems, _ = problems_after(site(), replace)
    assert len(problems) == 1 and problems[0].startswith(f"{FACT}:1: is a symbolic link to"), problems


def test_a_folder_linked_from_outside_is_refused_and_none_of_it_read(site, tmp_path):
    folder = outside(tmp_path)
    problems, _ = problems_after(site(), lambda root: (root / "content/facts/ext").symlink_to(folder))
    assert problems == [f"content/facts/ext:1: is a symbolic link to '{folder}', outside the project folder: "
                        "Annals follows links only within the project; copy what it points to into the project instead"]


@pytest.mark.parametrize("target", ["/", "../../../.."])
def test_a_link_to_the_root_of_the_file_system_is_refused_at_once(site, target):
    problems, _ = problems_after(site(), lambda root: (root / "content/facts/everything").symlink_to(target))
    assert len(problems) == 1 and problems[0].startswith(f"content/facts/everything:1: is a symbolic link to '{target}'")
    assert "outside the project folder" in problems[0]


@pytest.mark.parametrize("target", ["..", ".", "../.."])
def test_a_folder_link_to_a_folder_that_holds_it_is_a_loop_refused(site, target):
    # "../.." is the project folder itself: inside the project, and above the link.
    problems, _ = problems_after(site(), lambda root: (root / "content/facts/again").symlink_to(target))
    assert problems == [f"content/facts/again:1: is a symbolic link to '{target}', a folder that holds the link "
                        "itself: following it would go round for ever; remove the link"]


def test_links_that_lead_round_in_a_loop_are_refused(site):
    def loop(root):
        (root / "content/facts/a").symlink_to("b")
        (root / "content/facts/b").symlink_to("a")
    problems, _ = problems_after(site(), loop)
    assert problems == [
        f"content/facts/{name}:1: is a symbolic link to '{other}', which leads round in a loop of links: point it at "
        "a file or a folder, or remove it" for name, other in (("a", "b"), ("b", "a"))]


def test_folders_that_link_to_each_other_are_each_read_once(site):
    def crossed(root):
        write_files(root, {"shared/one/f-one.yaml": OTHER_FACT, "shared/two/f-two.yaml": OTHER_FACT})
        (root / "shared/one/to-two").symlink_to("../two")
        (root / "shared/two/to-one").symlink_to("../one")
        (root / "content/facts/one").symlink_to("../../shared/one")
    problems, _ = problems_after(site(), crossed)
    # one/, then two/ through one/to-two; two/to-one leads back to one/, read already.
    assert problems == ["content/facts/one/to-two/to-one:1: is a symbolic link to '../one', a folder read already "
                        "as content/facts/one/: each file is read once; remove the link"]


def test_a_link_to_nowhere_is_refused_whatever_its_name(site):
    problems, _ = problems_after(site(), lambda root: (root / "content/facts/2018").symlink_to("../missing"))
    assert problems == ["content/facts/2018:1: is a symbolic link to '../missing', which does not exist: remove the "
                        "link or restore what it pointed to"]


def test_links_inside_the_project_are_followed(site):
    root = site({"shared/facts/f-shared.yaml": OTHER_FACT.replace("200 weapons", "300 weapons"),
                 "shared/f-linked.yaml": OTHER_FACT})
    (root / "content/facts/shared").symlink_to("../../shared/facts")
    (root / "content/facts/2017/f-linked.yaml").symlink_to("../../../shared/f-linked.yaml")
    run = annals(root)
    assert run.code == 0, run.err
    assert "300 weapons" in (root / "_site/facts/f-shared/index.html").read_text()
    assert "200 weapons" in (root / "_site/facts/f-linked/index.html").read_text()


def test_a_folder_read_in_its_own_place_is_not_read_again_through_a_link(site):
    problems, _ = problems_after(site(), lambda root: (root / "content/facts/latest").symlink_to("2017"))
    assert problems == ["content/facts/latest:1: is a symbolic link to '2017', a folder read already as "
                        "content/facts/2017/: each file is read once; remove the link"]


def test_content_itself_linked_from_outside_is_refused(tmp_path):
    elsewhere = tmp_path / "other-project"
    elsewhere.mkdir()
    make_site(elsewhere)
    root = make_site(tmp_path, minimal=False)
    (root / "content").symlink_to(elsewhere / "site/content")
    run = annals(root, "check")
    assert run.code == 1 and "Traceback" not in run.err
    assert run.problems[0].startswith(f"content:1: is a symbolic link to '{elsewhere / 'site/content'}', outside")


def test_templates_and_static_files_linked_from_outside_are_refused(site, tmp_path):
    folder = outside(tmp_path)

    def link(root):
        (root / "templates/extra.html").symlink_to(folder / "secret.txt")
        (root / "static/secret.txt").symlink_to(folder / "secret.txt")
        (root / "static/ext").symlink_to(folder)
    problems, _ = problems_after(site(), link)
    assert [p.split(": ", 1)[0] for p in problems] == ["static/ext:1", "static/secret.txt:1", "templates/extra.html:1"]
    assert all("outside the project folder" in p for p in problems)


def test_static_files_linked_inside_the_project_are_published(site):
    root = site({"assets/logo.txt": "logo\n", "assets/fonts/a.txt": "font\n", "static/.well-known/security.txt": "x\n"})
    (root / "static/logo.txt").symlink_to("../assets/logo.txt")
    (root / "static/fonts").symlink_to("../assets/fonts")
    (root / "content/facts/.hidden").symlink_to("/")  # hidden content: never read, never an error
    run = annals(root)
    assert run.code == 0, run.err
    assert (root / "_site/static/logo.txt").read_text() == "logo\n"
    assert (root / "_site/static/fonts/a.txt").read_text() == "font\n"
    assert (root / "_site/static/.well-known/security.txt").is_file()


def test_a_pipe_in_content_is_refused_and_never_waited_on(site):
    root = site()
    os.mkfifo(root / "content/facts/2017/f-pipe.yaml")
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root), "check"],
                          capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert ("content/facts/2017/f-pipe.yaml:1: is not a regular file (a pipe, a socket or a device): Annals reads "
            "only files; remove it") in done.stderr.splitlines()


def test_the_preview_reads_everything_again_when_a_changed_file_is_a_link(site, tmp_path):
    folder = outside(tmp_path)
    root = site()
    cache: dict = {}
    archive = loading.load(root, Problems(), cache=cache)
    assert loading.update(root, archive, {FACT}, cache) is not None  # a plain save: only that fact read again
    (root / "content/facts/2017/f-outside.yaml").symlink_to(folder / "f-outside.yaml")
    assert loading.update(root, archive, {"content/facts/2017/f-outside.yaml"}, cache) is None
    (root / "templates/extra.html").symlink_to(folder / "secret.txt")
    assert loading.update(root, archive, {"templates/extra.html"}, cache) is None


def test_an_output_folder_that_is_a_link_is_built_where_it_leads_and_stays_a_link(site, tmp_path):
    """_site -> the folder a web server serves: each build puts the site there, the link kept as it was;
    a link to the project itself is refused as the project is."""
    root = site()
    served = tmp_path / "www" / "site"
    served.parent.mkdir()
    (root / "_site").symlink_to(served, target_is_directory=True)
    for claim in ("100 weapons were", "101 weapons were", "102 weapons were"):
        (root / FACT).write_text((root / FACT).read_text().replace("100 weapons were", claim).replace(
            "101 weapons were", claim))
        run = annals(root, "-q")
        assert run.code == 0, run.err
        assert (root / "_site").is_symlink() and os.readlink(root / "_site") == str(served)
        assert claim in (served / "facts/f-june/index.html").read_text(), claim
    (root / "elsewhere").symlink_to(root, target_is_directory=True)
    refused = annals(root, "--out", str(root / "elsewhere"))
    assert refused.code != 0 and "Traceback" not in refused.err and (root / "elsewhere").is_symlink()
