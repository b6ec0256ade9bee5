"""The embedded archive builds, and an inline site builds into the pages the URL scheme promises."""
from conftest import REPO, annals, write_files


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


def test_files_read_ahead_by_threads_are_the_files_read_in_turn(tmp_path):
    """The threads that read ahead from a slow disk (annals.load._fetched) fetch what one reader does, in order."""
    from annals import load
    root = tmp_path / "site"
    facts = {f"content/facts/2017/f-{n:04d}.yaml": f"claim: Fact {n}.\nwhen: 2017-06\n" for n in range(load.SAMPLE + 150)}
    write_files(root, facts)
    write_files(root, {"content/facts/2017/f-9999.yaml": "claim: Gone.\n"})
    files, _ = load.content_files(root)
    (root / "content/facts/2017/f-9999.yaml").unlink()  # listed, then gone: fails to read, in both ways
    in_turn = list(load._fetched(root, files, None, slow=float("inf")))
    ahead = list(load._fetched(root, files, None, slow=0.0))
    assert [rel for rel, _ in ahead] == files and len(files) == load.SAMPLE + 151
    assert [(rel, repr(got)) for rel, got in ahead] == [(rel, repr(got)) for rel, got in in_turn]
    assert isinstance(dict(ahead)["content/facts/2017/f-9999.yaml"][1], OSError)
