"""What only a CUDA device can show: the paths the rules choose there, peak memory, a stop
signal and a resume, and fits sharing one GPU. Skipped without CUDA; `make device-check` runs
them on the first GPU at hand (`pytest -m gpu`)."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from dip.engine.fit import FitSettings, fit
from dip.models.skip import build_net, make_input
from dip.spec.network import SkipConfig
from dip.physics.operators import Inpainting
from dip.engine.precision import Execution, capabilities, choose

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

CUDA = torch.device("cuda")
SIDE = 64


def _problem(cfg=SkipConfig(32, 1, down=(16, 16), up=(16, 16), skip=(4, 4))):
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    net = build_net(cfg)
    z = make_input("noise", cfg.in_channels, (SIDE, SIDE), gen).to(CUDA)
    mask = (torch.rand((1, 1, SIDE, SIDE), generator=gen) > 0.5).float()
    op = Inpainting(mask)
    return net, z, op, op(torch.rand((1, 1, SIDE, SIDE), generator=gen))


@pytest.mark.parametrize("precision", ["faithful", "fast"])
def test_a_fit_takes_the_rules_path_and_records_its_switches_and_memory(precision, tmp_path):
    ex = choose(precision, capabilities(CUDA))
    net, z, op, target = _problem()
    result = fit(net, z, op, target, tmp_path, FitSettings(iterations=20, lr=0.01,
                 reg_noise_std=0.03, trace_every=10, execution=ex), log=lambda _: None)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["execution"] == ex.as_dict() and meta["device"].startswith("cuda")
    tf32 = precision == "fast" and ex.bf16
    assert meta["backend_flags"] == {"cudnn_allow_tf32": tf32, "matmul_allow_tf32": tf32}
    assert ex.bf16 == (precision == "fast" and torch.cuda.get_device_capability() >= (8, 0))
    assert meta["peak_gpu_memory_mb"] > 0
    assert np.isfinite(result.output).all() and len(result.trace) == 2


def test_cuda_graphs_path_fits_and_keeps_each_output(tmp_path):
    """The compiled step replayed as CUDA graphs: the outputs read after several replays are
    still the ones each call made (dip.engine.fit copies them out)."""
    ex = Execution("fast", "cuda-bf16", bf16=True, channels_last=True, tf32=True,
                   fused_adam=True, compile=True, cuda_graphs=True)
    net, z, op, target = _problem(SkipConfig(8, 1, down=(8,), up=(8,), skip=(2,)))
    result = fit(net, z, op, target, tmp_path, FitSettings(iterations=12, lr=0.01,
                 reg_noise_std=0.03, trace_every=6, execution=ex), log=lambda _: None)
    assert np.isfinite(result.output).all()
    assert not np.array_equal(result.output, result.output_clean)  # two inputs, two outputs


def _image_files(tmp_path):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    gray = (128 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0)).astype(np.uint8)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    Image.fromarray(np.where(rng.random((SIDE, SIDE)) < 0.5, 0, 255).astype(np.uint8)).save(
        tmp_path / "mask.png")
    return tmp_path / "gray.png", tmp_path / "mask.png"


def _fit_command(image, mask, out, iterations, *extra):
    return [sys.executable, "-m", "dip.cli", "fit", "--preset", "table1", "--image", str(image),
            "--mask", str(mask), "--iterations", str(iterations), "--trace-every", "1",
            "--device", "cuda", "--precision", "fast", "--out", str(out), *extra]


def test_a_stop_signal_saves_the_state_and_a_resume_finishes_on_cuda(tmp_path):
    image, mask = _image_files(tmp_path)
    cmd = _fit_command(image, mask, tmp_path / "fit", 400, "--checkpoint-every", "10000")
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if line.startswith("iter 20/"):
            proc.send_signal(signal.SIGTERM)
            break
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 75, err
    at = int(err.split("after iteration ")[1].split(";")[0])
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from iteration {at}" in resumed.stderr
    meta = json.loads((tmp_path / "fit" / "meta.json").read_text())
    assert meta["iterations"] == 400 and meta["device"].startswith("cuda")


def test_two_fits_share_one_gpu_through_the_slots(tmp_path):
    image, mask = _image_files(tmp_path)
    env = {**os.environ, "DIP_FITS_PER_GPU": "2", "DIP_GPU_LOCKS": str(tmp_path / "locks")}
    procs = [subprocess.Popen(_fit_command(image, mask, tmp_path / f"fit{i}", 100), env=env,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    devices = [json.loads((tmp_path / f"fit{i}" / "meta.json").read_text())["device"]
               for i in range(2)]
    assert all(d.startswith("cuda") for d in devices)
