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
import copy
import csv
import io
import json
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import metrics
from .atomic import atomic_path
from .devices import device_name
from .durations import human_duration
from .images import save_image, to_array
from .nets import count_params
from .outputs import OUTPUTS
from .overrides import BACKTRACK_MODES
from .precision import Execution, apply_backend_flags, compiled, optimizer

TRACE_COLUMNS = ("iteration", "loss", "psnr_observed", "psnr_gt", "psnr_clean_gt", "psnr_ema_gt",
                 "elapsed_s")
CHECKPOINT = "checkpoint.pt"
#: Signals that stop a fit cleanly: it finishes the iteration, saves a checkpoint and raises
#: Stopped. SIGTERM is what a scheduler sends at a time limit, SIGUSR1 a common warning.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
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
    execution: Execution = Execution()  # the numeric path (dip.precision); fp32 eager by default
    fail_at_iteration: int | None = None  # raise InjectedFailure after this iteration


@dataclass
class FitResult:
    output: np.ndarray
    output_clean: np.ndarray
    ema: np.ndarray
    trace: list[dict] = field(default_factory=list)
    backtracks: int = 0
    iterations: int = 0
    wall_s: float = 0.0
    it_per_s: float = 0.0


class InjectedFailure(RuntimeError):
    """Raised on purpose (``fail_at_iteration``) to test how a failing fit is handled."""


class Stopped(RuntimeError):
    """A stop signal arrived; the fit saved its state at ``iteration`` and returned."""

    def __init__(self, signum: int, iteration: int):
        self.signal_name, self.iteration = signal.Signals(signum).name, iteration
        super().__init__(f"stopped by {self.signal_name} after iteration {iteration}")


@contextlib.contextmanager
def _stop_requests():
    """A list that collects the stop signals received meanwhile (the handlers only record
    them, so a checkpoint being written is never cut short); old handlers come back after.
    Outside the main thread no handler can be set and the list stays empty."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum))
                for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Seeds(NamedTuple):
    weights: int
    input: int
    noise: int
    mask: int


def stream_seeds(seed: int) -> Seeds:
    """Independent seeds for each random stream of a fit, all derived from one user seed.

    Seeding every stream with the same number would make z (uniform draws) and the first
    convolution's weights (uniform draws) the same numbers.
    """
    return Seeds(*(int(s) for s in np.random.SeedSequence(seed).generate_state(4)))


def data_loss(operator: nn.Module, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE in observation space; for inpainting, mean((out - x0)^2 * mask)."""
    return F.mse_loss(operator(out), target)


def update_ema(ema: torch.Tensor | None, out: torch.Tensor, weight: float) -> torch.Tensor:
    """One step of the output average; the first output starts it."""
    if ema is None:
        return out.detach().clone()
    return ema.mul_(weight).add_(out.detach(), alpha=1.0 - weight)


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _save(path: Path, write: Callable[[Path], None]) -> None:
    with atomic_path(path) as tmp:
        write(tmp)


def _write_checkpoint(path: Path, state: dict) -> None:
    """torch.save through memory, so a full disk surfaces as the OSError of a plain write."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path.write_bytes(buffer.getbuffer())


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


class FitState:
    """Everything a fit changes as it runs: weights, Adam, the average, the noise stream, the
    last good copy for backtracking and the trace. Saved whole in a checkpoint."""

    def __init__(self, net: nn.Module, opt: torch.optim.Optimizer, noise_gen: torch.Generator):
        self.net, self.opt, self.noise_gen = net, opt, noise_gen
        self.ema: torch.Tensor | None = None
        self.iteration = 0
        self.trace: list[dict] = []
        self.backtracks = 0
        self.elapsed_s = 0.0
        device = noise_gen.device
        self.nonfinite = torch.zeros((), dtype=torch.bool, device=device)  # since the last check
        self.draw_state = noise_gen.get_state()  # before the last draw: replays the last input
        self.good = self.copy(psnr_observed=-math.inf)

    def draw_input(self, z: torch.Tensor, std: float) -> torch.Tensor:
        """z plus a fresh noise draw (z itself without input noise)."""
        if std <= 0:
            return z
        self.draw_state = self.noise_gen.get_state()
        return z + std * torch.randn(z.shape, generator=self.noise_gen, device=z.device, dtype=z.dtype)

    def last_input(self, z: torch.Tensor, std: float) -> torch.Tensor:
        """The input of the last iteration, drawn again from the saved generator state."""
        if std <= 0 or self.iteration == 0:
            return z
        gen = torch.Generator(device=z.device)
        gen.set_state(self.draw_state)
        return z + std * torch.randn(z.shape, generator=gen, device=z.device, dtype=z.dtype)

    def copy(self, psnr_observed: float) -> dict:
        """A copy of the state to go back to: weights, Adam, average, observed PSNR."""
        return {"net": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
                "optim": copy.deepcopy(self.opt.state_dict()),
                "ema": None if self.ema is None else self.ema.clone(),
                "psnr_observed": psnr_observed, "iteration": self.iteration}

    def restore(self, full: bool) -> None:
        """Back to the last good copy: the weights, and with ``full`` Adam and the average.

        Only the parameters go back when not ``full``, as in the notebook (BatchNorm's running
        statistics, unused in train mode, stay)."""
        self.backtracks += 1
        if full:
            self.net.load_state_dict(self.good["net"])
            self.opt.load_state_dict(copy.deepcopy(self.good["optim"]))
            self.ema = None if self.good["ema"] is None else self.good["ema"].clone()
            return
        params = dict(self.net.named_parameters())
        with torch.no_grad():
            for name, saved in self.good["net"].items():
                if name in params:
                    params[name].copy_(saved)

    def checkpoint(self, info: dict | None) -> dict:
        device = self.noise_gen.device
        rng = {"noise": self.noise_gen.get_state(), "torch": torch.get_rng_state(),
               "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
               "last_draw": self.draw_state}
        return {"iteration": self.iteration, "net": self.net.state_dict(),
                "optim": self.opt.state_dict(), "ema": self.ema, "rng": rng, "trace": self.trace,
                "backtracks": self.backtracks, "elapsed_s": self.elapsed_s,
                "nonfinite": bool(self.nonfinite), "good": self.good, "info": info or {}}

    def load(self, ck: dict) -> None:
        device = self.noise_gen.device
        self.net.load_state_dict(ck["net"])
        self.opt.load_state_dict(ck["optim"])
        self.ema = None if ck["ema"] is None else ck["ema"].to(device)
        self.noise_gen.set_state(ck["rng"]["noise"])
        self.draw_state = ck["rng"]["last_draw"]
        torch.set_rng_state(ck["rng"]["torch"])
        if device.type == "cuda" and ck["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state_all(ck["rng"]["cuda"])
        self.iteration, self.trace, self.backtracks = ck["iteration"], ck["trace"], ck["backtracks"]
        self.elapsed_s = ck["elapsed_s"]
        self.nonfinite.fill_(ck["nonfinite"])
        good = ck["good"]
        self.good = {**good, "net": {k: v.to(device) for k, v in good["net"].items()},
                     "ema": None if good["ema"] is None else good["ema"].to(device)}


class _Progress:
    """A tqdm bar on a terminal; otherwise one plain line every K iterations (for log files)."""

    def __init__(self, total: int, start: int, log: Callable[[str], None]):
        self.total, self.log, self.bar = total, log, None
        if sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=start, unit="it", dynamic_ncols=True)

    def step(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def report(self, row: dict, it_per_s: float) -> None:
        scores = {"loss": f"{row['loss']:.2e}", "psnr_obs": f"{row['psnr_observed']:.2f}"}
        if row["psnr_gt"] is not None:
            scores |= {"psnr_gt": f"{row['psnr_gt']:.2f}", "clean": f"{row['psnr_clean_gt']:.2f}",
                       "ema": f"{row['psnr_ema_gt']:.2f}"}
        if self.bar is not None:
            self.bar.set_postfix(scores, refresh=False)
            return
        it = row["iteration"]
        eta = (self.total - it) / it_per_s if it_per_s > 0 else float("nan")
        self.log(" ".join([f"iter {it}/{self.total}", *(f"{k} {v}" for k, v in scores.items()),
                           f"{it_per_s:.1f} it/s", f"eta {human_duration(eta) if math.isfinite(eta) else '?'}"]))

    def message(self, text: str) -> None:
        (self.bar.write if self.bar is not None else self.log)(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _check_settings(s: FitSettings) -> None:
    if s.backtrack not in BACKTRACK_MODES:
        raise ValueError(f"backtrack must be one of {BACKTRACK_MODES}, got {s.backtrack!r}")
    if s.final_input not in FINAL_INPUTS:
        raise ValueError(f"final_input must be one of {FINAL_INPUTS}, got {s.final_input!r}")


class FitRun:
    """One fit's fixed parts (net, input z, forward model, target) and what reads them: the
    forward pass on the chosen path, the training step, the backtracking checks and the
    output images. The loop in ``fit`` only says when each is done."""

    def __init__(self, net: nn.Module, z: torch.Tensor, operator: nn.Module, target: torch.Tensor,
                 settings: FitSettings, state: FitState, progress: _Progress):
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
        log: Callable[[str], None] = _stderr) -> FitResult:
    """Fit ``net`` so that ``operator(net(net_input))`` matches ``target``; write the fit's files.

    Everything runs on ``net_input``'s device, in fp32 or on the path ``settings.execution``
    names. ``gt`` (an array like the output) only feeds the trace. ``info`` goes into
    meta.json as given (config, preset, seed). With ``resume`` the loop continues from
    ``out_dir/checkpoint.pt``; on the CPU the result is bit-identical to an uninterrupted run.
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
    state = FitState(net, optimizer(net.parameters(), s.lr, s.execution), noise_gen)
    if resume:
        state.load(load_checkpoint(out_dir / CHECKPOINT))
        log(f"resuming from iteration {state.iteration}")
    start = state.iteration
    progress = _Progress(s.iterations, start, log)
    run = FitRun(net, z, operator.to(device), target.to(device), s, state, progress)

    snapshots = {i for i in s.snapshots if 0 < i <= s.iterations}
    t0 = last_checkpoint = time.perf_counter()
    elapsed_before = state.elapsed_s
    with contextlib.ExitStack() as stack:
        stop = stack.enter_context(_stop_requests())
        stack.callback(progress.close)
        for it in range(start + 1, s.iterations + 1):
            loss = run.train_step(it)
            progress.step()
            # --- below: only every few iterations (these synchronise) ---
            if s.backtrack == "full" and (it % s.backtrack_every == 0 or it == s.iterations):
                run.full_check(it)
            row_due = it % s.trace_every == 0 or it == s.iterations
            if row_due or it in snapshots:
                images = run.outputs()
                if it in snapshots:
                    save_image(out_dir / "snapshots" / f"iter_{it:06d}.png",
                               to_array(images["output"]))
                if row_due:
                    state.elapsed_s = elapsed_before + time.perf_counter() - t0
                    row = {"iteration": it, "loss": float(loss),
                           "psnr_observed": run.observed_psnr(images["output"]),
                           **_gt_scores(images, gt), "elapsed_s": round(state.elapsed_s, 3)}
                    state.trace.append(row)
                    progress.report(row, (it - start) / (time.perf_counter() - t0))
            now = time.perf_counter()
            if stop or it % s.checkpoint_every == 0 or it == s.iterations or \
                    now - last_checkpoint >= 60 * s.checkpoint_minutes:
                state.elapsed_s = elapsed_before + now - t0
                _save(out_dir / CHECKPOINT, lambda p: _write_checkpoint(p, state.checkpoint(info)))
                _write_trace(out_dir / "trace.csv", state.trace)
                last_checkpoint = now
            if stop:
                raise Stopped(stop[0], it)
            if it == s.fail_at_iteration:
                raise InjectedFailure(f"injected failure at iteration {it}")

    images = {name: to_array(img) for name, img in run.outputs().items()}
    wall_s = elapsed_before + time.perf_counter() - t0
    for name, img in images.items():
        _write_array_and_png(out_dir, name, img)
    _write_trace(out_dir / "trace.csv", state.trace)
    it_per_s = s.iterations / wall_s if wall_s > 0 else 0.0
    meta = {**(info or {}), "device": str(device), "device_name": device_name(device),
            "torch_version": torch.__version__, "threads": torch.get_num_threads(),
            "iterations": s.iterations,
            "wall_s": round(wall_s, 3), "it_per_s": round(it_per_s, 3),
            "execution": s.execution.as_dict(), "backend_flags": backend_flags,
            "peak_gpu_memory_mb": _peak_gpu_memory_mb(device),
            "backtracks": state.backtracks, "backtrack": s.backtrack, "final_input": s.final_input,
            "outputs": {name: text for name, (_, text) in OUTPUTS.items()}, "params": count_params(net),
            "image_size": list(images["output"].shape[:2])}
    _save(out_dir / "meta.json", lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
    return FitResult(output=images["output"], output_clean=images["output_clean"],
                     ema=images["ema"], trace=state.trace, backtracks=state.backtracks,
                     iterations=s.iterations, wall_s=wall_s, it_per_s=it_per_s)


def _gt_scores(images: dict[str, torch.Tensor], gt: np.ndarray | None) -> dict:
    """The trace's PSNR columns against the ground truth (empty without one)."""
    columns = {"psnr_gt": "output", "psnr_clean_gt": "output_clean", "psnr_ema_gt": "ema"}
    return {col: None if gt is None else metrics.psnr(to_array(images[name]), gt)
            for col, name in columns.items()}
