"""annals.delta: what turns one value into another, and the journal it makes of a session on disk.

The property: for any two values made of dataclasses, dicts, sets, tuples
and plain values, `applied(old, delta(old, new))` equals `new` field by field
(compare=False fields too) with every dict's keys in the same order, after
a trip through pickle, and leaves `old` as it was. Then the session: after
each of a run of edits built by `build.py`'s way, the session read back
from its base and journal is the one the build had in memory.
"""
from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from annals import session as saved
from annals.delta import applied, delta
from annals.pipeline import Options, build, resume_session, save_session
from conftest import make_site, write_files

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclasses.dataclass(frozen=True)
class Record:
    name: str
    tags: tuple = ()
    table: dict = dataclasses.field(default_factory=dict, compare=False)


leaves = st.one_of(st.integers(-3, 3), st.text(max_size=3), st.none(), st.floats(allow_nan=True))
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=70).map(tuple),
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=2), inner, max_size=8),
        st.frozensets(st.integers(0, 9), max_size=5),
        st.builds(Record, st.text(max_size=2), st.lists(inner, max_size=3).map(tuple),
                  st.dictionaries(st.integers(0, 5), inner, max_size=4)),
    ),
    max_leaves=40,
)


def same(a, b) -> bool:
    """Equal, with compare=False fields, dict order, and NaN as itself."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b


@st.composite
def edited(draw, value):
    """`value` with some of its parts changed, the way a build changes a session: a few entries
    replaced, dropped, added or moved to the end of a dict, a few items of a long tuple replaced."""
    if isinstance(value, dict):
        out = {k: draw(edited(v)) if draw(st.booleans()) else v for k, v in value.items()}
        for key in draw(st.lists(st.sampled_from(list(out)), max_size=3)) if out else ():
            if draw(st.booleans()):
                out.pop(key, None)
            elif key in out:
                out[key] = out.pop(key)  # taken out and put back: at the end
        out.update(draw(st.dictionaries(st.text(max_size=2), leaves, max_size=2)))
        return out
    if isinstance(value, tuple) and value:
        items = list(value)
        for i in draw(st.lists(st.integers(0, len(items) - 1), max_size=3)):
            items[i] = draw(leaves)
        return tuple(items)
    if isinstance(value, Record):
        return dataclasses.replace(value, table=draw(edited(value.table)))
    return draw(st.one_of(st.just(value), values))


@SETTINGS
@given(st.data())
def test_a_delta_applied_makes_the_new_value_and_leaves_the_old(data):
    old = data.draw(values)
    new = data.draw(edited(old))
    before = copy.deepcopy(old)
    made = applied(old, pickle.loads(pickle.dumps(delta(old, new))))
    assert same(made, new)
    assert same(old, before)


def test_a_structure_held_twice_is_one_structure_again():
    shared = Record("a", table={1: "one"})
    old = {"x": shared, "y": [shared]}
    new_shared = dataclasses.replace(shared, table={1: "uno"})
    top_old, top_new = Record("top", table={"a": shared}), Record("top", table={"a": new_shared})
    seen, made = {}, {}
    steps = [delta(o, n, seen=seen) for o, n in ((top_old, top_new), (top_old, top_new))]
    steps = pickle.loads(pickle.dumps(steps))
    first, second = (applied(top_old, d, made) for d in steps)
    assert first is second and first.table["a"].table == {1: "uno"}
    assert old["x"] is shared  # nothing changed in place


def test_one_record_among_many_is_a_small_delta():
    old = {f"f{i:05}": Record(f"f{i:05}", ("a", "b"), {0: "x" * 40}) for i in range(10_000)}
    new = dict(old, f05000=Record("f05000", ("a", "c")))
    lines = tuple(f"line {i}" for i in range(10_000))
    for before, after in ((old, new), (lines, lines[:5000] + ("changed",) + lines[5001:])):
        step = pickle.dumps(delta(before, after))
        assert len(step) < 1_000, len(step)


# -- a session on disk: its base, and the journal of the builds since ---------------------------------------

FACT = "content/facts/2017/f-june.yaml"


def _options(root: Path) -> Options:
    return Options(root=root, out=root / "_site")


def _parts(session) -> tuple:
    return session.files, session.state, session.good, session.memo.text()


def test_the_session_read_back_is_the_one_in_memory_after_each_edit(tmp_path):
    root = make_site(tmp_path, {"content/facts/2017/f-may.yaml":
                                "claim: In May 2017.\nwhen: 2017-05\noperations: [op-b]\n"
                                "sources:\n  - source: src-1\n    quote: \"something happened\"\n"})
    options = _options(root)
    build(options)  # a whole build: the base
    edits = [
        {FACT: (root / FACT).read_text().replace("June", "June (edited)")},
        {"content/facts/2017/f-new.yaml": "claim: A new one.\nwhen: 2017-07-02\noperations: [op-a]\n"
                                          "sources:\n  - source: src-1\n    quote: \"something happened\"\n"},
        {"content/facts/2017/f-may.yaml": "claim: In May 2017, moved.\nwhen: 2017-05-03\noperations: [op-a]\n"
                                          "sources:\n  - source: src-1\n    quote: \"something happened\"\n"},
        {"content/facts/2017/f-new.yaml": "claim: A new one, dated.\nwhen: 2017-06-02\noperations: [op-b]\n"
                                          "sources:\n  - source: src-1\n    quote: \"something happened\"\n",
         FACT: (root / FACT).read_text().replace("in June 2017", "over June 2017")},
    ]
    for step, files in enumerate(edits, 1):
        session = resume_session(options)
        assert session.good is not None and session.based is not None
        write_files(root, files)
        report = build(options, session=session, changed=set(files))
        assert report.patched
        save_session(options, session)
        assert len(session.based.journal) == step  # written as a journal, not whole
        back = resume_session(options)
        assert same(_parts(back), _parts(session)), step


def test_the_journal_is_folded_into_the_base_when_it_grows(tmp_path):
    root = make_site(tmp_path, {})
    options = _options(root)
    build(options)
    glance, base, journal = saved._paths(root, options.out)
    stamp = base.stat().st_mtime_ns
    for n in range(saved.JOURNAL_MOST + 1):
        write_files(root, {FACT: (root / FACT).read_text().replace("June 2017", f"June 2017 ({n})")})
        assert build(options).patched
        if n < saved.JOURNAL_MOST:
            assert journal.exists() and base.stat().st_mtime_ns == stamp
    assert not journal.exists() and base.stat().st_mtime_ns != stamp  # folded: a new base, no journal
    assert build(options).rendered == []  # and it is read back as any session
