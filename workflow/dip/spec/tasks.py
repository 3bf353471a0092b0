"""The restoration tasks as data: one row each, read wherever a fit differs by task.

A row says how `dip prepare` makes the observation from the registry's files, which forward
operator the fit compares its output through, how a fit is scored, and how the report's
section shows the task. The planner, `dip prepare`, `dip fit`, `dip evaluate` and the report
look a task up here by the name its preset gives; none of them infers a task from which files
or flags are present. A new task that reuses these parts is one row.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DipError

#: How `dip prepare` makes observed.png: a mask applied to the ground truth, Gaussian noise
#: added to it, a Lanczos downscale of it, the registry's files taken as they are, or one of
#: TARGETS made from the image (the paper's Figure 2).
OBSERVATIONS = ("mask", "noise", "downscale", "given", "target")
#: What a "target" observation fits (Figure 2): the image itself, the image plus Gaussian
#: noise, the image's pixels randomly permuted, or U(0, 1) white noise of the image's shape.
TARGETS = ("natural", "noisy", "shuffled", "uniform")
#: The forward models of dip.physics.operators, by name.
OPERATORS = ("mask", "downsample", "identity")
#: "psnr": PSNR and SSIM against gt.png; "sr": also the super-resolution protocol (PSNR on Y
#: as the official evaluation script); "none": there is no ground truth, nothing is scored.
SCORINGS = ("psnr", "sr", "none")


@dataclass(frozen=True)
class Task:
    name: str
    title: str                 # the heading of the task's section in the report
    observation: str           # one of OBSERVATIONS
    operator: str              # one of OPERATORS
    scoring: str               # one of SCORINGS
    #: observation "given": registry role -> the prepared file it becomes ("observed": what the
    #: fit matches; "input": the network's input image). The first role's file sets the size.
    given: tuple[tuple[str, str], ...] = ()
    #: The layout of its report section (`report: section`): which table beside the paper's
    #: numbers and which figure (dip.report.sections.LAYOUTS).
    section: str = "regions"

    @property
    def ground_truth(self) -> bool:
        return self.scoring != "none"

    @property
    def masked(self) -> bool:
        """The fit reads a mask (mask.png, or a drawn Bernoulli mask)."""
        return self.operator == "mask"


TASKS: dict[str, Task] = {t.name: t for t in (
    Task("inpainting", "region inpainting", observation="mask", operator="mask", scoring="psnr",
         section="regions"),
    Task("denoising", "denoising", observation="noise", operator="identity", scoring="psnr",
         section="denoising"),
    Task("sr", "super-resolution", observation="downscale", operator="downsample", scoring="sr",
         section="sr"),
    Task("flash", "flash / no-flash", observation="given", operator="identity", scoring="none",
         given=(("noflash", "observed"), ("flash", "input")), section="flash"),
    Task("dejpeg", "JPEG artefact removal", observation="given", operator="identity", scoring="none",
         given=(("observed", "observed"),), section="dejpeg"),
    Task("fitting", "fitting an image and noise (Figure 2)", observation="target", operator="identity",
         scoring="none", section="fitting"),
)}


def get_task(name: str) -> Task:
    """The task called ``name``; DipError naming the known ones otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise DipError(f"unknown task {name!r}; known: {', '.join(TASKS)}") from None


def given_roles() -> tuple[str, ...]:
    """Registry roles a task takes as given: an image registered by one of them and no ground
    truth is fitted, never scored."""
    return tuple(dict.fromkeys(role for t in TASKS.values() for role, _ in t.given))
