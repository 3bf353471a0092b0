"""A target's report: the section files of each of its experiments, by report kind
(dip.pipeline.kinds), and the arguments of `dip report`.

A named target (``all``, ``studies``, ``everything``, or one the config declares) builds one
report of its experiments from exactly the files listed here.
"""

from __future__ import annotations

from . import paths
from .kinds import of
from .plan import Plan

#: The file roles `dip report` takes, each as the flag named by the role's first word.
_REPORT_ROLES = ("table_csv", "figure_png", "curves", "snapshots", "study_json", "section_json")


def outputs(plan: Plan, name: str) -> dict[str, str]:
    """The files an experiment's section is made of, by role."""
    return of(plan, name).outputs(plan, name)


# data ----------------------------------------------------------------------------------------


def raw_files(plan: Plan, names: list[str] | None = None) -> list[str]:
    """Every registry file (data/raw/...) the experiments read: their inputs, and the
    published outputs their report kind compares with."""
    names = list(plan.experiments) if names is None else names
    files = set(plan.raw_files(names))
    for name in names:
        files.update(p for p in of(plan, name).published(plan, name) if p.startswith("data/raw/"))
    return sorted(files)


# the report of a target ----------------------------------------------------------------------


def sections(plan: Plan, target: str) -> list[tuple[str, str, dict[str, str]]]:
    """(experiment, kind, files) of each experiment of the target, config order."""
    return [(name, plan.experiment(name).kind, outputs(plan, name)) for name in plan.target(target)]


def report_inputs(plan: Plan, target: str) -> dict[str, list[str]]:
    files = [p for _, _, f in sections(plan, target) for p in f.values()]
    fits = plan.fits_of_target(target)
    metrics = [f.metrics for f in fits if plan.fits[f].ground_truth]
    return {"sections": files, "fits": [f.out_dir for f in fits], "metrics": metrics,
            "run_config": [paths.RUN_CONFIG.format(mode=plan.mode)],
            "architecture": [paths.ARCHITECTURE.format(mode=plan.mode, target=target)]}


def report_args(plan: Plan, target: str) -> list[str]:
    return target_args(plan, target, [(name, files) for name, _, files in sections(plan, target)])


def target_args(plan: Plan, target: str, files_by_experiment: list[tuple[str, dict[str, str]]]) -> list[str]:
    """`dip report` arguments: each experiment's section files (role -> path) and the fits
    the plan's slots read."""
    args = ["--experiments", *plan.target(target)] if plan.target(target) else []
    for name, files in files_by_experiment:
        for role, path in files.items():
            if role in _REPORT_ROLES:
                args += [f"--{role.split('_')[0]}", f"{name}={path}"]
    # Each experiment's own slots, by their ids: a fit shared with another experiment counts
    # in both (its settings, runtime and spread belong to each experiment that reads it).
    for name in plan.target(target):
        for slot in plan.slots_of(name):
            if slot.experiment != name:
                continue
            sid = f"{name}/{slot.variant}/{slot.image}/{slot.seed}"
            args += ["--fit", f"{sid}@{slot.fit.out_dir}"]
            if slot.ground_truth:
                args += ["--metrics", f"{sid}@{slot.fit.metrics}"]
    return args


def architecture_preset(plan: Plan, target: str) -> str:
    """The preset whose network the report describes: the target's first experiment's."""
    names = plan.target(target) or list(plan.experiments)
    return plan.experiment(names[0]).preset
