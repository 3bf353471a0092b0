"""What the report kinds share: an experiment's files, its published images, its first seeds,
and the curves and snapshots several kinds show."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ...errors import DipError
from .. import paths
from ..images import registry_path, source
from ..variants import BASE

if TYPE_CHECKING:
    from ..plan import Plan, Slot


def spec_args(spec: dict) -> list[str]:
    """A command's one argument: its spec as compact JSON (`dip section`, `dip study`)."""
    return ["--spec-json", json.dumps(spec, separators=(",", ":"))]


def fill(plan: Plan, template: str, name: str) -> str:
    return template.format(mode=plan.mode, experiment=name)


def pairs(flag: str, items: list[tuple[str, str]]) -> list[str]:
    return [flag, *(f"{key}={value}" for key, value in items)] if items else []


def refs(plan: Plan, name: str):
    """The experiment's images and those it reuses from other experiments."""
    exp = plan.experiment(name)
    out = list(exp.images)
    for image, other in (exp.config.get("reuse") or {}).items():
        out += [r for r in plan.experiment(other).images if r.id == image]
    return out


def raw(plan: Plan, name: str, image: str, role: str) -> str | None:
    """The image's raw file for a role (None for a local image); DipError if not registered."""
    ref = next(r for r in refs(plan, name) if r.id == image)
    path = registry_path(plan.config, ref, role)
    return None if path is None else paths.RAW.format(path=path)


def registered(plan: Plan, name: str, image: str, role: str) -> str | None:
    """The image's raw file for a role, or None when the registry has none."""
    try:
        return raw(plan, name, image, role)
    except DipError:
        return None


def first_seed(plan: Plan, name: str, image: str) -> Slot:
    return min((s for s in plan.slots_of(name, BASE) if s.image == image), key=lambda s: s.seed)


def scored(slots: list[Slot]) -> list[Slot]:
    return [s for s in slots if s.ground_truth]


def beside(plan: Plan, name: str) -> dict[str, str]:
    """The curves (fits with a ground truth) and snapshots shown beside a kind's own files."""
    files = {"curves": paths.CURVES} if scored(plan.slots_of(name, BASE)) else {}
    return {role: fill(plan, template, name) for role, template in {**files, "snapshots": paths.SNAPSHOTS}.items()}


def fit_dirs(plan: Plan, name: str) -> list[str]:
    return sorted({s.fit.out_dir for s in plan.slots_of(name, BASE)})


def _title(text: str, note: str) -> str:
    return f"{text} ({note})" if note else text


def curves_args(plan: Plan, name: str, note: str = "") -> list[str]:
    """`dip curves` arguments; ``note`` is added to the title (a partial report's missing fits).
    A paper table's curves carry the paper's Table-1 numbers."""
    slots = plan.slots_of(name, BASE)
    args = pairs("--trace", [(s.image, f"{s.fit.out_dir}/trace.csv") for s in slots])
    if plan.experiment(name).kind == "paper_table":
        args.append("--paper-table1")
    return args + ["--title", _title(f"{name}: PSNR against the ground truth while fitting", note)]


def snapshots_args(plan: Plan, name: str, note: str = "") -> list[str]:
    images = list(dict.fromkeys(s.image for s in plan.slots_of(name, BASE)))
    slots = [first_seed(plan, name, i) for i in images]
    taken = {tuple(plan.fits[s.fit].snapshots) for s in slots}
    # one set of columns where every row's fit took the same snapshots; else each row its own
    columns = ["--iterations", *map(str, taken.pop())] if len(taken) == 1 else []
    return [
        *pairs("--dir", [(s.image, f"{s.fit.out_dir}/snapshots") for s in slots]),
        *columns,
        "--title", _title(f"{name}: the output while fitting (seed {slots[0].seed})", note),
    ]


def partial_beside(part: Plan, name: str, files: dict[str, str], note: str) -> list[list[str]]:
    """The curves and snapshots of a partial report, from the fits it has."""
    if not part.slots_of(name, BASE):
        return []
    commands = []
    if "curves" in files:
        commands.append(["curves", *curves_args(part, name, note), "--out", files["curves"]])
    if "snapshots" in files:
        commands.append(["snapshots", *snapshots_args(part, name, note), "--out", files["snapshots"]])
    return commands


def check_published(plan: Plan, name: str, images: list[str]) -> None:
    """Each image has the authors' published outputs (roles `dip` and `papyan`) registered."""
    exp = plan.experiment(name)
    by_id = {r.id: r for r in refs(plan, name)}
    for image in dict.fromkeys(images):
        for role in ("dip", "papyan"):
            try:
                source(plan.config, by_id[image], role)
            except DipError as exc:
                raise DipError(f"experiment '{name}' (report: {exp.kind}): image '{image}' has no "
                               f"published '{role}' output to compare with ({exc})") from None
