# The plan of this configuration (dip.pipeline, torch-free) and the path patterns of this mode.
import json
import os
import shlex
import sys

# `partial` itself would shadow functools.partial, which the code Snakemake generates calls.
from dip.pipeline import partial as partial_reports
from dip.pipeline import kinds, paths, reports, resources
from dip.pipeline.kinds import shared

# Rules call the `dip` console script. Append this interpreter's bin directory to PATH so it is
# found when the environment is not activated (`.venv/bin/snakemake ...`, `make run`); appended,
# so an activated or conda environment still comes first.
shell.prefix(f'PATH="$PATH":{shlex.quote(os.path.dirname(sys.executable))}; ')

PLAN = pipeline.plan(config)
MODE = PLAN.mode
ESTIMATE_CONFIG = json.dumps(config)
DIP_ENV = "../../envs/dip.yaml"


wildcard_constraints:
    experiment=paths.WILDCARDS["experiment"],
    variant=paths.WILDCARDS["variant"],
    image=paths.WILDCARDS["image"],
    seed=paths.WILDCARDS["seed"],
    target=paths.WILDCARDS["target"],


def mode_path(template):
    """A path template with this run's mode filled in (the other wildcards stay)."""
    return paths.for_mode(template, MODE)


def log_path(step, name):
    return paths.log(MODE, step, name)


def benchmark_path(step, name):
    return paths.benchmark(MODE, step, name)


def fit_job(w):
    return PLAN.fit_job(w.experiment, w.variant, w.image, w.seed)


def target_report(target):
    """The report of a target: nothing when the config gives it no experiments (or no entry)."""
    if not PLAN.targets.get(target):
        return []
    return [paths.REPORT_HTML.format(mode=MODE, target=target)]


def paper_report_files():
    """`make run`'s reports/report.html: the paper-mode report of target `all`."""
    if MODE != "paper" or not PLAN.target("all"):
        return []
    return [paths.PAPER_REPORT_HTML, paths.PAPER_REPORT_MD]
