"""Golden snapshot: the whole output of a small site, file by file; and builds are deterministic.

Regenerate after an intended change of output with `pytest tests/test_golden.py --update-golden`,
then read the diff of tests/golden/ before committing it.
"""
from __future__ import annotations

import difflib
import io
import shutil
import zipfile
from pathlib import Path

from annals import edition
from conftest import REPO, annals, make_site

GOLDEN = Path(__file__).parent / "golden" / "site"

# MINIMAL plus one of each kind of fact and every cross-check the index makes.
FILES = {
    "content/metrics.yaml": """\
        weapons-released:
          label: Weapons released
          unit: weapons
          description: Bombs and missiles released.
        sorties:
          label: Combat sorties
          unit: sorties
          description: Combat flights.
        """,
    "content/sources/src-2.yaml": """\
        title: A second report
        kind: news-article
        publisher: The Daily Example
        published: 2017-07
        url: https://example.org/report
        notes: Read on *paper*.
        """,
    "content/facts/2017/f-june-other.yaml": """\
        claim: 130 weapons were released in June 2017, says another report.
        when: 2017-06
        operations: [op-b]
        measure:
          metric: weapons-released
          value: 130
          aggregation: period
        sources:
          - source: src-2
            quote: "130 weapons"
        """,
    "content/facts/2017/f-may.yaml": """\
        claim: 80 weapons were released in May 2017.
        when: 2017-05
        operations: [op-b]
        measure:
          metric: weapons-released
          value: 80
          aggregation: period
        sources:
          - source: src-1
            quote: "80 in May"
        aliases: [f-may-old]
        """,
    "content/facts/2017/f-spring.yaml": """\
        claim: Over 150 weapons were released in May and June 2017.
        when: {from: 2017-05, to: 2017-06}
        operations: [op-b]
        measure:
          metric: weapons-released
          value: 150
          aggregation: period
          approx: at-least
        sources:
          - source: src-2
            quote: "over 150"
        """,
    "content/facts/2017/f-ytd.yaml": """\
        claim: 1,200 combat sorties were flown in 2017 up to the end of July.
        when: 2017-07
        operations: [op-a]
        measure:
          metric: sorties
          value: 1200
          aggregation: cumulative
          since: 2017-01
        originator: The Air Command
        sources:
          - source: src-2
            quote: "1,200 combat sorties so far this year"
        notes: A running total, counted from January.
        """,
    "content/facts/2017/f-statement.yaml": """\
        claim: The commander called the month a success.
        when: 2017-07-10
        operations: [op-a]
        speaker: A. Commander
        speaker_role: commander of Operation A
        sources:
          - source: src-2
            quote: "a success"
        """,
    "content/facts/2016/f-year.yaml": """\
        claim: 900 weapons were released in 2016.
        when: 2016
        operations: [op-a]
        measure:
          metric: weapons-released
          value: 900
          aggregation: period
        sources:
          - source: src-1
            quote: "900 in 2016"
        """,
    "content/facts/undated/f-undated.yaml": """\
        claim: A bridge was destroyed.
        places: [A river]
        sources:
          - source: src-2
            quote: "a bridge"
        """,
    "content/articles/a-summer.md": """\
        ---
        title: A summer of figures
        date: 2017-08-01
        summary: What the two reports say.
        authors: [The editors]
        operations: [op-b]
        ---
        Two reports disagree about June [[fact:f-june]] [[fact:f-june-other]];
        May is agreed [[fact:f-may|by both]]. See [the report](https://example.org/report).
        """,
}


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def compared(rel: str, data: bytes) -> bytes:
    """What the snapshot holds a file to. A zip, by what it unzips to: its deflated streams
    depend on the compressor's version and on the processor it picks its code by (see edition.COMMENT),
    and a build on this machine is held to the same bytes by the tests below."""
    if not rel.endswith(".zip"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        comment = b"<edition.COMMENT>" if archive.comment == edition.COMMENT else archive.comment
        lines = [comment] + [f"{i.filename} {i.date_time} {i.external_attr:o} {i.create_system} {i.flag_bits} "
                             f"{i.compress_type} {i.CRC:08x} {i.file_size}".encode() for i in archive.infolist()]
    return b"\n".join(lines)


def test_golden_site(tmp_path, update_golden):
    root = make_site(tmp_path, FILES)
    run = annals(root)
    assert run.code == 0, run.err
    built = {rel: compared(rel, data) for rel, data in files(root / "_site").items()}
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(root / "_site", GOLDEN)
    golden = {rel: compared(rel, data) for rel, data in files(GOLDEN).items()}
    assert sorted(built) == sorted(golden), "pages added or removed; run pytest --update-golden if intended"
    changed = [rel for rel in built if built[rel] != golden[rel]]
    diffs = []
    for rel in changed[:3]:
        try:
            diffs += difflib.unified_diff(golden[rel].decode().splitlines(), built[rel].decode().splitlines(),
                                          f"golden/{rel}", f"built/{rel}", lineterm="", n=1)
        except UnicodeDecodeError:
            diffs.append(f"{rel}: binary file differs")
    assert not changed, f"{len(changed)} file(s) differ; run pytest --update-golden if intended:\n" + \
        "\n".join(diffs[:80])


def test_golden_site_shows_what_it_should():
    """The snapshot itself holds the features it is meant to pin down."""
    june = (GOLDEN / "facts/f-june/index.html").read_text()
    assert "<strong>Disputed.</strong>" in june and "../../facts/f-june-other/" in june
    assert (GOLDEN / "facts/f-may-old/index.html").is_file()  # the alias redirect
    assert "url=../f-may/" in (GOLDEN / "facts/f-may-old/index.html").read_text()
    assert "A summer of figures" in june  # the article citing it
    assert (GOLDEN / "timeline/2016/index.html").is_file() and (GOLDEN / "facts/f-undated/index.html").is_file()


def test_two_builds_into_different_folders_are_identical(tmp_path):
    root = make_site(tmp_path, FILES)
    assert annals(root, "--out", "one").code == 0
    assert annals(root, "--out", "two").code == 0
    assert files(root / "one") == files(root / "two")


def test_embedded_archive_builds_deterministically(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for project in (first, second):
        project.mkdir()
        shutil.copytree(REPO / "content", project / "content")
    assert annals(first).code == 0
    assert annals(second).code == 0
    one, two = files(first / "_site"), files(second / "_site")
    assert len(one) > 50
    assert one == two
