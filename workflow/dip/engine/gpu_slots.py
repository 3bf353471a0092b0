"""Spreading fits over the GPUs of one machine: each fit holds a free (GPU, slot) lock.

A local workflow run starts as many fits as it has `gpu` tokens. Without this, every one of
them would take device 0. Here a fit on CUDA takes the first free slot, filling one slot on
every GPU before a second slot on any (so k fits share one GPU only when there are more fits
than GPUs), and waits while all are taken. Slots per GPU come from DIP_FITS_PER_GPU (default
1); the lock files live in DIP_GPU_LOCKS (default: a per-user folder under the temporary
directory), which every fit of one machine must share. A process that dies releases its lock
with it (flock), so no stale lock outlives a killed fit.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from ..errors import DipError

PER_GPU_ENV = "DIP_FITS_PER_GPU"
LOCK_DIR_ENV = "DIP_GPU_LOCKS"


def fits_per_gpu() -> int:
    text = os.environ.get(PER_GPU_ENV, "1")
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise DipError(f"{PER_GPU_ENV} must be a positive integer, got {text!r}")
    return value


def lock_dir() -> Path:
    default = Path(tempfile.gettempdir()) / f"dip-gpu-locks-{os.getuid()}"
    return Path(os.environ.get(LOCK_DIR_ENV) or default)


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def claim(gpus: int, per_gpu: int, directory: Path, poll_s: float = 2.0) -> Iterator[int]:
    """Hold the first free slot of ``gpus`` GPUs with ``per_gpu`` slots each; yields the GPU's
    index. Slot 0 of every GPU comes before slot 1 of any."""
    directory.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(per_gpu):
            for gpu in range(gpus):
                fd = _try_lock(directory / f"cuda{gpu}.slot{slot}.lock")
                if fd is None:
                    continue
                try:
                    yield gpu
                finally:
                    os.close(fd)
                return
        time.sleep(poll_s)


@contextlib.contextmanager
def gpu_for_fit(device: torch.device) -> Iterator[None]:
    """Make a free GPU the current CUDA device for the block (nothing to do off CUDA, for a
    named device such as cuda:1, or with one GPU and one slot)."""
    per_gpu = fits_per_gpu()
    gpus = torch.cuda.device_count() if device.type == "cuda" and device.index is None else 0
    if gpus == 0 or (gpus == 1 and per_gpu == 1):
        yield
        return
    with claim(gpus, per_gpu, lock_dir()) as gpu:
        torch.cuda.set_device(gpu)
        yield
