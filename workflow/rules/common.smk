# Targets and paths derived from the registries in config.yaml; all logic is in dip.experiments.
import json

from dip import experiments

FITS = experiments.all_fits(config)
DIP_ENV = "../../envs/dip.yaml"


wildcard_constraints:
    experiment=r"[A-Za-z0-9_]+",
    image=r"[A-Za-z0-9_]+",
    seed=r"[0-9]+",


def fit_of(wildcards):
    return experiments.Fit(wildcards.experiment, wildcards.image, int(wildcards.seed))
