"""Table 1: aggregation over seeds, mean row, difference column, published-output PSNR."""

import numpy as np
import pytest

from dip.report import paper
from dip.commands import table1 as table1_cmd
from dip.errors import DipError
from dip.data.images import load_image, save_image
from dip.scoring.metrics import psnr
from dip.report.tables import published_psnr, read_csv, table1_rows, to_csv, to_markdown
from synthetic_run import run_command


def rec(image, seed, p, ema=None, clean=None):
    q = {"psnr": p, "ssim": 0.9, "psnr_uint8": p - 0.01, "ssim_uint8": 0.9}
    return {"image": image, "seed": seed, "output": q, "backtracks": seed,
            "output_clean": {**q, "psnr": clean if clean is not None else p + 0.3},
            "ema": {**q, "psnr": ema if ema is not None else p + 0.5}}


METRICS = [rec("house", 0, 39.0), rec("house", 1, 39.4), rec("house", 2, 38.9),
           rec("barbara", 0, 31.0), rec("barbara", 1, 32.0)]


def test_mean_std_over_seeds_and_paper_order():
    rows = table1_rows(METRICS)
    assert [r["image"] for r in rows] == ["barbara", "house", "mean"]
    house = rows[1]
    assert house["n_seeds"] == 3
    assert house["ours_psnr_mean"] == pytest.approx(np.mean([39.0, 39.4, 38.9]))
    assert house["ours_psnr_std"] == pytest.approx(np.std([39.0, 39.4, 38.9], ddof=1))
    assert (house["ours_psnr_min"], house["ours_psnr_max"]) == (38.9, 39.4)
    assert house["ema_psnr_mean"] == pytest.approx(house["ours_psnr_mean"] + 0.5)
    assert house["clean_psnr_mean"] == pytest.approx(house["ours_psnr_mean"] + 0.3)
    assert house["clean_gain_mean"] == pytest.approx(0.3) and house["ema_gain_mean"] == pytest.approx(0.5)
    assert house["backtracks"] == 0 + 1 + 2
    assert house["fullbt_psnr_mean"] is None  # no such fits given
    assert house["paper_dip"] == paper.TABLE1_DIP["house"] and house["paper_papyan"] == paper.TABLE1_PAPYAN["house"]
    assert house["diff_vs_paper"] == pytest.approx(house["ours_psnr_mean"] - 39.16)
    assert house["label"] == "House"


def test_mean_row_covers_the_same_images():
    rows = table1_rows(METRICS, published_dip={"barbara": 32.18, "house": 39.0})
    mean = rows[-1]
    assert mean["n_seeds"] == 2
    assert mean["ours_psnr_mean"] == pytest.approx((31.5 + np.mean([39.0, 39.4, 38.9])) / 2)
    assert mean["paper_dip"] == pytest.approx((32.22 + 39.16) / 2)
    assert mean["diff_vs_paper"] == pytest.approx(mean["ours_psnr_mean"] - mean["paper_dip"])
    assert mean["published_dip_psnr"] == pytest.approx((32.18 + 39.0) / 2)
    assert mean["published_papyan_psnr"] is None  # not known for every image


def test_improvements_are_paired_by_seed_and_shown_after_ours():
    clean = [rec("house", 0, 30.0, clean=31.0), rec("house", 1, 32.0, clean=32.5)]
    full = [rec("house", 0, 30.2), rec("house", 1, 31.0), rec("house", 7, 50.0)]
    (house, mean) = table1_rows(clean, full_backtracking=full)
    assert house["clean_gain_mean"] == pytest.approx(0.75)
    assert house["clean_gain_std"] == pytest.approx(np.std([1.0, 0.5], ddof=1))
    assert house["fullbt_psnr_mean"] == pytest.approx(np.mean([30.2, 31.0, 50.0]))
    assert house["fullbt_gain_mean"] == pytest.approx(np.mean([0.2, -1.0]))  # seed 7 has no pair
    header = to_markdown([house, mean], "paper").splitlines()[2]
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells[2].startswith("Ours: the paper's output")
    assert cells[3:6] == ["Noise-free output (gain)", "Output average (gain)",
                          "Full-state backtracking (gain)"]
    line = to_markdown([house, mean], "paper").splitlines()[4]
    assert "| 31.75 ± 1.06 (+0.75) |" in line and "(-0.40)" in line


def test_a_record_without_the_noise_free_output_is_named():
    old = rec("boat", 0, 33.0)
    del old["output_clean"]
    with pytest.raises(DipError, match="boat.*seed 0.*output_clean"):
        table1_rows([old])


def test_single_seed_has_no_std_and_duplicates_are_rejected():
    rows = table1_rows([rec("boat", 0, 33.0)])
    assert rows[0]["ours_psnr_std"] is None
    assert "±" not in to_markdown(rows, "paper").splitlines()[4]
    with pytest.raises(DipError, match="twice"):
        table1_rows([rec("boat", 0, 33.0), rec("boat", 0, 33.1)])


def test_csv_round_trip_and_quick_title(tmp_path):
    rows = table1_rows(METRICS, published_papyan={"barbara": 28.13})
    (tmp_path / "t.csv").write_text(to_csv(rows))
    back = read_csv(tmp_path / "t.csv")
    assert [r["image"] for r in back] == [r["image"] for r in rows]
    assert back[1]["ours_psnr_mean"] == pytest.approx(rows[1]["ours_psnr_mean"], abs=1e-4)
    assert back[0]["published_papyan_psnr"] == pytest.approx(28.13)
    assert "QUICK MODE" in to_markdown(rows, "quick").splitlines()[0]
    assert "QUICK" not in to_markdown(rows, "paper")
    assert "| 39.10 ± 0.26 |" in to_markdown(rows, "paper")


def test_published_psnr_is_dip_metrics_psnr(tmp_path):
    rng = np.random.default_rng(3)
    gt = rng.random((16, 16))
    out = np.clip(gt + rng.normal(0, 0.05, gt.shape), 0, 1)
    save_image(tmp_path / "gt.png", gt)
    save_image(tmp_path / "out.png", out)
    expected = psnr(load_image(tmp_path / "out.png"), load_image(tmp_path / "gt.png"))
    assert published_psnr(tmp_path / "out.png", tmp_path / "gt.png") == expected
    save_image(tmp_path / "small.png", gt[:8])
    with pytest.raises(DipError, match="shape"):
        published_psnr(tmp_path / "small.png", tmp_path / "gt.png")


def test_published_outputs_of_the_mirror(mirror):
    """The authors' published Barbara output scores 32.18 dB (data README), Papyan's 28.13 dB."""
    page = mirror / "table1/dip_project_page"
    gt = mirror / "table1/barbara.png"
    assert published_psnr(page / "barbara_deep_prior.png", gt) == pytest.approx(32.18, abs=0.005)
    assert published_psnr(page / "barbara_papyan.png", gt) == pytest.approx(28.13, abs=0.005)
    assert published_psnr(page / "Lena512_deep_prior.png", mirror / "table1/lena.png") == pytest.approx(36.08, abs=0.005)


def test_cli_needs_a_gt_for_each_published_output(tmp_path):
    save_image(tmp_path / "o.png", np.zeros((4, 4)))
    with pytest.raises(DipError, match="no --gt for barbara"):
        run_command(table1_cmd, ["--published-dip", f"barbara={tmp_path / 'o.png'}",
                                 "--out-csv", tmp_path / "t.csv", "--out-md", tmp_path / "t.md"])
    assert not (tmp_path / "t.csv").exists()


def test_before_any_fit_the_mean_row_averages_the_published_columns():
    rows = table1_rows([], published_dip={"barbara": 32.0, "boat": 33.0})
    assert [r["image"] for r in rows] == ["barbara", "boat", "mean"]
    assert rows[-1]["published_dip_psnr"] == pytest.approx(32.5)
    assert rows[-1]["paper_dip"] == pytest.approx((32.22 + 33.06) / 2)
    assert rows[-1]["ours_psnr_mean"] is None and rows[-1]["diff_vs_paper"] is None
    assert "our results on 0 image(s)" in to_markdown(rows, "paper")
