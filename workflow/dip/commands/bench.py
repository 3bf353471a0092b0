"""Time full training steps of a preset's network (forward, loss, backward, Adam step).

Builds the preset's net, input and forward model at N x N with random images, runs warm-up
steps, then times each of K steps with the device synchronised around it and reports the
median, peak memory and the FLOPs of one step. Fast paths (bf16 autocast, channels-last,
torch.compile) are opt-in; the default is plain fp32.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ..devices import DEVICE_CHOICES, device_name, resolve_device, synchronize
from ..errors import DipError
from ..nets import build_net, count_params, make_input, min_size
from ..operators import build_operator
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


def run(args) -> int:
    preset = get_preset(args.preset)
    if args.size < min_size(preset.net):
        raise DipError(f"size {args.size} is below the smallest side preset "
                       f"'{preset.name}' accepts ({min_size(preset.net)})")
    if preset.sr_factor and args.size % preset.sr_factor:
        raise DipError(f"size {args.size} is not a multiple of the SR factor {preset.sr_factor}")
    if args.iterations < 1 or args.warmup < 0:
        raise DipError("need --iterations >= 1 and --warmup >= 0")
    device = resolve_device(args.device)
    if args.amp and device.type == "mps":
        raise DipError("--amp bf16 is supported on cuda and cpu only")

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    net = build_net(preset.net).to(device)
    z, op, target = _problem(preset, args.size, device, gen)
    if args.channels_last:
        net = net.to(memory_format=torch.channels_last)
        z = z.contiguous(memory_format=torch.channels_last)
    model = torch.compile(net) if args.compile else net
    opt = torch.optim.Adam(net.parameters(), lr=preset.lr)
    noise = torch.empty_like(z)

    def step(module) -> None:
        inp = z + noise.normal_(std=preset.reg_noise_std) if preset.reg_noise_std else z
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.amp == "bf16"):
            out = module(inp)
        loss = F.mse_loss(op(out.float()), target)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(args.warmup):
        step(model)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(args.iterations):
        synchronize(device)
        t0 = time.perf_counter()
        step(model)
        synchronize(device)
        times.append(time.perf_counter() - t0)
    peak_mb, mem_kind = _peak_memory_mb(device)

    counter = FlopCounterMode(display=False)
    with counter:
        step(net)  # the eager module: the counter sees the same convolutions either way
    s_per_iter = statistics.median(times)

    result = {
        "preset": preset.name, "size": args.size, "params": count_params(net),
        "s_per_iter": s_per_iter, "it_per_s": 1.0 / s_per_iter,
        "s_per_iter_all": times,
        "peak_mem_mb": peak_mb, "mem_kind": mem_kind,
        "gflop_per_iter": counter.get_total_flops() / 1e9,
        "device": str(device), "device_name": device_name(device),
        "torch_version": torch.__version__, "threads": torch.get_num_threads(),
        "iterations": args.iterations, "warmup": args.warmup, "amp": args.amp,
        "channels_last": args.channels_last, "compile": args.compile,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{preset.name} {args.size}x{args.size} on {result['device_name']} ({device}): "
              f"{s_per_iter:.4f} s/it, {result['it_per_s']:.2f} it/s, "
              f"{result['gflop_per_iter']:.1f} GFLOP/it, peak {peak_mb:.0f} MB ({mem_kind})")
    return 0
