"""Imports point one way, down the flow: what a module imports stands below it in LAYERS.

The model and problems are at the bottom, the stages above them in the
order a build runs them, the pipeline above every stage, and the command
line and the preview above the pipeline. A module may import any module of
a lower layer, none of its own layer or of a higher one; a module that is
in no layer fails the test until it is given one.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "annals"

LAYERS = [
    # what everything may use: no knowledge of an archive
    {"problems", "periods", "progress", "yamlsyntax", "edition", "history", "markup", "watch", "publish", "urls",
     "delta", "parallel", "starter"},
    {"model", "yamlread", "tree"},
    {"schema", "theme"},
    {"fields"},
    {"records"},  # what one file yields
    {"load"},  # load
    {"validate", "versions"},  # validate; every fact's versions, read from git
    {"index", "permalinks"},  # index
    {"state", "charts", "search", "cite"},
    {"exports"},
    {"pages"},  # plan
    {"render"},  # render
    {"write"},  # write
    {"rebuild"},
    {"session"},  # what one build leaves for the next
    {"pipeline"},  # the only module that calls every stage
    {"scheduler"},  # when the preview works, on a thread of its own
    {"serve"},
    {"cli"},
    {"reference"},  # the docs' reference, made from fields and the command line's parser
]


def _layer_of() -> dict[str, int]:
    return {name: depth for depth, names in enumerate(LAYERS) for name in names}


def _imports(path: Path) -> set[str]:
    """The package's modules a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("annals."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("annals."))
    return found


def test_every_module_has_a_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert modules - _layer_of().keys() == set(), "give each new module a layer in LAYERS"
    assert _layer_of().keys() - modules == set(), "LAYERS names a module that is gone"


def test_imports_point_down_the_flow():
    layer = _layer_of()
    upward = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem == "__init__":
            continue
        for name in sorted(_imports(path) - {path.stem}):
            if name in layer and layer[name] >= layer[path.stem]:
                upward.append(f"annals/{path.name} imports {name}, which is not below it")
    assert upward == []


def test_the_check_finds_an_import_that_runs_back_up(tmp_path):
    stage = tmp_path / "render.py"
    stage.write_text("from .pipeline import build\nfrom . import urls\n")
    assert _imports(stage) == {"pipeline", "urls"}
    assert _layer_of()["pipeline"] > _layer_of()["render"]
