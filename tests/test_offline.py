"""The offline edition: read from file://, every link opens a file, nothing asks the network; one zip download."""
import posixpath
import random
import re
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st

from annals import edition

from conftest import annals, copy_embedded

HREF = re.compile(r'\s(?:href|src)="([^"]*)"')


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """The embedded archive built both ways: the web site (with its zip) and the offline edition."""
    root = copy_embedded(tmp_path_factory.mktemp("offline"))
    assert annals(root).code == 0
    assert annals(root, "--offline").code == 0
    return root


def html_files(folder: Path):
    return sorted(p for p in folder.rglob("*.html"))


def test_every_offline_link_opens_a_file(embedded):
    out = embedded / "_offline"
    checked = 0
    for page in html_files(out):
        for target in HREF.findall(page.read_text()):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#")[0].split("?")[0]
            assert path and not path.endswith("/"), f"{page.relative_to(out)} links to a folder: {target}"
            resolved = Path(posixpath.normpath(posixpath.join(page.parent.as_posix(), path)))
            assert resolved.is_file(), f"{page.relative_to(out)} links to {target}, which is no file"
            assert out in resolved.parents, f"{page.relative_to(out)} links out of the edition: {target}"
            checked += 1
    assert checked > 500  # the embedded archive has some 850 links


def test_no_offline_page_loads_anything_from_elsewhere(embedded):
    for page in html_files(embedded / "_offline"):
        html = page.read_text()
        assert not re.search(r'\ssrc="(?:[a-z]+:|//)', html), page
        for tag in re.findall(r"<link [^>]*>", html):
            assert 'rel="canonical"' in tag or not re.search(r'href="(?:[a-z]+:|//)', tag), (page, tag)
        assert "fetch(" not in html
    assert "fetch(" not in (embedded / "_offline/static/search.js").read_text()


def test_the_web_site_offers_the_offline_edition_as_one_zip_from_every_page(embedded):
    web = embedded / "_site"
    offered = 0
    for page in html_files(web):
        html = page.read_text()
        if 'http-equiv="refresh"' in html:
            continue  # a redirect shows nothing but where to go
        expected = "/annals/annals-offline.zip" if page.name == "404.html" else \
            posixpath.relpath("annals-offline.zip", page.parent.relative_to(web).as_posix())
        assert f'<a href="{expected}" download>Download the whole archive</a>' in html, page
        offered += 1
    assert offered == len(html_files(web)) - sum('http-equiv="refresh"' in p.read_text() for p in html_files(web))
    assert "annals-offline.zip" not in (embedded / "_offline/index.html").read_text()


def test_the_zip_holds_exactly_the_offline_edition(embedded):
    with zipfile.ZipFile(embedded / "_site/annals-offline.zip") as archive:
        zipped = {info.filename: archive.read(info) for info in archive.infolist()}
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    out = embedded / "_offline"
    on_disk = {"annals-offline/" + p.relative_to(out).as_posix(): p.read_bytes()
               for p in out.rglob("*") if p.is_file() and p.name != ".annals-output"}
    assert zipped == on_disk
    assert "annals-offline/index.html" in zipped and "annals-offline/search/search-index.js" in zipped


def test_the_zip_is_the_same_bytes_when_built_again_from_nothing(tmp_path, embedded):
    again = copy_embedded(tmp_path)
    assert annals(again).code == 0
    assert (again / "_site/annals-offline.zip").read_bytes() == (embedded / "_site/annals-offline.zip").read_bytes()


def test_the_zip_follows_a_content_change(site):
    root = site()
    assert annals(root).code == 0
    before = zipfile.ZipFile(root / "_site/annals-offline.zip").read("annals-offline/facts/f-june/index.html")
    fact = root / "content/facts/2017/f-june.yaml"
    fact.write_text(fact.read_text().replace("100 weapons were released", "One hundred weapons were released"))
    assert annals(root).code == 0
    after = zipfile.ZipFile(root / "_site/annals-offline.zip").read("annals-offline/facts/f-june/index.html")
    assert b"One hundred weapons" in after and b"One hundred" not in before
    assert b'href="../../timeline/2017/06/index.html"' in after


# -- in a real browser, from file:// ------------------------------------------------

def test_a_reader_clicks_from_home_to_a_source_from_disk_with_no_network(embedded, page):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    out = embedded / "_offline"
    page.goto((out / "index.html").as_uri())

    def click(selector, expect):
        page.click(selector)
        page.wait_for_load_state()
        assert page.url == (out / expect).as_uri()
        assert page.eval_on_selector(".masthead", "e => getComputedStyle(e).borderBottomStyle") == "solid"

    click('main a[href="timeline/2017/06/index.html"]', "timeline/2017/06/index.html")
    assert page.locator("h1").inner_text() == "June 2017"
    click('main a.claim[href$="2017-06-oir-weapons-released/index.html"]', "facts/2017-06-oir-weapons-released/index.html")
    assert "4,848" in page.locator("h1").inner_text()
    click('dd a[href$="operations/inherent-resolve/index.html"]', "operations/inherent-resolve/index.html")
    click('main a[href$="sources/mosul-airstrikes-record-level/index.html"] >> nth=0',
          "sources/mosul-airstrikes-record-level/index.html")
    click(".masthead a.brand", "index.html")

    assert len(requests) >= 12  # pages and their stylesheet
    assert [url for url in requests if not url.startswith("file://")] == []


def test_one_rendering_serves_both_editions_unless_a_template_reads_offline(site):
    """base.html's only("offline") blocks need no second rendering; `{% if offline %}` does, and is honoured."""
    from annals.render import Renderer
    root = site()
    renderer = Renderer(root)
    assert not renderer.reads_offline("fact.html")  # base.html says "offline" only as text and in only()
    (root / "templates/fact.html").write_text(
        (root / "templates/fact.html").read_text().replace(
            "{% block main %}", "{% block main %}<p class=\"which\">{{ 'disk' if offline else 'web' }}</p>", 1))
    assert Renderer(root).reads_offline("fact.html")
    assert annals(root).code == 0
    web = (root / "_site/facts/f-june/index.html").read_text()
    with zipfile.ZipFile(root / "_site/annals-offline.zip") as archive:
        disk = archive.read("annals-offline/facts/f-june/index.html").decode()
    assert '<p class="which">web</p>' in web and '<p class="which">disk</p>' in disk


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 70_000), st.sampled_from([b"<p>a row</p>\n", b"ab", bytes(range(256))]), st.booleans(),
       st.integers(0, 2**32))
@example(7_458, b"<p>a row</p>\n", True, 0)
def test_a_page_is_deflated_to_one_stream_that_unzips_to_it(tmp_path_factory, size, alphabet, shuffled, seed):
    """An entry copied from the last zip must be what deflating again gives: the same bytes, the same stream."""
    data = bytes(random.Random(seed).choices(alphabet, k=size)) if shuffled else (alphabet * size)[:size]
    spool = edition.Spool(tmp_path_factory.mktemp("spool"))
    streams = []
    for _ in range(2):
        entry = edition.deflate(data, spool)
        spool.flush()
        with open(entry.file, "rb") as handle:
            handle.seek(entry.offset)
            streams.append(handle.read(entry.length))
        assert entry.same(data) and entry.length == len(streams[-1])
    assert streams[0] == streams[1]
    assert zlib.decompress(streams[0], -15) == data


@pytest.mark.parametrize("expression", [
    "{{ link(u.operations()) | tojson }}",
    "{{ link(u.operations()) | urlencode }}",
    "{{ [link(u.operations())] | pprint }}",
    "{{ link(u.operations()) | trim }}",
    '{{ fragment("chrome.html", "footer", site) | striptags }}',
    "{{ link(u.operations()) * 2 }}",
])
def test_a_page_whose_marks_a_filter_changed_is_rendered_for_each_edition(site, expression):
    """One rendering serves both editions only while every mark it put in comes through as it was put:
    a filter may write one another way (tojson, urlencode, pprint), drop it (trim and striptags take
    it for a space) or copy it, and then each edition is what rendering for it alone gives."""
    from annals.pages import Memo, context
    from annals.pipeline import Options, check_pages, read_archive
    from annals.problems import Problems
    from annals.render import Renderer
    root = site()
    fact = root / "templates/fact.html"
    fact.write_text(fact.read_text().replace(
        "{% block main %}", '{% block main %}<p class="filtered">' + expression + "</p>", 1))
    options, problems = Options(root=root, out=root / "_site"), Problems()
    _, index = read_archive(options, problems)
    pages, _ = check_pages(options, index, problems)
    page = next(p for p in pages if p.path == "facts/f-june/")
    renderer = Renderer(root)
    ctx, reader = context(page, index, Memo())
    both = renderer.render_both(page, ctx, reader)
    assert both == (renderer.render(page, ctx, reader), renderer.render(page, ctx, reader, offline=True))
    web, offline = (re.search(rb'<p class="filtered">(.*?)</p>', html, re.S).group(1) for html in both)
    assert web != offline and (b"index.html" in offline or b"offline edition" in offline), (web, offline)
    for html in both:
        assert not re.search(rb"[\x1a-\x1f]|\\u001[a-f]|\\x1[a-f]|%1[A-F]", html)


@pytest.mark.parametrize("count", [0, 3, 65_535, 65_536 + 7])
def test_the_last_zip_is_read_back_as_it_was_written_or_not_at_all(tmp_path, count):
    """What the next build copies from the last zip is each entry's stream where zipfile finds it; a zip
    that is not one of ours, or cut short, gives nothing to copy (every page is compressed again)."""
    spool = edition.Spool(tmp_path / "spool")
    pages = [f"p/{n}/index.html" if n % 3 else f"été/{n}.html" for n in range(count)]
    streams = [edition.deflate(f"<p>{n}</p>".encode(), spool) for n in range(min(count, 50))]
    spool.flush()
    entries = {rel: streams[n % len(streams)] for n, rel in enumerate(pages)}
    path = tmp_path / "edition.zip"
    with open(path, "wb") as handle:
        edition.write_zip(handle, entries)
    found = edition.read_entries(path)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        assert archive.testzip() is None if count < 100 else True
    assert sorted(found) == sorted(pages)
    for info in infos:
        entry = found[info.filename.removeprefix(edition.FOLDER + "/")]
        assert (entry.crc, entry.size, entry.length) == (info.CRC, info.file_size, info.compress_size)
        with open(entry.file, "rb") as handle:
            handle.seek(entry.offset)
            assert zlib.decompress(handle.read(entry.length), -15) == archive_bytes(path, info)
        if count > 100:
            break  # the first is enough of a big one: the directory is read whole or not at all
    whole = path.read_bytes()
    for cut in (len(whole) - 1, len(whole) // 2, 10, 0):
        path.write_bytes(whole[:cut])
        assert edition.read_entries(path) == {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as theirs:  # another's zip: no comment of ours
        theirs.writestr(f"{edition.FOLDER}/index.html", "<p>theirs</p>")
    assert edition.read_entries(path) == {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as theirs:  # ours in name, but stored, not deflated
        theirs.writestr(f"{edition.FOLDER}/index.html", "<p>theirs</p>")
        theirs.comment = edition.COMMENT
    assert edition.read_entries(path) == {}
    assert edition.read_entries(tmp_path / "none.zip") == {}


def archive_bytes(path, info) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(info)
