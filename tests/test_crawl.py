"""The web build served like GitHub Pages, at a sub-path of 127.0.0.1, crawled through Chromium from home."""
from html.parser import HTMLParser
from urllib.parse import urljoin, urldefrag


class Links(HTMLParser):
    """Every address a page links to or loads: a[href], link[href], script[src], img[src]."""

    def __init__(self, url):
        super().__init__()
        self.url, self.found = url, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        target = attrs.get("href") if tag in ("a", "link") else attrs.get("src") if tag in ("script", "img") else None
        if target:
            self.found.append(urldefrag(urljoin(self.url, target))[0])


def test_every_internal_link_answers_200_and_every_page_is_reached(published, page):
    root, base = published

    # Home in the browser itself: it asks nothing of any other host.
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    assert page.goto(base).status == 200
    assert outside == []

    # Then every internal link, through the browser's own HTTP client.
    seen, todo, failed = set(), [base], {}
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = page.request.get(url, max_redirects=0)
        if response.status != 200:
            failed[url] = response.status
            continue
        if response.headers.get("content-type", "").startswith("text/html"):
            links = Links(url)
            links.feed(response.text())
            todo += [u for u in links.found if u.startswith(base) and u not in seen]
    assert failed == {}

    # Every page of the archive is reached by links, except the ones nothing should link to.
    site = root / "_site"
    pages = {base + p.relative_to(site).as_posix().removesuffix("index.html") for p in site.rglob("*.html")}
    unlinked = pages - seen
    redirects = {u for u in unlinked if 'http-equiv="refresh"' in page.request.get(u).text()}
    assert unlinked - redirects == {base + "404.html"}
    assert base + "annals-offline.zip" in seen and base + "search/search-index.js" in seen
    assert len(seen) > 50
