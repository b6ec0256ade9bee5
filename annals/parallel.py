"""Processes forked to share a build's work, and the promise that none outlives it.

Every process a build forks (the read-ahead, the folders made ahead, the
templates compiled ahead, the render's workers) is started here, so
that each, from its first line:

- dies with the process that forked it, however that one ends (`kill -9`
  included): the kernel sends it SIGKILL then (Linux's parent-death signal);
- leaves Ctrl-C and SIGTERM to the build: the terminal sends SIGINT to the
  whole process group, a service manager SIGTERM, and the build, not each
  child, decides what to stop and reports it once, with no traceback from a
  child; it stops a child with SIGKILL.

The build itself waits for or stops each child on every way out (see
`Child` and `executor`); `Stopped` turns SIGTERM and SIGINT
into an exception in the main thread, so that those ways out run too.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from itertools import islice
from typing import Any, Callable, Hashable, Iterable, Iterator

_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    """Whether work can go to forked processes, which inherit the build's memory without pickling it."""
    return "fork" in multiprocessing.get_all_start_methods()


def _as_child(parent: int) -> None:
    # Both are the build's to act on: a child that died of one while holding a lock it shares
    # with the build (a queue's) would leave the build waiting for ever as it stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the build still waits for every child on its ways out
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _run_as_child(parent: int, target: Callable, args: tuple) -> None:
    _as_child(parent)
    target(*args)


class Child:
    """A forked process doing `target(*args)`; `wait` lets it finish, `stop` ends it. Either joins it."""

    def __init__(self, target: Callable, args: tuple = ()):
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_run_as_child, args=(os.getpid(), target, args), daemon=True)
        self._process.start()

    def wait(self) -> int | None:
        self._process.join()
        return self._process.exitcode

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()  # it ignores SIGTERM (see _as_child)
        self._process.join()

    @property
    def pid(self) -> int | None:
        return self._process.pid


# Items a process takes at a time when two share a list (see Claims): for the loader, about 8 ms of parsing.
CLAIM = 32
SEND_EVERY = 64  # results the read-ahead process sends in one message


class Claims:
    """Which items of a list each of two processes works on: this one takes them from the
    front, the read-ahead process from the back, CLAIM at a time, until the two meet.

    A fixed share left one process waiting for the other 0.1 to 0.45 s when reading
    10,000 facts: the two cores of this project's machine do not parse equally fast,
    nor does one from run to run.
    """

    def __init__(self, count: int, context):
        self._ends = context.RawArray("q", [0, count])  # the first item not taken from the front; the last from the back
        self._lock = context.Lock()

    def _take(self, front: bool) -> range | None:
        with self._lock:
            lo, hi = self._ends
            if lo >= hi:
                return None
            if front:
                self._ends[0] = min(lo + CLAIM, hi)
                return range(lo, self._ends[0])
            self._ends[1] = max(hi - CLAIM, lo)
            return range(self._ends[1], hi)

    def front(self, items: list) -> Iterator:
        """The items this process works on, in order, taken as it goes."""
        return self._taken(items, True)

    def back(self, items: list) -> Iterator:
        """The items the read-ahead process works on: the last block first, each block in order."""
        return self._taken(items, False)

    def _taken(self, items: list, front: bool) -> Iterator:
        while (taken := self._take(front)) is not None:
            yield from (items[i] for i in taken)

    @property
    def met(self) -> int:
        """Where the two met, once neither takes any more: the other process took the items from here on."""
        return self._ends[1]


class ReadAhead:
    """`part(*args, items)` worked out in a forked process for the items it takes from the back of
    `items`, while this process works on those it takes from the front (`front`).

    What it yields, (item, value) pairs, comes back pickled SEND_EVERY at a
    time, and a thread here unpickles it meanwhile: sent whole at the end,
    the loader's results kept both processes waiting 0.25 to 0.4 s at 10,000
    facts, to pickle and to unpickle them. The cyclic collector must be off
    while it runs (the loader's is): with it on, unpickling took five times
    as long. An item the other process took and did not send (it failed) is
    the caller's to work out: `results` names it.
    """

    def __init__(self, items: list, part: Callable[..., Iterable[tuple[Hashable, Any]]], args: tuple = ()):
        self.items = items
        context = multiprocessing.get_context("fork")
        self.claims = Claims(len(items), context)
        receive, send = context.Pipe(duplex=False)
        self.process = Child(_send_part, (part, args, items, self.claims, send))
        send.close()
        self._got: dict = {}
        self._receiver = threading.Thread(target=self._receive, args=(receive,), daemon=True)
        self._receiver.start()

    def front(self) -> Iterator:
        return self.claims.front(self.items)

    def _receive(self, receive) -> None:
        try:
            while True:
                self._got.update(pickle.loads(receive.recv_bytes()))
        except (EOFError, OSError, pickle.UnpicklingError):
            pass  # the other process is done, or failed: the caller works out what did not come
        finally:
            receive.close()

    def stop(self) -> None:
        self.process.stop()
        self._receiver.join()

    def results(self) -> tuple[dict, list]:
        """What the other process sent, by item, and every item it took, in order (some perhaps unsent).

        Called once this process takes no more items: all that are left are the other's."""
        self.process.wait()
        self._receiver.join()
        return self._got, self.items[self.claims.met:]


def _send_part(part: Callable, args: tuple, items: list, claims: Claims, send) -> None:
    try:
        results = part(*args, claims.back(items))
        for batch in iter(lambda: list(islice(results, SEND_EVERY)), []):
            send.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:  # noqa: BLE001 - the process that started this one works out the rest, and reports
        pass
    finally:
        send.close()


def _start_worker(parent: int, initializer: Callable, args: tuple) -> None:
    _as_child(parent)
    initializer(*args)


# How a build makes the executor its render is dealt to: (workers, initializer, its arguments) -> an
# Executor whose every worker has run initializer(*arguments) before its first task. The default forks.
ExecutorFactory = Callable[[int, Callable, tuple], Executor]


def forked(workers: int, initializer: Callable, args: tuple) -> Executor:
    """Worker processes forked from this one: they inherit what `args` refer to (the index, the
    compiled templates) without pickling it; only the tasks' arguments and results are pickled."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(os.getpid(), initializer, args))


@contextlib.contextmanager
def executor(workers: int, initializer: Callable, args: tuple, make: ExecutorFactory | None = None):
    """The executor for a stage's work, or None when one process is all there is (or it cannot fork,
    and no other kind is given). Its workers are done with on every way out: on a failure, the
    tasks not started are cancelled and those running waited for."""
    if workers <= 1 or (make is None and not can_fork()):
        yield None
        return
    made = (make or forked)(workers - 1, initializer, args)
    try:
        yield made
    except BaseException:
        made.shutdown(wait=True, cancel_futures=True)
        raise
    made.shutdown(wait=True)


def capacity(executor: Executor) -> int:
    """How many tasks the executor runs at once, as far as it says (the standard ones do)."""
    return max(1, getattr(executor, "_max_workers", 1))


class Stopped(BaseException):
    """SIGTERM or SIGINT reached the build: it unwinds, stopping its children, and exits 128 + the signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def _raise_stopped(signum, frame) -> None:
    # A second signal must not cut short the unwinding the first began.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped(signum)


@contextlib.contextmanager
def stopped_by_signals():
    """Inside, SIGTERM and SIGINT raise Stopped in the main thread; the handlers before are put back after.

    Only the main thread receives signals: called from another, this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {signum: signal.signal(signum, _raise_stopped) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


# -- the cyclic garbage collector, as a build of hundreds of thousands of lasting objects needs it --------

@contextlib.contextmanager
def stopped_on_failure(child):
    """A forked helper that must not outlive the build: stopped if the build fails, however it fails."""
    try:
        yield
    except BaseException:
        if child is not None:
            child.stop()
        raise


@contextlib.contextmanager
def lasting():
    """What is made inside lives as long as the build: the cyclic garbage collector leaves it alone.

    Records and the index are hundreds of thousands of objects, and each full
    collection while they were made walked all of them again: 1.4 s of a
    10,000-fact build, of which this leaves 0.5 s (gc.callbacks). Frozen, they
    are not walked by later collections either, nor written to by one in a
    forked worker, which would copy each page of memory they lie on. Objects
    freed by their count go as ever, frozen or not; `build` hands them back to
    the collector when it ends (`unfreeze`).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def young_only():
    """While a build runs, the cyclic collector looks at young objects only, never at all of them.

    Rendering leaves a few dozen objects in cycles a page (Jinja's macros and
    contexts), which young collections free while they are young. What lives
    on, the values derived and the fragments drawn, was walked by every full
    collection: six of them took 0.6 s of the first process's render of 10,000
    facts (gc.callbacks), and young ones alone leave the build's peak memory
    as it was. The thresholds are put back when the build ends.
    """
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, 1 << 30)  # a full collection only after a billion young ones
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


def unfreeze() -> None:
    """What `lasting` and `freeze_for_workers` froze, handed back to the collector."""
    gc.unfreeze()


def freeze_for_workers() -> None:
    """Before forking workers: their collections would otherwise write to, and so copy, every page
    of memory they inherit."""
    gc.freeze()

