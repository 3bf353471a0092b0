"""The ResNet that the library figure (Fig. 8) sets against the skip network, as the official
``models/resnet.py`` builds it for the inpainting notebook (``ResNetConfig``): no scales at
all, every map at the image's resolution. Modules are created in the official builder's
order, so one seed gives both the same weights."""

from __future__ import annotations

import torch
from torch import nn

from ..spec.network import ResNetConfig, validate

NEGATIVE_SLOPE = 0.2


class ResidualBlock(nn.Module):
    """x + (conv -> BN -> LeakyReLU -> conv -> BN)(x); bias-free zero-padded 3 x 3 convs."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels),
            nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet(nn.Module):
    def __init__(self, cfg: ResNetConfig):
        super().__init__()
        validate(cfg)
        self.cfg = cfg
        c = cfg.channels
        self.head = nn.Sequential(nn.Conv2d(cfg.in_channels, c, 3, padding=1, padding_mode="reflect"),
                                  nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True))
        self.blocks = nn.Sequential(*(ResidualBlock(c) for _ in range(cfg.blocks)))
        self.tail = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))
        self.out = nn.Sequential(nn.Conv2d(c, cfg.out_channels, 3, padding=1, padding_mode="reflect"),
                                 nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.tail(self.blocks(self.head(z))))
