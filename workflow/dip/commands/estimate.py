"""Estimate the compute time of the fits still to run, from one measured training step.

Prints a warning on stderr when paper mode is about to run on a machine without a GPU, where
the full reproduction takes days; quick mode and GPU runs print a one-line estimate only.
The cost of a fit is taken as proportional to iterations x pixels x its network's cost per
pixel, measured on the Table-1 network at --size x --size (fp32 eager, which no precision
mode is slower than), plus a start-up cost per fit: what this process took to import torch,
build the network and take its first step, as a fit does. On a machine with several GPUs the
fits spread over them (dip.engine.gpu_slots), so the wall time is the total divided by the GPUs;
fits sharing one GPU (DIP_FITS_PER_GPU) share its throughput and are not counted as faster.
With `device: cpu` one single-threaded fit runs per core.
"""

import json
import math
import os
import sys
import time
from pathlib import Path

import torch

from .. import STARTED, pipeline
from ..durations import human_duration
from ..engine.benchmark import measure_paths
from ..engine.devices import device_name, resolve_device
from ..engine.early_stop import memory_bytes, window_layout
from ..engine.precision import Execution
from ..pipeline import resources
from ..spec.presets import get_preset
from ._pairs import json_value


def add_arguments(p):
    config = p.add_mutually_exclusive_group(required=True)
    config.add_argument("--config-json", help="the workflow's config as a JSON string")
    config.add_argument("--configfile", type=Path, help="a workflow config file (config.yaml)")
    p.add_argument("--mode", choices=("paper", "quick"), help="override the config's mode")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--target", default="all", help="the fits of this target (default all)")
    which.add_argument("--fits", nargs="+", metavar="DIR", help="only these fit folders")
    p.add_argument("--size", type=int, help="side of the measured problem (default: the median "
                   "side of the fits to run, within 64-256; small problems run slower per pixel)")


def _done(job: pipeline.FitJob) -> bool:
    """A finished fit with the iterations the plan asks for."""
    meta = Path(job.fit.out_dir) / "meta.json"
    return meta.is_file() and json.loads(meta.read_text()).get("iterations") == job.iterations


def _fits_at_once(plan: pipeline.Plan, device) -> int:
    """Fits that run side by side: one per GPU; with `device: cpu` one single-threaded fit per
    core (the step is then measured on one thread, as each of them runs)."""
    if device.type == "cuda":
        return max(1, torch.cuda.device_count())
    if device.type == "cpu" and resources.fits_on_cpu(plan.config):
        torch.set_num_threads(1)
        return os.cpu_count() or 1
    return 1


def _median_side(jobs: list[pipeline.FitJob]) -> int:
    """The measured side: the fits' median, a multiple of 32 (the Table-1 net's) in 64-256."""
    sides = sorted(math.sqrt(job.pixels) for job in jobs)
    return int(min(256, max(64, round(sides[len(sides) // 2] / 32) * 32)))


def run(args) -> int:
    if args.configfile is not None:
        config = pipeline.load_config(args.configfile)
    else:
        config = pipeline.with_defaults(json_value(args.config_json, "--config-json"))
    if args.mode:
        config["mode"] = args.mode
    plan = pipeline.plan(config)
    if args.fits is not None:
        wanted = set(args.fits)
        jobs = [job for job in plan.all_fits() if job.fit.out_dir in wanted]
    else:
        jobs = [plan.fits[f] for f in plan.fits_of_target(args.target)]
    todo = [job for job in jobs if not _done(job)]
    if not todo:
        return 0
    device = resolve_device(config.get("device", "auto"))
    at_once = _fits_at_once(plan, device)
    size = args.size or _median_side(todo)
    (step,) = measure_paths(get_preset("table1"), size, iterations=2, warmup=1,
                            device=device, executions=[Execution()])
    start_up = time.monotonic() - STARTED - 2 * step["s_per_iter"]
    s_per_pixel_iter = step["s_per_iter"] / size**2
    total = sum(job.iterations * job.pixels * resources.cost_ratio(job) for job in todo)
    estimate = (total * s_per_pixel_iter + len(todo) * start_up) / at_once
    where = f"{at_once} x {device_name(device)}" if at_once > 1 else device_name(device)
    line = (f"{len(todo)} fits to run on {where}: about {human_duration(estimate)} of fitting "
            f"(measured {step['s_per_iter']:.3f} s per iteration at {size}x{size}, "
            f"{start_up:.1f} s to start a fit)")
    window = [(job.settings["es_window"], (3, *job.size), job.settings["es_memory_mb"] * 2**20) for job in todo]
    largest = max(window, key=lambda w: memory_bytes(w[0], *w[1], w[2]))
    storage, stride = window_layout(*largest)
    reduced = "" if storage == torch.float32 else ", in bf16" + (f", every {stride}th pixel" if stride > 1 else "")
    line += (f"; the stopping detector holds up to {memory_bytes(largest[0], *largest[1], largest[2]) / 2**20:.0f} "
             f"MB per fit ({largest[0]} outputs of {largest[1][1]}x{largest[1][2]}{reduced})")
    if config.get("mode") == "paper" and device.type == "cpu":
        print(f"WARNING: paper mode without a GPU. {line}. For a smoke run of the whole workflow "
              "in minutes use --config mode=quick; for the reproduction use a GPU or a cluster "
              "(docs/cluster.md).", file=sys.stderr)
    else:
        print(f"dip estimate: {line}", file=sys.stderr)
    return 0
