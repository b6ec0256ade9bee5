"""Where a YAML syntax error really is, said in an editor's words.

The parser reports where it gave up, which for an unclosed quote or bracket
is lines later, or the end of the file. The mistake is where the quote or
bracket opened: the parser's context mark, or, where it gives none that
helps (a block mapping's context is its first line), what the scanner's
tokens show. `explain` turns one error into (line, message).
"""
from __future__ import annotations

import bisect
import functools
import re

import yaml

# Line breaks the YAML scanner counts besides "\n": a lone CR, NEL, LINE and PARAGRAPH SEPARATOR.
# An editor, grep and git count only "\n", so marks are mapped back when a text holds one.
_ODD_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")
# The header of a block text: `key: |`, `- >-`, `|2`, with an optional comment.
_BLOCK_HEADER = re.compile(r"(?:^\s*|[:-]\s+)([|>])[0-9+-]*\s*(?:#.*)?$")
_OPENERS = {yaml.FlowSequenceStartToken: "[", yaml.FlowMappingStartToken: "{"}
_CLOSERS = {yaml.FlowSequenceEndToken: "[", yaml.FlowMappingEndToken: "{"}
_CLOSING = {"[": "]", "{": "}"}
_WHAT = {"[": "list", "{": "mapping"}


class Lines:
    """Line numbers of a text as an editor counts them, `offset` lines into its file."""

    def __init__(self, text: str, offset: int = 0):
        self.text = text
        self.offset = offset + 1
        odd = ("\r" in text and _ODD_BREAK.search(text)) or "\x85" in text or "\u2028" in text or "\u2029" in text
        self.breaks = [m.start() for m in re.finditer("\n", text)] if odd else None

    @functools.cached_property
    def rows(self) -> list[str]:
        """The text's lines, split once however many times they are looked at."""
        return self.text.split("\n")

    def row(self, mark) -> int:
        """The 0-based line of the text a mark is on."""
        if mark is None:
            return 0
        if self.breaks is None:
            return mark.line
        return bisect.bisect_left(self.breaks, mark.index)

    def line(self, mark) -> int:
        """The file's line number of a mark."""
        return self.row(mark) + self.offset

    def at(self, index: int) -> int:
        """The file's line number of a character of the text."""
        return self.text.count("\n", 0, max(index, 0)) + self.offset


def explain(err: yaml.MarkedYAMLError, lines: Lines) -> tuple[int, str]:
    """(line, message) of a syntax error: the line where the mistake is, and what it is."""
    problem = (err.problem or err.context or "invalid YAML").strip()
    context = err.context or ""
    at, opened = err.problem_mark or err.context_mark, err.context_mark
    if "quoted scalar" in context and opened is not None and ("end of stream" in problem or "document" in problem):
        return lines.line(opened), _unclosed_quote(lines, at, opened, problem)
    mark = opened if "simple key" in context else at
    odd = _odd_break_on(lines, mark)
    if odd is not None:
        return lines.line(mark), (f"YAML syntax: this line holds {odd}, a line break that editors do not show, "
                                  "and YAML reads what follows it as a line of its own: remove it, or put the "
                                  "text in quotes")
    tokens = _tokens(lines.text)
    quote = _run_on_quote(tokens, at, lines)
    if quote is not None:
        return lines.line(quote.start_mark), _run_on_message(quote, lines)
    if "flow" in context:
        found = _flow(tokens, at, lines, problem)
        if found is not None:
            return found
    row = lines.row(opened if "simple key" in context and opened is not None else at)
    block = _ended_block_text(lines.rows, row)
    if block is not None:
        header, first, mark = block
        return row + lines.offset, (
            f"YAML syntax: this line is indented less than the text begun by '{mark}' at line "
            f"{header + lines.offset}, so it ends that text, and it does not read as `key: value`: indent "
            f"every line of the text at least as far as its first (line {first + lines.offset})")
    return row + lines.offset, _plain_message(problem, context, at, opened, tokens, lines)


_BREAK_NAMES = {"\r": "a carriage return (CR) with no line feed", "\x85": "U+0085 NEXT LINE",
                "\u2028": "U+2028 LINE SEPARATOR", "\u2029": "U+2029 PARAGRAPH SEPARATOR"}


def _odd_break_on(lines: Lines, at) -> str | None:
    """The name of a line break of YAML's own on the mistake's line (as an editor counts lines), if any."""
    if lines.breaks is None or at is None:
        return None
    row = lines.row(at)
    start = lines.breaks[row - 1] + 1 if row > 0 else 0
    end = lines.breaks[row] if row < len(lines.breaks) else len(lines.text)
    found = _ODD_BREAK.search(lines.text, start, end)
    return _BREAK_NAMES[found.group()] if found else None


def _tokens(text: str) -> list:
    """The scanner's tokens, as far as it reads: only ever asked for once a file has failed."""
    loader = yaml.CSafeLoader(text) if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader(text)
    out = []
    try:
        while loader.check_token():
            out.append(loader.get_token())
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return out


def _column(mark) -> int:
    return mark.column + 1


def _unclosed_quote(lines: Lines, at, opened, problem: str) -> str:
    mark = lines.text[opened.index:opened.index + 1] or '"'
    where = (f"the '---' at line {lines.line(at)} comes first" if "document" in problem
             else f"it is still open where the YAML ends, at line {lines.line(at)}")
    return (f"YAML syntax: the {mark} at column {_column(opened)} is never closed ({where}): "
            f"add the closing {mark} where the text ends")


def _run_on_quote(tokens: list, at, lines: Lines):
    """A quoted text that opened on a line above the mistake and closed on its line: a closing quote
    left out, so that the next opening quote closed the text instead."""
    if at is None:
        return None
    row = lines.row(at)
    for token in reversed([t for t in tokens if t.end_mark.index <= at.index]):
        if lines.row(token.start_mark) == row:
            continue
        if type(token) is yaml.ScalarToken and token.style in ('"', "'") and lines.row(token.end_mark) == row:
            return token
        return None
    return None


def _run_on_message(quote, lines: Lines) -> str:
    mark = quote.style
    return (f"YAML syntax: the {mark} at column {_column(quote.start_mark)} is not closed on its line: "
            f"the text runs on to the next {mark}, at line {lines.line(quote.end_mark)}, after which the YAML "
            f"does not read. Close the quote on this line")


def _flow(tokens: list, at, lines: Lines, problem: str) -> tuple[int, str] | None:
    """An error inside [ ] or { }: at the bracket if it is never closed, else where the parser stopped."""
    if at is None:
        return None
    stack, rest = [], len(tokens)
    for i, token in enumerate(tokens):
        if token.start_mark.index >= at.index:
            rest = i
            break
        if type(token) in _OPENERS:
            stack.append(token)
        elif type(token) in _CLOSERS and stack:
            stack.pop()
    if not stack:
        return None
    opener = stack[-1]
    bracket = _OPENERS[type(opener)]
    here = f"line {lines.line(opener.start_mark)}, column {_column(opener.start_mark)}"
    if _closed(tokens[rest:], bracket):
        return lines.line(at), f"YAML syntax: {problem}, inside the '{bracket}' opened at {here}"
    return lines.line(opener.start_mark), (
        f"YAML syntax: the '{bracket}' at column {_column(opener.start_mark)} is never closed: add the "
        f"'{_CLOSING[bracket]}' where the {_WHAT[bracket]} ends (the YAML stops reading at line {lines.line(at)})")


def _closed(tokens: list, bracket: str) -> bool:
    """Whether these tokens, which follow a point inside an open bracket, close it with its own kind."""
    depth = 0
    for token in tokens:
        kind = type(token)
        if kind in _OPENERS:
            depth += 1
        elif kind in _CLOSERS:
            if depth == 0:
                return _CLOSERS[kind] == bracket
            depth -= 1
    return False


def indent(line: str) -> int:
    """How many spaces a line begins with."""
    return len(line) - len(line.lstrip(" "))


def _ended_block_text(rows: list[str], row: int) -> tuple[int, int, str] | None:
    """(header row, first text row, '|' or '>') of a block text that line `row` ends by being
    indented less than the text and no less than its header; None if it ends none."""
    if row >= len(rows) or not rows[row].strip():
        return None
    depth, first = indent(rows[row]), None
    for i in range(row - 1, -1, -1):
        line = rows[i].rstrip("\r")
        if not line.strip():
            continue
        if indent(line) > depth:
            first = i
            continue
        header = _BLOCK_HEADER.search(line)
        return (i, first, header.group(1)) if first is not None and header else None
    return None


def _plain_message(problem: str, context: str, at, opened, tokens: list, lines: Lines) -> str:
    """What the scanner or the parser found wrong at the line itself."""
    char = lines.text[at.index:at.index + 1] if at is not None else ""
    after = _after_quote(tokens, at, lines)
    if after is not None:
        inside = "write an apostrophe as '' (two)" if after == "'" else 'write a quote mark as \\"'
        return (f"YAML syntax: text goes on after the closing {after} of a quoted text: inside {after}…{after} "
                f"{inside}, or quote the whole text with the other mark")
    if "tab" in problem or char == "\t":
        return "YAML syntax: a tab here; YAML is indented with spaces only"
    if "cannot start any token" in problem:
        return f"YAML syntax: a value cannot begin with '{char}'; put the text in quotes"
    if "mapping values are not allowed" in problem:
        return ("YAML syntax: a ': ' here would begin a key where none can: put a text that holds ': ' "
                "in quotes, or check this line's indentation")
    if "block sequence entries are not allowed" in problem:
        return "YAML syntax: a list item ('- ') cannot begin here: put it on a line of its own, under its key"
    if "simple key" in context:
        return ("YAML syntax: this line is not `key: value`: a ':' is missing after the key, or the line "
                "belongs to the value above and must be indented further")
    if "alias" in context or "anchor" in context:
        mark = "*" if "alias" in context else "&"
        return (f"YAML syntax: '{mark}' cannot begin a value here (it marks an alias or an anchor); "
                "put the text in quotes")
    if "quoted scalar" in context and ("escape" in problem or "hex" in problem):
        return ('YAML syntax: inside "…" a backslash begins an escape (\\n, \\", \\\\), and this one is none: '
                "write a backslash as \\\\, or quote the text with '…'")
    if "block scalar" in context:
        return ("YAML syntax: after '|' or '>' only a digit, '+', '-' or a comment may follow on the line: "
                "begin the text on the next line, indented")
    if "directive" in context:
        return "YAML syntax: a line cannot begin with '%' (it marks a YAML directive): put the text in quotes"
    if "mapping keys are not allowed" in problem:
        return "YAML syntax: a '? ' here would begin a key where none can: put the text in quotes"
    return _structure_message(problem, context, at, opened, char, lines)


def _structure_message(problem: str, context: str, at, opened, char: str, lines: Lines) -> str:
    """A line that does not fit the block, or the bracket, around it."""
    begun = f" begun at line {lines.line(opened)}" if opened is not None and lines.row(opened) != lines.row(at) else ""
    if char in ("]", "}"):
        return f"YAML syntax: a '{char}' here closes no bracket: put a text that holds it in quotes"
    if "block mapping" in context:
        found = "a list item ('- ')" if char == "-" else "a line that is no `key: value`"
        return f"YAML syntax: {found} where the mapping{begun} expects its next key: check this line's indentation"
    if "block collection" in context:
        return f"YAML syntax: expected the next item ('- ') of the list{begun}: check this line's indentation"
    if "node content" in problem:
        return f"YAML syntax: expected a value here, found '{char}'" if char.strip() else "YAML syntax: expected a value"
    where = f" ({context} at line {lines.line(opened)})" if begun and context else ""
    return f"YAML syntax: {problem}{where}"


def _after_quote(tokens: list, at, lines: Lines) -> str | None:
    """The quote mark of a quoted text that ends just before the mistake, on its line (an apostrophe
    that closed '…' early, say), or None."""
    if at is None:
        return None
    before = [t for t in tokens if t.end_mark.index <= at.index]
    if not before or type(before[-1]) is not yaml.ScalarToken or before[-1].style not in ('"', "'"):
        return None
    end = before[-1].end_mark.index
    return before[-1].style if lines.text[end:at.index].strip(" ") == "" else None
