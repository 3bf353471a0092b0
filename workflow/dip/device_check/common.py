"""What every step of the device check shares: its scale, its clock, child processes and the
Table-1 images."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..data import registry


REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "config.yaml"
#: Registry roles the check needs per Table-1 image: ground truth, the authors' masked input
#: (their exact mask is recovered from it) and their published DIP output.
ROLES = ("gt", "masked", "dip")
#: Dense peak TFLOP/s (fp32 without tensor cores, bf16 tensor cores) by GPU name.
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


def say(text: str) -> None:
    print(f"[device-check] {text}", flush=True)


def child_env(threads: int = 1) -> dict:
    """Environment of a child `dip` process: this source tree first on the path."""
    path = os.pathsep.join(filter(None, [str(REPO / "workflow"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": str(threads),
            "PYTHONUNBUFFERED": "1"}


def dip_command(*args) -> list[str]:
    return [sys.executable, "-m", "dip.cli", *map(str, args)]


# --- the images --------------------------------------------------------------------------


def table1_settings() -> dict:
    """The Table-1 experiment as config.yaml declares it (images, padding)."""
    return yaml.safe_load(CONFIG.read_text())["experiments"]["table1"]


def fetch(dest: Path) -> None:
    """Copy the Table-1 images the check needs into ``dest`` (mirror first, sha256 checked),
    with index.json naming each image's files: the device reads no registry (no jsonschema)."""
    config = {"data": {"files": registry.read_sheet(REPO / "workflow" / "registry.tsv")}}
    mirror = registry.mirror_setting(config)
    index = {}
    for image in table1_settings()["images"]:
        index[image] = {role: registry.file_for(config, image, role, "table1") for role in ROLES}
        for path in index[image].values():
            print(registry.fetch(registry.entry(config, path), dest, mirror))
    (dest / INDEX).write_text(json.dumps(index, indent=2) + "\n")


def image_files(data_dir: Path, image: str) -> dict[str, Path]:
    index = data_dir / INDEX
    if not index.is_file():
        raise FileNotFoundError(f"no {index}: run `make device-data` first")
    return {role: data_dir / path for role, path in json.loads(index.read_text())[image].items()}


