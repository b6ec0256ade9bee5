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
from .yamlsyntax import Lines, explain, indent

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


def read_yaml(text: str, path: str, line_offset: int = 0) -> tuple[Node | None, list[tuple[Loc, str]]]:
    """Parse one YAML document into nodes.

    Returns the root (None for an empty document) and the list of problems
    that do not prevent reading the rest (duplicate keys, non-text keys).
    Raises YamlError for anything that does (syntax, anchors, tags, depth),
    at the line where the mistake is: an unclosed quote or bracket where it
    opened, not where the parser gave up (see annals.yamlsyntax).
    """
    lines = Lines(text, line_offset)
    loader = None
    try:
        loader = _Loader(text)
        reader = _Reader(loader, path, lines)
        root = reader.document()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        if "maximum nesting depth" in (err.problem or ""):
            # libyaml's scanner looks ahead through "[[[[" and gives up (at
            # its own limit) before the first event reaches our depth count.
            raise YamlError(Loc(path, lines.line(mark)), _too_deep()) from None
        line, message = explain(err, lines)
        raise YamlError(Loc(path, line), message) from None
    except yaml.reader.ReaderError as err:
        # A character YAML refuses (C1 controls, U+FFFE): the C reader counts its place in bytes, ours in characters.
        where = text.find(chr(err.character)) if isinstance(err.character, int) else -1
        raise YamlError(Loc(path, lines.at(where)), f"contains the character U+{err.character:04X}, which a YAML file "
                        "cannot hold; is this a text file? Remove it") from None
    except yaml.YAMLError as err:
        raise YamlError(Loc(path, 1 + line_offset), f"YAML syntax: {err}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return root, reader.soft


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


class _Reader:
    """Builds nodes from the parser's events, pulling them one at a time.

    Loading is a third of a cold build, and this is most of loading: events
    are taken straight from the parser and every node of a line shares one Loc.
    """

    def __init__(self, loader, path: str, lines: Lines):
        self.next_event = loader.get_event
        self.has_event = loader.check_event
        self.path = path
        self.offset = lines.offset
        self.locs: dict[int, Loc] = {}
        self.soft: list[tuple[Loc, str]] = []
        self.lines = lines
        if lines.breaks is not None:  # a text with line breaks of YAML's own: lines counted as an editor counts them
            self.loc = self._counted

    def loc(self, event) -> Loc:
        line = event.start_mark.line + self.offset
        found = self.locs.get(line)
        if found is None:
            found = self.locs[line] = Loc(self.path, line)
        return found

    def _counted(self, event) -> Loc:
        return Loc(self.path, self.lines.line(event.start_mark))

    def document(self) -> Node | None:
        root: Node | None = None
        documents = 0
        while self.has_event():
            event = self.next_event()
            kind = type(event)
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise YamlError(self.loc(event), "only one YAML document per file (found a second '---')")
            elif kind in _NODE_EVENTS:
                root = self.node(event, 1)
            elif kind is yaml.AliasEvent:
                self.refuse(event)
        return root

    def refuse(self, event) -> None:
        """Anchors, aliases and tags: each a way for one value to stand for another."""
        if type(event) is yaml.AliasEvent:
            raise YamlError(self.loc(event), f"YAML alias *{event.anchor} is not allowed: write the value out in full")
        if event.anchor is not None:
            raise YamlError(self.loc(event), f"YAML anchor &{event.anchor} is not allowed: write the value out in full")
        shown = event.tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlError(self.loc(event), f"YAML tag {shown} is not allowed: values are typed by their field")

    def spanning(self, event, loc: Loc) -> None:
        """A quoted text over several lines must indent the lines that continue it: one that stands
        where a key would is the next field, read into the text because its closing quote is missing."""
        rows = self.lines.rows
        first, last = self.lines.row(event.start_mark), self.lines.row(event.end_mark)
        own = indent(rows[first])
        for row in range(first + 1, min(last, len(rows) - 1) + 1):
            if rows[row].strip() and indent(rows[row]) <= own:
                raise YamlError(loc, f"YAML syntax: the {event.style} at column {event.start_mark.column + 1} is "
                                     f"not closed on its line: the text runs on to line {row + self.offset}, which "
                                     "stands where the next key would. Close the quote on this line, or indent "
                                     "the lines that continue the text")

    def node(self, event, depth: int) -> Node:
        kind = type(event)
        if kind is yaml.AliasEvent or event.anchor is not None or (
                event.tag is not None and not (kind is yaml.ScalarEvent and event.tag == "!")):
            self.refuse(event)
        loc = self.loc(event)
        if depth > MAX_DEPTH:
            raise YamlError(loc, _too_deep())
        if kind is yaml.ScalarEvent:
            if event.style in _QUOTES and event.end_mark.line != event.start_mark.line:
                self.spanning(event, loc)
            return Scalar(event.value, event.style not in (None, ""), loc)
        child_depth = depth + 1
        if kind is yaml.SequenceStartEvent:
            items = []
            while True:
                child = self.next_event()
                if type(child) is yaml.SequenceEndEvent:
                    return Seq(tuple(items), loc)
                items.append(self.node(child, child_depth))
        mapping: dict[str, tuple[Loc, Node]] = {}
        while True:
            key_event = self.next_event()
            if type(key_event) is yaml.MappingEndEvent:
                return Map(mapping, loc)
            key = self.node(key_event, child_depth)
            value = self.node(self.next_event(), child_depth)
            if type(key) is not Scalar:
                self.soft.append((key.loc, "a key must be plain text"))
                continue
            if key.text in mapping:
                first = mapping[key.text][0]
                self.soft.append((key.loc, f"duplicate key '{key.text}' (first written at line {first.line})"))
                continue
            mapping[key.text] = (key.loc, value)


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
_QUOTES = ('"', "'")
