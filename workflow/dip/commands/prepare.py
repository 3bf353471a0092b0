"""Make one fit's inputs (gt.png, mask.png, observed.png, prep.json) from raw files.

A flash / no-flash pair has no ground truth: observed.png is the no-flash photo, input.png the
flash photo (the network's input), and there is no gt.png.

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

from ..physics import degrade
from ..physics import masks
from ..files.atomic import atomic_dir
from ..errors import DipError
from ..files.hashes import sha256_file as _sha256
from ..data.images import parse_size, plan_geometry, read_image, save_image, to_uint8


def add_arguments(p):
    base = p.add_mutually_exclusive_group(required=True)
    base.add_argument("--gt", type=Path, help="raw ground-truth image")
    base.add_argument("--noflash", type=Path, help="flash / no-flash: the no-flash photo to fit "
                      "(there is no ground truth: nothing is scored)")
    task = p.add_mutually_exclusive_group(required=True)
    task.add_argument("--masked", type=Path, help="published masked input (missing pixels 0): "
                      "the mask is recovered from it")
    task.add_argument("--mask", type=Path, help="published mask file (255 = known)")
    task.add_argument("--mask-bernoulli", type=float, metavar="MISSING",
                      help="draw a Bernoulli mask with this fraction of pixels missing")
    task.add_argument("--text-mask", type=float, metavar="HOLES", nargs="?", const=0.05,
                      help="render sentence fragments covering this fraction (default 0.05)")
    task.add_argument("--noise-sigma", type=float, metavar="SIGMA",
                      help="denoising: Gaussian noise, sigma on the 0..255 scale")
    task.add_argument("--sr-factor", type=int, metavar="F",
                      help="super-resolution: Lanczos downscale by F (HR cropped to a multiple of F)")
    task.add_argument("--flash", type=Path, help="flash / no-flash: the flash photo, the network's "
                      "input (input.png), cut like --noflash")
    p.add_argument("--seed", type=int, required=True, help="seed of drawn masks and noise")
    geo = p.add_mutually_exclusive_group()
    geo.add_argument("--crop", type=int, metavar="N", help="centre crop to N x N (quick runs)")
    geo.add_argument("--crop-multiple", type=int, metavar="M",
                     help="centre crop to the largest multiple of M")
    geo.add_argument("--pad-to", metavar="H[xW]", help="reflection pad to H x W (Table 1 Barbara: 514)")
    p.add_argument("--out", required=True, type=Path, help="output folder")


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


def _flash_pair(args, geo) -> tuple[np.ndarray, np.ndarray, dict]:
    """The no-flash photo (observed) and the flash photo (the input), cut alike."""
    if args.noflash is None or args.flash is None:
        raise DipError("flash / no-flash takes --noflash and --flash (and no --gt)")
    noflash, _ = read_image(args.noflash)
    flash, mode = read_image(args.flash)
    if flash.shape != noflash.shape:
        raise DipError(f"the flash photo {args.flash} is {flash.shape}, the no-flash one "
                       f"{args.noflash} is {noflash.shape}: they must match")
    return geo.apply(noflash), geo.apply(flash), {"path": str(args.flash), "sha256": _sha256(args.flash),
                                                  "mode": mode}


def prepare(args) -> dict:
    """Write the inputs into args.out (through a temporary folder); return prep.json's content."""
    base = args.gt if args.gt is not None else args.noflash
    gt_raw, mode = read_image(base)
    sources = {"gt" if args.gt is not None else "noflash": {"path": str(base), "sha256": _sha256(base), "mode": mode}}
    geo = plan_geometry(gt_raw.shape[:2], crop=args.crop, multiple=args.crop_multiple,
                        pad_to=parse_size(args.pad_to))
    info = {"seed": args.seed, "channels": 1 if gt_raw.ndim == 2 else gt_raw.shape[2]}
    mask = gt = net_input = None
    if args.flash is not None or args.noflash is not None:
        observed, net_input, sources["flash"] = _flash_pair(args, geo)
        info.update(task="flash", ground_truth=False)
    elif args.noise_sigma is not None:
        gt = geo.apply(gt_raw)
        observed = degrade.add_noise(gt, args.noise_sigma, args.seed)
        info.update(task="denoising", noise_sigma=args.noise_sigma)
    elif args.sr_factor is not None:
        geo = geo.modcrop(args.sr_factor)
        gt = geo.apply(gt_raw)
        observed = degrade.downscale(gt, args.sr_factor)
        info.update(task="sr", sr_factor=args.sr_factor, downscale="PIL Lanczos on 8-bit")
    else:
        gt = geo.apply(gt_raw)
        mask, mask_info = _inpainting(args, gt_raw, geo, args.seed, sources)
        observed = gt * (mask if gt.ndim == 2 else mask[..., None])
        mask_info["known_fraction"] = float(mask.mean())
        info.update(task="inpainting", mask=mask_info)
    prep = {**geo.to_json(), **info, "sources": sources}

    with atomic_dir(args.out) as tmp:
        if gt is not None:
            save_image(tmp / "gt.png", gt)
        if net_input is not None:
            save_image(tmp / "input.png", net_input)
        save_image(tmp / "observed.png", observed)
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
