"""Headless Chromium for report tests: load a report, record what loaded, take a screenshot.

Chromium's --dump-dom prints the DOM after the page's load event. A copy of the report, beside
it so relative links resolve the same way, gets a small script that records on <html> how many
<img> have naturalWidth > 0, whether the Table-1 table exists, and which study sections have
a table, a loaded curves image and a computed conclusion, and the same of each task section
(super-resolution, denoising); the dumped DOM is parsed for those
attributes. A full-page screenshot of the unmodified report is saved in tmp_path.
Without Chromium the test is skipped, except under CI (env CI set), where it fails.
"""

import os
import re
import shutil
import subprocess

import pytest

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
  // The column headers of Table 1 and of the first study, as a reader sees them.
  function headers(table) {
    return table ? Array.from(table.tHead.rows[0].cells).map(function (c) { return c.textContent; }).join("|") : "";
  }
  root.setAttribute("data-table1-headers", headers(t));
  root.setAttribute("data-study-headers", headers(document.querySelector("table.study-table")));
  // Sections of a kind, and those with a table of rows (a task without a ground truth says it
  // has none), a loaded image and computed sentences.
  function complete(name, sections, table, said) {
    root.setAttribute("data-" + name, sections.map(function (s) { return s.id; }).join(" "));
    root.setAttribute("data-" + name + "-complete", sections.filter(function (s) {
      var t = s.querySelector(table), img = s.querySelector("img");
      var tabled = s.getAttribute("data-rows") === "0" || (t && t.tBodies[0].rows.length > 0);
      return tabled && img && img.complete && img.naturalWidth > 0 && said(s) > 0;
    }).map(function (s) { return s.id; }).join(" "));
  }
  complete("studies", Array.from(document.querySelectorAll("section.study")), "table.study-table",
           function (s) { return s.querySelectorAll("ul.study-conclusion li").length; });
  complete("sections", Array.from(document.querySelectorAll("section.task-section")), "table",
           function (s) { return document.querySelectorAll("#" + s.id + "-conclusions li").length; });
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


def load_report(binary: str, report, tmp_path) -> dict:
    """The probe's data-* attributes after Chromium loaded a copy of `report` beside it."""
    probe = report.with_name("report.probe.html")
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = run_chromium(binary, tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    finally:
        probe.unlink()
    html_tag = re.search(r"<html\b[^>]*>", dom)
    assert html_tag, dom[:500]
    return dict(re.findall(r'\b(data-[a-z0-9-]+)="([^"]*)"', html_tag.group(0)))
