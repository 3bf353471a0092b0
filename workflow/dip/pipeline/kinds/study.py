"""``report: study``: every variant against the base, per image and over seeds, with each
variant's PSNR curves and a conclusion computed from the numbers (`dip study`), and the base's
outputs while fitting (snapshots)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import paths
from ..variants import BASE
from .shared import fill, scored, spec_args

if TYPE_CHECKING:
    from ..plan import Fit, Plan

NAME = "study"
COMMAND = "study"


def outputs(plan: Plan, name: str) -> dict[str, str]:
    # the base's snapshots, shown with or without a ground truth
    own = {"study_json": paths.STUDY_JSON, "study_md": paths.STUDY_MD, "study_png": paths.STUDY_PNG,
           "snapshots": paths.SNAPSHOTS}
    return {role: fill(plan, t, name) for role, t in own.items()}


def spec(plan: Plan, name: str) -> dict:
    """What `dip study` reads: each variant's label and fits, and the sweep's groups."""
    exp = plan.experiment(name)
    base_fits = [s.fit for s in plan.slots_of(name, BASE) if s.experiment == name]
    same = [v.label for v in exp.variants if v.id != BASE
            and [s.fit for s in plan.slots_of(name, v.id)] == base_fits]
    variants = []
    for v in exp.variants:
        if v.label in same:
            continue  # the base itself: its row says which values it stands for
        slots = plan.slots_of(name, v.id)
        label = f"base ({'; '.join(same)})" if v.id == BASE and same else v.label
        variants.append({
            "id": v.id, "label": label, "changes": {k: str(x) for k, x in v.changes.items()},
            "fits": [{"image": s.image, "seed": s.seed, "fit": s.fit.out_dir,
                      "metrics": s.fit.metrics if s.ground_truth else None} for s in slots],
        })
    return {"experiment": name, "mode": plan.mode, "variants": variants}


def published(plan: Plan, name: str) -> list[str]:
    return []


def inputs(plan: Plan, name: str) -> list[str]:
    slots = [s for s in plan.slots_of(name) if s.experiment == name]
    return sorted({s.fit.out_dir for s in slots} | {s.fit.metrics for s in scored(slots)})


def args(plan: Plan, name: str) -> list[str]:
    return spec_args(spec(plan, name))


def check(plan: Plan, name: str) -> None:
    """Any experiment can be studied: a base alone is a study of one row."""


def partial(plan: Plan, part: Plan, name: str, gone: set[Fit], files: dict[str, str]) -> list[list[str]]:
    """The study of the fits that finished, each variant listing its missing ones."""
    study = spec(part, name)
    for v in study["variants"]:
        v["missing"] = [f"{s.image}/seed{s.seed}" for s in plan.slots_of(name, v["id"]) if s.fit in gone]
    return [[COMMAND, *spec_args(study), "--out-json", files["study_json"], "--out-md", files["study_md"],
             "--out-png", files["study_png"]]]
