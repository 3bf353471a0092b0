"""Estimate the compute time of the fits still to run, from one measured training step.

Prints a warning on stderr when paper mode is about to run on a machine without a GPU, where
the full reproduction takes days; quick mode and GPU runs print a one-line estimate only.
The cost of a fit is taken as proportional to iterations x pixels, measured on the Table-1
network at --size x --size.
"""

import json
import sys
from pathlib import Path

from .. import experiments
from ..devices import resolve_device
from ..errors import DipError
from ..presets import get_preset
from .bench import measure


def add_arguments(p):
    p.add_argument("--config-json", required=True, help="the workflow's config as a JSON string")
    p.add_argument("--size", type=int, default=128, help="side of the measured problem (default 128)")


def human(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h" if hours >= 1 else f"{seconds / 60:.0f} min"


def _done(config: dict, fit: experiments.Fit) -> bool:
    """A finished fit with the iterations this config asks for (quick and paper mode share paths)."""
    meta = Path(fit.out_dir) / "meta.json"
    return meta.is_file() and json.loads(meta.read_text()).get("iterations") == experiments.iterations(
        config, fit.experiment)


def run(args) -> int:
    try:
        config = json.loads(args.config_json)
    except json.JSONDecodeError as exc:
        raise DipError(f"--config-json is not valid JSON: {exc}") from None
    todo = [f for f in experiments.all_fits(config) if not _done(config, f)]
    if not todo:
        return 0
    device = resolve_device(config.get("device", "auto"))
    step = measure(get_preset("table1"), args.size, iterations=2, warmup=1, device=str(device))
    s_per_pixel_iter = step["s_per_iter"] / args.size**2
    total = sum(experiments.iterations(config, f.experiment) * experiments.pixels(config, f) for f in todo)
    estimate = total * s_per_pixel_iter
    line = (f"{len(todo)} fits to run on {step['device_name']}: about {human(estimate)} of fitting "
            f"(measured {step['s_per_iter']:.3f} s per iteration at {args.size}x{args.size})")
    if config.get("mode") == "paper" and device.type == "cpu":
        print(f"WARNING: paper mode without a GPU. {line}. For a smoke run of the whole workflow "
              "in minutes use --config mode=quick; for the reproduction use a GPU or a cluster "
              "(docs/cluster.md).", file=sys.stderr)
    else:
        print(f"dip estimate: {line}", file=sys.stderr)
    return 0
