"""The offline edition as one download: a zip whose bytes depend on its files alone.

Every entry gets the same timestamp, permissions and creator, and entries go
in sorted order, so building twice gives the same zip and an unchanged
archive leaves the published zip unchanged too.

The zip is written here rather than with `zipfile`, because an incremental
build must not compress ten thousand pages again when one changed: an entry
whose bytes are the same as in the last zip (same CRC-32 and size) is copied
from it still compressed. zlib at one level always gives the same stream
for the same bytes, so a copied entry is byte for byte what compressing
again would give.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

FOLDER = "annals-offline"  # what unzipping creates; open FOLDER/index.html
LEVEL = 6  # zlib's default: level 9 took 70% longer for a zip 5% smaller
# An 8 KiB window: a page rarely repeats itself from further back, and a
# smaller window is quicker to set up for each of ten thousand small pages.
WINDOW_BITS = 13
# The zip's comment names how its entries were compressed: entries are copied
# from the last zip only when compressing again would give the same stream.
COMMENT = f"annals offline edition; deflate level {LEVEL}, window {WINDOW_BITS}".encode()
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the earliest date a zip can record
_DOS_TIME = 0
_MADE_BY = (3 << 8) | 20  # Unix, zip 2.0
_NEEDED = 20
_ATTRS = 0o100644 << 16  # a regular file, rw-r--r--
_UTF8 = 0x800


@dataclass(frozen=True)
class Entry:
    """One file of the zip, compressed."""

    crc: int
    size: int
    raw: bytes | memoryview  # the deflated stream

    def same(self, data: bytes) -> bool:
        return self.size == len(data) and self.crc == zlib.crc32(data)


def deflate(data: bytes) -> Entry:
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -WINDOW_BITS)
    return Entry(zlib.crc32(data), len(data), packer.compress(data) + packer.flush())


def entry_for(data: bytes, old: Entry | None) -> Entry:
    """The entry for `data`, copied from the last zip when its bytes are unchanged."""
    return old if old is not None and old.same(data) else deflate(data)


def read_entries(path: Path) -> dict[str, Entry]:
    """The entries of a zip this module wrote, by their path inside the edition; {} if unreadable."""
    try:
        data = memoryview(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            comment = archive.comment
    except (OSError, zipfile.BadZipFile, ValueError):
        return {}
    if comment != COMMENT:
        return {}
    out = {}
    prefix = FOLDER + "/"
    for info in infos:
        if info.compress_type != zipfile.ZIP_DEFLATED or not info.filename.startswith(prefix):
            return {}  # not ours: compress everything again
        start = info.header_offset
        name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
        begin = start + 30 + name_len + extra_len
        out[info.filename[len(prefix):]] = Entry(info.CRC, info.file_size, data[begin:begin + info.compress_size])
    return out


def zip_entries(entries: dict[str, Entry]) -> bytes:
    """The zip of `entries` (path inside the edition -> entry), in sorted order."""
    body, directory = bytearray(), bytearray()
    for rel in sorted(entries):
        e = entries[rel]
        name = f"{FOLDER}/{rel}".encode("utf-8")
        flags = 0 if name.isascii() else _UTF8
        offset = len(body)
        if offset > 0xFFFFFFFF or e.size > 0xFFFFFFFF:
            raise ValueError("the offline edition is over 4 GiB, more than a plain zip holds")
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, _NEEDED, flags, zipfile.ZIP_DEFLATED, _DOS_TIME,
                            _DOS_DATE, e.crc, len(e.raw), e.size, len(name), 0)
        body += name
        body += e.raw
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, _MADE_BY, _NEEDED, flags, zipfile.ZIP_DEFLATED,
                                 _DOS_TIME, _DOS_DATE, e.crc, len(e.raw), e.size, len(name), 0, 0, 0, 0,
                                 _ATTRS, offset)
        directory += name
    return bytes(body + directory + _end(len(entries), len(directory), len(body)))


def _end(count: int, size: int, offset: int) -> bytes:
    """The end-of-directory records; past 65,535 entries, the zip64 ones that hold larger counts."""
    if count <= 0xFFFF:
        return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, offset, len(COMMENT)) + COMMENT
    zip64_at = offset + size
    return (struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, size, offset)
            + struct.pack("<IIQI", 0x07064B50, 0, zip64_at, 1)
            + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, size, offset, len(COMMENT)) + COMMENT)
