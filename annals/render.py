"""Jinja2 rendering: autoescaped, strict, and aware of the page it renders for.

Templates are plain files in templates/ that an editor may change; content is
only ever passed to them as data, never compiled as a template itself.
"""
from __future__ import annotations

import hashlib
import re
import traceback
import types
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.nodes
import jinja2.runtime
from markupsafe import Markup

try:  # the C escaper that markupsafe.escape wraps; without it, markupsafe's own function
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - a build of markupsafe without its C speedups
    _escape_inner = None

from . import parallel, theme, urls
from .markup import Markdown, Resolver
from .model import Groups
from .pages import Page, Reader, Row
from .periods import MONTHS
from .problems import Loc, Problem

# Every page may load only files of its own site: no CDN, font or tracker can be
# slipped in by a template or by content, and inline <script> never runs. A data
# block (<script type="application/ld+json">) is not executed, so it needs no exception.
# Forms may only submit to the site itself: the search boxes go to its search page.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'")

APPROX_WORDS = {"exact": "", "about": "about ", "at-least": "at least ", "at-most": "at most "}


# Marks in a page rendered for both editions at once (see Renderer.render_both).
# Content can never hold them: the loader refuses control characters in every file.
_FOLDER = "\x1f"      # after a link to a folder: nothing on the web, 'index.html' offline
_HERE = "\x1a"        # a link to the page's own folder: './' on the web, 'index.html' offline
_OPEN = {"web": "\x1c", "offline": "\x1d"}  # starts a block for one edition only
_CLOSE = "\x1e"
_ROOT = "\x1b"       # in a fragment: the way from the page it lands on up to the site's root
# The marks each edition is cut by. A page holds each one link(), only() and its fragments put
# in, or a filter wrote one another way, dropped or copied it, and the page cannot be cut.
_MARKS = (_FOLDER, _HERE, *_OPEN.values(), _CLOSE)
_MARK_BYTES = "".join(_MARKS).encode()


def _marks_in(text: str | bytes) -> int:
    """How many marks `text` holds: a page's bytes in one pass (8 µs a fact page), a fragment's str by counting."""
    if isinstance(text, bytes):
        return len(text) - len(text.translate(None, _MARK_BYTES))
    return sum(map(text.count, _MARKS))


_BLOCK = {"web": re.compile(b"\x1d[^\x1e]*\x1e"), "offline": re.compile(b"\x1c[^\x1e]*\x1e")}
# How each edition spells a link to the page's own folder, and what follows a link to a folder.
_SPELLED = {"web": (b"./", b""), "offline": (b"index.html", b"index.html")}


def _signature(folders: list[Path]) -> tuple:
    try:
        return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                            for folder in folders for p in folder.rglob("*") if p.is_file()))
    except OSError:
        return ()


def cut(html: bytes, edition: str) -> bytes:
    """One edition's page out of a page rendered for both, as UTF-8."""
    close = _CLOSE.encode()
    if close in html:  # only() blocks
        html = _BLOCK[edition].sub(b"", html).replace(_OPEN[edition].encode(), b"").replace(close, b"")
    here, folder = _SPELLED[edition]
    return html.replace(_HERE.encode(), here).replace(_FOLDER.encode(), folder)


FRAGMENTS_KEPT = 500_000


def _fragment_key(value):
    """What a fragment's arguments hold, as a key: records by kind, id and the digest of their file."""
    kind = type(value)
    if kind is dict:
        return tuple([(k, _fragment_key(v)) for k, v in value.items()])
    if kind is tuple or kind is list:
        return tuple([_fragment_key(v) for v in value])
    digest = getattr(value, "digest", None)
    if digest is not None:
        return (kind.__name__, getattr(value, "id", None) or getattr(value, "slug", None), digest)
    return value  # plain values and the frozen records without a file of their own (Metric, Period)


def _fragment_templates(tree) -> tuple[str, ...]:
    """Templates a template draws fragments from: `fragment("macros.html", ...)` names one, as an import does."""
    return tuple(call.args[0].value for call in tree.find_all(jinja2.nodes.Call)
                 if isinstance(call.node, jinja2.nodes.Name) and call.node.name in ("fragment", "fragments")
                 and call.args and isinstance(call.args[0], jinja2.nodes.Const))


_PLAIN_CALLABLES = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.BuiltinMethodType)


class _Context(jinja2.runtime.Context):
    """Jinja's context, calling plain functions straight away.

    For every call a template makes, Jinja looks whether the callable asks
    to be passed the context or the environment. Our functions (link(),
    u.fact(), a period's label()) ask for nothing, and looking was a fifth
    of a fact page's rendering (measured); anything else is Jinja's to call.
    """

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        if type(__obj) in _PLAIN_CALLABLES and not hasattr(__obj, "jinja_pass_arg"):
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined("value was undefined because a callable raised a "
                                                    "StopIteration exception")
        return super().call(__obj, *args, **kwargs)


def _escape_output(value) -> str:
    """What `{{ value }}` writes, as markupsafe.escape writes it, without wrapping it in Markup.

    Jinja escapes every `{{ }}` with markupsafe.escape, whose Python wrapper
    and the Markup it returns cost more than the escaping itself: a fact page
    writes about seventy values, and took 439 µs to render instead of 542
    (measured over 2,000). An output only ever goes into the page's text, or
    into a buffer that Jinja wraps in Markup itself (macros, call and filter
    blocks), so a plain str does as well there.
    """
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape_inner(str(value))


class _Template(jinja2.Template):
    """A compiled template whose outputs are escaped by `_escape_output`."""

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        template = super().from_code(environment, code, globals, uptodate)
        if _escape_inner is not None:
            # Every function of the compiled module reads `escape` from the module's own namespace.
            template.root_render_func.__globals__["escape"] = _escape_output
        return template


class TemplateProblem(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def number(value) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        whole, _, frac = format(value, "f").partition(".")  # str() may write 2E-13
        return f"{int(whole):,}.{frac}"
    return f"{int(value):,}"


def figure(fact, metric=None) -> str:
    """'at least 2,000 cases', '1,200–1,500 civilians': a measure as a reader says it."""
    m = fact.measure
    unit = f" {metric.unit}" if metric is not None else ""
    if m.value is None:
        return f"{number(m.low)}–{number(m.high)}{unit}"
    return f"{APPROX_WORDS[m.approx]}{number(m.value)}{unit}"


def month_label(ym) -> str:
    return f"{MONTHS[ym[1] - 1]} {ym[0]}"


def capital(text: str) -> str:
    """'Sub-operations' for a heading: the first letter upper case, the rest as written
    (Jinja's `capitalize` would lower 'NHS trusts' to 'Nhs trusts')."""
    return text[:1].upper() + text[1:]


# What every page's template may use besides its own context: documented in the README's Templates section.
PAGE_NAMES = ("site", "page", "link", "permalink", "md", "only", "offline", "fragment", "fragments", "u", "words")

_NAMING = (jinja2.nodes.Extends, jinja2.nodes.Include, jinja2.nodes.Import, jinja2.nodes.FromImport)


@dataclass(frozen=True)
class _Outline:
    """What checking a template looks at, gathered in one walk of its tree."""

    where: str  # the file, as an editor names it
    refs: tuple  # (template, line, the macros taken from it), for each template named
    static: tuple  # (file, line): static files linked by name, `u.static("style.css")`
    names: tuple  # ("filter" or "test", name, line), for each one used
    macros: frozenset  # the macros it defines
    extends: bool


def _named(node) -> str | None:
    return node.value if isinstance(node, jinja2.nodes.Const) and isinstance(node.value, str) else None


def _outline(where: str, tree) -> _Outline:
    refs, static, names, macros = [], [], [], set()
    for node in tree.find_all(jinja2.nodes.Node):
        if isinstance(node, _NAMING) and _named(node.template) and not getattr(node, "ignore_missing", False):
            taken = tuple(n if isinstance(n, str) else n[0] for n in getattr(node, "names", ()))
            refs.append((node.template.value, node.lineno, taken))
        elif isinstance(node, jinja2.nodes.Call) and len(node.args) >= 1 and _named(node.args[0]):
            callee = node.node
            if (isinstance(callee, jinja2.nodes.Name) and callee.name in ("fragment", "fragments")
                    and len(node.args) >= 2 and _named(node.args[1])):
                refs.append((node.args[0].value, node.lineno, (node.args[1].value,)))
            elif (isinstance(callee, jinja2.nodes.Getattr) and callee.attr == "static"
                  and isinstance(callee.node, jinja2.nodes.Name) and callee.node.name == "u"):
                static.append((node.args[0].value, node.lineno))
        elif isinstance(node, (jinja2.nodes.Filter, jinja2.nodes.Test)):
            names.append(("filter" if isinstance(node, jinja2.nodes.Filter) else "test", node.name, node.lineno))
        elif isinstance(node, jinja2.nodes.Macro):
            macros.add(node.name)
    extends = any(isinstance(node, jinja2.nodes.Extends) for node in tree.body)
    return _Outline(where, tuple(refs), tuple(static), tuple(names), frozenset(macros), extends)


def _missing_macros(outlines: dict[str, _Outline | None], wanted: list) -> list[Problem]:
    """Macros taken from a template (`from x import m`, `fragment(x, m)`) that it does not define.

    Where the theme's own template asks it of the archive's copy, the copy is what to mend, so it is named.
    """
    found, theirs = [], {}
    for ref, macros, asker, loc in wanted:
        outline = outlines.get(ref)
        if outline is None or outline.extends:  # its macros may be its parent's
            continue
        for macro in (m for m in macros if m not in outline.macros):
            if loc.path.startswith("templates/"):
                found.append(Problem(loc, f"{ref} has no macro '{macro}'"))
            else:
                theirs.setdefault((outline.where, ref, macro), set()).add(asker)
    found += [Problem(Loc(where, 1), f"has no macro '{macro}', used by the default theme's "
                                     f"{', '.join(sorted(askers))}: copy it from the theme's {ref}")
              for (where, ref, macro), askers in theirs.items()]
    return found


class _ReadOnlyCache(jinja2.FileSystemBytecodeCache):
    """The build's compiled templates, loaded but never written: for `check`, which writes nothing."""

    def dump_bytecode(self, bucket) -> None:
        pass


class Renderer:
    def __init__(self, root: Path, cache: Path | None = None, read_only: bool = False):
        self.root = root
        self.template_folders = theme.template_folders(root)
        if cache is not None and not read_only:
            cache.mkdir(parents=True, exist_ok=True)
        kind = _ReadOnlyCache if read_only else jinja2.FileSystemBytecodeCache
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(folder) for folder in self.template_folders]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # never stat the templates per page: see changed_since
            # Compiled templates kept between builds, checked against their source.
            bytecode_cache=kind(str(cache)) if cache is not None and cache.is_dir() else None,
        )
        self.env.context_class = _Context
        self.env.template_class = _Template
        self.env.filters.update(number=number, figure=figure, month_label=month_label, capital=capital)
        self.env.globals.update(u=urls.Scheme(), words=Groups(), MONTHS=MONTHS, csp=Markup(CONTENT_SECURITY_POLICY))
        self.markdown = Markdown()
        self._fingerprints: dict[str, str] = {}
        self._reads_offline: dict[str, bool] = {}
        self._sources: dict[str, tuple[str, tuple[str, ...], bool]] = {}
        self._trees: dict[str, jinja2.nodes.Template] = {}
        self._outlines: dict[str, _Outline] = {}  # see check
        self._signature = _signature(self.template_folders)
        # Fragments drawn so far, by (template, macro, edition, arguments): see fragment().
        self._fragments: dict = {}
        self._fragment_macros: dict = {}
        self._groups = Groups()
        self._site_names = {"u": urls.Scheme(), "words": self._groups}  # see _own_words

    # -- dependencies on templates --------------------------------------------
    def template_fingerprint(self, name: str) -> str:
        """A digest of a template and every template it extends, includes or imports."""
        if name not in self._fingerprints:
            self._walk(name)
        return self._fingerprints[name]

    def outlines(self) -> dict[str, tuple[str, bool]]:
        """What was worked out of each template walked: its fingerprint, and whether it reads `offline`."""
        return {name: (self._fingerprints[name], self._reads_offline[name]) for name in self._fingerprints}

    def know(self, outlines: dict[str, tuple[str, bool]]) -> None:
        """Take `outlines` as this renderer's own: the templates' sources are those they were worked
        out from (the build that did is the session's, and its look says no template changed since),
        so none is parsed again to say what it already said."""
        for name, (fingerprint, reads) in outlines.items():
            self._fingerprints.setdefault(name, fingerprint)
            self._reads_offline.setdefault(name, reads)

    def reads_offline(self, name: str) -> bool:
        """Whether the template, or one it extends, includes or imports, reads `offline`."""
        if name not in self._reads_offline:
            self._walk(name)
        return self._reads_offline[name]

    def _walk(self, name: str) -> None:
        seen, todo, digest, reads = set(), [name], hashlib.blake2b(digest_size=8), False
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            source, refs, reads_here = self._parsed(current)
            digest.update(current.encode() + b"\0" + source.encode())
            reads = reads or reads_here
            todo.extend(refs)
        self._fingerprints[name] = digest.hexdigest()
        self._reads_offline[name] = reads

    def _parsed(self, name: str) -> tuple[str, tuple[str, ...], bool]:
        """A template's source, the templates it names, and whether it may read `offline`; once each."""
        if name not in self._sources:
            try:
                source, _, _ = self.env.loader.get_source(self.env, name)
            except jinja2.TemplateNotFound:
                self._sources[name] = (f"missing:{name}", (), False)
                return self._sources[name]
            try:
                tree = self._tree(name, source)
                refs = tuple(r for r in jinja2.meta.find_referenced_templates(tree) if r) + _fragment_templates(tree)
                # `offline` read as a variable, not the word in text or in only("offline"),
                # which both editions' one rendering handles.
                reads = any(n.name == "offline" and n.ctx == "load" for n in tree.find_all(jinja2.nodes.Name))
            except jinja2.TemplateSyntaxError:
                refs, reads = (), True
            self._sources[name] = (source, refs, reads)
        return self._sources[name]

    def compile_ahead(self) -> "parallel.Child | None":
        """A forked process compiling every template into the bytecode cache, for this one to load later.

        A cold build compiled them here, before its workers forked, with the
        other core idle (0.2 s for the embedded templates); while the archive
        is read, the process that reads from the end of it takes fewer files
        instead. None when there is no cache, or it already holds templates.
        """
        cache = self.env.bytecode_cache
        if cache is None or not parallel.can_fork() or any(Path(cache.directory).glob(cache.pattern % "*")):
            return None
        return parallel.Child(self._compile_all)

    def _compile_all(self) -> None:
        for name in self.env.list_templates(extensions=["html", "xml", "txt"]):
            try:
                self.env.get_template(name)
            except Exception:  # noqa: BLE001 - the page that uses it reports it
                pass

    def changed_since(self) -> bool:
        """Whether any template file changed since this Renderer read them (the preview asks)."""
        return self._signature != _signature(self.template_folders)

    # -- checking, before anything is rendered ------------------------------------
    def check(self, names: set[str], static: set[str]) -> list[Problem]:
        """What a render of the templates `names` would fail on whatever the content: a template missing,
        bad syntax, a filter, test or macro that does not exist, a link to a static file not among `static`.

        `check` reports these, so that what it passes the build renders.
        """
        found: list[Problem] = []
        outlines: dict[str, _Outline | None] = {}
        todo: list[tuple[str, Loc | None]] = [(name, None) for name in sorted(names, reverse=True)]
        wanted = []
        while todo:
            name, asked = todo.pop()
            if name in outlines:
                continue
            outline = outlines[name] = self._outline(name, asked, found)
            if outline is None:
                continue
            for ref, line, macros in outline.refs:
                todo.append((ref, Loc(outline.where, line)))
                wanted.append((ref, macros, name, Loc(outline.where, line)))
            found += [Problem(Loc(outline.where, line), f"links static/{file}, which neither static/ nor the "
                                                        "default theme has")
                      for file, line in outline.static if urls.static(file) not in static]
            known = {"filter": self.env.filters, "test": self.env.tests}
            found += [Problem(Loc(outline.where, line), f"no {kind} named '{used}'")
                      for kind, used, line in outline.names if used not in known[kind]]
        return found + _missing_macros(outlines, wanted)

    def _outline(self, name: str, asked: Loc | None, found: list[Problem]) -> _Outline | None:
        """A template compiled and outlined, once; None, with the problem in `found`, if it cannot be."""
        if name in self._outlines:
            return self._outlines[name]
        try:
            source, filename, _ = self.env.loader.get_source(self.env, name)
            self.env.get_template(name)  # compiled: what only compiling finds too (an unknown filter, say)
            self._outlines[name] = _outline(theme.shown(filename, self.root), self._tree(name, source))
            return self._outlines[name]
        except jinja2.TemplateNotFound:
            found.append(Problem(asked or Loc(f"templates/{name}", 1), f"template not found: {name}"))
        except jinja2.TemplateSyntaxError as err:
            where = theme.shown(err.filename, self.root) if err.filename else f"templates/{name}"
            found.append(Problem(Loc(where, err.lineno or 1), f"template syntax: {err.message}"))
        except (OSError, UnicodeDecodeError) as err:
            why = "is not UTF-8" if isinstance(err, UnicodeDecodeError) else f"cannot be read: {err.strerror or err}"
            found.append(Problem(Loc(f"templates/{name}", 1), f"template {name} {why}"))
        return None

    def _tree(self, name: str, source: str):
        """A template's parsed tree, once for the check and the fingerprints alike."""
        if name not in self._trees:
            self._trees[name] = self.env.parse(source)
        return self._trees[name]

    # -- rendering ---------------------------------------------------------------
    def render(self, page: Page, ctx: dict, reader: Reader, offline: bool = False) -> bytes:
        """The page for the web, or for the offline edition read from file://."""
        return self._render(page, ctx, reader, "offline" if offline else "web").encode("utf-8")

    def render_both(self, page: Page, ctx: dict, reader: Reader) -> tuple[bytes, bytes]:
        """The page for the web and for the offline edition, from one rendering where it can.

        The two differ only in how a link to a folder is spelled ('../x/' or
        '../x/index.html') and in `{% call only(...) %}` blocks, so one
        rendering marks those places and each edition is cut from it. A
        template that reads `offline` itself, and the 404 page, whose web
        links start from the site's root, are rendered twice; so is a page
        whose marks did not all come through as they were put in.
        """
        if page.kind == "404" or self.reads_offline(page.template):
            return self.render(page, ctx, reader), self.render(page, ctx, reader, offline=True)
        put = [0]
        html = self._render(page, ctx, reader, "both", put).encode("utf-8")
        if _marks_in(html) != put[0]:
            # A filter wrote a mark another way (tojson, urlencode, pprint), dropped it (trim and
            # striptags take four of them for spaces) or copied it. Counting them took 8 µs a
            # fact page; a search for the escaped ways only, which it replaced, took 47 µs.
            return self.render(page, ctx, reader), self.render(page, ctx, reader, offline=True)
        return cut(html, "web"), cut(html, "offline")

    def _render(self, page: Page, ctx: dict, reader: Reader, edition: str, put: list | None = None) -> str:
        """The page's HTML; rendered for both editions, it counts in `put[0]` the marks it puts in."""
        try:
            template = self.env.get_template(page.template)
            html = template.render(ctx, **self._names(page, ctx, reader, edition, put))
            if _ROOT in html:
                up = self._root_from(page, ctx, edition)
                # A fragment's link home is "./" from the top and "../../" further down.
                html = html.replace(_ROOT + "./", up or "./").replace(_ROOT, up)
            return html
        except jinja2.TemplateSyntaxError as err:
            raise TemplateProblem(Problem(Loc(f"templates/{err.name or page.template}", err.lineno or 1),
                                          f"template syntax: {err.message}")) from None
        except jinja2.TemplateNotFound as err:
            # Named by the template that asked for it, at its line; or the page's own, which is missing.
            raise TemplateProblem(Problem(self._where(err, page), f"template not found: {err.name}")) from None
        except Exception as err:  # an error inside a template is the template's problem
            raise TemplateProblem(Problem(self._where(err, page), f"while rendering /{page.path}: {type(err).__name__}: {err}")) from None

    def _names(self, page: Page, ctx: dict, reader: Reader, edition: str, put: list | None) -> dict:
        """What a page's template may call besides its context (see PAGE_NAMES), for one edition."""
        relative = urls.linker(page.path, edition == "offline")
        both = edition == "both"

        def link(path: str) -> str:
            if page.kind == "404" and edition == "web":
                # GitHub Pages serves 404.html at whatever depth was asked for,
                # so only links from the site's root path can work there.
                return urls.root_relative(ctx["site"].base_url, path)
            if not both or not urls.is_page(path):
                return relative(path)
            put[0] += 1
            web = relative(path)
            return _HERE if web == "./" else web + _FOLDER

        def only(which: str, caller) -> Markup:
            if which not in ("web", "offline"):
                raise ValueError(f"only() takes 'web' or 'offline', not {which!r}")
            if both:
                put[0] += 2
                return Markup(_OPEN[which]) + caller() + Markup(_CLOSE)
            return caller() if which == edition else Markup("")

        def permalink(path: str) -> str:
            return urls.absolute(ctx["site"].base_url, path)

        def fact_link(ident: str):
            ident = dict(reader.get("all", "aliases")).get(ident, ident)
            try:
                fact = reader.get("fact", ident)
            except KeyError:
                return None
            return link(urls.fact(ident)), fact.claim

        def md(text: str | None) -> Markup:
            if not text:
                return Markup("")
            return Markup(self.markdown.render(text, Resolver(fact_link)))

        def fragment(template: str, macro: str, *args) -> Markup:
            return drawn(self._fragment(template, macro, edition, args, reader.checkpoint))

        def fragments(template: str, macro: str, items, *args) -> Markup:
            return drawn(self._fragments_of(template, macro, edition, items, args, reader))

        def drawn(html: str) -> Markup:
            if both:
                put[0] += _marks_in(html)
            return Markup(html)

        return {"page": page, "link": link, "permalink": permalink, "md": md, "only": only,
                "offline": edition == "offline", "fragment": fragment, "fragments": fragments,
                **self._own_words(ctx["site"])}

    def _own_words(self, site) -> dict:
        """`u` and `words` for the site's groups: its URL segment and what it calls them.

        Fragments see them too, so those drawn with other words (a site.yaml
        changed during the preview) are let go rather than shown again.
        """
        groups = site.groups if site is not None else Groups()
        if groups != self._groups:
            self._groups = groups
            self._site_names = {"u": urls.Scheme(groups.path), "words": groups}
            self._fragments.clear()
            self._fragment_macros.clear()
        return self._site_names

    # -- fragments -----------------------------------------------------------------
    def _fragment(self, template: str, macro: str, edition: str, args: tuple, checkpoint) -> str:
        """A macro's output for these arguments, drawn once and reused by every page that shows it.

        A list shows each fact as a row, and a fact is listed on its month,
        year, operations, source and metric: drawing each row once saves most
        of a long list's time, and lets the preview redraw an operation's
        three thousand rows by joining them. The macro sees only its
        arguments, `link`, `only`, `u` and the filters, so its output is a
        function of the arguments: rows and charts, derived once, are keyed
        by identity, and other records by their id and the digest of the file
        they were read from. Its links run from the site's root behind a
        mark, which each page replaces by its own way up. `checkpoint()` is
        called before a fragment is drawn (see Reader.checkpoint).
        """
        try:  # arguments that hash as they are (rows and charts, by identity) need no key worked out
            key = (template, macro, edition, args, tuple(map(type, args)))
            html = self._fragments.get(key)
        except TypeError:
            key = (template, macro, edition, _fragment_key(args))
            html = self._fragments.get(key)
        return html if html is not None else self._draw(key, template, macro, edition, args, checkpoint)

    def _draw(self, key, template: str, macro: str, edition: str, args: tuple, checkpoint) -> str:
        """A fragment not drawn yet: drawn, and kept under `key`."""
        checkpoint()
        if len(self._fragments) >= FRAGMENTS_KEPT:
            self._fragments.clear()  # a long preview keeps every version it drew; start again
        html = self._fragments[key] = str(self._fragment_macro(template, macro, edition)(*args))
        return html

    def forget_fragments(self) -> None:
        """Let go of every fragment drawn so far (a build that no other will follow, done with its lists)."""
        self._fragments.clear()

    def _fragments_of(self, template: str, macro: str, edition: str, items, args: tuple, reader: Reader) -> str:
        """`_fragment` for each item of a list, with the same other arguments: one row of a list each.

        Rows are kept in the session's memo, under their template's fingerprint and their name, until
        a key the row was derived from changes: a session resumed from disk has them too, and one fact
        edited draws one row of a list of ten thousand, not all of them. Other items, by identity here."""
        items = items if isinstance(items, list) else list(items)
        kinds = tuple(map(type, args))
        if items and all(type(item) is Row for item in items):
            head = (template, macro, edition, self.template_fingerprint(template), args, kinds)
            try:
                hash(head)
            except TypeError:
                pass  # arguments that do not hash: drawn one by one, below
            else:
                return self._rows_drawn(template, macro, edition, items, args, head, reader)
        try:
            found = self._fragments
            keys = [(template, macro, edition, item, type(item), args, kinds) for item in items]
            drawn = [found.get(key) for key in keys]  # rows and charts hash by identity
        except TypeError:
            return "".join(self._fragment(template, macro, edition, (item, *args), reader.checkpoint)
                           for item in items)
        for n, html in enumerate(drawn):
            if html is None:
                drawn[n] = self._draw(keys[n], template, macro, edition, (items[n], *args), reader.checkpoint)
        return "".join(drawn)

    def _rows_drawn(self, template: str, macro: str, edition: str, rows: list[Row], args: tuple, head: tuple,
                    reader: Reader) -> str:
        made = self._fragment_macro(template, macro, edition)

        # The macro's words (`u`, `words`) are the site's: a site changed is another configuration,
        # whose build meets a memo anew (see pipeline._state_for), so the row's own keys are enough.
        def draw(row: Row) -> tuple[str, tuple]:
            return str(made(row, *args)), row.reads

        kept = reader.kept
        # Named by this method, as a memo's value is by what made it: pickle names it in the session.
        return "".join([kept((Renderer._rows_drawn, head, row.name), draw, row) for row in rows])

    def _fragment_macro(self, template: str, macro: str, edition: str):
        found = self._fragment_macros.get((template, macro, edition))
        if found is None:
            def link(path: str) -> str:
                folder = urls.is_page(path)
                if edition == "offline":
                    return _ROOT + (urls.output_file(path) if path else "./index.html")
                if not folder or edition == "web":
                    return _ROOT + (path or "./")
                return _ROOT + (path or "./") + _FOLDER

            def only(which: str, caller) -> Markup:
                if edition == "both":
                    return Markup(_OPEN[which]) + caller() + Markup(_CLOSE)
                return caller() if which == edition else Markup("")

            module = self.env.get_template(template).make_module({"link": link, "only": only, **self._site_names})
            found = self._fragment_macros[(template, macro, edition)] = getattr(module, macro)
        return found

    @staticmethod
    def _root_from(page: Page, ctx: dict, edition: str) -> str:
        if page.kind == "404" and edition == "web":
            return urls.root_relative(ctx["site"].base_url, "")
        return "../" * urls.output_file(page.path).count("/")

    def _where(self, err: Exception, page: Page) -> Loc:
        bases = tuple(str(folder) for folder in self.template_folders)
        for frame in reversed(traceback.extract_tb(err.__traceback__)):
            if frame.filename.startswith(bases):
                return Loc(theme.shown(frame.filename, self.root), frame.lineno or 1)
        return Loc(f"templates/{page.template}", 1)
