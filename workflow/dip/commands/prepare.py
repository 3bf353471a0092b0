"""Make one fit's inputs (gt.png, mask.png, observed.png, prep.json) from raw files.

The task (dip.spec.tasks) says how: a mask, noise or a downscale applied to the ground truth,
or the registry's files taken as given (a flash / no-flash pair: observed.png is the no-flash
photo, input.png the flash photo, the network's input; there is no gt.png and nothing is
scored), or a Figure-2 target made from the image (observed.png is what the network fits:
the image, the image plus noise, its pixels permuted or white noise; nothing is scored).

The ground truth goes through one crop/pad policy; a published masked input or mask file goes
through the same window, so the mask stays aligned. Drawn masks (Bernoulli, text) and noise
are drawn at the prepared size from --seed. prep.json records the geometry (`box`: where the
source pixels sit in the prepared image, for metrics on the original extent), the mask's known
fraction, the pixels whose mask could not be recovered, and the sources' sha256. The folder is
written under a temporary name and renamed at the end.
"""

import json
from pathlib import Path

import numpy as np

from ..data.images import parse_size, plan_geometry, read_image, save_image, to_uint8
from ..errors import DipError
from ..files.atomic import atomic_dir
from ..files.hashes import sha256_file as _sha256
from ..physics import degrade
from ..physics import masks
from ..spec.tasks import TARGETS, TASKS, Task, get_task


def add_arguments(p):
    p.add_argument("--task", required=True, choices=TASKS, help="the task (dip.spec.tasks): it says "
                   "how the observation is made and which of the options below it takes")
    p.add_argument("--gt", type=Path, help="raw ground-truth image (tasks that degrade it)")
    p.add_argument("--file", action="append", default=[], metavar="ROLE=PATH",
                   help="a task that takes its files as given: each of its registry roles "
                        "(flash: noflash, flash), cut alike; nothing is scored")
    mask = p.add_mutually_exclusive_group()
    mask.add_argument("--masked", type=Path, help="published masked input (missing pixels 0): "
                      "the mask is recovered from it")
    mask.add_argument("--mask", type=Path, help="published mask file (255 = known)")
    mask.add_argument("--mask-bernoulli", type=float, metavar="MISSING",
                      help="draw a Bernoulli mask with this fraction of pixels missing")
    mask.add_argument("--text-mask", type=float, metavar="HOLES", nargs="?", const=0.05,
                      help="render sentence fragments covering this fraction (default 0.05)")
    p.add_argument("--noise-sigma", type=float, metavar="SIGMA",
                   help="noise: Gaussian noise, sigma on the 0..255 scale")
    p.add_argument("--target", choices=TARGETS, help="target: what the network fits, made from "
                   "--gt (noisy takes --noise-sigma; noisy, shuffled and uniform draw from --seed)")
    p.add_argument("--sr-factor", type=int, metavar="F",
                   help="downscale: Lanczos downscale by F (the ground truth cropped to a multiple of F)")
    p.add_argument("--seed", type=int, required=True, help="seed of drawn masks and noise")
    geo = p.add_mutually_exclusive_group()
    geo.add_argument("--crop", type=int, metavar="N", help="centre crop to N x N (quick runs)")
    geo.add_argument("--crop-multiple", type=int, metavar="M",
                     help="centre crop to the largest multiple of M")
    geo.add_argument("--pad-to", metavar="H[xW]", help="reflection pad to H x W (Table 1 Barbara: 514)")
    p.add_argument("--out", required=True, type=Path, help="output folder")


#: The options of each observation; a task must be given its own and no other (the noisy
#: target also takes --noise-sigma).
_OPTIONS = {"mask": ("masked", "mask", "mask_bernoulli", "text_mask"), "noise": ("noise_sigma",),
            "downscale": ("sr_factor",), "given": ("file",), "target": ("target",)}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check(args, task: Task) -> None:
    """The task's own options are there, no other observation's; DipError naming them."""
    def given(name):
        value = getattr(args, name)
        return bool(value) if name == "file" else value is not None

    own = _OPTIONS[task.observation]
    if not any(given(name) for name in own):
        raise DipError(f"task {task.name} takes {' or '.join(map(_flag, own))}")
    allowed = set(own) | ({"noise_sigma"} if args.target == "noisy" else set())
    foreign = [_flag(n) for names in _OPTIONS.values() for n in names if n not in allowed and given(n)]
    if foreign:
        raise DipError(f"task {task.name} takes no {', '.join(foreign)}")
    if args.target == "noisy" and args.noise_sigma is None:
        raise DipError("target noisy takes --noise-sigma")
    if (args.gt is None) == (task.observation != "given"):
        raise DipError(f"task {task.name} takes --gt" if task.observation != "given"
                       else f"task {task.name} has no ground truth: drop --gt")


def _given_files(args, task: Task) -> dict[str, Path]:
    """--file ROLE=PATH as {role: path}, exactly the task's roles."""
    files = {}
    for item in args.file:
        role, sep, path = item.partition("=")
        if not sep or not path:
            raise DipError(f"--file takes ROLE=PATH, got {item!r}")
        files[role] = Path(path)
    wanted = [role for role, _ in task.given]
    if sorted(files) != sorted(wanted):
        raise DipError(f"task {task.name} takes --file for {', '.join(wanted)}; got {', '.join(files) or 'none'}")
    return {role: files[role] for role in wanted}


def _inpainting(args, gt: np.ndarray, geo, seed: int, sources: dict) -> tuple[np.ndarray, dict]:
    """The mask at the prepared size and what prep.json says of it."""
    if args.masked is not None:
        masked, _ = read_image(args.masked)
        mask, ambiguous = masks.derive_mask(to_uint8(gt), to_uint8(masked))
        sources["masked"] = {"path": str(args.masked), "sha256": _sha256(args.masked)}
        return geo.apply(mask), {"kind": "authors",
                                 "ambiguous_zero_pixels": int(geo.apply(ambiguous).sum()),
                                 "ambiguous_zero_pixels_source": int(ambiguous.sum()),
                                 "ambiguous_rule": "ground truth 0: marked missing"}
    if args.mask is not None:
        mask = masks.load_mask(args.mask, gt.shape[:2])
        sources["mask"] = {"path": str(args.mask), "sha256": _sha256(args.mask)}
        return geo.apply(mask), {"kind": "published"}
    if args.mask_bernoulli is not None:
        return masks.bernoulli_mask(geo.size, args.mask_bernoulli, seed), {
            "kind": "bernoulli", "missing": args.mask_bernoulli, "seed": seed}
    return masks.text_mask(geo.size, args.text_mask, seed), {
        "kind": "text", "holes": args.text_mask, "seed": seed}


def _target(args, image: np.ndarray) -> np.ndarray:
    """What a Figure-2 fit matches, made from the prepared image."""
    if args.target == "noisy":
        return degrade.add_noise(image, args.noise_sigma, args.seed)
    if args.target == "shuffled":
        return degrade.shuffle_pixels(image, args.seed)
    if args.target == "uniform":
        return degrade.uniform_noise(image.shape, args.seed)
    return image


def _given(args, task: Task, geo, sources: dict) -> dict[str, np.ndarray]:
    """The task's files as given, cut alike: {prepared file name: image}."""
    out, shape = {}, None
    for role, name in task.given:
        path = _given_files(args, task)[role]
        img, mode = read_image(path)
        if shape is not None and img.shape != shape:
            raise DipError(f"{path} ({role}) is {img.shape}, the task's first file is {shape}: they must match")
        shape = img.shape
        sources[role] = {"path": str(path), "sha256": _sha256(path), "mode": mode}
        out[name] = geo.apply(img)
    return out


def prepare(args) -> dict:
    """Write the inputs into args.out (through a temporary folder); return prep.json's content."""
    task = get_task(args.task)
    _check(args, task)
    base = args.gt if args.gt is not None else _given_files(args, task)[task.given[0][0]]
    raw, mode = read_image(base)
    geo = plan_geometry(raw.shape[:2], crop=args.crop, multiple=args.crop_multiple,
                        pad_to=parse_size(args.pad_to))
    info = {"seed": args.seed, "channels": 1 if raw.ndim == 2 else raw.shape[2], "task": task.name,
            "ground_truth": task.ground_truth}
    sources = {} if args.gt is None else {"gt": {"path": str(base), "sha256": _sha256(base), "mode": mode}}
    files, mask = {}, None
    if task.observation == "given":
        files = _given(args, task, geo, sources)
    elif task.observation == "noise":
        files["gt"] = geo.apply(raw)
        files["observed"] = degrade.add_noise(files["gt"], args.noise_sigma, args.seed)
        info.update(noise_sigma=args.noise_sigma)
    elif task.observation == "target":
        files["observed"] = _target(args, geo.apply(raw))
        info.update(target=args.target, **({"noise_sigma": args.noise_sigma} if args.target == "noisy" else {}))
    elif task.observation == "downscale":
        geo = geo.modcrop(args.sr_factor)
        files["gt"] = geo.apply(raw)
        files["observed"] = degrade.downscale(files["gt"], args.sr_factor)
        info.update(sr_factor=args.sr_factor, downscale="PIL Lanczos on 8-bit")
    else:
        files["gt"] = gt = geo.apply(raw)
        mask, mask_info = _inpainting(args, raw, geo, args.seed, sources)
        files["observed"] = gt * (mask if gt.ndim == 2 else mask[..., None])
        mask_info["known_fraction"] = float(mask.mean())
        info.update(mask=mask_info)
    prep = {**geo.to_json(), **info, "sources": sources}

    with atomic_dir(args.out) as tmp:
        for name, img in files.items():
            save_image(tmp / f"{name}.png", img)
        if mask is not None:
            masks.save_mask(tmp / "mask.png", mask)
        (tmp / "prep.json").write_text(json.dumps(prep, indent=2) + "\n")
    return prep


def run(args) -> int:
    prep = prepare(args)
    mask = prep.get("mask", {})
    extra = f", known {mask['known_fraction']:.4f}" if mask else ""
    print(f"{args.out}: {prep['task']}, {prep['size'][1]}x{prep['size'][0]}{extra}")
    return 0
