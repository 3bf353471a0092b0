"""Fits on the device: k fits sharing one GPU, then paper-length Table-1 fits within the budget."""


from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .. import cli
from ..data.images import load_image
from ..report import paper
from .common import (FIRST, REPO, STOP_MARGIN_S, Clock, Scale, child_env, dip_command, image_files, say,
                     table1_settings)


@dataclass
class FitJob:
    name: str
    image: str
    precision: str
    prep: Path
    out: Path
    log: Path
    iterations: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    predicted_s: float = 0.0


def _fit_command(job: FitJob, device, extra=()) -> list[str]:
    p = job.prep
    return dip_command("fit", "--preset", "table1", "--image", p / "observed.png", "--mask", p / "mask.png",
                "--gt", p / "gt.png", "--seed", 0, "--device", device.type, "--precision",
                job.precision, "--iterations", job.iterations, "--out", job.out, *extra)


@contextlib.contextmanager
def _reaped(jobs: list[FitJob]):
    """Kill whatever fit of ``jobs`` still runs when the block ends (on an error, say)."""
    try:
        yield
    finally:
        for job in jobs:
            if job.proc is not None and job.proc.poll() is None:
                job.proc.kill()
                job.proc.wait()


def _start(job: FitJob, device, env: dict, extra=()) -> None:
    job.out.parent.mkdir(parents=True, exist_ok=True)
    job.started = time.monotonic()
    job.proc = subprocess.Popen(_fit_command(job, device, extra), env=env, cwd=REPO,
                                stdout=open(job.log, "w"), stderr=subprocess.STDOUT)


def prepare(image: str, data_dir: Path, work: Path, scale: Scale) -> Path:
    """`dip prepare` of one Table-1 image as the workflow runs it (seed 0, authors' mask)."""
    files, out = image_files(data_dir, image), work / "inputs" / image
    if not (out / "prep.json").is_file():
        geometry = ["--crop", scale.crop] if scale.crop else \
            ["--pad-to", pad] if (pad := table1_settings().get("pad_to", {}).get(image)) else []
        code = cli.main(["prepare", "--task", "inpainting", "--gt", str(files["gt"]), "--masked", str(files["masked"]),
                         "--seed", "0", *map(str, geometry), "--out", str(out)])
        if code:
            raise RuntimeError(f"dip prepare {image} exited {code}")
    return out


def sharing(device, scale: Scale, data_dir: Path, work: Path, clock: Clock, allowance: float,
            s_per_iter: float | None) -> dict:
    """k fits of one image at once on one device; the sum of their iterations per second."""
    settings = table1_settings()
    image = next(i for i in settings["images"] if i not in settings.get("pad_to", {})
                 and load_image(image_files(data_dir, i)["gt"]).shape[0] >= scale.sharing_size)
    prep = prepare(image, data_dir, work, scale)
    iterations = max(10, int(scale.sharing_seconds / s_per_iter)) if s_per_iter else 50
    out = {"image": image, "iterations": iterations, "k": {}, "skipped": []}
    deadline = clock.used() + allowance
    locks = tempfile.mkdtemp(prefix="gpu-locks-", dir=work)
    for k in scale.sharing_k:
        # k fits at once take up to k times as long as one
        if s_per_iter and deadline - clock.used() < scale.start_s + k * iterations * s_per_iter:
            out["skipped"].append(f"k={k} (budget)")
            continue
        env = {**child_env(), "DIP_FITS_PER_GPU": str(k), "DIP_GPU_LOCKS": locks}
        jobs = [FitJob(f"share{k}-{j}", image, "fast", prep, work / "sharing" / f"k{k}" / str(j),
                       work / "sharing" / f"k{k}-{j}.log", iterations) for j in range(k)]
        with _reaped(jobs):
            for job in jobs:
                _start(job, device, env, ["--trace-every", iterations, "--snapshots", ""])
            for job in jobs:
                job.proc.wait(timeout=max(30.0, clock.left()))
                if job.proc.returncode:
                    raise RuntimeError(f"sharing fit {job.name} exited {job.proc.returncode}: "
                                       f"{job.log.read_text()[-800:]}")
        metas = [json.loads((job.out / "meta.json").read_text()) for job in jobs]
        # all k iterations over the longest loop: a lower bound where the loops did not start
        # at one instant (the sum of the k rates would be the upper one)
        its = [m["it_per_s"] for m in metas]
        total = k * iterations / max(m["wall_s"] for m in metas)
        out["k"][str(k)] = {"it_per_s_each": its, "it_per_s_total": round(total, 3),
                            "peak_gpu_memory_mb": [m["peak_gpu_memory_mb"] for m in metas],
                            "devices": sorted({m["device"] for m in metas})}
    if out["k"]:
        one = out["k"].get("1", {}).get("it_per_s_total")
        best = max(out["k"], key=lambda k: out["k"][k]["it_per_s_total"])
        out["best_k"] = int(best)
        if one:
            for row in out["k"].values():
                row["throughput_vs_one"] = round(row["it_per_s_total"] / one, 3)
    return out


def table1(device, scale: Scale, data_dir: Path, work: Path, clock: Clock, speed: dict,
           k: int, slowdown: float = 1.0, on_row=lambda partial: None) -> dict:
    """Paper-length Table-1 fits, k at a time, each started only if predicted to finish.

    ``speed[(precision, side)]`` is seconds per iteration of one fit alone; each of k fits at
    once runs ``slowdown`` times slower (k over the sharing step's throughput gain).
    """
    from ..scoring.evaluate import evaluate_fit
    from ..spec.presets import get_preset

    iterations = scale.iterations or get_preset("table1").iterations
    images = list(table1_settings()["images"])
    order = [*FIRST, *(i for i in images if i not in FIRST)]
    queue = [(i, "fast") for i in order] + [("house", "faithful")]
    env = {**child_env(), "DIP_FITS_PER_GPU": str(k),
           "DIP_GPU_LOCKS": tempfile.mkdtemp(prefix="gpu-locks-", dir=work)}
    rows, running, skipped = [], [], []

    def finish(job: FitJob, stopped: bool) -> None:
        row = {"image": job.image, "precision": job.precision, "iterations": job.iterations,
               "paper_psnr": paper.TABLE1_DIP.get(job.image),
               "published_output_psnr": _published_psnr(data_dir, job.image, scale),
               "wall_s": round(time.monotonic() - job.started, 1),
               "predicted_s": round(job.predicted_s, 1)}
        if job.proc.returncode == 0:
            meta = json.loads((job.out / "meta.json").read_text())
            rec = evaluate_fit(job.out, job.prep / "gt.png", job.prep / "prep.json", "table1",
                               job.image, 0)
            (job.out / "metrics.json").write_text(json.dumps(rec, indent=2) + "\n")
            row |= {"status": "done", "psnr": round(rec["output"]["psnr"], 2),
                    "psnr_clean": round(rec["output_clean"]["psnr"], 2),
                    "psnr_ema": round(rec["ema"]["psnr"], 2), "it_per_s": meta["it_per_s"],
                    "fit_wall_s": meta["wall_s"], "peak_gpu_memory_mb": meta["peak_gpu_memory_mb"],
                    "path": meta["execution"], "backtracks": meta["backtracks"]}
        else:
            log = job.log.read_text()
            reached = re.search(r"after iteration (\d+)", log)
            row |= {"status": "stopped by the budget" if stopped else
                    f"failed (exit {job.proc.returncode})",
                    "reached_iteration": int(reached[1]) if reached else None,
                    "psnr_at_stop": _last_trace_row(job.out).get("psnr_gt"),
                    "log_tail": log[-600:]}
        rows.append(row)
        on_row({"iterations": iterations, "at_once": k, "fits": rows, "not_run": skipped})
        say(f"table1 {job.image} ({job.precision}): {row['status']}, "
             f"psnr {row.get('psnr', row.get('psnr_at_stop'))}, {row['wall_s']} s")

    started = []
    with _reaped(started):
        while queue or running:
            for job in [j for j in running if j.proc.poll() is not None]:
                running.remove(job)
                finish(job, stopped=False)
            if clock.left() <= STOP_MARGIN_S:
                for job in running:
                    job.proc.send_signal(signal.SIGTERM)  # the fit saves a checkpoint and exits
                for job in running:
                    job.proc.wait(timeout=120)
                    finish(job, stopped=True)
                break
            while queue and len(running) < k:
                image, precision = queue.pop(0)
                prep = prepare(image, data_dir, work, scale)
                per_it = _per_iter(speed, precision, load_image(prep / "gt.png").shape[0])
                predicted = scale.start_s + iterations * per_it * (slowdown if k > 1 else 1.0) if per_it else None
                if predicted is None or predicted > clock.left() - STOP_MARGIN_S:
                    skipped.append({"image": image, "precision": precision,
                                    "why": "no speed measured for it" if predicted is None else
                                    f"predicted {predicted:.0f} s, {clock.left():.0f} s left"})
                    continue
                name = f"{image}-{precision}"
                job = FitJob(name, image, precision, prep, work / "fits" / name,
                             work / "fits" / f"{name}.log", iterations, predicted_s=predicted)
                _start(job, device, env)
                running.append(job)
                started.append(job)
            time.sleep(0.5)
    skipped += [{"image": image, "precision": precision, "why": "the budget ran out"}
                for image, precision in queue]
    return {"iterations": iterations, "at_once": k, "fits": rows, "not_run": skipped}


def _per_iter(speed: dict, precision: str, side: int) -> float | None:
    """Seconds per iteration of one fit alone, scaled from the nearest measured side by area."""
    known = {s: v for (p, s), v in speed.items() if p == precision}
    if not known:
        return None
    near = min(known, key=lambda s: abs(s - side))
    return known[near] * (side / near) ** 2


def _published_psnr(data_dir: Path, image: str, scale: Scale) -> float | None:
    """PSNR of the authors' published 8-bit DIP output (full image; none for toy crops)."""
    from ..scoring.metrics import psnr

    if scale.crop:
        return None
    files = image_files(data_dir, image)
    return round(psnr(load_image(files["dip"]), load_image(files["gt"])), 2)


def _last_trace_row(out: Path) -> dict:
    """The last trace row of a stopped fit (in its hidden work folder)."""
    import csv

    for trace in sorted(out.parent.glob(f".{out.name}.tmp-*/trace.csv")):
        rows = list(csv.DictReader(trace.open()))
        if rows:
            return rows[-1]
    return {}


