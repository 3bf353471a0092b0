"""dip evaluate: metrics on the original extent (prep.json box), meta fields, bad input."""

import json

import numpy as np
import pytest

from dip.commands import evaluate as evaluate_cmd
from dip.errors import DipError
from dip.scoring.evaluate import evaluate_fit, to_original, to_source_window
from dip.data.images import load_image, save_image
from dip.scoring.metrics import psnr, quality
from synthetic_run import run_command


def make_fit(tmp_path, pad=3, size=24):
    """A padded ground truth whose border the 'output' gets badly wrong."""
    rng = np.random.default_rng(0)
    gt = np.round(rng.uniform(0.2, 0.8, (size + 2 * pad, size + 2 * pad)) * 255) / 255
    out = np.clip(gt + rng.normal(0, 0.02, gt.shape), 0, 1).astype(np.float32)
    out[:pad] = 1.0  # garbage only in the padding
    fit = tmp_path / "fit"
    fit.mkdir()
    np.save(fit / "output.npy", out)
    np.save(fit / "output_clean.npy", (0.7 * out + 0.3 * gt).astype(np.float32))
    np.save(fit / "ema.npy", (0.5 * out + 0.5 * gt).astype(np.float32))
    np.save(fit / "output_es.npy", (0.6 * out + 0.4 * gt).astype(np.float32))
    (fit / "trace.csv").write_text("iteration,psnr_gt\n50,20.5\n100,23.25\n150,23.25\n200,22.0\n")
    (fit / "meta.json").write_text(json.dumps({"iterations": 11000, "wall_s": 512.3, "it_per_s": 21.5,
                                               "device_name": "NVIDIA H100", "params": 2217573, "backtracks": 2}))
    save_image(tmp_path / "gt.png", gt)
    prep = tmp_path / "prep.json"
    prep.write_text(json.dumps({"original_size": [size, size], "box": [pad, pad, size, size], "policy": "reflect"}))
    return fit, tmp_path / "gt.png", prep, out


def test_metrics_are_on_the_original_extent(tmp_path):
    fit, gt_png, prep, out = make_fit(tmp_path)
    rec = evaluate_fit(fit, gt_png, prep, "table1", "barbara", 1)
    gt = load_image(gt_png)
    box = json.loads(prep.read_text())["box"]
    crop = lambda a: a[box[0]:box[0] + box[2], box[1]:box[1] + box[3]]  # noqa: E731
    assert rec["output"] == quality(crop(out), crop(gt))
    assert rec["output"]["psnr"] == pytest.approx(psnr(crop(out), crop(gt)))
    # The garbage border is excluded: whole-image PSNR is far lower and kept apart.
    assert rec["prepared_extent"]["output"]["psnr"] == pytest.approx(psnr(out, gt))
    assert rec["output"]["psnr"] > rec["prepared_extent"]["output"]["psnr"] + 5
    assert rec["ema"]["psnr"] > rec["output_es"]["psnr"] > rec["output_clean"]["psnr"] > rec["output"]["psnr"]
    assert rec["peak"] == {"psnr": 23.25, "iteration": 100}  # the first of two equal peaks
    assert rec["output_clean"] == quality(crop(np.load(fit / "output_clean.npy")), crop(gt))
    assert rec["extent"] == "original" and rec["box"] == box
    assert (rec["experiment"], rec["image"], rec["seed"]) == ("table1", "barbara", 1)
    assert {k: rec[k] for k in ("iterations", "wall_s", "it_per_s", "device_name", "params", "backtracks")} == {
        "iterations": 11000, "wall_s": 512.3, "it_per_s": 21.5, "device_name": "NVIDIA H100",
        "params": 2217573, "backtracks": 2}


def test_without_prep_the_whole_image_is_scored(tmp_path):
    fit, gt_png, _, out = make_fit(tmp_path, pad=0)
    rec = evaluate_fit(fit, gt_png, None, "e", "i", 0)
    assert rec["output"]["psnr"] == pytest.approx(psnr(out, load_image(gt_png)))
    assert "prepared_extent" not in rec


def test_to_original_crops_colour_images():
    img = np.zeros((10, 12, 3), np.float32)
    img[2:6, 3:9] = 1
    assert to_original(img, {"box": [2, 3, 4, 6]}).min() == 1
    assert to_original(img, {"box": [2, 3, 4, 6]}).shape == (4, 6, 3)


def test_bad_inputs_raise_dip_error(tmp_path):
    fit, gt_png, prep, _ = make_fit(tmp_path)
    prep.write_text(json.dumps({"box": [0, 0, 99, 99]}))
    with pytest.raises(DipError, match="does not fit"):
        evaluate_fit(fit, gt_png, prep, "e", "i", 0)
    np.save(fit / "output.npy", np.zeros((5, 5), np.float32))
    with pytest.raises(DipError, match="shape"):
        evaluate_fit(fit, gt_png, None, "e", "i", 0)
    (fit / "output.npy").unlink()
    with pytest.raises(DipError, match="not found"):
        evaluate_fit(fit, gt_png, None, "e", "i", 0)


def test_cli_writes_metrics_json_and_no_temporary_file(tmp_path):
    fit, gt_png, prep, _ = make_fit(tmp_path)
    out = tmp_path / "m" / "metrics.json"
    run_command(evaluate_cmd, ["--fit", fit, "--gt", gt_png, "--prep", prep, "--experiment", "table1",
                               "--image", "boat", "--seed", "2", "--out", out])
    rec = json.loads(out.read_text())
    assert rec["image"] == "boat" and rec["seed"] == 2 and rec["output"]["psnr_uint8"] > 20
    assert [p.name for p in out.parent.iterdir()] == ["metrics.json"]


def test_published_images_are_cut_to_the_fitted_window():
    src = np.arange(100, dtype=np.float32).reshape(10, 10)
    prep = {"original_size": [10, 10], "source_box": [3, 2, 4, 5], "box": [0, 0, 4, 5]}
    assert to_source_window(src, prep).tolist() == src[3:7, 2:7].tolist()
    # Already at the fitted size, or no window recorded: unchanged.
    assert to_source_window(src[:4, :5], prep).shape == (4, 5)
    assert to_source_window(src, {"box": [0, 0, 10, 10]}) is src


def test_atomic_outputs_have_the_usual_permissions(tmp_path):
    import os

    from dip.files.atomic import write_text

    write_text(tmp_path / "a.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_failed_write_leaves_nothing(tmp_path):
    from dip.files.atomic import atomic_path

    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "out.png") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []
