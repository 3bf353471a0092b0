"""What each report kind reads and the arguments of its `dip` command.

A report is made of sections, one per experiment, by the experiment's kind (``report:`` in
the config), never by its name:

- ``paper_table``: our PSNR per image beside the paper's and the published outputs (`dip table1`),
  with PSNR curves and snapshots;
- ``figure``: the experiment's first image on top, its first reused image (with the
  published outputs of the comparison) below (`dip figure7`), with curves and snapshots;
- ``study``: every variant against the base, per image and over seeds, with the PSNR curves
  of each variant and a conclusion computed from the numbers (`dip study`), and the base's
  outputs while fitting (snapshots);
- ``none``: fitted and listed, no section of its own.

A named target (``all``, ``studies``, ``everything``, or one the config declares) builds one
report of its experiments from exactly the files listed here.
"""

from __future__ import annotations

import json

from . import paths
from ..errors import DipError
from ..spec.presets import get_preset
from .images import registry_path
from .plan import Plan, Slot
from .variants import BASE


def _fill(plan: Plan, template: str, name: str) -> str:
    return template.format(mode=plan.mode, experiment=name)


def _pairs(flag: str, pairs: list[tuple[str, str]]) -> list[str]:
    return [flag, *(f"{key}={value}" for key, value in pairs)] if pairs else []


def _raw(plan: Plan, name: str, image: str, role: str) -> str | None:
    ref = next(r for r in _refs(plan, name) if r.id == image)
    path = registry_path(plan.config, ref, role)
    return None if path is None else paths.RAW.format(path=path)


def _refs(plan: Plan, name: str):
    exp = plan.experiment(name)
    refs = list(exp.images)
    for image, other in (exp.config.get("reuse") or {}).items():
        refs += [r for r in plan.experiment(other).images if r.id == image]
    return refs


def _first_seed(plan: Plan, name: str, image: str) -> Slot:
    return min((s for s in plan.slots_of(name, BASE) if s.image == image), key=lambda s: s.seed)


def _scored(slots: list[Slot]) -> list[Slot]:
    return [s for s in slots if s.ground_truth]


# outputs of each kind ------------------------------------------------------------------------


def outputs(plan: Plan, name: str) -> dict[str, str]:
    """The files an experiment's section is made of, by role."""
    kind = plan.experiment(name).kind
    files = {}
    if is_section(plan, name):
        files = {"section_json": paths.SECTION_JSON, "section_md": paths.SECTION_MD,
                 "section_png": paths.SECTION_PNG}
    elif kind == "paper_table":
        files = {"table_csv": paths.TABLE_CSV, "table_md": paths.TABLE_MD}
    elif kind == "figure":
        files = {"figure_png": paths.FIGURE_PNG, "figure_pdf": paths.FIGURE_PDF}
    elif kind == "study":
        files = {"study_json": paths.STUDY_JSON, "study_md": paths.STUDY_MD, "study_png": paths.STUDY_PNG}
    if kind in ("paper_table", "figure") and _scored(plan.slots_of(name, BASE)):
        files.update(curves=paths.CURVES, snapshots=paths.SNAPSHOTS)
    elif kind in ("paper_table", "figure"):
        files.update(snapshots=paths.SNAPSHOTS)  # no ground truth: no PSNR curves
    elif kind == "study":
        files.update(snapshots=paths.SNAPSHOTS)  # the base's outputs, shown with or without a ground truth
    return {role: _fill(plan, template, name) for role, template in files.items()}


# task section (super-resolution, denoising) ----------------------------------------------------

#: Preset tasks whose paper table is a task section instead of Table 1's.
SECTION_TASKS = ("sr", "denoising")


def is_section(plan: Plan, name: str) -> bool:
    """Super-resolution and denoising tables, and figures with no published comparison row
    (region inpainting, flash): `dip section`, not Table 1's or Figure 7's commands."""
    exp = plan.experiment(name)
    if exp.kind == "paper_table":
        return get_preset(exp.preset).task in SECTION_TASKS
    return exp.kind == "figure" and not exp.config.get("reuse")


def _registered(plan: Plan, name: str, image: str, role: str) -> str | None:
    """The image's raw file for a role, or None when the registry has none."""
    try:
        return _raw(plan, name, image, role)
    except DipError:
        return None


def section_spec(plan: Plan, name: str) -> dict:
    """What `dip section` reads: the task, the registry set (the paper's numbers), every fit
    with its inputs, the published bicubic images where registered, and the figure's image."""
    exp = plan.experiment(name)
    slots = [s for s in plan.slots_of(name) if s.experiment == name]
    images = list(dict.fromkeys(s.image for s in slots))
    labels = {v.id: exp.preset if v.id == BASE and not v.named else v.label for v in exp.variants}
    published = {}
    if get_preset(exp.preset).task == "sr":
        for image in images:
            bicubic = _registered(plan, name, image, "bicubic")
            if bicubic:
                published[image] = {"gt": _raw(plan, name, image, "gt"), "bicubic": bicubic}
    return {
        "experiment": name, "mode": plan.mode, "task": get_preset(exp.preset).task,
        "set": exp.images[0].set or exp.images[0].name, "figure": images[0],
        "fits": [{"image": s.image, "seed": s.seed, "variant": labels[s.variant], "fit": s.fit.out_dir,
                  "metrics": s.fit.metrics if s.ground_truth else None, "inputs": s.inputs.dir}
                 for s in slots],
        "published": published,
    }


def section_inputs(plan: Plan, name: str) -> list[str]:
    spec = section_spec(plan, name)
    files = {p for f in spec["fits"] for p in (f["fit"], f["metrics"], f["inputs"]) if p}
    return sorted(files | {p for v in spec["published"].values() for p in v.values()})


def section_args(plan: Plan, name: str) -> list[str]:
    return ["--spec-json", json.dumps(section_spec(plan, name), separators=(",", ":"))]


# paper table -------------------------------------------------------------------------------


def companion(plan: Plan, name: str) -> str | None:
    """The experiment a paper table names as `full_backtracking` (the same fits with
    full-state backtracking, a column of its own), when this mode runs it."""
    other = plan.experiment(name).config.get("full_backtracking")
    return other if other in plan.experiments else None


def _companion(plan: Plan, name: str) -> list[str]:
    other = companion(plan, name)
    return [] if other is None else [s.fit.metrics for s in _scored(plan.slots_of(other, BASE))]


def table_inputs(plan: Plan, name: str) -> dict[str, list[str]]:
    slots = _scored(plan.slots_of(name, BASE))
    images = sorted({s.image for s in slots})
    published = [p for i in images for r in ("gt", "dip", "papyan") if (p := _raw(plan, name, i, r))]
    return {"metrics": [s.fit.metrics for s in slots], "full_backtracking": _companion(plan, name),
            "published": published}


def table_args(plan: Plan, name: str, finished: Plan | None = None) -> list[str]:
    """`dip table1` arguments: every image's published outputs, and the metrics of the fits
    of ``finished`` (a partial report's plan; default: all of them)."""
    images = list(dict.fromkeys(s.image for s in _scored(plan.slots_of(name, BASE))))
    scored = _scored((finished or plan).slots_of(name, BASE))

    def role(r):
        return [(i, p) for i in images if (p := _raw(plan, name, i, r))]

    fullbt = _companion(finished or plan, name)
    return [
        "--metrics", *(s.fit.metrics for s in scored),
        *(["--metrics-full-backtracking", *fullbt] if fullbt else []),
        *_pairs("--gt", role("gt")),
        *_pairs("--published-dip", role("dip")),
        *_pairs("--published-papyan", role("papyan")),
        "--mode", plan.mode,
    ]


# figure ------------------------------------------------------------------------------------


def figure_rows(plan: Plan, name: str) -> dict[str, Slot]:
    """Top row: the experiment's first own image; bottom row: its first reused image."""
    exp = plan.experiment(name)
    reused = list(exp.config.get("reuse") or {})
    bottom = reused[0] if reused else exp.images[0].id
    return {"top": _first_seed(plan, name, exp.images[0].id), "bottom": _first_seed(plan, name, bottom)}


def figure_inputs(plan: Plan, name: str) -> list[str]:
    rows = figure_rows(plan, name)
    bottom = rows["bottom"].image
    extra = [_raw(plan, name, bottom, "papyan"), _raw(plan, name, bottom, "dip")]
    return [*(p for s in rows.values() for p in (s.fit.out_dir, s.inputs.dir)), *filter(None, extra)]


def figure_args(plan: Plan, name: str) -> list[str]:
    rows = figure_rows(plan, name)
    args = []
    # `dip figure7` names its rows after the paper's images: kate on top, Barbara below.
    for row, slot in (("kate", rows["top"]), ("barbara", rows["bottom"])):
        args += [
            f"--{row}-observed", f"{slot.inputs.dir}/observed.png",
            f"--{row}-output", f"{slot.fit.out_dir}/output.npy",
            f"--{row}-gt", f"{slot.inputs.dir}/gt.png",
            f"--{row}-prep", f"{slot.inputs.dir}/prep.json",
        ]
    bottom = rows["bottom"].image
    papyan, dip = _raw(plan, name, bottom, "papyan"), _raw(plan, name, bottom, "dip")
    if papyan and dip:
        args += ["--barbara-papyan", papyan, "--barbara-published-dip", dip]
    return args


# curves and snapshots ----------------------------------------------------------------------


def fit_dirs(plan: Plan, name: str) -> list[str]:
    return sorted({s.fit.out_dir for s in plan.slots_of(name, BASE)})


def _title(text: str, note: str) -> str:
    return f"{text} ({note})" if note else text


def curves_args(plan: Plan, name: str, note: str = "") -> list[str]:
    """`dip curves` arguments; ``note`` is added to the title (a partial report's missing fits)."""
    slots = plan.slots_of(name, BASE)
    args = _pairs("--trace", [(s.image, f"{s.fit.out_dir}/trace.csv") for s in slots])
    if plan.experiment(name).kind == "paper_table" and not is_section(plan, name):
        args.append("--paper-table1")
    return args + ["--title", _title(f"{name}: PSNR against the ground truth while fitting", note)]


def snapshots_args(plan: Plan, name: str, note: str = "") -> list[str]:
    images = list(dict.fromkeys(s.image for s in plan.slots_of(name, BASE)))
    slots = [_first_seed(plan, name, i) for i in images]
    taken = {tuple(plan.fits[s.fit].snapshots) for s in slots}
    # one set of columns where every row's fit took the same snapshots; else each row its own
    columns = ["--iterations", *map(str, taken.pop())] if len(taken) == 1 else []
    return [
        *_pairs("--dir", [(s.image, f"{s.fit.out_dir}/snapshots") for s in slots]),
        *columns,
        "--title", _title(f"{name}: the output while fitting (seed {slots[0].seed})", note),
    ]


# study -------------------------------------------------------------------------------------


def study_spec(plan: Plan, name: str) -> dict:
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


def study_inputs(plan: Plan, name: str) -> list[str]:
    slots = [s for s in plan.slots_of(name) if s.experiment == name]
    return sorted({s.fit.out_dir for s in slots} | {s.fit.metrics for s in _scored(slots)})


def study_args(plan: Plan, name: str) -> list[str]:
    return ["--spec-json", json.dumps(study_spec(plan, name), separators=(",", ":"))]


# data ----------------------------------------------------------------------------------------


def raw_files(plan: Plan, names: list[str] | None = None) -> list[str]:
    """Every registry file (data/raw/...) the experiments read: their inputs, and the
    published outputs their report kind compares with."""
    names = list(plan.experiments) if names is None else names
    files = set(plan.raw_files(names))
    for name in names:
        kind = plan.experiment(name).kind
        if is_section(plan, name):
            files.update(p for p in section_inputs(plan, name) if p.startswith("data/raw/"))
        elif kind == "paper_table":
            files.update(table_inputs(plan, name)["published"])
        elif kind == "figure":
            files.update(p for p in figure_inputs(plan, name) if p.startswith("data/raw/"))
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
            if role in ("table_csv", "figure_png", "curves", "snapshots", "study_json", "section_json"):
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
