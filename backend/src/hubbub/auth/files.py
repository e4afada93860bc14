"""A credentials file that an operator edits while the server runs (`hubbub add-user`, a
tokens file): re-read when it changes, never half-read."""

from __future__ import annotations

import os
from pathlib import Path


class WatchedFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._current()

    def _current(self) -> tuple[int, int, int] | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def changed(self) -> bool:
        """True once after each change (a new mtime, size or inode: `os.replace` makes a new one)."""
        stamp = self._current()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def read(self) -> str | None:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return None
