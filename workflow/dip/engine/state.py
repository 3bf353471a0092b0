"""What a fit changes as it runs, its random streams, and its checkpoint file."""

from __future__ import annotations

import copy
import io
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .early_stop import EarlyStop

#: The checkpoint's file name in a fit's folder.
CHECKPOINT = "checkpoint.pt"


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


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def write_checkpoint(path: Path, state: dict) -> None:
    """torch.save through memory, so a full disk surfaces as the OSError of a plain write."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path.write_bytes(buffer.getbuffer())


class FitState:
    """Everything a fit changes as it runs: weights, Adam, the average, the noise stream, the
    last good copy for backtracking and the trace. Saved whole in a checkpoint."""

    def __init__(self, net: nn.Module, opt: torch.optim.Optimizer, noise_gen: torch.Generator,
                 early_stop: EarlyStop):
        self.net, self.opt, self.noise_gen, self.early_stop = net, opt, noise_gen, early_stop
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
                "nonfinite": bool(self.nonfinite), "good": self.good,
                "early_stop": self.early_stop.state_dict(), "info": info or {}}

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
        if "early_stop" in ck:  # a checkpoint written before the detector starts it afresh
            self.early_stop.load_state_dict(ck["early_stop"])
        good = ck["good"]
        self.good = {**good, "net": {k: v.to(device) for k, v in good["net"].items()},
                     "ema": None if good["ema"] is None else good["ema"].to(device)}
