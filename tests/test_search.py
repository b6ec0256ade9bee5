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
    # kept by where they come from: search.js ranks by it, and looks for a year in the date only
    for words in ("June 2017", "2017-06", "2017"):
        assert words in june["dates"], words
    for words in ("Operation B", "Operation A", "op-a", "weapons", "Weapons released"):
        assert words in june["names"], words  # op-b's parent op-a finds it too
    assert june["figure"] == "100" and june["quotes"] == "100 weapons in June"
    assert "July 2017" not in june["dates"]


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


# An operation named after a year, facts of other years in it, and words found in a claim or a name only.
RANKED = {
    "content/operations/op-c.yaml": "name: Mission France 2019\n",
    "content/facts/2017/f-name.yaml": """\
        claim: Aircraft flew from an airfield.
        when: 2017-03
        operations: [op-c]
        places: [France]
        sources:
          - source: src-1
            quote: "flew from a base"
        """,
    "content/facts/2017/f-claim-2017.yaml": """\
        claim: Aircraft of France flew 200 sorties.
        when: 2017-04
        operations: [op-c]
        sources:
          - source: src-1
            quote: "200 sorties"
        """,
    "content/facts/2019/f-claim-2019.yaml": """\
        claim: Aircraft of France flew 300 sorties.
        when: 2019-02
        sources:
          - source: src-1
            quote: "300 sorties"
        """,
    "content/facts/2019/f-name-2019.yaml": """\
        claim: A base was opened.
        when: {from: 2018-11, to: 2019-01}
        places: [France]
        sources:
          - source: src-1
            quote: "a base was opened"
        """,
}


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    from conftest import make_site
    root = make_site(tmp_path_factory.mktemp("ranked"), RANKED)
    assert annals(root, "--offline").code == 0
    return root / "_offline"


def found_ids(out, page, query):
    page.goto((out / "search/index.html").as_uri())
    page.fill("#q", query)
    return [url.rsplit("/facts/", 1)[1].split("/")[0] for url in results(page)]


def test_a_year_typed_matches_the_facts_date_never_a_year_in_a_name(ranked, page):
    # "Mission France 2019" holds facts of 2017: they are not facts of 2019
    assert found_ids(ranked, page, "france 2019") == ["f-claim-2019", "f-name-2019"]
    assert page.locator("#search-status").inner_text() == "2 facts found, the best matches first."
    # a span that reaches into 2019 is of 2019 too, after the facts that lie within 2019
    assert found_ids(ranked, page, "2019") == ["f-claim-2019", "f-name-2019"]
    assert found_ids(ranked, page, "2018") == ["f-name-2019"]
    assert found_ids(ranked, page, "france march 2017") == ["f-name"]
    assert found_ids(ranked, page, "france 2017-04") == ["f-claim-2017"]


def test_matches_in_the_claim_come_before_matches_in_a_name(ranked, page):
    # f-claim-* say France in their claim; f-name and f-name-2019 only in a place or an operation's name
    assert found_ids(ranked, page, "france") == ["f-claim-2017", "f-claim-2019", "f-name", "f-name-2019"]
    assert page.locator("#search-status").inner_text() == "4 facts found, the best matches first."
    # a word of one claim and of another's quote: the claim first, though the quote's fact is older
    assert found_ids(ranked, page, "base") == ["f-name-2019", "f-name"]
