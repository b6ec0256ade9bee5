"""The permalink scheme, and nothing else knows it.

A page is addressed by its *path*: '' for home, 'facts/<id>/' for a fact,
'data/facts.json' for a file. Links between pages are always relative, so the
same output works at a sub-path on GitHub Pages and opened from disk; the
offline flavour spells out 'index.html' because file:// does not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit


def home() -> str:
    return ""


def fact(ident: str) -> str:
    return f"facts/{ident}/"


def version(ident: str, number: int) -> str:
    """One version of a fact, as it was committed: the n-th under that id (see annals.versions)."""
    return f"facts/{ident}/v/{number}/"


def fact_id(path: str) -> str | None:
    """The fact id a path is the permalink of, or None: the inverse of `fact`."""
    parsed = parse(path)
    return parsed[1] if parsed is not None and parsed[0] == "fact" else None


def timeline() -> str:
    return "timeline/"


def year(y: int) -> str:
    return f"timeline/{y:04d}/"


def month(ym: tuple[int, int]) -> str:
    return f"timeline/{ym[0]:04d}/{ym[1]:02d}/"


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


def is_page(path: str) -> bool:
    """Whether a path is an HTML page, written as its folder's index.html, rather than a file."""
    return path == "" or path.endswith("/")


def output_file(path: str) -> str:
    """The file a path is written to, relative to the output folder."""
    return path + "index.html" if is_page(path) else path


def page_path(rel: str) -> str:
    """The path written to the file `rel` in the output folder: output_file the other way."""
    if rel == "index.html":
        return ""
    return rel.removesuffix("index.html") if rel.endswith("/index.html") else rel


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
        folder = not offline and is_page(to_path)
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


# -- the scheme read backwards ------------------------------------------------

_ID = "[a-z0-9]+(?:-[a-z0-9]+)*"
_YEAR = "(?!0000)[0-9]{4}"
_MONTH = "0[1-9]|1[0-2]"


def _fixed_paths() -> dict[str, str]:
    """The addresses every archive has, each with its kind of page: all but the groups' index."""
    return {home(): "home", timeline(): "timeline", sources(): "sources",
            articles(): "articles", metrics(): "metrics", search(): "search", search_index(): "search-index",
            facts_json(): "facts-json", facts_schema(): "facts-schema", facts_csv(): "facts-csv",
            feed(): "feed", sitemap(): "sitemap", offline_zip(): "offline-zip", not_found(): "404"}


_PATTERNS = tuple((kind, re.compile(pattern), key) for kind, pattern, key in (
    ("fact", rf"facts/({_ID})/", str),
    ("version", rf"facts/({_ID})/v/([1-9][0-9]*)/", lambda i, n: (i, int(n))),
    ("year", rf"timeline/({_YEAR})/", int),
    ("month", rf"timeline/({_YEAR})/({_MONTH})/", lambda y, m: (int(y), int(m))),
    ("month-json", rf"timeline/({_YEAR})/({_MONTH})/facts\.json", lambda y, m: (int(y), int(m))),
    ("source", rf"sources/({_ID})/", str),
    ("article", rf"articles/({_ID})/", str),
    ("metric", rf"metrics/({_ID})/", str),
))

# A group's pages, under the segment its archive names (see Scheme): the segment is the first group.
_GROUP_PATTERNS = tuple((kind, re.compile(pattern), key) for kind, pattern, key in (
    ("operations", rf"({_ID})/", lambda segment: None),
    ("operation", rf"({_ID})/({_ID})/", lambda segment, ident: ident),
    ("operation-json", rf"({_ID})/({_ID})/facts\.json", lambda segment, ident: ident),
))

# -- an archive's groups: their pages live under a segment of its own ---------------------

DEFAULT_GROUPS = "operations"
# The first segment of every other path the site has, and CNAME, which a disk that ignores
# case takes for a folder 'cname/': no archive's groups may live under one of them.
RESERVED = frozenset({"facts", "timeline", "sources", "articles", "metrics", "search", "data", "static", "cname"})


def parse(path: str) -> tuple[str, object] | None:
    """What a path is in the scheme of any archive, as (kind, key): ('fact', 'x'), ('month', (2017, 6)),
    ('home', None); a group's pages under any segment that is no other page's.

    For a path read before the archive's own segment is known (an old address in
    redirects.yaml, which may be under a segment the archive used to have);
    `Scheme.parse` knows only the archive's own. None for a path no archive
    makes. Static files are left out: they are the project's own files, not pages.
    """
    kind = _fixed_paths().get(path)
    if kind is not None:
        return kind, None
    for kind, pattern, key in _PATTERNS:
        match = pattern.fullmatch(path)
        if match:
            return kind, key(*match.groups())
    for kind, pattern, key in _GROUP_PATTERNS:
        match = pattern.fullmatch(path)
        if match and match.group(1) not in RESERVED:
            return kind, key(*match.groups())
    return None


def kinds() -> frozenset[str]:
    """Every kind `parse` answers."""
    return frozenset(_fixed_paths().values()) | {kind for kind, _, _ in _PATTERNS + _GROUP_PATTERNS}


@dataclass(frozen=True)
class Scheme:
    """One archive's permalink scheme: the paths above, and its groups' pages under `groups`,
    the URL segment its site.yaml names (`groups: {path: ...}`; operations if it names none).

    Templates are given the site's as `u`, so `u.fact(id)` and `u.operation(id)` both work.
    """

    groups: str = DEFAULT_GROUPS

    def operations(self) -> str:
        return f"{self.groups}/"

    def operation(self, ident: str) -> str:
        return f"{self.groups}/{ident}/"

    def operation_facts(self, ident: str) -> str:
        return self.operation(ident) + "facts.json"

    def fixed_paths(self) -> dict[str, str]:
        """The addresses the site always has, each with its kind of page."""
        return {**_fixed_paths(), self.operations(): "operations"}

    def parse(self, path: str) -> tuple[str, object] | None:
        """`parse`, for this archive only: None for a group's page under another segment."""
        parsed = parse(path)
        if parsed is not None and parsed[0] in _GROUP_KINDS and path.split("/", 1)[0] != self.groups:
            return None
        return parsed

    def __getattr__(self, name: str):
        # Every other path is the same in every archive: the module's own function.
        found = globals().get(name)
        if name.startswith("_") or getattr(found, "__module__", None) != __name__ or isinstance(found, type):
            raise AttributeError(name)
        return found


_GROUP_KINDS = frozenset(kind for kind, _, _ in _GROUP_PATTERNS)


def fixed_paths() -> dict[str, str]:
    """The addresses an archive with the default segment always has, each with its kind of page."""
    return Scheme().fixed_paths()
