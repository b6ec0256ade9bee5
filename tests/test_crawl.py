"""The web build served like GitHub Pages, at a sub-path of 127.0.0.1, crawled through Chromium from home.

The crawl follows every link inside the sub-path and reports every other
one: on GitHub Pages a root-absolute `/timeline/` leaves `/repo/` for
another site's pages, and a link to another host is allowed only where the
archive means to go out (a source's own `url`, a canonical permalink).
"""
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urldefrag, urlsplit

from conftest import annals, source_urls


class Links(HTMLParser):
    """Every address a page links to, loads or sends a form to: a[href], link[href], script[src], img[src],
    form[action]."""

    ATTRIBUTE = {"a": "href", "link": "href", "script": "src", "img": "src", "form": "action"}

    def __init__(self, url):
        super().__init__()
        self.url, self.found = url, []

    def handle_starttag(self, tag, attrs):
        target = dict(attrs).get(self.ATTRIBUTE.get(tag, ""))
        if target:
            self.found.append(urldefrag(urljoin(self.url, target))[0])


@dataclass
class Crawl:
    seen: set[str] = field(default_factory=set)
    failed: dict[str, int] = field(default_factory=dict)    # url -> HTTP status
    strays: list[str] = field(default_factory=list)         # "page: link: why", for links that leave the site


def stray(link: str, base: str, outbound: set[str]) -> str | None:
    """Why a link found on a page of the site at `base` leaves it, or None if it does not (or may)."""
    if link.startswith(base) or link in outbound:
        return None
    here, there = urlsplit(base), urlsplit(link)
    if (there.scheme, there.netloc) == (here.scheme, here.netloc):
        return f"leaves {here.path} for another path of the same host"
    return "goes to another host, and is not a source's address or a permalink"


def crawl(page, base: str, permalinks: str, outbound: set[str]) -> Crawl:
    """Every page reached from `base` by links, through the browser's own HTTP client.

    `permalinks` is the base URL the site was built for (its canonical links point there) and
    `outbound` the addresses the archive links out to on purpose."""
    done, todo = Crawl(), [base]
    while todo:
        url = todo.pop()
        if url in done.seen:
            continue
        done.seen.add(url)
        response = page.request.get(url, max_redirects=0)
        if response.status != 200:
            done.failed[url] = response.status
            continue
        if response.headers.get("content-type", "").startswith("text/html"):
            links = Links(url)
            links.feed(response.text())
            for link in links.found:
                why = None if link.startswith(permalinks) else stray(link, base, outbound)
                if why:
                    done.strays.append(f"{url.removeprefix(base) or '/'}: {link}: {why}")
                elif link.startswith(base) and link not in done.seen:
                    todo.append(link)
    return done


def test_every_internal_link_answers_200_and_every_page_is_reached(published, page):
    root, base = published

    # Home in the browser itself: it asks nothing of any other host.
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    assert page.goto(base).status == 200
    assert outside == []

    # Then every link, through the browser's own HTTP client.
    done = crawl(page, base, base, source_urls(root))
    assert done.failed == {}
    assert done.strays == []

    # Every page of the archive is reached by links, except the ones nothing should link to.
    site = root / "_site"
    pages = {base + p.relative_to(site).as_posix().removesuffix("index.html") for p in site.rglob("*.html")}
    unlinked = pages - done.seen
    redirects = {u for u in unlinked if 'http-equiv="refresh"' in page.request.get(u).text()}
    assert unlinked - redirects == {base + "404.html"}
    assert base + "annals-offline.zip" in done.seen and base + "search/search-index.js" in done.seen
    assert len(done.seen) > 50


def test_the_crawl_reports_links_that_leave_the_sub_path_or_the_site(site, http_server, page):
    source = "https://news.example.com/2017/06/record"
    root = site({"content/sources/src-1.yaml": f"title: A report\nkind: report\nurl: {source}\n"})
    template = root / "templates/month.html"
    template.write_text(template.read_text().replace(
        "<h1>", '<a href="/timeline/">all months</a> <a href="https://elsewhere.example.net/x">more</a>\n<h1>'))
    base = http_server(root / "_site", "repo")
    # Built for its own base_url, so its canonical links are permalinks on another host.
    assert annals(root, "-q").code == 0

    done = crawl(page, base, "https://example.org/archive/", source_urls(root))
    host = base.removesuffix("repo/")
    assert sorted(done.strays) == [
        f"timeline/2017/{mm}/: {link}: {why}" for mm in ("06", "07") for link, why in [
            (host + "timeline/", "leaves /repo/ for another path of the same host"),
            ("https://elsewhere.example.net/x", "goes to another host, and is not a source's address or a permalink"),
        ]]
    # The source's own address is a link out, and the pages around the planted links were still crawled.
    assert base + "sources/src-1/" in done.seen and done.failed == {}
    assert not (set(done.seen) & {host + "timeline/", "https://elsewhere.example.net/x"})
