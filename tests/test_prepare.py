"""`dip prepare`: one fit's inputs from raw files, and what the prepare rule passes to it."""

import argparse
import copy
import json

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from dip import pipeline
from dip.data import registry as data
from dip.commands import prepare
from dip.errors import DipError


@pytest.fixture(scope="module")
def config():
    return pipeline.load_config(REPO / "config.yaml")


def _run(argv):
    p = argparse.ArgumentParser()
    prepare.add_arguments(p)
    return prepare.prepare(p.parse_args(argv))


def _u8(path):
    return np.asarray(Image.open(path))


def test_authors_mask_quick_crop_keeps_gt_and_masked_aligned(config, mirror, tmp_path):
    gt_path = mirror / data.file_for(config, "peppers", "gt")
    masked_path = mirror / data.file_for(config, "peppers", "masked")
    out = tmp_path / "peppers"
    prep = _run(["--task", "inpainting", "--gt", str(gt_path), "--masked", str(masked_path), "--seed", "0",
                 "--crop", "64", "--out", str(out)])
    gt, masked = _u8(gt_path), _u8(masked_path)
    assert np.array_equal(_u8(out / "gt.png"), gt[96:160, 96:160])
    assert np.array_equal(_u8(out / "observed.png"), masked[96:160, 96:160])
    mask = _u8(out / "mask.png") == 255
    assert np.array_equal(_u8(out / "gt.png") * mask, _u8(out / "observed.png"))
    on_disk = json.loads((out / "prep.json").read_text())
    assert on_disk == prep
    assert prep["original_size"] == [256, 256] and prep["box"] == [0, 0, 64, 64]
    assert prep["source_box"] == [96, 96, 64, 64]
    assert prep["mask"]["kind"] == "authors"
    assert prep["mask"]["ambiguous_zero_pixels_source"] == int((gt == 0).sum()) == 511
    assert prep["mask"]["ambiguous_zero_pixels"] == int((gt[96:160, 96:160] == 0).sum())
    assert prep["mask"]["known_fraction"] == pytest.approx(mask.mean())
    assert prep["sources"]["masked"]["sha256"] == data.entry(
        config, data.file_for(config, "peppers", "masked")).sha256


def test_barbara_padded_like_the_table1_notebook(config, mirror, tmp_path):
    gt_path = mirror / data.file_for(config, "barbara", "gt")
    masked_path = mirror / data.file_for(config, "barbara", "masked")
    prep = _run(["--task", "inpainting", "--gt", str(gt_path), "--masked", str(masked_path), "--seed", "0",
                 "--pad-to", "514", "--out", str(tmp_path / "b")])
    gt = _u8(tmp_path / "b/gt.png")
    assert gt.shape == (514, 514) and prep["box"] == [1, 1, 512, 512]
    assert np.array_equal(gt[1:513, 1:513], _u8(gt_path))
    obs, mask = _u8(tmp_path / "b/observed.png"), _u8(tmp_path / "b/mask.png") == 255
    assert np.array_equal(gt * mask, obs)
    assert np.array_equal(obs[1:513, 1:513], _u8(masked_path))


def test_published_mask_bernoulli_and_text(config, mirror, tmp_path):
    kate = mirror / data.file_for(config, "kate", "gt")
    kmask = mirror / data.file_for(config, "kate", "mask")
    prep = _run(["--task", "inpainting", "--gt", str(kate), "--mask", str(kmask), "--seed", "0", "--crop-multiple", "64",
                 "--out", str(tmp_path / "k")])
    assert prep["mask"]["kind"] == "published" and prep["channels"] == 3
    assert prep["mask"]["known_fraction"] == pytest.approx(1 - 0.0432, abs=5e-4)
    obs = _u8(tmp_path / "k/observed.png")
    assert np.array_equal(obs, _u8(kate) * (_u8(kmask)[..., None] > 127))

    runs = [_run(["--task", "inpainting", "--gt", str(kate), "--mask-bernoulli", "0.5", "--seed", str(s), "--crop", "64",
                  "--out", str(tmp_path / f"b{i}")]) for i, s in enumerate([1, 1, 2])]
    m = [_u8(tmp_path / f"b{i}/mask.png") for i in range(3)]
    assert np.array_equal(m[0], m[1]) and not np.array_equal(m[0], m[2])
    assert runs[0]["mask"] == {"kind": "bernoulli", "missing": 0.5, "seed": 1,
                               "known_fraction": pytest.approx((m[0] == 255).mean())}
    text = _run(["--task", "inpainting", "--gt", str(kate), "--text-mask", "0.05", "--seed", "0", "--out", str(tmp_path / "t")])
    assert text["mask"]["kind"] == "text" and 0.94 < text["mask"]["known_fraction"] <= 0.95


def test_denoising_and_sr_inputs(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (100, 70, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "x.png")
    d = _run(["--task", "denoising", "--gt", str(tmp_path / "x.png"), "--noise-sigma", "25", "--seed", "3",
              "--crop-multiple", "32", "--out", str(tmp_path / "d")])
    assert d["task"] == "denoising" and d["size"] == [96, 64] and not (tmp_path / "d/mask.png").exists()
    again = _run(["--task", "denoising", "--gt", str(tmp_path / "x.png"), "--noise-sigma", "25", "--seed", "3",
                  "--crop-multiple", "32", "--out", str(tmp_path / "d2")])
    assert again["size"] == d["size"]
    assert np.array_equal(_u8(tmp_path / "d/observed.png"), _u8(tmp_path / "d2/observed.png"))
    s = _run(["--task", "sr", "--gt", str(tmp_path / "x.png"), "--sr-factor", "8", "--seed", "0",
              "--crop", "60", "--out", str(tmp_path / "s")])
    assert s["task"] == "sr" and s["size"] == [56, 56] and s["source_box"] == [20, 5, 56, 56]
    assert _u8(tmp_path / "s/observed.png").shape == (7, 7, 3)
    assert np.array_equal(_u8(tmp_path / "s/gt.png"), rgb[20:76, 5:61])


def test_failure_leaves_nothing_and_rerun_replaces(config, mirror, tmp_path, monkeypatch):
    gt_path = mirror / data.file_for(config, "house", "gt")
    wrong = mirror / data.file_for(config, "peppers", "masked")  # another image's masked input
    out = tmp_path / "inputs" / "house"
    with pytest.raises(DipError, match="neither"):
        _run(["--task", "inpainting", "--gt", str(gt_path), "--masked", str(wrong), "--seed", "0", "--out", str(out)])
    assert not out.exists()

    def disk_full(*_):
        raise OSError("disk full")

    with monkeypatch.context() as m:  # a failure half-way through writing
        m.setattr(prepare.masks, "save_mask", disk_full)
        with pytest.raises(OSError):
            _run(["--task", "inpainting", "--gt", str(gt_path), "--mask-bernoulli", "0.5", "--seed", "0", "--out", str(out)])
    assert list((tmp_path / "inputs").iterdir()) == []
    _run(["--task", "inpainting", "--gt", str(gt_path), "--mask-bernoulli", "0.5", "--seed", "0", "--crop", "64", "--out", str(out)])
    _run(["--task", "denoising", "--gt", str(gt_path), "--noise-sigma", "10", "--seed", "0", "--crop", "32", "--out", str(out)])
    assert sorted(p.name for p in out.iterdir()) == ["gt.png", "observed.png", "prep.json"]
    assert [p.name for p in (tmp_path / "inputs").iterdir()] == ["house"]


def test_too_small_image_is_a_clear_error(tmp_path):
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "s.png")
    with pytest.raises(DipError, match="too small"):
        _run(["--task", "inpainting", "--gt", str(tmp_path / "s.png"), "--mask-bernoulli", "0.5", "--seed", "0",
              "--crop", "64", "--out", str(tmp_path / "o")])


def _args(config, experiment, image, seed):
    return " ".join(pipeline.Plan(config).prepare_args(experiment, image, seed))


def test_rule_arguments_from_the_experiments(config):
    quick = {**config, "mode": "quick"}
    assert _args(quick, "table1", "lena", 0) == (
        "--task inpainting --gt data/raw/table1/lena.png --masked data/raw/table1/dip_project_page/Lena512_masked.png"
        " --seed 0 --crop 64")
    assert pipeline.Plan(quick).prep_job("figure7", "kate", 0).sources == {
        "gt": "data/raw/dip/inpainting/kate.png", "mask": "data/raw/dip/inpainting/kate_mask.png"}
    paper = copy.deepcopy(config)
    paper["experiments"]["table1"].update(mask="bernoulli", missing=0.5, crop_multiple=32)
    assert _args(paper, "table1", "boat", 0) == (
        "--task inpainting --gt data/raw/table1/boat.png --mask-bernoulli 0.5 --seed 0 --crop-multiple 32")


def test_barbara_is_padded_like_the_notebook_in_paper_mode_only(config):
    paper = {**config, "mode": "paper"}
    assert _args(paper, "table1", "barbara", 0).endswith("--seed 0 --pad-to 514")
    assert _args(paper, "table1", "boat", 0).endswith("--seed 0 --crop-multiple 64")
    assert pipeline.Plan(paper).fit_job("table1", "base", "barbara", 0).pixels == 514 * 514
    quick = {**config, "mode": "quick"}
    assert _args(quick, "table1", "barbara", 0).endswith("--seed 0 --crop 64")


def test_figure2_targets_are_made_from_the_image(tmp_path):
    grey = np.random.default_rng(1).integers(0, 256, (70, 80), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "x.png")

    def target(name, seed, *extra):
        out = tmp_path / f"{name}{seed}"
        prep = _run(["--task", "fitting", "--gt", str(tmp_path / "x.png"), "--target", name, *extra,
                     "--seed", str(seed), "--crop", "64", "--out", str(out)])
        assert prep["target"] == name and prep["ground_truth"] is False
        assert sorted(p.name for p in out.iterdir()) == ["observed.png", "prep.json"]
        return _u8(out / "observed.png")

    natural = target("natural", 0)
    assert np.array_equal(natural, grey[3:67, 8:72])
    noisy = target("noisy", 0, "--noise-sigma", "25")
    assert 15 < np.std(noisy.astype(float) - natural) < 30  # clipped sigma-25 noise
    shuffled = target("shuffled", 0)
    assert np.array_equal(np.sort(shuffled, None), np.sort(natural, None))  # the same values ...
    assert np.mean(shuffled == natural) < 0.1                            # ... elsewhere
    assert np.array_equal(shuffled, target("shuffled", 0)) and not np.array_equal(shuffled, target("shuffled", 1))
    uniform = target("uniform", 0)
    assert abs(uniform.mean() - 127.5) < 5 and uniform.min() < 5 and uniform.max() > 250
    with pytest.raises(DipError, match="noisy takes --noise-sigma"):
        target("noisy", 0)
    with pytest.raises(DipError, match="takes no --noise-sigma"):
        target("uniform", 0, "--noise-sigma", "25")
    with pytest.raises(DipError, match="takes no --target"):
        _run(["--task", "denoising", "--gt", str(tmp_path / "x.png"), "--noise-sigma", "25", "--target",
              "noisy", "--seed", "0", "--out", str(tmp_path / "bad")])
