"""``report: paper_table``: Table 1's kind. Our PSNR per image over seeds beside the paper's
numbers and the authors' published outputs (`dip table1`), with PSNR curves and snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DipError
from ...spec.presets import get_preset
from ...spec.tasks import get_task
from .. import paths
from ..variants import BASE
from .shared import beside, check_published, fill, pairs, raw, scored

if TYPE_CHECKING:
    from ..plan import Fit, Plan

NAME = "paper_table"
COMMAND = "table1"


def outputs(plan: Plan, name: str) -> dict[str, str]:
    own = {"table_csv": paths.TABLE_CSV, "table_md": paths.TABLE_MD}
    return {**{role: fill(plan, t, name) for role, t in own.items()}, **beside(plan, name)}


def companion(plan: Plan, name: str) -> str | None:
    """The experiment a paper table names as `full_backtracking` (the same fits with
    full-state backtracking, a column of its own), when this mode runs it."""
    other = plan.experiment(name).config.get("full_backtracking")
    return other if other in plan.experiments else None


def _companion_metrics(plan: Plan, name: str) -> list[str]:
    other = companion(plan, name)
    return [] if other is None else [s.fit.metrics for s in scored(plan.slots_of(other, BASE))]


def published(plan: Plan, name: str) -> list[str]:
    images = sorted({s.image for s in scored(plan.slots_of(name, BASE))})
    return [p for i in images for r in ("gt", "dip", "papyan") if (p := raw(plan, name, i, r))]


def inputs(plan: Plan, name: str) -> dict[str, list[str]]:
    return {"metrics": [s.fit.metrics for s in scored(plan.slots_of(name, BASE))],
            "full_backtracking": _companion_metrics(plan, name), "published": published(plan, name)}


def args(plan: Plan, name: str, finished: Plan | None = None) -> list[str]:
    """`dip table1` arguments: every image's published outputs, and the metrics of the fits
    of ``finished`` (a partial report's plan; default: all of them)."""
    images = list(dict.fromkeys(s.image for s in scored(plan.slots_of(name, BASE))))
    fits = scored((finished or plan).slots_of(name, BASE))

    def role(r):
        return [(i, p) for i in images if (p := raw(plan, name, i, r))]

    full = _companion_metrics(finished or plan, name)
    return [
        "--metrics", *(s.fit.metrics for s in fits),
        *(["--metrics-full-backtracking", *full] if full else []),
        *pairs("--gt", role("gt")),
        *pairs("--published-dip", role("dip")),
        *pairs("--published-papyan", role("papyan")),
        "--mode", plan.mode,
    ]


def check(plan: Plan, name: str) -> None:
    """Table 1 scores inpainting beside the authors' outputs: each image needs them registered."""
    task = get_preset(plan.experiment(name).preset).task
    if get_task(task).observation != "mask":
        raise DipError(f"experiment '{name}': report: paper_table is Table 1's inpainting table; "
                       f"a {task} experiment takes report: section")
    check_published(plan, name, [s.image for s in plan.slots_of(name)])


def _expected(flag: str, plan: Plan, name: str) -> list[str]:
    """The seeds planned per scored image of an experiment's base."""
    counts: dict[str, int] = {}
    for s in scored(plan.slots_of(name, BASE)):
        counts[s.image] = counts.get(s.image, 0) + 1
    return [flag, *(f"{i}={n}" for i, n in counts.items())] if counts else []


def partial(plan: Plan, part: Plan, name: str, gone: set[Fit], files: dict[str, str]) -> list[list[str]]:
    """The table of the fits that finished: "k of n" seeds and "missing" rows."""
    other = companion(plan, name)
    return [[COMMAND, *args(plan, name, part), *_expected("--expected", plan, name),
             *(_expected("--expected-full-backtracking", plan, other) if other else []),
             "--out-csv", files["table_csv"], "--out-md", files["table_md"]]]
