"""Client-side search: an index loaded as a script, so it works from file://, by words, numbers, operations, months."""
import json
import re
from urllib.parse import quote

import pytest

from conftest import annals, copy_embedded

PREFIX = "window.ANNALS_SEARCH = "


def read_index(out):
    text = (out / "search/search-index.js").read_text()
    assert text.startswith(PREFIX) and text.endswith(";\n")
    return json.loads(text[len(PREFIX):-2])


def test_the_index_names_each_fact_by_its_words_figures_operations_and_months(site):
    root = site()
    assert annals(root).code == 0
    facts = {f["path"]: f for f in read_index(root / "_site")["facts"]}
    assert set(facts) == {"facts/f-june/", "facts/f-event/"}
    june = facts["facts/f-june/"]
    assert june["claim"] == "100 weapons were released in June 2017." and june["when"] == "June 2017"
    for words in ("June 2017", "2017-06", "Operation B", "Operation A", "op-a", "100", "weapons", "Weapons released"):
        assert words in june["text"], words  # op-b's parent op-a finds it too
    assert "July 2017" not in june["text"]


def test_the_search_page_loads_only_scripts_it_names(site):
    root = site()
    assert annals(root).code == 0
    html = (root / "_site/search/index.html").read_text()
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert scripts == ["", ""]  # no inline script, so a strict Content-Security-Policy allows the page
    assert '<script src="search-index.js"></script>' in html
    assert '<script src="../static/search.js"></script>' in html
    assert "eval(" not in (root / "_site/static/search.js").read_text()
    masthead = (root / "_site/facts/f-june/index.html").read_text()
    assert '<form class="search-box" role="search" action="../../search/" method="get">' in masthead


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    root = copy_embedded(tmp_path_factory.mktemp("search"))
    assert annals(root, "--offline").code == 0
    return root / "_offline"


def results(page):
    page.wait_for_selector("#search-status:not(:has-text('to search'))")
    return page.eval_on_selector_all("#search-results a", "links => links.map(a => a.href)")


@pytest.mark.parametrize("query, expected, absent", [
    ("4,848", ["2017-06-oir-weapons-released"], []),
    ("4848", ["2017-06-oir-weapons-released"], []),
    # written only in a claim, with a separator: found by the digits alone, and the other way round
    ("28696", ["2015-oir-weapons-released", "2016-centcom-on-track-to-top-2015"], []),
    ("28,696", ["2015-oir-weapons-released", "2016-centcom-on-track-to-top-2015"], []),
    ("Mosul", ["2016-10-17-mosul-offensive-launched", "2017-07-mosul-liberated"], ["2015-oir-weapons-released"]),
    ("June 2017", ["2017-06-oir-weapons-released", "2017-06-15-b-52-munitions-loading"], ["2016-06-oir-weapons-released"]),
    ("2017-06", ["2017-06-oir-weapons-released", "2017-06-15-b-52-munitions-loading"], ["2016-06-oir-weapons-released"]),
    # an operation by its name finds its facts and those of the operations within it
    ("Inherent Resolve", ["2017-06-oir-weapons-released", "2016-10-17-mosul-offensive-launched"],
     ["2017-06-afghanistan-weapons-released"]),
])
def test_search_from_disk(offline, page, query, expected, absent):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((offline / "search/index.html").as_uri())
    page.fill("#q", query)
    found = results(page)
    for ident in expected:
        assert (offline / f"facts/{ident}/index.html").as_uri() in found, (query, ident, found)
    for ident in absent:
        assert (offline / f"facts/{ident}/index.html").as_uri() not in found, (query, ident)
    assert [url for url in requests if not url.startswith("file://")] == []


def test_the_masthead_box_searches_and_a_result_opens_its_fact_from_disk(offline, page):
    page.goto((offline / "facts/2017-07-mosul-liberated/index.html").as_uri())
    page.fill("#masthead-q", "4,848")
    page.press("#masthead-q", "Enter")
    page.wait_for_load_state()
    assert page.url == (offline / "search/index.html").as_uri() + "?q=" + quote("4,848", safe="")
    assert page.input_value("#q") == "4,848"
    assert page.locator("#search-status").inner_text() == "1 fact found."
    page.click("#search-results a")
    page.wait_for_load_state()
    assert page.url == (offline / "facts/2017-06-oir-weapons-released/index.html").as_uri()


def test_an_operation_is_found_by_its_other_name_from_disk(site, page):
    root = site({"content/operations/op-a.yaml": "name: Operation A\naliases: [Task Force Álpha]\n"})
    assert annals(root, "--offline").code == 0
    out = root / "_offline"
    page.goto((out / "search/index.html").as_uri())
    page.fill("#q", "task force alpha")  # case and accents do not matter
    found = results(page)
    # f-june is in op-b, which op-a encloses
    assert found == [(out / "facts/f-june/index.html").as_uri(), (out / "facts/f-event/index.html").as_uri()]
    page.fill("#q", "task force beta")
    assert results(page) == []


def test_a_query_that_matches_nothing_says_so(offline, page):
    page.goto((offline / "search/index.html").as_uri() + "?q=zeppelin")
    assert results(page) == []
    assert page.locator("#search-status").inner_text() == "0 facts found."
