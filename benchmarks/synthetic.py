"""Synthetic archives for the benchmark: the same records written as an Annals project and as a Hugo site.

Everything is drawn from a seeded random generator, so an archive of a given
size is the same on every machine and every run. The records look like the
embedded archive's: measures, events and statements spread over years and
months, ten operations (four with sub-operations), sources with quotes, and
articles that cite facts inline.
"""
from __future__ import annotations

import json
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
    """A whole Annals project at root: content/ only, built with the default theme."""
    if root.exists():
        shutil.rmtree(root)
    content = root / "content"
    for folder in ("facts", "operations", "sources", "articles"):
        (content / folder).mkdir(parents=True)
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


# -- as a Hugo site ------------------------------------------------------------------
# Two sites of the same records. The minimal one has one page per fact (claim,
# figure, source with quote, links to its month and operation), one per month
# and one per operation (taxonomy term pages listing their facts), and a home
# page. The equivalent one writes what Annals writes for the same records, but
# for the offline zip, which Hugo cannot make: fact pages with the same
# sections (citation in four formats, citation and Dublin Core meta tags,
# JSON-LD), a page per month, year, operation and source listing its facts,
# links relative to the page as Annals writes them, the Atom-like feed (RSS
# here) and sitemap of every fact, and the facts as JSON and CSV. Its links to
# terms are spelled from the front matter: `.GetTerms` took 40% of a fact page.

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

# At the domain's root: Hugo's relativeURLs rewrites root-relative links, and from under
# a sub-path it would keep the sub-path in them and break every link.
HUGO_EQUIVALENT_CONFIG = """\
baseURL = "https://example.org/"
title = "Synthetic archive"
languageCode = "en"
relativeURLs = true
rssLimit = -1
disableKinds = ["section", "robotsTXT"]
[taxonomies]
  operation = "operations"
  month = "months"
  year = "years"
  source = "sources"
[outputFormats.FactsJSON]
  mediaType = "application/json"
  baseName = "facts"
  isPlainText = true
[outputFormats.FactsCSV]
  mediaType = "text/csv"
  baseName = "facts"
  isPlainText = true
[outputs]
  home = ["HTML", "RSS", "FactsJSON", "FactsCSV"]
  term = ["HTML"]
  taxonomy = ["HTML"]
"""

_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'")

HUGO_EQUIVALENT_LAYOUTS = {
    "_default/baseof.html": """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="%s">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }} · {{ site.Title }}</title>
{{ block "meta" . }}{{ end }}
<link rel="stylesheet" href="{{ "style.css" | relURL }}">
<link rel="alternate" type="application/rss+xml" title="{{ site.Title }}: facts" href="{{ "index.xml" | relURL }}">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
{{ partialCached "masthead.html" . }}
<main id="main">
{{ block "main" . }}{{ end }}
</main>
{{ partialCached "footer.html" . }}
</body>
</html>
""" % _CSP,
    "partials/masthead.html": """<header class="masthead">
  <a class="brand" href="{{ "" | relURL }}">{{ site.Title }}</a>
  <nav aria-label="Sections">
    <ul>
      <li><a href="{{ "years/" | relURL }}">Timeline</a></li>
      <li><a href="{{ "operations/" | relURL }}">Operations</a></li>
      <li><a href="{{ "sources/" | relURL }}">Sources</a></li>
    </ul>
  </nav>
</header>""",
    "partials/footer.html": """<footer class="colophon">
  <p>{{ site.Title }} · Licence: CC0</p>
  <p class="data">All facts as data: <a href="{{ "facts.json" | relURL }}" type="application/json">JSON</a> · <a href="{{ "facts.csv" | relURL }}" type="text/csv">CSV</a> · <a href="{{ "index.xml" | relURL }}">RSS feed</a></p>
</footer>""",
    "partials/row.html": """<li class="fact fact-{{ .Params.kind }}"><span class="when"><time datetime="{{ .Params.when }}">{{ .Params.when_label }}</time></span>
    <a class="claim" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ with .Params.value }} <span class="value">{{ lang.FormatNumber 0 . }} {{ (index site.Data.metrics $.Params.metric).unit }}</span>{{ end }}</li>
""",
    "_default/single.html": """{{ define "meta" }}
{{ $src := index site.Data.sources (index .Params.sources 0) }}
<link rel="canonical" href="{{ .Permalink }}">
<meta name="DC.title" content="{{ .Title }}">
<meta name="DC.publisher" content="{{ site.Title }}">
<meta name="DC.identifier" content="{{ .Permalink }}">
<meta name="DC.language" content="en">
<meta name="DC.rights" content="CC0">
<meta name="description" content="Fact for {{ .Params.when_label }}. Source: {{ $src.title }}, {{ $src.publisher }}.">
<meta property="og:type" content="website">
<meta property="og:title" content="{{ .Title }}">
<meta property="og:site_name" content="{{ site.Title }}">
<meta property="og:url" content="{{ .Permalink }}">
{{ $claim := dict "@type" "Claim" "text" .Title "temporalCoverage" .Params.when "spatialCoverage" (slice (dict "@type" "Place" "name" .Params.place)) "appearance" (slice (dict "@type" "CreativeWork" "name" $src.title "publisher" (dict "@type" "Organization" "name" $src.publisher))) }}
{{ $ld := dict "@context" "https://schema.org" "@type" "WebPage" "@id" .Permalink "url" .Permalink "name" .Title "inLanguage" "en" "license" "CC0" "isPartOf" (dict "@type" "WebSite" "name" site.Title "url" site.BaseURL) "publisher" (dict "@type" "Organization" "name" site.Title) "mainEntity" $claim }}
<script type="application/ld+json">{{ $ld | jsonify | safeJS }}</script>
{{ end }}
{{ define "main" }}
{{ $src := index site.Data.sources (index .Params.sources 0) }}
{{ $op := index site.Data.operations (index .Params.operations 0) }}
<article class="fact-page fact-{{ .Params.kind }}">
<p class="kind">{{ .Params.kind | humanize }}</p>
<h1>{{ .Title }}</h1>
<dl class="facts-table">
{{ with .Params.metric }}{{ $m := index site.Data.metrics . }}
  <dt>Figure</dt><dd class="figure">{{ lang.FormatNumber 0 $.Params.value }} {{ $m.unit }}</dd>
  <dt>Measure</dt><dd>{{ $m.label }} (over the period)</dd>
{{ end }}
  <dt>When</dt><dd>{{ range .Params.months }}<a href="{{ printf "/months/%s/" . | relURL }}">{{ $.Params.when_label }}</a> · {{ end }}{{ range .Params.years }}<a href="{{ printf "/years/%s/" . | relURL }}">{{ . }}</a>{{ end }}</dd>
  <dt>Operations</dt><dd>{{ range .Params.operations }}<a href="{{ printf "/operations/%s/" . | relURL }}">{{ $op.name }}</a>{{ end }}{{ with $op.parent }} (part of <a href="{{ printf "/operations/%s/" . | relURL }}">{{ (index site.Data.operations .).name }}</a>){{ end }}</dd>
  <dt>Places</dt><dd>{{ .Params.place }}</dd>
{{ with .Params.speaker }}<dt>Speaker</dt><dd>{{ . }}</dd>{{ end }}
</dl>

<section>
<h2>Sources</h2>
<ul class="citations">
{{ range .Params.sources }}  <li><blockquote><p>“{{ $.Params.quote }}”</p></blockquote>
  <p>— <a href="{{ printf "/sources/%s/" . | relURL }}"><cite>{{ $src.title }}</cite>, {{ $src.publisher }}</a></p></li>
{{ end }}</ul>
</section>

{{ $note := printf "Fact for %s. Source: %s, %s." .Params.when_label $src.title $src.publisher }}
<section class="cite" id="cite">
<h2>Cite this fact</h2>
<p class="citation" data-copy="plain-text citation">{{ site.Title }}. “{{ .Title }}” {{ $note }} {{ .Permalink }}</p>
<details>
<summary>biblatex</summary>
<pre data-copy="biblatex"><code>@online{ {{- .File.BaseFileName -}} ,
  author = { {{- printf "{%s}" site.Title -}} },
  title = { {{- .Title | replaceRE `([&%$#_{}])` `\\$1` -}} },
  url = { {{- .Permalink -}} },
  note = { {{- $note | replaceRE `([&%$#_{}])` `\\$1` -}} }
}
</code></pre>
</details>
<details>
<summary>CSL-JSON (Zotero, Pandoc, citeproc)</summary>
<pre data-copy="CSL-JSON"><code>{{ slice (dict "id" .File.BaseFileName "type" "webpage" "title" .Title "author" (slice (dict "literal" site.Title)) "container-title" site.Title "URL" .Permalink "language" "en" "note" $note "event-date" (dict "date-parts" (slice (slice .Date.Year (int .Date.Month))))) | jsonify (dict "indent" "  ") }}
</code></pre>
</details>
<details>
<summary>RIS (EndNote, Zotero, Mendeley)</summary>
<pre data-copy="RIS"><code>TY  - ELEC
ID  - {{ .File.BaseFileName }}
AU  - {{ site.Title }}
TI  - {{ .Title }}
T2  - {{ site.Title }}
UR  - {{ .Permalink }}
LA  - en
N1  - {{ $note }}
ER  - 
</code></pre>
</details>
<details>
<summary>Wikipedia ({{ "{{cite web}}" }})</summary>
<pre data-copy="Wikipedia cite web"><code>{{ printf "{{cite web |url=%s |title=%s |website=%s |access-date=}}" .Permalink .Title site.Title }}</code></pre>
</details>
</section>

<section class="permalink">
<h2>Permalink</h2>
<p><a href="{{ .RelPermalink }}">{{ .Permalink }}</a></p>
</section>
</article>
{{ end }}
""",
    "_default/list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ol class="facts">
{{ range .Pages.ByDate }}{{ partialCached "row.html" . .RelPermalink }}{{ end }}</ol>{{ end }}
""",
    "_default/terms.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>{{ end }}
""",
    "index.html": """{{ define "main" }}<h1>{{ site.Title }}</h1>
<ol class="facts">
{{ range first 8 (where site.RegularPages "Section" "facts").ByDate.Reverse }}{{ partialCached "row.html" . .RelPermalink }}{{ end }}</ol>{{ end }}
""",
    "index.factsjson.json": """{"archive": {{ site.Title | jsonify }}, "base_url": {{ site.BaseURL | jsonify }}, "facts": [
{{ range $i, $p := where site.RegularPages "Section" "facts" }}{{ if $i }},
{{ end }}{{ dict "id" $p.File.BaseFileName "permalink" $p.Permalink "claim" $p.Title "kind" $p.Params.kind "when" $p.Params.when "operations" $p.Params.operations "places" (slice $p.Params.place) "metric" $p.Params.metric "value" $p.Params.value "speaker" $p.Params.speaker "sources" (slice (dict "source" (index $p.Params.sources 0) "quote" $p.Params.quote)) | jsonify }}{{ end }}
]}
""",
    "index.factscsv.csv": """id,permalink,claim,kind,when,operations,metric,value,source,quote
{{ range where site.RegularPages "Section" "facts" }}{{ .File.BaseFileName }},{{ .Permalink }},"{{ replace .Title `"` `""` }}",{{ .Params.kind }},{{ .Params.when }},{{ delimit .Params.operations ";" }},{{ with .Params.metric }}{{ . }}{{ end }},{{ with .Params.value }}{{ . }}{{ end }},{{ index .Params.sources 0 }},"{{ replace .Params.quote `"` `""` }}"
{{ end }}""",
}


_MONTH_NAMES = ("January February March April May June July August September October November December").split()


def _when_label(when: str) -> str:
    """'February 2010', '17 February 2010' or '2010', as Annals labels the period."""
    parts = when.split("/")[-1].split("-")
    if len(parts) == 1:
        return parts[0]
    month = f"{_MONTH_NAMES[int(parts[1]) - 1]} {parts[0]}"
    return month if len(parts) == 2 else f"{int(parts[2])} {month}"


def _kind(r: Record) -> str:
    return "measure" if r.metric else "statement" if r.claim.startswith("Statement") else "event"


def hugo_fact(r: Record, equivalent: bool = False) -> str:
    date = r.when.split("/")[-1]
    date = date + "-01-01" if len(date) == 4 else date + "-01" if len(date) == 7 else date
    lines = ["---", f"title: {_q(r.claim)}", f"date: {date}", f"when: {_q(r.when)}",
             f"operations: [{r.operation}]", f"quote: {_q(r.quote)}"]
    lines.append(f"sources: [{r.source}]" if equivalent else f"source: {r.source}")
    if r.month:
        lines.append(f"months: [{_q(r.month)}]")
    if r.metric:
        lines += [f"metric: {r.metric}", f"value: {r.value}"]
    if equivalent:
        lines += [f"years: [{_q(date[:4])}]", f"kind: {_kind(r)}", f"when_label: {_q(_when_label(r.when))}",
                  f"place: {_q(PLACES[int(r.id[1:]) % len(PLACES)])}"]
        if r.claim.startswith("Statement"):
            lines.append("speaker: A. Spokesperson")
    return "\n".join(lines) + "\n---\n" + r.claim + "\n"


def write_hugo(root: Path, recs: list[Record], equivalent: bool = False) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "content" / "facts").mkdir(parents=True)
    (root / "static").mkdir()
    shutil.copy(REPO / "annals/theme/static/style.css", root / "static" / "style.css")
    (root / "config.toml").write_text(HUGO_EQUIVALENT_CONFIG if equivalent else HUGO_CONFIG)
    for rel, text in (HUGO_EQUIVALENT_LAYOUTS if equivalent else HUGO_LAYOUTS).items():
        path = root / "layouts" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if equivalent:
        (root / "data").mkdir()
        (root / "data" / "operations.json").write_text(json.dumps(
            {k: {"name": name, "parent": parent} for k, (name, parent) in OPERATIONS.items()}))
        (root / "data" / "metrics.json").write_text(json.dumps(
            {k: {"label": label, "unit": unit} for k, (label, unit) in METRICS.items()}))
        (root / "data" / "sources.json").write_text(json.dumps(
            {s: {"title": f"Report {s}", "publisher": "Generated"} for s in sorted({r.source for r in recs})}))
    for r in recs:
        (root / "content" / "facts" / f"{r.id}.md").write_text(hugo_fact(r, equivalent))
