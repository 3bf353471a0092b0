"""The network x loop harness (workflow/scripts/fidelity_grid.py), on toy networks and crops:
its cells run what they claim, its statistics are right, and it runs end to end without the
official checkout."""

import json
import sys

import numpy as np
import pytest

from conftest import REPO
from dip.cli import main as dip_main
from dip.data.images import save_image
from dip.physics.masks import save_mask

sys.path.insert(0, str(REPO / "workflow" / "scripts"))
import fidelity_grid as grid  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


def write_inputs(folder, size: int):
    """A smooth grey image with half its pixels known, laid out as `dip prepare` writes it."""
    folder.mkdir(parents=True)
    yy, xx = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size), indexing="ij")
    gt = (0.5 + 0.4 * np.sin(7 * xx) * np.cos(5 * yy)).astype(np.float32)
    mask = np.random.default_rng(0).random((size, size)) > 0.5
    save_image(folder / "gt.png", gt)
    save_image(folder / "observed.png", gt * mask)
    save_mask(folder / "mask.png", mask)
    return folder


@pytest.fixture
def toy_inputs(tmp_path):
    return write_inputs(tmp_path / "inputs", 16)


def test_notebook_loop_is_deterministic_per_seed(toy_inputs):
    run = lambda seed: grid.notebook_loop(grid.ours(grid.TOY), toy_inputs, seed, 5)[0]  # noqa: E731
    np.testing.assert_array_equal(run(3), run(3))
    assert np.abs(run(3) - run(4)).max() > 1e-4


def test_ours_loop_is_dip_fit(tmp_path):
    """The `ours` cell with our network gives `dip fit --preset table1`'s final image, bit for bit."""
    inputs = write_inputs(tmp_path / "inputs", 64)
    ours, backtracks = grid.ours_loop(grid.ours(grid.TABLE1), inputs, seed=2, iterations=2, widths=grid.TABLE1)
    assert dip_main(["fit", "--preset", "table1", "--image", str(inputs / "observed.png"),
                     "--mask", str(inputs / "mask.png"), "--seed", "2", "--iterations", "2",
                     "--snapshots", "", "--device", "cpu", "--out", str(tmp_path / "fit")]) == 0
    np.testing.assert_array_equal(ours, np.load(tmp_path / "fit" / "output.npy"))
    assert backtracks == json.loads((tmp_path / "fit" / "meta.json").read_text())["backtracks"]


def test_paired_contrast_on_known_numbers():
    scores = {("official", "notebook"): {0: 31.0, 1: 32.0, 2: 34.0},
              ("ours", "notebook"): {0: 30.0, 1: 30.0, 2: 31.0, 3: 99.0}}
    mean, se, n = grid.contrast(scores, {("official", "notebook"): 1.0, ("ours", "notebook"): -1.0})
    # differences 1, 2, 3 over the shared seeds: mean 2, std 1
    assert (n, mean) == (3, pytest.approx(2.0)) and se == pytest.approx(1 / np.sqrt(3))


def test_main_effect_averages_the_other_factor():
    scores = {("official", "notebook"): {0: 4.0, 1: 6.0}, ("official", "ours"): {0: 2.0, 1: 2.0},
              ("ours", "notebook"): {0: 1.0, 1: 1.0}, ("ours", "ours"): {0: 1.0, 1: 3.0}}
    effects = grid.comparisons(list(grid.CELLS))
    assert len(effects) == 6 + 2
    # per seed: (4 + 2 - 1 - 1) / 2 = 2 and (6 + 2 - 1 - 3) / 2 = 2
    mean, se, n = grid.contrast(scores, effects["network: official − ours, both loops"])
    assert (mean, se, n) == (pytest.approx(2.0), pytest.approx(0.0), 2)


def test_seed_ranges():
    assert grid.seed_ranges([5, 0, 1, 2, 7, 8]) == "0–2, 5, 7–8"
    assert grid.parse_seeds(["0-2", "7"]) == [0, 1, 2, 7]


def test_main_runs_end_to_end_without_the_official_checkout(tmp_path, capsys):
    write_inputs(tmp_path / "work" / "crop16" / "inputs" / "toyimage", 16)
    argv = ["--images", "toyimage", "--crop", "16", "--iterations", "4", "--seeds", "0-2",
            "--toy", "--work", str(tmp_path / "work")]
    assert grid.main(argv) == 0
    printed = capsys.readouterr().out
    assert "official cells skipped" in printed and "| toyimage | official" not in printed
    assert "| toyimage | ours | notebook | 3 | 0–2 |" in printed
    assert "| toyimage | ours/notebook − ours/ours | 3 |" in printed
    rows = grid.read_fits(tmp_path / "work" / "fits.csv")
    assert len(rows) == 6 and {r["backtracks"] for r in rows} == {"0"}

    assert grid.main(argv) == 0  # every fit is on file: nothing runs again
    assert len(grid.read_fits(tmp_path / "work" / "fits.csv")) == 6
    assert "| toyimage | ours | ours | 3 | 0–2 |" in capsys.readouterr().out

    assert grid.main([*argv, "--seeds", "1-2", "--table-only"]) == 0  # only the seeds asked for
    assert "| toyimage | ours | ours | 2 | 1–2 |" in capsys.readouterr().out
