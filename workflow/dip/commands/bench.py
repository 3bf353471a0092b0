"""Time full training steps of a preset's network (forward, loss, backward, Adam step).

Builds the preset's net, input and forward model at N x N with random images, runs warm-up
steps, then times each of K steps with the device synchronised around it and reports the
median, GFLOP/s achieved and peak memory. --precision picks the path as a fit would; fp32
eager, today's default path, is measured in the same run and the ratio between the two is
printed. --all-paths times every path the precision rules
choose among on this hardware, in one run: the measurement behind docs/performance.md.
--early-stop times the chosen path with and without ES-WMV's detector, taking turns.
"""

from __future__ import annotations

import json

from ..engine.benchmark import measure, measure_all, measure_early_stop
from ..engine.devices import DEVICE_CHOICES
from ..engine.precision import Execution
from ..errors import DipError
from ..spec.network import min_size, size_multiple
from ..spec.presets import get_preset
from ._precision import add_precision_argument


def add_arguments(p) -> None:
    p.add_argument("--preset", required=True, help="preset name (see `dip describe`)")
    p.add_argument("--size", type=int, default=256, help="image side N (an N x N image)")
    p.add_argument("--iterations", type=int, default=5, help="timed training steps")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    add_precision_argument(p)
    p.add_argument("--all-paths", action="store_true",
                   help="time every candidate path of this hardware instead (ignores --precision)")
    p.add_argument("--early-stop", action="store_true",
                   help="time the --precision path with and without ES-WMV's detector instead")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    preset = get_preset(args.preset)
    if args.size < min_size(preset.net):
        raise DipError(f"size {args.size} is below the smallest side preset "
                       f"'{preset.name}' accepts ({min_size(preset.net)})")
    if preset.sr_factor and args.size % preset.sr_factor:
        raise DipError(f"size {args.size} is not a multiple of the SR factor {preset.sr_factor}")
    if args.size % size_multiple(preset.net):
        raise DipError(f"size {args.size} is not a multiple of {size_multiple(preset.net)}, which "
                       f"preset '{preset.name}' needs")
    if args.iterations < 1 or args.warmup < 0:
        raise DipError("need --iterations >= 1 and --warmup >= 0")
    if args.all_paths:
        return _all_paths(args, preset)
    if args.early_stop:
        return _early_stop(args, preset)
    r = measure(preset, args.size, args.iterations, args.warmup, args.device, args.precision,
                args.seed)
    if args.json:
        print(json.dumps(r))
        return 0
    path = _path_name(r)
    base = r["fp32_eager"]
    print(f"{preset.name} {args.size}x{args.size} on {r['device_name']} ({r['device']}), "
          f"{r['precision']} ({path}): {r['s_per_iter']:.4f} s/it, {r['it_per_s']:.2f} it/s, "
          f"{r['gflop_per_s']:.1f} GFLOP/s, peak {r['peak_mem_mb']:.0f} MB ({r['mem_kind']}); "
          f"fp32 eager {base['s_per_iter']:.4f} s/it, peak {base['peak_mem_mb']:.0f} MB: "
          f"{r['ratio_to_fp32_eager']:.2f}x")
    return 0


def _path_name(r: dict) -> str:
    return Execution.from_dict(r).name


def _early_stop(args, preset) -> int:
    r = measure_early_stop(preset, args.size, args.iterations, args.warmup, args.device, args.precision,
                           args.seed)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"{preset.name} {args.size}x{args.size} on {r['device_name']} ({r['device']}), {r['path']}, "
          f"{args.iterations} steps each, taking turns: {r['s_per_iter_without']:.4f} s/it without "
          f"ES-WMV's detector, {r['s_per_iter_with']:.4f} with: {100 * r['overhead']:+.1f} %")
    return 0


def _all_paths(args, preset) -> int:
    doc = measure_all(preset, args.size, args.iterations, args.warmup, args.device, args.seed)
    if args.json:
        print(json.dumps(doc))
        return 0
    print(f"{preset.name} {args.size}x{args.size} on {doc['device_name']} ({doc['device']}), "
          f"{doc['threads']} threads, {args.iterations} steps each, taking turns:")
    for r in doc["paths"]:
        print(f"  {_path_name(r):44} {r['s_per_iter']:8.4f} s/it {r['gflop_per_s']:7.1f} GFLOP/s "
              f"{r['ratio_to_fp32_eager']:5.2f}x  peak {r['peak_mem_mb']:6.0f} MB  "
              f"warm-up {r['warmup_s']:.1f} s")
    return 0
