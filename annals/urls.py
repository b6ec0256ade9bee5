"""The permalink scheme, and nothing else knows it.

A page is addressed by its *path*: '' for home, 'facts/<id>/' for a fact,
'data/facts.json' for a file. Links between pages are always relative, so the
same output works at a sub-path on GitHub Pages and opened from disk; the
offline flavour spells out 'index.html' because file:// does not.
"""
from __future__ import annotations

from urllib.parse import urlsplit


def home() -> str:
    return ""


def fact(ident: str) -> str:
    return f"facts/{ident}/"


def fact_id(path: str) -> str | None:
    """The fact id a path is the permalink of, or None: the inverse of `fact`."""
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "facts" and parts[1] and parts[2] == "":
        return parts[1]
    return None


def timeline() -> str:
    return "timeline/"


def year(y: int) -> str:
    return f"timeline/{y:04d}/"


def month(ym: tuple[int, int]) -> str:
    return f"timeline/{ym[0]:04d}/{ym[1]:02d}/"


def operations() -> str:
    return "operations/"


def operation(ident: str) -> str:
    return f"operations/{ident}/"


def sources() -> str:
    return "sources/"


def source(ident: str) -> str:
    return f"sources/{ident}/"


def articles() -> str:
    return "articles/"


def article(slug: str) -> str:
    return f"articles/{slug}/"


def metrics() -> str:
    return "metrics/"


def metric(ident: str) -> str:
    return f"metrics/{ident}/"


def search() -> str:
    return "search/"


def facts_json() -> str:
    return "data/facts.json"


def facts_schema() -> str:
    return "data/facts.schema.json"


def facts_csv() -> str:
    return "data/facts.csv"


def month_facts(ym: tuple[int, int]) -> str:
    return month(ym) + "facts.json"


def operation_facts(ident: str) -> str:
    return operation(ident) + "facts.json"


def feed() -> str:
    return "feed.xml"


def sitemap() -> str:
    return "sitemap.xml"


def search_index() -> str:
    """A script, not JSON: a page opened from file:// may load scripts but not fetch()."""
    return "search/search-index.js"


def offline_zip() -> str:
    return "annals-offline.zip"


def not_found() -> str:
    return "404.html"


def nojekyll() -> str:
    return ".nojekyll"


def cname() -> str:
    return "CNAME"


def static(name: str) -> str:
    return f"static/{name}"


def output_file(path: str) -> str:
    """The file a path is written to, relative to the output folder."""
    return path + "index.html" if path == "" or path.endswith("/") else path


def relative(from_path: str, to_path: str, offline: bool = False) -> str:
    """A link from the page at `from_path` to `to_path` that needs no server."""
    return linker(from_path, offline)(to_path)


def linker(from_path: str, offline: bool = False):
    """`relative` from one page to any path, with the page's own folder worked out once.

    Plain string work on '/'-separated paths: a page holds dozens of links, and
    posixpath.relpath's normalising was a fifth of a whole build.
    """
    here = output_file(from_path).split("/")[:-1]
    depth = len(here)

    def link(to_path: str) -> str:
        folder = not offline and (to_path == "" or to_path.endswith("/"))
        target = (output_file(to_path) if offline else to_path).split("/")
        if folder:
            target.pop()  # the '' after the final '/'
        common = 0
        for a, b in zip(here, target):
            if a != b:
                break
            common += 1
        parts = [".."] * (depth - common) + target[common:]
        if folder:
            return "/".join(parts) + "/" if parts else "./"
        return "/".join(parts)

    return link


def root_relative(base_url: str, path: str) -> str:
    """'/repo/static/style.css' for a site at https://owner.github.io/repo/."""
    return urlsplit(base_url).path.rstrip("/") + "/" + path


def absolute(base_url: str, path: str) -> str:
    return base_url + path
