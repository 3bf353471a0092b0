"""Precision modes: which numeric path a fit takes, decided from the hardware by fixed rules.

``faithful`` (the default) computes in fp32 everywhere; on CUDA it turns TF32 off, which
PyTorch would otherwise use for convolutions on Ampere and newer and so change the numbers of
a run that claims fp32. ``fast`` adds bf16 autocast where the hardware computes bf16 natively
(CUDA compute capability 8.0 or newer, a CPU with AVX512-BF16 or AMX); elsewhere bf16 is
emulated and many times slower, so fast falls back to faithful's path.

Within each mode the memory format (channels_last) and ``torch.compile`` are chosen per
hardware class from measurements (docs/performance.md), never by timing at fit time: a fit's
path must be known before it starts, so that it can be part of the fit's identity and a
resume takes the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..spec.execution import Execution
from ..spec.overrides import PRECISIONS

#: CPU flags (as /proc/cpuinfo spells them) that mean bf16 arithmetic in hardware.
NATIVE_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@dataclass(frozen=True)
class Capabilities:
    """What the rules look at: the device kind, a GPU's compute capability, the CPU's flags."""

    device_type: str
    cuda_capability: tuple[int, int] | None = None
    cpu_flags: frozenset[str] = frozenset()

    @property
    def native_bf16(self) -> bool:
        if self.device_type == "cuda":
            return self.cuda_capability is not None and self.cuda_capability >= (8, 0)
        if self.device_type == "cpu":
            return bool(self.cpu_flags & NATIVE_BF16_CPU_FLAGS)
        return False

    @property
    def hardware_class(self) -> str:
        """The row of docs/performance.md's rule table this hardware falls under."""
        if self.device_type == "cuda":
            return "cuda-bf16" if self.native_bf16 else "cuda"
        if self.device_type == "cpu":
            if self.native_bf16:
                return "cpu-bf16"
            return "cpu-avx2" if "avx2" in self.cpu_flags else "cpu"
        return self.device_type


def optimizer(params, lr: float, execution: Execution) -> torch.optim.Adam:
    """Adam as the path says: the default (foreach) implementation, or the fused kernel."""
    return torch.optim.Adam(params, lr=lr, fused=True if execution.fused_adam else None)


def compiled(net: torch.nn.Module, execution: Execution):
    """The module the path runs: ``net`` itself, or torch.compile of it (with CUDA graphs)."""
    if not execution.compile:
        return net
    return torch.compile(net, mode="reduce-overhead" if execution.cuda_graphs else None)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo does not exist)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def capabilities(device: torch.device) -> Capabilities:
    if device.type == "cuda":
        return Capabilities("cuda", cuda_capability=tuple(torch.cuda.get_device_capability(device)))
    if device.type == "cpu":
        return Capabilities("cpu", cpu_flags=cpu_flags())
    return Capabilities(device.type)


def choose(precision: str, caps: Capabilities) -> Execution:
    """The path of ``precision`` on ``caps``.

    The rules and the measurements behind each are in docs/performance.md. torch.compile is
    one of the candidates `dip bench --all-paths` times, but no rule takes it: it lost to
    eager on the AVX2 CPU and to channels_last alone on the AMX one.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    cls = caps.hardware_class
    if precision == "fast" and caps.native_bf16:
        # bf16 with NHWC: the fastest measured path on an AMX CPU; NHWC is what tensor cores
        # take without a layout conversion on a GPU. TF32 only touches what stays fp32.
        return Execution("fast", cls, bf16=True, channels_last=True,
                         tf32=caps.device_type == "cuda")
    # fp32 in both modes from here on: channels_last changes only the order of rounding.
    return Execution(precision, cls, channels_last=cls == "cpu-bf16")


def apply_backend_flags(execution: Execution) -> dict:
    """Set PyTorch's TF32 switches as ``execution`` says; returns what they read afterwards.

    The switches are process-wide, so they are set at the start of every fit and benchmark
    rather than left as an earlier run set them.
    """
    torch.backends.cudnn.allow_tf32 = execution.tf32
    torch.backends.cuda.matmul.allow_tf32 = execution.tf32
    return {"cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32}


def candidate_paths(caps: Capabilities) -> list[Execution]:
    """Every path the rules choose among on ``caps``, fp32 eager first: what `dip bench
    --all-paths` measures to derive or check the rules on a new machine."""
    cls, cuda = caps.hardware_class, caps.device_type == "cuda"
    paths = [Execution("faithful", cls, channels_last=cl, compile=c)
             for c in (False, True) for cl in (False, True)]
    if caps.native_bf16:
        paths += [Execution("fast", cls, bf16=True, channels_last=cl, tf32=cuda) for cl in (False, True)]
    if cuda:
        # Launch overhead weighs on a GPU at one image per step: one Adam kernel for all
        # parameters, and the whole step replayed as CUDA graphs.
        bf16 = caps.native_bf16
        paths += [Execution("fast" if bf16 else "faithful", cls, bf16=bf16, channels_last=True,
                            tf32=bf16, fused_adam=True, compile=c, cuda_graphs=c) for c in (False, True)]
    return paths
