"""What the last build rendered, and from what: each page's template fingerprint and the index keys it read.

A page whose template and keys all still match is not rendered again. The
state lives in a Session (see annals.session), in memory and on disk with it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .index import Key

CACHE = ".annals-cache"  # beside content/: what builds remember between runs


@dataclass(frozen=True)
class PageState:
    template: str
    deps: tuple[Key, ...]


@dataclass
class State:
    config: str = ""
    pages: dict[str, PageState] = field(default_factory=dict)
    produced: set[str] | None = None  # files the last build wrote; None when unknown
    # Each template's fingerprint and whether it reads `offline`, as the renderer worked them out
    # (see Renderer.outlines): a build in another process, its templates untouched, takes them as they are.
    templates: dict[str, tuple[str, bool]] = field(default_factory=dict)
