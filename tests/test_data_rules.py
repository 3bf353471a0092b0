"""The data rules wired into a throw-away Snakefile: the DAG they make, and a real run of
download + prepare from the directory mirror."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from dip import pipeline
from dip.data import registry as data
from dip.pipeline import reports

BIN = Path(sys.executable).parent


def _workdir(tmp_path, config):
    # Registry order kept: a bare image name is the first set the registry lists for it.
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (tmp_path / "env.yaml").write_text("dependencies: [python=3.11]\n")  # recorded, never built
    (tmp_path / "Snakefile").write_text(
        f'from dip import pipeline\n\nconfigfile: "config.yaml"\n\n'
        f'include: "{REPO}/workflow/rules/common.smk"\n'
        f'DIP_ENV = "{tmp_path}/env.yaml"\n\n'
        f'include: "{REPO}/workflow/rules/data.smk"\n')
    return tmp_path


def _snakemake(workdir, *args, env=None):
    return subprocess.run([str(BIN / "snakemake"), "--cores", "2", *args], cwd=workdir,
                          capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def config():
    return pipeline.load_config(REPO / "config.yaml")


def _required(config):
    return [p.removeprefix("data/raw/") for p in reports.raw_files(pipeline.Plan(config))]


def _job_counts(stdout):
    counts, in_table = {}, False
    for line in stdout.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
        elif in_table and not parts:
            break
        elif in_table and len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def test_download_dag_has_one_fetch_per_required_file(config, tmp_path):
    res = _snakemake(_workdir(tmp_path, config), "-n", "download")
    assert res.returncode == 0, res.stderr
    assert _job_counts(res.stdout) == {"download": 1, "fetch": len(_required(config)),
                                       "total": len(_required(config)) + 1}


def test_prepare_dag_fetches_the_experiments_roles(config, tmp_path):
    res = _snakemake(_workdir(tmp_path, {**config, "mode": "quick"}), "-n", "-p",
                     "data/inputs/quick/figure7/kate/seed0")
    assert res.returncode == 0, res.stderr
    assert _job_counts(res.stdout) == {"fetch": 2, "prepare": 1, "total": 3}
    assert "--mask data/raw/dip/inpainting/kate_mask.png --seed 0 --crop 128" in res.stdout


def _cli_works():
    return subprocess.run([str(BIN / "dip"), "--help"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _cli_works(), reason="the dip CLI cannot start in this checkout")
def test_download_and_prepare_from_the_directory_mirror(config, mirror, tmp_path):
    small = {**config, "mode": "quick",
             "experiments": {"table1": {**config["experiments"]["table1"], "images": ["house"]}},
             "targets": {}}
    work = _workdir(tmp_path, small)
    env = {**os.environ, data.MIRROR_ENV: str(mirror), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    res = _snakemake(work, "download", "data/inputs/quick/table1/house/seed0", env=env)
    assert res.returncode == 0, res.stderr
    raw = sorted(p.relative_to(work / "data/raw").as_posix() for p in (work / "data/raw").rglob("*")
                 if p.is_file())
    assert raw == _required(small)
    for path in raw:
        assert hashlib.sha256((work / "data/raw" / path).read_bytes()).hexdigest() == \
            data.entry(small, path).sha256
    inputs = work / "data/inputs/quick/table1/house/seed0"
    written = sorted(p.name for p in inputs.iterdir() if not p.name.startswith("."))
    assert written == ["gt.png", "mask.png", "observed.png", "prep.json"]
    assert (work / "logs/quick/prepare/table1/house/seed0.log").exists()
    assert (work / "benchmarks/fetch/table1/house.png.tsv").exists()
    # Where the files came from is no reason to fetch them again (offline, without a mirror).
    env.pop(data.MIRROR_ENV)
    res = _snakemake(work, "-n", "download", env=env)
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr
