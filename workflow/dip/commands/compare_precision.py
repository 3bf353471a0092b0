"""Fit the same images with the same seeds and iterations in faithful and in fast mode, and
compare the final PSNR against the ground truth.

Each INPUT is a folder made by `dip prepare` (gt.png, observed.png and, for inpainting,
mask.png). Every (input, seed) is fitted twice with `dip fit`, once per precision, into
--out/NAME/seedS/PRECISION; the table gives both final PSNRs (the paper's output), their
difference (fast - faithful) and the mean of the paired differences. The paths each mode took
on this machine are printed too: where fast takes faithful's path, the two fits are the same
computation.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np

from ..data.images import load_image
from ..engine.precision import PRECISIONS
from ..errors import DipError
from ..scoring.metrics import psnr
from ..spec.presets import get_preset
from ._dip import dip


def add_arguments(p) -> None:
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="`dip prepare` folders")
    p.add_argument("--preset", required=True, help="preset name (see `dip describe`)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--iterations", type=int, required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, type=Path, help="folder for the fits")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _fit(inputs: Path, preset: str, seed: int, iterations: int, device: str, precision: str,
         out: Path) -> dict:
    """One `dip fit`, as the workflow runs it; returns its meta.json."""
    args = ["fit", "--preset", preset, "--image", str(inputs / "observed.png"),
            "--gt", str(inputs / "gt.png"), "--seed", str(seed), "--iterations", str(iterations),
            "--device", device, "--precision", precision, "--resume", "auto", "--out", str(out)]
    if (inputs / "mask.png").is_file():
        args += ["--mask", str(inputs / "mask.png")]
    if dip(args) != 0:
        raise DipError(f"the fit in {out} failed")
    return json.loads((out / "meta.json").read_text())


def run(args) -> int:
    get_preset(args.preset)
    if args.iterations < 1:
        raise DipError(f"--iterations must be a positive number, got {args.iterations}")
    for inputs in args.inputs:
        if not (inputs / "gt.png").is_file() or not (inputs / "observed.png").is_file():
            raise DipError(f"{inputs} is not a `dip prepare` folder (gt.png, observed.png)")
    rows, paths = [], {}
    for inputs in args.inputs:
        gt = load_image(inputs / "gt.png")
        for seed in args.seeds:
            row = {"input": inputs.name, "seed": seed}
            for precision in PRECISIONS:
                out = args.out / inputs.name / f"seed{seed}" / precision
                meta = _fit(inputs, args.preset, seed, args.iterations, args.device, precision, out)
                row[precision] = psnr(np.load(out / "output.npy"), gt)
                row[f"{precision}_s"] = meta["wall_s"]
                paths[precision] = meta["execution"]
            row["difference"] = row["fast"] - row["faithful"]
            rows.append(row)
    mean = statistics.fmean(r["difference"] for r in rows)
    doc = {"preset": args.preset, "iterations": args.iterations, "seeds": args.seeds,
           "paths": paths, "same_path": _same(paths), "rows": rows, "mean_difference_db": mean}
    if args.json:
        print(json.dumps(doc))
        return 0
    for precision, ex in paths.items():
        taken = ", ".join(k for k in ("bf16", "channels_last", "compile") if ex[k]) or "fp32 eager"
        print(f"{precision}: {taken} ({ex['hardware_class']})")
    if doc["same_path"]:
        print("fast takes faithful's path on this machine: the pairs are the same computation")
    print(f"{'input':20} {'seed':>4} {'faithful':>9} {'fast':>9} {'fast-faith':>10}")
    for r in rows:
        print(f"{r['input']:20} {r['seed']:4d} {r['faithful']:9.2f} {r['fast']:9.2f} "
              f"{r['difference']:+10.3f}")
    print(f"mean paired difference (fast - faithful): {mean:+.3f} dB over {len(rows)} pairs")
    return 0


def _same(paths: dict) -> bool:
    keys = ("bf16", "channels_last", "compile", "tf32")
    return all(paths["fast"][k] == paths["faithful"][k] for k in keys)
