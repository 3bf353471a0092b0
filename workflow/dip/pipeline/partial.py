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
from .plan import Fit, Plan
from .variants import BASE


def target_fits(plan: Plan, target: str) -> list[Fit]:
    """Every fit the target's report reads: its experiments' and their paper tables' companions'."""
    names = plan.target(target)
    names = names + [c for n in names if (c := reports.companion(plan, n)) is not None]
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
    #: role -> file, as `reports.outputs` names them (a missing figure has none)
    files: dict[str, str]
    #: `dip` command lines that write the files rebuilt for this report (none when complete)
    commands: list[list[str]] = field(default_factory=list)


def _slot_id(slot) -> str:
    return f"{slot.experiment}/{slot.variant}/{slot.image}/{slot.seed}"


def _expected(flag: str, plan: Plan, name: str) -> list[str]:
    """`dip table1`'s seeds planned per scored image of an experiment's base."""
    counts: dict[str, int] = {}
    for s in plan.slots_of(name, BASE):
        if s.ground_truth:
            counts[s.image] = counts.get(s.image, 0) + 1
    return [flag, *(f"{i}={n}" for i, n in counts.items())] if counts else []


def _section(plan: Plan, part: Plan, target: str, name: str, gone: set[Fit]) -> Section:
    kind = plan.experiment(name).kind
    other = reports.companion(plan, name) if kind == "paper_table" else None
    lost = [_slot_id(s) for n in filter(None, (name, other)) for s in plan.slots_of(n) if s.fit in gone]
    if not lost:
        return Section(name, kind, [], reports.outputs(plan, name))
    folder = paths.PARTIAL_SECTION.format(mode=plan.mode, target=target, experiment=name)
    files = {role: folder + path[path.rindex("/"):] for role, path in reports.outputs(plan, name).items()}
    note = "missing: " + ", ".join(lost)
    commands = []
    if reports.is_section(plan, name):
        if [s for s in part.slots_of(name) if s.experiment == name]:
            commands.append(["section", *reports.section_args(part, name), "--out-json", files["section_json"],
                             "--out-md", files["section_md"], "--out-png", files["section_png"]])
    elif kind == "paper_table":
        commands.append(["table1", *reports.table_args(plan, name, part),
                         *_expected("--expected", plan, name),
                         *(_expected("--expected-full-backtracking", plan, other) if other else []),
                         "--out-csv", files["table_csv"], "--out-md", files["table_md"]])
    elif kind == "figure":
        if not any(s.fit in gone for s in reports.figure_rows(plan, name).values()):
            commands.append(["figure7", *reports.figure_args(plan, name),
                             "--out-png", files["figure_png"], "--out-pdf", files["figure_pdf"]])
    elif kind == "study":
        spec = reports.study_spec(part, name)
        for v in spec["variants"]:
            v["missing"] = [f"{s.image}/seed{s.seed}" for s in plan.slots_of(name, v["id"]) if s.fit in gone]
        commands.append(["study", "--spec-json", json.dumps(spec, separators=(",", ":")),
                         "--out-json", files["study_json"], "--out-md", files["study_md"],
                         "--out-png", files["study_png"]])
    if "curves" in files and part.slots_of(name, BASE):
        commands.append(["curves", *reports.curves_args(part, name, note), "--out", files["curves"]])
    if "snapshots" in files and part.slots_of(name, BASE):
        commands.append(["snapshots", *reports.snapshots_args(part, name, note), "--out", files["snapshots"]])
    # A section kind without a partial form, or a part it cannot draw, is left out: the
    # report names the experiment's missing fits instead.
    made = {path for argv in commands for path in argv}
    return Section(name, kind, lost, {r: p for r, p in files.items() if p in made}, commands)


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
