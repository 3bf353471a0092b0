"""A study's numbers and conclusion are computed from its fits' files."""

import json

import numpy as np
import pytest

from dip.report.study import best_of_trace, summarise


def _fit(tmp_path, name, psnr, ssim, curve):
    d = tmp_path / name
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({"output": {"psnr": psnr, "ssim": ssim}}))
    trace = {"iteration": np.arange(len(curve)) * 10.0, "psnr_gt": np.array(curve, dtype=float)}
    return {"fit": str(d), "metrics": str(d / "metrics.json")}, trace


def _study(tmp_path, table, seeds=(0, 1)):
    """table: variant -> image -> list of (psnr, curve) per seed."""
    variants, traces = [], {}
    for vid, images in table.items():
        fits = []
        for image, runs in images.items():
            for seed, (psnr, curve) in zip(seeds, runs):
                f, t = _fit(tmp_path, f"{vid}/{image}/{seed}", psnr, 0.5, curve)
                traces[f["fit"]] = t
                fits.append({"image": image, "seed": seed, **f})
        variants.append({"id": vid, "label": vid if vid == "base" else f"lr = {vid}", "fits": fits})
    return summarise({"experiment": "s", "variants": variants}, traces)


def test_best_and_final_psnr_come_from_the_trace():
    best, it, last = best_of_trace({"iteration": np.array([0.0, 10, 20]), "psnr_gt": np.array([20.0, 25, 24])})
    assert (best, it, last) == (25.0, 10, 24.0)
    assert best_of_trace({"iteration": np.array([0.0]), "psnr_gt": np.array([np.nan])}) == (None, None, None)


def test_winner_gain_and_spread_are_computed(tmp_path):
    s = _study(tmp_path, {
        "base": {"a": [(30.0, [20, 30]), (30.2, [20, 30.2])], "b": [(28.0, [20, 28]), (28.2, [20, 28.2])]},
        "0.01": {"a": [(31.0, [20, 32, 31]), (31.2, [20, 32, 31.2])], "b": [(28.1, [20, 28.1]), (28.3, [20, 28.3])]},
    })
    base, other = s["variants"]
    assert base["psnr_mean"] == pytest.approx(29.1)
    assert other["images"][0]["psnr_std"] == pytest.approx(np.std([31.0, 31.2], ddof=1))
    c = s["conclusions"]
    assert c[0] == "lr = 0.01 wins: 29.65 dB on average over 2 images, +0.55 dB against the base (29.10 dB)."
    # image a: 1.0 dB apart, spread 0.14; image b: 0.1 dB apart, spread 0.14
    assert "On 1 of 2 images the difference between lr = 0.01 and base exceeds the standard deviation over 2 seeds." in c
    assert any(x.startswith("Stopping at the best iteration instead of the last would gain") and "lr = 0.01" in x for x in c)


def test_one_seed_says_no_spread_is_known(tmp_path):
    s = _study(tmp_path, {"base": {"a": [(30.0, [30])]}, "0.1": {"a": [(25.0, [25])]}}, seeds=(0,))
    assert s["conclusions"][0].startswith("The base settings win: 30.00 dB")
    assert any("one seed" in c and "no spread over seeds is known" in c for c in s["conclusions"])
    assert s["conclusions"][-1] == ("Stopping early would gain nothing: every variant's PSNR is highest at "
                                    "its last iteration.")


def test_fits_without_ground_truth_are_unavailable(tmp_path):
    f, t = _fit(tmp_path, "x", 0, 0, [np.nan])
    spec = {"experiment": "s", "variants": [{"id": "base", "label": "base",
                                              "fits": [{"image": "cat", "seed": 0, "fit": f["fit"], "metrics": None}]}]}
    s = summarise(spec, {f["fit"]: t})
    assert s["variants"][0]["images"][0]["psnr_mean"] is None
    assert s["conclusions"] == ["No fit of this study has a ground truth, so no variant can be scored."]
