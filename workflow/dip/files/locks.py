"""An exclusive lock file per output, so two processes never write the same fit at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ..errors import DipError


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f" (pid {int(path.read_text().strip())})"
    return ""


@contextlib.contextmanager
def exclusive(path: str | Path, what: str):
    """Hold ``path`` as a lock while the block runs; DipError at once if another process
    holds it. The file records the holder's pid and is removed on the way out."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DipError(f"{what} is being written by another process{_holder(path)}; "
                           f"wait for it or stop it (lock {path})") from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break  # still the file at that path: ours
        except FileNotFoundError:
            pass
        os.close(fd)  # its last holder removed it meanwhile: take the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)
