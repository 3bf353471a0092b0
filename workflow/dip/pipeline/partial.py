"""A target's report after a run in which some fits failed (``snakemake --keep-going``).

The normal report needs every fit. The partial report (`report_partial`) is built from the
fits that finished, and says so: its first line declares it partial with the count of
finished fits, and every fit that did not finish is named where its numbers would be.

- An experiment whose fits all finished keeps its normal section files (built by the normal
  rules).
- An experiment with missing fits gets its section rebuilt under the partial report's
  folder from the fits it has, each missing one marked:
  - paper tables show "k of n" seeds and "missing" rows, and say over how many images the
    mean runs;
  - studies list the missing fits of each variant;
  - curves and snapshots name them in their titles;
  - a figure lacking one of its fits is not drawn, and the report names what it lacks.

A fit counts as finished when its output folder exists: Snakemake removes the outputs of a
failed job, and `dip fit` moves a finished fit into place in one rename.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field

from . import paths, reports
from .kinds import of, paper_table
from .kinds.shared import partial_beside
from .plan import Fit, Plan


def target_fits(plan: Plan, target: str) -> list[Fit]:
    """Every fit the target's report reads: its experiments' and their paper tables' companions'."""
    names = plan.target(target)
    names = names + [c for n in names if (c := _companion(plan, n)) is not None]
    return sorted({s.fit for n in names for s in plan.slots_of(n)})


def missing_fits(plan: Plan, target: str, finished=os.path.isdir) -> list[Fit]:
    """The target's fits whose output folder is not there (``finished`` tests a folder)."""
    return [f for f in target_fits(plan, target) if not finished(f.out_dir)]


def pruned(plan: Plan, missing: list[Fit]) -> Plan:
    """The plan as the report sees it: the slots that read a missing fit left out."""
    gone = set(missing)
    out = copy.copy(plan)
    out.slots = {name: [s for s in slots if s.fit not in gone] for name, slots in plan.slots.items()}
    return out


@dataclass
class Section:
    """One experiment's section in the partial report."""

    experiment: str
    kind: str
    #: ids (experiment/variant/image/seed) of the experiment's slots whose fit did not finish
    missing: list[str]
    #: role -> file, as the kind's `outputs` names them (a missing figure has none)
    files: dict[str, str]
    #: `dip` command lines that write the files rebuilt for this report (none when complete)
    commands: list[list[str]] = field(default_factory=list)


def _slot_id(slot) -> str:
    return f"{slot.experiment}/{slot.variant}/{slot.image}/{slot.seed}"


def _companion(plan: Plan, name: str) -> str | None:
    """A paper table's `full_backtracking` experiment, whose fits its table also reads."""
    return paper_table.companion(plan, name) if plan.experiment(name).kind == paper_table.NAME else None


def _section(plan: Plan, part: Plan, target: str, name: str, gone: set[Fit]) -> Section:
    kind = of(plan, name)
    lost = [_slot_id(s) for n in filter(None, (name, _companion(plan, name))) for s in plan.slots_of(n)
            if s.fit in gone]
    if not lost:
        return Section(name, kind.NAME, [], kind.outputs(plan, name))
    folder = paths.PARTIAL_SECTION.format(mode=plan.mode, target=target, experiment=name)
    files = {role: folder + path[path.rindex("/"):] for role, path in kind.outputs(plan, name).items()}
    commands = [*kind.partial(plan, part, name, gone, files),
                *partial_beside(part, name, files, "missing: " + ", ".join(lost))]
    # A kind without a partial form, or a part it cannot draw, is left out: the report names
    # the experiment's missing fits instead.
    made = {path for argv in commands for path in argv}
    return Section(name, kind.NAME, lost, {r: p for r, p in files.items() if p in made}, commands)


def sections(plan: Plan, target: str, missing: list[Fit]) -> list[Section]:
    """Each experiment of the target, config order, as the partial report shows it."""
    part, gone = pruned(plan, missing), set(missing)
    return [_section(plan, part, target, name, gone) for name in plan.target(target)]


def report_inputs(plan: Plan, target: str, finished=os.path.isdir) -> dict[str, list[str]]:
    """What the partial report's job reads: the finished fits and their scores, and the
    section files of the complete experiments (the normal rules build those)."""
    missing = missing_fits(plan, target, finished)
    gone = set(missing)
    fits = [f for f in target_fits(plan, target) if f not in gone]
    complete = [p for s in sections(plan, target, missing) if not s.missing for p in s.files.values()]
    return {"fits": [f.out_dir for f in fits],
            "metrics": [f.metrics for f in fits if plan.fits[f].ground_truth],
            "sections": complete,
            "run_config": [paths.RUN_CONFIG.format(mode=plan.mode)],
            "architecture": [paths.ARCHITECTURE.format(mode=plan.mode, target=target)]}


def report_args(plan: Plan, target: str, missing: list[Fit]) -> list[str]:
    """`dip report` arguments of the partial report (without its outputs)."""
    secs = sections(plan, target, missing)
    planned = len(target_fits(plan, target))
    status = {
        "planned": planned,
        "finished": planned - len(missing),
        "missing": [f.id for f in missing],
        "sections": {s.experiment: s.missing for s in secs if s.missing},
    }
    return [*reports.target_args(pruned(plan, missing), target, [(s.experiment, s.files) for s in secs]),
            "--run-config", paths.RUN_CONFIG.format(mode=plan.mode),
            "--architecture", paths.ARCHITECTURE.format(mode=plan.mode, target=target),
            "--partial-json", json.dumps(status, separators=(",", ":"))]
