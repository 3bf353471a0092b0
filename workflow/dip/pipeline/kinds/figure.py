"""``report: figure``: Figure 7's kind. The experiment's first image on top and a reused image
below, beside the published outputs of the comparison (`dip figure7`), with curves and
snapshots. An experiment shown without a reused row takes ``report: section``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DipError
from .. import paths
from .shared import beside, check_published, fill, first_seed, raw

if TYPE_CHECKING:
    from ..plan import Fit, Plan, Slot

NAME = "figure"
COMMAND = "figure7"


def outputs(plan: Plan, name: str) -> dict[str, str]:
    own = {"figure_png": paths.FIGURE_PNG, "figure_pdf": paths.FIGURE_PDF}
    return {**{role: fill(plan, t, name) for role, t in own.items()}, **beside(plan, name)}


def rows(plan: Plan, name: str) -> dict[str, Slot]:
    """Top row: the experiment's first own image; bottom row: its first reused image."""
    exp = plan.experiment(name)
    bottom = next(iter(exp.config["reuse"]))
    return {"top": first_seed(plan, name, exp.images[0].id), "bottom": first_seed(plan, name, bottom)}


def published(plan: Plan, name: str) -> list[str]:
    bottom = rows(plan, name)["bottom"].image
    return [p for role in ("papyan", "dip") if (p := raw(plan, name, bottom, role))]


def inputs(plan: Plan, name: str) -> list[str]:
    return [*(p for s in rows(plan, name).values() for p in (s.fit.out_dir, s.inputs.dir)),
            *published(plan, name)]


def args(plan: Plan, name: str) -> list[str]:
    out = []
    # `dip figure7` names its rows after the paper's images: kate on top, Barbara below.
    for row, slot in (("kate", "top"), ("barbara", "bottom")):
        slot = rows(plan, name)[slot]
        out += [
            f"--{row}-observed", f"{slot.inputs.dir}/observed.png",
            f"--{row}-output", f"{slot.fit.out_dir}/output.npy",
            f"--{row}-gt", f"{slot.inputs.dir}/gt.png",
            f"--{row}-prep", f"{slot.inputs.dir}/prep.json",
        ]
    bottom = rows(plan, name)["bottom"].image
    papyan, dip = raw(plan, name, bottom, "papyan"), raw(plan, name, bottom, "dip")
    if papyan and dip:
        out += ["--barbara-papyan", papyan, "--barbara-published-dip", dip]
    return out


def check(plan: Plan, name: str) -> None:
    """The bottom row is a reused fit compared with the authors' published outputs."""
    if not plan.experiment(name).config.get("reuse"):
        raise DipError(f"experiment '{name}': report: figure needs a reused bottom row (`reuse`); "
                       "a figure of the experiment's own fits takes report: section")
    check_published(plan, name, [rows(plan, name)["bottom"].image])


def partial(plan: Plan, part: Plan, name: str, gone: set[Fit], files: dict[str, str]) -> list[list[str]]:
    """Drawn only when both rows' fits finished."""
    if any(s.fit in gone for s in rows(plan, name).values()):
        return []
    return [[COMMAND, *args(plan, name), "--out-png", files["figure_png"], "--out-pdf", files["figure_pdf"]]]
