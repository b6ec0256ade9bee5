"""What turns one value into another, as little of it as differs: `delta(old, new)`, and `applied(old, d)`.

A session on disk is a whole pickle and, after it, the deltas of the builds
since (see annals.session): a build that changed one fact writes what its
build changed, not the forty megabytes that did not. The invariant, for any
`old` and `new` made of dataclasses, dicts, sets and values that compare:

    applied(old, delta(old, new)) == new, field by field (compare=False fields too),
    and a dict's keys in the same order.

`old` must not have changed in place since it was taken (a dict the build
fills as it goes is copied first: see session.Based). A value is the same
when it is the same object or equal in every part, every field of a
dataclass counted (a fact's line numbers do not count to its ==, and must
not be lost). A dataclass and a dict are compared member by member, and a
long tuple item by item, so that one fact edited among ten thousand is one
entry. Dataclasses are remade without their __init__, as pickle remakes
them. Comparing walks what is not the same object: cheap after a build
that patched a few records, as slow as pickling after one that made every
record anew, which is why such a build writes its session whole.
"""
from __future__ import annotations

import dataclasses
from typing import Any

_WHOLE, _FIELDS, _ENTRIES, _MEMBERS, _ITEMS = "=", "@", "{", "|", "["


def delta(old: Any, new: Any, inside: bool = False, seen: dict | None = None) -> tuple | None:
    """What `applied` needs to make `new` from `old`; None if nothing differs.

    A dataclass is compared field by field, but not one `inside` a dict: a
    record there is kept whole, so that one record held in two places (a
    fact in the archive and in the files read) is one record again once applied.
    Likewise a structure held twice (the archive, in the build and in its
    index) has one delta, which `applied` makes one structure again."""
    if new is old:
        return None
    kind = type(new)
    if kind is not type(old):
        return (_WHOLE, new)
    seen = {} if seen is None else seen
    pair = (id(old), id(new))
    if pair in seen:
        return seen[pair]
    found = seen[pair] = _delta(old, new, kind, inside, seen)
    return found


def _delta(old: Any, new: Any, kind: type, inside: bool, seen: dict) -> tuple | None:
    if kind is dict:
        return _entries(old, new, seen)
    if kind is set or kind is frozenset:
        if new == old:  # members are hashed by their value: equal is the same
            return None
        return (_MEMBERS, tuple(old - new), tuple(new - old))
    if (kind is tuple or kind is list) and len(new) == len(old):
        return _items(old, new, seen)
    if not inside and dataclasses.is_dataclass(new) and hasattr(new, "__dict__"):
        found = {}
        for name, value in new.__dict__.items():
            d = delta(old.__dict__[name], value, False, seen) if name in old.__dict__ else (_WHOLE, value)
            if d is not None:
                found[name] = d
        return (_FIELDS, found, tuple(old.__dict__.keys() - new.__dict__.keys())) if found else None
    return None if _same(old, new) else (_WHOLE, new)


def _items(old, new, seen: dict) -> tuple | None:
    """A tuple of as many items with a few of them changed (a data file's lines, one fact's among
    thousands; a memo's value beside the keys it read)."""
    put = {}
    for i, (a, b) in enumerate(zip(old, new)):
        if a is not b:
            d = delta(a, b, True, seen)
            if d is not None:
                put[i] = d
    if not put:
        return None
    if len(put) == len(new) and all(d[0] == _WHOLE for d in put.values()):
        return (_WHOLE, new)
    return (_ITEMS, put)


_MISSING = object()


def _entries(old: dict, new: dict, seen: dict) -> tuple | None:
    put = {}
    was = old.get
    for key, value in new.items():  # written out: a session's dicts hold a million entries at 100,000 facts
        before = was(key, _MISSING)
        if before is value:
            continue
        if before is _MISSING:
            put[key] = (_WHOLE, value)
            continue
        d = delta(before, value, True, seen)
        if d is not None:
            put[key] = d
    order = None if len(old) == len(new) and list(old) == list(new) else _order(old, new)
    return (_ENTRIES, put, order) if put or order is not None else None


def _order(old: dict, new: dict) -> tuple:
    """The new dict's keys, when they are not the old one's: those of the old it drops, and those
    put at its end (the entries a cache let go of and made again, say), if that makes them; else
    all of them in their order."""
    keys = list(new)
    place = {k: n for n, k in enumerate(old)}
    first, last = 0, -1
    for key in keys:  # the longest start of the new keys still in their old order
        n = place.get(key)
        if n is None or n < last:
            break
        first, last = first + 1, n
    tail = keys[first:]
    moved = set(tail)
    if [k for k in old if k in new and k not in moved] == keys[:first]:
        return ("tail", tuple(k for k in old if k not in new), tuple(tail))
    return ("all", tuple(keys))


def _same(old: Any, new: Any) -> bool:
    """Equal in every part, as ==, but for a dataclass every field: a fact's line numbers do not
    count to ==, and a record moved down its file is not the same record (its errors say where)."""
    if old is new:
        return True
    kind = type(new)
    if kind is not type(old):
        return False
    if kind is str or kind is int or kind is bytes or kind is bool:
        return old == new
    if kind is tuple or kind is list:
        return len(old) == len(new) and all(a is b or _same(a, b) for a, b in zip(old, new))
    if kind is dict:
        return len(old) == len(new) and list(old) == list(new) and all(_same(old[k], v) for k, v in new.items())
    if dataclasses.is_dataclass(new) and hasattr(new, "__dict__"):
        return _same(old.__dict__, new.__dict__)
    try:
        return bool(old == new)
    except Exception:  # noqa: BLE001 - a value that cannot say: kept whole, which is always right
        return False


def applied(old: Any, d: tuple | None, made: dict | None = None) -> Any:
    """`old` with the delta `d` made to it (see the module's docstring); `old` itself is left as it was."""
    if d is None:
        return old
    if d[0] == _WHOLE:
        return d[1]
    made = {} if made is None else made
    if id(d) not in made:
        made[id(d)] = (d, _applied(old, d, made))  # d kept alive beside it, so that its id stays its own
    return made[id(d)][1]


def _applied(old: Any, d: tuple, made: dict) -> Any:
    tag = d[0]
    if tag == _ENTRIES:
        _, put, order = d
        out = dict(old)  # copied whole and then reordered: a memo's forty thousand entries, a few at its end
        if order is not None and order[0] == "all":
            out = {key: old.get(key) for key in order[1]}
        elif order is not None:
            _, gone, tail = order
            for key in (*gone, *tail):
                out.pop(key, None)
            for key in tail:
                out[key] = old.get(key)
        for key, sub in put.items():  # every key of put is in out by now: setting it keeps its place
            out[key] = applied(old.get(key), sub, made)
        return out
    if tag == _ITEMS:
        out = list(old)
        for i, sub in d[1].items():
            out[i] = applied(old[i], sub, made)
        return type(old)(out)
    if tag == _MEMBERS:
        _, gone, added = d
        return type(old)((set(old) - set(gone)) | set(added))
    _, fields, gone = d
    out = object.__new__(type(old))
    state = {name: value for name, value in old.__dict__.items() if name not in gone}
    for name, sub in fields.items():
        state[name] = applied(state.get(name), sub, made)
    out.__dict__.update(state)
    return out
