"""Forward models: what the observation is as a function of the clean image.

The fit compares ``operator(net(z))`` with the observed image, so each task needs only its
operator (a task names it: dip.spec.tasks). Operators hold no parameters; fixed tensors (mask,
filter) are buffers, so they move with ``.to(device)`` and never reach the optimiser.

``keeps_size`` says whether the operator maps an image to one of its own size. Such an operator
is a projection, and the fit's target is the observation passed through it (a mask zeroes the
unknown pixels of whatever image it is given); a downsampler's observation is already in its
output space and is the target as it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DipError
from ..spec.tasks import OPERATORS


class Identity(nn.Module):
    """The observation is the image itself (denoising, flash / no-flash)."""

    keeps_size = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Inpainting(nn.Module):
    """Only the known pixels are observed: x * mask, with mask 1 where a pixel is known."""

    keeps_size = True

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        if mask.ndim != 4 or mask.shape[0] != 1:
            raise DipError(f"mask must be (1, 1, H, W) or (1, C, H, W), got {tuple(mask.shape)}")
        if not torch.all((mask == 0) | (mask == 1)):
            raise DipError("mask values must be 0 or 1")
        self.register_buffer("mask", mask.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask


def lanczos_kernel(factor: int) -> torch.Tensor:
    """The 2-D Lanczos-2 downsampling filter for ``factor``: 4f x 4f taps, sum 1.

    Taps sit half a pixel off the centre (a filter of width 4f + 1 sampled with phase 0.5), at
    distances d = (t + 0.5 - 2f) / f, t = 0 .. 4f - 1, weighted by sinc(d) * sinc(d / 2).
    """
    if factor < 1:
        raise DipError(f"downsampling factor must be >= 1, got {factor}")
    d = (torch.arange(4 * factor, dtype=torch.float64) + 0.5 - 2 * factor) / factor
    taps = torch.sinc(d) * torch.sinc(d / 2)
    kernel = torch.outer(taps, taps)
    return (kernel / kernel.sum()).float()


class LanczosDownsampler(nn.Module):
    """Per-channel Lanczos-2 filtering with stride ``factor``; (H, W) -> (H / f, W / f).

    The image is first extended by replication, 3f/2 pixels on each side, as the paper's code
    does. For sides that are not multiples of f, f - 1 extra rows and columns at the end make
    the result ceil(H / f) x ceil(W / f); for multiples of f they are never read.
    """

    keeps_size = False

    def __init__(self, factor: int, channels: int):
        super().__init__()
        self.factor = factor
        self.channels = channels
        kernel = lanczos_kernel(factor)
        self.register_buffer("kernel", kernel.expand(channels, 1, *kernel.shape).contiguous())
        before = (3 * factor) // 2
        after = 3 * factor - before + factor - 1
        self.padding = (before, after, before, after)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.padding, mode="replicate")
        return F.conv2d(x, self.kernel.to(x.dtype), stride=self.factor, groups=self.channels)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, channels={self.channels}, taps={self.kernel.shape[-1]}"


def build_operator(kind: str, *, mask: torch.Tensor | None = None, factor: int | None = None,
                   channels: int | None = None) -> nn.Module:
    """The forward model called ``kind`` (OPERATORS): "mask" needs ``mask``, "downsample"
    ``factor`` and ``channels``."""
    if kind == "mask":
        if mask is None:
            raise DipError("the mask operator needs a mask")
        return Inpainting(mask)
    if kind == "downsample":
        if not factor or not channels:
            raise DipError("the downsampling operator needs a factor and a channel count")
        return LanczosDownsampler(factor, channels)
    if kind == "identity":
        return Identity()
    raise DipError(f"unknown operator {kind!r}; known: {', '.join(OPERATORS)}")


def target_of(operator: nn.Module, observed: torch.Tensor) -> torch.Tensor:
    """The observation as the loss compares it (see ``keeps_size``)."""
    return operator(observed) if operator.keeps_size else observed
