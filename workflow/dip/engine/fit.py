"""Fitting one image with Deep Image Prior: the optimisation loop and what it leaves on disk.

The net maps a fixed input z to an image. Each iteration i draws fresh Gaussian noise n_i and
Adam (constant LR, default betas) takes one step on the MSE between
``operator(net(z + reg_noise_std * n_i))`` and the observation ``target``, which lives in the
operator's output space (the masked image, the LR image, the noisy image).

The procedure is the authors' notebooks', step for step (docs/fidelity.md):

* **Final image** (``output``): the net in train mode after the last update, fed the input of
  the last iteration, z + reg_noise_std * n_N: the restoration (Table 1), denoising and
  super-resolution notebooks show ``net(net_input)`` with that noisy input still in the global.
  The inpainting notebook (text, vase, library) assigns it to a local inside its closure, so
  it shows ``net(z)``; a preset says which (``final_input``).
* **Official backtracking** (restoration notebook): on iterations 0, K, 2K, ... (0-based, so
  the first is checked) and before Adam's step, the PSNR of that iteration's training output
  on the observed data is compared with the last good check. A drop of more than 5 dB copies
  the last good weights back (weights only: not Adam's moments, not the average), and the step
  that follows still applies the gradient computed at the collapsed weights. Otherwise the
  weights become the new good ones.

Our additions are separate outputs or named options, never silent changes of the above:

* ``output_clean``: ``net(z)``, the output without input noise (train mode, same weights).
* ``ema``: the average of every training output, ``ema = w * ema + (1 - w) * out``, started
  from the first output (as the denoising notebook does).
* ``backtrack="full"``: the check runs after the step on ``net(z)`` and restores the weights,
  Adam's state and the average; ``"off"`` never checks.
* A non-finite loss or observed PSNR restores the full state in either mode and skips that
  step: the notebook would keep the non-finite weights as its new good ones and never recover.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.images import save_image, to_array
from ..files.atomic import atomic_path
from ..models.skip import count_params
from ..scoring import metrics
from ..spec.outputs import OUTPUTS
from ..spec.overrides import BACKTRACK_MODES, ES_MEMORY_MB, ES_PATIENCE, ES_WINDOW, STOP_MODES
from .devices import device_name
from .early_stop import EarlyStop
from .precision import Execution, apply_backend_flags, compiled, optimizer
from .progress import Progress, to_stderr
from .signals import Stopped, stop_requests
from .state import CHECKPOINT, FitState, load_checkpoint, stream_seeds, write_checkpoint

TRACE_COLUMNS = ("iteration", "loss", "psnr_observed", "psnr_gt", "psnr_clean_gt", "psnr_ema_gt",
                 "elapsed_s", "es_score", "es_iteration")
FINAL_INPUTS = ("noisy", "clean")


@dataclass
class FitSettings:
    """How to run the loop; the paper's values come from a preset."""

    iterations: int
    lr: float
    reg_noise_std: float
    ema_weight: float = 0.99
    trace_every: int = 50          # K: trace row and progress line
    checkpoint_every: int = 500    # M: checkpoint.pt, every M iterations ...
    checkpoint_minutes: float = 10.0  # ... or after this much wall time, whichever comes first
    backtrack: str = "official"    # one of BACKTRACK_MODES
    backtrack_every: int = 50
    backtrack_drop_db: float = 5.0
    final_input: str = "noisy"     # one of FINAL_INPUTS: what `output` is fed
    snapshots: tuple[int, ...] = ()
    seed: int = 0
    execution: Execution = Execution()  # the numeric path (dip.engine.precision); fp32 eager by default
    fail_at_iteration: int | None = None  # raise InjectedFailure after this iteration
    es_window: int = ES_WINDOW      # ES-WMV (dip.engine.early_stop): outputs in the variance window
    es_patience: int = ES_PATIENCE  # ... and iterations without a lower score before detection is final
    es_memory_mb: float = ES_MEMORY_MB  # ... and the most its window may take (strided beyond)
    stop: str = "fixed"             # one of STOP_MODES: "early" ends the fit when detection is final


@dataclass
class FitResult:
    output: np.ndarray
    output_clean: np.ndarray
    ema: np.ndarray
    output_es: np.ndarray
    early_stop: dict = field(default_factory=dict)  # what meta.json says of the detection
    trace: list[dict] = field(default_factory=list)
    backtracks: int = 0
    iterations: int = 0
    wall_s: float = 0.0
    it_per_s: float = 0.0


class InjectedFailure(RuntimeError):
    """Raised on purpose (``fail_at_iteration``) to test how a failing fit is handled."""


def data_loss(operator: nn.Module, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE in observation space; for inpainting, mean((out - x0)^2 * mask)."""
    return F.mse_loss(operator(out), target)


def update_ema(ema: torch.Tensor | None, out: torch.Tensor, weight: float) -> torch.Tensor:
    """One step of the output average; the first output starts it."""
    if ema is None:
        return out.detach().clone()
    return ema.mul_(weight).add_(out.detach(), alpha=1.0 - weight)


def _save(path: Path, write: Callable[[Path], None]) -> None:
    with atomic_path(path) as tmp:
        write(tmp)


def _write_trace(path: Path, rows: list[dict]) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=TRACE_COLUMNS)
            w.writeheader()
            w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    _save(path, write)


def _write_array_and_png(out_dir: Path, name: str, img: np.ndarray) -> None:
    _save(out_dir / f"{name}.npy", lambda p: np.save(p, img))
    _save(out_dir / f"{name}.png", lambda p: save_image(p, img))


def _check_settings(s: FitSettings) -> None:
    if s.backtrack not in BACKTRACK_MODES:
        raise ValueError(f"backtrack must be one of {BACKTRACK_MODES}, got {s.backtrack!r}")
    if s.final_input not in FINAL_INPUTS:
        raise ValueError(f"final_input must be one of {FINAL_INPUTS}, got {s.final_input!r}")
    if s.stop not in STOP_MODES:
        raise ValueError(f"stop must be one of {STOP_MODES}, got {s.stop!r}")


class FitRun:
    """One fit's fixed parts (net, input z, forward model, target) and what reads them: the
    forward pass on the chosen path, the training step, the backtracking checks and the
    output images. The loop in ``fit`` only says when each is done."""

    def __init__(self, net: nn.Module, z: torch.Tensor, operator: nn.Module, target: torch.Tensor,
                 settings: FitSettings, state: FitState, progress: Progress):
        self.s, self.state, self.progress = settings, state, progress
        self.z, self.operator, self.target = z, operator, target
        self.target_np = to_array(target)
        self.model = compiled(net, settings.execution)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The net, under bf16 autocast when the path says so (its output back in fp32).

        A CUDA-graph replay writes its output where the previous replay's was: each call
        marks a new step and the output is copied out, so outputs held across calls stay."""
        ex = self.s.execution
        if ex.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=ex.bf16):
            out = self.model(x)
        return out.to(x.dtype, copy=ex.cuda_graphs)

    def train_step(self, it: int) -> torch.Tensor:
        """Iteration ``it`` (1-based): output, loss, gradient, the official check when due,
        then Adam's step and the average. Nothing waits for the device unless the check runs.
        Returns the (detached) loss."""
        s, state = self.s, self.state
        state.iteration = it - 1  # the weights after it - 1 updates produce this output
        out = self.forward(state.draw_input(self.z, s.reg_noise_std))
        loss = data_loss(self.operator, out, self.target)
        state.opt.zero_grad(set_to_none=True)
        loss.backward()
        state.early_stop.update(out, it)
        loss = loss.detach()
        state.nonfinite |= ~torch.isfinite(loss)
        take_step = True
        if s.backtrack == "official" and (it - 1) % s.backtrack_every == 0:
            take_step = self.official_check(out, it)
        if take_step:
            state.opt.step()
            state.ema = update_ema(state.ema, out, s.ema_weight)
        state.iteration = it
        return loss

    @torch.no_grad()
    def observed_psnr(self, out: torch.Tensor) -> float:
        return metrics.psnr(to_array(self.operator(out.detach())), self.target_np)

    @torch.no_grad()
    def outputs(self) -> dict[str, torch.Tensor]:
        """The three images at the current weights (train mode: BN on the batch's statistics)."""
        s, state = self.s, self.state
        clean = self.forward(self.z)
        final = clean if s.final_input == "clean" or s.reg_noise_std <= 0 else \
            self.forward(state.last_input(self.z, s.reg_noise_std))
        return {"output": final, "output_clean": clean,
                "ema": final if state.ema is None else state.ema}

    def _backtrack(self, it: int, why: str, full: bool) -> None:
        self.state.restore(full)
        what = "weights, Adam state and average" if full else "weights"
        self.progress.message(f"iter {it}: backtracking ({why}); restored the {what} of iteration "
                              f"{self.state.good['iteration']} ({self.state.backtracks} so far)")

    def official_check(self, out: torch.Tensor, it: int) -> bool:
        """The notebook's check on this iteration's training output, before the step.
        Returns whether the step should still be taken."""
        state = self.state
        psnr_observed = self.observed_psnr(out)
        if bool(state.nonfinite) or not math.isfinite(psnr_observed):
            self._backtrack(it, "non-finite loss", full=True)
            state.nonfinite.zero_()
            return False
        if psnr_observed - state.good["psnr_observed"] < -self.s.backtrack_drop_db:
            self._backtrack(it, f"observed PSNR {psnr_observed:.2f} dB, last good "
                            f"{state.good['psnr_observed']:.2f} dB", full=False)
        else:
            state.good = state.copy(psnr_observed)
        return True

    def full_check(self, it: int) -> None:
        """Our check: ``net(z)`` after the step; a failure restores the whole state."""
        state = self.state
        with torch.no_grad():
            psnr_observed = self.observed_psnr(self.forward(self.z))
        if bool(state.nonfinite) or not math.isfinite(psnr_observed) or \
                psnr_observed < state.good["psnr_observed"] - self.s.backtrack_drop_db:
            self._backtrack(it, f"observed PSNR {psnr_observed:.2f} dB, last good "
                            f"{state.good['psnr_observed']:.2f} dB", full=True)
        else:
            state.good = state.copy(psnr_observed)
        state.nonfinite.zero_()


def _peak_gpu_memory_mb(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)


def fit(net: nn.Module, net_input: torch.Tensor, operator: nn.Module, target: torch.Tensor,
        out_dir: str | Path, settings: FitSettings, gt: np.ndarray | None = None,
        resume: bool = False, info: dict | None = None,
        log: Callable[[str], None] = to_stderr, detector: EarlyStop | None = None) -> FitResult:
    """Fit ``net`` so that ``operator(net(net_input))`` matches ``target``; write the fit's files.

    Everything runs on ``net_input``'s device, in fp32 or on the path ``settings.execution``
    names. ``gt`` (an array like the output) only feeds the trace. ``info`` goes into
    meta.json as given (config, preset, seed). With ``resume`` the loop continues from
    ``out_dir/checkpoint.pt``; on the CPU the result is bit-identical to an uninterrupted run.
    ``detector`` replaces the ES-WMV detector the settings give (a measurement that watches
    other windows on the same fit).
    """
    s = settings
    _check_settings(s)
    out_dir = Path(out_dir)
    (out_dir / "snapshots").mkdir(parents=True, exist_ok=True)
    device = net_input.device
    backend_flags = apply_backend_flags(s.execution)
    memory_format = torch.channels_last if s.execution.channels_last else torch.contiguous_format
    net = net.to(device, memory_format=memory_format)
    z = net_input.to(memory_format=memory_format)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    noise_gen = torch.Generator(device=device)
    noise_gen.manual_seed(stream_seeds(s.seed).noise)
    early_stop = detector or EarlyStop(s.es_window, s.es_patience, device, max_bytes=s.es_memory_mb * 2**20)
    state = FitState(net, optimizer(net.parameters(), s.lr, s.execution), noise_gen, early_stop)
    if resume:
        state.load(load_checkpoint(out_dir / CHECKPOINT))
        log(f"resuming from iteration {state.iteration}")
    start = state.iteration
    progress = Progress(s.iterations, start, log)
    run = FitRun(net, z, operator.to(device), target.to(device), s, state, progress)

    snapshots = {i for i in s.snapshots if 0 < i <= s.iterations}
    t0 = last_checkpoint = time.perf_counter()
    elapsed_before = state.elapsed_s
    with contextlib.ExitStack() as stack:
        stop = stack.enter_context(stop_requests())
        stack.callback(progress.close)
        for it in range(start + 1, s.iterations + 1):
            loss = run.train_step(it)
            progress.step()
            ends_early = early_stop.final(it) and s.stop == "early"
            last = ends_early or it == s.iterations
            # --- below: only every few iterations (these synchronise) ---
            if s.backtrack == "full" and (it % s.backtrack_every == 0 or last):
                run.full_check(it)
            row_due = it % s.trace_every == 0 or last
            if row_due or it in snapshots:
                images = run.outputs()
                if it in snapshots:
                    save_image(out_dir / "snapshots" / f"iter_{it:06d}.png",
                               to_array(images["output"]))
                if row_due:
                    state.elapsed_s = elapsed_before + time.perf_counter() - t0
                    row = {**_trace_row(it, loss, run.observed_psnr(images["output"]), images, gt,
                                        state.elapsed_s), **early_stop.row()}
                    state.trace.append(row)
                    progress.report(row, (it - start) / (time.perf_counter() - t0))
            now = time.perf_counter()
            if stop or it % s.checkpoint_every == 0 or last or \
                    now - last_checkpoint >= 60 * s.checkpoint_minutes:
                state.elapsed_s = elapsed_before + now - t0
                _save(out_dir / CHECKPOINT, lambda p: write_checkpoint(p, state.checkpoint(info)))
                _write_trace(out_dir / "trace.csv", state.trace)
                last_checkpoint = now
            if stop:
                raise Stopped(stop[0], it)
            if it == s.fail_at_iteration:
                raise InjectedFailure(f"injected failure at iteration {it}")
            if ends_early:
                break

    outputs = run.outputs()
    detected = early_stop.detected_output()
    outputs["output_es"] = outputs["output"] if detected is None else detected
    images = {name: to_array(img) for name, img in outputs.items()}
    wall_s = elapsed_before + time.perf_counter() - t0
    for name, img in images.items():
        _write_array_and_png(out_dir, name, img)
    _write_trace(out_dir / "trace.csv", state.trace)
    iterations = state.iteration
    it_per_s = (iterations - start) / (wall_s - elapsed_before) if wall_s > elapsed_before else 0.0
    es = {**early_stop.summary(iterations), "stop": s.stop}
    log(_kept(es, iterations))
    meta = {**(info or {}), **_run_facts(s, iterations, device, wall_s, it_per_s, backend_flags),
            "backtracks": state.backtracks, "backtrack": s.backtrack, "final_input": s.final_input,
            "early_stop": es,
            "outputs": {name: text for name, (_, text) in OUTPUTS.items()}, "params": count_params(net),
            "image_size": list(images["output"].shape[:2])}
    _save(out_dir / "meta.json", lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
    return FitResult(output=images["output"], output_clean=images["output_clean"],
                     ema=images["ema"], output_es=images["output_es"], early_stop=es,
                     trace=state.trace, backtracks=state.backtracks,
                     iterations=iterations, wall_s=wall_s, it_per_s=it_per_s)


def _kept(es: dict, iterations: int) -> str:
    """The closing line: which iteration output_es holds and why."""
    if es["detected_iteration"] is None:
        return f"early stopping: {es['note']}"
    why = (f"the variance of the last {es['window']} outputs was lowest there "
           f"({es['score']:.3g})")
    if es["stop"] == "early" and es["final"]:
        return (f"early stopping: stopped after iteration {iterations}, {es['patience']} iterations "
                f"without a lower score; kept output_es from iteration {es['detected_iteration']}: {why}")
    state = "final" if es["final"] else "not yet final"
    return (f"early stopping: output_es is iteration {es['detected_iteration']} of {iterations} "
            f"(detection {state}): {why}")


def _trace_row(it: int, loss: torch.Tensor, psnr_observed: float, images: dict[str, torch.Tensor],
               gt: np.ndarray | None, elapsed_s: float) -> dict:
    return {"iteration": it, "loss": float(loss), "psnr_observed": psnr_observed,
            **_gt_scores(images, gt), "elapsed_s": round(elapsed_s, 3)}


def _run_facts(s: FitSettings, iterations: int, device: torch.device, wall_s: float, it_per_s: float,
               backend_flags: dict) -> dict:
    """Where and how fast the fit ran, for meta.json."""
    return {"device": str(device), "device_name": device_name(device),
            "torch_version": torch.__version__, "threads": torch.get_num_threads(),
            "iterations": iterations, "wall_s": round(wall_s, 3), "it_per_s": round(it_per_s, 3),
            "execution": s.execution.as_dict(), "backend_flags": backend_flags,
            "peak_gpu_memory_mb": _peak_gpu_memory_mb(device)}


def _gt_scores(images: dict[str, torch.Tensor], gt: np.ndarray | None) -> dict:
    """The trace's PSNR columns against the ground truth (empty without one)."""
    columns = {"psnr_gt": "output", "psnr_clean_gt": "output_clean", "psnr_ema_gt": "ema"}
    return {col: None if gt is None else metrics.psnr(to_array(images[name]), gt)
            for col, name in columns.items()}
