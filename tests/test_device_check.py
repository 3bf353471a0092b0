"""`make device-check` at toy size on the CPU: every line that does not need CUDA runs here, so
the check is ready when a GPU comes."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dip.device_check.common import TOY, Clock, Scale, fetch
from dip.device_check.fits import table1

REPO = Path(__file__).resolve().parents[1]
#: What a GPU machine lacks (no Snakemake, no download or schema libraries): importing any of
#: them fails in the check's processes, its `dip fit` children included.
ABSENT_THERE = ("snakemake", "pooch", "jsonschema", "requests")
BLOCK = f"""import sys

class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {ABSENT_THERE!r}:
            raise ImportError("not on the GPU machine: " + name)

sys.meta_path.insert(0, _Absent())
"""


@pytest.fixture(scope="module")
def images(mirror, tmp_path_factory):
    dest = tmp_path_factory.mktemp("device-data")
    os.environ.setdefault("DIP_DATA_MIRROR", str(mirror))
    fetch(dest)
    return dest


def test_the_toy_check_runs_every_step_and_names_what_it_could_not_measure(images, tmp_path):
    out, block = tmp_path / "out", tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(BLOCK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(block), str(REPO / "workflow")])}
    subprocess.run([sys.executable, "-m", "dip.device_check", "--toy", "--budget", "120",
                    "--out", str(out), "--data", str(images), "--work", str(tmp_path / "work")],
                   env=env, check=True, timeout=300)
    summary = json.loads((out / "summary.json").read_text())
    steps = summary["steps"]
    assert list(steps) == ["environment", "gpu_tests", "bench", "sharing", "table1"]
    assert not [name for name, step in steps.items() if "error" in step], steps
    assert "skipped" in steps["gpu_tests"]["result"]  # no CUDA here
    rows = steps["bench"]["sizes"]["64"]
    assert rows[0]["path"] == "fp32 eager" and all(r["s_per_iter"] > 0 for r in rows)
    assert steps["sharing"]["k"]["1"]["it_per_s_total"] > 0
    done = {r["image"]: r for r in steps["table1"]["fits"] if r["status"] == "done"}
    assert done["house"]["psnr"] > 10 and done["house"]["paper_psnr"] == 39.16  # house goes first
    assert any("no CUDA device" in m for m in summary["not_measured"])
    assert 0 < summary["budget_used_s"] <= 120 + 10
    assert "## Table 1" in (out / "summary.md").read_text()
    with tarfile.open(out / "fits.tar.gz") as tar:
        assert "house-fast/output.png" in tar.getnames()
    assert sorted(p.name for p in out.iterdir()) == ["fits.tar.gz", "summary.json", "summary.md"]


def test_a_fit_the_budget_cannot_hold_is_stopped_with_a_checkpoint(images, tmp_path):
    """A wrong prediction costs no more than the budget: the fit gets SIGTERM and the row
    says how far it got."""
    import torch

    scale = Scale(**{**TOY.__dict__, "iterations": 100_000})
    result = table1(torch.device("cpu"), scale, images, tmp_path, Clock(25.0),
                                 {("fast", 64): 1e-5}, k=1)
    (row,) = result["fits"]
    assert row["image"] == "house" and row["status"] == "stopped by the budget"
    assert row["reached_iteration"] >= 1
    assert {r["image"] for r in result["not_run"]} >= {"peppers", "montage"}
