"""Figure 7, curves and snapshots: valid PNG/PDF files, panel counts, computed PSNR captions."""

import numpy as np
import pytest
from PIL import Image

from dip.commands import curves as curves_cmd
from dip.commands import snapshots as snapshots_cmd
from dip.errors import DipError
from dip.report.figures import Panel, curves, figure7, read_trace, seed_band, snapshots
from dip.scoring.metrics import psnr
from synthetic_run import build, build_reports, run_command

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", params=["paper", "quick"])
def run(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    build_reports(root, request.param)  # quick: centre crops, so published outputs are cut to match
    return root


def test_figure7_files_are_valid_png_and_pdf(run):
    png, pdf = run / "reports/figure7.png", run / "reports/figure7.pdf"
    assert png.read_bytes()[:8] == PNG and pdf.read_bytes()[:5] == b"%PDF-"
    with Image.open(png) as im:
        im.verify()
    assert b"/Type /Page" in pdf.read_bytes()


def test_figure7_has_three_plus_five_panels_with_computed_psnr():
    rng = np.random.default_rng(0)
    gt = rng.random((16, 16))
    noisy = lambda s: np.clip(gt + rng.normal(0, s, gt.shape), 0, 1)  # noqa: E731
    kate_gt = rng.random((16, 16, 3))
    fig = figure7({"observed": kate_gt * 0.5, "ours": kate_gt * 0.9, "gt": kate_gt},
                  {"observed": noisy(0.3), "papyan": noisy(0.1), "published_dip": noisy(0.05), "ours": noisy(0.04), "gt": gt})
    assert len(fig.axes) == 8
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert labels[2] == "Ground truth" and labels[7] == "Ground truth"
    assert labels[0] == f"Corrupted image\nPSNR {psnr(kate_gt * 0.5, kate_gt):.2f} dB"
    # Bottom row in the paper's order, all captions computed.
    assert [lab.split("\n")[0] for lab in labels[3:]] == [
        "Corrupted image", "Papyan et al. (published)", "Deep image prior (published)", "Deep image prior (ours)", "Ground truth"]
    # Grayscale panels are drawn with the gray map on [0, 1].
    im = fig.axes[4].images[0]
    assert im.get_cmap().name == "gray" and im.get_clim() == (0.0, 1.0)


def test_panel_rejects_a_shape_mismatch():
    with pytest.raises(DipError, match="shape"):
        Panel(np.zeros((4, 4)), "x", np.zeros((5, 5))).caption()


def test_seed_band_over_common_iterations(tmp_path):
    a = {"iteration": np.array([0, 10, 20]), "psnr_gt": np.array([1.0, 2.0, 3.0])}
    b = {"iteration": np.array([0, 10, 20, 30]), "psnr_gt": np.array([3.0, 4.0, 5.0, 6.0])}
    it, mean, lo, hi = seed_band([a, b], "psnr_gt")
    assert it.tolist() == [0, 10, 20]
    assert mean.tolist() == [2.0, 3.0, 4.0] and lo.tolist() == [1.0, 2.0, 3.0] and hi.tolist() == [3.0, 4.0, 5.0]
    with pytest.raises(DipError, match="no column"):
        seed_band([a], "psnr_ema_gt")


def test_curves_one_panel_per_image(run, tmp_path):
    traces = {i: [read_trace(run / f"results/fits/table1/{i}/seed{s}/trace.csv") for s in (0, 1)] for i in ("barbara", "boat")}
    fig = curves(traces, references={"barbara": 32.22})
    assert len(fig.axes) == 2
    assert any(line.get_label() == "paper 32.22" for line in fig.axes[0].lines)
    assert (run / "reports/curves_table1.png").read_bytes()[:8] == PNG
    bad = tmp_path / "bad.csv"
    bad.write_text("loss\n1\n")
    with pytest.raises(DipError, match="not a trace"):
        run_command(curves_cmd, ["--trace", f"x={bad}", "--out", tmp_path / "c.png"])


def test_snapshot_grid_rows_images_columns_iterations(tmp_path):
    root = tmp_path / "run"
    root.mkdir()
    build(root)
    snaps = {i: root / f"results/fits/table1/{i}/seed0/snapshots" for i in ("barbara", "boat")}
    fig = snapshots(snaps)
    assert len(fig.axes) == 2 * 3
    assert [ax.get_title() for ax in fig.axes[:3]] == ["iteration 10", "iteration 20", "iteration 40"]
    (snaps["boat"] / "iter_000020.png").unlink()
    fig = snapshots(snaps, iterations=[10, 20, 40])  # the schedule both fits were given
    assert fig.axes[4].texts[0].get_text() == "missing" and not fig.axes[4].images
    # fits on other schedules (a figure reusing another experiment's fit): each row its own
    fig = snapshots(snaps)
    assert [ax.get_title() for ax in fig.axes] == ["iteration 10", "iteration 20", "iteration 40",
                                                   "iteration 10", "iteration 40", ""]
    assert all(ax.images for ax in fig.axes[:5]) and not fig.axes[5].images
    fig = snapshots(snaps, iterations=[40])
    assert len(fig.axes) == 2
    run_command(snapshots_cmd, ["--dir", *[f"{k}={v}" for k, v in snaps.items()], "--out", tmp_path / "s.png"])
    with Image.open(tmp_path / "s.png") as im:
        assert im.format == "PNG" and im.width > 200
    with pytest.raises(DipError, match="not a snapshot folder"):
        snapshots({"x": tmp_path / "nowhere"})
