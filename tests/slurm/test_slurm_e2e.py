"""The Slurm profile against a real Slurm: quick mode on a one-node cluster started here.

Needs root and the Debian packages slurmctld, slurmd, slurm-client and munge; run it with
`make test-slurm` (tests/slurm/run_slurm_e2e.sh installs them). Snakemake runs with a copy of
workflow/profiles/slurm that names the test partition, in a temporary working directory, on
the quick mode cut down by tests/slurm/short-quick.yaml (one table1 image, figure7's own fit,
5 iterations). Checked: every fit ran as a Slurm job that carried one GPU and the workflow's
own runtime and memory; a fit made to fail is reported as failed; rerunning the same command
without the failure completes; afterwards no daemon is left and /etc/slurm is as it was.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from local_slurm import ETC, MANAGED, LocalSlurm, run, running, why_not_runnable  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"

# The quick mode cut down to one table1 image and 5 iterations: three fits, 24 jobs.
SHORT = Path(__file__).parent / "short-quick.yaml"
QUICK = ["mode=quick"]
FITS = {"table1/barbara/0", "table1_full_backtracking/barbara/0", "figure7/kate/0"}
FAILING_FIT = "figure7/kate/0"

if not os.environ.get("DIP_SLURM_E2E"):
    pytest.skip(
        "starts a real Slurm cluster as root: run `make test-slurm`", allow_module_level=True
    )
if os.environ.get("DIP_SLURM_SKIP"):
    pytest.skip(os.environ["DIP_SLURM_SKIP"], allow_module_level=True)
if (reason := why_not_runnable()) is not None:
    pytest.skip(reason, allow_module_level=True)


def say(message: str) -> None:
    print(f"[slurm-e2e {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Submission:
    """One Snakemake job as submitted: its rule block in the log and its Slurm job id."""

    rule: str
    wildcards: str
    resources: dict[str, str]
    slurm_id: str


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float

    def submissions(self) -> list[Submission]:
        """Jobs that went through sbatch, read from Snakemake's log."""
        blocks: dict[str, dict[str, str]] = {}
        current: dict[str, str] | None = None
        for line in self.output.splitlines():
            if m := re.match(r"^(local)?rule (\w+):$", line):
                current = {"rule": m.group(2)}
            elif current is not None and (m := re.match(r"^    (\w+): (.*)$", line)):
                current[m.group(1)] = m.group(2)
                if m.group(1) == "jobid":
                    blocks[m.group(2)] = current
            else:
                current = None
        found = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", self.output)
        return [
            Submission(
                rule=blocks[job]["rule"],
                wildcards=blocks[job].get("wildcards", ""),
                resources=dict(
                    kv.split("=", 1) for kv in blocks[job]["resources"].split(", ") if "=" in kv
                ),
                slurm_id=slurm_id,
            )
            for job, slurm_id in found
        ]

    def fits(self) -> dict[str, Submission]:
        """Fit id "experiment/image/seed" -> its submission."""
        out = {}
        for sub in self.submissions():
            if sub.rule == "fit":
                w = dict(kv.split("=", 1) for kv in sub.wildcards.split(", "))
                out[f"{w['experiment']}/{w['image']}/{w['seed']}"] = sub
        return out

    def errors(self) -> list[dict[str, str]]:
        """Snakemake's "Error in rule" blocks for Slurm jobs (those with an external job id)."""
        found = []
        for block in re.findall(r"^Error in rule (\w+):\n((?:    .*\n)+)", self.output, re.M):
            fields = dict(re.findall(r"^    (\w+): (.*)$", block[1], re.M), rule=block[0])
            if "external_jobid" in fields:
                found.append(fields)
        return found

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def slurm_minutes(minutes: int) -> str:
    """A runtime in minutes as Slurm prints a time limit (days-hh:mm:ss)."""
    days, rest = divmod(minutes, 24 * 60)
    clock = f"{rest // 60:02d}:{rest % 60:02d}:00"
    return f"{days}-{clock}" if days else clock


def etc_slurm() -> dict[str, str | None]:
    return {name: (ETC / name).read_text() if (ETC / name).exists() else None for name in MANAGED}


@pytest.fixture(scope="module")
def cluster():
    """The cluster; afterwards its daemons must be gone and /etc/slurm as it was."""
    before = etc_slurm()
    with LocalSlurm(os.environ.get("DIP_SLURM_STATE"), log=say) as slurm:
        daemons = slurm.daemons()
        yield slurm
    left = [f"{name} ({pid})" for name, pid in daemons.items() if running(pid, name)]
    assert not left, f"still running after teardown: {left}"
    assert etc_slurm() == before, "/etc/slurm was not restored"


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    """The project's profile with this cluster's partition, polled more often, light jobs
    smaller (the node has a few GB: many of them can run beside the fits)."""
    settings = yaml.safe_load(PROFILE.read_text())
    settings["default-resources"].update(slurm_partition="debug", mem_mb=300)
    settings["slurm-init-seconds-before-status-checks"] = 5
    settings["latency-wait"] = 5
    # A failure must be reported as such, not retried (the time-limit test retries).
    settings["retries"] = 0
    folder = tmp_path_factory.mktemp("profile")
    (folder / "config.yaml").write_text(yaml.safe_dump(settings))
    return folder


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("workdir")


def snakemake(
    workdir: Path, profile: Path, config: list[str], mirror: Path, timeout: int,
    layers: tuple[Path, ...] = (SHORT,), targets: tuple[str, ...] = (),
) -> Run:
    """One run of the workflow through the profile, SIGKILLed (with its jobs) on timeout."""
    cmd = [
        str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(REPO / "config.yaml"), *map(str, layers), "--profile", str(profile),
        *targets, "--config", *config,
    ]
    env = {**os.environ, "DIP_DATA_MIRROR": str(mirror)}
    say(f"snakemake --profile <test copy> --config {' '.join(config)}")
    start = time.monotonic()
    log = workdir / f"snakemake-{time.strftime('%H%M%S')}.log"
    try:
        result = run(cmd, timeout, env=env)
    except subprocess.TimeoutExpired as err:
        run(["scancel", "--partition", "debug"], 30)
        log.write_text(err.output or "")
        pytest.fail(f"snakemake killed after {timeout} s (log: {log}):\n{err.output[-6000:]}")
    done = Run(result.returncode, result.stdout, time.monotonic() - start)
    log.write_text(done.output)
    say(f"snakemake exited {done.returncode} after {done.seconds:.0f} s, "
        f"{len(done.submissions())} Slurm jobs (log: {log})")
    return done


@pytest.fixture(scope="module")
def complete_run(cluster, profile, workdir, mirror) -> Run:
    return snakemake(workdir, profile, QUICK, mirror, timeout=600)


def test_every_fit_runs_as_a_slurm_job_with_one_gpu(cluster, complete_run, workdir):
    assert complete_run.returncode == 0, complete_run.tail()
    fits = complete_run.fits()
    on_disk = {
        f"{p.parts[-4]}/{p.parts[-2]}/{p.name.removeprefix('seed')}"
        for p in (workdir / "results" / "quick" / "fits").glob("*/base/*/seed*")
    }
    assert set(fits) == on_disk == FITS, (sorted(fits), sorted(on_disk))
    for fit_id, sub in sorted(fits.items()):
        job = cluster.show_job(sub.slurm_id)
        say(
            f"fit {fit_id}: Slurm job {sub.slurm_id} {job['JobState']}, "
            f"TresPerJob={job.get('TresPerJob')}, TRES={job['TRES']}, "
            f"TimeLimit={job['TimeLimit']}"
        )
        assert job["JobState"] == "COMPLETED"
        assert job["Partition"] == "debug"
        assert job.get("TresPerJob") == "gres:gpu:1"
        # The workflow's own per-fit estimates reach sbatch: the profile does not override them.
        assert job["MinMemoryNode"] == f"{sub.resources['mem_mb']}M"
        assert job["TimeLimit"] == slurm_minutes(int(sub.resources["runtime"]))
    assert (workdir / "reports" / "quick" / "all" / "report.html").stat().st_size > 0


def test_a_failed_fit_is_reported_and_rerunning_completes(
    cluster, profile, workdir, mirror, complete_run
):
    assert complete_run.returncode == 0, "needs the complete run"
    failing = snakemake(
        workdir, profile, [*QUICK, f"inject_failure=[{FAILING_FIT}]"], mirror, timeout=300
    )
    assert failing.returncode != 0, failing.tail()
    experiment, image, seed = FAILING_FIT.split("/")
    failed = failing.fits()[FAILING_FIT]
    output = f"results/quick/fits/{experiment}/base/{image}/seed{seed}"
    errors = failing.errors()
    assert [(e["rule"], e["output"], e["external_jobid"]) for e in errors] == [
        ("fit", output, failed.slurm_id)
    ], failing.tail()
    assert f"SLURM-job '{failed.slurm_id}' failed" in errors[0]["message"]
    job = cluster.show_job(failed.slurm_id)
    say(f"injected failure {FAILING_FIT}: Slurm job {failed.slurm_id} {job['JobState']}, "
        f"ExitCode={job['ExitCode']}")
    assert job["JobState"] == "FAILED"
    assert not (workdir / output).exists()

    rerun = snakemake(workdir, profile, QUICK, mirror, timeout=480)
    assert rerun.returncode == 0, rerun.tail()
    assert FAILING_FIT in rerun.fits()
    assert (workdir / output / "meta.json").exists()


# A fit cut off by its time limit: Slurm's warning signal (a minute before a two-minute limit)
# must reach `dip fit`, which saves its state; the profile's retries resubmit it and it resumes.
LIMITED_FIT = "results/quick/fits/table1/base/barbara/seed0"


def _fit_speed(workdir: Path, mirror: Path) -> float:
    """Iterations per second of the quick Barbara fit on this machine now (one thread)."""
    layer = workdir / "calibrate.yaml"
    layer.write_text(yaml.safe_dump({"quick": {"iterations": 60}}))
    cmd = [str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(REPO / "config.yaml"), str(SHORT), str(layer), "--cores", "1",
           LIMITED_FIT, "--config", *QUICK]
    result = run(cmd, 600, env={**os.environ, "DIP_DATA_MIRROR": str(mirror)})
    assert result.returncode == 0, result.stdout[-4000:]
    meta = json.loads((workdir / LIMITED_FIT / "meta.json").read_text())
    return meta["iterations"] / meta["wall_s"]


def test_a_fit_cut_by_its_time_limit_resumes_and_equals_an_uninterrupted_one(
    cluster, profile, tmp_path_factory, mirror
):
    settings = yaml.safe_load((profile / "config.yaml").read_text())
    settings["retries"] = 10
    settings["set-resources"]["fit"].update(runtime=2, slurm_extra="'--signal=TERM@60'")
    limited = tmp_path_factory.mktemp("profile-limited")
    (limited / "config.yaml").write_text(yaml.safe_dump(settings))

    # About 90 s of fitting: more than one attempt can hold (each is warned 30-65 s after it
    # starts, and two Snakemake processes and the fit take 20-30 s of that to start), and
    # within eleven even on a machine that slows down meanwhile.
    speed = _fit_speed(tmp_path_factory.mktemp("calibrate"), mirror)
    reference = tmp_path_factory.mktemp("reference")
    iterations = max(150, int(90 * speed))
    layer = tmp_path_factory.mktemp("layer") / "limited.yaml"
    layer.write_text(yaml.safe_dump({"quick": {"iterations": iterations}}))
    say(f"{speed:.1f} it/s here: the cut-off fit runs {iterations} iterations")
    # The uninterrupted fit runs beside the cut-off one: a single-threaded fit each, on a
    # machine with at least two cores, and each deterministic whatever runs beside it.
    workdir = tmp_path_factory.mktemp("limited")
    with ThreadPoolExecutor(1) as pool:
        uninterrupted = pool.submit(run, [
            str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "--directory", str(reference),
            "--configfile", str(REPO / "config.yaml"), str(SHORT), str(layer), "--cores", "1",
            LIMITED_FIT, "--config", *QUICK], 900, env={**os.environ, "DIP_DATA_MIRROR": str(mirror)})
        done = snakemake(workdir, limited, QUICK, mirror, timeout=900,
                         layers=(SHORT, layer), targets=(LIMITED_FIT,))
        assert uninterrupted.result().returncode == 0, uninterrupted.result().stdout[-4000:]
    assert done.returncode == 0, done.tail()
    attempts = [sub for sub in done.submissions() if sub.rule == "fit"]
    states = [cluster.show_job(sub.slurm_id) for sub in attempts]
    say("attempts: " + "; ".join(f"job {a.slurm_id} {j['JobState']} after {j['RunTime']} "
                                 f"(limit {j['TimeLimit']})" for a, j in zip(attempts, states)))
    assert len(attempts) >= 2, "the fit was never cut off"
    assert [j["JobState"] for j in states] == ["FAILED"] * (len(states) - 1) + ["COMPLETED"]
    # Each cut attempt ended on the warning, before Slurm's own kill at the limit.
    assert all(j["RunTime"] < "00:02:00" for j in states)
    log = (workdir / "logs/quick/fit/table1/base/barbara/seed0.log").read_text()
    resumed = re.findall(r"resuming from iteration (\d+)", log)
    assert resumed and 0 < int(resumed[-1]) < iterations, log[-2000:]
    ours = np.load(workdir / LIMITED_FIT / "output.npy")
    theirs = np.load(reference / LIMITED_FIT / "output.npy")
    assert np.array_equal(ours, theirs), float(np.abs(ours - theirs).max())
