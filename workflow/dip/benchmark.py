"""Timing of full training steps of a preset's network (forward, loss, backward, Adam step) on
random N x N images: what `dip bench` prints and what `dip estimate` scales to a run.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from .devices import device_name, resolve_device, synchronize
from .nets import build_net, count_params, make_input
from .operators import build_operator


def _problem(preset, size: int, device: torch.device, gen: torch.Generator):
    """Input z, forward model and observation of the preset's task on random N x N images."""
    channels = preset.net.out_channels
    image = torch.rand((1, channels, size, size), generator=gen)
    z = make_input(preset.input, preset.input_depth, (size, size), gen, image=image)
    if preset.task == "inpainting":
        mask = (torch.rand((1, 1, size, size), generator=gen) < 0.5).float()
        op = build_operator("inpainting", mask=mask)
        target = op(image)
    elif preset.task == "sr":
        op = build_operator("sr", factor=preset.sr_factor, channels=channels)
        target = op(image)
    else:
        op = build_operator(preset.task)
        target = image
    return z.to(device), op.to(device), target.to(device)


def _peak_memory_mb(device: torch.device) -> tuple[float, str]:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda_max_memory_allocated"
    if device.type == "mps":
        return torch.mps.driver_allocated_memory() / 2**20, "mps_driver_allocated"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (2**20 if sys.platform == "darwin" else 2**10), "process_peak_rss"


def measure(preset, size: int, iterations: int, warmup: int = 1, device: str = "auto",
            amp: str | None = None, channels_last: bool = False, compile: bool = False,
            seed: int = 0) -> dict:
    """Time `iterations` training steps of `preset`'s network on a size x size problem."""
    device = resolve_device(device)
    if amp and device.type == "mps":
        raise DipError("--amp bf16 is supported on cuda and cpu only")

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = build_net(preset.net).to(device)
    z, op, target = _problem(preset, size, device, gen)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        z = z.contiguous(memory_format=torch.channels_last)
    model = torch.compile(net) if compile else net
    opt = torch.optim.Adam(net.parameters(), lr=preset.lr)
    noise = torch.empty_like(z)

    def step(module) -> None:
        inp = z + noise.normal_(std=preset.reg_noise_std) if preset.reg_noise_std else z
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp == "bf16"):
            out = module(inp)
        loss = F.mse_loss(op(out.float()), target)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step(model)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, cpu_times = [], []
    for _ in range(iterations):
        synchronize(device)
        t0, c0 = time.perf_counter(), time.process_time()
        step(model)
        synchronize(device)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    peak_mb, mem_kind = _peak_memory_mb(device)

    counter = FlopCounterMode(display=False)
    with counter:
        step(net)  # the eager module: the counter sees the same convolutions either way
    s_per_iter = statistics.median(times)

    result = {
        "preset": preset.name, "size": size, "params": count_params(net),
        "s_per_iter": s_per_iter, "it_per_s": 1.0 / s_per_iter,
        "s_per_iter_all": times,
        # CPU seconds of this process per step: on a shared CPU, less sensitive to other load
        "cpu_s_per_iter": statistics.median(cpu_times),
        "peak_mem_mb": peak_mb, "mem_kind": mem_kind,
        "gflop_per_iter": counter.get_total_flops() / 1e9,
        "device": str(device), "device_name": device_name(device),
        "torch_version": torch.__version__, "threads": torch.get_num_threads(),
        "iterations": iterations, "warmup": warmup, "amp": amp,
        "channels_last": channels_last, "compile": compile,
    }
    return result
