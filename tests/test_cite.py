"""Cite this: every fact page carries a citation that real citation tools read, dated from git."""
import json
import re
from pathlib import Path

import bibtexparser
import pytest
import yaml
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from lxml import html as lxml_html

from annals.history import last_changed
from conftest import REPO, annals, git, write_files

FACT = "facts/2017-06-oir-weapons-released/index.html"


def committed_site(site, tmp_path):
    """An inline site inside a git repo one level up (so paths carry a prefix), in two commits."""
    root = site()
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "first", when="2020-01-02T03:04:05+00:00")
    write_files(root, {"content/facts/2017/f-june.yaml": (root / "content/facts/2017/f-june.yaml").read_text()
                       .replace("in June 2017.", "in June 2017 (revised).")})
    git(tmp_path, "commit", "-qam", "revise", when="2021-05-06T07:08:09+02:00")
    return root


def fact_page(out: Path, ident: str):
    return lxml_html.fromstring((out / "facts" / ident / "index.html").read_bytes())


def metas(doc) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for meta in doc.xpath("//head/meta[@name]"):
        found.setdefault(meta.get("name"), []).append(meta.get("content"))
    return found


def cite_block(doc, summary: str) -> str:
    return doc.xpath(f"//section[@id='cite']//details[starts-with(summary, '{summary}')]//code")[0].text_content()


# -- last changed, from git --------------------------------------------------------

def test_last_changed_is_the_last_commit_of_each_file_in_utc(site, tmp_path):
    root = committed_site(site, tmp_path)
    dates = last_changed(root)
    assert dates["content/facts/2017/f-june.yaml"] == "2021-05-06T05:08:09Z"
    assert dates["content/facts/2017/f-event.yaml"] == "2020-01-02T03:04:05Z"
    assert dates["content/site.yaml"] == "2020-01-02T03:04:05Z"


def test_uncommitted_and_untracked_files_have_no_date(site, tmp_path):
    root = committed_site(site, tmp_path)
    write_files(root, {"content/facts/2017/f-event.yaml": (root / "content/facts/2017/f-event.yaml").read_text() + "places: [Mosul]\n",
                       "content/facts/2017/f-new.yaml": "claim: New.\nsources:\n  - source: src-1\n    quote: new\n"})
    dates = last_changed(root)
    assert "content/facts/2017/f-event.yaml" not in dates
    assert "content/facts/2017/f-new.yaml" not in dates
    assert dates["content/facts/2017/f-june.yaml"] == "2021-05-06T05:08:09Z"


def test_no_git_and_shallow_clones_give_no_dates(site, tmp_path):
    root = site()
    assert last_changed(root) == {}  # tmp_path is no git checkout
    repo = tmp_path / "repo"
    repo.mkdir()
    write_files(repo, {"content/a.yaml": "a: 1\n"})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one", when="2020-01-01T00:00:00Z")
    write_files(repo, {"content/a.yaml": "a: 2\n"})
    git(repo, "commit", "-qam", "two", when="2021-01-01T00:00:00Z")
    git(tmp_path, "clone", "-q", "--depth", "1", repo.as_uri(), "shallow")
    assert last_changed(repo) == {"content/a.yaml": "2021-01-01T00:00:00Z"}
    assert last_changed(tmp_path / "shallow") == {}


def test_the_repository_dates_each_committed_content_file():
    """The real checkout: every content file git tracks unchanged has a date (unless CI cloned shallow)."""
    if git(REPO, "rev-parse", "--is-shallow-repository").strip() != "false":
        pytest.skip("a shallow clone has no history to read")
    tracked = set(git(REPO, "ls-files", "content").splitlines())
    changed = {line[3:] for line in git(REPO, "status", "--porcelain", "content").splitlines()}
    dates = last_changed(REPO)
    assert tracked - changed and tracked - changed <= set(dates)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", d) for d in dates.values())


def test_fact_page_and_citations_carry_the_commit_date(site, tmp_path):
    root = committed_site(site, tmp_path)
    assert annals(root).code == 0
    doc = fact_page(root / "_site", "f-june")
    assert doc.xpath("//dt[.='Last changed']/following-sibling::dd[1]/time/@datetime") == ["2021-05-06"]
    assert metas(doc)["citation_date"] == ["2021/05/06"]
    assert "Last changed 6 May 2021." in doc.xpath("//p[@class='citation']")[0].text_content()
    entry = bibtexparser.parse_string(cite_block(doc, "biblatex")).entries[0]
    assert entry.fields_dict["urldate"].value == "2021-05-06"
    assert entry.fields_dict["date"].value == "2021-05-06"


def test_without_history_citations_omit_the_date_and_say_so(site):
    root = site()
    assert annals(root).code == 0
    doc = fact_page(root / "_site", "f-june")
    text = doc.xpath("//section[@id='cite']")[0].text_content()
    assert "does not know when the fact last changed" in text
    assert "citation_date" not in metas(doc) and "DC.date" not in metas(doc)
    entry = bibtexparser.parse_string(cite_block(doc, "biblatex")).entries[0]
    assert "urldate" not in entry.fields_dict and "date" not in entry.fields_dict
    assert not doc.xpath("//dt[.='Last changed']")


# -- the formats, read by real tools -------------------------------------------------

def test_biblatex_parses_with_every_field(embedded_build):
    doc = fact_page(embedded_build, "2017-06-oir-weapons-released")
    library = bibtexparser.parse_string(cite_block(doc, "biblatex"))
    assert not library.failed_blocks
    (entry,) = library.entries
    fields = {k: f.value for k, f in entry.fields_dict.items()}
    assert entry.entry_type == "online" and entry.key == "2017-06-oir-weapons-released"
    assert fields["url"] == "https://example.github.io/annals/facts/2017-06-oir-weapons-released/"
    assert fields["title"].startswith("Coalition aircraft released 4,848 weapons")
    assert fields["urldate"] == fields["date"] == "2026-01-02"  # see conftest.EMBEDDED_COMMIT
    assert "Fact for June 2017." in fields["note"]
    assert "[News article on the coalition" in fields["note"]


def test_biblatex_escapes_tex_specials_and_stays_parseable(site):
    root = site({"content/facts/2017/f-odd.yaml": """\
        claim: "50% of {targets} & $costs_up #1 ~ ^ \\\\ were hit."
        when: 2017-08
        originator: A & B
        sources:
          - source: src-1
            quote: "50%"
        """})
    assert annals(root).code == 0
    library = bibtexparser.parse_string(cite_block(fact_page(root / "_site", "f-odd"), "biblatex"))
    assert not library.failed_blocks
    title = library.entries[0].fields_dict["title"].value
    assert title == r"50\% of \{targets\} \& \$costs\_up \#1 \textasciitilde{} \textasciicircum{} \textbackslash{} were hit."
    assert r"Figure from A \& B." in library.entries[0].fields_dict["note"].value


def test_csl_json_renders_with_citeproc(embedded_build):
    doc = fact_page(embedded_build, "2017-06-oir-weapons-released")
    items = json.loads(cite_block(doc, "CSL-JSON"))
    assert items[0]["event-date"] == {"date-parts": [[2017, 6]]}
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)  # shipped inside citeproc-py
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    bibliography.register(Citation([CitationItem("2017-06-oir-weapons-released")]))
    (rendered,) = [str(entry) for entry in bibliography.bibliography()]
    assert "Coalition aircraft released 4,848 weapons against ISIS" in rendered
    assert "https://example.github.io/annals/facts/2017-06-oir-weapons-released/" in rendered
    assert "(Accessed: January 2, 2026)" in rendered


def test_csl_json_keeps_a_range_and_the_speaker(embedded_build):
    doc = fact_page(embedded_build, "2016-10-to-11-oir-weapons-released")
    (item,) = json.loads(cite_block(doc, "CSL-JSON"))
    assert len(item["event-date"]["date-parts"]) == 2
    doc = fact_page(embedded_build, "2017-07-tillerson-much-work-to-be-done")
    (item,) = json.loads(cite_block(doc, "CSL-JSON"))
    assert "Statement by Rex Tillerson" in item["note"]


def test_ris_is_tagged_lines_from_ty_to_er(embedded_build):
    text = cite_block(fact_page(embedded_build, "2017-06-oir-weapons-released"), "RIS")
    lines = text.split("\n")
    assert lines[-1] == ""
    tagged = [re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line) for line in lines[:-1]]
    assert all(tagged), lines
    tags = {m.group(1): m.group(2) for m in tagged}
    assert tagged[0].group(1) == "TY" and tags["TY"] == "ELEC"
    assert tagged[-1].group(1) == "ER"
    assert tags["UR"] == "https://example.github.io/annals/facts/2017-06-oir-weapons-released/"
    assert tags["TI"].startswith("Coalition aircraft released 4,848")
    assert tags["Y2"] == tags["DA"] == "2026/01/02" and tags["PY"] == "2026"


def test_meta_tags_json_ld_and_canonical(embedded_build):
    doc = fact_page(embedded_build, "2016-10-mcgurk-one-week-into-mosul")
    url = "https://example.github.io/annals/facts/2016-10-mcgurk-one-week-into-mosul/"
    found = metas(doc)
    assert found["citation_title"][0].startswith("Brett McGurk tweeted")
    assert found["citation_public_url"] == [url] and found["DC.identifier"] == [url]
    assert found["citation_date"] == ["2026/01/02"] and found["DC.date"] == ["2026-01-02"]
    assert found["DC.title"] == found["citation_title"]
    assert "2016-10" in found["DC.coverage"] and "Mosul" in found["DC.coverage"]
    assert doc.xpath("//head/link[@rel='canonical']/@href") == [url]
    (script,) = doc.xpath("//head/script[@type='application/ld+json']")
    data = json.loads(script.text)
    assert data["@type"] == "WebPage" and data["url"] == url
    assert data["mainEntity"]["@type"] == "Claim"
    assert data["mainEntity"]["author"] == {"name": "Brett McGurk"}
    assert data["mainEntity"]["temporalCoverage"] == "2016-10"
    assert data["dateModified"] == "2026-01-02"


def test_json_ld_cannot_close_its_script_element(site):
    root = site({"content/facts/2017/f-html.yaml": """\
        claim: "A claim with </script><script>alert(1)</script> & <!-- in it."
        sources:
          - source: src-1
            quote: "x"
        """})
    assert annals(root).code == 0
    raw = (root / "_site/facts/f-html/index.html").read_text()
    head = raw[: raw.index("</head>")]
    assert "alert(1)</script>" not in raw and "<!--" not in head
    assert head.count("</script>") == head.count("<script") == 2  # the JSON-LD and static/cite.js
    doc = fact_page(root / "_site", "f-html")
    (script,) = doc.xpath("//script[@type='application/ld+json']")
    assert json.loads(script.text)["name"] == "A claim with </script><script>alert(1)</script> & <!-- in it."
    assert [s.get("src") for s in doc.xpath("//script[not(@type='application/ld+json')]")] == ["../../static/cite.js"]


def test_base_url_option_sets_every_permalink(site):
    root = site()
    assert annals(root, "--base-url", "https://owner.github.io/repo").code == 0
    doc = fact_page(root / "_site", "f-june")
    url = "https://owner.github.io/repo/facts/f-june/"
    assert metas(doc)["citation_public_url"] == [url]
    assert doc.xpath("//head/link[@rel='canonical']/@href") == [url]
    assert url in doc.xpath("//p[@class='citation']")[0].text_content()
    assert f"UR  - {url}" in cite_block(doc, "RIS")


@pytest.mark.parametrize("ident", ["f-june", "f-event"])
def test_every_fact_page_has_a_citation_block(site, ident):
    root = site()
    assert annals(root).code == 0
    doc = fact_page(root / "_site", ident)
    block = doc.xpath("//section[@id='cite']")[0]
    assert block.xpath("h2")[0].text == "Cite this fact"
    assert [s.text for s in block.xpath(".//summary")][:3] == [
        "biblatex", "CSL-JSON (Zotero, Pandoc, citeproc)", "RIS (EndNote, Zotero, Mendeley)"]


# -- copy buttons, in a real browser ------------------------------------------------------

def test_copy_buttons_copy_each_citation(site, page, http_server):
    root = site()
    assert annals(root).code == 0
    base = http_server(root / "_site", "archive")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base.split("/archive/")[0])
    hosts = []
    page.on("request", lambda r: hosts.append(r.url.split("/")[2]))
    page.goto(base + "facts/f-june/")
    page.click("summary:text('biblatex')")
    page.click("button[aria-label='Copy: biblatex']")
    page.wait_for_selector("button[aria-label='Copy: biblatex']:text('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.text_content("pre[data-copy='biblatex']")
    assert copied.startswith("@online{f-june,")
    assert set(hosts) == {base.split("/")[2]}


def test_copy_buttons_run_from_disk_under_the_policy(site, page):
    root = site()
    assert annals(root, "--offline").code == 0
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((root / "_offline/facts/f-june/index.html").as_uri())
    assert page.locator("section.cite button.copy").count() == 4, errors
    assert errors == []


def test_the_pages_workflow_checks_out_the_whole_history():
    """A shallow checkout would publish every citation undated (see history)."""
    workflow = yaml.safe_load((REPO / ".github/workflows/pages.yml").read_text())
    checkouts = [step for job in workflow["jobs"].values() for step in job["steps"]
                 if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step.get("with", {}).get("fetch-depth") == 0 for step in checkouts)
