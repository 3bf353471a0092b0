# Targets and paths derived from the registries in config.yaml; all logic is in dip.experiments.
import json
import os
import shlex
import sys

from dip import experiments

# Rules call the `dip` console script. Append this interpreter's bin directory to PATH so it is
# found when the environment is not activated (`.venv/bin/snakemake ...`, `make run`); appended,
# so an activated or conda environment still comes first.
shell.prefix(f'PATH="$PATH":{shlex.quote(os.path.dirname(sys.executable))}; ')

FITS = experiments.all_fits(config)
ESTIMATE_CONFIG = json.dumps(config)
DIP_ENV = "../../envs/dip.yaml"


wildcard_constraints:
    experiment=r"[A-Za-z0-9_]+",
    image=r"[A-Za-z0-9_]+",
    seed=r"[0-9]+",


def fit_of(wildcards):
    return experiments.Fit(wildcards.experiment, wildcards.image, int(wildcards.seed))
