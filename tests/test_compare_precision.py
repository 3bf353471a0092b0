"""`dip compare-precision`: both modes fitted on the same inputs and seeds, PSNRs paired."""

import json

import numpy as np
import torch
import pytest
from PIL import Image

from dip import cli
from dip.scoring import metrics
from dip.engine import precision
from dip.data.images import load_image

pytestmark = pytest.mark.usefixtures("one_thread")


def _prepared(folder, seed):
    """A small `dip prepare`-like folder: gt, mask and the masked observation."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    yy, xx = np.mgrid[0:40, 0:40]
    gt = (128 + 100 * np.sin(xx / (4.0 + seed)) * np.cos(yy / 6.0)).astype(np.uint8)
    mask = np.where(rng.random(gt.shape) < 0.5, 0, 255).astype(np.uint8)
    for name, arr in (("gt", gt), ("mask", mask), ("observed", np.where(mask > 0, gt, 0))):
        Image.fromarray(arr.astype(np.uint8)).save(folder / f"{name}.png")
    return folder


def test_pairs_each_input_and_seed(tmp_path, capsys):
    """The fits run as `dip fit` processes on this machine's own path: where fast takes
    faithful's (no native bf16), each pair is the same computation."""
    inputs = [_prepared(tmp_path / name, k) for k, name in enumerate(("a", "b"))]
    out = tmp_path / "fits"
    assert cli.main(["compare-precision", *map(str, inputs), "--preset", "table1", "--seeds", "0",
                     "1", "--iterations", "2", "--device", "cpu", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(r["input"], r["seed"]) for r in doc["rows"]] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    native = precision.capabilities(torch.device("cpu")).native_bf16
    assert doc["same_path"] is not native and doc["paths"]["fast"]["bf16"] is native
    for r in doc["rows"]:
        fit = out / r["input"] / f"seed{r['seed']}"
        gt = load_image(tmp_path / r["input"] / "gt.png")
        assert r["fast"] == metrics.psnr(np.load(fit / "fast" / "output.npy"), gt)
        assert r["faithful"] == metrics.psnr(np.load(fit / "faithful" / "output.npy"), gt)
        assert r["difference"] == pytest.approx(r["fast"] - r["faithful"])
        if not native:
            assert r["difference"] == 0.0


def test_an_input_that_is_not_prepared_is_refused(tmp_path, capsys):
    assert cli.main(["compare-precision", str(tmp_path), "--preset", "table1", "--iterations", "2",
                     "--out", str(tmp_path / "fits")]) == 2
    assert "not a `dip prepare` folder" in capsys.readouterr().err
