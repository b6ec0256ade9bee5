"""The offline edition as one download: a zip whose bytes depend on its files alone.

Every entry gets the same timestamp, permissions and creator, and entries go
in sorted order, so building twice gives the same zip and an unchanged
archive leaves the published zip unchanged too.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

FOLDER = "annals-offline"  # what unzipping creates; open FOLDER/index.html
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can record
_UNIX = 3


def zip_files(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for rel in sorted(files):
            info = zipfile.ZipInfo(f"{FOLDER}/{rel}", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[rel], compresslevel=9)
    return buffer.getvalue()


def files_in(folder: Path, skip: set[str]) -> dict[str, bytes]:
    """Every file under folder by its relative path, except the names in skip."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.relative_to(folder).parts[0] not in skip}
