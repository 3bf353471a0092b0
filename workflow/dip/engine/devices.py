"""Choosing the compute device, naming it, and waiting for it (for honest timings)."""

from __future__ import annotations

import platform

import torch

from ..errors import DipError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


def resolve_device(name: str) -> torch.device:
    """"auto" picks CUDA, else MPS, else the CPU; naming an absent device is a DipError."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DipError("device 'cuda' requested but CUDA is not available")
    if name == "mps" and not _mps_available():
        raise DipError("device 'mps' requested but MPS is not available")
    if name not in DEVICE_CHOICES:
        raise DipError(f"unknown device {name!r}; choose from {', '.join(DEVICE_CHOICES)}")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """A human name for the hardware: the GPU's model, or the CPU's."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return _cpu_model() or platform.processor() or platform.machine()


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def synchronize(device: torch.device) -> None:
    """Wait until queued work on ``device`` is done (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
