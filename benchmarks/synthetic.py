"""Synthetic archives for the benchmark: the same records written as an Annals project and as a Hugo site.

Everything is drawn from a seeded random generator, so an archive of a given
size is the same on every machine and every run. The records look like the
embedded archive's: measures, events and statements spread over years and
months, ten operations (four with sub-operations), sources with quotes, and
articles that cite facts inline.
"""
from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

METRICS = {
    "weapons-released": ("Weapons released", "weapons"),
    "combat-sorties": ("Combat sorties", "sorties"),
    "sorties-with-weapon-release": ("Sorties with a weapon released", "sorties"),
    "isr-sorties": ("ISR sorties", "sorties"),
    "tanker-sorties": ("Tanker sorties", "sorties"),
    "strikes": ("Air strikes", "strikes"),
}
# id -> (name, parent)
OPERATIONS = {
    "northern-watch": ("Operation Northern Watch", None),
    "harbour-shield": ("Operation Harbour Shield", None),
    "river-gate": ("River Gate offensive", "northern-watch"),
    "mountain-pass": ("Mountain Pass offensive", "northern-watch"),
    "coastal-air": ("Coastal air operations", None),
    "delta-line": ("Delta Line offensive", "coastal-air"),
    "desert-wind": ("Operation Desert Wind", None),
    "oasis-relief": ("Oasis relief", "desert-wind"),
    "salt-flats": ("Salt Flats offensive", "desert-wind"),
    "canyon-run": ("Canyon Run", "harbour-shield"),
}
PLACES = ["North City", "River Town", "Harbour", "The Plain", "Old Fort", "East Valley", "Salt Lake", "Bridge"]
WORDS = ("aircraft coalition released strikes near supply line depot convoy bridge crossing ridge "
         "forces advanced positions reported command officials said town district airfield").split()


@dataclass(frozen=True)
class Record:
    """One synthetic fact, in the terms both generators write."""

    id: str
    claim: str
    when: str            # as written: 2012, 2012-05, 2012-05-17 or "2012-04/2012-05"
    month: str           # yyyy-mm of the month page it appears on ("" for a year figure)
    operation: str
    source: str
    quote: str
    metric: str | None
    value: int | None
    aggregation: str | None


def _years(n: int) -> int:
    return max(5, min(60, n // 1000))


def records(n: int, seed: int = 2014) -> list[Record]:
    rng = random.Random(seed)
    first_year = 2020 - _years(n)
    months = [(y, m) for y in range(first_year, 2020) for m in range(1, 13)]
    ops = sorted(OPERATIONS)
    metrics = sorted(METRICS)
    n_sources = max(2, n // 20)
    out = []
    for i in range(n):
        y, m = months[i * len(months) // n]
        op = ops[i % len(ops)]
        source = f"report-{i % n_sources:05d}"
        words = " ".join(rng.choice(WORDS) for _ in range(8))
        kind = rng.random()
        metric = value = aggregation = None
        when, month = f"{y}-{m:02d}", f"{y}-{m:02d}"
        if kind < 0.45:
            # One figure per (metric, operation, month) where the archive allows, as in a real series.
            metric = metrics[(i // len(ops)) % len(metrics)]
            value = rng.randint(10, 5000)
            aggregation = "period"
            claim = f"{value:,} {METRICS[metric][1]} were counted for {OPERATIONS[op][0]} in {y}-{m:02d}: {words}."
            quote = f"{value:,} {METRICS[metric][1]} {words}"
        elif kind < 0.75:
            when = f"{y}-{m:02d}-{rng.randint(1, 28):02d}"
            claim = f"Event {i} of {OPERATIONS[op][0]}: {words}."
            quote = f"event {i} {words}"
        elif kind < 0.95:
            claim = f"Statement {i} on {OPERATIONS[op][0]}: {words}."
            quote = f"statement {i} {words}"
        else:
            when, month = str(y), ""
            claim = f"A review of {y} for {OPERATIONS[op][0]}: {words}."
            quote = f"review {y} {words}"
        out.append(Record(f"f{i:06d}", claim, when, month, op, source, quote, metric, value, aggregation))
    return out


# -- as an Annals project ------------------------------------------------------------

def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fact_yaml(r: Record, revision: int = 0) -> str:
    lines = [f"claim: {_q(r.claim + (f' (revision {revision})' if revision else ''))}",
             f"when: {r.when}", f"operations: [{r.operation}]", f"places: [{PLACES[int(r.id[1:]) % len(PLACES)]}]"]
    if r.metric:
        lines += ["measure:", f"  metric: {r.metric}", f"  value: {r.value}", f"  aggregation: {r.aggregation}"]
    if r.claim.startswith("Statement"):
        lines.append("speaker: A. Spokesperson")
    lines += ["sources:", f"  - source: {r.source}", f"    quote: {_q(r.quote)}"]
    return "\n".join(lines) + "\n"


def write_annals(root: Path, recs: list[Record]) -> None:
    """A whole Annals project at root: content/ plus the repo's templates and static files."""
    if root.exists():
        shutil.rmtree(root)
    content = root / "content"
    for folder in ("facts", "operations", "sources", "articles"):
        (content / folder).mkdir(parents=True)
    for folder in ("templates", "static"):
        shutil.copytree(REPO / folder, root / folder)
    (content / "site.yaml").write_text(
        "title: Synthetic archive\ndescription: A generated archive for the benchmark.\n"
        "base_url: https://example.org/bench/\nlanguage: en\nlicence: CC0\n")
    (content / "metrics.yaml").write_text("".join(
        f"{k}:\n  label: {label}\n  unit: {unit}\n  description: {label}, generated.\n"
        for k, (label, unit) in METRICS.items()))
    for ident, (name, parent) in OPERATIONS.items():
        (content / "operations" / f"{ident}.yaml").write_text(
            f"name: {name}\n" + (f"parent: {parent}\n" if parent else ""))
    for s in sorted({r.source for r in recs}):
        (content / "sources" / f"{s}.yaml").write_text(f"title: Report {s}\nkind: report\npublisher: Generated\n")
    for r in recs:
        folder = content / "facts" / r.when[:4]
        folder.mkdir(exist_ok=True)
        (folder / f"{r.id}.yaml").write_text(fact_yaml(r))
    for a in range(max(2, len(recs) // 1000)):
        cited = recs[a * 7 % len(recs):][:10]
        body = "\n".join(f"Paragraph {k} on {c.claim} [[fact:{c.id}]]\n" for k, c in enumerate(cited))
        (content / "articles" / f"article-{a:04d}.md").write_text(
            f"---\ntitle: Article {a}\ndate: 2020-01-01\noperations: [{cited[0].operation}]\n---\n{body}")


def fact_path(root: Path, r: Record) -> Path:
    return root / "content" / "facts" / r.when[:4] / f"{r.id}.yaml"


# -- as a Hugo site with equivalent pages ----------------------------------------------
# One page per fact (claim, figure, source with quote, links to its month and
# operation), one per month and one per operation (taxonomy term pages listing
# their facts), and a home page: the pages Annals writes for the same records.

HUGO_CONFIG = """\
baseURL = "https://example.org/bench/"
title = "Synthetic archive"
disableKinds = ["RSS", "sitemap", "robotsTXT"]
[taxonomies]
  operation = "operations"
  month = "months"
"""

HUGO_LAYOUTS = {
    "_default/baseof.html": """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{{ .Title }}</title><link rel="stylesheet" href="{{ "style.css" | relURL }}"></head>
<body><header><a href="{{ "" | relURL }}">{{ .Site.Title }}</a></header><main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "_default/single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p>When: {{ .Params.when }}</p>
{{ with .Params.metric }}<p>{{ . }}: {{ $.Params.value }}</p>{{ end }}
<p>Source: {{ .Params.source }}: <q>{{ .Params.quote }}</q></p>
<ul>{{ range .GetTerms "operations" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}
{{ range .GetTerms "months" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
</article>{{ end }}
""",
    "_default/list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ol>{{ range .Pages.ByDate }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Params.when }}</li>{{ end }}</ol>{{ end }}
""",
    "_default/terms.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>{{ end }}
""",
    "index.html": """{{ define "main" }}<h1>{{ .Site.Title }}</h1>
<ul>{{ range first 8 (where .Site.RegularPages "Section" "facts").ByDate.Reverse }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}
""",
}


def hugo_fact(r: Record) -> str:
    date = r.when.split("/")[-1]
    date = date + "-01-01" if len(date) == 4 else date + "-01" if len(date) == 7 else date
    lines = ["---", f"title: {_q(r.claim)}", f"date: {date}", f"when: {_q(r.when)}",
             f"operations: [{r.operation}]", f"source: {r.source}", f"quote: {_q(r.quote)}"]
    if r.month:
        lines.append(f"months: [{_q(r.month)}]")
    if r.metric:
        lines += [f"metric: {r.metric}", f"value: {r.value}"]
    return "\n".join(lines) + "\n---\n" + r.claim + "\n"


def write_hugo(root: Path, recs: list[Record]) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "content" / "facts").mkdir(parents=True)
    (root / "static").mkdir()
    shutil.copy(REPO / "static" / "style.css", root / "static" / "style.css")
    (root / "config.toml").write_text(HUGO_CONFIG)
    for rel, text in HUGO_LAYOUTS.items():
        path = root / "layouts" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for r in recs:
        (root / "content" / "facts" / f"{r.id}.md").write_text(hugo_fact(r))
