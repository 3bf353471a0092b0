"""The configuration resolved into jobs: every fit, every prepared input, every path.

One ``Plan`` per configuration. Experiments become slots (experiment, variant, image, seed);
each slot reads one fit. Two slots whose fits would be the same (same inputs, same settings,
same seed) read one fit, owned by the first slot in config order: a variant equal to its base,
or a study's base equal to another experiment's fits, is never fitted twice. Inputs are
shared the same way. Bad input (an unknown setting, a network too deep for its image, no
images, two variants on one path) is a DipError naming the experiment and key, raised here,
before any job runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import DipError
from ..spec.network import size_problem
from ..spec.presets import get_preset
from ..spec.tasks import Task, get_task
from . import paths
from .images import ImageRef, resolve as resolve_image, size as image_size, source
from .kinds import KINDS
from .observations import MASK_ROLES, OBSERVATIONS, source_args
from .settings import flags, network, resolve as resolve_settings
from .variants import BASE, Variant, variants as experiment_variants

@dataclass(frozen=True, order=True)
class Fit:
    """One fit job, by the path it writes."""

    mode: str
    experiment: str
    variant: str
    image: str
    seed: int

    @property
    def id(self) -> str:
        return f"{self.experiment}/{self.variant}/{self.image}/{self.seed}"

    def _fill(self, template: str) -> str:
        return template.format(mode=self.mode, experiment=self.experiment, variant=self.variant,
                               image=self.image, seed=self.seed)

    @property
    def out_dir(self) -> str:
        return self._fill(paths.FIT)

    @property
    def metrics(self) -> str:
        return self._fill(paths.METRICS)


@dataclass(frozen=True, order=True)
class Inputs:
    """One prepared input folder (gt.png, observed.png, mask.png, prep.json)."""

    mode: str
    experiment: str
    image: str
    seed: int

    @property
    def dir(self) -> str:
        return paths.INPUTS.format(mode=self.mode, experiment=self.experiment, image=self.image,
                                   seed=self.seed)


@dataclass(frozen=True)
class Slot:
    """What an experiment's reports read for (variant, image, seed): a fit and its inputs."""

    experiment: str
    variant: str
    image: str
    seed: int
    fit: Fit
    inputs: Inputs
    ground_truth: bool = True


@dataclass
class PrepJob:
    inputs: Inputs
    sources: dict[str, str]  # role -> file (data/raw/... or a local path)
    args: list[str]          # `dip prepare` arguments except --out
    size: tuple[int, int]    # (height, width) after the crop/pad policy


@dataclass
class FitJob:
    fit: Fit
    inputs: Inputs
    preset: str
    overrides: dict
    settings: dict
    snapshots: list[int]
    ground_truth: bool
    fail: bool = False
    size: tuple[int, int] = (0, 0)

    @property
    def iterations(self) -> int:
        return self.settings["iterations"]

    @property
    def pixels(self) -> int:
        return self.size[0] * self.size[1]


@dataclass
class Experiment:
    name: str
    kind: str
    preset: str
    images: list[ImageRef]
    seeds: list[int]
    variants: list[Variant]
    config: dict = field(repr=False)


def is_quick(config: dict) -> bool:
    return config.get("mode", "paper") == "quick"


def trace_every(config: dict, exp: dict | None = None) -> int:
    """Metrics cadence K: every 50 iterations (or the experiment's `trace_every`), or ten
    points a curve in quick mode (each point costs two forward passes, a large share of a
    short fit)."""
    if is_quick(config):
        return max(1, int(config["quick"]["iterations"]) // 10)
    return int((exp or {}).get("trace_every", 50))


class Plan:
    """Everything the workflow runs for ``config`` (a validated config with its registry)."""

    def __init__(self, config: dict):
        self.config = config
        self.mode = config.get("mode", "paper")
        if self.mode not in ("paper", "quick"):
            raise DipError(f"mode must be 'paper' or 'quick', got {self.mode!r}")
        exps = {name: exp for name, exp in (config.get("experiments") or {}).items()
                if self.mode in exp.get("modes", ("paper", "quick"))}
        if not exps:
            raise DipError(f"the config has no experiments that run in {self.mode} mode")
        self.experiments = {name: self._experiment(name, exp) for name, exp in exps.items()}
        self.inputs: dict[Inputs, PrepJob] = {}
        self.fits: dict[Fit, FitJob] = {}
        self.slots: dict[str, list[Slot]] = {}
        prep_owner: dict[str, Inputs] = {}
        fit_owner: dict[str, Fit] = {}
        for name, exp in self.experiments.items():
            self.slots[name] = self._own_slots(exp, prep_owner, fit_owner)
        for name, exp in self.experiments.items():
            self.slots[name] += self._reused_slots(name, exp.config)
        for name, exp in self.experiments.items():
            KINDS[exp.kind].check(self, name)
        self.targets = self._targets(config.get("targets") or {})

    # experiments -------------------------------------------------------------------------

    def _experiment(self, name: str, exp: dict) -> Experiment:
        where = f"experiment '{name}'"
        images = exp.get("quick_images") if is_quick(self.config) and exp.get("quick_images") else exp.get("images")
        if not images:
            raise DipError(f"{where}: no images")
        kind = exp.get("report", "study")
        if kind not in KINDS:
            raise DipError(f"{where}: report kind '{kind}' unknown; known: {', '.join(KINDS)}")
        mask = exp.get("mask", "bernoulli")
        if mask not in MASK_ROLES:
            raise DipError(f"{where}: mask '{mask}' unknown; known: {', '.join(MASK_ROLES)}")
        refs = [resolve_image(self.config, item, f"{where}, images") for item in images]
        ids = [r.id for r in refs]
        if len(set(ids)) != len(ids):
            raise DipError(f"{where}: an image is listed twice")
        if is_quick(self.config):
            seeds = list(exp.get("quick_seeds") or self.config["quick"]["seeds"])
        else:
            seeds = list(exp.get("seeds", [0]))
        get_preset(exp["preset"])
        return Experiment(name, kind, exp["preset"], refs, seeds, experiment_variants(name, exp), exp)

    def _geometry(self, exp: Experiment, ref: ImageRef, task: Task) -> tuple[list[str], tuple[int, int]]:
        """`dip prepare` crop/pad arguments of an image and the size they give."""
        role = task.given[0][0] if task.observation == "given" else "gt"
        h, w = image_size(self.config, ref, role, f"experiment '{exp.name}', image '{ref.id}'")
        if is_quick(self.config):
            side = min(int(exp.config.get("quick_crop", self.config["quick"]["crop"])), h, w)
            return ["--crop", str(side)], (side, side)
        pad = (exp.config.get("pad_to") or {}).get(ref.id)
        if pad is not None:
            return ["--pad-to", str(int(pad))], (int(pad), int(pad))
        multiple = int(exp.config.get("crop_multiple") or get_preset(exp.preset).crop_multiple)
        return ["--crop-multiple", str(multiple)], (h // multiple * multiple, w // multiple * multiple)

    def _prep(self, exp: Experiment, ref: ImageRef, seed: int) -> PrepJob:
        task = get_task(get_preset(exp.preset).task)
        roles, extra, seed = OBSERVATIONS[task.observation](exp, ref, task, seed)
        sources = {role: source(self.config, ref, role) for role in roles}
        geometry, size = self._geometry(exp, ref, task)
        args = ["--task", task.name, *(a for role, path in sources.items() for a in source_args(role, path)),
                *extra, "--seed", str(int(seed)), *geometry]
        return PrepJob(Inputs(self.mode, exp.name, ref.id, seed), sources, args, size)

    def _snapshots(self, preset_name: str, iterations: int) -> list[int]:
        """The preset's snapshot iterations; in quick mode the same fractions of the run."""
        preset = get_preset(preset_name)
        paper = [s for s in preset.snapshots if s <= preset.iterations] or [preset.iterations]
        if not is_quick(self.config):
            return [s for s in paper if s <= iterations] or [iterations]
        count = int(self.config["quick"].get("snapshots", len(paper)))
        fractions = [s / preset.iterations for s in paper][-count:]
        return sorted({max(1, round(f * iterations)) for f in fractions})

    def _fails(self, name: str, variant: str, image: str, seed: int) -> bool:
        wanted = set(self.config.get("inject_failure") or [])
        ids = {f"{name}/{variant}/{image}/{seed}"}
        if variant == BASE:
            ids.add(f"{name}/{image}/{seed}")
        return bool(wanted & ids)

    def _own_slots(self, exp: Experiment, prep_owner: dict, fit_owner: dict) -> list[Slot]:
        slots = []
        for variant in exp.variants:
            overrides = dict(variant.overrides)
            if is_quick(self.config):
                overrides["iterations"] = int(self.config["quick"]["iterations"])
            where = f"experiment '{exp.name}', variant '{variant.id}'"
            settings = resolve_settings(variant.preset, overrides, where)
            net = network(get_preset(variant.preset), overrides)
            scored = get_task(get_preset(variant.preset).task).ground_truth
            for ref in exp.images:
                ground_truth = ref.ground_truth and scored
                for seed in exp.seeds:
                    prep = self._prep(exp, ref, seed)
                    prep_key = json.dumps(prep.args)
                    inputs = prep_owner.setdefault(prep_key, prep.inputs)
                    if inputs == prep.inputs:
                        self.inputs[inputs] = prep
                    problem = size_problem(net, *prep.size)
                    if problem:
                        raise DipError(f"{where}, image '{ref.id}': {problem} (quick mode: set "
                                       "quick_crop)")
                    fail = self._fails(exp.name, variant.id, ref.id, seed)
                    snapshots = self._snapshots(variant.preset, settings["iterations"])
                    key = json.dumps([inputs.dir, seed, settings, snapshots, fail, ground_truth],
                                     sort_keys=True)
                    fit = Fit(self.mode, exp.name, variant.id, ref.id, seed)
                    owner = fit_owner.setdefault(key, fit)
                    if owner == fit:
                        self.fits[fit] = FitJob(fit, inputs, variant.preset, overrides, settings,
                                                snapshots, ground_truth, fail, prep.size)
                    slots.append(Slot(exp.name, variant.id, ref.id, seed, owner, inputs, ground_truth))
        return slots

    def _reused_slots(self, name: str, exp: dict) -> list[Slot]:
        """`reuse: {image: experiment}`: that experiment's base fits of the image."""
        out = []
        for image, other in (exp.get("reuse") or {}).items():
            if other not in self.experiments:
                raise DipError(f"experiment '{name}', reuse.{image}: no experiment '{other}' in "
                               f"{self.mode} mode")
            found = [s for s in self.slots[other] if s.image == image and s.variant == BASE
                     and s.experiment == other]
            if not found:
                raise DipError(f"experiment '{name}', reuse.{image}: '{other}' does not fit '{image}'")
            out += found
        return out

    def _targets(self, declared: dict) -> dict[str, list[str]]:
        names = list(self.experiments)
        targets = {"all": names, "studies": [], "everything": names}
        declared_names = self.config.get("experiments") or {}
        for target, members in declared.items():
            unknown = [m for m in members or [] if m not in declared_names]
            if unknown:
                raise DipError(f"targets.{target}: no experiment {', '.join(unknown)}")
            # an experiment whose `modes` leave out this mode is not part of this run
            targets[target] = [m for m in members or [] if m in self.experiments]
        return targets

    # queries -----------------------------------------------------------------------------

    def experiment(self, name: str) -> Experiment:
        try:
            return self.experiments[name]
        except KeyError:
            raise DipError(f"unknown experiment '{name}'; configured: {', '.join(self.experiments)}") from None

    def fit_job(self, experiment: str, variant: str, image: str, seed) -> FitJob:
        fit = Fit(self.mode, experiment, variant, image, int(seed))
        try:
            return self.fits[fit]
        except KeyError:
            raise DipError(f"no fit {fit.id} in this plan") from None

    def prep_job(self, experiment: str, image: str, seed) -> PrepJob:
        inputs = Inputs(self.mode, experiment, image, int(seed))
        try:
            return self.inputs[inputs]
        except KeyError:
            raise DipError(f"no inputs {experiment}/{image}/{seed} in this plan") from None

    def all_fits(self) -> list[FitJob]:
        return [self.fits[f] for f in sorted(self.fits)]

    def slots_of(self, name: str, variant: str | None = None) -> list[Slot]:
        self.experiment(name)
        return [s for s in self.slots[name] if variant is None or s.variant == variant]

    def fits_of_target(self, target: str) -> list[Fit]:
        return sorted({s.fit for name in self.target(target) for s in self.slots[name]})

    def target(self, name: str) -> list[str]:
        try:
            return self.targets[name]
        except KeyError:
            raise DipError(f"unknown target '{name}'; known: {', '.join(self.targets)}") from None

    def raw_files(self, names: list[str] | None = None) -> list[str]:
        """Registry files (data/raw/...) the given experiments' inputs read."""
        wanted = set(self.experiments if names is None else names)
        used = {s.inputs for n in wanted for s in self.slots[n]}
        return sorted({p for i in used for p in self.inputs[i].sources.values() if p.startswith("data/raw/")})

    # arguments ---------------------------------------------------------------------------

    def prepare_args(self, experiment: str, image: str, seed) -> list[str]:
        return self.prep_job(experiment, image, seed).args

    def fit_args(self, job: FitJob) -> list[str]:
        """`dip fit` arguments of one fit except --out (paths relative to the workflow's folder)."""
        inp = job.inputs.dir
        args = ["--preset", job.preset, "--image", f"{inp}/observed.png"]
        if job.ground_truth:
            args += ["--gt", f"{inp}/gt.png"]
        args += [
            "--seed", str(job.fit.seed),
            "--device", self.config.get("device", "auto"),
            "--trace-every", str(trace_every(self.config, self.experiment(job.fit.experiment).config)),
            "--snapshots", ",".join(map(str, job.snapshots)),
            # A rerun after a killed job (time limit, preemption) goes on from its last checkpoint.
            "--resume", "auto",
        ]
        if get_task(get_preset(job.preset).task).masked:
            args += ["--mask", f"{inp}/mask.png"]
        if get_preset(job.preset).input == "image":
            args += ["--input-image", f"{inp}/input.png"]
        args += flags(job.overrides)
        if job.fail:
            args += ["--fail-at-iteration", "1"]
        return args
