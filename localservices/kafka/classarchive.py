"""An AppCDS class archive that roughly halves the broker's start time.

Starting a broker is mostly class loading: ~3.5 s for one node, ~9 s for three
JVMs sharing two cores. The first cleanly stopped broker writes the classes it
loaded to an archive in the Kafka cache (``-XX:ArchiveClassesAtExit``); every
later JVM maps it (``-XX:SharedArchiveFile``): ~1.6 s for one node, ~5 s for
three. HotSpot ignores an archive it cannot use (another JDK build, another
class path) with a warning and starts normally, so this is only ever a speed-up.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from localservices.kafka.process import JavaProcess

__all__ = ["ClassArchive"]

_WRITE_OPTION = "-XX:ArchiveClassesAtExit="


class ClassArchive:
    """Hands out JVM options for one archive path and publishes it once written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: tuple[JavaProcess, Path] | None = None

    def options(self, *, may_write: bool) -> list[str]:
        """Options for a new JVM: read the archive, or (one JVM at a time) write it."""
        if self.path.is_file():
            return [f"-XX:SharedArchiveFile={self.path}"]
        if self._writer is not None or not may_write:
            return []
        partial = self.path.with_name(f"{self.path.stem}.{os.getpid()}.partial")
        return [f"{_WRITE_OPTION}{partial}"]

    @property
    def writer(self) -> JavaProcess | None:
        """The JVM writing the archive (it must exit cleanly for the archive to be complete)."""
        return None if self._writer is None else self._writer[0]

    def track(self, process: JavaProcess) -> None:
        """Remember ``process`` if its options make it the archive writer."""
        for arg in process.argv:
            if arg.startswith(_WRITE_OPTION):
                self._writer = (process, Path(arg.removeprefix(_WRITE_OPTION)))

    def publish(self) -> None:
        """Move a finished archive into place; one cut short by SIGKILL is dropped.

        The JVM writes the archive while it exits, so only an exit of its own
        (after SIGTERM) leaves a complete file.
        """
        if self._writer is None or self._writer[0].is_alive():
            return
        process, partial = self._writer
        self._writer = None
        if process.returncode != -signal.SIGKILL and partial.is_file():
            os.replace(partial, self.path)
        else:
            partial.unlink(missing_ok=True)
