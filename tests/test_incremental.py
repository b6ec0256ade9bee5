"""Incremental builds: the work redone after an edit, not only the output.

Each test builds a small inline site, changes one file, builds again with
--verbose (which lists every page rendered) and asserts exactly which pages
were rendered and written, and that the result equals a build from nothing.
"""
from __future__ import annotations

import io
import os
import pty
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO, annals, make_site, synthetic, write_files

FACT = "content/facts/2017/f-june.yaml"

# Everything that shows f-june (100 weapons, June 2017, operation op-b inside op-a, source src-1).
# /search/ too: its hints show the archive's own figure, f-june's (see pages._examples).
SHOWS_F_JUNE = {
    "/", "/search/", "/facts/f-june/", "/timeline/2017/", "/timeline/2017/06/", "/operations/op-a/", "/operations/op-b/",
    "/sources/src-1/", "/metrics/", "/metrics/weapons-released/", "/search/search-index.js",
    "/data/facts.json", "/data/facts.csv", "/feed.xml", "/timeline/2017/06/facts.json",
    "/operations/op-a/facts.json", "/operations/op-b/facts.json",
}


def rendered(run) -> set[str]:
    return {line.removeprefix("rendered ") for line in run.out.splitlines() if line.startswith("rendered /")}


def summary(run) -> str:
    return run.out.strip().splitlines()[-1]


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def zipped(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def same_as_from_nothing(root: Path, tmp_path: Path) -> None:
    """The incremental result is byte for byte what a build from an empty folder gives."""
    fresh = tmp_path / "fresh"
    assert annals(root, "--out", str(fresh), "-q").code == 0
    built, clean = tree(root / "_site"), tree(fresh)
    assert built.keys() == clean.keys()
    assert [p for p in built if built[p] != clean[p]] == []


def test_nothing_changed_renders_and_writes_nothing(tmp_path):
    root = make_site(tmp_path)
    first = annals(root, "-v")
    assert first.code == 0 and "27 rendered" in summary(first)
    # The memory of the build too: with nothing changed it holds what it held.
    watched = [*(root / "_site").rglob("*"), *(root / ".annals-cache").glob("session-*")]
    mtimes = {p: p.stat().st_mtime_ns for p in watched if p.is_file()}
    assert any(".annals-cache" in str(p) for p in mtimes)
    again = annals(root, "-v")
    assert again.code == 0
    assert rendered(again) == set()
    assert "0 rendered, 0 files written, 0 removed" in summary(again)
    assert {p: p.stat().st_mtime_ns for p in watched if p.is_file()} == mtimes
    # ... and the build after it still knows what each page read: an edit renders only its pages.
    edit(root, FACT, "100 weapons were released", "Exactly 100 weapons were released")
    assert rendered(annals(root, "-v")) == SHOWS_F_JUNE


def test_a_session_it_cannot_read_means_a_whole_build_and_the_next_one_builds_nothing(tmp_path):
    """The session is Annals' own cache: damaged, cut short or of another version, either of its two
    files, it is no memory at all."""
    import pickle

    root = make_site(tmp_path)
    assert annals(root).code == 0
    for suffix in ("glance", "pickle"):
        [path] = (root / ".annals-cache").glob(f"session-*.{suffix}")
        whole = path.read_bytes()
        code, config, *kept = pickle.loads(whole)
        for n, damaged in enumerate((b"", b"\x00garbage", whole[: len(whole) // 2],
                                     pickle.dumps(("another version", config, *kept)),
                                     pickle.dumps([1, 2, 3]), pickle.dumps((code, config, (1, 2))))):
            path.write_bytes(damaged)
            edit(root, FACT, "released in June", f"released in June ({n})")  # the whole session is needed
            run = annals(root, "-v")
            assert run.code == 0 and "Traceback" not in run.err
            assert "/facts/f-june/" in rendered(run) and len(rendered(run)) > 20, (suffix, n)
            assert rendered(annals(root, "-v")) == set()  # and it wrote a session the next build reads
            whole = path.read_bytes()


def test_one_fact_edited_renders_exactly_the_pages_that_show_it(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    edit(root, FACT, "100 weapons were released", "One hundred weapons were released")
    run = annals(root, "-v")
    assert run.code == 0, run.err
    assert rendered(run) == SHOWS_F_JUNE
    # The other fact's page, the indexes that only count facts, and the 404 page were not touched.
    assert not rendered(run) & {"/facts/f-event/", "/timeline/", "/operations/", "/sources/", "/404.html"}
    assert "One hundred weapons" in (root / "_site/facts/f-june/index.html").read_text()
    same_as_from_nothing(root, tmp_path)


def test_a_value_edit_reaches_every_page_and_export_that_shows_the_figure(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    edit(root, FACT, "value: 100", "value: 4848")
    run = annals(root, "-v")
    assert rendered(run) == SHOWS_F_JUNE
    for page in ("facts/f-june/index.html", "timeline/2017/06/index.html", "operations/op-a/index.html",
                 "metrics/weapons-released/index.html", "data/facts.csv"):
        assert "4,848" in (root / "_site" / page).read_text() or "4848" in (root / "_site" / page).read_text(), page
    same_as_from_nothing(root, tmp_path)


def test_a_template_edit_renders_only_the_pages_made_with_it(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    edit(root, "templates/month.html", "<h1>", '<h1 class="month-title">')
    run = annals(root, "-v")
    assert rendered(run) == {"/timeline/2017/06/", "/timeline/2017/07/"}
    assert 'class="month-title"' in (root / "_site/timeline/2017/06/index.html").read_text()
    edit(root, "templates/macros.html", '<ol class="facts">', '<ol class="facts list">')
    run = annals(root, "-v")
    # Every page that imports the macros, and no data file.
    assert "/facts/f-june/" in rendered(run) and "/timeline/2017/06/" in rendered(run)
    assert not {p for p in rendered(run) if not p.endswith("/") and not p.endswith(".html")}
    same_as_from_nothing(root, tmp_path)


def test_a_stylesheet_edit_writes_the_stylesheet_and_renders_no_page(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    with (root / "static/style.css").open("a") as css:
        css.write("\n.added { color: red }\n")
    run = annals(root, "-v")
    assert rendered(run) == set()
    assert "2 files written" in summary(run)  # the stylesheet, and the zip that holds it
    assert ".added" in (root / "_site/static/style.css").read_text()
    assert b".added" in zipped(root / "_site/annals-offline.zip")["annals-offline/static/style.css"]


def test_adding_and_deleting_a_fact(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    write_files(root, {"content/facts/2017/f-july.yaml": """\
        claim: 200 weapons were released in July 2017.
        when: 2017-07
        operations: [op-a]
        measure: {metric: weapons-released, value: 200, aggregation: period}
        sources: [{source: src-1, quote: "200 in July"}]
        """})
    run = annals(root, "-v")
    assert run.code == 0, run.err
    assert "/facts/f-july/" in rendered(run) and "/timeline/2017/07/" in rendered(run)
    assert "/facts/f-june/" not in rendered(run) and "/timeline/2017/06/" not in rendered(run)
    assert (root / "_site/facts/f-july/index.html").is_file()
    same_as_from_nothing(root, tmp_path)

    # Published, so deleting it without a tombstone is refused, and the site stays as it was.
    (root / "content/facts/2017/f-july.yaml").unlink()
    refused = annals(root)
    assert refused.code == 1 and "/facts/f-july/ was published" in refused.err
    assert (root / "_site/facts/f-july/index.html").is_file()
    write_files(root, {"content/withdrawn/f-july.yaml": "withdrawn: 2017-08-01\nreason: A test retired it.\n"})
    run = annals(root, "-v")
    assert run.code == 0, run.err
    assert "withdrawn" in (root / "_site/facts/f-july/index.html").read_text()


def test_renaming_a_fact_with_an_alias_keeps_its_old_address(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    old = root / FACT
    text = old.read_text()
    old.unlink()
    write_files(root, {"content/facts/2017/f-june-2017.yaml": text + "aliases: [f-june]\n"})
    run = annals(root, "-v")
    assert run.code == 0, run.err
    assert {"/facts/f-june-2017/", "/facts/f-june/"} <= rendered(run)
    assert "f-june-2017/" in (root / "_site/facts/f-june/index.html").read_text()  # now a redirect
    same_as_from_nothing(root, tmp_path)


def test_the_zip_keeps_unchanged_entries_as_they_were(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    before = zipped(root / "_site/annals-offline.zip")
    edit(root, FACT, "100 weapons were released", "One hundred weapons were released")
    assert annals(root).code == 0
    after = zipped(root / "_site/annals-offline.zip")
    changed = {name.removeprefix("annals-offline/") for name in after if after[name] != before.get(name)}
    assert changed == {"facts/f-june/index.html", "index.html", "timeline/2017/06/index.html",
                       "timeline/2017/index.html", "operations/op-a/index.html", "operations/op-b/index.html",
                       "sources/src-1/index.html",
                       "search/search-index.js", "data/facts.json", "data/facts.csv", "feed.xml",
                       "timeline/2017/06/facts.json", "operations/op-a/facts.json", "operations/op-b/facts.json"}
    same_as_from_nothing(root, tmp_path)


def test_a_lost_output_file_is_made_again(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    (root / "_site/facts/f-event/index.html").unlink()
    run = annals(root, "-v")
    assert rendered(run) == {"/facts/f-event/"}
    assert (root / "_site/facts/f-event/index.html").is_file()


def test_many_pages_render_alike_on_one_process_and_on_two(tmp_path):
    facts = {f"content/facts/2016/f-{i:04d}.yaml": f"""\
        claim: Fact number {i}.
        when: 2016-{1 + i % 12:02d}-{1 + i % 28:02d}
        operations: [{'op-a' if i % 2 else 'op-b'}]
        sources: [{{source: src-1, quote: "fact {i}"}}]
        """ for i in range(450)}
    root = make_site(tmp_path, facts)
    one, two = tmp_path / "one", tmp_path / "two"
    assert annals(root, "--out", str(one), "-j", "1", "-q").code == 0
    run = annals(root, "--out", str(two), "-j", "2", "-v")
    assert run.code == 0 and len(rendered(run)) > 450
    assert tree(one) == tree(two)
    # One fact edited: its lists, data files and feed, a few pages dealt one at a time to the second process.
    edit(root, "content/facts/2016/f-0007.yaml", "Fact number 7.", "Fact number seven.")
    alone, shared = annals(root, "--out", str(one), "-j", "1", "-v"), annals(root, "--out", str(two), "-j", "2", "-v")
    assert rendered(alone) == rendered(shared) and len(rendered(shared)) >= 8
    assert tree(one) == tree(two) and "Fact number seven." in (two / "operations/op-a/index.html").read_text()


# -- what a build prints ---------------------------------------------------------------

def test_verbose_prints_each_stage_with_its_count(tmp_path):
    root = make_site(tmp_path)
    run = annals(root, "--verbose")
    stages = [line.split(":")[0] for line in run.err.splitlines()]
    assert stages == ["load", "history", "validate", "index", "plan", "render", "write", "zip", "commit"]
    assert "render: 27/27 in" in run.err


def test_quiet_prints_nothing_when_all_is_well(tmp_path):
    root = make_site(tmp_path)
    run = annals(root, "--quiet")
    assert run.code == 0 and run.out == "" and run.err == ""


def test_a_build_off_a_terminal_prints_one_line(tmp_path):
    root = make_site(tmp_path)
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root)], capture_output=True,
                          text=True, env={**os.environ, "CI": "true"}, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("built 27 pages")


def test_a_build_on_a_terminal_shows_progress_and_clears_it(tmp_path):
    # The bar appears only after Bar.DELAY; the embedded archive built in 0.29 s on CI,
    # so this builds a synthetic archive that takes seconds on any machine we run on.
    recs = synthetic.records(800)
    root = tmp_path / "project"
    synthetic.write_annals(root, recs)
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TERM"] = "xterm"
    proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(root), "-j", "1"],
                            stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    seen = io.BytesIO()
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen.write(chunk)
    assert proc.wait() == 0
    text = seen.getvalue().decode()
    assert "\r\x1b[K" in text and "render [" in text  # a bar, redrawn in place
    last = text.rstrip().splitlines()[-1].split("\x1b[K")[-1]
    assert re.match(r"built [\d,]+ pages into .*: [\d,]+ rendered", last), last  # the bar gone, the summary kept


def test_a_cold_build_has_its_templates_compiled_by_another_process_meanwhile(tmp_path):
    """Renderer.compile_ahead: the bytecode cache filled while the archive is read; a warm one is left alone."""
    from annals.render import Renderer

    root = make_site(tmp_path)
    cache = root / ".annals-cache/templates"
    renderer = Renderer(root, cache)
    process = renderer.compile_ahead()
    assert process is not None
    assert process.wait() == 0
    names = sorted(p.name for p in (root / "templates").glob("*.html"))
    assert len(list(cache.glob("*.cache"))) == len(names)
    assert Renderer(root, cache).compile_ahead() is None  # nothing left to gain
    assert Renderer(root).compile_ahead() is None  # no cache to fill
    # A build that loads them renders what one that compiles them does.
    assert annals(root, "-q").code == 0
    compiled_here = tmp_path / "compiled-here"
    shutil.rmtree(cache)
    assert annals(root, "--out", str(compiled_here), "-j", "1", "-q").code == 0
    assert tree(root / "_site") == tree(compiled_here)


# -- what a session on disk may not be trusted with ------------------------------------------------

def test_an_output_folder_put_back_from_a_copy_is_built_whole(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    shutil.copytree(root / "_site", tmp_path / "copy")
    edit(root, "content/site.yaml", "title: Test Archive", "title: Renamed Archive")
    assert annals(root).code == 0
    shutil.rmtree(root / "_site")
    shutil.copytree(tmp_path / "copy", root / "_site")  # an older site, as a deploy tool or a backup puts it back
    run = annals(root, "-v")
    assert run.code == 0 and len(rendered(run)) > 20
    assert "Renamed Archive" in (root / "_site/index.html").read_text()
    same_as_from_nothing(root, tmp_path)


def test_a_zip_deleted_or_damaged_is_made_whole_again(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    whole = zipped(root / "_site/annals-offline.zip")
    for damage in ("delete", "garbage", "a byte of a stream"):
        zip_path = root / "_site/annals-offline.zip"
        if damage == "delete":
            zip_path.unlink()
        elif damage == "garbage":
            zip_path.write_bytes(b"not a zip")
        else:  # in place, the size kept: its entries still say they hold the pages, and one does not
            with open(zip_path, "r+b") as handle:
                handle.seek(100)
                handle.write(bytes([handle.read(1)[0] ^ 0xFF]))
        assert annals(root).code == 0
        assert zipped(zip_path) == whole, damage
    edit(root, FACT, "100 weapons were released", "One hundred weapons were released")
    assert annals(root).code == 0
    same_as_from_nothing(root, tmp_path)
    assert zipped(root / "_site/annals-offline.zip") == zipped(tmp_path / "fresh/annals-offline.zip")


def test_a_sources_full_text_changed_is_checked_again(tmp_path):
    root = make_site(tmp_path, {
        "content/sources/src-1.yaml": "title: A report\nkind: report\ntext_file: src-1/full.txt\n",
        "content/sources/src-1/full.txt": "In June, 100 weapons in June were released; something happened.\n"})
    assert annals(root).code == 0, annals(root).err
    edit(root, "content/sources/src-1/full.txt", "100 weapons in June", "a hundred weapons")
    run = annals(root)
    assert run.code == 1
    assert any(p.startswith(FACT + ":") and "quote does not occur in the text of source 'src-1'" in p
               for p in run.problems), run.err


def test_locked_holds_in_a_resumed_build(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    text = (root / FACT).read_text().replace("100 weapons were released", "A new fact;")
    (root / "content/facts/2017/f-new.yaml").write_text(text)
    assert annals(root, "--offline").code == 0  # which records nothing
    for claim in ("A new fact;", "A new fact, edited;"):  # resumed, then resumed and patched
        edit(root, "content/facts/2017/f-new.yaml", "A new fact;", claim)
        run = annals(root, "--offline", "--locked")
        assert run.code == 1 and any("/facts/f-new/" in p and "--locked" in p for p in run.problems), run.err


def test_a_session_that_cannot_be_kept_is_a_warning_not_a_failure(tmp_path):
    root = make_site(tmp_path)
    assert annals(root).code == 0
    [whole] = (root / ".annals-cache").glob("session-*.pickle")
    # In the way of the next save, whole or its journal, as a full disk would be.
    blocked = [whole.with_name(whole.name + ".tmp"), whole.with_name(whole.stem + ".journal.tmp")]
    for folder in blocked:
        folder.mkdir()
    edit(root, FACT, "100 weapons were released", "One hundred weapons were released")
    run = annals(root)
    assert run.code == 0 and "Traceback" not in run.err
    assert "could not keep this build's session" in run.err
    assert "One hundred weapons" in (root / "_site/facts/f-june/index.html").read_text()
    for folder in blocked:
        folder.rmdir()
    same_as_from_nothing(root, tmp_path)


def test_a_row_macro_edited_draws_every_row_of_every_list_again(tmp_path):
    # The rows a build drew are kept in its session under their template's fingerprint: a resumed
    # build with the row's macro changed must draw them anew, not join the old ones.
    root = make_site(tmp_path)
    assert annals(root).code == 0
    edit(root, "templates/macros.html", '<a class="claim" href=', '<a class="claim row-claim" href=')
    assert annals(root).code == 0
    for page in ("timeline/2017/06/index.html", "timeline/2017/index.html", "operations/op-a/index.html",
                 "operations/op-b/index.html", "sources/src-1/index.html"):
        text = (root / "_site" / page).read_text()
        assert 'class="claim row-claim"' in text and 'class="claim" href' not in text, page
    same_as_from_nothing(root, tmp_path)


def test_the_rows_a_build_drew_are_drawn_by_the_next_only_for_the_facts_that_changed(tmp_path):
    # One fact edited among ten thousand draws one row of each list, not the list: the rows come
    # from the session the last build left. Shown by a row put into the session by hand, which a
    # build that draws again would never show, and which goes once its fact changes.
    from annals.cli import _parser, options_from
    from annals.pipeline import resume_session, save_session
    from annals.render import Renderer

    root = make_site(tmp_path)
    assert annals(root).code == 0
    options = options_from(_parser().parse_args(["--root", str(root)]))
    session = resume_session(options)
    rows = {key: found for key, found in session.memo.entries.items() if key[0] is Renderer._rows_drawn}
    assert {key[2][0] for key in rows} >= {"f-june", "f-event"}
    planted = 0
    for key, (html, deps) in rows.items():
        if key[2][0] == "f-event":
            session.memo.entries[key] = (html.replace("</li>", "<!-- kept --></li>"), deps)
            planted += 1
    assert planted
    save_session(options, session)
    edit(root, FACT, "100 weapons were released", "One hundred weapons were released")
    assert annals(root).code == 0
    month = (root / "_site/timeline/2017/index.html").read_text()
    assert "<!-- kept -->" in month and "One hundred weapons" in month
    edit(root, "content/facts/2017/f-event.yaml", "claim: ", "claim: Then ")
    assert annals(root).code == 0
    assert "<!-- kept -->" not in (root / "_site/timeline/2017/index.html").read_text()
    same_as_from_nothing(root, tmp_path)
