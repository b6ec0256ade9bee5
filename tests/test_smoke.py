"""The embedded archive builds, and an inline site builds into the pages the URL scheme promises."""
from conftest import REPO, annals


def test_embedded_archive_checks_clean():
    run = annals(REPO, "check", "--strict")
    assert run.code == 0, run.err


def test_inline_site_builds_expected_pages(site):
    root = site()
    run = annals(root)
    assert run.code == 0, run.err
    out = root / "_site"
    for rel in ["index.html", "facts/f-june/index.html", "facts/f-event/index.html", "timeline/index.html",
                "timeline/2017/index.html", "timeline/2017/06/index.html", "timeline/2017/07/index.html",
                "operations/index.html", "operations/op-a/index.html", "operations/op-b/index.html",
                "sources/src-1/index.html", "404.html", "static/style.css"]:
        assert (out / rel).is_file(), rel
    june = (out / "timeline/2017/06/index.html").read_text()
    assert "../../../facts/f-june/" in june
    assert 'rel="next" href="../07/"' in june
