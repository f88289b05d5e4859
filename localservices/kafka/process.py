"""Start and stop JVM processes so that none outlives the Python process that owns it.

Three layers, because each covers a case the others miss:

* every JVM runs in its own process group (``start_new_session``), so a Ctrl-C
  in the terminal reaches Python first and Python decides the shutdown order;
* on Linux each JVM gets ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills
  it when its parent goes away, even on ``kill -9`` of Python. The kernel ties
  this to the *thread* that forked, so all JVMs are forked from one daemon
  thread that lives as long as the process (a JVM started from a short-lived
  worker thread, e.g. ``asyncio.to_thread``, would otherwise die with it);
* :func:`register_cleanup` runs ``stop()`` of live owners at exit and on SIGTERM
  (unless the program has a SIGTERM handler of its own: then, as for a Ctrl-C,
  the program decides the order, and what it leaves is stopped at exit).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

__all__ = [
    "JavaProcess",
    "Stoppable",
    "read_tail",
    "register_cleanup",
    "unregister_cleanup",
]

_PR_SET_PDEATHSIG = 1
# Resolved once in the parent: the forked child should do as little as possible
# (no dlopen between fork and exec in a multi-threaded process).
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with_parent(parent_pid: int) -> None:
    """``preexec_fn``: ask the kernel to SIGKILL this child when its parent thread dies."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)


class _Launcher:
    """One daemon thread that performs every fork (see the module docstring)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[], Any]) -> Any:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="localkafka-launcher", daemon=True
                )
                self._thread.start()
        done: Future[Any] = Future()
        self._jobs.put((job, done))
        return done.result()

    def _serve(self) -> None:
        while True:
            job, done = self._jobs.get()
            try:
                done.set_result(job())
            except BaseException as exc:
                done.set_exception(exc)


_launcher = _Launcher()


class JavaProcess:
    """One JVM (broker or tool): spawn, signal, wait, reap. Every stop is idempotent."""

    def __init__(self, argv: Sequence[str], *, console_file: Path, cwd: Path) -> None:
        self.argv = list(argv)
        self.console_file = console_file
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen is not None else None

    def is_alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> None:
        """Spawn the JVM once (stdout and stderr go to ``console_file``); later calls do nothing.

        One object is one run: restarting a node means a new :class:`JavaProcess`.
        """
        if self._popen is not None:
            return
        self.console_file.parent.mkdir(parents=True, exist_ok=True)
        parent = os.getpid()

        def spawn() -> subprocess.Popen[bytes]:
            with self.console_file.open("ab") as console:
                return subprocess.Popen(
                    self.argv,
                    cwd=self.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=lambda: _die_with_parent(parent),
                )

        self._popen = _launcher.run(spawn)

    def _signal_group(self, signum: int) -> None:
        if self._popen is None or self._popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)  # pgid == pid: own session

    def send_terminate(self) -> None:
        """SIGTERM without waiting, so several nodes can shut down in parallel."""
        self._signal_group(signal.SIGTERM)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True when the process has exited."""
        if self._popen is None:
            return True
        try:
            self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL the process group and reap it."""
        self._signal_group(signal.SIGKILL)
        if self._popen is not None:
            self._popen.wait()

    def stop(self, timeout: float) -> None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL."""
        self.send_terminate()
        if not self.wait(timeout):
            self.kill()

    def run_to_completion(self, timeout: float) -> int:
        """Run a short-lived tool JVM; kill it if it exceeds ``timeout``."""
        self.start()
        if not self.wait(timeout):
            self.kill()
        code = self.returncode
        return -1 if code is None else code


class Stoppable(Protocol):
    def stop(self) -> None: ...


_owners: dict[int, Stoppable] = {}
_handlers_installed = False
_previous_sigterm: Any = signal.SIG_DFL


def _stop_all() -> None:
    for owner in list(_owners.values()):
        with contextlib.suppress(Exception):
            owner.stop()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    previous = _previous_sigterm
    if callable(previous):
        # The program handles SIGTERM itself: it decides the shutdown order, as for a
        # Ctrl-C (``make demo`` stops its worker before the broker the worker talks to;
        # stopped first, the broker left the worker to stop without it). What it leaves
        # running is stopped at exit (atexit), or by PDEATHSIG if it dies.
        previous(signum, frame)
        return
    # Stop from another thread with a bound: the signal may have interrupted a
    # stop() that holds a lock (Popen.wait) in this very thread. If the helper
    # cannot finish, dying is still safe: PDEATHSIG takes the JVMs down with us.
    helper = threading.Thread(target=_stop_all, name="localkafka-sigterm", daemon=True)
    helper.start()
    helper.join(timeout=30)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # die as SIGTERM would have
    os.kill(os.getpid(), signal.SIGTERM)


def register_cleanup(owner: Stoppable) -> None:
    """Call ``owner.stop()`` at interpreter exit and on SIGTERM unless unregistered first.

    The SIGTERM handler is only installed from the main thread and only over
    the default or a Python handler (to which it then leaves the signal, the
    owners being stopped at exit); an ignored SIGTERM stays ignored.
    """
    global _handlers_installed, _previous_sigterm
    _owners[id(owner)] = owner
    if _handlers_installed:
        return
    atexit.register(_stop_all)
    _handlers_installed = True
    if threading.current_thread() is threading.main_thread():
        current = signal.getsignal(signal.SIGTERM)
        if current is signal.SIG_DFL or (callable(current) and current is not _on_sigterm):
            _previous_sigterm = current
            signal.signal(signal.SIGTERM, _on_sigterm)


def unregister_cleanup(owner: Stoppable) -> None:
    _owners.pop(id(owner), None)


def read_tail(paths: Sequence[Path], lines: int = 40) -> str:
    """The last ``lines`` lines of each existing file, labelled, for error messages."""
    parts = []
    for path in paths:
        with contextlib.suppress(OSError):
            with path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 64 * 1024))
                text = handle.read().decode("utf-8", errors="replace")
            tail = "\n".join(text.splitlines()[-lines:])
            if tail.strip():
                parts.append(f"--- {path} (last {lines} lines) ---\n{tail}")
    return "\n".join(parts) if parts else "(no broker log written)"
