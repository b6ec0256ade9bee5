"""Permalinks never break: the manifest of published URLs, aliases, tombstones, one path per page."""
import re
import textwrap

import pytest

from conftest import MINIMAL, REPO, annals, copy_embedded, write_files

from annals import permalinks
from annals.problems import Problems

F_JUNE = "content/facts/2017/f-june.yaml"
RENAMED = "content/facts/2017/june-2017-weapons.yaml"


def manifest_paths(root):
    return [line for line in (root / "permalinks.txt").read_text().splitlines() if not line.startswith("#")]


def rename_june(root, aliases=""):
    text = (root / F_JUNE).read_text()
    write_files(root, {F_JUNE: None, RENAMED: text + aliases})


def test_a_build_writes_the_manifest_sorted_and_only_ever_adds(site):
    root = site()
    assert annals(root).code == 0
    paths = manifest_paths(root)
    assert paths == sorted(paths)
    assert {"/", "/facts/f-june/", "/facts/f-event/", "/timeline/2017/06/", "/search/", "/404.html"} <= set(paths)
    assert all(p.startswith("/") for p in paths)
    first = (root / "permalinks.txt").read_bytes()

    assert annals(root).code == 0
    assert (root / "permalinks.txt").read_bytes() == first  # a build that adds nothing changes nothing

    write_files(root, {"content/facts/2017/f-new.yaml": """\
        claim: Something else happened.
        when: 2017-08
        sources:
          - source: src-1
            quote: "something else"
        """})
    assert annals(root).code == 0
    paths = manifest_paths(root)
    assert "/facts/f-new/" in paths and "/timeline/2017/08/" in paths
    assert paths == sorted(paths)


def test_the_embedded_archives_manifest_is_committed_and_complete(tmp_path):
    assert "facts/2017-06-oir-weapons-released/" in permalinks.read(REPO, Problems())
    root = copy_embedded(tmp_path)
    assert annals(root).code == 0
    # A copy has no git history, so no versions of facts: the rest is what the repo lists.
    committed = "".join(line for line in (REPO / "permalinks.txt").read_text().splitlines(keepends=True)
                        if "/v/" not in line)
    assert (root / "permalinks.txt").read_text() == committed, \
        "the build publishes URLs that permalinks.txt lacks: run `python build.py` and commit permalinks.txt"


def test_renaming_a_fact_without_an_alias_fails_naming_the_url_and_the_fact(site):
    root = site()
    assert annals(root).code == 0
    before = (root / "_site/facts/f-june/index.html").read_bytes()
    rename_june(root)

    run = annals(root)
    assert run.code == 1
    line = manifest_paths(root).index("/facts/f-june/") + 4  # after the three header lines
    problem = next(p for p in run.problems if "/facts/f-june/" in p)
    assert problem.startswith(f"permalinks.txt:{line}: /facts/f-june/ was published")
    assert "fact 'f-june'" in problem
    assert "aliases: [f-june]" in problem and "content/withdrawn/f-june.yaml" in problem
    # the last good site stays as it was, and so does the manifest
    assert (root / "_site/facts/f-june/index.html").read_bytes() == before
    assert "/facts/june-2017-weapons/" not in manifest_paths(root)

    check = annals(root, "check")
    assert check.code == 1 and any("/facts/f-june/ was published" in p for p in check.problems)


def test_check_only_verifies_it_never_writes_the_manifest(site):
    root = site()
    assert annals(root, "check").code == 0
    assert not (root / "permalinks.txt").exists()


def test_renaming_with_an_alias_keeps_the_old_permalink_as_a_redirect(site):
    root = site()
    assert annals(root).code == 0
    rename_june(root, "aliases: [f-june]\n")

    run = annals(root)
    assert run.code == 0, run.err
    html = (root / "_site/facts/f-june/index.html").read_text()
    assert '<meta http-equiv="refresh" content="0; url=../june-2017-weapons/">' in html
    assert '<link rel="canonical" href="https://example.org/archive/facts/june-2017-weapons/">' in html
    assert re.search(r'<a href="\.\./june-2017-weapons/">100 weapons were released in June 2017\.</a>', html)
    assert {"/facts/f-june/", "/facts/june-2017-weapons/"} <= set(manifest_paths(root))


WITHDRAWN = {
    F_JUNE: None,
    "content/withdrawn/f-june.yaml": """\
        withdrawn: 2018-03-02
        reason: The source corrected its figure; see the *replacement*.
        claim: 100 weapons were released in June 2017.
        replaced_by: f-event
        """,
}


def test_a_tombstone_keeps_a_retired_fact_answering_with_when_and_why(site):
    root = site({"content/facts/2017/f-june-2.yaml": """\
        claim: Aircraft flew in June 2017.
        when: 2017-06
        sources:
          - source: src-1
            quote: "flew"
        """})
    assert annals(root).code == 0
    write_files(root, WITHDRAWN)

    run = annals(root)
    assert run.code == 0, run.err
    html = (root / "_site/facts/f-june/index.html").read_text()
    assert "This fact was withdrawn on <time datetime=\"2018-03-02\">2 March 2018</time>" in html
    assert "The source corrected its figure; see the <em>replacement</em>." in html
    assert "<h1>100 weapons were released in June 2017.</h1>" in html
    assert '<a href="../f-event/">Something happened.</a>' in html
    assert '<meta name="robots" content="noindex">' in html
    # the fact is gone from its month, its URL is not
    june = (root / "_site/timeline/2017/06/index.html").read_text()
    assert "f-june-2/" in june and "f-june/" not in june
    assert "/facts/f-june/" in manifest_paths(root)


def test_a_month_that_would_vanish_with_its_last_fact_fails_the_build(site):
    root = site()
    assert annals(root).code == 0
    write_files(root, WITHDRAWN)
    run = annals(root)
    assert run.code == 1
    assert any(re.match(r"permalinks\.txt:\d+: /timeline/2017/06/ was published, but this build no longer writes it", p)
               for p in run.problems), run.err


def test_a_tombstone_is_validated_like_any_content(site):
    root = site({
        "content/withdrawn/gone.yaml": """\
            withdrawn: 2018-13
            reasn: typo
            replaced_by: f-jun
            """,
        "content/withdrawn/Bad_Name.yaml": "withdrawn: 2018\nreason: x\n",
    })
    run = annals(root, "check")
    assert run.code == 1
    text = "\n".join(run.problems)
    assert "content/withdrawn/gone.yaml:1: withdrawn: '2018-13' has no month 13" in text
    assert "content/withdrawn/gone.yaml:2: unknown field 'reasn' in withdrawn fact (did you mean 'reason'?)" in text
    assert "withdrawn fact: missing required field 'reason'" in text
    assert "content/withdrawn/Bad_Name.yaml:1: file name 'Bad_Name' is not a valid id" in text

    write_files(root, {"content/withdrawn/gone.yaml": "withdrawn: 2018\nreason: x\nreplaced_by: f-jun\n",
                       "content/withdrawn/Bad_Name.yaml": None})
    run = annals(root, "check")
    assert run.problems == ["content/withdrawn/gone.yaml:3: unknown fact 'f-jun' (did you mean 'f-june'?)"]


def test_two_pages_writing_one_path_is_an_error_naming_both_sources(site):
    root = site({"content/withdrawn/f-june.yaml": "withdrawn: 2018\nreason: Withdrawn twice over.\n"})
    run = annals(root)
    assert run.code == 1
    assert run.problems == ["content/withdrawn/f-june.yaml:1: /facts/f-june/ would be written twice: "
                            "by this withdrawn and by content/facts/2017/f-june.yaml"]
    assert not (root / "_site").exists()


def test_a_manifest_that_is_not_utf8_is_a_located_problem_and_is_left_alone(site):
    root = site()
    assert annals(root).code == 0
    with (root / "permalinks.txt").open("ab") as manifest:
        manifest.write(b"/facts/caf\xe9/\n")
    before = (root / "permalinks.txt").read_bytes()
    line = before.count(b"\n")
    for command in ([], ["check"], ["--offline"]):
        run = annals(root, *command)
        assert run.code == 1 and "Traceback" not in run.err
        assert run.problems == [f"permalinks.txt:{line}: not UTF-8: byte 0xe9 cannot be read; save the file as UTF-8"]
    assert (root / "permalinks.txt").read_bytes() == before


def test_a_manifest_that_cannot_be_read_is_a_located_problem(site):
    root = site()
    (root / "permalinks.txt").mkdir()
    run = annals(root, "check")
    assert run.code == 1 and "Traceback" not in run.err
    assert run.problems == ["permalinks.txt:1: cannot be read: Is a directory"]


NEW_FACT = {"content/facts/2017/f-new.yaml": """\
    claim: Something else happened.
    when: 2017-08
    sources:
      - source: src-1
        quote: "something else"
    """}


def line_before(root, path: str) -> int:
    """The line of permalinks.txt a path not in it belongs at: before the first that sorts after it."""
    lines = (root / "permalinks.txt").read_text().splitlines()
    return next((i for i, l in enumerate(lines, 1) if not l.startswith("#") and l > path), len(lines) + 1)


def unlisted(line: int, path: str, made: str = "", locked: bool = False) -> str:
    state = "is not listed, and --locked adds nothing" if locked else "is not listed yet"
    warning = "" if locked else "warning: "
    return (f"permalinks.txt:{line}: {warning}/{path}{f' (a page of {made})' if made else ''} {state}: "
            "run `python build.py`, which adds it here, and commit permalinks.txt with your content")


def test_a_locked_build_adds_nothing_and_fails_on_a_url_the_manifest_lacks(site):
    root = site()
    assert annals(root).code == 0
    site_before = (root / "_site/index.html").read_bytes()
    manifest = (root / "permalinks.txt").read_bytes()
    assert annals(root, "--locked").code == 0  # nothing new: passes, and changes nothing
    assert (root / "permalinks.txt").read_bytes() == manifest

    write_files(root, NEW_FACT)
    run = annals(root, "--locked")
    assert run.code == 1
    assert run.problems == [
        unlisted(line_before(root, "/facts/f-new/"), "facts/f-new/", "content/facts/2017/f-new.yaml", locked=True),
        unlisted(line_before(root, "/timeline/2017/08/"), "timeline/2017/08/", locked=True),
        unlisted(line_before(root, "/timeline/2017/08/facts.json"), "timeline/2017/08/facts.json", locked=True),
    ]
    assert (root / "permalinks.txt").read_bytes() == manifest
    assert (root / "_site/index.html").read_bytes() == site_before
    assert annals(root, "check", "--locked").problems == run.problems

    assert annals(root).code == 0  # what the editor is told to do
    assert annals(root, "--locked").code == 0


def test_check_warns_of_urls_the_manifest_does_not_list_yet(site):
    root = site()
    assert annals(root).code == 0
    write_files(root, NEW_FACT)
    run = annals(root, "check")
    assert run.code == 0
    assert [p for p in run.out.splitlines() if "/facts/f-new/" in p] == [
        unlisted(line_before(root, "/facts/f-new/"), "facts/f-new/", "content/facts/2017/f-new.yaml")]
    assert "0 error(s), 3 warning(s)" in run.out
    assert annals(root, "check", "--strict").code == 1
    assert annals(root, "--offline").code == 0 and "/facts/f-new/" not in manifest_paths(root)


def test_a_locked_build_needs_a_manifest(site):
    root = site()
    run = annals(root, "--locked")
    assert run.code == 1
    assert run.problems == ["permalinks.txt:1: missing: --locked builds only what this manifest of published URLs "
                            "lists; run `python build.py` once and commit permalinks.txt"]
    assert not (root / "_site").exists() and not (root / "permalinks.txt").exists()


def test_the_offline_zip_is_a_published_url(site):
    root = site()
    assert annals(root).code == 0
    assert "/annals-offline.zip" in manifest_paths(root)
    assert annals(root, "--offline").code == 0 and annals(root, "check", "--strict").code == 0


# -- content/redirects.yaml: any other address kept alive -------------------------------

REDIRECTS = "content/redirects.yaml"
OP_B = "content/operations/op-b.yaml"


def rename_op_b(root):
    june = (root / F_JUNE).read_text().replace("[op-b]", "[op-bee]")
    write_files(root, {OP_B: None, "content/operations/op-bee.yaml": "name: Operation Bee\nparent: op-a\n", F_JUNE: june})


def test_a_renamed_operation_is_kept_by_a_redirect(site):
    root = site()
    assert annals(root).code == 0
    rename_op_b(root)
    run = annals(root)
    assert run.code == 1
    dropped = [p for p in run.problems if "/operations/op-b/" in p]
    assert len(dropped) == 2 and all("was published, but this build no longer writes it" in p for p in dropped)
    assert "keep the address alive with the line `/operations/op-b/: /<the page that replaces it>` " \
           "in content/redirects.yaml" in dropped[0]
    assert "`/operations/op-b/facts.json: /<a data file of its kind, copied here>`" in dropped[1]

    write_files(root, {REDIRECTS: """\
        # old address: the page that replaces it
        /operations/op-b/: /operations/op-bee/
        /operations/op-b/facts.json: /operations/op-bee/facts.json
        """})
    run = annals(root)
    assert run.code == 0, run.err
    html = (root / "_site/operations/op-b/index.html").read_text()
    assert '<meta http-equiv="refresh" content="0; url=../op-bee/">' in html
    assert '<link rel="canonical" href="https://example.org/archive/operations/op-bee/">' in html
    assert '<p>This page has moved: <a href="../op-bee/">Operation Bee</a>.</p>' in html
    assert '<meta name="robots" content="noindex">' in html
    assert (root / "_site/operations/op-b/facts.json").read_bytes() == \
        (root / "_site/operations/op-bee/facts.json").read_bytes()
    assert "operations/op-b/" not in (root / "_site/sitemap.xml").read_text()
    assert {"/operations/op-b/", "/operations/op-bee/"} <= set(manifest_paths(root))

    # pointed elsewhere, the redirect page follows
    write_files(root, {REDIRECTS: "/operations/op-b/: /operations/op-a/\n"
                                  "/operations/op-b/facts.json: /operations/op-bee/facts.json\n"})
    run = annals(root, "-v")
    assert run.code == 0 and "rendered /operations/op-b/" in run.out
    assert 'url=../op-a/' in (root / "_site/operations/op-b/index.html").read_text()


def test_a_month_that_lost_its_last_fact_is_kept_by_a_redirect(site):
    root = site()
    assert annals(root).code == 0
    write_files(root, WITHDRAWN)
    write_files(root, {REDIRECTS: "/timeline/2017/06/: /timeline/2017/07/\n"
                                  "/timeline/2017/06/facts.json: /timeline/2017/07/facts.json\n"})
    run = annals(root)
    assert run.code == 0, run.err
    html = (root / "_site/timeline/2017/06/index.html").read_text()
    assert '<p>This page has moved: <a href="../07/">July 2017</a>.</p>' in html
    offline = (root / "_offline")
    assert annals(root, "--offline").code == 0
    assert 'href="../07/index.html"' in (offline / "timeline/2017/06/index.html").read_text()


@pytest.mark.parametrize("line, message", [
    ("/operations/op-z/: /operations/op-c/",
     "content/redirects.yaml:1: /operations/op-c/ is not a page of this site (did you mean '/operations/op-b/'?)"),
    ("/operations/op-a/: /operations/op-b/",
     "content/redirects.yaml:1: /operations/op-a/ is still a page of this site (made by content/operations/op-a.yaml): "
     "a redirect would hide it; remove this line"),
    ("/timeline/: /",
     "content/redirects.yaml:1: /timeline/ is still a page of this site (one the site always has): "
     "a redirect would hide it; remove this line"),
    ("/old/page.html: /",
     "content/redirects.yaml:1: '/old/page.html' is not an address this site makes (see README, \"Permalinks never break\")"),
    ("operations/op-z/: /",
     "content/redirects.yaml:1: 'operations/op-z/': write the old address from the site's root, starting with '/', "
     "like /operations/old-id/"),
    ("/operations/op-z/: operations/op-a/",
     "content/redirects.yaml:1: 'operations/op-a/': write the page from the site's root, starting with '/', "
     "like /operations/old-id/"),
    ("/facts/f-old/: /facts/f-june/",
     "content/redirects.yaml:1: '/facts/f-old/': a fact's old permalink is kept by `aliases: [f-old]` in the fact "
     "that replaces it, or retired by a tombstone, content/withdrawn/f-old.yaml"),
    ("/operations/op-z/: /data/facts.json",
     "content/redirects.yaml:1: '/operations/op-z/' is a page; it can only be kept by a page, "
     "and '/data/facts.json' is not one"),
    ("/operations/op-z/facts.json: /data/facts.csv",
     "content/redirects.yaml:1: '/operations/op-z/facts.json' can only be answered with a copy of a data file "
     "of its own kind (.json), and '/data/facts.csv' is not one"),
    ("/operations/op-z/: [a, b]",
     "content/redirects.yaml:1: /operations/op-z/: expected a single value, found a list"),
    ("/operations/op-z/: /operations/op-y/\n/operations/op-y/: /operations/op-a/",
     "content/redirects.yaml:1: /operations/op-y/ is itself redirected, to /operations/op-a/: name that page"),
    ("[/operations/op-z/]", "content/redirects.yaml:1: redirects.yaml: expected a mapping from an old address to "
                            "the page that replaces it, like `/operations/old-id/: /operations/new-id/`"),
])
def test_a_redirect_that_cannot_be_one_is_a_located_problem(site, line, message):
    root = site({REDIRECTS: line + "\n"})
    run = annals(root, "check")
    assert run.code == 1 and "Traceback" not in run.err
    assert run.problems == [message]


def test_a_redirect_to_an_old_id_names_the_fact(site):
    root = site({REDIRECTS: "/operations/op-z/: /facts/f-old/\n", F_JUNE: None,
                 RENAMED: textwrap.dedent(MINIMAL[F_JUNE]) + "aliases: [f-old]\n"})
    run = annals(root, "check")
    assert run.problems == ["content/redirects.yaml:1: /facts/f-old/ is itself a redirect, an old id of fact "
                            "'june-2017-weapons': name /facts/june-2017-weapons/"]


def test_an_empty_redirects_file_is_no_problem(site):
    root = site({REDIRECTS: "# nothing moved yet\n"})
    assert annals(root, "check", "--strict").code == 0


def test_a_redirects_file_that_does_not_read_keeps_every_address_it_might(site):
    root = site()
    assert annals(root).code == 0
    rename_op_b(root)
    write_files(root, {REDIRECTS: "/operations/op-b/: [/operations/op-bee/\n"})
    run = annals(root)
    assert run.code == 1
    assert run.problems == ["content/redirects.yaml:1: YAML syntax: the '[' at column 20 is never closed: add the ']' "
                            "where the list ends (the YAML stops reading at line 2)"]
