"""What the prepare rule passes to `dip prepare` for one fit, from the experiment registry."""

from . import data, experiments

#: `dip prepare` option for each data role that feeds a fit's inputs.
_ROLE_OPTIONS = {"gt": "--gt", "masked": "--masked", "mask": "--mask"}


def prepare_inputs(config: dict, experiment: str, image: str) -> dict[str, str]:
    """role -> raw file (data/raw/...) of the roles `dip prepare` reads."""
    roles = data.experiment_files(config, experiment)[image]
    return {role: data.raw_path(path) for role, path in roles.items() if role in _ROLE_OPTIONS}


def geometry_args(config: dict, experiment: str, image: str) -> list[str]:
    """Quick mode: the quick centre crop. Otherwise the experiment's reflection pad for this
    image if it names one (`pad_to`), else a crop to its (else its preset's) multiple."""
    if experiments.is_quick(config):
        return ["--crop", str(experiments.quick_crop(config, experiment))]
    side = experiments.pad_to(config, experiment, image)
    if side is not None:
        return ["--pad-to", str(side)]
    exp = experiments.experiment(config, experiment)
    multiple = exp.get("crop_multiple")
    if multiple is None:
        from .presets import get_preset

        multiple = get_preset(exp["preset"]).crop_multiple
    return ["--crop-multiple", str(int(multiple))]


def prepare_args(config: dict, experiment: str, image: str, seed: int) -> str:
    """Everything after `dip prepare` except --out, as one shell-ready string."""
    args = []
    for role, raw in prepare_inputs(config, experiment, image).items():
        args += [_ROLE_OPTIONS[role], raw]
    exp = experiments.experiment(config, experiment)
    if exp.get("mask", "bernoulli") == "bernoulli":
        args += ["--mask-bernoulli", str(float(exp.get("missing", 0.5)))]
    args += ["--seed", str(int(seed))] + geometry_args(config, experiment, image)
    return " ".join(args)
