"""Which files each report rule reads and the arguments of its `dip` command.

Kept beside the experiment registry so the Snakemake rules only wire paths: a rule's `input`
is ``inputs(...)`` and its shell line is ``dip <command> <args(...)>``.
"""

from . import data, experiments
from .experiments import Fit


def _raw(config: dict, image: str, role: str) -> str:
    return data.raw_path(data.file_for(config, image, role))


def _list(flag: str, values: list[str]) -> list[str]:
    return [flag, *values] if values else []


def _pairs(flag: str, pairs: list[tuple[str, str]]) -> list[str]:
    return [flag, *(f"{image}={path}" for image, path in pairs)] if pairs else []


def first_seed_fit(config: dict, name: str, image: str) -> Fit:
    """The fit a figure shows for an image: the lowest seed of the experiment that owns it."""
    return min(f for f in experiments.used_fits(config, name) if f.image == image)


# Table 1 ---------------------------------------------------------------------------------


def table1_inputs(config: dict, name: str = "table1") -> dict[str, list[str]]:
    images = experiments.experiment(config, name)["images"]
    return {
        "metrics": [f.metrics for f in experiments.used_fits(config, name)],
        "full_backtracking": [f.metrics for f in experiments.full_backtracking_fits(config, name)],
        "published": [_raw(config, i, r) for i in images for r in ("gt", "dip", "papyan")],
    }


def table1_args(config: dict, name: str = "table1") -> list[str]:
    images = experiments.experiment(config, name)["images"]
    return [
        "--metrics", *(f.metrics for f in experiments.used_fits(config, name)),
        *_list("--metrics-full-backtracking",
               [f.metrics for f in experiments.full_backtracking_fits(config, name)]),
        *_pairs("--gt", [(i, _raw(config, i, "gt")) for i in images]),
        *_pairs("--published-dip", [(i, _raw(config, i, "dip")) for i in images]),
        *_pairs("--published-papyan", [(i, _raw(config, i, "papyan")) for i in images]),
        "--mode", config.get("mode", "paper"),
    ]


# Figure 7 --------------------------------------------------------------------------------


def figure7_fits(config: dict, name: str = "figure7") -> dict[str, Fit]:
    """Top row (the text-inpainting image) and bottom row (Barbara, reused from Table 1)."""
    exp = experiments.experiment(config, name)
    return {
        "kate": first_seed_fit(config, name, exp["images"][0]),
        "barbara": first_seed_fit(config, name, next(iter(exp.get("reuse", {"barbara": None})))),
    }


def figure7_inputs(config: dict, name: str = "figure7") -> list[str]:
    fits = figure7_fits(config, name)
    barbara = fits["barbara"].image
    return [
        *(p for f in fits.values() for p in (f.out_dir, f.input_dir)),
        _raw(config, barbara, "papyan"),
        _raw(config, barbara, "dip"),
    ]


def figure7_args(config: dict, name: str = "figure7") -> list[str]:
    fits = figure7_fits(config, name)
    args = []
    for row, fit in fits.items():
        args += [
            f"--{row}-observed", f"{fit.input_dir}/observed.png",
            f"--{row}-output", f"{fit.out_dir}/output.npy",
            f"--{row}-gt", f"{fit.input_dir}/gt.png",
            f"--{row}-prep", f"{fit.input_dir}/prep.json",
        ]
    barbara = fits["barbara"].image
    return args + [
        "--barbara-papyan", _raw(config, barbara, "papyan"),
        "--barbara-published-dip", _raw(config, barbara, "dip"),
    ]


# Curves and snapshots ----------------------------------------------------------------------


def curves_args(config: dict, name: str) -> list[str]:
    fits = experiments.used_fits(config, name)
    args = _pairs("--trace", [(f.image, f"{f.out_dir}/trace.csv") for f in fits])
    if experiments.experiment(config, name)["preset"] == "table1":
        args.append("--paper-table1")
    return args + ["--title", f"{name}: PSNR against the ground truth while fitting"]


def snapshots_args(config: dict, name: str) -> list[str]:
    images = experiments.experiment(config, name)["images"]
    fits = [first_seed_fit(config, name, i) for i in images]
    return [
        *_pairs("--dir", [(f.image, f"{f.out_dir}/snapshots") for f in fits]),
        "--iterations", *map(str, experiments.snapshots(config, name)),
        "--title", f"{name}: the output while fitting (seed {fits[0].seed})",
    ]


def fit_dirs(config: dict, name: str) -> list[str]:
    return [f.out_dir for f in experiments.used_fits(config, name)]
