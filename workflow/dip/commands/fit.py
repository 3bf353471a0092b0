"""Fit one image with Deep Image Prior (a preset's network, input and optimisation).

Writes output.png/.npy (the paper's final image), output_clean.png/.npy (the output without
input noise), ema.png/.npy (the output average), trace.csv, snapshots/, meta.json and checkpoint.pt into
--out. Everything is checked before anything is written; the run happens in a hidden sibling
directory (.NAME.tmp-*) that is renamed to --out when it finishes, so a failed run never
leaves a half-written --out. A failed run that got as far as a checkpoint keeps its hidden
directory; --resume continues from --out/checkpoint.pt or from that directory (and starts
afresh when there is neither). A checkpoint made with other settings is refused; with
`--resume auto` (what the workflow passes) it is passed over and moved aside
(.NAME.passed-over-*) instead, so a rerun after a killed job continues where it can and starts
afresh where it cannot, and no checkpoint is ever deleted.

A checkpoint is written every --checkpoint-every iterations or --checkpoint-minutes of wall
time, whichever comes first. SIGTERM, SIGINT or SIGUSR1 make the fit finish its iteration,
write a checkpoint and exit with code 75; rerunning the same command with --resume continues
it. Two fits on the same --out are refused: the second exits with code 2 at once.

On a machine with several GPUs (or DIP_FITS_PER_GPU above 1) a CUDA fit first takes a free
GPU slot and waits while all are taken (dip.engine.gpu_slots), so fits started side by side spread
over the GPUs. --precision picks the numeric path (docs/performance.md); meta.json records it.

One --seed sets the weights, the input z, the input-noise draws and a --mask-bernoulli mask
(the same draw as `dip prepare --mask-bernoulli`); on the CPU the same seed gives a
bit-identical output.

Every setting of the preset can be overridden by a flag (optimisation, input, network). A
new --scales resizes the preset's per-scale lists (a single width repeats). The network's
output channels follow the image's (grey or colour), whatever the preset was written for.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..data.images import load_image, to_tensor
from ..engine.devices import DEVICE_CHOICES, resolve_device
from ..engine.fit import FitSettings
from ..engine.gpu_slots import gpu_for_fit
from ..engine.precision import capabilities, choose
from ..engine.run_dir import FitRequest, execute
from ..engine.state import stream_seeds
from ..errors import DipError
from ..files.hashes import sha256_file
from ..models.skip import make_input
from ..physics import masks
from ..physics.operators import build_operator, target_of
from ..pipeline import settings
from ..spec import overrides
from ..spec.network import size_problem
from ..spec.presets import Preset, get_preset
from ..spec.tasks import get_task
from ._precision import add_precision_argument

def add_arguments(p) -> None:
    p.add_argument("--preset", required=True, help="preset name (see `dip describe`)")
    p.add_argument("--image", required=True,
                   help="the observed image: masked or clean (inpainting), noisy (denoising), "
                        "low-resolution (sr), no-flash photo (flash)")
    p.add_argument("--mask", help="inpainting mask of the image's size: 255 = known, 0 = missing")
    p.add_argument("--mask-bernoulli", type=float, metavar="P",
                   help="inpainting with a random mask in which a fraction P of the pixels is "
                        "MISSING (0.5 = the paper's '50%% of pixels missing'), drawn from "
                        "--seed; saved as mask.png")
    p.add_argument("--gt", help="ground truth, the size of the output; feeds the trace's PSNR")
    p.add_argument("--input-image",
                   help="the network input for presets whose input is an image (flash photo)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)}; "
                   "auto = cuda, else mps, else cpu")
    p.add_argument("--resume", nargs="?", const="strict", choices=("strict", "auto"),
                   help="continue from a checkpoint if any; a checkpoint made with other "
                        "settings is an error, or with 'auto' is passed over (start afresh)")
    group = p.add_argument_group("settings (each defaults to the preset's)")
    for setting in overrides.SETTINGS:
        if setting.key != "precision":
            overrides.add_argument(group, setting)
    add_precision_argument(group)
    p.add_argument("--trace-every", type=int, default=50, metavar="K")
    p.add_argument("--checkpoint-every", type=int, default=500, metavar="M",
                   help="checkpoint every M iterations (default 500) ...")
    p.add_argument("--checkpoint-minutes", type=float, default=10.0, metavar="T",
                   help="... or after T minutes of wall time, whichever comes first (default 10)")
    p.add_argument("--snapshots", help="comma-separated iterations (default: the preset's)")
    p.add_argument("--fail-at-iteration", type=int, metavar="N",
                   help="stop with an error (exit code 1) after iteration N, for testing")
    p.add_argument("--out", required=True, help="the fit's directory")


def _sha256(path: str | None) -> str | None:
    return None if path is None else sha256_file(path)


def effective_preset(preset: Preset, values: dict, channels: int) -> Preset:
    """The preset with the command line's overrides applied; the network's output follows the
    image's channels (grey or colour)."""
    net = settings.network(preset, values, out_channels=channels)
    return dataclasses.replace(preset, net=net, input=values.get("input", preset.input),
                               input_depth=net.in_channels,
                               reg_noise_std=values.get("reg_noise_std", preset.reg_noise_std))


def _check_options(args, preset: Preset) -> None:
    if args.trace_every < 1 or args.checkpoint_every < 1:
        raise DipError("--trace-every and --checkpoint-every must be at least 1")
    if not args.checkpoint_minutes > 0:
        raise DipError(f"--checkpoint-minutes must be positive, got {args.checkpoint_minutes}")
    if args.fail_at_iteration is not None and args.fail_at_iteration < 1:
        raise DipError(f"--fail-at-iteration must be at least 1, got {args.fail_at_iteration}")
    if args.mask is not None and args.mask_bernoulli is not None:
        raise DipError("give either --mask or --mask-bernoulli, not both")
    has_mask = args.mask is not None or args.mask_bernoulli is not None
    if get_task(preset.task).masked and not has_mask:
        raise DipError(f"preset '{preset.name}' inpaints: give --mask or --mask-bernoulli")
    if not get_task(preset.task).masked and has_mask:
        raise DipError(f"preset '{preset.name}' is {preset.task}, not inpainting: it takes no mask")
    if args.mask_bernoulli is not None and not 0 <= args.mask_bernoulli < 1:
        raise DipError(f"--mask-bernoulli is the fraction of missing pixels, in [0, 1); "
                       f"got {args.mask_bernoulli}")
    if (preset.input == "image") != (args.input_image is not None):
        raise DipError(f"preset '{preset.name}' takes --input-image" if preset.input == "image"
                       else f"preset '{preset.name}' draws its own input: drop --input-image")


def _parse_snapshots(text: str | None, preset: Preset) -> tuple[int, ...]:
    if text is None:
        return preset.snapshots
    try:
        its = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise DipError(f"--snapshots must be comma-separated iterations, got {text!r}") from None
    if any(i < 1 for i in its):
        raise DipError(f"--snapshots must be positive iterations, got {text!r}")
    return its


def _load_sized(path: str, what: str, shape: tuple[int, ...]) -> np.ndarray:
    img = load_image(path)
    if img.shape != shape:
        raise DipError(f"{what} {path} has shape {img.shape}, expected {shape}")
    return img


def prepare(args) -> FitRequest:
    """Check every input and build the fit; reads files, writes nothing."""
    preset = get_preset(args.preset)
    values = overrides.from_args(args)
    _check_options(args, preset)
    snapshots = _parse_snapshots(args.snapshots, preset)
    device = resolve_device(args.device)

    image = load_image(args.image)
    channels = 1 if image.ndim == 2 else image.shape[2]
    preset = effective_preset(preset, values, channels)
    task = get_task(preset.task)
    factor = preset.sr_factor if task.operator == "downsample" else 1
    height, width = image.shape[0] * factor, image.shape[1] * factor
    out_shape = (height, width) + image.shape[2:]
    problem = size_problem(preset.net, height, width)
    if problem:
        raise DipError(f"output {problem} of preset '{preset.name}'")
    gt = None if args.gt is None else _load_sized(args.gt, "ground truth", out_shape)
    seeds = stream_seeds(args.seed)
    mask, drawn_mask = None, None
    if args.mask is not None:
        mask = masks.load_mask(args.mask, image.shape[:2]).astype(np.float32)
    elif args.mask_bernoulli is not None:
        drawn = masks.bernoulli_mask(image.shape[:2], args.mask_bernoulli, args.seed)
        mask = drawn_mask = drawn.astype(np.float32)
    input_image = None
    if args.input_image is not None:
        in_shape = (height, width) + ((preset.input_depth,) if preset.input_depth > 1 else ())
        input_image = to_tensor(_load_sized(args.input_image, "input image", in_shape))

    fit_settings = FitSettings(
        **settings.loop_values(preset, values), final_input=preset.final_input,
        trace_every=args.trace_every, checkpoint_every=args.checkpoint_every,
        checkpoint_minutes=args.checkpoint_minutes, snapshots=snapshots, seed=args.seed,
        fail_at_iteration=args.fail_at_iteration)
    fit_settings.execution = choose(args.precision, capabilities(device))
    legacy = bool(values.get("legacy", False))
    config = {
        "preset": asdict(preset), **asdict(fit_settings), "precision": args.precision,
        "device": args.device,
        "device_type": device.type, "legacy": legacy,
        "image": args.image, "image_sha256": _sha256(args.image),
        "mask": args.mask, "mask_sha256": _sha256(args.mask), "mask_bernoulli": args.mask_bernoulli,
        "gt": args.gt, "gt_sha256": _sha256(args.gt),
        "input_image": args.input_image, "input_image_sha256": _sha256(args.input_image),
    }
    config = json.loads(json.dumps(config))  # plain JSON values, as meta.json will hold them

    image_t = to_tensor(image)
    mask_t = None if mask is None else torch.from_numpy(mask)[None, None]
    operator = build_operator(task.operator, mask=mask_t, factor=preset.sr_factor, channels=channels)
    target = target_of(operator, image_t)
    net_input = make_input(preset.input, preset.input_depth, (height, width),
                           torch.Generator().manual_seed(seeds.input), image=input_image)
    return FitRequest(preset, fit_settings, device, legacy, net_input.to(device), operator,
               target.to(device), gt, drawn_mask, config)


def run(args) -> int:
    with gpu_for_fit(resolve_device(args.device)):
        return execute(prepare(args), Path(args.out), args.resume)
