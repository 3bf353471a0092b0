"""Super-resolution and denoising as planned experiments: the noise drawn once per image from
its own seed and shared by every fit, the LR input shared by every seed, the paper's
iteration counts, and the targets that build their own reports."""

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from dip import pipeline
from dip.errors import DipError
from dip.physics import degrade
from dip.pipeline import kinds, reports
from test_pipeline import base_config, config  # noqa: F401 - the shared config fixtures


def test_noise_seed_is_the_images_own_and_reproduces_the_draw():
    seeds = {degrade.noise_seed(i) for i in ("denoising_color-f16", "denoising_color-kodim03",
                                             "denoising_color-lena")}
    assert len(seeds) == 3  # every image its own draw
    assert degrade.noise_seed("denoising_color-f16") == degrade.noise_seed("denoising_color-f16")
    assert degrade.noise_seed("denoising_color-f16", 1) != degrade.noise_seed("denoising_color-f16")
    img = np.full((64, 64, 3), 0.5, np.float32)
    seed = degrade.noise_seed("denoising_color-f16")
    a, b = degrade.add_noise(img, 25, seed), degrade.add_noise(img, 25, seed)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, degrade.add_noise(img, 25, degrade.noise_seed("denoising_color-lena")))


def test_every_fit_of_a_denoised_image_sees_one_noisy_image(config):
    plan = pipeline.Plan(config)
    slots = plan.slots_of("denoising")
    assert len(slots) == 18 and {s.seed for s in slots} == {0, 1}
    for image in {s.image for s in slots}:
        mine = [s for s in slots if s.image == image]
        assert len({s.inputs for s in mine}) == 1  # one prepared (noisy) input ...
        assert len({s.fit for s in mine}) == 2     # ... two fits with their own seeds
        args = plan.inputs[mine[0].inputs].args
        assert args[args.index("--seed") + 1] == str(degrade.noise_seed(image))
        assert args[args.index("--noise-sigma") + 1] == "25"
    assert {plan.fits[s.fit].iterations for s in slots} == {1800}


def test_the_noise_seed_base_changes_every_draw(config):
    config["experiments"]["denoising"]["noise_seed"] = 7
    plan = pipeline.Plan(config)
    inputs = {s.inputs for s in plan.slots_of("denoising")}
    assert all(plan.inputs[i].args[plan.inputs[i].args.index("--seed") + 1]
               == str(degrade.noise_seed(i.image, 7)) for i in inputs)


def test_quick_denoising_keeps_two_seeds_for_the_two_fit_average(config):
    plan = pipeline.Plan({**config, "mode": "quick"})
    slots = plan.slots_of("denoising")
    assert {s.seed for s in slots} == {0, 1}
    assert {s.image for s in slots} == {"denoising_color-f16"}


def test_super_resolution_plans_the_paper_iterations_and_one_lr_input(config):
    plan = pipeline.Plan(config)
    for name, factor, iterations, images in (("sr_set5_x4", 4, 2000, 5), ("sr_set14_x4", 4, 2000, 14),
                                             ("sr_set5_x8", 8, 4000, 5), ("sr_set14_x8", 8, 4000, 14)):
        slots = plan.slots_of(name)
        assert len({s.image for s in slots}) == images
        assert {plan.fits[s.fit].iterations for s in slots} == {iterations}
        assert len({s.inputs for s in slots}) == images  # the seeds share the LR image
        args = plan.inputs[slots[0].inputs].args
        assert args[args.index("--sr-factor") + 1] == str(factor)
        assert args[args.index("--crop-multiple") + 1] == "32"
        fit_args = plan.fit_args(plan.fits[slots[0].fit])
        assert "--mask" not in fit_args and fit_args[fit_args.index("--gt") + 1].endswith("/gt.png")


def test_sr_sections_read_the_published_bicubic_and_the_papers_set(config):
    plan = pipeline.Plan(config)
    spec = kinds.section.spec(plan, "sr_set5_x4")
    assert spec["task"] == "sr" and spec["set"] == "set5_x4" and spec["figure"] == "set5_x4-baby"
    assert spec["published"]["set5_x4-baby"]["bicubic"] == "data/raw/sr/Set5/x4/baby_bicubic.png"
    assert set(reports.outputs(plan, "sr_set5_x4")) == {"section_json", "section_md", "section_png",
                                                       "curves", "snapshots"}
    assert "data/raw/sr/Set5/x4/baby_bicubic.png" in reports.raw_files(plan, ["sr_set5_x4"])
    assert kinds.section.spec(plan, "denoising")["published"] == {}


def test_targets_build_their_own_reports_and_all_stays_the_paper(config):
    plan = pipeline.Plan(config)
    assert plan.target("all") == ["table1", "figure7"]
    assert plan.target("sr") == ["sr_set5_x4", "sr_set14_x4", "sr_set5_x8", "sr_set14_x8"]
    assert plan.target("denoising") == ["denoising"]
    assert {"sr_set5_x4", "denoising"} <= set(plan.target("everything"))
    args = reports.report_args(plan, "sr")
    assert "--section" in args and "--table" not in args


@pytest.mark.parametrize("target,fits", [("sr", 76), ("denoising", 18)])
def test_dry_run_plans_each_target_in_paper_mode(target, fits):
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", target, "--config", "mode=paper"],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    counts = dict(line.split()[:2] for line in out.stdout.splitlines()
                  if len(line.split()) == 2 and line.split()[1].isdigit())
    assert int(counts["fit"]) == fits and int(counts["section"]) == len(pipeline.Plan(
        pipeline.load_config(REPO / "config.yaml")).target(target))


def test_estimate_prices_a_target():
    config = pipeline.load_config(REPO / "config.yaml")
    config["device"] = "cpu"
    out = subprocess.run([sys.executable, "-m", "dip.cli", "estimate", "--config-json", json.dumps(config),
                          "--target", "denoising", "--size", "64"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "18 fits to run" in out.stderr


def test_library_depths_are_the_notebooks_first_scales_and_its_holes_are_in_the_quick_crop(config, mirror):
    from dip.data.images import load_image, plan_geometry

    plan = pipeline.Plan(config)
    nets = {s.variant: plan.fits[s.fit].settings["net"] for s in plan.slots_of("library")}
    assert list(nets["base"]["down"]) == [16, 32, 64, 128, 128, 128]
    assert list(nets["depth4"]["down"]) == [16, 32, 64, 128] and list(nets["depth2"]["down"]) == [16, 32]
    assert {plan.fits[s.fit].iterations for s in plan.slots_of("library")} == {3001}
    assert nets["unet"]["family"] == "unet" and nets["resnet"]["family"] == "resnet"
    assert {s.variant: plan.fits[s.fit].settings["lr"] for s in plan.slots_of("library")} == {
        "base": 0.01, "depth4": 0.01, "depth2": 0.01, "unet": 0.001, "resnet": 0.001}
    spec = kinds.section.spec(plan, "library")
    assert [f["variant"] for f in spec["fits"]] == ["skip depth 6", "skip depth 4", "skip depth 2", "U-Net", "ResNet"]
    quick = pipeline.Plan({**config, "mode": "quick"})
    for name, least in (("library", 129), ("vase", 64)):
        slot = quick.slots_of(name)[0]
        args = quick.inputs[slot.inputs].args
        side = int(args[args.index("--crop") + 1])
        assert side >= least
        mask = load_image(mirror / f"dip/inpainting/{name}_mask.png")
        mask = mask if mask.ndim == 2 else mask[..., 0]
        hole = mask < 0.5
        cut = plan_geometry(mask.shape, crop=side).apply(hole)
        assert cut.mean() > 0.05  # a good part of the crop is hole ...
        if name == "vase":
            assert cut.sum() == hole.sum()  # ... and the vase's whole hole is in it


def test_flash_has_no_ground_truth_and_feeds_the_flash_photo(config):
    plan = pipeline.Plan(config)
    (slot,) = plan.slots_of("flash")
    job = plan.fits[slot.fit]
    assert not slot.ground_truth and job.iterations == 601
    args = plan.fit_args(job)
    assert "--gt" not in args and args[args.index("--input-image") + 1].endswith("/input.png")
    assert reports.report_inputs(plan, "flash")["metrics"] == []
    assert "curves" not in reports.outputs(plan, "flash")


def test_prepare_takes_a_flash_pair_without_a_ground_truth(tmp_path):
    from dip.cli import main
    from dip.data.images import save_image

    rng = np.random.default_rng(0)
    flash, noflash = tmp_path / "flash.png", tmp_path / "noflash.png"
    save_image(flash, rng.random((70, 90, 3)))
    save_image(noflash, rng.random((70, 90, 3)))
    out = tmp_path / "inputs"
    files = ["--file", f"noflash={noflash}", "--file", f"flash={flash}"]
    assert main(["prepare", "--task", "flash", *files, "--seed", "0", "--crop-multiple", "32",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["input.png", "observed.png", "prep.json"]
    prep = json.loads((out / "prep.json").read_text())
    assert prep["task"] == "flash" and prep["ground_truth"] is False and prep["size"] == [64, 64]
    bad = str(tmp_path / "bad")
    assert main(["prepare", "--task", "flash", *files, "--noise-sigma", "25", "--seed", "0", "--out", bad]) == 2
    assert main(["prepare", "--task", "flash", files[0], files[1], "--seed", "0", "--out", bad]) == 2
    assert main(["prepare", "--task", "denoising", *files, "--seed", "0", "--out", bad]) == 2
    assert not (tmp_path / "bad").exists()


def test_dejpeg_plans_one_paper_length_fit_of_the_compressed_photo(config):
    plan = pipeline.Plan(config)
    (slot,) = plan.slots_of("dejpeg")
    job = plan.fits[slot.fit]
    assert not slot.ground_truth and job.iterations == 2400 and job.preset == "dejpeg"
    assert plan.prepare_args("dejpeg", "snail", 0)[:4] == [
        "--task", "dejpeg", "--file", "observed=data/raw/dip/denoising/snail.jpg"]
    assert "--gt" not in plan.fit_args(job) and "--mask" not in plan.fit_args(job)
    assert plan.target("dejpeg") == ["dejpeg"]


def test_a_partial_report_rebuilds_a_task_section_from_the_finished_fits(config):
    from dip.pipeline import partial

    plan = pipeline.Plan(config)
    missing = [s.fit for s in plan.slots_of("denoising") if s.seed == 1 and s.image == "denoising_color-f16"]
    (sec,) = partial.sections(plan, "denoising", missing)
    assert sec.missing == ["denoising/base/denoising_color-f16/1"]
    (command,) = [c for c in sec.commands if c[0] == "section"]
    spec = json.loads(command[command.index("--spec-json") + 1])
    assert len(spec["fits"]) == 17 and all(f["fit"] != missing[0].out_dir for f in spec["fits"])
    assert "/partial/" in command[command.index("--out-json") + 1]


def test_figure2_plans_the_four_targets_drawn_from_each_seed(config):
    plan = pipeline.Plan(config)
    members = plan.target("figure2")
    fits = plan.fits_of_target("figure2")
    assert len(members) == 4 and len(fits) == 12 and {plan.fits[f].iterations for f in fits} == {5000}
    targets = {}
    for name in members:
        for slot in plan.slots_of(name):
            args = plan.prepare_args(name, slot.image, slot.inputs.seed)
            targets.setdefault(args[args.index("--target") + 1], set()).add(slot.inputs)
            fit_args = plan.fit_args(plan.fits[slot.fit])
            assert fit_args[fit_args.index("--trace-every") + 1] == "10" and "--gt" not in fit_args
    assert sorted(targets) == ["natural", "noisy", "shuffled", "uniform"]
    assert len(targets["natural"]) == 1  # nothing drawn: every seed fits the one image
    assert all(len(targets[t]) == 3 for t in ("noisy", "shuffled", "uniform"))  # a draw per seed
    spec = kinds.section.spec(plan, "figure2")
    assert spec["task"] == "fitting" and len(spec["fits"]) == 12


def test_figure2_refuses_a_missing_target_or_an_unknown_experiment_alongside(config):
    bad = json.loads(json.dumps(config))
    del bad["experiments"]["figure2_uniform"]["target"]
    with pytest.raises(DipError, match="figure2_uniform.*takes `target`"):
        pipeline.Plan(bad)
    bad = json.loads(json.dumps(config))
    bad["experiments"]["figure2"]["alongside"].append("figure2_missing")
    with pytest.raises(DipError, match="alongside: no experiment 'figure2_missing'"):
        pipeline.Plan(bad)
