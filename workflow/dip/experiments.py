"""The experiment registry: which fits a configuration asks for, and with what settings.

The workflow's config holds experiments by name (preset, images, mask, seeds, overrides) and a
run mode. This module turns that into concrete fits, so the Snakefile only wires paths. A fit
is identified by (experiment, image, seed); an experiment may reuse another's fits
(``reuse: {image: experiment}``), which are then never fitted twice.
"""

from dataclasses import dataclass

from .errors import DipError

#: Data roles an experiment's mask needs, by mask kind (see the data registry).
MASK_ROLES = {
    "authors": ("gt", "masked"),   # mask recovered from the authors' published masked input
    "published": ("gt", "mask"),   # a published mask file (e.g. kate_mask.png)
    "bernoulli": ("gt",),          # drawn from the seed
}

#: Published outputs the tables and figures compare against, by preset.
COMPARISON_ROLES = {"table1": ("dip", "papyan")}


@dataclass(frozen=True, order=True)
class Fit:
    experiment: str
    image: str
    seed: int

    @property
    def id(self) -> str:
        return f"{self.experiment}/{self.image}/{self.seed}"

    @property
    def out_dir(self) -> str:
        return f"results/fits/{self.experiment}/{self.image}/seed{self.seed}"

    @property
    def metrics(self) -> str:
        return f"results/metrics/{self.experiment}/{self.image}/seed{self.seed}.json"

    @property
    def input_dir(self) -> str:
        return f"data/inputs/{self.experiment}/{self.image}/seed{self.seed}"


def experiment(config: dict, name: str) -> dict:
    try:
        return config["experiments"][name]
    except KeyError:
        known = ", ".join(config.get("experiments", {})) or "none"
        raise DipError(f"unknown experiment '{name}'; configured: {known}") from None


def is_quick(config: dict) -> bool:
    return config.get("mode", "paper") == "quick"


def active(config: dict) -> list[str]:
    """The experiments this run's mode runs (an experiment's `modes`, default every mode)."""
    mode = config.get("mode", "paper")
    return [name for name, exp in config["experiments"].items()
            if mode in exp.get("modes", ("paper", "quick"))]


def full_backtracking_fits(config: dict, name: str) -> list[Fit]:
    """Fits of the experiment named by `name`'s `full_backtracking` (the same fits with
    full-state backtracking), when this mode runs it; none otherwise."""
    other = experiment(config, name).get("full_backtracking")
    return own_fits(config, other) if other in active(config) else []


def quick_crop(config: dict, name: str) -> int:
    """Side of the quick-mode centre crop: the experiment's own, else the quick default."""
    return int(experiment(config, name).get("quick_crop", config["quick"]["crop"]))


def pad_to(config: dict, name: str, image: str) -> int | None:
    """Side an image is reflection-padded to before fitting (paper mode only; quick mode crops)."""
    if is_quick(config):
        return None
    side = experiment(config, name).get("pad_to", {}).get(image)
    return None if side is None else int(side)


def seeds(config: dict, name: str) -> list[int]:
    if is_quick(config):
        return list(config["quick"]["seeds"])
    return list(experiment(config, name).get("seeds", [0]))


def own_fits(config: dict, name: str) -> list[Fit]:
    """The fits this experiment runs itself (reused images excluded)."""
    exp = experiment(config, name)
    return [Fit(name, image, s) for image in exp["images"] for s in seeds(config, name)]


def used_fits(config: dict, name: str) -> list[Fit]:
    """Every fit an experiment's figures and tables read: its own plus reused ones."""
    fits = own_fits(config, name)
    for image, other in experiment(config, name).get("reuse", {}).items():
        fits += [f for f in own_fits(config, other) if f.image == image]
    return fits


def all_fits(config: dict) -> list[Fit]:
    """Each fit of the configuration once."""
    return sorted({f for name in active(config) for f in own_fits(config, name)})


def iterations(config: dict, name: str) -> int:
    if is_quick(config):
        return int(config["quick"]["iterations"])
    exp = experiment(config, name)
    if "iterations" in exp:
        return int(exp["iterations"])
    from .presets import get_preset

    return get_preset(exp["preset"]).iterations


def snapshots(config: dict, name: str) -> list[int]:
    """Snapshot iterations: the preset's, or in quick mode the same fractions of the run."""
    from .presets import get_preset

    preset = get_preset(experiment(config, name)["preset"])
    paper = [s for s in preset.snapshots if s <= preset.iterations] or [preset.iterations]
    if not is_quick(config):
        n = iterations(config, name)
        return [s for s in paper if s <= n]
    n = iterations(config, name)
    count = int(config["quick"].get("snapshots", len(paper)))
    fractions = [s / preset.iterations for s in paper][-count:]
    return sorted({max(1, round(f * n)) for f in fractions})


def data_roles(config: dict, name: str) -> tuple[str, ...]:
    exp = experiment(config, name)
    mask = exp.get("mask", "bernoulli")
    if mask not in MASK_ROLES:
        raise DipError(f"experiment '{name}': unknown mask kind '{mask}'; known: {', '.join(MASK_ROLES)}")
    return MASK_ROLES[mask] + COMPARISON_ROLES.get(exp["preset"], ())


def fit_overrides(config: dict, name: str) -> dict:
    """Preset overrides an experiment sets (lr, reg_noise_std, ...), iterations resolved."""
    exp = experiment(config, name)
    keys = ("lr", "reg_noise_std", "ema_weight", "backtrack")
    out = {k: exp[k] for k in keys if k in exp}
    out["iterations"] = iterations(config, name)
    return out


def trace_every(config: dict) -> int:
    """Metrics cadence K: every 50 iterations, or often enough for a curve in quick mode."""
    return max(1, int(config["quick"]["iterations"]) // 20) if is_quick(config) else 50


def fit_args(config: dict, fit: Fit) -> list[str]:
    """Arguments of `dip fit` for one fit (paths relative to the workflow's directory)."""
    from .presets import get_preset

    exp = experiment(config, fit.experiment)
    preset = get_preset(exp["preset"])
    inp = fit.input_dir
    args = [
        "--preset", preset.name,
        "--image", f"{inp}/observed.png",
        "--gt", f"{inp}/gt.png",
        "--seed", str(fit.seed),
        "--device", config.get("device", "auto"),
        "--trace-every", str(trace_every(config)),
        "--snapshots", ",".join(map(str, snapshots(config, fit.experiment))),
        # A rerun after a killed job (time limit, preemption) goes on from its last checkpoint.
        "--resume", "auto",
    ]
    if preset.task == "inpainting":
        args += ["--mask", f"{inp}/mask.png"]
    flags = {"iterations": "--iterations", "lr": "--lr", "ema_weight": "--ema-weight",
             "backtrack": "--backtrack"}
    for key, value in fit_overrides(config, fit.experiment).items():
        if key in flags:
            args += [flags[key], str(value)]
    if exp.get("legacy"):
        args.append("--legacy")
    if fit.id in config.get("inject_failure", []):
        args += ["--fail-at-iteration", "1"]
    return args


def pixels(config: dict, fit: Fit) -> int:
    """Pixel count of a fit's image: the quick crop, the padded size, else the ground truth's
    registered size."""
    if is_quick(config):
        return quick_crop(config, fit.experiment) ** 2
    side = pad_to(config, fit.experiment, fit.image)
    if side is not None:
        return side * side
    from .data import image_size

    height, width = image_size(config, fit.image)
    return height * width


def runtime_minutes(config: dict, fit: Fit) -> int:
    """Scheduler runtime request: twice the runtime model's estimate, at least 10 minutes.

    The model is a cost per iteration and megapixel, on a GPU unless `device: cpu`.
    """
    model = config.get("runtime_model", {})
    on_cpu = config.get("device", "auto") == "cpu"
    per_mpx = model.get("cpu_s_per_mpx_iter", 26.0) if on_cpu else model.get("gpu_s_per_mpx_iter", 0.15)
    seconds = iterations(config, fit.experiment) * pixels(config, fit) / 1e6 * per_mpx
    return max(10, int(2 * seconds / 60) + 1)


def mem_mb(config: dict, fit: Fit) -> int:
    """Host memory request: torch and the images, with room for the 512 x 512 activations."""
    return 2000 + pixels(config, fit) // 100


def resolved(config: dict) -> dict:
    """The configuration as it will run: each experiment with its mode applied."""
    out = {k: v for k, v in config.items() if k not in ("experiments", "data")}
    out["experiments"] = {
        name: {
            **exp,
            "seeds": seeds(config, name),
            "iterations": iterations(config, name),
            "snapshots": snapshots(config, name),
            "fits": [f.id for f in used_fits(config, name)],
        }
        for name, exp in config["experiments"].items() if name in active(config)
    }
    return out
