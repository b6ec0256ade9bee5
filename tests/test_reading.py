"""Every kind of page, read in a real browser: accessible (axe-core), keyboard-reachable,
valid (the Nu HTML Checker), readable on a phone, in the dark, and on paper."""
import json
import subprocess

from pathlib import Path

import pytest

from conftest import CHARTED, REPO, THEME, annals, make_site

# One page of every kind in the embedded archive, by the path a reader asks for.
EMBEDDED_KINDS = {
    "home": "",
    "fact": "facts/2017-06-oir-weapons-released/",
    "month": "timeline/2017/06/",
    "year": "timeline/2016/",
    "timeline": "timeline/",
    "operation": "operations/inherent-resolve/",
    "operations": "operations/",
    "metric": "metrics/weapons-released/",
    "metrics": "metrics/",
    "source": "sources/mosul-airstrikes-record-level/",
    "sources": "sources/",
    "article": "articles/two-peaks-of-the-air-war/",
    "articles": "articles/",
    "404": "no/such/page/",
    "search": "search/",
    "version": "facts/2017-06-oir-weapons-released/v/1/",
}

PREFIX = "annals"  # the embedded archive's base_url is served under /annals/, as on GitHub Pages


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    out = tmp_path_factory.mktemp("embedded") / "annals"
    run = annals(REPO, "--out", str(out), "-q")
    assert run.code == 0, run.err
    return out


@pytest.fixture(scope="module")
def charted_site(tmp_path_factory):
    root = make_site(tmp_path_factory.mktemp("charted"), CHARTED)
    run = annals(root, "-q")
    assert run.code == 0, run.err
    return root / "_site"


@pytest.fixture
def served(embedded, http_server):
    return http_server(embedded, PREFIX)


def open_page(page, base, path):
    response = page.goto(base + path)
    if path.startswith("no/"):
        # the test server has no 404 page of its own: show ours, as GitHub Pages does
        assert response.status == 404
        page.goto(base + "404.html")
    else:
        assert response.ok, path


def serious(page, axe_path, rules=None, impacts=("serious", "critical")) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        # The pages' Content-Security-Policy refuses inline <script> (add_script_tag makes one);
        # evaluate runs through the DevTools protocol, which the policy does not govern.
        page.evaluate(Path(axe_path).read_text(encoding="utf-8"))
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    result = page.evaluate("options => axe.run(document, options)", options)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in impacts]


def axe_light_and_dark(page, axe_path) -> list[str]:
    """Every rule in light colours; in dark ones only contrast, the one rule a colour scheme can change."""
    page.emulate_media(color_scheme="light")
    found = serious(page, axe_path)
    page.emulate_media(color_scheme="dark")
    return found + [f"dark: {v}" for v in serious(page, axe_path, ["color-contrast"])]


# axe's rules for landmarks, each of moderate impact: the month and search pages had two landmarks of one name.
LANDMARK_RULES = ["landmark-unique", "landmark-one-main", "landmark-no-duplicate-banner",
                  "landmark-no-duplicate-contentinfo", "landmark-no-duplicate-main", "landmark-banner-is-top-level",
                  "landmark-contentinfo-is-top-level", "landmark-main-is-top-level",
                  "landmark-complementary-is-top-level"]


@pytest.mark.parametrize("kind", list(EMBEDDED_KINDS))
def test_every_landmark_of_every_kind_of_page_has_a_name_of_its_own(kind, browser, served, web_tools):
    page = browser.new_page()
    open_page(page, served, EMBEDDED_KINDS[kind])
    assert serious(page, web_tools.axe, LANDMARK_RULES, impacts=("minor", "moderate", "serious", "critical")) == []
    page.close()


def test_the_list_holds_every_kind_of_page_the_embedded_archive_has():
    """A kind of page added, or one that stops being made, cannot slip past the checks in this file."""
    from annals.pages import plan
    from annals.pipeline import Options, read_archive
    from annals.problems import Problems
    problems = Problems()
    _, index = read_archive(Options(root=REPO, out=REPO / "_site"), problems)
    kinds = {}
    for p in plan(index, problems):
        if p.template:
            kinds.setdefault(p.kind, set()).add(p.path)
    assert set(kinds) == set(EMBEDDED_KINDS)
    for kind, path in EMBEDDED_KINDS.items():
        assert path in kinds[kind] or kind == "404", f"{kind}: {path} is not a page of that kind"


@pytest.mark.parametrize("kind", list(EMBEDDED_KINDS))
def test_every_kind_of_page_is_accessible_and_fits_a_phone(kind, browser, served, web_tools):
    """axe-core finds nothing serious in light or dark colours, and at 360px nothing scrolls sideways."""
    page = browser.new_page()
    open_page(page, served, EMBEDDED_KINDS[kind])
    assert axe_light_and_dark(page, web_tools.axe) == []
    page.set_viewport_size({"width": 360, "height": 740})
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner == 360
    assert width <= inner, f"{kind}: {width}px wide on a {inner}px screen"
    # The whole page as a phone shows it: the picture is as wide as the screen, and no element
    # sticks out of it unless a box of its own scrolls (a wide table) or clips it (the hidden labels).
    shot = page.screenshot(full_page=True)
    assert int.from_bytes(shot[16:20], "big") == 360, f"{kind}: the screenshot is wider than the phone"
    out = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect();
        if (r.width === 0 || (r.right <= innerWidth + 0.5 && r.left >= -0.5)) return false;
        for (let a = e; a; a = a.parentElement) {
          const s = getComputedStyle(a);
          if (a !== e && ['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) return false;
          if (s.position === 'absolute' && s.clip !== 'auto') return false;
          if (a.classList.contains('skip') || a.classList.contains('visually-hidden')) return false;
        }
        return true;
      }).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')).slice(0, 5)""")
    assert out == [], f"{kind}: these stick out of a 360px screen: {out}"
    page.close()


@pytest.mark.parametrize("path", ["operations/op-b/", "metrics/weapons-released/", "", "timeline/2017/06/"])
def test_axe_on_charts_with_every_kind_of_mark(path, browser, charted_site, http_server, web_tools):
    page = browser.new_page()
    page.goto(http_server(charted_site) + path)
    assert axe_light_and_dark(page, web_tools.axe) == []
    page.close()


def test_contrast_rule_really_runs(browser, web_tools):
    """The color-contrast rule catches grey on grey: the check above is not vacuous."""
    page = browser.new_page()
    page.set_content('<html lang="en"><title>t</title><main><p style="color:#999;background:#aaa">faint</p></main></html>')
    assert any(v.startswith("color-contrast") for v in serious(page, web_tools.axe, ["color-contrast"]))
    page.close()


# axe-core cannot judge the contrast of SVG text (it files it as needing review), so the charts get
# a check of their own: every text at least 4.5:1 against the chart's background, and every mark
# that carries meaning (bars, dots, brackets, lines, hatching, disputed outlines) at least 3:1
# (WCAG 1.4.3 and 1.4.11). Gridlines are a background for the eye and are left out.
CHART_CONTRAST = """() => {
  const rgb = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [r, g, b, a]; };
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && c[3] > 0) return c; } return [255, 255, 255, 1]; };
  const ratio = (fg, bg) => { fg = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x); return (hi + 0.05) / (lo + 0.05); };
  const checks = [['text', 'fill', 4.5], ['a.bar rect', 'fill', 3], ['a.bar.disputed rect', 'stroke', 3],
                  ['a.marker circle', 'stroke', 3], ['a.span path', 'stroke', 3], ['.total-line', 'stroke', 3],
                  ['g.gap line', 'stroke', 3]];
  const out = []; let checked = 0;
  for (const svg of document.querySelectorAll('svg.chart-svg')) {
    const bg = background(svg);
    for (const [sel, prop, least] of checks) for (const e of svg.querySelectorAll(sel)) {
      const colour = rgb(getComputedStyle(e)[prop]); checked++;
      const r = colour ? ratio(colour, bg) : 0;
      if (r < least) out.push(`${sel} ${JSON.stringify(e.textContent.trim().slice(0, 20))}: ${prop} ` +
                              `${getComputedStyle(e)[prop]} is ${r.toFixed(2)}:1, under ${least}:1`);
    }
  }
  return {checked, faint: out};
}"""


def chart_contrast(page) -> list[str]:
    """What in the page's charts falls short of its contrast, in light and in dark colours."""
    faint = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found = page.evaluate(CHART_CONTRAST)
        assert found["checked"] > 10, "no chart was checked"
        faint += [f"{scheme}: {f}" for f in found["faint"]]
    return faint


@pytest.mark.parametrize("kind", ["home", "operation", "metric"])
def test_chart_text_and_marks_stand_out_from_their_background(kind, page, served):
    open_page(page, served, EMBEDDED_KINDS[kind])
    assert chart_contrast(page) == []


@pytest.mark.parametrize("path", ["operations/op-b/", "metrics/weapons-released/"])
def test_every_kind_of_mark_stands_out_from_its_background(path, page, charted_site, http_server):
    page.goto(http_server(charted_site) + path)
    for sel in ("a.bar.disputed rect", "a.marker circle", "a.span path", ".total-line", "g.gap line"):
        assert page.locator(f"svg.chart-svg {sel}").count() or sel == ".total-line", f"no {sel} to check"
    assert chart_contrast(page) == []


def test_the_chart_contrast_check_catches_faint_text(tmp_path, page, http_server):
    """Light grey chart text on a light page: the check above is not vacuous."""
    style = (THEME / "static/style.css").read_text(encoding="utf-8") + "\n.chart-svg text { fill: #eee; }\n"
    root = make_site(tmp_path, {**CHARTED, "static/style.css": style})
    run = annals(root, "-q")
    assert run.code == 0, run.err
    page.goto(http_server(root / "_site") + "operations/op-b/")
    faint = chart_contrast(page)
    assert any(f.startswith("light: text") and "rgb(238, 238, 238)" in f for f in faint), faint


def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), text: (e.textContent || '').trim(),
                href: e.getAttribute('href'), inMain: !!e.closest('main'), inNav: !!e.closest('header nav')}; }""")


def test_skip_link_leads_past_the_navigation(page, served):
    page.goto(served)
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    after = focused(page)
    assert after["inMain"] and not after["inNav"], after


# Everything a reader can operate. A link taken out of the tab order (tabindex="-1") is still listed,
# so the walk below notices that the keyboard never reaches it.
FOCUSABLE = "a[href], button, input, select, textarea, summary"

# How an element looks, as far as a focus indicator can change it: its outline and shadow, and the
# strokes and fills of an SVG link's shapes (chart marks show focus by their stroke).
LOOK = """e => { const s = getComputedStyle(e);
    return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, ...[...e.querySelectorAll('rect, circle, path')]
      .flatMap(x => { const t = getComputedStyle(x); return [t.stroke, t.strokeWidth, t.fill]; })].join('|'); }"""


def tab_through(page) -> tuple[list[str], list[str], int]:
    """Tab from the top of the page until focus comes round again: the focusable elements never
    reached, those reached without a visible change, and how many were reached inside a chart."""
    listed = page.evaluate("""sel => { window.look = %s;
        const els = [...document.querySelectorAll(sel)].filter(e => e.checkVisibility());
        els.forEach((e, i) => { e.dataset.tabCheck = i; });
        window.unfocused = els.map(window.look);
        return els.map(e => e.outerHTML.slice(0, 90)); }""" % LOOK, FOCUSABLE)
    reached, faint, in_chart = set(), [], 0
    for _ in range(len(listed) + 5):
        page.keyboard.press("Tab")
        now = page.evaluate("""() => { const e = document.activeElement;
            if (!e || e === document.body || e.dataset.tabCheck === undefined) return null;
            const i = Number(e.dataset.tabCheck), s = getComputedStyle(e);
            return {i, changed: window.look(e) !== window.unfocused[i], outline: s.outlineStyle !== 'none',
                    svg: !!e.closest('svg')}; }""")
        if now is None or now["i"] in reached:
            break
        reached.add(now["i"])
        in_chart += now["svg"]
        if not now["changed"] or not (now["outline"] or now["svg"]):
            faint.append(listed[now["i"]])
    return [h for i, h in enumerate(listed) if i not in reached], faint, in_chart


@pytest.mark.parametrize("kind", list(EMBEDDED_KINDS))
def test_the_keyboard_reaches_everything_on_every_kind_of_page_and_shows_where_it_is(kind, page, served):
    open_page(page, served, EMBEDDED_KINDS[kind])
    missed, faint, in_chart = tab_through(page)
    assert missed == [], f"{kind}: Tab never reaches {missed[:3]}"
    assert faint == [], f"{kind}: focus shows no visible change on {faint[:3]}"
    if page.locator("svg.chart-svg a").count():
        assert in_chart == page.locator("svg.chart-svg a").count(), "every mark of every chart is reached"


def test_pages_follow_the_readers_colour_scheme(browser, served):
    colours = {}
    for scheme in ("light", "dark"):
        page = browser.new_page(color_scheme=scheme)
        page.goto(served + EMBEDDED_KINDS["metric"])
        colours[scheme] = page.evaluate("""() => [getComputedStyle(document.body).backgroundColor,
            getComputedStyle(document.querySelector('svg a.bar rect')).fill]""")
        page.close()
    assert colours["light"][0] != colours["dark"][0]
    assert colours["light"][1] != colours["dark"][1], "the chart follows the scheme too"


# The ways around the site, which paper has no use for; each page shows those it has on screen.
CHROME = {"masthead": "header.masthead", "skip link": "a.skip", "search box": "form.search-box",
          "crumbs": ".crumbs", "pager": "nav.pager", "month's data link": "main .data",
          "footer data links": "footer .data", "download link": "footer a[download]", "copy buttons": "button.copy",
          "related pages": "nav.related"}


@pytest.mark.parametrize("path, chrome", [
    ("timeline/2017/06/", ["masthead", "skip link", "search box", "crumbs", "pager", "month's data link",
                           "footer data links", "download link", "related pages"]),
    ("facts/f-june/", ["masthead", "skip link", "search box", "footer data links", "download link", "copy buttons"]),
])
def test_a_page_prints_without_chrome_and_with_its_sources_addresses(path, chrome, browser, charted_site, http_server):
    page = browser.new_page()
    page.goto(http_server(charted_site) + path)
    shown = "els => els.map(e => e.checkVisibility())"
    for name in chrome:
        on_screen = page.eval_on_selector_all(CHROME[name], shown)
        assert any(on_screen), f"{name}: not on the screen, so the check below would prove nothing"
    page.emulate_media(media="print")
    printed = [name for name in chrome if any(page.eval_on_selector_all(CHROME[name], shown))]
    assert printed == [], f"{path} prints {printed}"
    # The cited source's own address is printed after the link to it.
    links = page.eval_on_selector_all("main a.external", """els => els.map(e => ({href: e.getAttribute('href'),
        rel: e.rel, shown: e.checkVisibility(), after: getComputedStyle(e, '::after').content}))""")
    assert [link["href"] for link in links] == ["https://example.org/reports/june-2017"]
    for link in links:
        assert link["shown"] and link["href"] in link["after"], link
        assert set(link["rel"].split()) >= {"noopener", "noreferrer"}
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    assert page.pdf().startswith(b"%PDF")
    page.close()


@pytest.fixture(scope="module")
def vnu_report(embedded, charted_site, tmp_path_factory, web_tools) -> dict[str, list[str]]:
    """One run of the checker (a JVM start is slow) over every folder; messages by folder."""
    bad = tmp_path_factory.mktemp("invalid")
    (bad / "bad.html").write_text("<!DOCTYPE html><html lang=en><title>x</title><p><div></span></html>")
    folders = {"embedded": embedded, "charted": charted_site, "invalid": bad}
    run = subprocess.run(["java", "-jar", str(web_tools.vnu), "--errors-only", "--format", "json",
                          "--skip-non-html", *map(str, folders.values())], capture_output=True, text=True)
    report = {name: [] for name in folders}
    for m in json.loads(run.stderr)["messages"]:
        url = m.get("url", "")
        name = next(n for n, f in folders.items() if str(f.resolve()) in url or str(f) in url)
        report[name].append(f"{url.rsplit('/', 3)[-3:]}:{m.get('lastLine')}: {m['message']}")
    return report


def test_vnu_finds_no_error_on_any_page(embedded, vnu_report):
    assert vnu_report["invalid"], "the checker ran, and would report an error"
    assert len(list(embedded.rglob("*.html"))) > 50
    assert vnu_report["embedded"] == []
    assert vnu_report["charted"] == []
