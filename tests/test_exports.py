"""Exports: the facts as JSON (valid against the schema beside it) and CSV, an Atom feed, a sitemap."""
import csv
import io
import json
from pathlib import Path

import feedparser
import jsonschema
import pytest
import xmlschema
from lxml import html as lxml_html

from conftest import REPO, annals, write_files

BASE = "https://example.github.io/annals/"
SITEMAP_XSD = Path(__file__).parent / "sitemap.xsd"


def fact_ids(root: Path) -> set[str]:
    return {p.stem for p in (root / "content/facts").rglob("*.yaml")}


def validator(out: Path) -> jsonschema.Draft202012Validator:
    schema = json.loads((out / "data/facts.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


# -- JSON -----------------------------------------------------------------------------

def test_facts_json_holds_every_fact_and_matches_its_schema(embedded_build):
    data = json.loads((embedded_build / "data/facts.json").read_text())
    validator(embedded_build).validate(data)
    assert {f["id"] for f in data["facts"]} == fact_ids(REPO)
    assert data["count"] == len(data["facts"])
    fact = next(f for f in data["facts"] if f["id"] == "2017-06-oir-weapons-released")
    assert fact["measure"]["value"] == 4848 and isinstance(fact["measure"]["value"], int)
    assert fact["when"] == {"iso": "2017-06", "precision": "month", "first": "2017-06-01",
                            "last": "2017-06-30", "label": "June 2017"}
    assert fact["permalink"] == BASE + "facts/2017-06-oir-weapons-released/"
    assert fact["sources"][0]["quote"] == "dropping 4,848 weapons last month"
    assert fact["last_changed"] == "2026-01-02T03:04:05Z"  # see conftest.EMBEDDED_COMMIT


def test_the_schema_rejects_what_the_export_must_not_contain(embedded_build):
    check = validator(embedded_build)
    data = json.loads((embedded_build / "data/facts.json").read_text())
    fact = next(f for f in data["facts"] if f["measure"])
    for broken in ({**fact, "measure": {**fact["measure"], "value": "4,848"}},
                   {**fact, "sources": []},
                   {**fact, "kind": "rumour"},
                   {**fact, "extra": 1}):
        assert not check.is_valid({**data, "facts": [broken]})


def test_disputes_ranges_and_statements_in_json(embedded_build):
    facts = {f["id"]: f for f in json.loads((embedded_build / "data/facts.json").read_text())["facts"]}
    disputed = [f for f in facts.values() if f["disputed_with"]]
    for fact in disputed:  # disputes are mutual
        assert all(fact["id"] in facts[other]["disputed_with"] for other in fact["disputed_with"])
    assert facts["2016-10-to-11-oir-weapons-released"]["when"]["precision"] == "range"
    assert facts["2017-07-tillerson-much-work-to-be-done"]["kind"] == "statement"
    assert facts["2017-07-tillerson-much-work-to-be-done"]["speaker"] == "Rex Tillerson"


def test_month_and_operation_files(embedded_build):
    check = validator(embedded_build)
    month = json.loads((embedded_build / "timeline/2017/06/facts.json").read_text())
    check.validate(month)
    assert month["month"] == "2017-06"
    assert "2017-06-oir-weapons-released" in [f["id"] for f in month["facts"]]
    assert all(f["when"]["last"].startswith("2017-06") for f in month["facts"])
    op = json.loads((embedded_build / "operations/inherent-resolve/facts.json").read_text())
    check.validate(op)
    ids = [f["id"] for f in op["facts"]]
    assert "2016-10-17-mosul-offensive-launched" in ids  # rolled up from its sub-operation
    assert len(ids) == len(set(ids))
    for folder in (embedded_build / "timeline").glob("*/*/"):
        assert (folder / "facts.json").is_file(), folder
    for yaml in (REPO / "content/operations").glob("*.yaml"):
        check.validate(json.loads((embedded_build / "operations" / yaml.stem / "facts.json").read_text()))


def test_decimal_values_stay_numbers(site):
    root = site({"content/facts/2017/f-june.yaml": """\
        claim: 12.5 weapons.
        when: 2017-06
        measure:
          metric: weapons-released
          value: 12.5
          aggregation: period
          approx: about
        sources:
          - source: src-1
            quote: "12.5"
        """})
    assert annals(root).code == 0
    fact = next(f for f in json.loads((root / "_site/data/facts.json").read_text())["facts"] if f["id"] == "f-june")
    assert fact["measure"]["value"] == 12.5 and fact["measure"]["approx"] == "about"


# -- CSV -------------------------------------------------------------------------------

def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_one_row_per_fact(embedded_build):
    raw = (embedded_build / "data/facts.csv").read_bytes()
    rows = read_csv(embedded_build / "data/facts.csv")
    assert {r["id"] for r in rows} == fact_ids(REPO) and len(rows) == len(fact_ids(REPO))
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == len(rows) + 1  # CRLF after each record only
    row = next(r for r in rows if r["id"] == "2017-06-oir-weapons-released")
    assert (row["value"], row["metric"], row["when"], row["precision"]) == ("4848", "weapons-released", "2017-06", "month")
    assert row["sources"] == "june-2017-airstrike-record-article; june-2017-airstrike-record-article"
    assert row["quotes"].split("\n") == ["dropping 4,848 weapons last month",
                                         "in June set another record for the most airstrikes"]
    assert row["permalink"] == BASE + "facts/2017-06-oir-weapons-released/"


def test_csv_quotes_as_rfc_4180_says(site):
    claim = 'He said "over 2,000, maybe more"; then left.'
    root = site({"content/facts/2017/f-event.yaml": f"""\
        claim: '{claim}'
        places: [Iraq, Syria]
        sources:
          - source: src-1
            quote: 'said "over 2,000"'
        """})
    assert annals(root).code == 0
    raw = (root / "_site/data/facts.csv").read_bytes().decode()
    header, *records = raw.split("\r\n")
    assert header.split(",")[:4] == ["id", "permalink", "claim", "kind"]
    assert records[-1] == "" and len(records) == 3  # two facts and the final CRLF
    assert '"He said ""over 2,000, maybe more""; then left."' in raw
    row = next(r for r in read_csv(root / "_site/data/facts.csv") if r["id"] == "f-event")
    assert row["claim"] == claim and row["places"] == "Iraq; Syria" and row["value"] == ""
    assert row["last_changed"] == ""  # no git history here


# -- sources with archived copies, in every export that names a source --------------------

WAYBACK = "https://web.archive.org/web/20200503101112/https://example.org/reports/one"
ARCHIVED = {
    "content/sources/src-1.yaml": f"""\
        title: A report
        kind: report
        url: https://example.org/reports/one
        archived: {WAYBACK}
        archived_date: 2020-05-03
        """,
    "content/sources/src-2.yaml": "title: A page only the archive keeps\nkind: web-page\n"
                                  "archived: https://web.archive.org/web/2019/https://example.org/gone\n",
    "content/sources/src-3.yaml": "title: A plain report\nkind: report\n",
    "content/facts/2017/f-event.yaml": """\
        claim: Something happened.
        when: 2017-06-09
        operations: [op-b]
        sources:
          - source: src-3
            quote: "something"
          - source: src-1
            quote: "happened"
          - source: src-2
            quote: "it did"
        """,
    "content/facts/2017/f-plain.yaml": "claim: Something else.\nwhen: 2017-06\noperations: [op-b]\n"
                                       "sources:\n  - source: src-3\n    quote: \"else\"\n",
}


def test_every_data_file_names_a_sources_archived_copy_and_matches_the_schema(site):
    root = site(ARCHIVED)
    assert annals(root).code == 0
    out = root / "_site"
    check = validator(out)
    for path in ("data/facts.json", "timeline/2017/06/facts.json", "operations/op-a/facts.json"):
        data = json.loads((out / path).read_text())
        check.validate(data)
        facts = {f["id"]: f for f in data["facts"]}
        assert [(s["source"], s["url"], s["archived"], s["archived_date"]) for s in facts["f-event"]["sources"]] == [
            ("src-3", None, None, None), ("src-1", "https://example.org/reports/one", WAYBACK, "2020-05-03"),
            ("src-2", None, "https://web.archive.org/web/2019/https://example.org/gone", None)], path
        assert facts["f-plain"]["sources"][0]["archived"] is None
    fact = json.loads((out / "data/facts.json").read_text())["facts"][0]
    for broken in ("web archive", 2020):  # an address, not words or a number
        source = {**fact["sources"][0], "archived": broken}
        assert not check.is_valid({"$schema": "x", "archive": "A", "base_url": "https://a.example/", "licence": "L",
                                   "language": "en", "count": 1, "facts": [{**fact, "sources": [source]}]})


def test_csv_names_each_sources_archived_copy_in_the_order_of_sources(site):
    root = site(ARCHIVED)
    assert annals(root).code == 0
    rows = {r["id"]: r for r in read_csv(root / "_site/data/facts.csv")}
    event = rows["f-event"]
    assert event["sources"] == "src-3; src-1; src-2"
    assert event["archived"].split("\n") == ["", WAYBACK, "https://web.archive.org/web/2019/https://example.org/gone"]
    assert event["archived_date"].split("\n") == ["", "2020-05-03", ""]
    assert (rows["f-plain"]["archived"], rows["f-plain"]["archived_date"]) == ("", "")  # none: nothing
    header = (root / "_site/data/facts.csv").read_bytes().decode().split("\r\n")[0].split(",")
    assert header[-3:] == ["last_changed", "archived", "archived_date"]  # the columns before them stay where they were


def test_the_feed_names_a_sources_archived_copy(site):
    root = site(ARCHIVED)
    assert annals(root).code == 0
    feed = feedparser.parse((root / "_site/feed.xml").read_bytes())
    (entry,) = [e for e in feed.entries if e.id.endswith("/facts/f-event/")]
    assert f"https://example.org/reports/one, archived 3 May 2020 at {WAYBACK}" in entry.summary


# -- Atom feed -----------------------------------------------------------------------

def test_feed_parses_with_an_entry_per_fact(embedded_build):
    feed = feedparser.parse((embedded_build / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == len(fact_ids(REPO))
    assert {e.id for e in feed.entries} == {BASE + f"facts/{i}/" for i in fact_ids(REPO)}
    assert all(e.link == e.id and e.updated_parsed for e in feed.entries)
    assert feed.feed.links[0].href == BASE + "feed.xml"
    times = [e.updated_parsed for e in feed.entries]
    assert times == sorted(times, reverse=True)


def test_feed_dates_without_git_come_from_the_facts(site):
    root = site({"content/facts/undated.yaml": """\
        claim: Undated.
        sources:
          - source: src-1
            quote: "x"
        """})
    assert annals(root).code == 0
    feed = feedparser.parse((root / "_site/feed.xml").read_bytes())
    assert not feed.bozo
    updated = {e.id.rsplit("/", 2)[1]: e.updated for e in feed.entries}
    assert updated == {"f-event": "2017-07-09T00:00:00Z", "f-june": "2017-06-30T00:00:00Z",
                       "undated": "2017-07-09T00:00:00Z"}
    assert feed.feed.updated == "2017-07-09T00:00:00Z"
    # Newest first; the fact of no known date, as new as the newest, after the dated ones as new.
    assert [e.id.rsplit("/", 2)[1] for e in feed.entries] == ["f-event", "undated", "f-june"]


def test_every_page_links_the_feed_and_the_data(embedded_build):
    for page in ["index.html", "facts/2017-06-oir-weapons-released/index.html", "404.html"]:
        doc = lxml_html.fromstring((embedded_build / page).read_bytes())
        (feed,) = doc.xpath("//head/link[@rel='alternate'][@type='application/atom+xml']/@href")
        hrefs = doc.xpath("//footer//a/@href")
        if page != "404.html":  # the 404 page links from the site root, see render.link
            assert (embedded_build / page).parent.joinpath(feed).resolve() == (embedded_build / "feed.xml").resolve()
            for href in hrefs:
                assert (embedded_build / page).parent.joinpath(href).is_file(), href
        assert any(h.endswith("data/facts.csv") for h in hrefs)
    month = lxml_html.fromstring((embedded_build / "timeline/2017/06/index.html").read_bytes())
    assert month.xpath("//head/link[@type='application/json']/@href") == ["facts.json"]
    op = lxml_html.fromstring((embedded_build / "operations/mosul-offensive/index.html").read_bytes())
    assert "facts.json" in op.xpath("//main//a/@href")


# -- sitemap ---------------------------------------------------------------------------

def test_sitemap_is_valid_and_lists_every_html_page(embedded_build):
    schema = xmlschema.XMLSchema(SITEMAP_XSD)
    schema.validate(str(embedded_build / "sitemap.xml"))
    locs = [u["sm:loc"] for u in schema.to_dict(str(embedded_build / "sitemap.xml"),
                                                  namespaces={"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"})["sm:url"]]
    pages = set()
    for path in embedded_build.rglob("*.html"):
        rel = path.relative_to(embedded_build).as_posix()
        text = path.read_text()
        if rel == "404.html" or '<meta name="robots" content="noindex">' in text:  # redirects, tombstones
            continue
        pages.add(BASE + rel.removesuffix("index.html"))
    assert set(locs) == pages and len(locs) == len(pages)


def test_sitemap_follows_new_pages_and_base_url(site):
    root = site()
    assert annals(root, "--base-url", "https://owner.github.io/repo/").code == 0
    before = (root / "_site/sitemap.xml").read_text()
    assert "<loc>https://owner.github.io/repo/sources/src-1/</loc>" in before
    write_files(root, {"content/sources/src-2.yaml": "title: Another\nkind: report\n"})
    assert annals(root, "--base-url", "https://owner.github.io/repo/").code == 0
    after = (root / "_site/sitemap.xml").read_text()
    assert "<loc>https://owner.github.io/repo/sources/src-2/</loc>" in after


def test_the_schema_rejects_a_broken_sitemap():
    schema = xmlschema.XMLSchema(SITEMAP_XSD)
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    assert schema.is_valid(f"<urlset {ns}><url><loc>https://a.example/x/</loc><lastmod>2020-01-02</lastmod></url></urlset>")
    assert not schema.is_valid(f"<urlset {ns}><url><loc>x/</loc></url></urlset>")
    assert not schema.is_valid(f"<urlset {ns}><url><lastmod>2020-01-02</lastmod></url></urlset>")
    assert not schema.is_valid(f"<urlset {ns}><url><loc>https://a.example/x/</loc><priority>2</priority></url></urlset>")


# -- determinism -----------------------------------------------------------------------

def test_exports_are_the_same_bytes_every_build(site, tmp_path):
    root = site()
    assert annals(root, "--out", str(tmp_path / "one")).code == 0
    assert annals(root, "--out", str(tmp_path / "two")).code == 0
    for rel in ["data/facts.json", "data/facts.csv", "data/facts.schema.json", "feed.xml", "sitemap.xml",
                "timeline/2017/06/facts.json", "operations/op-a/facts.json", "facts/f-june/index.html"]:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel
