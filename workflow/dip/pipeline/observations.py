"""How the planner asks `dip prepare` for each kind of observation (dip.spec.tasks.OBSERVATIONS):
the registry roles it reads, its other arguments, and the seed of its draw."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DipError
from ..physics.degrade import noise_seed
from ..spec.presets import get_preset
from ..spec.tasks import TARGETS, Task
from .images import ImageRef

if TYPE_CHECKING:
    from .plan import Experiment

#: Data roles `dip prepare` reads for a masked observation, by the experiment's mask kind.
MASK_ROLES = {"authors": ("gt", "masked"), "published": ("gt", "mask"), "bernoulli": ("gt",)}
_ROLE_OPTIONS = {"gt": "--gt", "masked": "--masked", "mask": "--mask"}


def _masked(exp: Experiment, ref: ImageRef, task: Task, seed: int) -> tuple[tuple[str, ...], list[str], int]:
    """The experiment's mask kind: the authors' masked image, a published mask, or a Bernoulli
    mask drawn from the fit's seed."""
    mask = exp.config.get("mask", "bernoulli")
    if ref.local and mask == "authors":
        raise DipError(f"experiment '{exp.name}', image '{ref.id}': a local image has no "
                       "authors' mask; use mask: bernoulli, or give it a `mask` file")
    roles = ("gt", "mask") if ref.local and ref.mask else MASK_ROLES[mask]
    drawn = [] if len(roles) > 1 else ["--mask-bernoulli", str(float(exp.config.get("missing", 0.5)))]
    return roles, drawn, seed


def _noisy(exp: Experiment, ref: ImageRef, task: Task, seed: int) -> tuple[tuple[str, ...], list[str], int]:
    """Gaussian noise drawn once per image, from the image's own seed (not the fit's)."""
    sigma = float(exp.config.get("noise_sigma", 25))
    return ("gt",), ["--noise-sigma", f"{sigma:g}"], noise_seed(ref.id, int(exp.config.get("noise_seed", 0)))


def _downscaled(exp: Experiment, ref: ImageRef, task: Task, seed: int) -> tuple[tuple[str, ...], list[str], int]:
    """The LR image of the preset's factor; nothing is drawn, so every seed shares it."""
    return ("gt",), ["--sr-factor", str(get_preset(exp.preset).sr_factor)], 0


def _given(exp: Experiment, ref: ImageRef, task: Task, seed: int) -> tuple[tuple[str, ...], list[str], int]:
    """The task's files as the registry holds them; nothing is drawn."""
    return tuple(role for role, _ in task.given), [], 0


def _target(exp: Experiment, ref: ImageRef, task: Task, seed: int) -> tuple[tuple[str, ...], list[str], int]:
    """A Figure-2 target: the image as it is (shared by every seed), or drawn from the fit's
    seed (noise, a permutation), so that the band over seeds covers the draws."""
    target = exp.config.get("target")
    if target not in TARGETS:
        raise DipError(f"experiment '{exp.name}': task {task.name} takes `target`, one of {', '.join(TARGETS)}")
    sigma = ["--noise-sigma", f"{float(exp.config.get('noise_sigma', 25)):g}"] if target == "noisy" else []
    return ("gt",), ["--target", target, *sigma], 0 if target == "natural" else seed


#: How the planner asks `dip prepare` for each observation (dip.spec.tasks.OBSERVATIONS): the
#: registry roles it reads, its other arguments, and the seed of its draw.
OBSERVATIONS = {"mask": _masked, "noise": _noisy, "downscale": _downscaled, "given": _given, "target": _target}


def source_args(role: str, path: str) -> list[str]:
    return [_ROLE_OPTIONS[role], path] if role in _ROLE_OPTIONS else ["--file", f"{role}={path}"]
