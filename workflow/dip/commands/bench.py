"""Time full training steps of a preset's network (forward, loss, backward, Adam step).

Builds the preset's net, input and forward model at N x N with random images, runs warm-up
steps, then times each of K steps with the device synchronised around it and reports the
median, peak memory and the FLOPs of one step. Fast paths (bf16 autocast, channels-last,
torch.compile) are opt-in; the default is plain fp32.
"""

from __future__ import annotations

import json

from ..benchmark import measure
from ..devices import DEVICE_CHOICES
from ..errors import DipError
from ..netspec import min_size
from ..presets import get_preset


def add_arguments(p) -> None:
    p.add_argument("--preset", required=True, help="preset name (see `dip describe`)")
    p.add_argument("--size", type=int, default=256, help="image side N (an N x N image)")
    p.add_argument("--iterations", type=int, default=5, help="timed training steps")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--amp", choices=["bf16"], default=None, help="autocast the forward pass")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    p.add_argument("--compile", action="store_true", help="torch.compile the network")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    preset = get_preset(args.preset)
    if args.size < min_size(preset.net):
        raise DipError(f"size {args.size} is below the smallest side preset "
                       f"'{preset.name}' accepts ({min_size(preset.net)})")
    if preset.sr_factor and args.size % preset.sr_factor:
        raise DipError(f"size {args.size} is not a multiple of the SR factor {preset.sr_factor}")
    if args.iterations < 1 or args.warmup < 0:
        raise DipError("need --iterations >= 1 and --warmup >= 0")
    result = measure(preset, args.size, args.iterations, args.warmup, args.device, args.amp,
                     args.channels_last, args.compile, args.seed)
    s_per_iter, peak_mb, mem_kind = result["s_per_iter"], result["peak_mem_mb"], result["mem_kind"]
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{preset.name} {args.size}x{args.size} on {result['device_name']} ({result['device']}): "
              f"{s_per_iter:.4f} s/it, {result['it_per_s']:.2f} it/s, "
              f"{result['gflop_per_iter']:.1f} GFLOP/it, peak {peak_mb:.0f} MB ({mem_kind})")
    return 0
