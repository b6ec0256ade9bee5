"""Processes forked to share a build's work, and the promise that none outlives it.

Every process a build forks (the read-ahead, the folders made ahead, the
templates compiled ahead, the render pool's workers) is started here, so
that each, from its first line:

- dies with the process that forked it, however that one ends (`kill -9`
  included): the kernel sends it SIGKILL then (Linux's parent-death signal);
- leaves Ctrl-C to the build: the terminal sends SIGINT to the whole process
  group, and the build, not each child, decides what to stop and reports it
  once, with no traceback from a child;
- ends at once on SIGTERM, which is how the build stops it (`terminate`).

The build itself waits for or stops each child on every way out (see
`Child` and the `with` blocks of the pool); `Stopped` turns SIGTERM and SIGINT
into an exception in the main thread, so that those ways out run too.
"""
from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
from typing import Callable

_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    """Whether work can go to forked processes, which inherit the build's memory without pickling it."""
    return "fork" in multiprocessing.get_all_start_methods()


def _as_child(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
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
            self._process.terminate()
        self._process.join()

    @property
    def pid(self) -> int | None:
        return self._process.pid


def _start_worker(parent: int, initializer: Callable, args: tuple) -> None:
    _as_child(parent)
    initializer(*args)


def pool(workers: int, initializer: Callable, args: tuple) -> multiprocessing.pool.Pool:
    """A pool of forked workers, each set up by `initializer(*args)`; use it in a `with` block,
    whose end (on any way out) terminates and joins them."""
    return multiprocessing.get_context("fork").Pool(
        workers, initializer=_start_worker, initargs=(os.getpid(), initializer, args))


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
