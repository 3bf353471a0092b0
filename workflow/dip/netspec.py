"""The shape of a skip network as plain data (no torch): its settings, their checks, the
smallest image it takes, its size and cost.

``nets`` builds a network from a ``SkipConfig``; the planning layer and the presets read this
module only, so planning a workflow never imports torch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .errors import DipError

UPSAMPLE_MODES = ("nearest", "bilinear")
DOWNSAMPLE_MODES = ("stride", "avg", "max", "lanczos")
PAD_MODES = ("reflection", "zero")
INPUT_KINDS = ("noise", "meshgrid", "image")


@dataclass(frozen=True)
class SkipConfig:
    """Shape of a skip network; one entry per scale in ``down``, ``up`` and ``skip``."""

    in_channels: int
    out_channels: int
    down: tuple[int, ...]
    up: tuple[int, ...]
    skip: tuple[int, ...]
    k_down: int = 3
    k_up: int = 3
    k_skip: int = 1
    upsample: str | tuple[str, ...] = "bilinear"
    downsample: str = "stride"
    pad: str = "reflection"
    up_1x1: bool = True
    sigmoid: bool = True

    @property
    def scales(self) -> int:
        return len(self.down)

    def upsample_modes(self) -> tuple[str, ...]:
        """The upsampling mode of each scale."""
        if isinstance(self.upsample, str):
            return (self.upsample,) * self.scales
        return tuple(self.upsample)


def validate(cfg: SkipConfig) -> None:
    """Raise DipError when ``cfg`` does not describe a buildable network."""
    n = cfg.scales
    if n == 0 or len(cfg.up) != n or len(cfg.skip) != n:
        raise DipError(f"down/up/skip need one entry per scale and at least one scale; got "
                       f"{len(cfg.down)}/{len(cfg.up)}/{len(cfg.skip)}")
    if cfg.in_channels < 1 or cfg.out_channels < 1 or min(cfg.down + cfg.up) < 1 or min(cfg.skip) < 0:
        raise DipError("channel counts must be positive (skip widths may be 0)")
    for name in ("k_down", "k_up", "k_skip"):
        k = getattr(cfg, name)
        if k < 1 or k % 2 == 0:
            raise DipError(f"{name} must be a positive odd kernel size, got {k}")
    modes = cfg.upsample_modes()
    if len(modes) != n or any(m not in UPSAMPLE_MODES for m in modes):
        raise DipError(f"upsample must be one of {UPSAMPLE_MODES} or one per scale; got {cfg.upsample!r}")
    if cfg.downsample not in DOWNSAMPLE_MODES:
        raise DipError(f"downsample must be one of {DOWNSAMPLE_MODES}; got {cfg.downsample!r}")
    if cfg.pad not in PAD_MODES:
        raise DipError(f"pad must be one of {PAD_MODES}; got {cfg.pad!r}")


def _per_scale(values: tuple, scales: int) -> tuple:
    """A per-scale tuple resized to ``scales`` entries: cut at the end, or extended with its
    last entry (a single width simply repeats)."""
    values = tuple(values)
    return values[:scales] if len(values) >= scales else values + (values[-1],) * (scales - len(values))


def _widths(value, scales: int, name: str) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return (int(value[0]),) * scales
        if len(value) != scales:
            raise DipError(f"{name} has {len(value)} entries for {scales} scales; give one per "
                           f"scale or a single width")
        return tuple(int(v) for v in value)
    return (int(value),) * scales


#: Network overrides a fit accepts, by name, and the SkipConfig field each sets.
NET_KEYS = {"scales": None, "channels_down": "down", "channels_up": "up", "channels_skip": "skip",
            "kernel_down": "k_down", "kernel_up": "k_up", "kernel_skip": "k_skip",
            "upsample": "upsample", "downsample": "downsample", "pad": "pad", "conv_1x1": "up_1x1"}


def with_overrides(cfg: SkipConfig, overrides: dict) -> SkipConfig:
    """``cfg`` with network overrides applied (keys of NET_KEYS, plus ``in_channels`` and
    ``out_channels``); checked. A new number of scales resizes every per-scale list first."""
    unknown = set(overrides) - set(NET_KEYS) - {"in_channels", "out_channels"}
    if unknown:
        raise DipError(f"unknown network setting(s): {', '.join(sorted(unknown))}")
    scales = int(overrides.get("scales") or cfg.scales)
    if scales < 1:
        raise DipError(f"scales must be at least 1, got {scales}")
    up = cfg.upsample if isinstance(cfg.upsample, str) else _per_scale(cfg.upsample, scales)
    changes = {"down": _per_scale(cfg.down, scales), "up": _per_scale(cfg.up, scales),
               "skip": _per_scale(cfg.skip, scales), "upsample": up}
    for key, value in overrides.items():
        field = NET_KEYS.get(key, key)
        if value is None or field is None:
            continue
        if field in ("down", "up", "skip"):
            changes[field] = _widths(value, scales, key)
        elif field == "upsample" and isinstance(value, (list, tuple)):
            changes[field] = value[0] if len(value) == 1 else tuple(_widths_str(value, scales))
        elif field in ("k_down", "k_up", "k_skip", "in_channels", "out_channels"):
            changes[field] = int(value)
        elif field == "up_1x1":
            changes[field] = bool(value)
        else:
            changes[field] = str(value)
    out = dataclasses.replace(cfg, **changes)
    validate(out)
    return out


def _widths_str(values, scales: int) -> list[str]:
    if len(values) != scales:
        raise DipError(f"upsample has {len(values)} entries for {scales} scales")
    return [str(v) for v in values]


def _accepts(cfg: SkipConfig, side: int) -> bool:
    """Whether every padded conv and the deepest BatchNorm see a large enough map."""
    reflect = cfg.pad == "reflection"
    p_down, p_up, p_skip = (k // 2 for k in (cfg.k_down, cfg.k_up, cfg.k_skip))
    size = side
    for i in range(cfg.scales):
        if reflect:
            need = max(p_down, p_up, p_skip if cfg.skip[i] else 0)
            if size <= need:
                return False
        size = math.ceil(size / 2)
        if reflect and size <= p_down:
            return False
    return size >= 2  # BatchNorm in training mode needs more than one value per channel


def min_size(cfg: SkipConfig) -> int:
    """The smallest image side (height and width) the network accepts."""
    validate(cfg)
    side = 1
    while not _accepts(cfg, side):
        side += 1
    return side


def _conv(cin: int, cout: int, k: int) -> int:
    return k * k * cin * cout + cout


def param_count(cfg: SkipConfig) -> int:
    """Trainable parameters of the network ``cfg`` describes (conv weights and biases, BN
    scales and shifts), computed without building it."""
    total, cin = 0, cfg.in_channels
    for i in range(cfg.scales):
        down, up, skip = cfg.down[i], cfg.up[i], cfg.skip[i]
        deeper = cfg.up[i + 1] if i + 1 < cfg.scales else down
        total += _conv(cin, down, cfg.k_down) + 2 * down + _conv(down, down, cfg.k_down) + 2 * down
        if skip:
            total += _conv(cin, skip, cfg.k_skip) + 2 * skip
        total += 2 * (skip + deeper) + _conv(skip + deeper, up, cfg.k_up) + 2 * up
        if cfg.up_1x1:
            total += _conv(up, up, 1) + 2 * up
        cin = down
    return total + _conv(cfg.up[0], cfg.out_channels, 1)


def macs_per_pixel(cfg: SkipConfig) -> float:
    """Multiply-accumulates of one forward pass per pixel of the image (convolutions only);
    scale i works on 1 / 4**i of the pixels."""
    total, cin = 0.0, cfg.in_channels
    for i in range(cfg.scales):
        down, up, skip = cfg.down[i], cfg.up[i], cfg.skip[i]
        deeper = cfg.up[i + 1] if i + 1 < cfg.scales else down
        here = skip * cin * cfg.k_skip ** 2 + (skip + deeper) * up * cfg.k_up ** 2
        here += up * up if cfg.up_1x1 else 0
        below = cin * down * cfg.k_down ** 2 + down * down * cfg.k_down ** 2
        total += here / 4 ** i + below / 4 ** (i + 1)
        cin = down
    return total + cfg.up[0] * cfg.out_channels


def activations_per_pixel(cfg: SkipConfig) -> float:
    """Feature values kept for the backward pass per image pixel (a memory estimate)."""
    total = 0.0
    for i in range(cfg.scales):
        deeper = cfg.up[i + 1] if i + 1 < cfg.scales else cfg.down[i]
        here = cfg.skip[i] + 2 * (cfg.skip[i] + deeper) + cfg.up[i] * (4 if cfg.up_1x1 else 2)
        total += here / 4 ** i + 4 * cfg.down[i] / 4 ** (i + 1)
    return total
