"""The offline edition as one download: a zip whose bytes depend on its files alone.

Every entry gets the same timestamp, permissions and creator, and entries go
in sorted order, so building twice gives the same zip and an unchanged
archive leaves the published zip unchanged too.

The zip is written here rather than with `zipfile`, because an incremental
build must not compress ten thousand pages again when one changed: an entry
whose bytes are the same as in the last zip (same CRC-32 and size) is copied
from it still compressed. The compressor at one level and version always
gives the same stream for the same bytes, so a copied entry is byte for byte
what compressing again would give. The streams are never all in memory: they are copied
from the last zip and from this build's spool files straight into the new one.
"""
from __future__ import annotations

import os
import threading
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import isal
from isal import igzip_lib

FOLDER = "annals-offline"  # what unzipping creates; open FOLDER/index.html
# ISA-L's deflate (PyPI `isal`) at level 2: over the 3,000 first fact pages of a
# 10,000-fact archive, 34 µs a page against 136 µs for zlib at level 3, the
# quickest zlib level with as small a zip (2,270 bytes a page against 2,264).
# Deflating was 8% of a cold build's processor time with zlib (py-spy).
LEVEL = 2
# The zip's comment names the compressor, its version and its level: entries are
# copied from the last zip only when compressing again would give the same stream.
# (igzip picks its code by the processor's features; processors without SSE4.2 may
# get other streams from it, which unzip to the same files.)
COMMENT = f"annals offline edition; isal {isal.__version__} igzip level {LEVEL}".encode()
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the earliest date a zip can record
_DOS_TIME = 0
_MADE_BY = (3 << 8) | 20  # Unix, zip 2.0
_NEEDED = 20
_ATTRS = 0o100644 << 16  # a regular file, rw-r--r--
_UTF8 = 0x800


@dataclass(frozen=True)
class Entry:
    """One file of the zip: its CRC-32 and size, and where its deflated stream lies.

    The stream stays in a file, never in memory: the last zip's own bytes,
    or a spool this build writes (see Spool). A hundred thousand pages are
    a few hundred megabytes compressed, which a build need not hold.
    """

    crc: int
    size: int
    file: str     # the file holding the deflated stream
    offset: int
    length: int

    def same(self, data: bytes) -> bool:
        return self.size == len(data) and self.crc == zlib.crc32(data)


class Spool:
    """Where a build's workers append the streams they deflate, each to a file of its own.

    Worker processes are forked with it, and worker threads share it; each
    (process, thread) opens its own file on first use, so no two write to one file.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._files: dict[tuple[int, int], tuple[str, object]] = {}

    def put(self, raw: bytes) -> tuple[str, int]:
        mine = (os.getpid(), threading.get_ident())
        found = self._files.get(mine)
        if found is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = str(self.folder / f"spool-{mine[0]}-{mine[1]}")
            found = self._files[mine] = (path, open(path, "ab"))
        path, handle = found
        offset = handle.tell()
        handle.write(raw)
        return path, offset

    def flush(self) -> None:
        """Make what this worker spooled readable by the others (a chunk is done)."""
        found = self._files.get((os.getpid(), threading.get_ident()))
        if found is not None:
            found[1].flush()


def compress(data: bytes) -> bytes:
    """The raw deflate stream of one entry, as COMMENT names it."""
    return igzip_lib.compress(data, LEVEL, igzip_lib.COMP_DEFLATE)


def deflate(data: bytes, spool: Spool) -> Entry:
    raw = compress(data)
    file, offset = spool.put(raw)
    return Entry(zlib.crc32(data), len(data), file, offset, len(raw))


def entry_for(data: bytes, old: Entry | None, spool: Spool) -> Entry:
    """The entry for `data`, copied from the last zip when its bytes are unchanged."""
    return old if old is not None and old.same(data) else deflate(data, spool)


_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # a central directory's record of one entry, before its name
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR = struct.Struct("<IIQI")


def read_entries(path: Path) -> dict[str, Entry]:
    """The entries of a zip this module wrote, by their path inside the edition; {} if it is not one
    (unreadable, cut short, or not ours: then every page is compressed again, which is always right).

    Read here rather than with zipfile, which took 40 ms of a build of ten
    thousand pages that changed one: only the layout write_zip gives is taken."""
    try:
        with open(path, "rb") as handle:
            directory, count = _directory(handle)
    except (OSError, struct.error, ValueError):
        return {}
    out, at, where = {}, 0, str(path)
    prefix = (FOLDER + "/").encode()
    for _ in range(count):
        try:
            sig, _, _, flags, method, _, _, crc, length, size, named, extra, remark, _, _, _, header = \
                _CENTRAL.unpack_from(directory, at)
        except struct.error:
            return {}
        name = directory[at + _CENTRAL.size:at + _CENTRAL.size + named]
        if (sig != 0x02014B50 or method != zipfile.ZIP_DEFLATED or extra or remark or len(name) != named
                or not name.startswith(prefix) or not (flags & _UTF8 or name.isascii())):
            return {}
        try:
            rel = name[len(prefix):].decode("utf-8")
        except UnicodeDecodeError:
            return {}
        # Our local headers hold the name and no extra field, so the stream starts right after them.
        out[rel] = Entry(crc, size, where, header + 30 + named, length)
        at += _CENTRAL.size + named
    return out if at == len(directory) else {}


def _directory(handle) -> tuple[bytes, int]:
    """The central directory of a zip ending as write_zip ends one (with COMMENT), and its count of entries."""
    end = handle.seek(0, os.SEEK_END) - _END.size - len(COMMENT)
    handle.seek(max(end, 0))
    sig, _, _, count, _, size, offset, remark = _END.unpack(handle.read(_END.size))
    if end < 0 or sig != 0x06054B50 or remark != len(COMMENT) or handle.read() != COMMENT:
        raise ValueError("not an end of directory of ours")
    if count == 0xFFFF and end >= _LOCATOR.size + _END64.size:  # a zip64 one, if its locator is there
        handle.seek(end - _LOCATOR.size)
        if _LOCATOR.unpack(handle.read(_LOCATOR.size))[0] == 0x07064B50:
            handle.seek(end - _LOCATOR.size - _END64.size)
            sig, _, _, _, _, _, count, _, size, offset = _END64.unpack(handle.read(_END64.size))
            if sig != 0x06064B50:
                raise ValueError("not a zip64 end of directory")
    handle.seek(offset)
    directory = handle.read(size)
    if len(directory) != size:
        raise ValueError("cut short")
    return directory, count


def write_zip(handle, entries: dict[str, Entry]) -> None:
    """The zip of `entries` (path inside the edition -> entry), in sorted order, written to `handle`."""
    directory = bytearray()
    sources: dict[str, object] = {}
    at = 0
    try:
        for rel in sorted(entries):
            e = entries[rel]
            name = f"{FOLDER}/{rel}".encode("utf-8")
            flags = 0 if name.isascii() else _UTF8
            if at > 0xFFFFFFFF or e.size > 0xFFFFFFFF:
                raise ValueError("the offline edition is over 4 GiB, more than a plain zip holds")
            header = struct.pack("<IHHHHHIIIHH", 0x04034B50, _NEEDED, flags, zipfile.ZIP_DEFLATED, _DOS_TIME,
                                 _DOS_DATE, e.crc, e.length, e.size, len(name), 0) + name
            source = sources.get(e.file)
            if source is None:
                source = sources[e.file] = open(e.file, "rb")
            source.seek(e.offset)
            handle.write(header)
            handle.write(source.read(e.length))
            directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, _MADE_BY, _NEEDED, flags, zipfile.ZIP_DEFLATED,
                                     _DOS_TIME, _DOS_DATE, e.crc, e.length, e.size, len(name), 0, 0, 0, 0,
                                     _ATTRS, at)
            directory += name
            at += len(header) + e.length
    finally:
        for source in sources.values():
            source.close()
    handle.write(bytes(directory) + _end(len(entries), len(directory), at))


def _end(count: int, size: int, offset: int) -> bytes:
    """The end-of-directory records; past 65,535 entries, the zip64 ones that hold larger counts."""
    if count <= 0xFFFF:
        return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, offset, len(COMMENT)) + COMMENT
    zip64_at = offset + size
    return (struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, size, offset)
            + struct.pack("<IIQI", 0x07064B50, 0, zip64_at, 1)
            + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, size, offset, len(COMMENT)) + COMMENT)
