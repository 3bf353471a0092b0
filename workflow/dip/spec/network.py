"""The shape of a network as plain data (no torch): its settings, their checks, the smallest
image it takes, its size and cost.

Three families: the skip encoder-decoder of the paper (``SkipConfig``), and the U-Net and
ResNet that the library figure (Fig. 8) compares it with (``UNetConfig``, ``ResNetConfig``).
``nets`` builds a network from any of them; the planning layer and the presets read this
module only, so planning a workflow never imports torch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..errors import DipError

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


@dataclass(frozen=True)
class UNetConfig:
    """The U-Net of the official ``models/unet.py`` as the library notebook builds it: widths
    (64, 128, 256, 512, 1024) // ``feature_scale`` over four max-pool scales plus
    ``more_layers`` deeper ones at the last width; two 3 x 3 conv -> InstanceNorm -> ReLU per
    scale on the way down, a stride-2 transposed conv (4 x 4) then two 3 x 3 conv -> ReLU on the
    way up, zero padding, a 1 x 1 head and a sigmoid."""

    in_channels: int
    out_channels: int
    feature_scale: int = 8
    more_layers: int = 1
    family: str = "unet"

    def widths(self) -> tuple[int, ...]:
        """Channels of each scale, finest first (the deeper layers keep the last width)."""
        base = tuple(w // self.feature_scale for w in (64, 128, 256, 512, 1024))
        return base + base[-1:] * self.more_layers


@dataclass(frozen=True)
class ResNetConfig:
    """The ResNet of the official ``models/resnet.py``: a reflection-padded 3 x 3 conv and
    LeakyReLU, ``blocks`` residual blocks (conv -> BN -> LeakyReLU -> conv -> BN, plus the
    input), a 3 x 3 conv -> BN, a reflection-padded 3 x 3 conv to the image and a sigmoid; every
    map at full resolution."""

    in_channels: int
    out_channels: int
    blocks: int = 8
    channels: int = 32
    family: str = "resnet"


NetConfig = SkipConfig | UNetConfig | ResNetConfig


def family(cfg: NetConfig) -> str:
    """"skip", "unet" or "resnet"."""
    return getattr(cfg, "family", "skip")


def validate(cfg: NetConfig) -> None:
    """Raise DipError when ``cfg`` does not describe a buildable network."""
    if cfg.in_channels < 1 or cfg.out_channels < 1:
        raise DipError("channel counts must be positive")
    if isinstance(cfg, UNetConfig):
        if cfg.feature_scale < 1 or 64 % cfg.feature_scale or cfg.more_layers < 0:
            raise DipError(f"a U-Net needs a feature scale dividing 64 and more_layers >= 0; got "
                           f"{cfg.feature_scale} and {cfg.more_layers}")
        return
    if isinstance(cfg, ResNetConfig):
        if cfg.blocks < 0 or cfg.channels < 1:
            raise DipError(f"a ResNet needs blocks >= 0 and channels >= 1; got {cfg.blocks}, {cfg.channels}")
        return
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


def with_overrides(cfg: NetConfig, overrides: dict) -> NetConfig:
    """``cfg`` with network overrides applied (keys of NET_KEYS, plus ``in_channels`` and
    ``out_channels``); checked. A new number of scales resizes every per-scale list first.
    The U-Net and the ResNet are the official builders' fixed shapes: only their channels in
    and out follow the fit."""
    unknown = set(overrides) - set(NET_KEYS) - {"in_channels", "out_channels"}
    if unknown:
        raise DipError(f"unknown network setting(s): {', '.join(sorted(unknown))}")
    if not isinstance(cfg, SkipConfig):
        shaped = sorted(k for k, v in overrides.items() if k in NET_KEYS and v is not None)
        if shaped:
            raise DipError(f"network setting(s) {', '.join(shaped)} shape skip networks; this "
                           f"preset's network is a {family(cfg)}")
        out = dataclasses.replace(cfg, **{k: int(overrides[k]) for k in ("in_channels", "out_channels")
                                          if overrides.get(k) is not None})
        validate(out)
        return out
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


def size_multiple(cfg: NetConfig) -> int:
    """Image sides must be multiples of this: the U-Net's pooled maps must halve exactly for
    its up path to meet its skips (the official code assumes it and crops the images so)."""
    return 2 ** (4 + cfg.more_layers) if isinstance(cfg, UNetConfig) else 1


def size_problem(cfg: NetConfig, height: int, width: int) -> str | None:
    """What is wrong with an H x W image for this network, in words; None if nothing."""
    least, multiple = min_size(cfg), size_multiple(cfg)
    if min(height, width) >= least and not height % multiple and not width % multiple:
        return None
    problem = "too small" if min(height, width) < least else "the wrong size"
    need = f" and multiples of {multiple}" if multiple > 1 else ""
    return f"{width}x{height} is {problem} for the network: sides must be at least {least}{need}"


def min_size(cfg: NetConfig) -> int:
    """The smallest image side (height and width) the network accepts."""
    validate(cfg)
    if isinstance(cfg, UNetConfig):
        return 2 * size_multiple(cfg)  # instance norm needs more than one value per map
    if isinstance(cfg, ResNetConfig):
        return 2  # reflection padding by one pixel
    side = 1
    while not _accepts(cfg, side):
        side += 1
    return side


def _conv(cin: int, cout: int, k: int) -> int:
    return k * k * cin * cout + cout


def _unet_levels(cfg: UNetConfig):
    """(scale, conv in, conv out, kernel) of every convolution of the U-Net in build order;
    the transposed convs (kernel 4) count at the finer scale they write."""
    width = cfg.widths()
    deep = len(width) - 1
    convs = [(0, cfg.in_channels, width[0], 3), (0, width[0], width[0], 3)]
    for i in range(1, deep + 1):
        convs += [(i, width[i - 1], width[i], 3), (i, width[i], width[i], 3)]
    for i in range(deep, 0, -1):
        cin, cout = width[i], width[i - 1]
        convs += [(i - 1, cin, cout, 4), (i - 1, 2 * cout, cout, 3), (i - 1, cout, cout, 3)]
    return convs + [(0, width[0], cfg.out_channels, 1)]


def _resnet_convs(cfg: ResNetConfig):
    c = cfg.channels
    return [(cfg.in_channels, c, True)] + [(c, c, False)] * (2 * cfg.blocks) + [(c, c, True),
                                                                                 (c, cfg.out_channels, True)]


def param_count(cfg: NetConfig) -> int:
    """Trainable parameters of the network ``cfg`` describes (conv weights and biases, BN
    scales and shifts), computed without building it."""
    if isinstance(cfg, UNetConfig):  # instance norm without affine parameters
        return sum(k * k * cin * cout + cout for _, cin, cout, k in _unet_levels(cfg))
    if isinstance(cfg, ResNetConfig):
        bn = 2 * cfg.channels * (2 * cfg.blocks + 1)
        return sum(9 * cin * cout + (cout if bias else 0) for cin, cout, bias in _resnet_convs(cfg)) + bn
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


def macs_per_pixel(cfg: NetConfig) -> float:
    """Multiply-accumulates of one forward pass per pixel of the image (convolutions only);
    scale i works on 1 / 4**i of the pixels."""
    if isinstance(cfg, UNetConfig):
        # a stride-2 transposed conv with a 4 x 4 kernel touches each output with 2 x 2 taps
        return sum(cin * cout * (4 if k == 4 else k * k) / 4 ** i for i, cin, cout, k in _unet_levels(cfg))
    if isinstance(cfg, ResNetConfig):
        return float(sum(9 * cin * cout for cin, cout, _ in _resnet_convs(cfg)))
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


def activations_per_pixel(cfg: NetConfig) -> float:
    """Feature values kept for the backward pass per image pixel (a memory estimate)."""
    if isinstance(cfg, UNetConfig):
        return sum(3 * cout / 4 ** i for i, _, cout, _ in _unet_levels(cfg))
    if isinstance(cfg, ResNetConfig):
        return float(3 * sum(cout for _, cout, _ in _resnet_convs(cfg)))
    total = 0.0
    for i in range(cfg.scales):
        deeper = cfg.up[i + 1] if i + 1 < cfg.scales else cfg.down[i]
        here = cfg.skip[i] + 2 * (cfg.skip[i] + deeper) + cfg.up[i] * (4 if cfg.up_1x1 else 2)
        total += here / 4 ** i + 4 * cfg.down[i] / 4 ** (i + 1)
    return total
