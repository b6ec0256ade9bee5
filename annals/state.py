"""What the last build rendered, and from what: the memory of incremental builds.

For each page: the fingerprint of its templates and the index keys it read.
Each key's fingerprint is kept once, in a table, however many pages read it
(every page reads the site; ten thousand read the list of months), so the
memory of a large archive stays small and quick to read and write.
A page whose template and keys all still match is not rendered again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .index import Key

VERSION = 2
CACHE = ".annals-cache"  # beside content/: what builds remember between runs


def _key_from_json(raw) -> Key:
    return tuple(tuple(k) if isinstance(k, list) else k for k in raw)


@dataclass(frozen=True)
class PageState:
    template: str
    deps: tuple[Key, ...]


@dataclass
class State:
    config: str = ""
    pages: dict[str, PageState] = field(default_factory=dict)
    keys: dict[Key, str] = field(default_factory=dict)  # every key some page read -> its fingerprint then
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
            table = [(_key_from_json(k), fp) for k, fp in raw["keys"]]
            keys = [k for k, _ in table]
            pages = {p: PageState(t, tuple(keys[i] for i in deps)) for p, (t, deps) in raw["pages"].items()}
            return cls(raw["config"], pages, dict(table), set(raw["produced"]))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return cls()  # no memory is always safe: everything is rendered again

    def write(self, path: Path) -> None:
        """The same JSON `read` takes, written a piece at a time: whole, it was a tenth of a large build's memory."""
        path.parent.mkdir(parents=True, exist_ok=True)
        order = {k: str(i) for i, k in enumerate(self.keys)}  # each page's keys, by their place in the table
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(dumps({"version": VERSION, "config": self.config,
                             "produced": sorted(self.produced or ())})[:-1])
            out.write(',"keys":')
            # json writes a tuple as an array, as `read` takes it: each key and its fingerprint as they are.
            out.write(dumps(list(self.keys.items())))
            out.write(',"pages":{')
            templates: dict[str, str] = {}  # a handful, each written as JSON once
            for n, (p, s) in enumerate(sorted(self.pages.items())):
                template = templates.get(s.template) or templates.setdefault(s.template, dumps(s.template))
                deps = ",".join(map(order.__getitem__, s.deps))
                out.write(f'{"," if n else ""}{dumps(p)}:[{template},[{deps}]]')
            out.write("}}")
        tmp.replace(path)
