"""Where templates and static files come from: the archive's own, file by file over the default theme's.

The default theme ships inside the package (annals/theme/), so an installed
Annals builds an archive that holds only content/. An archive overrides one
template or one static file by putting a file of the same name in its own
templates/ or static/; the rest still come from the theme, as themes work in
Hugo, Pelican and MkDocs.
"""
from __future__ import annotations

from pathlib import Path

from . import tree

DEFAULT = Path(__file__).resolve().parent / "theme"
FOLDERS = ("templates", "static")


def template_folders(root: Path) -> list[Path]:
    """The folders a template is looked up in, the archive's first."""
    return [root / "templates", DEFAULT / "templates"]


def shown(path: str, root: Path) -> str:
    """A template's file as an editor names it: 'templates/x.html', or the theme's file, said so."""
    for folder in template_folders(root):
        try:
            rel = Path(path).resolve().relative_to(folder.resolve()).as_posix()
        except ValueError:
            continue
        return f"templates/{rel}" if folder.parent == root else f"{folder / rel} (the default theme's)"
    return path


def static_files(root: Path) -> dict[str, Path]:
    """Every static file to publish, by its path under static/: the archive's over the theme's.

    Hidden files are left out; the archive's links are followed only inside
    the project (the load reported the others).
    """
    theme, _ = tree.walk(DEFAULT, "static", tree.hidden, tree.never)
    own, _ = tree.walk(root, "static", tree.hidden, tree.never)
    files = {rel: DEFAULT / rel for rel in theme}
    files.update({rel: root / rel for rel in own})
    return {rel: files[rel] for rel in sorted(files, key=lambda rel: rel.split("/"))}
