"""Typed fields: how each YAML node becomes a value, or a located problem.

Every content file is described by a tuple of `Field`s. Unknown keys are
errors with a did-you-mean; a scalar is converted from the exact text
written, by the type its field declares, never by YAML's own guessing.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urlsplit

from .periods import Period, parse_point, single
from .problems import Loc, Problems
from .yamlread import Map, Node, Scalar, Seq

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NUMBER = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$")
_NULLS = {"", "~", "null", "Null", "NULL"}


class Invalid(Exception):
    """A value that cannot be used; the converter already reported why.

    `partial` is what did convert of a list or a nested record, for checks
    that still have something to say about it (see Incomplete), or None.
    """

    def __init__(self, partial: Any = None):
        super().__init__()
        self.partial = partial


class Incomplete(Invalid):
    """A record with problems: `values` has every field, its default where it did not convert.

    `failed` names the fields that had a problem; `kept` those of them that
    still hold what did convert (the good items of a list, a nested record).
    Its own `partial` is None: a converter that calls `record` and does not
    catch this passes on a plain Invalid.
    """

    def __init__(self, values: dict[str, Any], failed: frozenset[str], kept: frozenset[str]):
        super().__init__()
        self.values = values
        self.failed = failed
        self.kept = kept


Convert = Callable[[Node, str, Problems], Any]


@dataclass(frozen=True)
class Field:
    name: str
    convert: Convert
    required: bool = False
    default: Any = None  # when absent; also what a record with problems holds where the field failed
    doc: str = ""
    was: tuple[str, ...] = ()  # earlier names, still read, with a warning to rename them


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fail(problems: Problems, loc: Loc, message: str):
    problems.error(loc, message)
    raise Invalid


def _scalar(node: Node, name: str, problems: Problems) -> Scalar:
    if not isinstance(node, Scalar):
        kind = "a list" if isinstance(node, Seq) else "a mapping"
        _fail(problems, node.loc, f"{name}: expected a single value, found {kind}")
    if not node.quoted and node.text.strip() in _NULLS:
        _fail(problems, node.loc, f"{name}: is empty; write a value or leave the field out")
    return node


def text(node: Node, name: str, problems: Problems) -> str:
    value = _scalar(node, name, problems).text.strip()
    if not value:
        _fail(problems, node.loc, f"{name}: is empty; write a value or leave the field out")
    return value


def identifier(node: Node, name: str, problems: Problems) -> str:
    value = text(node, name, problems)
    if not ID_RE.match(value):
        _fail(problems, node.loc, f"{name}: '{value}' is not a valid id; use lower-case letters, digits and single hyphens")
    return value


MAX_DIGITS = 15


def number(node: Node, name: str, problems: Problems) -> Decimal:
    scalar = _scalar(node, name, problems)
    raw = scalar.text.strip()
    if scalar.quoted:
        _fail(problems, node.loc, f"{name}: write the number without quotes")
    if not _NUMBER.match(raw):
        _not_a_number(raw, name, node, problems)
    if raw.startswith("-") and not raw.strip("-0."):
        _fail(problems, node.loc, f"{name}: '{raw}' is zero; write 0")
    whole, _, fraction = raw.lstrip("-").partition(".")
    if len(whole.lstrip("0")) + len(fraction) > MAX_DIGITS:
        # Charts scale and JSON carries figures as floats: past 15 digits they would change silently.
        _fail(problems, node.loc, f"{name}: '{raw}' has more than {MAX_DIGITS} digits, more than a figure "
                                  "can keep exactly in charts and data files")
    return Decimal(raw)


# What YAML 1.1 would have read as a float that is no figure, or as a truth value.
_NOT_FIGURES = {".nan", ".inf", "-.inf", "+.inf", "nan", "inf", "-inf", "infinity", "-infinity"}
_TRUTHS = {"true", "false", "yes", "no", "on", "off", "y", "n"}


def _not_a_number(raw: str, name: str, node: Node, problems: Problems):
    """Why a figure as written is no number, as closely as can be told."""
    digits = raw.replace(",", "").replace("_", "").replace(" ", "")
    if _NUMBER.match(digits):
        _fail(problems, node.loc, f"{name}: '{raw}' has separators; write digits only ({digits})")
    if re.match(r"^-?0[0-9]", raw):
        _fail(problems, node.loc, f"{name}: '{raw}' has a leading zero; write {raw.lstrip('0') or '0'}, or quote it if it is not a number")
    if raw.startswith("+") and _NUMBER.match(raw[1:]):
        _fail(problems, node.loc, f"{name}: '{raw}': write the number without '+' ({raw[1:]})")
    if raw.lower() in _NOT_FIGURES:
        _fail(problems, node.loc, f"{name}: '{raw}' is not a figure; write a finite number, or leave the fact without a measure")
    if raw.lower() in _TRUTHS:
        _fail(problems, node.loc, f"{name}: '{raw}' is a yes or no, not a number; write digits, like 4848 or 12.5")
    _fail(problems, node.loc, f"{name}: '{raw}' is not a number; write digits, like 4848 or 12.5")


def date(node: Node, name: str, problems: Problems) -> Period:
    raw = text(node, name, problems)
    try:
        return single(parse_point(raw))
    except ValueError as err:
        _fail(problems, node.loc, f"{name}: {err}")


def period(node: Node, name: str, problems: Problems) -> Period:
    """A date of any precision, or a range `{from: ..., to: ...}`."""
    if not isinstance(node, Map):
        return date(node, name, problems)
    values = record(node, RANGE_FIELDS, problems, name)
    start, end = values["from"].start, values["to"].start
    if end.last < start.first or start == end:
        _fail(problems, node.loc, f"{name}: the range must end after it starts ({start.iso()} to {end.iso()})")
    return Period(start, end)


def one_of(*choices: str) -> Convert:
    def convert(node: Node, name: str, problems: Problems) -> str:
        value = text(node, name, problems)
        if value not in choices:
            _fail(problems, node.loc, f"{name}: '{value}' is not one of {', '.join(choices)}{did_you_mean(value, choices)}")
        return value
    return convert


_URL = re.compile(r"^https?://[^\s/$.?#][^\s<>\"']*$")


def url(node: Node, name: str, problems: Problems) -> str:
    value = text(node, name, problems)
    if not _URL.match(value):
        _fail(problems, node.loc, f"{name}: '{value}' is not an http(s) URL")
    return value


def base_url_fault(value: str, final_slash: bool = True) -> str | None:
    """Why `value` cannot be the address a site is published at, or None.

    Every permalink is this address with a page's path appended, so it must
    be an http(s) folder address and nothing after the folder.
    """
    if not _URL.match(value):
        example = f" (write https://{value})" if re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(/|$)", value) else ""
        return f"'{value}' is not an http(s) URL{example}"
    try:
        parts = urlsplit(value)
    except ValueError:  # a '[' that opens no IPv6 address, say
        return f"'{value}' is not an http(s) URL"
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return f"'{value}' has a query or a fragment (? or #): permalinks are made by appending paths to it"
    if "@" in parts.netloc:
        return f"'{value}' carries a user name: write the public address readers use"
    if final_slash and not value.endswith("/"):
        return "must end with '/'"
    return None


def base_url(node: Node, name: str, problems: Problems) -> str:
    value = text(node, name, problems)
    fault = base_url_fault(value)
    if fault:
        _fail(problems, node.loc, f"{name}: {fault}")
    return value


_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def hostname(node: Node, name: str, problems: Problems) -> str:
    value = text(node, name, problems)
    if not _HOSTNAME.match(value):
        _fail(problems, node.loc, f"{name}: '{value}' is not a domain name; write it bare and lower-case, like annals.example.org")
    return value


def list_of(item: Convert) -> Convert:
    def convert(node: Node, name: str, problems: Problems) -> tuple:
        if not isinstance(node, Seq):
            _fail(problems, node.loc, f"{name}: expected a list, like [a, b]")
        out, ok = [], True
        for i, child in enumerate(node.items):
            try:
                value = item(child, f"{name}[{i + 1}]", problems)
            except Invalid as err:
                ok = False
                if err.partial is not None:
                    out.append(err.partial)
                continue
            if value in out:
                problems.error(child.loc, f"{name}: '{value}' is listed twice")
                ok = False
                continue
            out.append(value)
        if not ok:
            raise Invalid(partial=tuple(out))
        return tuple(out)
    return convert


def nested(fields: tuple[Field, ...], build: Callable[..., Any], with_locs: bool = False) -> Convert:
    """A mapping of `fields`, made by `build(loc=..., **values)`; `with_locs` also passes where each field was written."""
    def convert(node: Node, name: str, problems: Problems):
        locs: dict[str, Loc] = {}
        extra = {"locs": locs} if with_locs else {}
        try:
            values = record(node, fields, problems, name, locs)
        except Incomplete as err:
            raise Invalid(partial=build(loc=node.loc, **extra, **err.values)) from None
        return build(loc=node.loc, **extra, **values)
    return convert


def record(node: Node | None, fields: tuple[Field, ...], problems: Problems, what: str,
           locs: dict[str, Loc] | None = None) -> dict[str, Any]:
    """Convert a mapping node by its fields; report every problem, then raise Incomplete if any.

    Incomplete carries what did convert, so that one run can still check the
    references a broken record makes (see model.Broken). A node that is no
    mapping at all raises a plain Invalid.
    """
    if not isinstance(node, Map):
        loc = node.loc if node is not None else Loc("", 1)
        _fail(problems, loc, f"{what}: expected a mapping of fields (key: value)")
    known = {f.name: f for f in fields}
    ok = _renamed(node, fields, problems)
    for key, (key_loc, _) in node.items.items():
        if key not in known and not any(key in f.was for f in fields):
            problems.error(key_loc, f"unknown field '{key}' in {what}{did_you_mean(key, known)}")
            ok = False
    values: dict[str, Any] = {}
    failed, kept = set(), set()
    for f in fields:
        values[f.name] = f.default
        child = node.get(f.name)
        if child is None:  # written under an earlier name: read as the field
            child = next((node.get(old) for old in f.was if node.get(old) is not None), None)
        if child is None:
            if f.required:
                problems.error(node.loc, f"{what}: missing required field '{f.name}'")
                failed.add(f.name)
            continue
        if locs is not None:
            locs[f.name] = child.loc
        try:
            values[f.name] = f.convert(child, f.name, problems)
        except Invalid as err:
            failed.add(f.name)
            if err.partial is not None:
                values[f.name] = err.partial
                kept.add(f.name)
    if failed or not ok:
        raise Incomplete(values, frozenset(failed), frozenset(kept))
    return values


def _renamed(node: Map, fields: tuple[Field, ...], problems: Problems) -> bool:
    """Fields written under an earlier name: a warning to rename each; an error where both names are."""
    ok = True
    for f in fields:
        for old in f.was:
            if old not in node.items:
                continue
            key_loc = node.items[old][0]
            written = [name for name in (f.name, *f.was) if name in node.items]
            if len(written) > 1:
                problems.error(key_loc, f"'{old}' is the earlier name of '{f.name}', and both "
                                        f"{' and '.join(repr(w) for w in written)} are written: keep '{f.name}' only")
                ok = False
            else:
                problems.warning(key_loc, f"'{old}' is now called '{f.name}': rename it "
                                          f"(it is read as '{f.name}' meanwhile)")
    return ok


RANGE_FIELDS = (
    Field("from", date, required=True, doc="first date of the range"),
    Field("to", date, required=True, doc="last date of the range"),
)
