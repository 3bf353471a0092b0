"""``report: section``: a task's section (`dip section`), laid out as its task says
(dip.spec.tasks): a table beside the paper's numbers where the task has one (super-resolution,
denoising, region inpainting), and a figure of the fits; with curves where a ground truth
scores the fits, and snapshots. ``alongside: [experiment, ...]`` adds those experiments' base fits
to the section's (Figure 2: the image's fits beside the noise targets' fits)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DipError
from ...spec.presets import get_preset
from ...spec.tasks import get_task
from .. import paths
from ..variants import BASE
from .shared import beside, fill, raw, registered, spec_args

if TYPE_CHECKING:
    from ..plan import Fit, Plan

NAME = "section"
COMMAND = "section"


def outputs(plan: Plan, name: str) -> dict[str, str]:
    own = {"section_json": paths.SECTION_JSON, "section_md": paths.SECTION_MD, "section_png": paths.SECTION_PNG}
    return {**{role: fill(plan, t, name) for role, t in own.items()}, **beside(plan, name)}


def spec(plan: Plan, name: str) -> dict:
    """What `dip section` reads: the task, the registry set (the paper's numbers), every fit
    with its inputs, the published bicubic images where registered, and the figure's image."""
    exp = plan.experiment(name)
    task = get_task(get_preset(exp.preset).task)
    labels = {(name, v.id): exp.preset if v.id == BASE and not v.named else v.label for v in exp.variants}
    slots = [s for s in plan.slots_of(name) if s.experiment == name]
    for other in exp.config.get("alongside") or []:
        slots += [s for s in plan.slots_of(other, BASE) if s.experiment == other]
        labels[(other, BASE)] = other
    images = list(dict.fromkeys(s.image for s in slots))
    bicubic = {}
    if task.scoring == "sr":
        for image in images:
            if path := registered(plan, name, image, "bicubic"):
                bicubic[image] = {"gt": raw(plan, name, image, "gt"), "bicubic": path}
    return {
        "experiment": name, "mode": plan.mode, "task": task.name,
        "set": exp.images[0].set or exp.images[0].name, "figure": images[0],
        "fits": [{"image": s.image, "seed": s.seed, "variant": labels[(s.experiment, s.variant)], "fit": s.fit.out_dir,
                  "metrics": s.fit.metrics if s.ground_truth else None, "inputs": s.inputs.dir}
                 for s in slots],
        "published": bicubic,
    }


def published(plan: Plan, name: str) -> list[str]:
    return sorted({p for v in spec(plan, name)["published"].values() for p in v.values()})


def inputs(plan: Plan, name: str) -> list[str]:
    fits = spec(plan, name)["fits"]
    return sorted({p for f in fits for p in (f["fit"], f["metrics"], f["inputs"]) if p} | set(published(plan, name)))


def args(plan: Plan, name: str) -> list[str]:
    return spec_args(spec(plan, name))


def check(plan: Plan, name: str) -> None:
    """Every task has a section; the experiments it shows beside its own run in this mode."""
    for other in plan.experiment(name).config.get("alongside") or []:
        if other not in plan.experiments:
            raise DipError(f"experiment '{name}', alongside: no experiment '{other}' in {plan.mode} mode")


def partial(plan: Plan, part: Plan, name: str, gone: set[Fit], files: dict[str, str]) -> list[list[str]]:
    """The section of the fits that finished (none when every fit is missing)."""
    if not [s for s in part.slots_of(name) if s.experiment == name]:
        return []
    return [[COMMAND, *args(part, name), "--out-json", files["section_json"], "--out-md", files["section_md"],
             "--out-png", files["section_png"]]]
