"""`dip estimate`: the warning printed before a paper-mode run on a machine without a GPU."""

import json
from pathlib import Path

import pytest
import yaml

from dip.commands import estimate
from synthetic_run import run_command

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path, monkeypatch, one_thread):
    monkeypatch.chdir(tmp_path)  # fits are looked for under results/ of the working directory
    return {**yaml.safe_load((REPO / "config.yaml").read_text()), "device": "cpu"}


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
    _finish("results/fits/table1/boat/seed0", 11000)   # done at the paper's length
    _finish("results/fits/table1/house/seed0", 60)     # a quick-mode fit: paper mode refits it
    assert "33 fits to run" in _estimate(config, capsys)


def test_quick_mode_prints_one_line_and_no_warning(config, capsys):
    err = _estimate({**config, "mode": "quick"}, capsys)
    assert err.startswith("dip estimate: 23 fits to run on ") and "WARNING" not in err
