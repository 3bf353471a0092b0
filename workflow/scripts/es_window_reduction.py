"""What does a smaller ES-WMV window change? The detector's full window beside reduced ones
(a strided sub-sample of the pixels, bf16 storage) watching the same fits' outputs
(docs/early-stopping.md, "Memory").

For each denoising image (σ = 25, a centre crop) and seed, one `dip fit --preset denoising`
runs in this process with a detector that feeds every training output to the full window and
to each reduced one; each keeps its own detection (the same rule and patience). Prints, per
reduced window, how often it detects the full window's iteration, the largest shift, the PSNR
change of the kept output, and the memory it takes. Each fit's result is saved as JSON under
--work, so a rerun only fits what is missing.

  python workflow/scripts/es_window_reduction.py --data ../shared/data \
      --images f16 baboon kodim01 kodim03 --seeds 0 1 --crop 64 --iterations 1600 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from dip.cli import build_parser
from dip.commands import fit as fit_command
from dip.data.images import load_image, to_array
from dip.engine.early_stop import Detection, EarlyStop, WindowVariance
from dip.engine.fit import fit
from dip.engine.state import stream_seeds
from dip.models.skip import build_net
from dip.scoring.metrics import psnr
from early_stopping_evidence import cpu_name, prepare

#: The reduced windows: name -> (stride, storage dtype).
REDUCED = {"stride 2": (2, torch.float32), "stride 4": (4, torch.float32), "bf16": (1, torch.bfloat16)}


class Watched(EarlyStop):
    """The fit's own detector (the full window), plus reduced windows that see the same
    outputs and apply the same rule on their own scores."""

    def __init__(self, window: int, patience: int, device: torch.device):
        super().__init__(window, patience, device)
        self.reduced = {name: (WindowVariance(window, stride, storage), Detection(patience, device))
                        for name, (stride, storage) in REDUCED.items()}

    def update(self, output: torch.Tensor, iteration: int) -> None:
        super().update(output, iteration)
        for variance, detection in self.reduced.values():
            if detection.final(iteration - 1):  # as the fit asks its own after each iteration
                continue
            score = variance.push(output)
            if score is not None:
                detection.update(score, iteration, output)

    def detections(self) -> dict[str, Detection]:
        return {"full": self.detection, **{name: d for name, (_, d) in self.reduced.items()}}

    def window_bytes(self) -> dict[str, int]:
        pairs = {"full": self.variance, **{name: v for name, (v, _) in self.reduced.items()}}
        return {name: v.images.numel() * v.images.element_size() for name, v in pairs.items()}


def one_fit(image: str, seed: int, inputs: Path, iterations: int, precision: str, out: Path) -> dict:
    """Fit one crop with the watched detector; the result JSON (also written to ``out``)."""
    if out.is_file():
        return json.loads(out.read_text())
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        request = fit_command.prepare(build_parser("fit").parse_args([
            "fit", "--preset", "denoising", "--image", str(inputs / "observed.png"), "--gt", str(inputs / "gt.png"),
            "--seed", str(seed), "--iterations", str(iterations), "--precision", precision,
            "--trace-every", str(iterations), "--snapshots", "", "--device", "cpu", "--out", work]))
        torch.manual_seed(stream_seeds(seed).weights)
        net = build_net(request.preset.net)
        s = request.settings
        detector = Watched(s.es_window, s.es_patience, request.net_input.device)
        fit(net, request.net_input, request.operator, request.target, work, s, gt=request.gt,
            log=lambda line: None, detector=detector)
    for _, detection in detector.reduced.values():
        detection.final(iterations)  # the check the fit makes of its own after the last iteration
    gt = load_image(inputs / "gt.png")
    result = {"image": image, "seed": seed, "iterations": iterations, "seconds": round(time.perf_counter() - t0, 1),
              "window_bytes": detector.window_bytes(), "detections": {}}
    for name, d in detector.detections().items():
        found = int(d.best_iteration)
        result["detections"][name] = {
            "iteration": found if found >= 0 else None, "final": d.is_final,
            "psnr": None if d.output is None else psnr(to_array(d.output).reshape(gt.shape), gt)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def table(results: list[dict]) -> str:
    lines = ["| window | memory (of full) | same iteration as full | largest shift (iterations) | "
             "mean PSNR change (dB) | largest PSNR change (dB) |", "|---|---:|---:|---:|---:|---:|"]
    for name in ("full", *REDUCED):
        shifts, changes = [], []
        for r in results:
            full, mine = r["detections"]["full"], r["detections"][name]
            if full["iteration"] is None or mine["iteration"] is None:
                continue
            shifts.append(abs(mine["iteration"] - full["iteration"]))
            changes.append(mine["psnr"] - full["psnr"])
        share = statistics.mean(r["window_bytes"][name] / r["window_bytes"]["full"] for r in results)
        lines.append(f"| {name} | {share:.3f} | {sum(s == 0 for s in shifts)} of {len(shifts)} | {max(shifts)} | "
                     f"{statistics.mean(changes):+.3f} | {max(changes, key=abs):+.3f} |")
    return "\n".join(lines)


def per_fit(results: list[dict]) -> str:
    names = ("full", *REDUCED)
    lines = ["| image | seed | " + " | ".join(f"{n}: iteration (dB)" for n in names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for r in results:
        cells = []
        for n in names:
            d = r["detections"][n]
            cells.append("none" if d["iteration"] is None else
                         f"{d['iteration']}{'' if d['final'] else '*'} ({d['psnr']:.2f})")
        lines.append(f"| {r['image']} | {r['seed']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n\\* not final by the last iteration"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="a folder laid out like data/raw (or the mirror)")
    p.add_argument("--images", nargs="+", default=["f16", "baboon", "kodim01", "kodim03"], help="denoising_color images")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--iterations", type=int, default=1600)
    p.add_argument("--precision", default="fast")
    p.add_argument("--jobs", type=int, default=2, help="fits at once, one thread each")
    p.add_argument("--work", type=Path, default=Path("results/es_window"))
    args = p.parse_args(argv)
    start = time.monotonic()
    inputs = {image: prepare("denoising", image, args.data, args.crop, args.work) for image in args.images}
    jobs = [(image, seed) for image in args.images for seed in args.seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_fit, image, seed, inputs[image], args.iterations, args.precision,
                               args.work / "results" / f"{image}-seed{seed}-{args.crop}-{args.iterations}.json")
                   for image, seed in jobs]
        results = [f.result() for f in futures]
    print(f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}; denoising σ = 25, {args.crop}x{args.crop} "
          f"crops, {args.iterations} iterations, precision {args.precision}, {args.jobs} single-threaded fits at "
          f"once; {time.monotonic() - start:.0f} s of wall time\n")
    print(f"{table(results)}\n\n{per_fit(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
