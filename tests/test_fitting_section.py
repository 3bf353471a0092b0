"""Figure 2's section (dip.report.fitting) on scripted traces: the table's MSE columns, the
iterations to the stated MSE, and the sentence on the paper's order, both ways."""

import csv
import json

import numpy as np
import pytest

from dip.data.images import save_image
from dip.report import fitting

ITERATIONS = np.arange(10, 1001, 10)


def _fit(root, target, seed, decay):
    """A fit whose traced MSE is 0.1 * exp(-iteration / decay)."""
    inputs, fit = root / f"inputs/{target}/{seed}", root / f"fits/{target}/{seed}"
    inputs.mkdir(parents=True)
    fit.mkdir(parents=True)
    save_image(inputs / "observed.png", np.random.default_rng(seed).random((16, 16)))
    (inputs / "prep.json").write_text(json.dumps({"target": target, "size": [16, 16], "noise_sigma": 25}))
    (fit / "meta.json").write_text(json.dumps({"params": 1234, "preset": "figure2", "config": {
        "iterations": 1000, "lr": 0.01, "reg_noise_std": 0.0, "trace_every": 10}}))
    with open(fit / "trace.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["iteration", "loss"])
        w.writerows([i, 0.1 * np.exp(-i / decay)] for i in ITERATIONS)
    return {"image": "house", "seed": seed, "variant": target, "fit": str(fit), "metrics": None,
            "inputs": str(inputs)}


def _spec(root, decays):
    return {"set": "house", "figure": "house",
            "fits": [_fit(root, t, seed, d * (1 + seed / 10)) for t, d in decays.items() for seed in (0, 1)]}


def test_the_table_times_each_target_to_the_stated_mse(tmp_path):
    spec = _spec(tmp_path, {"natural": 50, "noisy": 100, "shuffled": 200, "uniform": 10_000})
    table = fitting.fitting_table(spec)
    assert table["headers"] == ["target", "seeds", "MSE at 10", "MSE at 100", "MSE at 1000",
                                f"iterations to MSE {fitting.MSE_LEVEL:g}"]
    natural = table["rows"][0]["cells"]
    # 0.1 exp(-i / 50) <= 0.005 first at i = 150 (decay 50), 170 (decay 55): mean 160
    assert natural[0] == "natural image" and natural[-1] == "160 ± 14"
    assert table["rows"][3]["cells"][-1] == "> 1000"  # white noise never gets there
    settings, order = table["conclusions"]
    assert "house (16 × 16), noise σ = 25" in settings and "1000 iterations of Adam at LR 0.01" in settings
    assert "input noise σ_r = 0, preset figure2's network (1,234 parameters)" in settings
    assert "not every fit did within 1000 iterations on the U(0, 1) noise" in order
    assert order.endswith("the paper's order holds: the natural image is fitted first and white noise last.")


def test_the_sentence_says_when_the_order_does_not_hold(tmp_path):
    table = fitting.fitting_table(_spec(tmp_path, {"natural": 50, "noisy": 300, "shuffled": 200, "uniform": 400}))
    assert ("the paper's order does not hold here: fitted in the order natural image, image, pixels "
            "permuted, image + noise, U(0, 1) noise") in table["conclusions"][1]


# 0.1 exp(-i / 50) <= 0.01 from i = 115.1: the first traced iteration is 120
@pytest.mark.parametrize("level, reached", [(0.01, 120), (1e-12, None)])
def test_first_reaching(level, reached):
    trace = {"iteration": ITERATIONS.astype(float), "loss": 0.1 * np.exp(-ITERATIONS / 50)}
    assert fitting.first_reaching(trace, level) == reached


def test_the_figure_draws_every_target(tmp_path):
    fig = fitting.fitting_figure(_spec(tmp_path, {"natural": 50, "noisy": 100, "shuffled": 200, "uniform": 400}))
    curves = fig.axes[-1]
    assert [line.get_label() for line in curves.get_lines()][:4] == [
        "natural image (2 seed(s))", "image + noise (2 seed(s))", "image, pixels permuted (2 seed(s))",
        "U(0, 1) noise (2 seed(s))"]
    assert curves.get_xscale() == curves.get_yscale() == "log"
