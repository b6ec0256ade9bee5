"""A strict YAML reader that keeps every value as written, with its line.

PyYAML's loaders apply YAML 1.1 typing (`NO` becomes False, `1:20` becomes
80, `01234` becomes 668), follow anchors and aliases, and keep the last of
two duplicate keys. An archive of facts cannot afford any of that, so we read
the event stream ourselves and build a small tree of nodes whose scalars are
the exact text the editor typed. `schema` converts them by field type.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import yaml

from .problems import Loc

try:  # libyaml is ten times faster; the pure-Python parser gives the same events.
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_DEPTH = 16


@dataclass(frozen=True)
class Scalar:
    text: str
    quoted: bool
    loc: Loc


@dataclass(frozen=True)
class Seq:
    items: tuple["Node", ...]
    loc: Loc


@dataclass(frozen=True)
class Map:
    # key -> (where the key was written, value)
    items: dict[str, tuple[Loc, "Node"]]
    loc: Loc

    def get(self, key: str) -> "Node | None":
        found = self.items.get(key)
        return found[1] if found else None


Node = Union[Scalar, Seq, Map]


class YamlError(Exception):
    """One located problem that makes the whole document unreadable."""

    def __init__(self, loc: Loc, message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


def _loc(path: str, mark, line_offset: int) -> Loc:
    return Loc(path, (mark.line if mark is not None else 0) + 1 + line_offset)


def read_yaml(text: str, path: str, line_offset: int = 0) -> tuple[Node | None, list[tuple[Loc, str]]]:
    """Parse one YAML document into nodes.

    Returns the root (None for an empty document) and the list of problems
    that do not prevent reading the rest (duplicate keys, non-text keys).
    Raises YamlError for anything that does (syntax, anchors, tags, depth).
    """
    soft: list[tuple[Loc, str]] = []
    loader = _Loader(text)
    try:
        events = _events(loader, path, line_offset)
        root = _document(events, path, line_offset, soft)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = (err.problem or err.context or "invalid YAML").strip()
        if "maximum nesting depth" in message:
            # libyaml's scanner looks ahead through "[[[[" and gives up (at
            # its own limit) before the first event reaches our depth count.
            raise YamlError(_loc(path, mark, line_offset), _too_deep()) from None
        raise YamlError(_loc(path, mark, line_offset), f"YAML syntax: {message}") from None
    except yaml.YAMLError as err:
        raise YamlError(Loc(path, 1 + line_offset), f"YAML syntax: {err}") from None
    finally:
        loader.dispose()
    return root, soft


def _events(loader, path: str, line_offset: int):
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, yaml.AliasEvent):
            raise YamlError(_loc(path, event.start_mark, line_offset),
                            f"YAML alias *{event.anchor} is not allowed: write the value out in full")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlError(_loc(path, event.start_mark, line_offset),
                            f"YAML anchor &{anchor} is not allowed: write the value out in full")
        tag = getattr(event, "tag", None)
        if tag is not None and not (isinstance(event, yaml.ScalarEvent) and tag == "!"):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise YamlError(_loc(path, event.start_mark, line_offset),
                            f"YAML tag {shown} is not allowed: values are typed by their field")
        yield event


def _document(events, path: str, line_offset: int, soft) -> Node | None:
    root: Node | None = None
    documents = 0
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise YamlError(_loc(path, event.start_mark, line_offset),
                                "only one YAML document per file (found a second '---')")
        elif isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            root = _node(event, events, path, line_offset, soft, 1)
    return root


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


def _node(event, events, path: str, line_offset: int, soft, depth: int) -> Node:
    loc = _loc(path, event.start_mark, line_offset)
    if depth > MAX_DEPTH:
        raise YamlError(loc, _too_deep())
    if isinstance(event, yaml.ScalarEvent):
        return Scalar(event.value, event.style not in (None, ""), loc)
    if isinstance(event, yaml.SequenceStartEvent):
        items = []
        for child in events:
            if isinstance(child, yaml.SequenceEndEvent):
                return Seq(tuple(items), loc)
            items.append(_node(child, events, path, line_offset, soft, depth + 1))
    if isinstance(event, yaml.MappingStartEvent):
        mapping: dict[str, tuple[Loc, Node]] = {}
        folded: dict[str, str] = {}
        for key_event in events:
            if isinstance(key_event, yaml.MappingEndEvent):
                return Map(mapping, loc)
            key = _node(key_event, events, path, line_offset, soft, depth + 1)
            value = _node(next(events), events, path, line_offset, soft, depth + 1)
            if not isinstance(key, Scalar):
                soft.append((key.loc, "a key must be plain text"))
                continue
            if key.text in mapping:
                first = mapping[key.text][0]
                soft.append((key.loc, f"duplicate key '{key.text}' (first written at line {first.line})"))
                continue
            mapping[key.text] = (key.loc, value)
    raise YamlError(loc, "unexpected end of YAML")  # pragma: no cover - parser guarantees balance
