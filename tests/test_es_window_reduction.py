"""The reduced-window measurement (workflow/scripts/es_window_reduction.py) on one short fit:
every window watches the same outputs, at the memory it claims, and the table reads them."""

import sys

import numpy as np
import pytest

from conftest import REPO
from dip.data.images import save_image

sys.path.insert(0, str(REPO / "workflow" / "scripts"))
import es_window_reduction as reduction  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_window_detects_on_the_same_fit(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    rng = np.random.default_rng(0)
    gt = np.repeat(np.linspace(0, 1, 64, dtype=np.float32)[None, :, None], 64, axis=0).repeat(3, axis=2)
    save_image(inputs / "gt.png", gt)
    save_image(inputs / "observed.png", np.clip(gt + rng.normal(0, 0.1, gt.shape), 0, 1))
    out = tmp_path / "result.json"
    result = reduction.one_fit("ramp", 0, inputs, 110, "faithful", out)
    assert out.is_file() and reduction.one_fit("ramp", 0, inputs, 110, "faithful", out) == result  # read back
    sizes = result["window_bytes"]
    assert sizes["stride 2"] * 4 == sizes["stride 4"] * 16 == sizes["bf16"] * 2 == sizes["full"]
    found = result["detections"]
    assert set(found) == {"full", "stride 2", "stride 4", "bf16"}
    assert all(100 <= d["iteration"] <= 110 and not d["final"] and d["psnr"] > 10 for d in found.values())
    table = reduction.table([result])
    assert "| full | 1.000 | 1 of 1 | 0 | +0.000 | +0.000 |" in table and "| stride 4 | 0.062 |" in table
