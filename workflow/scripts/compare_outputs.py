"""How much each output choice is worth: the paper's final image, the noise-free output and the
output average, side by side on Table-1 images (the evidence table of docs/fidelity.md).

For each image and seed it prepares a centre crop with the authors' mask (`dip prepare`) and
fits the Table-1 preset (`dip fit`) in stages: every (image, seed) first to the first
iteration count, then each continues from its checkpoint to the next, so the short table is
complete early. The trace holds the three PSNRs at every stage. Prints a Markdown table
(mean ± sample std over seeds per image, and the gains over the paper's output).

  python workflow/scripts/compare_outputs.py --data data/raw --images house peppers barbara \
      --seeds 0 1 2 --iterations 400 2000 --crop 128 --work results/compare_outputs
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

COLUMNS = {"output": "psnr_gt", "output_clean": "psnr_clean_gt", "ema": "psnr_ema_gt"}


def dip(*args: str, threads: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    subprocess.run([str(Path(sys.executable).with_name("dip")), *map(str, args)], check=True, env=env)


def published_masked(data: Path, image: str) -> Path:
    """The authors' masked input of a Table-1 image (named like Cameraman256_masked.png)."""
    page = data / "table1" / "dip_project_page"
    found = [p for p in page.glob("*_masked.png") if p.name.lower().startswith(image)]
    if len(found) != 1:
        raise SystemExit(f"no single published masked input for {image} in {page}")
    return found[0]


def prepare(data: Path, image: str, crop: int, work: Path, threads: int) -> Path:
    inputs = work / "inputs" / image
    if not (inputs / "gt.png").is_file():
        dip("prepare", "--task", "inpainting", "--gt", data / f"table1/{image}.png",
            "--masked", published_masked(data, image), "--seed", 0, "--crop", crop, "--out", inputs,
            threads=threads)
    return inputs


def fit(inputs: Path, out: Path, seed: int, iterations: int, every: int, threads: int) -> None:
    dip("fit", "--preset", "table1", "--image", inputs / "observed.png", "--mask", inputs / "mask.png",
        "--gt", inputs / "gt.png", "--seed", seed, "--iterations", iterations, "--trace-every", every,
        "--checkpoint-every", every, "--snapshots", "", "--resume", "auto", "--device", "cpu",
        "--out", out, threads=threads)


def scores(fit_dir: Path, iterations: int) -> dict[str, float]:
    with open(fit_dir / "trace.csv") as f:
        row = next(r for r in csv.DictReader(f) if int(r["iteration"]) == iterations)
    return {name: float(row[col]) for name, col in COLUMNS.items()}


def collect(work: Path, images: list[str], seeds: list[int], stages: list[int]) -> dict:
    """Scores of the fits in ``work`` at each stage they reached."""
    results: dict[tuple[str, int], dict[int, dict]] = {}
    for image in images:
        for seed in seeds:
            trace = work / "fits" / image / f"seed{seed}" / "trace.csv"
            if not trace.is_file():
                continue
            with open(trace) as f:
                reached = {int(r["iteration"]) for r in csv.DictReader(f)}
            for its in stages:
                if its in reached:
                    results.setdefault((image, seed), {})[its] = scores(trace.parent, its)
    return results


def cell(values: list[float], signed: bool = False) -> str:
    fmt = "{:+.2f}" if signed else "{:.2f}"
    mean = fmt.format(statistics.fmean(values))
    return mean if len(values) < 2 else f"{mean} ± {statistics.stdev(values):.2f}"


def table(results: dict, images: list[str], iterations: list[int]) -> str:
    lines = ["| image | iterations | seeds | paper's output | noise-free output | gain | output average | gain |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for its in iterations:
        for image in images + ["all fits"]:
            runs = [r for (im, _), r in results.items() if im == image or image == "all fits"]
            runs = [r[its] for r in runs if its in r]
            if not runs:
                continue
            col = {n: [r[n] for r in runs] for n in COLUMNS}
            gain = {n: [r[n] - r["output"] for r in runs] for n in ("output_clean", "ema")}
            lines.append(f"| {image} | {its} | {len(runs)} | {cell(col['output'])} | {cell(col['output_clean'])} | "
                         f"{cell(gain['output_clean'], True)} | {cell(col['ema'])} | "
                         f"{cell(gain['ema'], True)} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, help="data/raw or a mirror (registry layout); needed to fit")
    p.add_argument("--images", nargs="+", default=["house", "peppers", "barbara"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--iterations", nargs="+", type=int, default=[400, 2000])
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--work", type=Path, default=Path("results/compare_outputs"))
    p.add_argument("--table-only", action="store_true",
                   help="fit nothing: the table of the fits already in --work (rows that lack "
                        "a seed say so through their seed count)")
    args = p.parse_args()
    if args.table_only:
        print(table(collect(args.work, args.images, args.seeds, sorted(args.iterations)),
                    args.images, sorted(args.iterations)))
        return 0
    if args.data is None:
        p.error("--data is needed to fit")

    stages = sorted(args.iterations)
    every = min(stages)
    results: dict[tuple[str, int], dict[int, dict]] = {}
    for its in stages:
        for image in args.images:
            inputs = prepare(args.data, image, args.crop, args.work, args.threads)
            for seed in args.seeds:
                out = args.work / "fits" / image / f"seed{seed}"
                fit(inputs, out, seed, its, every, args.threads)
                results.setdefault((image, seed), {})[its] = scores(out, its)
        print(f"## after {its} iterations\n\n{table(results, args.images, stages)}\n", flush=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{args.threads} threads per fit; crops {args.crop} x {args.crop}, authors' masks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
