"""The U-Net that the library figure (Fig. 8) sets against the skip network, as the official
``models/unet.py`` builds it for the inpainting notebook (``UNetConfig``).

Every scale keeps its full-resolution features for the way up: scale i is max-pooled from
scale i - 1 and refined by two 3 x 3 conv -> InstanceNorm -> ReLU; on the way up a stride-2
transposed conv doubles the deeper map, which is concatenated with the scale's own features
and refined by two 3 x 3 conv -> ReLU (no normalisation there). Modules are created in the
official builder's order, so one seed gives both the same weights.
"""

from __future__ import annotations

import torch
from torch import nn

from ..spec.network import UNetConfig, validate


class DoubleConv(nn.Sequential):
    """Two zero-padded 3 x 3 conv -> (InstanceNorm) -> ReLU."""

    def __init__(self, cin: int, cout: int, norm: bool):
        super().__init__()
        for i, c in enumerate((cin, cout)):
            self.add_module(f"conv{i}", nn.Conv2d(c, cout, 3, padding=1))
            if norm:
                self.add_module(f"norm{i}", nn.InstanceNorm2d(cout))
            self.add_module(f"act{i}", nn.ReLU())


class Down(nn.Sequential):
    """Halve by a 2 x 2 max-pool, then a normalised double conv."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.refine = DoubleConv(cin, cout, norm=True)


class Up(nn.Module):
    """Double the deeper map by a transposed conv, concatenate the scale's own features (centre
    cropped where a size is odd, as the official code does), refine without normalisation."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)
        self.refine = DoubleConv(2 * cout, cout, norm=False)

    def forward(self, deeper: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = self.up(deeper)
        h, w = up.shape[-2:]
        top, left = (skip.shape[-2] - h) // 2, (skip.shape[-1] - w) // 2
        return self.refine(torch.cat([up, skip[..., top:top + h, left:left + w]], dim=1))


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        validate(cfg)
        self.cfg = cfg
        widths = cfg.widths()
        self.start = DoubleConv(cfg.in_channels, widths[0], norm=True)
        self.downs = nn.ModuleList(Down(a, b) for a, b in zip(widths, widths[1:]))
        # deepest first, as the official builder creates them
        self.ups = nn.ModuleList(Up(widths[i], widths[i - 1]) for i in range(len(widths) - 1, 0, -1))
        self.head = nn.Conv2d(widths[0], cfg.out_channels, 1)
        self.out_act = nn.Sigmoid()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        features = [self.start(z)]
        for down in self.downs:
            features.append(down(features[-1]))
        x = features.pop()
        for up in self.ups:
            x = up(x, features.pop())
        return self.out_act(self.head(x))
