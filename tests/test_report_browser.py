"""Open a synthetic report in real headless Chromium: every image loads, Table 1, the study
and the super-resolution and denoising sections are there, each with its table and figure."""

import pytest
from PIL import Image

from browser import chromium, load_report, run_chromium
from synthetic_run import build_reports

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("mode", ["paper", "quick"])
def test_report_in_headless_chromium(tmp_path, mode):
    binary = chromium()
    root = tmp_path / "run"
    root.mkdir()
    build_reports(root, mode, with_sections=True)
    report = root / "reports/report.html"
    attrs = load_report(binary, report, tmp_path)
    assert attrs.get("data-mode") == mode
    assert int(attrs["data-images"]) == 6, attrs  # figure 7, curves, snapshots, a study, 2 sections
    assert attrs["data-images-loaded"] == attrs["data-images"], f"broken images: {attrs['data-broken']}"
    assert int(attrs["data-table1-rows"]) == 4  # three images and the mean row
    assert attrs["data-studies"] == attrs["data-studies-complete"] == "study-lr_study"
    assert attrs["data-sections"] == attrs["data-sections-complete"] == \
        "section-sr_synthetic section-denoising_synthetic"

    shot = tmp_path / f"report_{mode}.png"
    run_chromium(binary, tmp_path, "--window-size=1280,5000", f"--screenshot={shot}", report.as_uri())
    with Image.open(shot) as im:
        assert im.size == (1280, 5000)
        # Not a blank page: the rendered report has ink.
        assert im.convert("L").getextrema()[0] < 100
