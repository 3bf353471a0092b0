"""The Snakemake workflow as users meet it: the plans, the lint, and quick runs end to end.

Every run happens in a temporary working directory (`--directory`), so the repository's own
data/, results/ and reports/ are never touched. One quick run (`studies`, then `all`, over a
simulated paper run) serves every end-to-end and browser check.
"""

import csv
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from browser import chromium, load_report, run_chromium
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")
STUDIES = ("settings", "architecture", "hyperparameters")


def snakemake(workdir: Path, *args: str, timeout: int = 900, env: dict | None = None,
              configfile: Path = REPO / "config.yaml") -> subprocess.CompletedProcess:
    cmd = [SNAKEMAKE, *args, "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile)]
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
    fits = re.findall(r"dip fit .*?--out (results/\S+)", out)
    assert len(fits) == len(set(fits)) == 34
    assert sum(f.startswith("results/paper/fits/table1/base/") for f in fits) == 33
    assert [f for f in fits if "/figure7/" in f] == ["results/paper/fits/figure7/base/kate/seed0"]
    # A rerun after a killed fit goes on from its last checkpoint.
    commands = re.findall(r"dip fit .*?--out \S+", out)
    assert len(commands) == 34 and all("--resume auto" in c for c in commands)
    # `make run` writes reports/report.html, where the README says.
    assert "reports/report.html" in out and "reports/paper/all/report.html" in out


def test_studies_plan_in_paper_mode(tmp_path):
    res = snakemake(tmp_path, "studies", "--dry-run", "--cores", "2", "--printshellcmds")
    assert res.returncode == 0, res.stderr + res.stdout
    out = res.stdout + res.stderr
    counts = job_counts(out)
    assert counts["study"] == 3 and counts["report"] == 1 and counts["fit"] == 234
    assert "reports/paper/studies/report.html" in out
    sweeps = re.findall(r"--reg-noise-std (\S+) --out results/paper/fits/hyperparameters/reg_noise_std=([^/\s]+)/", out)
    assert sweeps and all(a == b for a, b in sweeps)


def test_failure_injection_reaches_the_fit_command(tmp_path):
    res = snakemake(tmp_path, "--dry-run", "--cores", "2", "--printshellcmds",
                    "--config", "mode=quick", "inject_failure=[table1/house/0]")
    assert res.returncode == 0, res.stderr + res.stdout
    failing = [line for line in res.stdout.splitlines() if "--fail-at-iteration" in line]
    assert len(failing) == 1 and "results/quick/fits/table1/base/house/seed0" in failing[0]


def test_lint_and_format():
    lint = subprocess.run([SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


# A paper run, simulated: files at every kind of paper path. A quick run must not touch them.
PAPER_FILES = (
    "results/paper/fits/table1/base/house/seed0/meta.json",
    "results/paper/fits/table1/base/house/seed0/output.npy",
    "results/paper/metrics/table1/base/house/seed0.json",
    "results/paper/run_config.json",
    "data/inputs/paper/table1/house/seed0/gt.png",
    "reports/paper/all/report.html",
    "reports/paper/experiments/table1/table.csv",
    "reports/report.html",
    "logs/paper/fit/table1/base/house/seed0.log",
    "benchmarks/paper/fit/table1/base/house/seed0.tsv",
)


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for top in ("results/paper", "data/inputs/paper", "reports/paper", "logs/paper",
                        "benchmarks/paper", "reports/report.html")
            for p in ([root / top] if (root / top).is_file() else sorted((root / top).rglob("*")))
            if p.is_file()}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, mirror):
    """`snakemake studies` then `snakemake` (all) in quick mode, after a simulated paper run."""
    root = tmp_path_factory.mktemp("quick")
    for k, rel in enumerate(PAPER_FILES):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(f"paper run, hours of GPU work {k}\n".encode())
    before = _digests(root)
    env = {"DIP_DATA_MIRROR": str(mirror)}
    plan = snakemake(root, "all", "studies", "--dry-run", "--printshellcmds", "--cores", "2",
                     "--config", "mode=quick", env=env)
    assert plan.returncode == 0, plan.stderr + plan.stdout
    start = time.monotonic()
    studies = snakemake(root, "studies", "--cores", "2", "--config", "mode=quick", timeout=2400, env=env)
    studies_s = time.monotonic() - start
    assert studies.returncode == 0, (studies.stdout + studies.stderr)[-8000:]
    start = time.monotonic()
    run_all = snakemake(root, "--cores", "2", "--config", "mode=quick", timeout=2400, env=env)
    all_s = time.monotonic() - start
    assert run_all.returncode == 0, (run_all.stdout + run_all.stderr)[-8000:]
    print(f"quick mode end to end: studies {studies_s:.0f} s, then all {all_s:.0f} s")
    return {"root": root, "before": before, "plan": plan.stdout + plan.stderr, "env": env}


@pytest.mark.e2e
def test_quick_mode_after_a_paper_run_leaves_the_paper_paths_alone(quick_run):
    root = quick_run["root"]
    assert "/paper/" not in quick_run["plan"] and "reports/report.html" not in quick_run["plan"]
    assert _digests(root) == quick_run["before"]
    assert len(quick_run["before"]) == len(PAPER_FILES)


@pytest.mark.e2e
def test_quick_mode_paper_report(quick_run):
    root = quick_run["root"]
    reports = root / "reports/quick"
    for name in ("all/report.html", "all/report.md", "experiments/table1/table.csv",
                 "experiments/table1/table.md", "experiments/figure7/figure.png",
                 "experiments/figure7/figure.pdf"):
        assert (reports / name).stat().st_size > 0, name
    with open(reports / "experiments/table1/table.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12  # 11 images + mean
    html = (reports / "all/report.html").read_text()
    assert "quick" in html.lower() and "Study" not in html

    # The report as a reader opens it: every image loads and Table 1 has 11 rows + the mean.
    binary = chromium()
    attrs = load_report(binary, reports / "all/report.html", root)
    assert attrs.get("data-mode") == "quick"
    assert int(attrs["data-images"]) == 5, attrs  # figure 7, then curves and snapshots of 2 experiments
    assert attrs["data-images-loaded"] == attrs["data-images"], f"broken images: {attrs['data-broken']}"
    assert int(attrs["data-table1-rows"]) == 12
    # beside the paper's output: the stop without the ground truth, the oracle peak, the gap
    headers = attrs["data-table1-headers"].split("|")
    assert {"Stopped without ground truth (gain)", "Stopped at (iteration)", "Peak during the fit (oracle)",
            "Peak − stopped"} <= set(headers), headers


@pytest.mark.e2e
def test_quick_studies_report_in_the_browser(quick_run, tmp_path):
    root = quick_run["root"]
    report = root / "reports/quick/studies/report.html"
    binary = chromium()
    attrs = load_report(binary, report, root)
    expected = " ".join(f"study-{s}" for s in STUDIES)
    assert attrs["data-studies"] == expected
    assert attrs["data-studies-complete"] == expected, attrs
    assert {"stopped without ground truth", "peak during the fit (oracle)", "peak − stopped"} <= set(
        attrs["data-study-headers"].split("|")), attrs["data-study-headers"]
    assert attrs["data-images-loaded"] == attrs["data-images"], f"broken images: {attrs['data-broken']}"
    html = report.read_text()
    for study in STUDIES:
        section = html[html.index(f'id="study-{study}"'):]
        section = section[:section.index("</section>")]
        assert " win" in section  # the computed conclusion names a winner
    assert "no spread over seeds is known" in html  # quick mode runs one seed
    run_chromium(binary, tmp_path, "--window-size=1280,6000", f"--screenshot={tmp_path / 'studies.png'}",
                 report.as_uri())
    assert (tmp_path / "studies.png").stat().st_size > 0


@pytest.mark.e2e
def test_snakemake_report_of_the_quick_run(quick_run, tmp_path):
    rep = snakemake(quick_run["root"], "--report", str(tmp_path / "snakemake-report.html"),
                    "--config", "mode=quick", timeout=300, env=quick_run["env"])
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert (tmp_path / "snakemake-report.html").stat().st_size > 0


@pytest.mark.e2e
def test_a_config_with_one_experiment_and_an_own_image_runs_to_a_report(tmp_path, mirror):
    """One study (no table1, no figure7) over a registry image and a user's colour photo with
    no ground truth: fitted, shown, its scores marked unavailable."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:90, 0:100] / 30.0
    photo = np.stack([0.5 + 0.3 * np.sin(xx + c) * np.cos(yy) for c in range(3)], -1)
    Image.fromarray(np.uint8(np.clip(photo + 0.05 * rng.random(photo.shape), 0, 1) * 255)).save(tmp_path / "photo.png")
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["experiments"] = {"mine": {"preset": "table1", "mask": "bernoulli", "vary": {"lr": [0.01]},
                                      "images": ["house", {"name": "photo", "path": "photo.png",
                                                           "ground_truth": False}]}}
    config["targets"] = {}
    config["quick"]["iterations"] = 10
    config["registry"] = str(REPO / "workflow/registry.tsv")
    configfile = tmp_path / "mine.yaml"
    configfile.write_text(yaml.safe_dump(config))
    res = snakemake(tmp_path, "--cores", "2", "--config", "mode=quick", configfile=configfile,
                    env={"DIP_DATA_MIRROR": str(mirror)})
    assert res.returncode == 0, (res.stdout + res.stderr)[-8000:]
    counts = job_counts(res.stdout + res.stderr)
    assert counts["fit"] == 4 and counts["evaluate"] == 2  # the photo has nothing to be scored against
    assert np.load(tmp_path / "results/quick/fits/mine/base/photo/seed0/output.npy").shape == (64, 64, 3)
    html = (tmp_path / "reports/quick/all/report.html").read_text()
    assert 'id="study-mine"' in html and "lr = 0.01" in html
    study = html[html.index('id="study-mine"'):]
    assert "<td>photo</td><td class=\"num\">unavailable</td>" in study
    binary = chromium()
    attrs = load_report(binary, tmp_path / "reports/quick/all/report.html", tmp_path)
    assert attrs["data-studies-complete"] == "study-mine"
    assert int(attrs["data-images"]) == 2 and attrs["data-images-loaded"] == "2"  # curves, snapshots


@pytest.mark.e2e
def test_after_failed_fits_the_partial_report_names_what_is_missing(tmp_path, mirror):
    """A run with --keep-going in which three fits fail exits non-zero naming them; the
    normal report is not built; `report_partial` builds one from the fits that finished,
    without refitting, declared partial on its first line, the missing fits marked."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    images = ["house", "barbara", "peppers"]
    config["experiments"]["table1"]["images"] = images
    config["experiments"]["table1_full_backtracking"]["quick_images"] = images
    config["experiments"]["mine"] = {"preset": "table1", "images": ["house", "peppers"], "mask": "authors",
                                     "report": "study", "vary": {"lr": [0.01]}}
    config["targets"] = {"all": ["table1", "figure7"], "studies": ["mine"]}
    config["quick"]["iterations"] = 5
    config["registry"] = str(REPO / "workflow/registry.tsv")
    configfile = tmp_path / "partial.yaml"
    configfile.write_text(yaml.safe_dump(config))
    failing = ["table1/house/0", "figure7/kate/0", "mine/lr=0.01/peppers/0"]
    common = ("--cores", "2", "--config", "mode=quick", f"inject_failure=[{','.join(failing)}]")
    env = {"DIP_DATA_MIRROR": str(mirror)}

    run = snakemake(tmp_path, "all", "studies", "--keep-going", *common, configfile=configfile, env=env)
    assert run.returncode != 0
    log = run.stdout + run.stderr
    failed = set(re.findall(r"Error in rule fit:\n(?:    .*\n)*?    output: (\S+)", log))
    assert failed == {"results/quick/fits/table1/base/house/seed0", "results/quick/fits/figure7/base/kate/seed0",
                      "results/quick/fits/mine/lr=0.01/peppers/seed0"}, log[-6000:]
    assert not (tmp_path / "reports/quick/all/report.html").exists()

    part = snakemake(tmp_path, "report_partial", "reports/quick/studies/partial/report.html", *common,
                     configfile=configfile, env=env)
    assert part.returncode == 0, (part.stdout + part.stderr)[-6000:]
    assert "fit" not in job_counts(part.stdout + part.stderr)  # nothing refitted
    md = (tmp_path / "reports/quick/all/partial/report.md").read_text()
    assert md.splitlines()[0] == "# PARTIAL REPORT (5 of 7 fits finished): Deep Image Prior, reproduced"
    assert "| House | 0 of 1 | missing |" in md
    assert "Not drawn: missing fits figure7/base/kate/0." in md
    studies = (tmp_path / "reports/quick/studies/partial/report.md").read_text()
    assert studies.startswith("# PARTIAL REPORT (3 of 4 fits finished)")
    assert "peppers (missing: seed0)" in studies and "Partial: 1 fit of this study did not finish" in studies

    binary = chromium()
    attrs = load_report(binary, tmp_path / "reports/quick/all/partial/report.html", tmp_path)
    assert attrs["data-partial"] == "5/7"
    assert attrs["data-images-loaded"] == attrs["data-images"], f"broken images: {attrs['data-broken']}"
