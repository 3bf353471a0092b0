"""Score one fit (the paper's output, the noise-free output, the average) against its ground
truth on the original extent.

Reads output.npy, output_clean.npy, ema.npy and meta.json from --fit, crops output and ground truth to the box
in --prep (prep.json of the fit's inputs; whole image without it) and writes metrics.json
(format in docs/ARCHITECTURE.md): float and 8-bit PSNR/SSIM, plus iterations, wall_s,
it_per_s, device_name, params, backtracks, backtrack and final_input from meta.json.
"""

import json

from ..files.atomic import write_text
from ..scoring.evaluate import evaluate_fit


def add_arguments(p):
    p.add_argument("--fit", required=True, help="results/{experiment}/{image}/seed{seed}/")
    p.add_argument("--gt", required=True, help="ground truth PNG at the prepared size (gt.png)")
    p.add_argument("--prep", help="prep.json with the original box [top, left, H, W]")
    p.add_argument("--experiment", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--seed", required=True, type=int)
    p.add_argument("--out", required=True, help="metrics.json to write")


def run(args) -> int:
    record = evaluate_fit(args.fit, args.gt, args.prep, args.experiment, args.image, args.seed)
    write_text(args.out, json.dumps(record, indent=2) + "\n")
    return 0
