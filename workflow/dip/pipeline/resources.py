"""What a fit job asks of the scheduler: CPU threads, GPU tokens, host memory and run time."""

from __future__ import annotations

from ..spec.network import activations_per_pixel, macs_per_pixel
from ..spec.presets import get_preset
from .plan import FitJob, is_quick
from .settings import network

#: Cost of the Table-1 network per pixel, the unit the runtime model is measured in.
_TABLE1_MACS = macs_per_pixel(get_preset("table1").net)


def fits_on_cpu(config: dict) -> bool:
    return config.get("device", "auto") == "cpu"


def threads(config: dict) -> int:
    """CPU threads of a fit: one with `device: cpu`, where single-threaded fits side by side,
    one per core, gave the most iterations per second (docs/performance.md); otherwise two, or
    one for quick mode's small crops."""
    return 1 if fits_on_cpu(config) or is_quick(config) else 2


def gpus(config: dict) -> int:
    """`gpu` tokens a fit holds: none with `device: cpu`, so the cores alone bound how many fits
    run at once; otherwise one (one fit per token; docs/performance.md)."""
    return 0 if fits_on_cpu(config) else 1


def cost_ratio(job: FitJob) -> float:
    """This fit's network cost per pixel relative to the Table-1 network's."""
    return macs_per_pixel(network(get_preset(job.preset), job.overrides)) / _TABLE1_MACS


def runtime_minutes(config: dict, job: FitJob) -> int:
    """Scheduler runtime request: twice the runtime model's estimate, at least 10 minutes.

    The model is a cost per iteration and megapixel of the Table-1 network (on a GPU unless
    `device: cpu`), scaled by this fit's network cost per pixel.
    """
    model = config.get("runtime_model") or {}
    per_mpx = model.get("cpu_s_per_mpx_iter", 26.0) if fits_on_cpu(config) else model.get("gpu_s_per_mpx_iter", 0.15)
    seconds = job.iterations * job.pixels / 1e6 * per_mpx * cost_ratio(job)
    return max(10, int(2 * seconds / 60) + 1)


def mem_mb(job: FitJob) -> int:
    """Host memory request: torch, the images and the network's activations (float32, with room
    for the backward pass)."""
    acts = activations_per_pixel(network(get_preset(job.preset), job.overrides))
    return 2000 + int(job.pixels * acts * 4 * 3 / 2**20)
