"""What one build leaves for the next: a Session, kept in memory by the preview and on disk for build.py.

After a good build a session holds that build's archive, index and plan,
the files read (with the signature each had then), the state of every page
(its template's fingerprint and the keys it read), and what the build
reported. The next build, told which files changed, reads only those; when
they are facts it patches the index, which says which keys changed, and
renders the pages that read one. That is the one way a build finds what is
stale, in the preview and on the command line alike.

On disk a session, for one output folder, is three files in .annals-cache/:
a whole pickle (the base), a journal of what each build since changed of it
(see annals.delta: a build that patched one fact among ten thousand writes
kilobytes, not forty megabytes), and a glance. Each is written whole and
moved into place, the glance last, naming the base and journal it goes with;
the journal is folded into a new base once it grows past a quarter of the
base (and JOURNAL_FLOOR), or past JOURNAL_MOST builds, and by any build that
did not patch the last one. It is Annals' own cache (a pickle is never read
from anywhere else); one that cannot be read, whose base's CRC-32 is not
the one its glance holds (damaged where it still unpickles), or that another
version of Annals wrote, is no session at all, and the build is a whole
build, which is always right. What changed since is worked out by `changes`:
the files whose signature (size, times, inode) is not the one read, checked
against their content hash where they disagree, and the files whose git date moved.
"""
from __future__ import annotations

import contextlib

import dataclasses
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from isal.isal_zlib import crc32

from . import delta, load as loading, publish, theme, tree, urls
from .index import Index, Key
from .model import Archive
from .pages import Memo, Page
from .problems import Problem
from .render import Renderer
from .state import CACHE, State

VERSION = 2
JOURNAL_MOST = 12  # builds a journal holds before it is folded into the base: each is applied on every resume
JOURNAL_FLOOR = 1 << 20  # bytes a journal may reach over a small base (written whole, it would be as quick)
MANIFEST = "permalinks.txt"  # read by the plan's checks: a change to it plans and checks again


@dataclass(frozen=True)
class Good:
    """A build that passed: what the next build of a session is compared with, or patched from."""

    archive: Archive
    index: Index
    pages: tuple[Page, ...]
    outputs: frozenset[str]  # the files the pages are written to
    checked: tuple[Problem, ...]  # what validate found (warnings only, since it passed)


@dataclass
class Session:
    """What a build leaves for the next (see the module's docstring)."""

    files: dict = field(default_factory=dict)  # content path -> (signature, what reading it yielded)
    renderer: Renderer | None = None
    memo: Memo = field(default_factory=lambda: Memo(track=True))
    state: State | None = None
    good: Good | None = None
    readers: dict[Key, set[str]] | None = None  # key -> the pages that read it, once needed
    # Pages a build left for later (see build's `first`): the next build renders them whatever changed.
    pending: set[str] = field(default_factory=set)
    # A build failed since `good`: files were read that `good` does not know of,
    # so the next build reads everything rather than patch.
    failed: bool = False
    # The preview's own folder, which only its server reads: written in place (see write.Writer).
    in_place: bool = False
    warnings: tuple[Problem, ...] = ()  # what the last good build warned of, said again by one that does nothing
    look: "Look | None" = None  # what `changes` compares with, taken as the last good build began
    # The templates and static files are those the last good build checked, untouched since (the look
    # of a session resumed from disk says so): compiled anew in this process, they need no check again.
    vouched: bool = False
    based: "Based | None" = None  # what is on disk, for a save to write only what changed since
    # Every build since `based` patched the one before: the records and index are mostly those on
    # disk, and a save writes what changed. One that read everything made them anew: comparing them
    # would take as long as writing them whole.
    patched_only: bool = True
    versions: dict = field(default_factory=dict)  # every fact's versions read from git (see versions.read)

    def renderer_for(self, root: Path) -> tuple[Renderer, bool]:
        """The compiled templates, compiled again if a template changed; and whether they were."""
        if self.renderer is None or self.renderer.changed_since():
            self.renderer = Renderer(root, root / CACHE / "templates")
            return self.renderer, True
        return self.renderer, False

    def readers_of(self) -> dict[Key, set[str]]:
        """key -> the pages that read it, worked out once from the state and kept up to date after."""
        if self.readers is None:
            readers: dict[Key, set[str]] = {}
            for path, page in self.state.pages.items():
                for k in page.deps:
                    readers.setdefault(k, set()).add(path)
            self.readers = readers
        return self.readers


@dataclass(frozen=True)
class Based:
    """The session as it stands on disk: its base's token and size, the journal's deltas, and the parts
    of it as they were then (those a build changes in place copied), for the next delta to be taken from."""

    token: str
    size: int
    sum: int  # the base's CRC-32, which its glance holds too
    journal: tuple[bytes, ...]
    kept: tuple


def _kept(session: Session) -> tuple:
    """The parts of a session that are saved: the files read, the pages' state, the good build, the memo's
    text, the versions read from git."""
    return session.files, session.state, session.good, session.memo.text(), session.versions


def _based(token: str, size: int, summed: int, journal: tuple[bytes, ...], kept: tuple) -> Based:
    files, state, good, text, versions = kept
    # The files and versions read are filled in place by the next build: as they are now, copied.
    return Based(token, size, summed, journal, (dict(files), state, good, text, dict(versions)))


@dataclass(frozen=True)
class Look:
    """What a build saw of its inputs before it read them: each content file's signature, each
    template's and static file's, the manifest's, the links the walk refused, git's dates; and
    the output folder as its commit left it. `changes` compares the next build's with it."""

    signatures: dict[str, tuple | None]
    templates: dict[str, tuple | None]
    manifest: tuple | None
    refused: tuple[Problem, ...]
    dates: dict[str, str]
    output: tuple | None = None


@dataclass(frozen=True)
class Glance:
    """The small part of a saved session: enough to tell that nothing changed without loading the rest."""

    token: str  # the base's
    sum: int  # the base's CRC-32: a base damaged where it still unpickles is no session
    journal: str | None  # the journal's token, if the base has one
    look: Look
    warnings: tuple[Problem, ...]
    pending: tuple[str, ...]
    produced: tuple[str, ...]
    pages: int


def _paths(root: Path, out: Path) -> tuple[Path, Path, Path]:
    """The glance, the base and the journal."""
    tag = hashlib.blake2b(str(out.resolve()).encode(), digest_size=6).hexdigest()
    return tuple(root / CACHE / f"session-{tag}.{part}" for part in ("glance", "pickle", "journal"))


def _digest_of_the_code() -> str:
    """A digest of Annals' own code: a session another version left is no session.

    Taken once, as the package is imported: the code this process runs, even if the files change
    under a preview that runs on (its session, saved, is then no session for the new code)."""
    digest = hashlib.blake2b(VERSION.to_bytes(2, "big"), digest_size=8)
    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


_CODE = _digest_of_the_code()


def save(session: Session, root: Path, out: Path, config: str) -> str | None:
    """Leave the session on disk for the next build of `out`: what changed since the base, when every
    build since patched the one before (see Session.patched_only), or the whole of it; then its
    glance. What went wrong, if it could not be written."""
    if session.good is None or session.state is None or session.failed or session.look is None:
        return None
    kept = _kept(session)
    small = _paths(root, out)[0]
    small.unlink(missing_ok=True)  # a glance never vouches for the files of another save
    try:
        # The preview's session is written whole: its pages were rendered again in place between builds.
        journaled = (_journaled(session.based, kept, root, out, config)
                     if session.patched_only and not session.in_place else None)
        based = journaled or _whole(kept, root, out, config)
        _write(small, (_CODE, config, Glance(
            based.token, based.sum, _journal_token(based.journal), session.look, session.warnings, tuple(sorted(session.pending)),
            tuple(sorted(session.state.produced or ())), len(session.good.pages))))
    except (pickle.PicklingError, TypeError, AttributeError):
        # Something in it pickle cannot name (a template's own filter, say): no session, a whole build next time.
        forget(root, out)
        return None
    except OSError as error:  # the site is written: only the memory of it is lost, said, and a whole build next
        with contextlib.suppress(OSError):
            forget(root, out)
        return f"could not keep this build's session ({error.strerror or error}): the next build builds everything"
    session.based, session.patched_only = based, True
    return None


def _journal_token(journal: tuple[bytes, ...]) -> str | None:
    return hashlib.blake2b(b"".join(journal), digest_size=8).hexdigest() if journal else None


def _journaled(based: Based | None, kept: tuple, root: Path, out: Path, config: str) -> Based | None:
    """The journal with this build's delta added, written; None when the base should be written anew."""
    if based is None:
        return None
    seen: dict = {}
    step = pickle.dumps(tuple(delta.delta(a, b, seen=seen) for a, b in zip(based.kept, kept)),
                        protocol=pickle.HIGHEST_PROTOCOL)
    journal = (*based.journal, step)
    if len(journal) > JOURNAL_MOST or sum(map(len, journal)) > max(based.size // 4, JOURNAL_FLOOR):
        return None
    now = _based(based.token, based.size, based.sum, journal, kept)
    _write(_paths(root, out)[2], (_CODE, config, based.token, journal))
    return now


def _whole(kept: tuple, root: Path, out: Path, config: str) -> Based:
    _, whole, journal = _paths(root, out)
    journal.unlink(missing_ok=True)
    token = os.urandom(8).hex()
    summed = _write(whole, (_CODE, config, token, kept))
    return _based(token, whole.stat().st_size, summed, (), kept)


def _write(path: Path, value) -> int:
    """`value` pickled into `path`, whole or not at all; the CRC-32 of what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            summed = _Summed(handle)
            pickle.dump(value, summed, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return summed.sum


class _Summed:
    """A file pickled to or from through this keeps the CRC-32 of the bytes that went by, as they
    go: the base is forty megabytes at ten thousand facts, and is never all in memory at once."""

    def __init__(self, handle):
        self.handle, self.sum = handle, 0

    def write(self, data) -> int:
        self.sum = crc32(data, self.sum)
        return self.handle.write(data)

    def read(self, n: int = -1) -> bytes:
        data = self.handle.read(n)
        self.sum = crc32(data, self.sum)
        return data

    def readline(self) -> bytes:
        data = self.handle.readline()
        self.sum = crc32(data, self.sum)
        return data


def glance(root: Path, out: Path, config: str) -> Glance | None:
    """The glance of the session the last build of `out` left, if this version of Annals saved it
    for this configuration."""
    try:
        with open(_paths(root, out)[0], "rb") as handle:
            code, saved_config, found = pickle.load(handle)
        return found if code == _CODE and saved_config == config and isinstance(found, Glance) else None
    except Exception:  # noqa: BLE001 - damaged, cut short, of another layout: no memory is always safe
        return None


def resume(root: Path, out: Path, config: str, seen: Glance | None) -> Session:
    """The whole session whose glance was `seen` (its base, and the journal applied to it); else an
    empty one, for a whole build."""
    if seen is None:
        return Session()
    _, whole, journaled = _paths(root, out)
    try:
        with open(whole, "rb") as handle:
            summed = _Summed(handle)
            code, saved_config, token, kept = pickle.load(summed)
            summed.read()  # anything after the pickle counts too
            size = handle.tell()
        if code != _CODE or saved_config != config or token != seen.token or summed.sum != seen.sum:
            return Session()
        journal: tuple[bytes, ...] = ()
        if seen.journal is not None:
            with open(journaled, "rb") as handle:
                code, saved_config, base, journal = pickle.load(handle)
            if code != _CODE or saved_config != config or base != token:
                return Session()
            if _journal_token(journal) != seen.journal:
                return Session()
            for step in journal:
                made: dict = {}  # within one step: what two parts share, they share again
                kept = tuple(delta.applied(a, d, made) for a, d in zip(kept, pickle.loads(step)))
        files, state, good, text, versions = kept
        return Session(files=files, state=state, good=good, pending=set(seen.pending), warnings=seen.warnings,
                       look=seen.look, memo=Memo.resumed(text), based=_based(token, size, summed.sum, journal, kept),
                       versions=versions)
    except Exception:  # noqa: BLE001 - as in glance
        return Session()


def forget(root: Path, out: Path) -> None:
    """No session for `out` any more: what it would say is no longer true (the preview writes the folder now)."""
    for path in _paths(root, out):
        path.unlink(missing_ok=True)


def signature(path: str | Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino


def output_look(out: Path) -> tuple | None:
    """The output folder and its marker as a commit left them (each commit makes both anew), and the
    offline zip, which holds every page: deleted or damaged, it is made whole again."""
    if not out.exists():
        return None
    return signature(out), signature(out / publish.MARKER), signature(out / urls.offline_zip())


def look_now(root: Path, dates: dict[str, str]) -> tuple[Look, list[str]]:
    """The inputs as they are now, before the build reads them; and the content files found."""
    texts: list[str] = []  # a source's full text changed is a change too: its quotes are checked again
    files, refused = loading.content_files(root, texts)
    top = os.fspath(root)  # joined as strings: a Path made for each of ten thousand files took a third of the time
    signatures = {rel: signature(os.path.join(top, rel)) for rel in (*files, *texts)}
    return Look(signatures, templates(root), signature(root / MANIFEST), tuple(refused), dates), files


def changes(before: Look | None, now: Look) -> set[str] | None:
    """The files that changed between two looks; None when that cannot be told (no look before,
    the manifest touched, the walk refusing other links): then everything is read. (An output
    folder not as the look's build left it is no look at all: see `trusted`.)

    A file whose signature moved is read again by the build, and is the
    same if its content hash is (an editor's save of the same bytes, a checkout).
    """
    if before is None:
        return None
    if now.manifest != before.manifest or now.refused != before.refused:
        return None  # the plan is checked against the manifest again, whole; the walk's refusals are read again
    changed = set()
    for old, new in ((before.signatures, now.signatures), (before.templates, now.templates),
                     (before.dates, now.dates)):
        changed.update(rel for rel in old.keys() | new.keys() if old.get(rel) != new.get(rel))
    return changed


def templates(root: Path) -> dict[str, tuple | None]:
    """The signature of each template and static file a build reads, the archive's and the default theme's.

    A build compares templates by their source, and writes static files whose
    bytes changed; this is only how a build that would do nothing knows it."""
    found = {}
    for base, label in ((root, ""), (theme.DEFAULT, "theme:")):
        for top in theme.FOLDERS:
            for rel in tree.walk(base, top, tree.hidden, tree.never)[0]:
                found[label + rel] = signature(os.path.join(base, rel))
    return found


def trusted(seen: Glance, out: Path) -> bool:
    """Whether the output folder is the one the glance's build committed: replaced since (restored
    from a copy, written by another archive's build), its pages are not what the session says."""
    return seen.look.output == output_look(out)


def missing(produced, out: Path) -> set[str]:
    """The files of `produced` (what the last build wrote) no longer in the output folder."""
    top = os.fspath(out)
    return {rel for rel in produced or () if not os.path.isfile(os.path.join(top, rel))}


def committed(session: Session, now: Look, root: Path, out: Path, manifest_updated: bool) -> None:
    """The look this build began with, with the output as its commit left it (and the manifest, if it wrote it)."""
    manifest = signature(root / MANIFEST) if manifest_updated else now.manifest
    session.look = dataclasses.replace(now, output=output_look(out), manifest=manifest)
