"""Atomic file and folder output: write under a temporary name beside the destination, rename
at the end.

A command that fails half-way then leaves nothing that looks finished to Snakemake.
"""

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import DipError

#: Errors that mean the disk (or the user's quota) is full.
_FULL = (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def atomic_path(dest: str | Path):
    """Yield a temporary path in dest's folder; on success it replaces dest, on error it is removed.

    The temporary name keeps dest's suffix so writers that infer the format from it still work.
    """
    dest = Path(dest)
    with _disk_full_is_an_error(dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=dest.suffix, dir=dest.parent)
        os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    try:
        with _disk_full_is_an_error(dest):
            yield Path(tmp)
            os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _disk_full_is_an_error(dest: Path):
    """A full disk while writing ``dest`` becomes one DipError naming it (the file that was
    there before, if any, is untouched: only the temporary copy was being written)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        raise DipError(f"no space left on the device writing {dest} ({exc.strerror}); "
                       f"the previous {dest.name} is unchanged, if there was one") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(dest: str | Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_dir(dest: str | Path):
    """Yield a new empty folder beside dest; on success it replaces dest, on error it is removed.

    A command that writes a folder of files fills the yielded one; nothing at dest looks
    finished until every file is there.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        yield tmp
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
