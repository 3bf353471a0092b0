"""The device check: what one call on a lent GPU machine measures, within a budget of seconds.

    python -m dip.device_check --out DIR [--budget 480] [--data .device-data] [--toy]
    python -m dip.device_check --fetch .device-data      (here, before: the Table-1 images)

In order, each step given what the budget leaves:

1. ``environment``: GPU name, memory and compute capability, driver, CUDA, cuDNN, torch, CPU.
2. ``gpu_tests``: ``pytest -m gpu`` (tests/test_gpu.py; skipped without CUDA).
3. ``bench``: every candidate path (dip.precision.candidate_paths) at 256² and 512², each
   group of paths taking turns with fp32 eager in one run; GFLOP/s and the share of the
   card's peak where the card is known.
4. ``sharing``: k = 1, 2, 4 fits of one 512² image on one GPU at once (``dip fit`` processes
   through the GPU slots); the iterations per second of all k together.
5. ``table1``: paper-length Table-1 fits (seed 0, the authors' masks, the preset's 11,000
   iterations) in fast mode, house and peppers first, then the other nine, then house in
   faithful mode; as many at once as step 4 found best, each started only if it is predicted
   to end within the budget, and stopped (SIGTERM: a checkpoint) if the budget runs out
   anyway. Each is scored beside the paper's number and the authors' published output.

Writes summary.json, summary.md and fits.tar.gz (each fit's output.png, trace, meta and
metrics) into --out. The summary names every figure it could not measure and why. It runs from
the source tree (no install, no Snakemake, no network): the images come from --data, made here
by --fetch through the data registry (its sha256 checked). ``--toy`` runs the same lines at toy
size (64² crops, a few iterations): on the CPU, the test suite's guard against rot; on a GPU, a
smoke run before the real one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import cli, data, paper
from .execution import Execution
from .images import load_image

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config.yaml"
#: Registry roles the check needs per Table-1 image: ground truth, the authors' masked input
#: (their exact mask is recovered from it) and their published DIP output.
ROLES = ("gt", "masked", "dip")
#: Dense peak TFLOP/s (fp32 without tensor cores, bf16 tensor cores) by GPU name.
PEAK_TFLOPS = {"H100": {"fp32": 67.0, "bf16": 989.0}, "H200": {"fp32": 67.0, "bf16": 989.0},
               "A100": {"fp32": 19.5, "bf16": 312.0}}
INDEX = "index.json"
FIRST = ("house", "peppers")
STOP_MARGIN_S = 5.0  # what the end needs: stopped fits save a checkpoint, the summary is packed
SHARING_K = (1, 2, 4)


@dataclass
class Scale:
    """Sizes and counts of a real check and of the toy one."""

    bench_sizes: tuple[int, ...] = (256, 512)
    bench_iterations: int = 20
    bench_warmup: int = 3
    compile_paths: bool = True
    sharing_size: int = 512
    sharing_seconds: float = 6.0   # wall time of one fit alone in step 4
    sharing_k: tuple[int, ...] = SHARING_K
    crop: int | None = None        # Table-1 images at full size
    iterations: int | None = None  # the preset's (11,000)
    start_s: float = 15.0          # a fit's start before its first step: imports, CUDA, cuDNN
    #: the share of the budget each step may take before the Table-1 fits get the rest
    shares: tuple[float, float, float] = (0.15, 0.22, 0.2)  # gpu_tests, bench, sharing


TOY = Scale(bench_sizes=(64,), bench_iterations=2, bench_warmup=1, compile_paths=False,
            sharing_size=64, sharing_seconds=1.0, sharing_k=(1, 2), crop=64, iterations=12,
            start_s=5.0, shares=(0.15, 0.2, 0.3))


@dataclass
class Clock:
    budget_s: float
    start: float = field(default_factory=time.monotonic)

    def used(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float:
        return self.budget_s - self.used()


def _log(text: str) -> None:
    print(f"[device-check] {text}", flush=True)


def _env(threads: int = 1) -> dict:
    """Environment of a child `dip` process: this source tree first on the path."""
    path = os.pathsep.join(filter(None, [str(REPO / "workflow"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": str(threads),
            "PYTHONUNBUFFERED": "1"}


def _dip(*args) -> list[str]:
    return [sys.executable, "-m", "dip.cli", *map(str, args)]


# --- the images --------------------------------------------------------------------------


def table1_settings() -> dict:
    """The Table-1 experiment as config.yaml declares it (images, padding)."""
    return yaml.safe_load(CONFIG.read_text())["experiments"]["table1"]


def fetch(dest: Path) -> None:
    """Copy the Table-1 images the check needs into ``dest`` (mirror first, sha256 checked),
    with index.json naming each image's files: the device reads no registry (no jsonschema)."""
    config = {"data": {"files": data.read_sheet(REPO / "workflow" / "registry.tsv")}}
    mirror = data.mirror_setting(config)
    index = {}
    for image in table1_settings()["images"]:
        index[image] = {role: data.file_for(config, image, role, "table1") for role in ROLES}
        for path in index[image].values():
            print(data.fetch(data.entry(config, path), dest, mirror))
    (dest / INDEX).write_text(json.dumps(index, indent=2) + "\n")


def _image_files(data_dir: Path, image: str) -> dict[str, Path]:
    index = data_dir / INDEX
    if not index.is_file():
        raise FileNotFoundError(f"no {index}: run `make device-data` first")
    return {role: data_dir / path for role, path in json.loads(index.read_text())[image].items()}


# --- steps -------------------------------------------------------------------------------


def environment(device) -> dict:
    import torch

    from .devices import device_name

    env = {"torch": torch.__version__, "python": platform.python_version(),
           "cpu": device_name(torch.device("cpu")), "cpu_count": os.cpu_count(),
           "device": str(device), "cuda_available": torch.cuda.is_available()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env |= {"gpu": props.name, "gpu_memory_gib": round(props.total_memory / 2**30, 1),
                "compute_capability": f"{props.major}.{props.minor}",
                "multiprocessors": props.multi_processor_count, "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version()}
        try:
            env["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            env["driver"] = f"not read: {exc}"
    return env


def gpu_tests(clock: Clock, allowance: float) -> dict:
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-v", "-p", "no:cacheprovider",
           str(REPO / "tests" / "test_gpu.py")]
    try:
        done = subprocess.run(cmd, cwd=REPO, env=_env(4), capture_output=True, text=True,
                              timeout=max(10.0, min(allowance, clock.left())))
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return {"status": f"timed out after {allowance:.0f} s", "tail": partial[-3000:]}
    lines = (done.stdout + done.stderr).strip().splitlines()
    return {"returncode": done.returncode, "result": lines[-1] if lines else "",
            "tail": "\n".join(lines[-40:])}


def _peak(device_name: str) -> dict | None:
    return next((v for k, v in PEAK_TFLOPS.items() if k in device_name), None)


def bench(device, scale: Scale, clock: Clock, allowance: float) -> dict:
    """Each candidate group beside fp32 eager, in one run: the eager paths at every size first,
    then each compiled path (CUDA graphs first) at the largest size, then the smaller, while
    the allowance leaves room for a compilation."""
    from .benchmark import BASELINE, measure_paths
    from .devices import device_name
    from .precision import candidate_paths, capabilities
    from .presets import get_preset

    preset = get_preset("table1")
    candidates = [p for p in candidate_paths(capabilities(device))[1:]
                  if scale.compile_paths or not p.compile]
    compiled = sorted((p for p in candidates if p.compile), key=lambda p: not p.cuda_graphs)
    sizes = sorted(scale.bench_sizes, reverse=True)
    tasks = [([p for p in candidates if not p.compile], size) for size in scale.bench_sizes]
    tasks += [([p], size) for p in compiled for size in sizes]
    peak = _peak(device_name(device)) if device.type == "cuda" else None
    out = {"peak_tflops": peak, "sizes": {str(s): [] for s in scale.bench_sizes}, "skipped": []}
    deadline = clock.used() + allowance
    for group, size in tasks:
        need = 60.0 if group[0].compile else 5.0  # compiling took 20-170 s (docs/performance.md)
        if deadline - clock.used() < need:
            out["skipped"].append(f"{size}²: {', '.join(p.name for p in group)} (budget)")
            continue
        runs = measure_paths(preset, size, scale.bench_iterations, scale.bench_warmup, device,
                             [BASELINE, *group])
        rows = out["sizes"][str(size)]
        for r in runs if not rows else runs[1:]:
            r["ratio_to_fp32_eager"] = runs[0]["s_per_iter"] / r["s_per_iter"]
            r["path"] = "fp32 eager" if r is runs[0] else Execution.from_dict(r).name
            if peak:
                r["share_of_peak"] = r["gflop_per_s"] / 1e3 / peak["bf16" if r["bf16"] else "fp32"]
            r.pop("s_per_iter_all", None)
            rows.append(r)
    if not peak:
        out["share_of_peak"] = "not computed: no peak known for this device"
    return out


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
    return _dip("fit", "--preset", "table1", "--image", p / "observed.png", "--mask", p / "mask.png",
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
    files, out = _image_files(data_dir, image), work / "inputs" / image
    if not (out / "prep.json").is_file():
        geometry = ["--crop", scale.crop] if scale.crop else \
            ["--pad-to", pad] if (pad := table1_settings().get("pad_to", {}).get(image)) else []
        code = cli.main(["prepare", "--gt", str(files["gt"]), "--masked", str(files["masked"]),
                         "--seed", "0", *map(str, geometry), "--out", str(out)])
        if code:
            raise RuntimeError(f"dip prepare {image} exited {code}")
    return out


def sharing(device, scale: Scale, data_dir: Path, work: Path, clock: Clock, allowance: float,
            s_per_iter: float | None) -> dict:
    """k fits of one image at once on one device; the sum of their iterations per second."""
    settings = table1_settings()
    image = next(i for i in settings["images"] if i not in settings.get("pad_to", {})
                 and load_image(_image_files(data_dir, i)["gt"]).shape[0] >= scale.sharing_size)
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
        env = {**_env(), "DIP_FITS_PER_GPU": str(k), "DIP_GPU_LOCKS": locks}
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
    from .evaluate import evaluate_fit
    from .presets import get_preset

    iterations = scale.iterations or get_preset("table1").iterations
    images = list(table1_settings()["images"])
    order = [*FIRST, *(i for i in images if i not in FIRST)]
    queue = [(i, "fast") for i in order] + [("house", "faithful")]
    env = {**_env(), "DIP_FITS_PER_GPU": str(k),
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
        _log(f"table1 {job.image} ({job.precision}): {row['status']}, "
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
    from .metrics import psnr

    if scale.crop:
        return None
    files = _image_files(data_dir, image)
    return round(psnr(load_image(files["dip"]), load_image(files["gt"])), 2)


def _last_trace_row(out: Path) -> dict:
    """The last trace row of a stopped fit (in its hidden work folder)."""
    import csv

    for trace in sorted(out.parent.glob(f".{out.name}.tmp-*/trace.csv")):
        rows = list(csv.DictReader(trace.open()))
        if rows:
            return rows[-1]
    return {}


# --- the whole check ---------------------------------------------------------------------


STEPS = ("environment", "gpu_tests", "bench", "sharing", "table1")


def run_check(out: Path, budget: float, data_dir: Path, toy: bool, work: Path | None = None,
              skip: tuple[str, ...] = ()) -> dict:
    import torch

    clock = Clock(budget)
    scale = TOY if toy else Scale()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    work = Path(work or tempfile.mkdtemp(prefix="device-check-"))
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"budget_s": budget, "toy": toy, "steps": {}, "not_measured": []}
    missing = summary["not_measured"]

    def step(name: str, fn, *args):
        if name in skip:
            missing.append(f"{name}: skipped on request (--skip)")
            summary["steps"][name] = {"skipped": "on request"}
            return {}
        _log(f"{name} ({clock.used():.0f} s used of {budget:.0f})")
        t0 = time.monotonic()
        try:
            result = fn(*args)
        except Exception as exc:  # one step's failure must not cost the others their minutes
            result = {"error": f"{type(exc).__name__}: {exc}"}
            missing.append(f"{name}: failed: {result['error']}")
        result["seconds"] = round(time.monotonic() - t0, 1)
        summary["steps"][name] = result
        _write(out, summary, clock)
        return result

    env = step("environment", environment, device)
    if device.type != "cuda":
        missing.append("everything on a GPU: no CUDA device here "
                       f"({env.get('cpu')}, torch {env.get('torch')})")
    tests_share, bench_share, sharing_share = scale.shares
    tests = step("gpu_tests", gpu_tests, clock, tests_share * budget)
    if tests.get("returncode") or "status" in tests:  # failures, or timed out
        missing.append(f"gpu_tests: {tests.get('result') or tests.get('status')}")
    b = step("bench", bench, device, scale, clock, bench_share * budget)
    missing += [f"bench {s}: not enough budget left" for s in b.get("skipped", [])]
    if b.get("share_of_peak"):
        missing.append(f"bench share of peak: {b['share_of_peak']}")
    speed = _speeds(b, device)
    share = step("sharing", sharing, device, scale, data_dir, work, clock, sharing_share * budget,
                 speed.get(("fast", scale.sharing_size)))
    missing += [f"sharing {s}: not enough budget left" for s in share.get("skipped", [])]
    k = share.get("best_k", 1)
    gain = share.get("k", {}).get(str(k), {}).get("throughput_vs_one", 1.0)

    def partial(result: dict) -> None:  # each finished fit reaches the summary at once
        summary["steps"]["table1"] = result
        _write(out, summary, clock)

    fits = step("table1", table1, device, scale, data_dir, work, clock, speed, k, k / gain, partial)
    missing += [f"table1 {s['image']} ({s['precision']}): not run, {s['why']}"
                for s in fits.get("not_run", [])]
    missing += [f"table1 {r['image']} ({r['precision']}): {r['status']} at iteration "
                f"{r.get('reached_iteration')}" for r in fits.get("fits", []) if r["status"] != "done"]
    _pack(work, out)
    _write(out, summary, clock)
    _log(f"done in {clock.used():.0f} s of {budget:.0f}")
    print(markdown(summary), flush=True)
    return summary


def _speeds(b: dict, device) -> dict:
    """Seconds per iteration of one fit by (precision, side), from the bench: faithful takes
    fp32 eager (TF32 off), fast the path the rules choose here."""
    from .precision import capabilities, choose

    fast = choose("fast", capabilities(device))
    speed = {}
    for size, rows in b.get("sizes", {}).items():
        for r in rows:
            if r["path"] == "fp32 eager":
                speed[("faithful", int(size))] = r["s_per_iter"]
            if Execution.from_dict(r) == fast:
                speed[("fast", int(size))] = r["s_per_iter"]
    return speed


def _pack(work: Path, out: Path) -> None:
    names = ("output.png", "trace.csv", "meta.json", "metrics.json")
    with tarfile.open(out / "fits.tar.gz", "w:gz") as tar:
        for fit in sorted((work / "fits").glob("*")):
            if fit.is_dir():
                for n in names:
                    if (fit / n).is_file():
                        tar.add(fit / n, arcname=f"{fit.name}/{n}")
            elif fit.suffix == ".log":
                tar.add(fit, arcname=fit.name)


def _write(out: Path, summary: dict, clock: Clock) -> None:
    summary["budget_used_s"] = round(clock.used(), 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out / "summary.md").write_text(markdown(summary))


def markdown(s: dict) -> str:
    steps = s["steps"]
    env = steps.get("environment", {})
    lines = [f"# Device check{' (toy run on the CPU)' if s['toy'] else ''}", "",
             f"Budget {s['budget_s']:.0f} s, used {s.get('budget_used_s', 0):.0f} s.", "",
             "## Environment", ""]
    lines += [f"- {k}: {v}" for k, v in env.items() if k != "seconds"]
    tests = steps.get("gpu_tests", {})
    lines += ["", "## GPU tests", "", f"`pytest -m gpu`: {tests.get('result') or tests.get('status') or tests.get('error') or tests.get('skipped')}"]
    b = steps.get("bench", {})
    for size, rows in b.get("sizes", {}).items():
        lines += ["", f"## Training step, table1 net, {size}²", "",
                  "| path | s/it | GFLOP/s | share of peak | vs fp32 eager | peak MB | warm-up s |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            share = f"{100 * r['share_of_peak']:.1f} %" if "share_of_peak" in r else "–"
            lines.append(f"| {r['path']}{', TF32' if r.get('tf32') else ''} | {r['s_per_iter']:.4f} | "
                         f"{r['gflop_per_s']:.0f} | {share} | {r['ratio_to_fp32_eager']:.2f}x | "
                         f"{r['peak_mem_mb']:.0f} | {r['warmup_s']:.1f} |")
    sh = steps.get("sharing", {})
    if sh.get("k"):
        lines += ["", f"## Fits sharing one device ({sh['image']}, {sh['iterations']} iterations, fast)",
                  "", "| k | it/s each | it/s total | vs one | peak GPU MB |", "|---|---|---|---|---|"]
        for k, r in sh["k"].items():
            lines.append(f"| {k} | {', '.join(f'{x:.1f}' for x in r['it_per_s_each'])} | "
                         f"{r['it_per_s_total']:.1f} | {r.get('throughput_vs_one', '–')} | "
                         f"{', '.join(str(m) for m in r['peak_gpu_memory_mb'])} |")
    t1 = steps.get("table1", {})
    if t1.get("fits") is not None:
        lines += ["", f"## Table 1, seed 0, {t1['iterations']} iterations, {t1['at_once']} at once",
                  "", "| image | precision | status | PSNR | paper | published output | clean | "
                  "average | it/s | wall s | peak GPU MB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in t1["fits"]:
            psnr = r.get("psnr", r.get("psnr_at_stop"))
            cells = [r["image"], r["precision"], r["status"], psnr, r["paper_psnr"],
                     r["published_output_psnr"], r.get("psnr_clean"), r.get("psnr_ema"),
                     r.get("it_per_s"), r["wall_s"], r.get("peak_gpu_memory_mb")]
            lines.append("| " + " | ".join("–" if c is None else str(c) for c in cells) + " |")
    lines += ["", "## Not measured, and why", ""]
    lines += [f"- {m}" for m in s["not_measured"]] or ["- nothing"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dip.device_check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="folder for summary.json, summary.md, fits.tar.gz")
    p.add_argument("--budget", type=float, default=480.0, help="seconds in all (default 480)")
    p.add_argument("--data", type=Path, default=REPO / ".device-data",
                   help="the Table-1 images, as --fetch leaves them")
    p.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    p.add_argument("--toy", action="store_true",
                   help="the same steps at toy size (64² crops, a few iterations)")
    p.add_argument("--skip", action="append", default=[], choices=STEPS[1:], metavar="STEP",
                   help=f"leave out a step (repeatable): {', '.join(STEPS[1:])}")
    p.add_argument("--fetch", type=Path, metavar="DIR", help="only fetch the images into DIR")
    args = p.parse_args(argv)
    if args.fetch:
        fetch(args.fetch)
        return 0
    if args.out is None:
        p.error("--out is required")
    run_check(args.out, args.budget, args.data, args.toy, args.work, tuple(args.skip))
    return 0


if __name__ == "__main__":
    sys.exit(main())
