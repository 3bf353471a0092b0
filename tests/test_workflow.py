"""The Snakemake workflow as users meet it: the plan, the lint, and a quick run end to end.

Every run happens in a temporary working directory (`--directory`), so the repository's own
data/, results/ and reports/ are never touched.
"""

import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import chromium, load_report, run_chromium

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")


def snakemake(workdir: Path, *args: str, timeout: int = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [
        SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(REPO / "config.yaml"), *args,
    ]
    run_env = {**os.environ, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=run_env)


def job_counts(output: str) -> dict[str, int]:
    """Rule -> job count from Snakemake's 'Job stats' table."""
    table = output.split("Job stats:", 1)[1]
    counts = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\S+)\s+(\d+)$", line.strip())
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    return counts


def test_paper_plan_has_33_table1_fits_and_one_figure7_fit(tmp_path):
    res = snakemake(tmp_path, "--dry-run", "--cores", "2", "--printshellcmds")
    assert res.returncode == 0, res.stderr + res.stdout
    out = res.stdout + res.stderr
    assert job_counts(out)["fit"] == 34
    fits = re.findall(r"dip fit .*?--out (results/fits/\S+)", out)
    assert len(fits) == len(set(fits)) == 34
    assert sum(f.startswith("results/fits/table1/") for f in fits) == 33
    assert [f for f in fits if f.startswith("results/fits/figure7/")] == ["results/fits/figure7/kate/seed0"]
    # A rerun after a killed fit goes on from its last checkpoint.
    commands = re.findall(r"dip fit .*?--out \S+", out)
    assert len(commands) == 34 and all("--resume auto" in c for c in commands)


def test_failure_injection_reaches_the_fit_command(tmp_path):
    res = snakemake(tmp_path, "--dry-run", "--cores", "2", "--printshellcmds",
                    "--config", "mode=quick", "inject_failure=[table1/house/0]")
    assert res.returncode == 0, res.stderr + res.stdout
    failing = [line for line in res.stdout.splitlines() if "--fail-at-iteration" in line]
    assert len(failing) == 1 and "results/fits/table1/house/seed0" in failing[0]


def test_lint_and_format():
    lint = subprocess.run([SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.e2e
def test_quick_mode_end_to_end(tmp_path, mirror):
    start = time.monotonic()
    res = snakemake(tmp_path, "--cores", "2", "--config", "mode=quick", timeout=1200,
                    env={"DIP_DATA_MIRROR": str(mirror)})
    elapsed = time.monotonic() - start
    assert res.returncode == 0, (res.stdout + res.stderr)[-8000:]
    print(f"quick mode end to end: {elapsed:.0f} s")

    reports = tmp_path / "reports"
    for name in ("report.html", "report.md", "table1.csv", "table1.md", "figure7.png", "figure7.pdf"):
        assert (reports / name).stat().st_size > 0, name
    with open(reports / "table1.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12  # 11 images + mean
    assert "quick" in (reports / "report.html").read_text().lower()

    # The report as a reader opens it: every image loads and Table 1 has 11 rows + the mean.
    binary = chromium()
    attrs = load_report(binary, reports / "report.html", tmp_path)
    assert attrs.get("data-mode") == "quick"
    assert int(attrs["data-images"]) == 5, attrs  # figure 7, then curves and snapshots of 2 experiments
    assert attrs["data-images-loaded"] == attrs["data-images"], f"broken images: {attrs['data-broken']}"
    assert int(attrs["data-table1-rows"]) == 12
    run_chromium(binary, tmp_path, "--window-size=1280,6000", f"--screenshot={tmp_path / 'report.png'}",
                 (reports / "report.html").as_uri())
    assert (tmp_path / "report.png").stat().st_size > 0

    rep = snakemake(tmp_path, "--report", str(tmp_path / "snakemake-report.html"), "--config", "mode=quick",
                    timeout=300, env={"DIP_DATA_MIRROR": str(mirror)})
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert (tmp_path / "snakemake-report.html").stat().st_size > 0
