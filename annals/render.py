"""Jinja2 rendering: autoescaped, strict, and aware of the page it renders for.

Templates are plain files in templates/ that an editor may change; content is
only ever passed to them as data, never compiled as a template itself.
"""
from __future__ import annotations

import hashlib
import traceback
from decimal import Decimal
from pathlib import Path

import jinja2
import jinja2.meta
from markupsafe import Markup

from . import urls
from .markup import Markdown, Resolver
from .pages import Page, Reader
from .periods import MONTHS
from .problems import Loc, Problem

# Every page may load only files of its own site: no CDN, font or tracker can be
# slipped in by a template or by content, and inline <script> never runs. A data
# block (<script type="application/ld+json">) is not executed, so it needs no exception.
# Forms may only submit to the site itself: the search boxes go to its search page.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'")

APPROX_WORDS = {"exact": "", "about": "about ", "at-least": "at least ", "at-most": "at most "}


class TemplateProblem(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def number(value) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        whole, _, frac = str(value).partition(".")
        return f"{int(whole):,}.{frac}"
    return f"{int(value):,}"


def figure(fact, metric=None) -> str:
    """'at least 2,000 militants': a measure as a reader says it."""
    m = fact.measure
    unit = f" {metric.unit}" if metric is not None else ""
    return f"{APPROX_WORDS[m.approx]}{number(m.value)}{unit}"


def month_label(ym) -> str:
    return f"{MONTHS[ym[1] - 1]} {ym[0]}"


class Renderer:
    def __init__(self, root: Path, offline: bool = False):
        self.root = root
        self.offline = offline
        self.templates_dir = root / "templates"
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.templates_dir)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(number=number, figure=figure, month_label=month_label)
        self.env.globals.update(u=urls, MONTHS=MONTHS, csp=Markup(CONTENT_SECURITY_POLICY))
        self.markdown = Markdown()
        self._fingerprints: dict[str, str] = {}

    # -- dependencies on templates --------------------------------------------
    def template_fingerprint(self, name: str) -> str:
        """A digest of a template and every template it extends, includes or imports."""
        if name not in self._fingerprints:
            seen, todo, digest = set(), [name], hashlib.blake2b(digest_size=8)
            while todo:
                current = todo.pop()
                if current in seen:
                    continue
                seen.add(current)
                try:
                    source, _, _ = self.env.loader.get_source(self.env, current)
                except jinja2.TemplateNotFound:
                    digest.update(f"missing:{current}".encode())
                    continue
                digest.update(current.encode() + b"\0" + source.encode())
                try:
                    refs = jinja2.meta.find_referenced_templates(self.env.parse(source))
                except jinja2.TemplateSyntaxError:
                    continue
                todo.extend(r for r in refs if r)
            self._fingerprints[name] = digest.hexdigest()
        return self._fingerprints[name]

    # -- rendering ---------------------------------------------------------------
    def render(self, page: Page, ctx: dict, reader: Reader) -> bytes:
        def link(path: str) -> str:
            if page.kind == "404" and not self.offline:
                # GitHub Pages serves 404.html at whatever depth was asked for,
                # so only links from the site's root path can work there.
                return urls.root_relative(ctx["site"].base_url, path)
            return urls.relative(page.path, path, self.offline)

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

        try:
            template = self.env.get_template(page.template)
            html = template.render(ctx, page=page, link=link, permalink=permalink, md=md,
                                   offline=self.offline)
        except jinja2.TemplateSyntaxError as err:
            raise TemplateProblem(Problem(Loc(f"templates/{err.name or page.template}", err.lineno or 0),
                                          f"template syntax: {err.message}")) from None
        except jinja2.TemplateNotFound as err:
            raise TemplateProblem(Problem(Loc(f"templates/{page.template}"), f"template not found: {err.name}")) from None
        except Exception as err:  # an error inside a template is the template's problem
            raise TemplateProblem(Problem(self._where(err, page), f"while rendering /{page.path}: {type(err).__name__}: {err}")) from None
        return html.encode("utf-8")

    def _where(self, err: Exception, page: Page) -> Loc:
        base = str(self.templates_dir)
        for frame in reversed(traceback.extract_tb(err.__traceback__)):
            if frame.filename.startswith(base):
                return Loc("templates/" + Path(frame.filename).relative_to(base).as_posix(), frame.lineno or 0)
        return Loc(f"templates/{page.template}")
