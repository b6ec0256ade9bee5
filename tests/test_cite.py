"""Cite this: every fact page carries a citation that real citation tools read, dated from git."""
import fcntl
import html
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import bibtexparser
import mwparserfromhell
import pytest
import yaml
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from lxml import html as lxml_html

from annals.history import last_changed
from conftest import MINIMAL, REPO, annals, git, write_files

FACT = "facts/2017-06-oir-weapons-released/index.html"
MINIMAL_SITE = textwrap.dedent(MINIMAL["content/site.yaml"])


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
    """The head's <meta> tags by name (or Open Graph property)."""
    found: dict[str, list[str]] = {}
    for meta in doc.xpath("//head/meta[@name or @property]"):
        found.setdefault(meta.get("name") or meta.get("property"), []).append(meta.get("content"))
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
    assert metas(doc)["DC.date"] == ["2021-05-06"]
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
    assert "DC.date" not in metas(doc)
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
    assert title == r"50\% of \{targets\} \& \$costs\_up \#1 \textasciitilde{} \textasciicircum{} \textbackslash{} were hit"
    assert r"Figure from A \& B." in library.entries[0].fields_dict["note"].value


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
    assert found["DC.title"][0].startswith("Brett McGurk tweeted") and not found["DC.title"][0].endswith(".")
    assert found["og:title"] == found["DC.title"]
    assert found["DC.identifier"] == found["og:url"] == [url]
    assert found["DC.date"] == ["2026-01-02"]
    assert found["og:type"] == ["website"] and found["og:site_name"] == ["Air War Against ISIS: an Annals archive"]
    assert found["description"][0].startswith("Fact for October 2016.")
    # What Zotero misreads (see cite.meta_tags and test_zotero): none of it is in the head.
    assert not {"DC.creator", "DC.source", "DC.coverage", "DC.type"} & set(found)
    assert not [name for name in found if name.startswith("citation_")]
    assert doc.xpath("//head/link[@rel='canonical']/@href") == [url]
    (script,) = doc.xpath("//head/script[@type='application/ld+json']")
    data = json.loads(script.text)
    assert data["@type"] == "WebPage" and data["url"] == url and data["name"] == found["DC.title"][0]
    assert data["mainEntity"]["@type"] == "Claim"
    assert data["mainEntity"]["author"] == {"name": "Brett McGurk"}
    assert data["mainEntity"]["temporalCoverage"] == "2016-10"
    assert {"@type": "Place", "name": "Mosul"} in data["mainEntity"]["spatialCoverage"]
    assert data["dateModified"] == "2026-01-02"


def test_an_article_page_has_its_head_and_cite_block(embedded_build):
    doc = lxml_html.fromstring((embedded_build / "articles/two-peaks-of-the-air-war/index.html").read_bytes())
    url = "https://example.github.io/annals/articles/two-peaks-of-the-air-war/"
    found = metas(doc)
    assert found["DC.title"] == ["Two peaks of the air war: Mosul 2016 and 2017"]
    assert found["DC.creator"] == ["Annals editors"] and found["DC.date"] == ["2026-11-22"]
    assert found["DC.identifier"] == found["og:url"] == [url] and found["og:type"] == ["website"]
    assert doc.xpath("//head/link[@rel='canonical']/@href") == [url]
    (script,) = doc.xpath("//head/script[@type='application/ld+json']")
    data = json.loads(script.text)
    assert data["@type"] == "Article" and data["author"] == [{"name": "Annals editors"}]
    assert data["datePublished"] == "2026-11-22"
    assert doc.xpath("//section[@id='cite']/h2")[0].text == "Cite this article"
    (item,) = json.loads(cite_block(doc, "CSL-JSON"))
    assert item["author"] == [{"literal": "Annals editors"}] and item["issued"] == {"date-parts": [[2026, 11, 22]]}
    assert "accessed" not in item  # when the citer read it is theirs to say


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
    assert json.loads(script.text)["name"] == "A claim with </script><script>alert(1)</script> & <!-- in it"
    assert [s.get("src") for s in doc.xpath("//script[not(@type='application/ld+json')]")] == ["../../static/cite.js"]


def test_base_url_option_sets_every_permalink(site):
    root = site()
    assert annals(root, "--base-url", "https://owner.github.io/repo").code == 0
    doc = fact_page(root / "_site", "f-june")
    url = "https://owner.github.io/repo/facts/f-june/"
    assert metas(doc)["DC.identifier"] == metas(doc)["og:url"] == [url]
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
    assert [s.text for s in block.xpath(".//summary")][:4] == [
        "biblatex", "CSL-JSON (Zotero, Pandoc, citeproc)", "RIS (EndNote, Zotero, Mendeley)",
        "Wikipedia ({{cite web}})"]


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
    assert page.locator("section.cite button.copy").count() == 5, errors
    assert errors == []


def test_the_pages_workflow_checks_out_the_whole_history():
    """A shallow checkout would publish every citation undated (see history)."""
    workflow = yaml.safe_load((REPO / ".github/workflows/pages.yml").read_text())
    checkouts = [step for job in workflow["jobs"].values() for step in job["steps"]
                 if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step.get("with", {}).get("fetch-depth") == 0 for step in checkouts)


# -- every CSL engine, every style, every fact and article -------------------------------

CITATION_JS = ("@citation-js/core@0.8.2", "@citation-js/plugin-csl@0.8.2", "@citation-js/plugin-ris@0.8.2",
               "@citation-js/plugin-bibtex@0.8.2")
# The styles as the Citation Style Language project publishes them (Debian's citation-style-language-styles):
# citeproc-py ships only Harvard, and no npm package ships them as XML.
STYLES = Path("/usr/share/citation-style-language/styles")
STYLE_NAMES = ("apa", "chicago-author-date", "harvard-cite-them-right", "vancouver")
EMBEDDED_URL = "https://example.github.io/annals/"


@pytest.fixture(scope="session")
def styles() -> list[Path]:
    paths = [STYLES / f"{name}.csl" for name in STYLE_NAMES]
    missing = [p for p in paths if not p.is_file()]
    assert not missing, f"{missing}: apt-get install citation-style-language-styles (.ci/run installs it)"
    return paths


@pytest.fixture(scope="session")
def citation_js():
    """citation-js from npm (citeproc-js, and its RIS and biblatex readers), installed once into a cache
    outside the repo; call it with a request (see tests/citeproc.cjs) for its answer."""
    npm = shutil.which("npm")
    assert npm, "npm is needed for citeproc-js (Debian package npm; .ci/run installs it)"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "annals-tests" / "citation-js-0.8.2"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test workers may ask at once
        if not (cache / "installed").is_file():
            subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--no-save", "--prefix", str(cache),
                            *CITATION_JS], check=True, capture_output=True)
            (cache / "installed").touch()
    return lambda request: json.loads(subprocess.run(
        ["node", str(REPO / "tests/citeproc.cjs"), str(cache)], input=json.dumps(request),
        check=True, capture_output=True, text=True, timeout=300).stdout)


def pages_of(out: Path) -> list:
    """Every fact and article page of a built site."""
    return [lxml_html.fromstring(p.read_bytes())
            for p in sorted([*out.glob("facts/*/index.html"), *out.glob("articles/*/index.html")])
            if b'id="cite"' in p.read_bytes()]  # an alias's redirect page has no Cite block


def csl_items(out: Path) -> list[dict]:
    return [item for doc in pages_of(out) for item in json.loads(cite_block(doc, "CSL-JSON"))]


# Punctuation a style wrote twice: a title's own full stop before the style's (", ." "., " "..").
DOUBLED = re.compile(r"(?<![.])[.,;:]\s*[.,;:](?![.])|\.\s+\.")


def words(text: str) -> str:
    """Text as styles may recase it, and requote a quote within a title."""
    return re.sub("[\"'“”‘’]", "", text.lower())


def test_every_fact_and_article_renders_in_citeproc_js(embedded_build, citation_js, styles):
    items = csl_items(embedded_build)
    assert len(items) >= 31 and any(i["id"] == "two-peaks-of-the-air-war" for i in items)
    rendered = citation_js({"styles": [str(p) for p in styles], "items": items})["rendered"]
    assert set(rendered) == set(STYLE_NAMES)
    for style, by_id in rendered.items():
        failed = {i: r["error"] for i, r in by_id.items() if "error" in r}
        assert not failed, (style, failed)
        for item in items:
            text = by_id[item["id"]]["bibliography"]
            assert item["URL"] in text and not DOUBLED.search(text), (style, text)
            assert words(item["title"]) in words(text), (style, text)


def test_every_fact_and_article_renders_in_citeproc_py(embedded_build, styles):
    items = csl_items(embedded_build)
    for path in styles:
        style = CitationStylesStyle(str(path), validate=False)
        bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        texts = [str(entry) for entry in bibliography.bibliography()]
        assert len(texts) == len(items), path.name
        for text in texts:
            assert EMBEDDED_URL in text and not DOUBLED.search(text), (path.name, text)


def test_csl_json_renders_with_citeproc(embedded_build):
    doc = fact_page(embedded_build, "2017-06-oir-weapons-released")
    items = json.loads(cite_block(doc, "CSL-JSON"))
    assert items[0]["event-date"] == {"date-parts": [[2017, 6]]}
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)  # shipped inside citeproc-py
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    bibliography.register(Citation([CitationItem("2017-06-oir-weapons-released")]))
    (rendered,) = [str(entry) for entry in bibliography.bibliography()]
    assert "Coalition aircraft released 4,848 weapons against ISIS" in rendered
    assert "a record for the campaign, Air War Against ISIS" in rendered  # one comma, no full stop before it
    assert "https://example.github.io/annals/facts/2017-06-oir-weapons-released/" in rendered
    assert "(Accessed: January 2, 2026)" in rendered


RANGES = {
    "content/facts/2016/f-day-to-month.yaml": """\
        claim: From the day the offensive began to the end of the year.
        when: {from: 2016-10-17, to: 2016-12}
        sources:
          - source: src-1
            quote: "from 17 October"
        """,
    "content/facts/2016/f-year-to-day.yaml": """\
        claim: From 2015 until 3 March 2016.
        when: {from: 2015, to: 2016-03-03}
        sources:
          - source: src-1
            quote: "until 3 March"
        """,
}


def test_a_range_of_two_precisions_is_written_at_the_coarser_one(site, citation_js, styles):
    root = site(RANGES)
    assert annals(root).code == 0
    by_id = {i["id"]: i for i in csl_items(root / "_site")}
    assert by_id["f-day-to-month"]["event-date"] == {"date-parts": [[2016, 10], [2016, 12]]}
    assert by_id["f-year-to-day"]["event-date"] == {"date-parts": [[2015], [2016]]}
    assert "Fact for 17 October 2016 – December 2016." in by_id["f-day-to-month"]["note"]  # the day, kept in words
    rendered = citation_js({"styles": [str(p) for p in styles], "items": list(by_id.values())})["rendered"]
    assert not [(s, i) for s, r in rendered.items() for i, out in r.items() if "error" in out]


# -- one title, no final full stop, in every format -------------------------------------

TITLES = {
    "content/facts/2017/f-stop.yaml": ("claim: Ten weapons were released.\nsources:\n  - source: src-1\n    quote: ten\n",
                                       "Ten weapons were released"),
    "content/facts/2017/f-us.yaml": ("claim: The strikes were made by the U.S.\nsources:\n  - source: src-1\n"
                                     "    quote: U.S.\n", "The strikes were made by the U.S."),
    "content/facts/2017/f-said.yaml": ("claim: 'He said: “We have won.”'\nsources:\n  - source: src-1\n    quote: won\n",
                                       "He said: “We have won”"),
    "content/facts/2017/f-ask.yaml": ("claim: Was it a record?\nsources:\n  - source: src-1\n    quote: record\n",
                                      "Was it a record?"),
    "content/facts/2017/f-dots.yaml": ("claim: And then...\nsources:\n  - source: src-1\n    quote: then\n",
                                       "And then..."),
}


@pytest.mark.parametrize("path", sorted(TITLES))
def test_a_title_ends_without_its_full_stop_in_every_format(site, path):
    text, title = TITLES[path]
    root = site({path: text})
    assert annals(root).code == 0
    doc = fact_page(root / "_site", Path(path).stem)
    assert json.loads(cite_block(doc, "CSL-JSON"))[0]["title"] == title
    assert f"TI  - {title}\n" in cite_block(doc, "RIS")
    (entry,) = bibtexparser.parse_string(cite_block(doc, "biblatex")).entries
    assert entry.fields_dict["title"].value == title
    found = metas(doc)
    assert found["DC.title"] == found["og:title"] == [title]
    assert json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)["name"] == title
    assert wiki_fields(cite_block(doc, "Wikipedia"))["title"] == title


def test_biblatex_and_ris_read_back_agree_with_csl_json(embedded_build, citation_js):
    docs = pages_of(embedded_build)
    request = {"ris": [cite_block(d, "RIS") for d in docs], "biblatex": [cite_block(d, "biblatex") for d in docs]}
    answer = citation_js(request)
    for doc, (ris_item,), (bib_item,) in zip(docs, answer["ris"], answer["biblatex"]):
        (item,) = json.loads(cite_block(doc, "CSL-JSON"))
        for read in (ris_item, bib_item):
            assert read["title"] == item["title"] and read["URL"] == item["URL"]
            assert [names(a) for a in read["author"]] == [names(a) for a in item["author"]]
            assert read["issued"] == item["issued"]
        (entry,) = bibtexparser.parse_string(cite_block(doc, "biblatex")).entries  # and a Python reader too
        assert entry.fields_dict["url"].value == item["URL"]
        assert entry.fields_dict["title"].value == item["title"].replace("%", r"\%")


def names(name: dict) -> str:
    """A CSL name as one string, whichever way a reader split it."""
    return name.get("literal") or " ".join(p for p in (name.get("given"), name.get("family")) if p)


# -- {{cite web}}, for Wikipedia ---------------------------------------------------------------

def wiki_fields(text: str) -> dict[str, str]:
    """The one {{cite web}} in the text, parsed by mwparserfromhell: its fields, as MediaWiki shows them."""
    code = mwparserfromhell.parse(text)
    (template,) = code.filter_templates()
    assert str(code) == str(template) and template.name.strip() == "cite web"
    return {str(p.name).strip(): html.unescape(str(p.value).strip()) for p in template.params}


def test_cite_web_names_every_field_of_every_fact(embedded_build):
    claims = {p.stem: yaml.safe_load(p.read_text()) for p in (REPO / "content/facts").rglob("*.yaml")}
    for ident, fact in claims.items():
        doc = fact_page(embedded_build, ident)
        fields = wiki_fields(cite_block(doc, "Wikipedia"))
        expected = {"url": f"{EMBEDDED_URL}facts/{ident}/", "title": fact["claim"].removesuffix("."),
                    "website": "Air War Against ISIS: an Annals archive", "date": "2026-01-02", "access-date": ""}
        if len(fact["sources"]) == 1:
            expected["quote"] = fact["sources"][0]["quote"]
        assert fields == expected, ident  # no publisher: site.yaml names none


def test_cite_web_keeps_wikitext_in_a_claim_as_text(site):
    claim = "A | B }} {{x}} [[Link]] [http://x y] <ref>r</ref> ''it'' ~~~~ &amp; & = done."
    root = site({
        "content/site.yaml": MINIMAL_SITE + "publisher: Example Research Group\n",
        "content/facts/2017/f-wiki.yaml": f"claim: {json.dumps(claim)}\nsources:\n  - source: src-1\n"
                                          "    quote: \"a | b ~~~ ''c''\"\n",
        "content/articles/a-note.md": "---\ntitle: A note\ndate: 2025-03\nauthors: [Jane Doe, \"Roe, Richard\"]\n"
                                      "---\nText.\n",
    })
    assert annals(root).code == 0
    fields = wiki_fields(cite_block(fact_page(root / "_site", "f-wiki"), "Wikipedia"))
    assert fields["title"] == claim.removesuffix(".") and fields["quote"] == "a | b ~~~ ''c''"
    assert fields["publisher"] == "Example Research Group" and fields["website"] == "Test Archive"
    doc = lxml_html.fromstring((root / "_site/articles/a-note/index.html").read_bytes())
    fields = wiki_fields(cite_block(doc, "Wikipedia"))
    assert fields == {"url": "https://example.org/archive/articles/a-note/", "title": "A note",
                      "author1": "Jane Doe", "author2": "Roe, Richard", "website": "Test Archive",
                      "publisher": "Example Research Group", "date": "March 2025", "access-date": ""}


# -- sources that outlive their links: an archived copy, as Robust Links ------------------------

ARCHIVED = {
    "content/sources/src-1.yaml": """\
        title: A report
        kind: report
        url: https://example.org/reports/one
        archived: https://web.archive.org/web/20200503101112/https://example.org/reports/one
        archived_date: 2020-05-03
        """,
    "content/sources/src-gone.yaml": """\
        title: A page only the archive keeps
        kind: web-page
        archived: https://web.archive.org/web/2019/https://example.org/gone
        """,
    "content/facts/2017/f-gone.yaml": """\
        claim: Something the lost page said.
        sources:
          - source: src-gone
            quote: "said"
        """,
}
WAYBACK = "https://web.archive.org/web/20200503101112/https://example.org/reports/one"


def test_an_archived_copy_is_linked_as_a_robust_link_everywhere(site):
    root = site(ARCHIVED)
    assert annals(root).code == 0
    out = root / "_site"
    for doc in (fact_page(out, "f-june"), lxml_html.fromstring((out / "sources/src-1/index.html").read_bytes())):
        (original,) = doc.xpath("//a[@href='https://example.org/reports/one']")
        assert original.get("data-versionurl") == WAYBACK and original.get("data-versiondate") == "2020-05-03"
        (copy,) = doc.xpath(f"//a[@href='{WAYBACK}']")
        assert copy.get("data-originalurl") == "https://example.org/reports/one"
        assert copy.get("data-versiondate") == "2020-05-03"
    (copy,) = fact_page(out, "f-gone").xpath("//a[starts-with(@href, 'https://web.archive.org/')]")
    assert copy.text == "archived copy" and not {"data-originalurl", "data-versiondate"} & set(copy.attrib)


def test_citations_name_the_archived_copy(site):
    root = site(ARCHIVED)
    assert annals(root).code == 0
    doc = fact_page(root / "_site", "f-june")
    named = f"https://example.org/reports/one, archived 3 May 2020 at {WAYBACK}"
    assert named in doc.xpath("//p[@class='citation']")[0].text_content()
    assert named in json.loads(cite_block(doc, "CSL-JSON"))[0]["note"]
    assert named in cite_block(doc, "RIS")
    note = bibtexparser.parse_string(cite_block(doc, "biblatex")).entries[0].fields_dict["note"].value
    assert rf"archived 3 May 2020 at \url{{{WAYBACK}}}" in note
    (work,) = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)["mainEntity"]["appearance"]
    assert work["archivedAt"] == WAYBACK and work["url"] == "https://example.org/reports/one"


def test_a_date_of_no_archived_copy_is_refused(site):
    root = site({"content/sources/src-1.yaml": "title: A report\nkind: report\narchived_date: 2020-05-03\n"})
    run = annals(root, "check")
    assert run.code == 1
    assert "content/sources/src-1.yaml:3: archived_date: give the archived copy's address too" in run.err


def test_every_format_names_the_copy_of_a_source_that_has_only_a_copy(site):
    root = site(ARCHIVED)
    assert annals(root).code == 0
    doc = fact_page(root / "_site", "f-gone")
    gone = "https://web.archive.org/web/2019/https://example.org/gone"
    named = f"A page only the archive keeps, archived at {gone}"
    assert named in doc.xpath("//p[@class='citation']")[0].text_content()
    assert named in json.loads(cite_block(doc, "CSL-JSON"))[0]["note"]
    assert named in cite_block(doc, "RIS")
    note = bibtexparser.parse_string(cite_block(doc, "biblatex")).entries[0].fields_dict["note"].value
    assert rf"archived at \url{{{gone}}}" in note
    assert wiki_sources(cite_block(doc, "Wikipedia"))[1] == f"Source: {named}."


def wiki_sources(text: str) -> tuple[dict[str, str], str]:
    """A {{cite web}} followed by its sources, in one <ref>: the template's fields, and the text after it as shown."""
    code = mwparserfromhell.parse(text)
    (template,) = code.filter_templates(recursive=False)
    assert str(code).startswith(str(template)) and template.name.strip() == "cite web"
    after = mwparserfromhell.parse(str(code)[len(str(template)):])
    return wiki_fields(str(template)), html.unescape(after.strip_code(normalize=True, collapse=True)).strip()


def test_cite_web_names_the_archived_copies_of_the_sources_after_the_template(site):
    root = site(ARCHIVED)
    assert annals(root).code == 0
    text = cite_block(fact_page(root / "_site", "f-june"), "Wikipedia")
    fields, after = wiki_sources(text)
    # The template's own fields as for any fact: archive-url would name a copy of the fact's page, not the source's.
    assert fields["url"] == "https://example.org/archive/facts/f-june/" and "archive-url" not in fields
    assert fields["quote"] == "100 weapons in June"
    assert after == f"Source: A report, https://example.org/reports/one, archived 3 May 2020 at {WAYBACK}."
    links = {str(link.url) for link in mwparserfromhell.parse(text).filter_external_links()}
    assert {"https://example.org/reports/one", WAYBACK} <= links  # MediaWiki links both, without the punctuation
    # A fact whose sources have no archived copy is the template alone.
    root = site({"content/sources/src-1.yaml": "title: A report\nkind: report\nurl: https://example.org/reports/one\n"})
    assert annals(root).code == 0
    assert wiki_sources(cite_block(fact_page(root / "_site", "f-june"), "Wikipedia"))[1] == ""
