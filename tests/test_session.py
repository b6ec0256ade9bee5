"""Sessions: told which files changed, or finding them, a build patches its last good one.

The preview keeps its session in memory and is told which files changed;
`build.py` resumes the session its last build left on disk and finds them by
their signatures (see annals.session). For a save of a fact, both read that
file alone and patch the index. Each step here holds the two to each other
and to a build from nothing: after every edit, both outputs are byte for
byte a cold build's, both rendered the same pages, and both patched or not.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from annals.pipeline import Options, Session, build, check, finish
from annals.problems import BuildFailed
from conftest import annals, make_site, synthetic, write_files

FACT = "content/facts/2017/f-june.yaml"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".annals-staging" not in p.parts}


def options(root: Path, out: str) -> Options:
    return Options(root=root, out=root / out, offline_zip=False, record_permalinks=False)


class Twins:
    """One project built three ways after each edit: by a preview's session, by build.py's session
    on disk, and from nothing."""

    def __init__(self, root: Path):
        self.root, self.session = root, Session()
        build(options(root, "preview"), session=self.session)
        build(options(root, "disk"))

    def step(self, files: dict, fails: bool = False, patched: bool = True, on_disk: bool | None = None) -> set[str]:
        """`patched`: whether the preview patches its index; `on_disk`: whether build.py does, if not the same."""
        write_files(self.root, files)
        changed = set(files)
        if fails:
            with pytest.raises(BuildFailed):
                build(options(self.root, "preview"), session=self.session, changed=changed)
            with pytest.raises(BuildFailed):
                build(options(self.root, "disk"))
            return set()
        # As the preview does: the pages first, the data files just after.
        mine = build(options(self.root, "preview"), session=self.session, changed=changed,
                     first=lambda page: bool(page.template))
        assert all(not path.endswith(("/", ".html")) for path in self.session.pending)
        later = finish(options(self.root, "preview"), self.session)
        assert self.session.pending == set()
        theirs = build(options(self.root, "disk"))
        assert sorted(mine.rendered + (later.rendered if later else [])) == sorted(theirs.rendered)
        assert mine.patched == patched and theirs.patched == (patched if on_disk is None else on_disk)
        shutil.rmtree(self.root / "cold", ignore_errors=True)
        build(options(self.root, "cold"))
        cold = tree(self.root / "cold")
        for built in (tree(self.root / "preview"), tree(self.root / "disk")):
            assert built.keys() == cold.keys()
            assert [p for p in built if built[p] != cold[p]] == []
        return set(mine.rendered)


def measure(claim: str, when: str, op: str, value: int, source: str = "src-1") -> str:
    return (f"claim: {claim}\nwhen: {when}\noperations: [{op}]\nmeasure:\n  metric: weapons-released\n"
            f"  value: {value}\n  aggregation: period\nsources:\n  - source: {source}\n    quote: \"{value} weapons\"\n")


@pytest.fixture
def twins(tmp_path) -> Twins:
    root = make_site(tmp_path, {
        "content/sources/src-2.yaml": "title: Another report\nkind: report\n",
        "content/facts/2017/f-may.yaml": measure("80 weapons in May 2017.", "2017-05", "op-b", 80, "src-2"),
        "content/articles/summer.md": "---\ntitle: A summer\ndate: 2017-08-01\n---\nSee [[fact:f-june]].\n",
    })
    return Twins(root)


def test_a_claim_edited(twins):
    done = twins.step({FACT: measure("Exactly 100 weapons in June 2017.", "2017-06", "op-b", 100)})
    assert "facts/f-june/" in done and "timeline/2017/06/" in done and "facts/f-may/" not in done


def test_a_figure_that_comes_to_contradict_another_and_stops(twins):
    twins.step({"content/facts/2017/f-june-b.yaml": measure("120 weapons in June 2017.", "2017-06", "op-b", 120)})
    assert "disputed" in (twins.root / "preview/facts/f-june/index.html").read_text()
    twins.step({"content/facts/2017/f-june-b.yaml": measure("100 weapons in June 2017.", "2017-06", "op-b", 100)})
    assert "disputed" not in (twins.root / "preview/facts/f-june/index.html").read_text()


def test_a_fact_moved_in_time_and_to_another_operation(twins):
    twins.step({FACT: measure("100 weapons in March 2016.", "2016-03", "op-a", 100, "src-2")})
    assert (twins.root / "preview/timeline/2016/03/index.html").is_file()
    assert not (twins.root / "preview/timeline/2017/06/index.html").exists()


def test_facts_added_and_removed(twins):
    twins.step({"content/facts/2018/f-new.yaml": measure("5 weapons in 2018.", "2018-01", "op-a", 5)})
    twins.step({"content/facts/2018/f-new.yaml": None, "content/facts/2017/f-may.yaml": None})
    assert not (twins.root / "preview/facts/f-new/index.html").exists()


def test_a_renamed_fact_keeps_its_old_address(twins):
    text = (twins.root / FACT).read_text() + "aliases: [f-june]\n"
    twins.step({FACT: None, "content/facts/2017/f-june-2017.yaml": text})
    assert "f-june-2017" in (twins.root / "preview/facts/f-june/index.html").read_text()


def test_a_broken_save_then_its_fix(twins):
    twins.step({FACT: "claim: [broken\n"}, fails=True)
    twins.step({"content/facts/2017/f-may.yaml": measure("81 weapons in May 2017.", "2017-05", "op-b", 81)},
               fails=True)
    # After a failed build the preview's session reads everything: the files it read then are not in its
    # last good build. build.py's session on disk is that last good build, and patches the two facts edited since.
    twins.step({FACT: measure("Fixed, 100 weapons in June 2017.", "2017-06", "op-b", 100)}, patched=False, on_disk=True)
    twins.step({FACT: measure("Fixed again, 100 weapons in June 2017.", "2017-06", "op-b", 100)})
    assert "81 weapons" in (twins.root / "preview/facts/f-may/index.html").read_text()


def test_a_source_an_operation_a_template_and_the_stylesheet(twins):
    twins.step({"content/sources/src-1.yaml": "title: A report, retitled\nkind: report\n"}, patched=False)
    twins.step({"content/operations/op-b.yaml": "name: Operation B, renamed\nparent: op-a\n"}, patched=False)
    page = twins.root / "templates/fact.html"
    twins.step({"templates/fact.html": page.read_text().replace("<h2>Sources</h2>", "<h2>Where it comes from</h2>")})
    css = twins.root / "static/style.css"
    assert twins.step({"static/style.css": css.read_text() + "\n.x { color: red }\n"}) == set()


def test_nothing_changed_renders_nothing(twins):
    assert twins.step({}, on_disk=False) == set()  # build.py sees it at a glance: nothing read, nothing patched


def test_a_session_that_starts_on_a_folder_of_its_own_with_many_pages(tmp_path):
    """Its first build renders on two processes: pages the workers stage and pages kept in memory all land."""
    facts = {f"content/facts/2016/f-{n:03d}.yaml": measure(f"{n} weapons in 2016.", f"2016-{n % 12 + 1:02d}", "op-b", n)
             for n in range(1, 450)}
    root = make_site(tmp_path, facts)
    build(options(root, "preview"))
    for state in (root / ".annals-cache").glob("session-*"):
        state.unlink()  # every page stale, and the folder not new
    edit = root / "content/facts/2016/f-001.yaml"
    edit.write_text(measure("One weapon in 2016, told again.", "2016-02", "op-b", 1))
    session = Session()
    done = build(dataclasses.replace(options(root, "preview"), workers=2), session=session)
    assert len(done.rendered) > 400
    build(options(root, "cold"))
    assert tree(root / "preview") == tree(root / "cold")


def test_a_preview_started_on_its_last_output_warms_the_shared_pages_and_writes_nothing(tmp_path):
    """Started again, the preview renders nothing, then renders the shared pages while idle (serve.Preview.warm)."""
    from annals.serve import Preview
    root = make_site(tmp_path, {"content/facts/2017/f-may.yaml": measure("80 weapons in May 2017.", "2017-05", "op-b", 80)})
    last = Preview(options(root, "preview"))
    assert last.rebuild().ok and last.warming == []  # a first build renders every page itself
    last.save()
    build(options(root, "disk"))

    again = Preview(options(root, "preview"))
    assert again.rebuild().rendered == 0
    pages = {p.path: p for p in again.session.good.pages}
    assert again.warming and all(pages[path].kind != "fact" for path in again.warming)
    assert "" in again.warming and "data/facts.json" in again.warming
    assert again.warming.index("") < again.warming.index("data/facts.json")  # pages before data files
    stamps = {p: p.stat().st_mtime_ns for p in (root / "preview").rglob("*") if p.is_file()}
    while again.warm():
        pass
    assert {p: p.stat().st_mtime_ns for p in (root / "preview").rglob("*") if p.is_file()} == stamps
    assert again.session.memo.entries

    write_files(root, {FACT: measure("Exactly 100 weapons in June 2017.", "2017-06", "op-b", 100)})
    saved = again.rebuild({FACT})
    assert saved.ok
    rendered = saved.rendered
    while (later := again.finish(most=1)) is not None:
        rendered += later.rendered
    # The warmed session redid what a build from the state on disk redoes, and its output is a cold build's.
    assert rendered == len(build(options(root, "disk")).rendered) > 0
    build(options(root, "cold"))
    assert tree(root / "preview") == tree(root / "cold")


def test_a_build_leaves_the_garbage_collector_as_it_found_it(tmp_path):
    """A build keeps the collector off what it reads and freezes it (parallel.lasting), also for its
    forked workers, and makes no full collection while it renders (parallel.young_only); whether it
    builds, fails or runs with the collector already off, nothing stays frozen and the thresholds are
    put back. `check` reads the same way."""
    import gc

    root = tmp_path / "big"  # large enough to be rendered on two processes
    synthetic.write_annals(root, synthetic.records(450))
    assert gc.isenabled()
    usual = gc.get_threshold()
    thresholds = (100, 2, 2)  # a full collection every few hundred objects, were the build to allow it
    gc.set_threshold(*thresholds)
    full = []
    gc.callbacks.append(lambda phase, info: full.append(1) if phase == "start" and info["generation"] == 2 else None)
    try:
        report = build(dataclasses.replace(options(root, "out"), workers=2))
        assert not full  # read with the collector off, rendered with young collections only
        kept = [[] for _ in range(100_000)]  # objects that live on, as a build's do
        assert full and kept  # the thresholds that let none happen were the build's alone
    finally:
        gc.callbacks.pop()
    assert len(report.rendered) > 400 and gc.isenabled() and gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
    assert not check(options(root, "out")).errors and gc.isenabled() and gc.get_freeze_count() == 0
    write_files(root, {"content/facts/broken.yaml": "claim: [unclosed\n"})
    with pytest.raises(BuildFailed):
        build(options(root, "out"))
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        with pytest.raises(BuildFailed):
            build(options(root, "out"))
        assert not gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    finally:
        gc.enable()
        gc.set_threshold(*usual)


def test_a_base_damaged_where_it_still_unpickles_is_no_session(tmp_path):
    """A byte of a fact's text changed in the session's base (its length kept, so it still unpickles):
    the next build is a whole build, and publishes what the files say, not what the damage says."""
    root = make_site(tmp_path)
    build(options(root, "disk"))
    base, = (root / ".annals-cache").glob("session-*.pickle")
    data = base.read_bytes()
    claim = b"Something happened."
    assert claim in data
    base.write_bytes(data.replace(claim, b"Something HAPPENED."))
    write_files(root, {FACT: (root / FACT).read_text().replace("100 weapons were", "One hundred weapons were")})
    report = build(options(root, "disk"))
    assert not report.patched and len(report.rendered) > 20
    build(options(root, "cold"))
    assert tree(root / "disk") == tree(root / "cold")
    assert b"HAPPENED" not in b"".join(tree(root / "disk").values())


def test_the_feeds_entries_are_kept_on_disk_with_a_fact_of_no_date_among_them(tmp_path):
    # A fact of no date has no time in the feed (None beside its entry): its block of entries was
    # once no text to the session, and every build derived the whole feed again.
    from annals.cli import _parser, options_from
    from annals.exports import _feed_item
    from annals.pages import _each
    from annals.pipeline import resume_session

    root = make_site(tmp_path, {"content/facts/f-undated.yaml": """\
        claim: Something happened at some time.
        sources:
          - source: src-1
            quote: "something happened"
        """})
    assert annals(root).code == 0
    session = resume_session(options_from(_parser().parse_args(["--root", str(root)])))
    blocks = [found[0] for key, found in session.memo.entries.items() if key[0] is _each and key[1][0] is _feed_item]
    assert blocks and None in {time for block in blocks for time, _ in block}
    assert sum(map(len, blocks)) == 3
