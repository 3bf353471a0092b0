"""Open a synthetic report in real headless Chromium: every image loads, Table 1 is there.

Chromium's --dump-dom prints the DOM after the page's load event. A copy of the report, beside
it so relative links resolve the same way, gets a small script that records on <html> how many
<img> have naturalWidth > 0 and whether the Table-1 table exists; the dumped DOM is parsed for
those attributes. A full-page screenshot of the unmodified report is saved in tmp_path.
Without Chromium the test is skipped, except under CI (env CI set), where it fails.
"""

import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

from synthetic_run import build_reports

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]

PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.from(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  var root = document.documentElement;
  root.setAttribute("data-images", imgs.length);
  root.setAttribute("data-images-loaded", ok.length);
  root.setAttribute("data-broken", imgs.filter(function (i) { return ok.indexOf(i) < 0; })
                                     .map(function (i) { return i.getAttribute("src"); }).join(" "));
  var t = document.getElementById("table1");
  root.setAttribute("data-table1-rows", t ? t.tBodies[0].rows.length : -1);
});
</script>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; CI must install it (.ci/run does: apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium); skipped outside CI")


def run_chromium(binary, tmp_path, *args) -> str:
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    proc = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("mode", ["paper", "quick"])
def test_report_in_headless_chromium(tmp_path, mode):
    binary = chromium()
    root = tmp_path / "run"
    root.mkdir()
    build_reports(root, mode)
    report = root / "reports/report.html"
    probe = report.with_name("report.probe.html")
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))

    dom = run_chromium(binary, tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    html_tag = re.search(r"<html\b[^>]*>", dom)
    assert html_tag, dom[:500]
    attrs = dict(re.findall(r'\b(data-[a-z0-9-]+)="([^"]*)"', html_tag.group(0)))
    assert attrs.get("data-mode") == mode
    assert int(attrs["data-images"]) == 3, attrs
    assert attrs["data-images-loaded"] == attrs["data-images"], f"broken images: {attrs['data-broken']}"
    assert int(attrs["data-table1-rows"]) == 4  # three images and the mean row

    shot = tmp_path / f"report_{mode}.png"
    run_chromium(binary, tmp_path, "--window-size=1280,5000", f"--screenshot={shot}", report.as_uri())
    with Image.open(shot) as im:
        assert im.size == (1280, 5000)
        # Not a blank page: the rendered report has ink.
        assert im.convert("L").getextrema()[0] < 100
