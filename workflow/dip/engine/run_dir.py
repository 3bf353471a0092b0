"""The life of a fit's directory: a checked request runs in a hidden work directory beside
``out``, which is renamed to ``out`` when the fit ends, so a failed run never leaves a
half-written ``out``.

A run that got as far as a checkpoint keeps its work directory; a resume continues from
``out/checkpoint.pt`` or from the newest such directory. A checkpoint made with other settings
is refused (``strict``) or moved aside as ``.NAME.passed-over-*`` (``auto``): no checkpoint is
ever deleted. Two fits on one ``out`` are refused through a lock file.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.images import save_image
from ..errors import DipError
from ..files.locks import exclusive
from ..models.skip import build_net
from ..spec.execution import Execution
from ..spec.presets import Preset
from .fit import FitSettings, InjectedFailure, fit
from .signals import Stopped
from .state import CHECKPOINT, load_checkpoint, stream_seeds

#: Config entries that may change between a run and its resume: they do not change the
#: trajectory of the iterations already done (paths are checked through their sha256). The
#: execution path is the one exception: a resume takes the checkpoint's, whatever the hardware
#: it lands on would choose, so the precision mode is what must match.
RESUMABLE_CHANGES = {"iterations", "trace_every", "checkpoint_every", "checkpoint_minutes",
                     "snapshots", "execution",
                     "device", "image", "mask", "gt", "input_image", "fail_at_iteration"}
#: Exit code of a fit stopped by a signal after saving its state: rerun it to continue.
EXIT_STOPPED = 75


@dataclass
class FitRequest:
    """A fully checked fit: what to run, before anything is written."""

    preset: Preset
    settings: FitSettings
    device: torch.device
    legacy: bool
    net_input: torch.Tensor
    operator: nn.Module
    target: torch.Tensor
    gt: np.ndarray | None
    drawn_mask: np.ndarray | None
    config: dict


def _say(text: str) -> None:
    print(f"dip fit: {text}", file=sys.stderr)


def checkpoint_dirs(out: Path) -> list[Path]:
    """Where a fit could resume from, best first: out itself, then the hidden work directories
    of failed runs, newest first."""
    partial = [d for d in out.parent.glob(f".{out.name}.tmp-*") if (d / CHECKPOINT).is_file()]
    partial.sort(key=lambda d: (d / CHECKPOINT).stat().st_mtime, reverse=True)
    return ([out] if (out / CHECKPOINT).is_file() else []) + partial


def not_resumable(directory: Path, config: dict, iterations: int) -> str | None:
    """Why the checkpoint in ``directory`` cannot continue this fit, or None if it can."""
    try:
        ck = load_checkpoint(directory / CHECKPOINT)
        before = ck["info"]["config"]
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is unusable
        return f"cannot read checkpoint in {directory}: {exc}"
    changed = sorted(k for k in config.keys() | before.keys()
                     if k not in RESUMABLE_CHANGES and config.get(k) != before.get(k))
    if changed:
        return f"checkpoint in {directory} was made with other settings ({', '.join(changed)})"
    if ck["iteration"] > iterations:
        return (f"checkpoint in {directory} is at iteration {ck['iteration']}, "
                f"beyond --iterations {iterations}")
    return None


def resume_dir(out: Path, config: dict, iterations: int, policy: str) -> Path | None:
    """The directory to resume from. ``strict`` refuses an unusable best candidate; ``auto``
    passes over unusable ones and moves each aside."""
    for directory in checkpoint_dirs(out):
        reason = not_resumable(directory, config, iterations)
        if reason is None:
            return directory
        if policy == "strict":
            raise DipError(f"{reason}; drop --resume or remove it")
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.passed-over-", dir=out.parent))
        directory.replace(aside)
        _say(f"not resuming: {reason}; moved it to {aside}")
    return None


def _reuse_execution(request: FitRequest, directory: Path) -> None:
    """Continue on the checkpoint's path (bf16, memory format, compile), not on the one this
    machine would choose: a fit's numbers depend on it."""
    before = load_checkpoint(directory / CHECKPOINT)["info"]["config"]["execution"]
    request.settings.execution = Execution.from_dict(before)
    request.config["execution"] = before


def publish(work: Path, out: Path) -> None:
    """Move the finished work directory to ``out`` (replacing an old one) and tidy up."""
    if work != out:
        old = out.with_name(f".{out.name}.old-{work.name.rsplit('-', 1)[-1]}")
        if out.exists():
            out.rename(old)
        work.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def execute(request: FitRequest, out: Path, resume: str | None = None) -> int:
    """Run ``request`` into ``out`` (resuming with policy ``resume``: strict or auto); returns
    the exit code: 0, EXIT_STOPPED after a stop signal, 1 after an injected failure."""
    with exclusive(out.with_name(f".{out.name}.lock"), f"fit directory {out}"):
        return _execute_locked(request, out, resume)


def _execute_locked(request: FitRequest, out: Path, resume: str | None) -> int:
    start_from = resume_dir(out, request.config, request.settings.iterations, resume) if resume else None
    if start_from is not None:
        work = start_from
        _reuse_execution(request, start_from)
    else:
        if resume:
            _say(f"nothing to resume for {out}; starting afresh")
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))

    torch.manual_seed(stream_seeds(request.settings.seed).weights)
    net = build_net(request.preset.net, legacy=request.legacy)
    info = {"config": request.config, "preset": request.preset.name, "seed": request.settings.seed}
    try:
        if request.drawn_mask is not None:
            save_image(work / "mask.png", request.drawn_mask)
        fit(net, request.net_input, request.operator, request.target, work, request.settings,
            gt=request.gt, resume=start_from is not None, info=info)
    except BaseException as exc:
        if work != out and not (work / CHECKPOINT).is_file():
            shutil.rmtree(work, ignore_errors=True)
        elif work != out:
            _say(f"partial run kept in {work}; --resume continues it")
        if isinstance(exc, Stopped):
            _say(f"{exc}; its state is saved: rerun with --resume to continue")
            return EXIT_STOPPED
        if isinstance(exc, InjectedFailure):
            _say(str(exc))
            return 1
        raise
    publish(work, out)
    return 0
