"""A safe page: a Content-Security-Policy on every page, and nothing in the output loads from another host.

`scan` reads every file of a built site (and every file inside any zip it
holds) and lists what breaks the rule; the tests below run it on the embedded
archive, on an archive whose sources link out, and on sites where a template
plants what the scan must catch.
"""
import html
import io
import re
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import html as lxml_html

from conftest import REPO, annals, copy_embedded, source_urls, write_files

# URIs that name a vocabulary or an XML namespace: identifiers that no reader fetches.
IDENTIFIERS = {
    "http://www.w3.org/2005/Atom", "http://www.sitemaps.org/schemas/sitemap/0.9",
    "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink", "http://www.w3.org/1999/xhtml",
    "https://schema.org", "https://json-schema.org/draft/2020-12/schema",
}
TEXT = {".html", ".css", ".js", ".mjs", ".json", ".xml", ".csv", ".svg", ".txt", ".webmanifest", ".map"}
URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'<>`)\\]*""")
ABSOLUTE_URL = re.compile(r"https?://[^\s\"'<>`)}\\]+")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")
JS_LOAD = re.compile(r"""\b(?:fetch|import|importScripts|XMLHttpRequest|WebSocket|EventSource|sendBeacon)\b""")
# rel values of <link> that only name a URL and load nothing
NAMING_RELS = {"canonical", "alternate", "prev", "next", "license", "author", "home"}


def files(out: Path):
    """(name, bytes) of every file in the output, and of every file inside a zip in it."""
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        rel, data = path.relative_to(out).as_posix(), path.read_bytes()
        yield rel, data
        if path.suffix == ".zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    if not member.endswith("/"):
                        yield f"{rel}!{member}", archive.read(member)


def is_local(url: str) -> bool:
    """A reference that stays in the site: relative, a fragment, or inline data."""
    parts = urlsplit(url.strip())
    return (not parts.scheme and not parts.netloc) or parts.scheme == "data"


def csp_problems(name: str, doc) -> list[str]:
    metas = doc.xpath("//head/meta[translate(@http-equiv, 'CONTENT-SECURITYPOLICY', 'content-securitypolicy')"
                      "='content-security-policy']")
    if len(metas) != 1:
        return [f"{name}: {len(metas)} Content-Security-Policy meta tags"]
    policy = {d.split()[0]: d.split()[1:] for d in metas[0].get("content").split(";") if d.strip()}
    out = []
    for directive, wanted in {"default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"],
                              "object-src": ["'none'"], "base-uri": ["'none'"], "form-action": ["'self'"]}.items():
        if policy.get(directive) != wanted:
            out.append(f"{name}: CSP {directive} is {policy.get(directive)}, not {wanted}")
    if any(s not in ("'self'", "data:") for s in policy.get("img-src", [])):
        out.append(f"{name}: CSP img-src allows {policy['img-src']}")
    head = list(doc.head.iter())
    first_load = next((i for i, el in enumerate(head) if el.tag in ("link", "script", "style")), len(head))
    if head.index(metas[0]) > first_load:
        out.append(f"{name}: the CSP meta comes after a resource, which it would not govern")
    return out


def html_problems(name: str, text: str, base_url: str, external: set[str]) -> list[str]:
    doc = lxml_html.fromstring(text)
    out = csp_problems(name, doc)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("src", "srcset", "poster", "data", "background", "action", "formaction", "ping"):
            value = el.get(attr)
            if value and not all(is_local(part.split()[0]) for part in value.split(",") if part.strip()):
                out.append(f"{name}: <{el.tag} {attr}={value!r}> loads from another host")
        if any(attr.startswith("on") for attr in el.attrib):
            out.append(f"{name}: <{el.tag}> has an inline event handler")
        if "url(" in (el.get("style") or ""):
            out.append(f"{name}: <{el.tag}> style attribute loads a URL")
        href = el.get("href")
        if el.tag == "link" and href is not None:
            rels = set((el.get("rel") or "").lower().split())
            if not (is_local(href) or (rels <= NAMING_RELS and href.startswith(base_url))):
                out.append(f"{name}: <link rel={el.get('rel')!r} href={href!r}> points to another host")
        if el.tag == "a" and href is not None and not (is_local(href) or href.startswith(base_url)):
            if href not in external or "noopener" not in (el.get("rel") or ""):
                out.append(f"{name}: <a href={href!r}> is not a source's own address marked rel=noopener")
        if el.tag == "base":
            out.append(f"{name}: <base> rewrites every relative link")
        if el.tag == "style":
            out.append(f"{name}: inline <style> (blocked by the CSP)")
        if el.tag == "script" and el.get("src") is None and el.get("type") != "application/ld+json":
            out.append(f"{name}: inline <script> code (blocked by the CSP)")
        if el.tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            target = (el.get("content") or "").partition("url=")[2]
            if not is_local(target):
                out.append(f"{name}: refresh to {target!r}")
    return out


def scan(out: Path, base_url: str, external: set[str] = frozenset()) -> list[str]:
    """Every way the built site at `out` would ask another host for something, or lacks its CSP."""
    problems = []
    for name, data in files(out):
        suffix = Path(name.rsplit("!", 1)[-1]).suffix
        if suffix not in TEXT:
            continue
        text = data.decode("utf-8")
        if suffix == ".html":
            problems += html_problems(name, text, base_url, external)
        if suffix in (".css", ".html", ".svg"):
            for match in CSS_URL.finditer(text):
                target = match.group(1) or match.group(2)
                if not is_local(html.unescape(target)):
                    problems.append(f"{name}: CSS loads {target!r}")
        if suffix in (".js", ".mjs") and JS_LOAD.search(text) and URL.search(text):
            problems.append(f"{name}: script loads {URL.search(text).group(0)!r}")
        readable = html.unescape(text) if suffix in (".html", ".xml", ".svg") else text
        readable = readable.replace("\\u0026", "&")  # JSON escapes & inside <script> blocks
        for url in ABSOLUTE_URL.findall(readable):
            url = url.rstrip(".,;")
            if not (url.startswith(base_url) or url.rstrip("/") in IDENTIFIERS or url in external):
                problems.append(f"{name}: names {url}")
    return problems


# -- the real outputs -----------------------------------------------------------------

def test_embedded_archive_loads_nothing_from_other_hosts(embedded_build):
    pages = list(embedded_build.rglob("*.html"))
    assert len(pages) > 40
    assert scan(embedded_build, "https://example.github.io/annals/", source_urls(REPO)) == []


def test_offline_edition_and_other_base_url_too(tmp_path):
    root = copy_embedded(tmp_path)
    out = root / "_offline"
    assert annals(root, "--offline", "--base-url", "https://owner.github.io/repo/", "-q").code == 0
    assert scan(out, "https://owner.github.io/repo/", source_urls(REPO)) == []


def test_a_source_address_is_a_link_out_and_nothing_more(site):
    url = "https://news.example.com/2017/06/record?id=1&x=2"
    root = site({"content/sources/src-1.yaml": f"title: A report\nkind: report\nurl: {url}\n"})
    assert annals(root).code == 0
    out = root / "_site"
    assert scan(out, "https://example.org/archive/", {url}) == []
    # the scan does see it: without the allowance, each place it is named is reported
    named = scan(out, "https://example.org/archive/")
    assert any(p.startswith("sources/src-1/index.html: <a href=") for p in named)
    assert any(p.startswith("data/facts.json: names https://news.example.com") for p in named)


# -- the scan catches what it must ----------------------------------------------------------

PLANTS = {
    "stylesheet": ('<link rel="stylesheet" href="https://fonts.example.net/css">', "points to another host"),
    "protocol-relative": ('<script src="//cdn.example.net/x.js"></script>', "loads from another host"),
    "image": ('<img src="https://tracker.example.net/p.gif" alt="">', "loads from another host"),
    "inline-script": ("<script>document.title = 'ran'</script>", "inline <script>"),
    "inline-style": ("<style>body { color: red }</style>", "inline <style>"),
    "preload": ('<link rel="preload" href="https://example.org/archive/static/style.css">', "points to another host"),
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_scan_reports_a_planted_load(site, plant):
    tag, message = PLANTS[plant]
    root = site()
    base = root / "templates/base.html"
    base.write_text(base.read_text().replace("</head>", tag + "\n</head>"))
    assert annals(root).code == 0
    found = scan(root / "_site", "https://example.org/archive/")
    assert any(p.startswith("facts/f-june/index.html:") and message in p for p in found), found


def test_scan_reports_css_and_script_loads_and_a_missing_policy(site):
    root = site({"static/fonts.css": "@font-face { src: url('https://fonts.example.net/a.woff2'); }\n",
                 "static/app.js": "fetch('https://api.example.net/v1')\n"})
    base = root / "templates/redirect.html"
    base.write_text(base.read_text().replace('<meta http-equiv="Content-Security-Policy" content="{{ csp }}">\n', ""))
    write_files(root, {"content/facts/2017/f-june.yaml": (root / "content/facts/2017/f-june.yaml").read_text()
                       + "aliases: [f-old]\n"})
    assert annals(root).code == 0
    found = scan(root / "_site", "https://example.org/archive/")
    assert "facts/f-old/index.html: 0 Content-Security-Policy meta tags" in found
    assert "static/fonts.css: CSS loads 'https://fonts.example.net/a.woff2'" in found
    assert "static/app.js: script loads 'https://api.example.net/v1'" in found


# -- the policy holds in a real browser ------------------------------------------------------

def test_browser_enforces_the_policy_from_file(site, page):
    root = site()
    base = root / "templates/base.html"
    base.write_text(base.read_text().replace("</body>", "<script>document.title = 'ran'</script>\n</body>"))
    assert annals(root, "--offline").code == 0
    requests, violations = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto((root / "_offline/facts/f-june/index.html").as_uri())
    assert page.title() != "ran", "an inline script ran despite the policy"
    assert violations, "the browser reported no blocked inline script"
    # the site's own stylesheet still applies under the policy
    assert page.evaluate("getComputedStyle(document.querySelector('.masthead')).display") == "flex"
    assert requests and all(url.startswith("file://") for url in requests), requests
