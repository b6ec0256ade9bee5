"""What Zotero saves from a page: its own translators, run by its translation server on pages served from 127.0.0.1.

The same translators run when a reader clicks "Save to Zotero" and when a
Wikipedia editor cites a URL with Citoid, so these items are what citers get.
The tool is ../shared/tools/zotero/capture (its README says how it works offline).
"""
import functools
import http.server
import json
import re
import shutil
import subprocess
import threading

import pytest
import yaml

from conftest import REPO, annals, git

CAPTURE = REPO.parent / "shared/tools/zotero/capture"
ARCHIVE = "Air War Against ISIS: an Annals archive"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Zotero's translation server needs Node.js")


def capture(*urls: str) -> dict[str, list[dict]]:
    """The items Zotero makes of each page, by URL (one server for all of them)."""
    assert CAPTURE.is_file(), f"{CAPTURE} is missing: the Zotero tool comes with the shared folder"
    done = subprocess.run([str(CAPTURE), *urls], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    found = [json.loads(line) for line in done.stdout.splitlines()]
    return {entry["url"]: entry["items"] for entry in found}


def claim_of(ident: str) -> str:
    (path,) = (REPO / "content/facts").rglob(f"{ident}.yaml")
    return yaml.safe_load(path.read_text())["claim"]


def one_organisation_or_none(item: dict) -> bool:
    """The archive as one single-field name, or no creator at all: never a person split at a space."""
    return all(set(c) == {"name", "creatorType"} and c["name"] == ARCHIVE for c in item["creators"])


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


PERMALINKS = "https://example.github.io/annals/"
FACTS = ["2017-06-oir-weapons-released", "2016-10-to-11-oir-weapons-released", "2017-07-tillerson-much-work-to-be-done"]
# A page of every other kind Zotero may be pointed at, with the title its item should have: what the page is
# about, without the archive's name (that is the website title) and without a final full stop.
OTHER_PAGES = {
    "": ARCHIVE, "sources/mosul-airstrikes-record-level/": "US and Coalition Airstrikes against ISIS in Mosul Reach "
    "Record Level", "timeline/2017/06/": "June 2017", "timeline/2016/": "2016",
    "operations/mosul-offensive/": "Mosul offensive", "metrics/weapons-released/": "Weapons released",
    "timeline/": "Timeline", "operations/": "Operations", "sources/": "Sources", "articles/": "Articles",
    "metrics/": "Metrics", "search/": "Search",
}
ARTICLE = "articles/two-peaks-of-the-air-war/"


@pytest.fixture(scope="module")
def embedded_items(embedded_build):
    """Zotero's items for pages of each kind of the embedded archive, built as committed (see conftest)."""
    handler = functools.partial(_Quiet, directory=str(embedded_build))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_port}/"
        pages = [f"facts/{i}/" for i in FACTS] + [f"facts/{FACTS[0]}/v/1/", ARTICLE, *OTHER_PAGES]
        try:
            items = capture(*(base + p for p in pages))
        finally:
            httpd.shutdown()
    return {p: items[base + p] for p in pages}


@pytest.mark.parametrize("ident", FACTS)
def test_a_fact_page_saves_as_a_web_page_by_the_archive(embedded_items, ident):
    (item,) = embedded_items[f"facts/{ident}/"]
    assert item["itemType"] == "webpage"  # not a journal article
    claim = claim_of(ident)
    assert claim.endswith(".") and item["title"] == claim[:-1]
    assert one_organisation_or_none(item), item["creators"]
    assert item["websiteTitle"] == ARCHIVE
    assert item["date"] == "2026-01-02"  # the fact's last change: conftest.EMBEDDED_COMMIT
    assert item["url"] == f"{PERMALINKS}facts/{ident}/"
    # What the page head once made of the sources and the period: a journal and an archive location.
    assert "publicationTitle" not in item and "archiveLocation" not in item


def test_a_version_page_saves_as_a_web_page_at_its_own_address(embedded_items):
    (item,) = embedded_items[f"facts/{FACTS[0]}/v/1/"]
    assert item["itemType"] == "webpage" and item["title"] == claim_of(FACTS[0])[:-1]
    assert one_organisation_or_none(item), item["creators"]
    assert item["websiteTitle"] == ARCHIVE and item["date"] == "2026-01-02"  # the version's commit
    assert item["url"] == f"{PERMALINKS}facts/{FACTS[0]}/v/1/"


@pytest.mark.parametrize("path", OTHER_PAGES)
def test_every_other_page_saves_as_a_web_page_of_the_archive_at_its_permalink(embedded_items, path):
    """Home, source, month, year, operation, metric and list pages: not the bare item Zotero makes of a page it
    cannot read (the title with the archive's name after it, the address it was served from, no website)."""
    (item,) = embedded_items[path]
    assert item["itemType"] == "webpage"
    assert item["title"] == OTHER_PAGES[path] and not item["title"].endswith(".")
    assert one_organisation_or_none(item), item["creators"]
    assert item["websiteTitle"] == ARCHIVE
    assert item["url"] == PERMALINKS + path


@pytest.mark.parametrize("path", ["sources/mosul-airstrikes-record-level/", "timeline/2017/06/",
                                  "operations/mosul-offensive/", ""])
def test_every_other_page_is_dated_by_its_last_change(embedded_items, path):
    (item,) = embedded_items[path]
    assert item.get("date") == "2026-01-02"


def test_an_article_page_saves_as_a_web_page_by_its_authors(embedded_items):
    (item,) = embedded_items[ARTICLE]
    assert item["itemType"] == "webpage"
    assert item["title"] == "Two peaks of the air war: Mosul 2016 and 2017"
    # The article's one author, as Zotero writes any name without a comma: given name, then family name.
    assert item["creators"] == [{"firstName": "Annals", "lastName": "editors", "creatorType": "author"}]
    assert item["websiteTitle"] == ARCHIVE
    assert item["date"] == "2026-11-22"
    assert item["url"] == PERMALINKS + ARTICLE


def test_people_and_a_publisher_come_through_as_written(site, tmp_path, http_server):
    """An archive with a publisher and an article by two people, one written 'Family, Given': the people are
    persons, and no page of any kind names the archive or its publisher as a person."""
    root = site({
        "content/site.yaml": """\
            title: Test Archive
            description: A small archive written by a test.
            base_url: https://example.org/archive/
            language: en
            licence: CC BY 4.0
            publisher: Example Research Group
            """,
        "content/articles/a-note.md": """\
            ---
            title: "A note on June: what the figures say."
            date: 2025-03-04
            summary: A short note.
            authors: [Jane Q. Doe, "Roe, Richard"]
            ---
            June was busy [[fact:f-june]].
            """,
        "content/sources/src-1.yaml": "title: A report on June.\nkind: report\n",
        "content/sources/src-2.yaml": "title: A report to the U.S.\nkind: report\n",
    })
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one", when="2024-05-06T07:08:09+00:00")
    assert annals(root).code == 0
    base = http_server(root / "_site")
    titles = {"facts/f-june/": "100 weapons were released in June 2017", "articles/a-note/":
              "A note on June: what the figures say", "sources/src-1/": "A report on June",
              "sources/src-2/": "A report to the U.S.", "timeline/2017/06/": "June 2017",
              "operations/op-b/": "Operation B", "": "Test Archive"}
    items = capture(*(base + p for p in titles))
    for path, title in titles.items():
        (item,) = items[base + path]
        assert item["itemType"] == "webpage" and item["title"] == title, path
        assert item["websiteTitle"] == "Test Archive" and item["url"] == "https://example.org/archive/" + path
        if path != "articles/a-note/":
            assert item["creators"] == [], (path, item["creators"])
    (fact,) = items[base + "facts/f-june/"]
    assert fact["date"] == "2024-05-06"
    (article,) = items[base + "articles/a-note/"]
    assert article["creators"] == [{"firstName": "Jane Q.", "lastName": "Doe", "creatorType": "author"},
                                   {"firstName": "Richard", "lastName": "Roe", "creatorType": "author"}]
    assert article["date"] == "2025-03-04"


def test_the_head_names_no_creator_zotero_would_split(embedded_build):
    """Every creator tag Embedded Metadata reads (Highwire citation_author/editor, DC.creator and DC.contributor,
    dcterms, author, article:author) goes through Zotero's cleanAuthor, which makes a person of any name with
    a space; only an article's own authors, who are people, are named so."""
    creator_tags = re.compile(r'<meta (?:name|property)="(?:[^"]*citation_author|[^"]*citation_editor|DC\.creator|'
                              r'DC\.contributor|dcterms\.\w+|author|article:author)"', re.IGNORECASE)
    for page in embedded_build.rglob("*.html"):
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        found = creator_tags.findall(head)
        if page.parent.name == "two-peaks-of-the-air-war":
            assert found == ['<meta name="DC.creator"'], page
        else:
            assert found == [], page
