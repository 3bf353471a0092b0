"""The planning layer: configs resolved into fits, arguments and paths, without torch."""

import copy
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from dip import pipeline
from dip.errors import DipError
from dip.data.images import save_image
from dip.pipeline import kinds, paths, reports, resources
from dip.pipeline.kinds import shared
from dip.spec.overrides import BY_KEY, KEYS

TABLE1 = ["barbara", "boat", "house", "lena", "peppers", "cameraman", "couple", "fingerprint",
          "hill", "man", "montage"]


@pytest.fixture(scope="module")
def base_config():
    return pipeline.load_config(REPO / "config.yaml")


@pytest.fixture
def config(base_config):
    return copy.deepcopy(base_config)


def one(config, name="solo", **exp):
    """The config with a single experiment (no table1, no figure7)."""
    cfg = copy.deepcopy(config)
    cfg["experiments"] = {name: {"preset": "table1", "images": ["house"], "mask": "authors", **exp}}
    cfg["targets"] = {}
    return cfg


def fit_commands(config, name):
    plan = pipeline.Plan(config)
    return {s.variant: plan.fit_args(plan.fits[s.fit]) for s in plan.slots_of(name) if s.experiment == name}


def test_planning_never_imports_torch():
    code = (
        "import sys\n"
        "from dip import pipeline\n"
        "from dip.pipeline import reports, resources\n"
        f"config = pipeline.load_config({str(REPO / 'config.yaml')!r})\n"
        "for mode in ('paper', 'quick'):\n"
        "    plan = pipeline.Plan({**config, 'mode': mode})\n"
        "    for job in plan.all_fits():\n"
        "        plan.fit_args(job), resources.runtime_minutes(plan.config, job), resources.mem_mb(job)\n"
        "    for target in plan.targets:\n"
        "        reports.report_args(plan, target)\n"
        "    for name in plan.experiments:\n"
        "        reports.outputs(plan, name)\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_paper_plan_is_the_34_paper_fits_with_per_mode_paths(config):
    plan = pipeline.Plan(config)
    fits = plan.fits_of_target("all")
    assert len(fits) == 34
    assert {f.out_dir for f in fits if f.experiment == "table1"} == {
        f"results/paper/fits/table1/base/{i}/seed{s}" for i in TABLE1 for s in (0, 1, 2)}
    assert [f.out_dir for f in fits if f.experiment == "figure7"] == ["results/paper/fits/figure7/base/kate/seed0"]
    # figure7's bottom row is table1's Barbara, not a fit of its own
    assert {s.fit.experiment for s in plan.slots_of("figure7") if s.image == "barbara"} == {"table1"}
    quick = pipeline.Plan({**config, "mode": "quick"})
    assert all(f.out_dir.startswith("results/quick/") for f in quick.fits)
    assert all(i.dir.startswith("data/inputs/quick/") for i in quick.inputs)


def test_fits_equal_to_another_experiments_are_shared(config):
    plan = pipeline.Plan(config)
    # the settings study's base is table1 itself; so are the other studies' bases
    for study in ("settings", "architecture", "hyperparameters"):
        assert {s.fit.experiment for s in plan.slots_of(study, "base")} == {"table1"}
    # a swept value equal to the base reuses the base fits
    arch = {s.variant: s.fit for s in plan.slots_of("architecture") if s.image == "house" and s.seed == 0}
    assert arch["scales=5"] == arch["channels_skip=4"] == arch["legacy=false"] == arch["base"]
    assert arch["scales=6"].variant == "scales=6"
    assert len(plan.fits_of_target("studies")) == 234


def test_every_setting_in_the_config_reaches_the_fit_command(config):
    values = {"iterations": 123, "lr": 0.0042, "reg_noise_std": 0.07, "ema_weight": 0.9,
              "backtrack": "off", "input": "meshgrid", "input_channels": 2, "scales": 4,
              "channels_down": [16, 32, 64, 128, 128], "channels_up": 96, "channels_skip": [0, 4, 8, 16, 16],
              "kernel_down": 5, "kernel_up": 3, "kernel_skip": 3, "upsample": "nearest",
              "downsample": "avg", "pad": "zero", "conv_1x1": False, "legacy": True,
              "stop": "early", "es_window": 50, "es_patience": 300, "es_memory_mb": 64, "precision": "fast"}
    assert set(values) == set(KEYS)
    expected = {"channels_down": "16,32,64,128,128", "channels_skip": "0,4,8,16,16"}
    for key, value in values.items():
        cmd = fit_commands(one(config, **{key: value}), "solo")["base"]
        flag = BY_KEY[key].flag
        if key == "conv_1x1":
            assert "--no-conv-1x1" in cmd, key
        elif key == "legacy":
            assert "--legacy" in cmd, key
        else:
            assert cmd[cmd.index(flag) + 1] == (expected.get(key) or str(value)), (key, cmd)
    # a key the config does not set is left to the preset
    cmd = fit_commands(one(config), "solo")["base"]
    assert not set(cmd) & {BY_KEY[k].flag for k in KEYS if k != "iterations"}


def test_a_reg_noise_sweep_gives_one_fit_per_value_with_its_flag(config):
    cmds = fit_commands(one(config, vary={"reg_noise_std": [0, 0.01, 0.03, 0.1]}), "solo")
    assert set(cmds) == {"base", "reg_noise_std=0", "reg_noise_std=0.01", "reg_noise_std=0.03",
                         "reg_noise_std=0.1"}
    for vid, cmd in cmds.items():
        if vid not in ("base", "reg_noise_std=0.03"):
            assert cmd[cmd.index("--reg-noise-std") + 1] == vid.split("=")[1]
    assert cmds["reg_noise_std=0.03"] == cmds["base"]
    # 0.03 is the preset's value: that variant is the base fit, fitted once
    plan = pipeline.Plan(one(config, vary={"reg_noise_std": [0, 0.03]}))
    assert len(plan.fits) == 2


def test_grid_and_named_variants(config):
    plan = pipeline.Plan(one(config, vary={"lr": [0.01, 0.1], "scales": [4, 5]}, grid=True,
                             variants={"text": {"preset": "text_inpainting"},
                                       "small": {"channels_down": 64, "channels_up": 64}}))
    ids = [v.id for v in plan.experiment("solo").variants]
    assert ids == ["base", "lr=0.01+scales=4", "lr=0.01+scales=5", "lr=0.1+scales=4",
                   "lr=0.1+scales=5", "text", "small"]
    text = plan.fit_args(plan.fit_job("solo", "text", "house", 0))
    assert text[text.index("--preset") + 1] == "text_inpainting"
    assert plan.fit_job("solo", "text", "house", 0).settings["net"]["skip"] == [128] * 5


def test_variants_take_the_labels_the_config_gives_them(config):
    plan = pipeline.Plan(one(config, variants={"text": {"preset": "text_inpainting"}},
                             labels={"base": "Table-1 settings", "text": "text settings"}))
    assert [v.label for v in plan.experiment("solo").variants] == ["Table-1 settings", "text settings"]
    with pytest.raises(DipError, match="labels name no variant: txt; variants: base, text"):
        pipeline.Plan(one(config, variants={"text": {"preset": "text_inpainting"}}, labels={"txt": "x"}))


def test_runtime_and_memory_follow_each_fits_network(config):
    plan = pipeline.Plan({**config, "device": "cpu"})
    house = {v: plan.fits[s.fit] for s in plan.slots_of("architecture") if s.image == "house"
             and s.seed == 0 for v in [s.variant]}
    assert resources.runtime_minutes(plan.config, house["channels_skip=128"]) > resources.runtime_minutes(plan.config, house["base"])
    assert resources.runtime_minutes(plan.config, house["scales=3"]) < resources.runtime_minutes(plan.config, house["base"])
    assert resources.mem_mb(house["channels_skip=128"]) > resources.mem_mb(house["base"])


def test_paths_are_one_set_of_templates_per_mode():
    fit = pipeline.Fit("quick", "e", "lr=0.1", "house", 2)
    assert fit.out_dir == paths.FIT.format(mode="quick", experiment="e", variant="lr=0.1", image="house", seed=2)
    assert fit.metrics == "results/quick/metrics/e/lr=0.1/house/seed2.json"
    for template in (paths.FIT, paths.METRICS, paths.INPUTS, paths.RUN_CONFIG, paths.REPORT_HTML,
                     paths.STUDY_JSON, paths.LOG):
        assert "{mode}" in template.split("/")[:3]


def test_registry_images_with_a_set_have_their_own_id(config):
    cfg = one(config, images=["barbara", "set14_x4/barbara"], mask="bernoulli", report="none")
    plan = pipeline.Plan(cfg)
    ids = sorted({s.image for s in plan.slots_of("solo")})
    assert ids == ["barbara", "set14_x4-barbara"]
    sources = {i.image: p.sources["gt"] for i, p in plan.inputs.items()}
    assert sources == {"barbara": "data/raw/table1/barbara.png",
                       "set14_x4-barbara": "data/raw/sr/Set14/x4/barbara_GT.png"}


def test_a_network_too_deep_for_its_image_is_refused_at_planning(config):
    with pytest.raises(DipError, match="experiment 'solo', variant 'scales=6', image 'house'.*65"):
        pipeline.Plan({**one(config, vary={"scales": [6]}), "mode": "quick"})


BAD = {
    "unknown vary key": ({"vary": {"learning_rate": [0.1]}}, "experiment 'solo', vary.learning_rate.*unknown"),
    "wrong value type": ({"vary": {"lr": ["fast"]}}, "experiment 'solo', vary.lr.*'lr' must be a number above 0, got 'fast'"),
    "unknown setting": ({"variants": {"g": {"colour": 1}}}, "experiment 'solo', variants.g.*unknown setting 'colour'"),
    "no images": ({"images": []}, "experiment 'solo': no images"),
    "same path twice": ({"vary": {"lr": [0.1]}, "variants": {"lr=0.1": {"lr": 0.2}}},
                        "experiment 'solo'.*same path.*lr=0.1"),
    "a paper table without published outputs": ({"images": ["kate"], "mask": "bernoulli", "report": "paper_table"},
                                                 "experiment 'solo' \\(report: paper_table\\): image 'kate' has no published 'dip'"),
    "missing local image": ({"images": [{"name": "cat", "path": "/nonexistent/cat.png"}], "mask": "bernoulli"},
                            "experiment 'solo', images.*does not exist"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_an_error_naming_experiment_and_key(config, case, tmp_path):
    change, message = BAD[case]
    with pytest.raises(DipError, match=message):
        pipeline.Plan(one(config, **change))
    assert not list(tmp_path.iterdir())  # planning writes nothing


def test_a_local_image_in_colour_is_planned_with_its_mask(config, tmp_path):
    rng = np.random.default_rng(0)
    photo = tmp_path / "cat.png"
    save_image(photo, rng.random((100, 90, 3)).astype(np.float32))
    mask = tmp_path / "cat_mask.png"
    save_image(mask, (rng.random((100, 90)) > 0.3).astype(np.float32))
    cfg = one(config, images=[{"name": "cat", "path": str(photo), "mask": str(mask)}], mask="bernoulli")
    plan = pipeline.Plan({**cfg, "mode": "quick"})
    job = plan.fit_job("solo", "base", "cat", 0)
    prep = plan.inputs[job.inputs]
    assert prep.sources == {"gt": str(photo), "mask": str(mask)}
    assert "--mask-bernoulli" not in prep.args
    wrong = one(config, images=[{"name": "cat", "path": str(photo), "sha256": "0" * 64}], mask="bernoulli")
    with pytest.raises(DipError, match="does not match its sha256"):
        pipeline.Plan(wrong)


def test_a_single_experiment_config_has_a_report_of_its_own(config):
    plan = pipeline.Plan(one(config))
    assert plan.target("all") == ["solo"] and plan.target("everything") == ["solo"]
    inputs = reports.report_inputs(plan, "all")
    assert "reports/paper/experiments/solo/study.json" in inputs["sections"]
    spec = kinds.study.spec(plan, "solo")
    assert [v["id"] for v in spec["variants"]] == ["base"]
    json.dumps(spec)


def test_dip_fit_accepts_every_flag_the_planner_writes(config):
    """The planner's flags and `dip fit`'s options are one vocabulary."""
    import argparse

    from dip.commands import fit as fit_command

    parser = argparse.ArgumentParser()
    fit_command.add_arguments(parser)
    values = {"iterations": 5, "lr": 0.01, "reg_noise_std": 0.1, "ema_weight": 0.9,
              "input": "meshgrid", "input_channels": 2, "scales": 4, "channels_down": [8, 16, 32, 64],
              "channels_up": 16, "channels_skip": 0, "kernel_down": 5, "kernel_up": 3,
              "kernel_skip": 1, "upsample": "nearest", "downsample": "max", "pad": "zero",
              "conv_1x1": False, "legacy": True, "backtrack": "full", "precision": "fast",
              "stop": "early", "es_window": 50, "es_patience": 300, "es_memory_mb": 64.5}
    assert set(values) == set(KEYS)
    plan = pipeline.Plan(one(config, **values))
    args = parser.parse_args([*plan.fit_args(plan.fit_job("solo", "base", "house", 0)), "--out", "x"])
    assert (args.iterations, args.lr, args.reg_noise_std, args.ema_weight) == (5, 0.01, 0.1, 0.9)
    assert (args.input, args.input_channels, args.scales, args.channels_down) == ("meshgrid", 2, 4, [8, 16, 32, 64])
    assert (args.channels_up, args.channels_skip, args.kernel_down, args.kernel_up, args.kernel_skip) == (
        [16], [0], 5, 3, 1)
    assert (args.upsample, args.downsample, args.pad, args.conv_1x1, args.legacy, args.backtrack) == (
        ["nearest"], "max", "zero", False, True, "full")
    assert (args.precision, args.stop, args.es_window, args.es_patience, args.es_memory_mb) == (
        "fast", "early", 50, 300, 64.5)


def test_an_experiment_runs_only_in_its_modes_and_a_table_reads_its_companion(config):
    """table1_full_backtracking runs in quick mode only; table1's table reads it as a column."""
    assert config["experiments"]["table1_full_backtracking"]["modes"] == ["quick"]
    paper, quick = pipeline.Plan(config), pipeline.Plan({**config, "mode": "quick"})
    assert "table1_full_backtracking" not in paper.experiments
    assert len(paper.fits_of_target("all")) == 34
    assert "--metrics-full-backtracking" not in kinds.paper_table.args(paper, "table1")
    args = kinds.paper_table.args(quick, "table1")
    companion = args[args.index("--metrics-full-backtracking") + 1:args.index("--gt")]
    # Quick mode runs the companion on its declared subset of the images.
    assert companion == [f"results/quick/metrics/table1_full_backtracking/base/{i}/seed0.json"
                         for i in ("barbara", "house")]
    assert kinds.paper_table.inputs(quick, "table1")["full_backtracking"] == companion
    cmd = quick.fit_args(quick.fit_job("table1_full_backtracking", "base", "house", 0))
    assert cmd[cmd.index("--backtrack") + 1] == "full"


def test_quick_fits_take_one_thread(config):
    assert resources.threads(config) == 2
    assert resources.threads({**config, "mode": "quick"}) == 1
    assert resources.gpus(config) == 1


def test_cpu_fits_take_one_core_each_and_no_gpu_token(config):
    """With `device: cpu` Snakemake runs one single-threaded fit per core."""
    cpu = {**config, "device": "cpu"}
    assert (resources.threads(cpu), resources.gpus(cpu)) == (1, 0)


def test_snapshot_columns_are_shared_only_where_every_rows_fit_took_the_same(config):
    plan = pipeline.Plan({**config, "mode": "quick"})
    table = shared.snapshots_args(plan, "table1")
    assert "--iterations" in table  # eleven fits on one schedule
    # Figure 7: kate's own fit beside Barbara's, reused from Table 1 on another schedule
    kate, barbara = (plan.fits[plan.slots_of("figure7", "base")[0].fit],
                     plan.fits[plan.slots_of("table1", "base")[0].fit])
    assert kate.snapshots != barbara.snapshots
    assert "--iterations" not in shared.snapshots_args(plan, "figure7")
