"""Does stopping without the ground truth work? ES-WMV's detection against the traced peak (an
oracle) and against the fixed iteration count, on denoising and Table-1 inpainting (the
measured table of docs/early-stopping.md).

For each task, image and seed it prepares a centre crop (`dip prepare`: Gaussian noise of
sigma 25, or the authors' mask), fits it for a fixed count past the usual peak (`dip fit`, the
detector on, as every fit has it), one single-threaded fit per worker, then prints a Markdown
table per task: the detected iteration and its PSNR, the peak PSNR of the trace and its
iteration, the gap between them, and the fixed-count PSNR.

  python workflow/scripts/early_stopping_evidence.py --data ../shared/data \
      --denoising f16 baboon kodim01 kodim03 --table1 house peppers lena barbara \
      --seeds 0 1 --crop 96 --iterations 3000 --jobs 2 --work results/early_stopping
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from compare_outputs import published_masked
from dip.data.images import load_image
from dip.scoring.evaluate import traced_peak
from dip.scoring.metrics import psnr

#: task -> (the preset it fits, where its ground truths sit under --data)
TASKS = {"denoising": ("denoising", "denoising_color/{image}_GT.png"),
         "table1": ("table1", "table1/{image}.png")}


def dip(*args, threads: int = 1) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    subprocess.run([sys.executable, "-m", "dip.cli", *map(str, args)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def prepare(task: str, image: str, data: Path, crop: int, work: Path) -> Path:
    inputs = work / "inputs" / task / image
    if not (inputs / "gt.png").is_file():
        gt = data / TASKS[task][1].format(image=image.upper() if image == "f16" else image)
        if task == "denoising":
            dip("prepare", "--task", "denoising", "--gt", gt, "--noise-sigma", 25, "--seed", 0,
                "--crop", crop, "--out", inputs)
        else:
            dip("prepare", "--task", "inpainting", "--gt", gt, "--masked", published_masked(data, image),
                "--seed", 0, "--crop", crop, "--out", inputs)
    return inputs


def fit(task: str, image: str, seed: int, inputs: Path, args) -> Path:
    out = args.work / "fits" / task / image / f"seed{seed}"
    if not (out / "meta.json").is_file():
        mask = ["--mask", inputs / "mask.png"] if task == "table1" else []
        dip("fit", "--preset", TASKS[task][0], "--image", inputs / "observed.png", "--gt", inputs / "gt.png",
            *mask, "--seed", seed, "--iterations", args.iterations, "--precision", args.precision,
            "--trace-every", args.trace_every, "--device", "cpu", "--out", out)
    return out


def row(task: str, image: str, seed: int, inputs: Path, out: Path) -> dict:
    gt = load_image(inputs / "gt.png")
    meta = json.loads((out / "meta.json").read_text())
    es = meta["early_stop"]
    peak = traced_peak(out / "trace.csv")
    scored = {name: psnr(np.load(out / f"{name}.npy").reshape(gt.shape), gt) for name in ("output", "output_es")}
    return {"task": task, "image": image, "seed": seed, "detected": es["detected_iteration"],
            "final": es["final"], "stopped": scored["output_es"], "peak": peak["psnr"],
            "peak_iteration": peak["iteration"], "fixed": scored["output"], "wall_s": meta["wall_s"],
            "iterations": meta["iterations"]}


def table(rows: list[dict]) -> str:
    lines = ["| image | seed | detected at | stopped (dB) | peak (dB) at | peak − stopped | fixed count (dB) | stopped − fixed |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        detected = "none" if r["detected"] is None else f"{r['detected']}{'' if r['final'] else ' (not final)'}"
        lines.append(f"| {r['image']} | {r['seed']} | {detected} | {r['stopped']:.2f} | {r['peak']:.2f} at "
                     f"{r['peak_iteration']} | {r['peak'] - r['stopped']:.2f} | {r['fixed']:.2f} | "
                     f"{r['stopped'] - r['fixed']:+.2f} |")
    mean = {k: statistics.mean(r[k] for r in rows) for k in ("stopped", "peak", "fixed")}
    lines.append(f"| **mean** | | | {mean['stopped']:.2f} | {mean['peak']:.2f} | {mean['peak'] - mean['stopped']:.2f} "
                 f"| {mean['fixed']:.2f} | {mean['stopped'] - mean['fixed']:+.2f} |")
    early = sum(r["detected"] is not None and r["detected"] < r["peak_iteration"] for r in rows)
    late = sum(r["detected"] is not None and r["detected"] > r["peak_iteration"] for r in rows)
    lines += ["", f"Stopped before the peak in {early} of {len(rows)} fits, after it in {late}; within 1 dB of "
              f"the peak in {sum(r['peak'] - r['stopped'] <= 1 for r in rows)}."]
    return "\n".join(lines)


def cpu_name() -> str:
    """The CPU's model name as lscpu gives it (the machine's architecture where unknown)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="a folder laid out like data/raw (or the mirror)")
    p.add_argument("--denoising", nargs="*", default=[], help="denoising_color images")
    p.add_argument("--table1", nargs="*", default=[], help="Table-1 images")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--crop", type=int, default=96)
    p.add_argument("--iterations", type=int, default=3000)
    p.add_argument("--trace-every", type=int, default=25)
    p.add_argument("--precision", default="fast")
    p.add_argument("--jobs", type=int, default=2, help="fits at once, one thread each")
    p.add_argument("--work", type=Path, default=Path("results/early_stopping"))
    args = p.parse_args(argv)
    work = [(task, image) for task, images in (("denoising", args.denoising), ("table1", args.table1))
            for image in images]
    start = time.monotonic()
    inputs = {key: prepare(*key, args.data, args.crop, args.work) for key in work}
    jobs = [(task, image, seed) for task, image in work for seed in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        outs = list(pool.map(lambda j: fit(*j, inputs[j[:2]], args), jobs))
    rows = [row(*j, inputs[j[:2]], out) for j, out in zip(jobs, outs)]
    print(f"{cpu_name()}, {os.cpu_count()} cores; {args.crop}x{args.crop} "
          f"crops, {args.iterations} iterations, precision {args.precision}, trace every {args.trace_every}, "
          f"{args.jobs} single-threaded fits at once; {time.monotonic() - start:.0f} s of wall time; fit wall "
          f"times {min(r['wall_s'] for r in rows):.0f}-{max(r['wall_s'] for r in rows):.0f} s\n")
    for task in TASKS:
        mine = [r for r in rows if r["task"] == task]
        if mine:
            print(f"### {task}\n\n{table(mine)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
