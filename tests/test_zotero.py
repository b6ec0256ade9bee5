"""What Zotero saves from a page: its own translators, run by its translation server on pages served from 127.0.0.1.

The same translators run when a reader clicks "Save to Zotero" and when a
Wikipedia editor cites a URL with Citoid, so these items are what citers get.
The tool is ../shared/tools/zotero/capture (its README says how it works offline).
"""
import functools
import http.server
import json
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


@pytest.fixture(scope="module")
def embedded_items(embedded_build):
    """Zotero's items for pages of each kind of the embedded archive, built as committed (see conftest)."""
    handler = functools.partial(_Quiet, directory=str(embedded_build))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_port}/"
        pages = ["facts/2017-06-oir-weapons-released/", "facts/2016-10-to-11-oir-weapons-released/",
                 "facts/2017-07-tillerson-much-work-to-be-done/", "articles/two-peaks-of-the-air-war/"]
        try:
            items = capture(*(base + p for p in pages))
        finally:
            httpd.shutdown()
    return {p: items[base + p] for p in pages}


@pytest.mark.parametrize("ident", ["2017-06-oir-weapons-released", "2016-10-to-11-oir-weapons-released",
                                   "2017-07-tillerson-much-work-to-be-done"])
def test_a_fact_page_saves_as_a_web_page_by_the_archive(embedded_items, ident):
    (item,) = embedded_items[f"facts/{ident}/"]
    assert item["itemType"] == "webpage"  # not a journal article
    claim = claim_of(ident)
    assert claim.endswith(".") and item["title"] == claim[:-1]
    assert one_organisation_or_none(item), item["creators"]
    assert item["websiteTitle"] == ARCHIVE
    assert item["date"] == "2026-01-02"  # the fact's last change: conftest.EMBEDDED_COMMIT
    assert item["url"] == f"https://example.github.io/annals/facts/{ident}/"
    # What the page head once made of the sources and the period: a journal and an archive location.
    assert "publicationTitle" not in item and "archiveLocation" not in item


def test_an_article_page_saves_as_a_web_page_by_its_authors(embedded_items):
    (item,) = embedded_items["articles/two-peaks-of-the-air-war/"]
    assert item["itemType"] == "webpage"
    assert item["title"] == "Two peaks of the air war: Mosul 2016 and 2017"
    # The article's one author, as Zotero writes any name without a comma: given name, then family name.
    assert item["creators"] == [{"firstName": "Annals", "lastName": "editors", "creatorType": "author"}]
    assert item["websiteTitle"] == ARCHIVE
    assert item["date"] == "2026-11-22"
    assert item["url"] == "https://example.github.io/annals/articles/two-peaks-of-the-air-war/"


def test_people_and_a_publisher_come_through_as_written(site, tmp_path, http_server):
    """An archive with a publisher and an article by two people, one written 'Family, Given'."""
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
    })
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one", when="2024-05-06T07:08:09+00:00")
    assert annals(root).code == 0
    base = http_server(root / "_site")
    items = capture(base + "facts/f-june/", base + "articles/a-note/")
    (fact,) = items[base + "facts/f-june/"]
    assert fact["itemType"] == "webpage" and fact["title"] == "100 weapons were released in June 2017"
    assert all("firstName" not in c for c in fact["creators"])
    assert fact["websiteTitle"] == "Test Archive" and fact["date"] == "2024-05-06"
    assert fact["url"] == "https://example.org/archive/facts/f-june/"
    (article,) = items[base + "articles/a-note/"]
    assert article["itemType"] == "webpage" and article["title"] == "A note on June: what the figures say"
    assert article["creators"] == [{"firstName": "Jane Q.", "lastName": "Doe", "creatorType": "author"},
                                   {"firstName": "Richard", "lastName": "Roe", "creatorType": "author"}]
    assert article["date"] == "2025-03-04" and article["url"] == "https://example.org/archive/articles/a-note/"
