"""What crawlers and reference managers read of every page: the sitemap's <lastmod>, from git, where a date is
known, and each page's canonical link to its own permalink."""
from pathlib import Path

import xmlschema
from lxml import etree, html as lxml_html

from conftest import EMBEDDED_COMMIT, annals, git, make_site

SITEMAP_XSD = Path(__file__).parent / "sitemap.xsd"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
BASE = "https://example.org/archive/"
EMBEDDED_BASE = "https://example.github.io/annals/"


def lastmods(site: Path) -> dict[str, str | None]:
    """Each URL of the sitemap, from the site's root, and its <lastmod> (None where it has none)."""
    xmlschema.XMLSchema(SITEMAP_XSD).validate(str(site / "sitemap.xml"))
    tree = etree.parse(str(site / "sitemap.xml"))
    return {url.findtext("sm:loc", namespaces=NS).removeprefix(BASE).removeprefix(EMBEDDED_BASE):
            url.findtext("sm:lastmod", namespaces=NS) for url in tree.findall("sm:url", NS)}


def test_each_page_s_lastmod_is_the_newest_commit_of_what_it_shows(tmp_path):
    root = make_site(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "First", when="2026-11-20T10:00:00Z")
    event = root / "content/facts/2017/f-event.yaml"
    event.write_text(event.read_text().replace("Something happened.", "Something else happened."))
    git(root, "commit", "-qam", "Reword", when="2026-11-21T10:00:00Z")
    assert annals(root).code == 0
    first, second = "2026-11-20T10:00:00Z", "2026-11-21T10:00:00Z"
    dates = lastmods(root / "_site")
    assert {path: dates[path] for path in (
        "facts/f-june/", "facts/f-event/", "timeline/2017/06/", "timeline/2017/07/", "timeline/2017/",
        "operations/op-b/", "operations/op-a/", "sources/src-1/", "metrics/weapons-released/", "",
        "timeline/", "search/")} == {
        "facts/f-june/": first, "facts/f-event/": second,
        "timeline/2017/06/": first, "timeline/2017/07/": second, "timeline/2017/": second,
        "operations/op-b/": first, "operations/op-a/": second,  # op-a rolls up op-b's facts and its own
        "sources/src-1/": second, "metrics/weapons-released/": first,
        "": second, "timeline/": second, "search/": second}  # pages of the whole archive: its newest date
    # an edit not committed yet has no date git vouches for: no <lastmod>, never the clock's
    june = root / "content/facts/2017/f-june.yaml"
    june.write_text(june.read_text().replace("100 weapons were", "A hundred weapons were"))
    assert annals(root).code == 0
    dates = lastmods(root / "_site")
    assert dates["facts/f-june/"] is None and dates["timeline/2017/06/"] is None
    assert dates["facts/f-event/"] == second and dates["operations/op-a/"] == second


def test_without_git_no_page_has_a_lastmod(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    dates = lastmods(root / "_site")
    assert "facts/f-june/" in dates and set(dates.values()) == {None}


def check_canonical_links(site: Path, base: str) -> tuple[set[str], int]:
    """Every HTML page names its own permalink as canonical (a redirect, the page it leads to), the 404
    page alone excepted, served as it is at any address. The pages, and how many redirects there are."""
    redirects, pages = 0, set()
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if rel == "404.html":
            continue
        doc = lxml_html.fromstring(path.read_bytes())
        canonical = doc.xpath("//head/link[@rel='canonical']/@href")
        if doc.xpath("//head/meta[@http-equiv='refresh']"):  # an alias or a redirect: where it leads, here
            redirects += 1
            assert len(canonical) == 1 and canonical[0].startswith(base), rel
            assert (site / canonical[0].removeprefix(base) / "index.html").is_file(), rel
            continue
        pages.add(rel)
        assert canonical == [base + rel.removesuffix("index.html")], rel
    return pages, redirects


def test_every_page_has_its_canonical_link_and_the_sitemap_dates_each(embedded_build):
    pages, _ = check_canonical_links(embedded_build, EMBEDDED_BASE)
    assert {"index.html", "search/index.html", "timeline/2017/06/index.html", "articles/index.html",
            "facts/2017-06-oir-weapons-released/v/1/index.html"} <= pages
    # every date known (the whole archive is committed): every page of the sitemap has one
    dates = lastmods(embedded_build)
    stamp = EMBEDDED_COMMIT.replace("+00:00", "Z")
    assert dates and {path: date for path, date in dates.items() if date != stamp} == {}


def test_tombstones_aliases_and_redirects_have_their_canonical_links_too(tmp_path):
    root = make_site(tmp_path, {
        "content/withdrawn/f-gone.yaml": "withdrawn: 2018-03-02\nreason: A duplicate.\n",
        "content/redirects.yaml": "/timeline/2017/05/: /timeline/2017/06/\n"})
    june = root / "content/facts/2017/f-june.yaml"
    june.write_text(june.read_text() + "aliases: [f-june-old]\n")
    assert annals(root).code == 0
    pages, redirects = check_canonical_links(root / "_site", BASE)
    assert redirects == 2 and "facts/f-gone/index.html" in pages
