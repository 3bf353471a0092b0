"""The environment, the GPU-only tests and the speed of every candidate path."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

from ..spec.execution import Execution
from .common import REPO, Clock, Scale, child_env


#: Dense peak TFLOP/s (fp32 without tensor cores, bf16 tensor cores) by GPU name.
PEAK_TFLOPS = {"H100": {"fp32": 67.0, "bf16": 989.0}, "H200": {"fp32": 67.0, "bf16": 989.0},
               "A100": {"fp32": 19.5, "bf16": 312.0}}


def environment(device) -> dict:
    import torch

    from ..engine.devices import device_name

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
        done = subprocess.run(cmd, cwd=REPO, env=child_env(4), capture_output=True, text=True,
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
    from ..engine.benchmark import BASELINE, measure_paths
    from ..engine.devices import device_name
    from ..engine.precision import candidate_paths, capabilities
    from ..spec.presets import get_preset

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



def speeds(b: dict, device) -> dict:
    """Seconds per iteration of one fit by (precision, side), from the bench: faithful takes
    fp32 eager (TF32 off), fast the path the rules choose here."""
    from ..engine.precision import capabilities, choose

    fast = choose("fast", capabilities(device))
    speed = {}
    for size, rows in b.get("sizes", {}).items():
        for r in rows:
            if r["path"] == "fp32 eager":
                speed[("faithful", int(size))] = r["s_per_iter"]
            if Execution.from_dict(r) == fast:
                speed[("fast", int(size))] = r["s_per_iter"]
    return speed
