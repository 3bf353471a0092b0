"""Fitting one image with Deep Image Prior: the optimisation loop and what it leaves on disk.

The net maps a fixed input z to an image; Adam (constant LR, default betas) minimises the MSE
between ``operator(net(z + noise))`` and the observation ``target``, which lives in the
operator's output space (the masked image for inpainting, the LR image for super-resolution,
the noisy image for denoising). Besides the loop this module holds its few helpers: seeds,
the loss, the output average, progress lines and atomic checkpoints.

Choices that are ours (the paper and its code leave them open):

* Evaluations (trace rows, snapshots, backtracking checks, the final image) use
  ``net(z)`` without input noise, in train mode, with the weights after that many updates, so
  the image saved at iteration i is exactly what a run stopped at i would return. The
  ``loss`` column is the training loss of iteration i itself (noisy input).
* The output average (EMA) starts from the first training output and is then updated with
  every training output: ``ema = w * ema + (1 - w) * out``.
* Backtracking keeps an in-memory copy of weights, Adam state and EMA at every good check
  (the initial weights count as good). A check fails if any loss since the last check was
  not finite, or the PSNR on the observed data is not finite or fell by more than
  ``backtrack_drop_db``; the copy is then restored. The input-noise generator is not rewound,
  so the retry sees fresh draws.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import metrics
from .devices import device_name
from .images import save_image, to_array
from .nets import count_params

TRACE_COLUMNS = ("iteration", "loss", "psnr_observed", "psnr_gt", "psnr_ema_gt", "elapsed_s")
CHECKPOINT = "checkpoint.pt"


@dataclass
class FitSettings:
    """How to run the loop; the paper's values come from a preset."""

    iterations: int
    lr: float
    reg_noise_std: float
    ema_weight: float = 0.99
    trace_every: int = 50          # K: trace row and progress line
    checkpoint_every: int = 500    # M: checkpoint.pt
    backtrack_every: int = 50
    backtrack_drop_db: float = 5.0
    snapshots: tuple[int, ...] = ()
    seed: int = 0
    amp: str | None = None         # "bf16": autocast the forward pass
    channels_last: bool = False
    compile: bool = False
    fail_at_iteration: int | None = None  # raise InjectedFailure after this iteration


@dataclass
class FitResult:
    output: np.ndarray
    ema: np.ndarray
    trace: list[dict] = field(default_factory=list)
    backtracks: int = 0
    iterations: int = 0
    wall_s: float = 0.0
    it_per_s: float = 0.0


class InjectedFailure(RuntimeError):
    """Raised on purpose (``fail_at_iteration``) to test how a failing fit is handled."""


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


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # keeps the suffix for PIL
    write(tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _write_trace(path: Path, rows: list[dict]) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=TRACE_COLUMNS)
            w.writeheader()
            w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    _atomic_write(path, write)


def _write_array_and_png(out_dir: Path, name: str, img: np.ndarray) -> None:
    _atomic_write(out_dir / f"{name}.npy", lambda p: np.save(p, img))
    _atomic_write(out_dir / f"{name}.png", lambda p: save_image(p, img))


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
        if self.bar is not None:
            post = {"loss": f"{row['loss']:.2e}", "psnr_obs": f"{row['psnr_observed']:.2f}"}
            if row["psnr_gt"] is not None:
                post |= {"psnr_gt": f"{row['psnr_gt']:.2f}", "ema": f"{row['psnr_ema_gt']:.2f}"}
            self.bar.set_postfix(post, refresh=False)
            return
        it = row["iteration"]
        parts = [f"iter {it}/{self.total}", f"loss {row['loss']:.2e}",
                 f"psnr_obs {row['psnr_observed']:.2f}"]
        if row["psnr_gt"] is not None:
            parts += [f"psnr_gt {row['psnr_gt']:.2f}", f"ema {row['psnr_ema_gt']:.2f}"]
        eta = (self.total - it) / it_per_s if it_per_s > 0 else float("nan")
        parts += [f"{it_per_s:.1f} it/s", f"eta {_duration(eta)}"]
        self.log(" ".join(parts))

    def message(self, text: str) -> None:
        (self.bar.write if self.bar is not None else self.log)(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fit(net: nn.Module, net_input: torch.Tensor, operator: nn.Module, target: torch.Tensor,
        out_dir: str | Path, settings: FitSettings, gt: np.ndarray | None = None,
        resume: bool = False, info: dict | None = None,
        log: Callable[[str], None] = _stderr) -> FitResult:
    """Fit ``net`` so that ``operator(net(net_input))`` matches ``target``; write the fit's files.

    Everything runs on ``net_input``'s device. The final image is the net's output for the
    noise-free input, in train mode (BatchNorm uses the image's own batch statistics), after
    the last update, as in the paper's code. ``gt`` (an array like the output) only feeds the
    trace. ``info`` goes into meta.json as given (config, preset, seed). With ``resume`` the
    loop continues from ``out_dir/checkpoint.pt``; on the CPU the result is bit-identical to
    an uninterrupted run.
    """
    s = settings
    out_dir = Path(out_dir)
    (out_dir / "snapshots").mkdir(parents=True, exist_ok=True)
    device = net_input.device
    memory_format = torch.channels_last if s.channels_last else torch.contiguous_format
    net = net.to(device, memory_format=memory_format)
    z = net_input.to(memory_format=memory_format)
    operator, target = operator.to(device), target.to(device)
    target_np = to_array(target)
    forward = torch.compile(net) if s.compile else net
    autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=s.amp == "bf16")  # noqa: E731

    opt = torch.optim.Adam(net.parameters(), lr=s.lr)
    noise_gen = torch.Generator(device=device)
    noise_gen.manual_seed(stream_seeds(s.seed).noise)

    ema: torch.Tensor | None = None
    trace: list[dict] = []
    backtracks, start, elapsed_before = 0, 0, 0.0
    nonfinite = torch.zeros((), dtype=torch.bool, device=device)  # any bad loss since last check
    good = None  # last good state for backtracking: weights, Adam state, EMA, observed PSNR

    def snapshot_good(psnr_observed: float, iteration: int) -> dict:
        return {"net": {k: v.detach().clone() for k, v in net.state_dict().items()},
                "optim": copy.deepcopy(opt.state_dict()), "ema": None if ema is None else ema.clone(),
                "psnr_observed": psnr_observed, "iteration": iteration}

    if resume:
        ck = load_checkpoint(out_dir / CHECKPOINT)
        net.load_state_dict(ck["net"])
        opt.load_state_dict(ck["optim"])
        ema = None if ck["ema"] is None else ck["ema"].to(device)
        noise_gen.set_state(ck["rng"]["noise"])
        torch.set_rng_state(ck["rng"]["torch"])
        if device.type == "cuda" and ck["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state_all(ck["rng"]["cuda"])
        start, trace, backtracks = ck["iteration"], ck["trace"], ck["backtracks"]
        elapsed_before = ck["elapsed_s"]
        nonfinite.fill_(ck["nonfinite"])
        good = ck["good"]
        if good["iteration"] == start:  # stored as a reference to the checkpoint's own state
            good = snapshot_good(good["psnr_observed"], start)
        else:
            good = {**good, "net": {k: v.to(device) for k, v in good["net"].items()},
                    "ema": None if good["ema"] is None else good["ema"].to(device)}
        log(f"resuming from iteration {start}")
    else:
        good = snapshot_good(-math.inf, 0)

    @torch.no_grad()
    def evaluate() -> tuple[np.ndarray, float]:
        with autocast():
            out = forward(z).float()
        return to_array(out), metrics.psnr(to_array(operator(out)), target_np)

    def save_checkpoint(it: int, elapsed: float) -> None:
        rng = {"noise": noise_gen.get_state(), "torch": torch.get_rng_state(),
               "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None}
        state = {"iteration": it, "net": net.state_dict(), "optim": opt.state_dict(), "ema": ema,
                 "rng": rng, "trace": trace, "backtracks": backtracks, "elapsed_s": elapsed,
                 "nonfinite": bool(nonfinite), "info": info or {},
                 # the good state is usually the current one: store it once
                 "good": {k: good[k] for k in ("psnr_observed", "iteration")}
                 if good["iteration"] == it else good}
        _atomic_write(out_dir / CHECKPOINT, lambda p: torch.save(state, p))
        _write_trace(out_dir / "trace.csv", trace)

    snapshots = {i for i in s.snapshots if 0 < i <= s.iterations}
    progress = _Progress(s.iterations, start, log)
    t0 = time.perf_counter()
    try:
        for it in range(start + 1, s.iterations + 1):
            # --- one training step: fresh input noise, forward, loss, Adam, average ---
            noisy = z
            if s.reg_noise_std > 0:
                noise = torch.randn(z.shape, generator=noise_gen, device=device, dtype=z.dtype)
                noisy = z + s.reg_noise_std * noise
            with autocast():
                out = forward(noisy).float()
            loss = data_loss(operator, out, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss = loss.detach()
            ema = update_ema(ema, out, s.ema_weight)
            nonfinite |= ~torch.isfinite(loss)
            progress.step()

            # --- everything below runs only every few iterations (it synchronises) ---
            check = it % s.backtrack_every == 0 or it == s.iterations
            row_due = it % s.trace_every == 0 or it == s.iterations
            if check or row_due or it in snapshots:
                output, psnr_observed = evaluate()
                if check:
                    if bool(nonfinite) or not math.isfinite(psnr_observed) or \
                            psnr_observed < good["psnr_observed"] - s.backtrack_drop_db:
                        net.load_state_dict(good["net"])
                        opt.load_state_dict(copy.deepcopy(good["optim"]))
                        ema = None if good["ema"] is None else good["ema"].clone()
                        backtracks += 1
                        progress.message(
                            f"iter {it}: backtracking (loss {float(loss):.3e}, observed PSNR "
                            f"{psnr_observed:.2f} dB, last good {good['psnr_observed']:.2f} dB); "
                            f"restored weights, Adam state and average ({backtracks} so far)")
                        output, psnr_observed = evaluate()
                    else:
                        good = snapshot_good(psnr_observed, it)
                    nonfinite.zero_()
                if it in snapshots:
                    save_image(out_dir / "snapshots" / f"iter_{it:06d}.png", output)
                if row_due:
                    elapsed = elapsed_before + time.perf_counter() - t0
                    ema_np = output if ema is None else to_array(ema)
                    row = {"iteration": it, "loss": float(loss), "psnr_observed": psnr_observed,
                           "psnr_gt": None if gt is None else metrics.psnr(output, gt),
                           "psnr_ema_gt": None if gt is None else metrics.psnr(ema_np, gt),
                           "elapsed_s": round(elapsed, 3)}
                    trace.append(row)
                    progress.report(row, (it - start) / (time.perf_counter() - t0))
            if it % s.checkpoint_every == 0 or it == s.iterations:
                save_checkpoint(it, elapsed_before + time.perf_counter() - t0)
            if it == s.fail_at_iteration:
                raise InjectedFailure(f"injected failure at iteration {it}")
    finally:
        progress.close()

    if start >= s.iterations:  # resumed at or past the end: nothing left to run
        output, _ = evaluate()
    wall_s = elapsed_before + time.perf_counter() - t0
    ema_np = output if ema is None else to_array(ema)  # None only if every update was rolled back
    _write_array_and_png(out_dir, "output", output)
    _write_array_and_png(out_dir, "ema", ema_np)
    _write_trace(out_dir / "trace.csv", trace)
    it_per_s = s.iterations / wall_s if wall_s > 0 else 0.0
    meta = {**(info or {}), "device": str(device), "device_name": device_name(device),
            "torch_version": torch.__version__, "iterations": s.iterations,
            "wall_s": round(wall_s, 3), "it_per_s": round(it_per_s, 3), "backtracks": backtracks,
            "params": count_params(net),
            "image_size": list(output.shape[:2])}
    _atomic_write(out_dir / "meta.json", lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
    return FitResult(output=output, ema=ema_np, trace=trace, backtracks=backtracks,
                     iterations=s.iterations, wall_s=wall_s, it_per_s=it_per_s)
