"""What the last build rendered, and from what: the memory of incremental builds.

For each page: the fingerprint of its templates and of every index key it
read. A page whose fingerprints all still match is not rendered again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .index import Key

VERSION = 1
CACHE = ".annals-cache"  # beside content/: what builds remember between runs


def _key_to_json(key: Key):
    return [list(k) if isinstance(k, tuple) else k for k in key]


def _key_from_json(raw) -> Key:
    return tuple(tuple(k) if isinstance(k, list) else k for k in raw)


@dataclass
class PageState:
    template: str
    deps: dict[Key, str]


@dataclass
class State:
    config: str = ""
    pages: dict[str, PageState] = field(default_factory=dict)
    produced: set[str] | None = None  # files the last build wrote; None when unknown

    @staticmethod
    def path_for(root: Path, out: Path) -> Path:
        tag = hashlib.blake2b(str(out.resolve()).encode(), digest_size=6).hexdigest()
        return root / CACHE / f"state-{tag}.json"

    @classmethod
    def read(cls, path: Path) -> "State":
        try:
            raw = json.loads(path.read_text())
            if raw.get("version") != VERSION:
                return cls()
            pages = {p: PageState(v["template"], {_key_from_json(k): fp for k, fp in v["deps"]})
                     for p, v in raw["pages"].items()}
            return cls(raw["config"], pages, set(raw["produced"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls()  # no memory is always safe: everything is rendered again

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = {
            "version": VERSION, "config": self.config, "produced": sorted(self.produced or ()),
            "pages": {p: {"template": s.template, "deps": [[_key_to_json(k), fp] for k, fp in s.deps.items()]}
                      for p, s in sorted(self.pages.items())},
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(raw, separators=(",", ":")))
        tmp.replace(path)
