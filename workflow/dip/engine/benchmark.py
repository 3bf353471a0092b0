"""Timing of full training steps of a preset's network (forward, loss, backward, Adam step) on
random N x N images: what `dip bench` prints and what `dip estimate` scales to a run.

A path is measured next to fp32 eager in the same process, so that the ratio between them is
not spoiled by other load on a shared machine drifting between two separate runs.
"""

from __future__ import annotations

import dataclasses
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ..models.skip import build_net, count_params, make_input
from ..physics.operators import build_operator
from ..spec.overrides import ES_MEMORY_MB, ES_PATIENCE, ES_WINDOW
from ..spec.tasks import get_task
from .devices import device_name, resolve_device, synchronize
from .early_stop import EarlyStop
from .precision import (Execution, apply_backend_flags, candidate_paths, capabilities, choose,
                        compiled, optimizer)


def _problem(preset, size: int, device: torch.device, gen: torch.Generator):
    """Input z, forward model and observation of the preset's task on random N x N images."""
    channels = preset.net.out_channels
    image = torch.rand((1, channels, size, size), generator=gen)
    z = make_input(preset.input, preset.input_depth, (size, size), gen, image=image)
    operator = get_task(preset.task).operator
    mask = (torch.rand((1, 1, size, size), generator=gen) < 0.5).float() if operator == "mask" else None
    op = build_operator(operator, mask=mask, factor=preset.sr_factor, channels=channels)
    target = op(image)
    return z.to(device), op.to(device), target.to(device)


def _reset_peak_memory(device: torch.device) -> None:
    """Start a new peak: CUDA's counter, or on Linux the process's peak RSS (VmHWM), so that
    paths measured one after another in one process each get their own peak."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    elif device.type == "cpu":
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass


def _peak_memory_mb(device: torch.device) -> tuple[float, str]:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda_max_memory_allocated"
    if device.type == "mps":
        return torch.mps.driver_allocated_memory() / 2**20, "mps_driver_allocated"
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10, "process_peak_rss"
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (2**20 if sys.platform == "darwin" else 2**10), "process_peak_rss"


class _Path:
    """One execution path set up for timing: its own net, input, optimiser and step."""

    def __init__(self, preset, size: int, device: torch.device, execution: Execution, seed: int,
                 early_stop: bool = False):
        self.execution, self.device, self.preset = execution, device, preset
        # the detector every fit runs (dip.engine.early_stop), with its default window
        self.early_stop = EarlyStop(ES_WINDOW, ES_PATIENCE, device, ES_MEMORY_MB * 2**20) if early_stop else None
        self.steps = 0
        apply_backend_flags(execution)
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        self.net = build_net(preset.net).to(device)
        self.z, self.op, self.target = _problem(preset, size, device, gen)
        if execution.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
            self.z = self.z.contiguous(memory_format=torch.channels_last)
        self.model = compiled(self.net, execution)
        self.opt = optimizer(self.net.parameters(), preset.lr, execution)
        self.noise_gen = torch.Generator(device=device).manual_seed(seed)

    def step(self, module=None) -> None:
        """One training step (on the eager module when given: the FLOP counter's view)."""
        apply_backend_flags(self.execution)
        std = self.preset.reg_noise_std
        # drawn as a fit draws it (dip.engine.fit.FitState.draw_input): a contiguous draw added to z.
        # (normal_ into a channels_last buffer took 70 ms a step at 256 x 256, randn 11 ms.)
        inp = self.z + std * torch.randn(self.z.shape, generator=self.noise_gen, device=self.device,
                                         dtype=self.z.dtype) if std else self.z
        if self.execution.cuda_graphs and module is None:
            torch.compiler.cudagraph_mark_step_begin()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.execution.bf16):
            out = (module or self.model)(inp)
        loss = F.mse_loss(self.op(out.float()), self.target)
        loss.backward()
        self.steps += 1
        if self.early_stop is not None:
            self.early_stop.update(out.float(), self.steps)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)

    def timed_step(self) -> tuple[float, float]:
        synchronize(self.device)
        t0, c0 = time.perf_counter(), time.process_time()
        self.step()
        synchronize(self.device)
        return time.perf_counter() - t0, time.process_time() - c0


def measure_paths(preset, size: int, iterations: int, warmup: int, device: torch.device,
                  executions: list[Execution], seed: int = 0, early_stop: tuple[bool, ...] = ()) -> list[dict]:
    """Time ``iterations`` training steps of ``preset``'s network on each path.

    Each path is set up and warmed up on its own (its peak memory is taken then, over the
    warm-up and one more step); the timed steps then take turns, one step of each path per
    round, so that a change of load on a shared machine falls on all paths alike.
    ``early_stop[i]`` runs ES-WMV's detector in path i's steps, as a fit does.
    """
    paths, results = [], []
    for i, execution in enumerate(executions):
        _reset_peak_memory(device)
        start = time.perf_counter()
        path = _Path(preset, size, device, execution, seed, early_stop=i < len(early_stop) and early_stop[i])
        for _ in range(warmup):
            path.step()
        synchronize(device)
        warmup_s = time.perf_counter() - start  # includes torch.compile's start-up
        path.step()
        synchronize(device)
        peak_mb, mem_kind = _peak_memory_mb(device)
        counter = FlopCounterMode(display=False)
        with counter:
            path.step(path.net)  # the eager module: the counter sees the same convolutions
        paths.append(path)
        results.append({**execution.as_dict(), "warmup_s": warmup_s, "peak_mem_mb": peak_mb,
                        "mem_kind": mem_kind, "gflop_per_iter": counter.get_total_flops() / 1e9,
                        "params": count_params(path.net), "s_per_iter_all": [], "cpu_s": []})
    for _ in range(iterations):
        for path, r in zip(paths, results):
            wall, cpu = path.timed_step()
            r["s_per_iter_all"].append(wall)
            r["cpu_s"].append(cpu)
    apply_backend_flags(Execution())
    for r in results:
        r["s_per_iter"] = statistics.median(r["s_per_iter_all"])
        r["it_per_s"] = 1.0 / r["s_per_iter"]
        r["gflop_per_s"] = r["gflop_per_iter"] / r["s_per_iter"]
        # CPU seconds of this process per step: on a shared CPU, less sensitive to other load
        r["cpu_s_per_iter"] = statistics.median(r.pop("cpu_s"))
    return results


#: The path every ratio is measured against: today's default, fp32 eager.
BASELINE = Execution(precision="faithful", hardware_class="baseline")


def _report(preset, size: int, iterations: int, warmup: int, device: torch.device) -> dict:
    return {"preset": preset.name, "size": size, "device": str(device),
            "device_name": device_name(device), "torch_version": torch.__version__,
            "threads": torch.get_num_threads(), "iterations": iterations, "warmup": warmup}


def measure(preset, size: int, iterations: int, warmup: int = 1, device: str = "auto",
            precision: str = "faithful", seed: int = 0) -> dict:
    """Time the path ``precision`` takes here and, in the same run, fp32 eager.

    The report is the path's figures with ``ratio_to_fp32_eager`` (fp32 eager's seconds per
    iteration over the path's: above 1 is faster) and fp32 eager's own figures.
    """
    device = resolve_device(device)
    execution = choose(precision, capabilities(device))
    same = dataclasses.replace(execution, precision=BASELINE.precision,
                               hardware_class=BASELINE.hardware_class) == BASELINE
    runs = measure_paths(preset, size, iterations, warmup, device,
                         [execution] if same else [execution, BASELINE], seed)
    result, baseline = runs[0], runs[-1]
    return {**_report(preset, size, iterations, warmup, device), **result,
            "ratio_to_fp32_eager": baseline["s_per_iter"] / result["s_per_iter"],
            "fp32_eager": {k: baseline[k] for k in ("s_per_iter", "it_per_s", "gflop_per_s",
                                                     "peak_mem_mb", "cpu_s_per_iter")}}


def measure_early_stop(preset, size: int, iterations: int, warmup: int = 1, device: str = "auto",
                       precision: str = "faithful", seed: int = 0) -> dict:
    """The path ``precision`` takes here, with and without ES-WMV's detector, taking turns in
    one run: ``overhead`` is the detector's share of a step (with over without, minus one)."""
    device = resolve_device(device)
    execution = choose(precision, capabilities(device))
    without, with_detector = measure_paths(preset, size, iterations, warmup, device,
                                           [execution, execution], seed, early_stop=(False, True))
    return {**_report(preset, size, iterations, warmup, device), "path": execution.name,
            "s_per_iter_without": without["s_per_iter"], "s_per_iter_with": with_detector["s_per_iter"],
            "overhead": with_detector["s_per_iter"] / without["s_per_iter"] - 1,
            "peak_mem_mb_without": without["peak_mem_mb"], "peak_mem_mb_with": with_detector["peak_mem_mb"]}


def measure_all(preset, size: int, iterations: int, warmup: int = 1, device: str = "auto",
                seed: int = 0) -> dict:
    """Every candidate path of this hardware (dip.engine.precision.candidate_paths) in one run, each
    with its ratio to fp32 eager: the measurement the rules are derived from."""
    device = resolve_device(device)
    runs = measure_paths(preset, size, iterations, warmup, device,
                         candidate_paths(capabilities(device)), seed)
    for r in runs:
        r["ratio_to_fp32_eager"] = runs[0]["s_per_iter"] / r["s_per_iter"]
    return {**_report(preset, size, iterations, warmup, device), "paths": runs}
