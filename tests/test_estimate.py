"""`dip estimate`: the warning printed before a paper-mode run on a machine without a GPU."""

import json
from pathlib import Path

import pytest

from dip import pipeline
from dip.commands import estimate
from synthetic_run import run_command

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path, monkeypatch, one_thread):
    monkeypatch.chdir(tmp_path)  # fits are looked for under results/ of the working directory
    paper = {**pipeline.load_config(REPO / "config.yaml"), "device": "cpu"}
    reproduction = ("table1", "table1_full_backtracking", "figure7")  # target `all` and its companion
    return {**paper, "experiments": {k: v for k, v in paper["experiments"].items() if k in reproduction},
            "targets": {}}


def _estimate(config, capsys) -> str:
    assert run_command(estimate, ["--config-json", json.dumps(config), "--size", "64"]) == 0
    return capsys.readouterr().err


def _finish(fit_dir: str, iterations: int) -> None:
    Path(fit_dir).mkdir(parents=True)
    Path(fit_dir, "meta.json").write_text(json.dumps({"iterations": iterations}))


def test_paper_mode_on_cpu_warns_with_the_measured_estimate(config, capsys):
    err = _estimate(config, capsys)
    assert err.startswith("WARNING: paper mode without a GPU. 34 fits to run on ")
    assert "measured " in err and " s per iteration at 64x64" in err and "mode=quick" in err
    assert " days of fitting" in err  # 33 x 11000 iterations of 512 x 512 on a CPU


def test_only_fits_still_to_run_are_counted(config, capsys):
    _finish("results/paper/fits/table1/base/boat/seed0", 11000)   # done at the paper's length
    _finish("results/paper/fits/table1/base/house/seed0", 60)     # stopped short: refitted
    _finish("results/quick/fits/table1/base/man/seed0", 60)       # quick mode's: not paper's
    assert "33 fits to run" in _estimate(config, capsys)


def test_quick_mode_prints_one_line_and_no_warning(config, capsys):
    err = _estimate({**config, "mode": "quick"}, capsys)
    assert err.startswith("dip estimate: 14 fits to run on ") and "WARNING" not in err


def test_the_step_is_measured_at_the_median_side_of_the_fits(config):
    """Small problems run slower per pixel, so the measured one is sized like the fits: quick
    mode's 64-pixel crops, paper mode's 512-pixel images capped at 256."""
    sides = {}
    for mode in ("quick", "paper"):
        plan = pipeline.plan({**config, "mode": mode})
        sides[mode] = estimate._median_side([plan.fits[f] for f in plan.fits_of_target("all")])
    assert sides == {"quick": 64, "paper": 256}


def test_a_target_or_the_fits_still_to_run_are_estimated(config, capsys):
    full = ["--configfile", str(REPO / "config.yaml"), "--size", "64"]
    assert run_command(estimate, [*full, "--target", "studies", "--mode", "quick"]) == 0
    assert capsys.readouterr().err.startswith("dip estimate: 17 fits to run on ")
    fits = ["results/quick/fits/architecture/scales=6/house/seed0", "results/quick/fits/table1/base/man/seed0"]
    assert run_command(estimate, [*full, "--mode", "quick", "--fits", *fits]) == 0
    assert capsys.readouterr().err.startswith("dip estimate: 2 fits to run on ")


def test_fits_spread_over_several_gpus_take_a_fraction_of_the_time(config, capsys, monkeypatch):
    """The same measured step: four GPUs run the fits in a quarter of one GPU's time."""
    import torch

    monkeypatch.setattr(estimate, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(estimate, "device_name", lambda device: "Some GPU")
    monkeypatch.setattr(estimate, "measure_paths", lambda *a, **k: [{"s_per_iter": 0.5}])
    totals = {}
    for gpus in (1, 4):
        monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
        err = _estimate({**config, "device": "auto"}, capsys)
        totals[gpus] = err
    assert "34 fits to run on Some GPU:" in totals[1]
    assert "34 fits to run on 4 x Some GPU:" in totals[4]
    days = {g: float(t.split("about ")[1].split()[0]) for g, t in totals.items()}
    assert days[4] == pytest.approx(days[1] / 4, rel=0.05)


def test_cpu_fits_run_one_per_core(config, capsys, monkeypatch):
    monkeypatch.setattr(estimate.os, "cpu_count", lambda: 8)
    assert "34 fits to run on 8 x " in _estimate(config, capsys)
