"""The skip encoder-decoder of Deep Image Prior, and the inputs it is fed.

The network has N scales. Scale i takes a map x_i and
  - encodes it: conv k_d stride 2 -> BN -> LeakyReLU, conv k_d -> BN -> LeakyReLU (= x_{i+1});
  - decodes: upsample the deeper result x2, centre-crop it to x_i's size, concatenate with a
    skip branch conv k_s(x_i) -> BN -> LeakyReLU (when s_i > 0), BN on the concatenation, then
    conv k_u -> BN -> LeakyReLU and an optional 1x1 conv -> BN -> LeakyReLU.
A 1x1 conv and a sigmoid map the top scale's features to the image.

Convolutions pad by (k - 1) / 2 themselves (``padding_mode``), so reflection padding costs no
separate module. Strided maps have ceil(H / 2) rows, which makes any size at least
``min_size`` work and keeps the output the size of the input.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DipError
from ..physics.operators import LanczosDownsampler
from ..spec.network import (DOWNSAMPLE_MODES, INPUT_KINDS, PAD_MODES, UPSAMPLE_MODES,  # noqa: F401
                      NetConfig, ResNetConfig, SkipConfig, UNetConfig, min_size, validate)
from .resnet import ResNet
from .unet import UNet

NEGATIVE_SLOPE = 0.2


# ---------------------------------------------------------------------------------------------
# autocast


def in_autocast_dtype(fn, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    """``fn(x, ...)`` in the autocast region's dtype instead of fp32.

    CPU autocast runs padding and upsampling in fp32 (they are on its fp32 list), so inside a
    bf16 region every reflection-padded convolution would convert its bf16 input to fp32 and
    back, and every upsampling too. Both only move or interpolate values, so here they run in
    bf16, with autocast off, as they already do on CUDA. Outside autocast this is ``fn(x)``:
    fp32 paths are untouched.
    """
    device = x.device.type
    if not torch.is_autocast_enabled(device):
        return fn(x, *args, **kwargs)
    with torch.autocast(device, enabled=False):
        return fn(x.to(torch.get_autocast_dtype(device)), *args, **kwargs)


class _DenseGrad(torch.autograd.Function):
    """The identity, whose backward hands on its gradient dense in the input's memory format."""

    @staticmethod
    def forward(ctx, x):
        ctx.memory_format = (torch.channels_last if x.dim() == 4 and not x.is_contiguous()
                             and x.is_contiguous(memory_format=torch.channels_last)
                             else torch.contiguous_format)
        return x[:]  # a view with x's strides (view_as resets the stride of a size-1 batch dim)

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous(memory_format=ctx.memory_format)


def dense_grad(x: torch.Tensor) -> torch.Tensor:
    """``x``, with a dense gradient on the way back.

    The gradient of a concatenation's part is a slice of the concatenation's gradient. In
    NHWC a slice across channels is strided (each pixel's channels are 132 apart, not 128),
    and bilinear upsampling's backward is many times slower on such a gradient than on a
    dense one (93 ms against 15 ms for 128 x 256 x 256 in bf16 on a loaded 2-core EPYC).
    In NCHW the slice is dense already and this costs nothing. Values are untouched.
    """
    return _DenseGrad.apply(x) if torch.is_grad_enabled() and x.requires_grad else x


# ---------------------------------------------------------------------------------------------
# blocks


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` whose reflection (or other non-zero) padding stays in the autocast dtype
    (``in_autocast_dtype``); the same function as ``nn.Conv2d`` in fp32."""

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode == "zeros":
            return super()._conv_forward(input, weight, bias)
        input = in_autocast_dtype(F.pad, input, self._reversed_padding_repeated_twice,
                                  mode=self.padding_mode)
        return F.conv2d(input, weight, bias, self.stride, 0, self.dilation, self.groups)


def conv(cin: int, cout: int, k: int, pad: str, stride: int = 1) -> nn.Conv2d:
    """A biased k x k convolution padded by (k - 1) / 2 with reflection or zeros."""
    return Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2, bias=True,
                  padding_mode="reflect" if pad == "reflection" and k > 1 else "zeros")


class ConvBNAct(nn.Sequential):
    """conv -> BatchNorm -> LeakyReLU(0.2), the unit every part of the network is made of."""

    def __init__(self, cin: int, cout: int, k: int, pad: str, stride: int = 1):
        super().__init__()
        self.conv = conv(cin, cout, k, pad, stride)
        self.bn = nn.BatchNorm2d(cout)
        # In place is safe: BN's backward needs its input, not its output.
        self.act = nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True)


class Halve(nn.Sequential):
    """Downsampling conv of a scale: stride-2 conv, or stride-1 conv then a fixed 2x reducer.

    Pools use ceil mode and the Lanczos filter pads one row more at the end, so every variant
    gives ceil(H / 2) rows like the strided conv. The Lanczos filter is fixed here; the authors'
    code used it only as the initial weights of a trainable convolution.
    """

    def __init__(self, cin: int, cout: int, k: int, pad: str, mode: str):
        super().__init__()
        if mode == "stride":
            self.conv = conv(cin, cout, k, pad, stride=2)
            return
        self.conv = conv(cin, cout, k, pad)
        if mode == "avg":
            self.reduce = nn.AvgPool2d(2, ceil_mode=True)
        elif mode == "max":
            self.reduce = nn.MaxPool2d(2, ceil_mode=True)
        else:
            self.reduce = LanczosDownsampler(2, cout)


class Encoder(nn.Sequential):
    """The way down of one scale: halve (conv k_d) -> BN -> LReLU, conv k_d -> BN -> LReLU."""

    def __init__(self, cin: int, cout: int, k: int, pad: str, downsample: str):
        super().__init__()
        self.halve = Halve(cin, cout, k, pad, downsample)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True)
        self.refine = ConvBNAct(cout, cout, k, pad)


class Upsample(nn.Module):
    """x2 upsampling (nearest or bilinear) with the corner convention chosen at build time."""

    def __init__(self, mode: str, align_corners: bool):
        super().__init__()
        self.mode = mode
        self.align_corners = align_corners if mode == "bilinear" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return in_autocast_dtype(F.interpolate, x, scale_factor=2.0, mode=self.mode,
                                 align_corners=self.align_corners)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, align_corners={self.align_corners}"


def centre_crop(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """The centred h x w window of x (a view; no copy; x itself when it is h x w)."""
    if x.shape[-2:] == (h, w):
        return x  # no slice: its backward would build a dense NCHW gradient from zeros
    top = (x.shape[-2] - h) // 2
    left = (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


class Scale(nn.Module):
    """One scale: its encoder, and the decoder that merges the skip branch with the deeper map."""

    def __init__(self, cin: int, down: int, up: int, skip: int, deeper_out: int,
                 cfg: SkipConfig, upsample: str, align_corners: bool):
        super().__init__()
        self.encoder = Encoder(cin, down, cfg.k_down, cfg.pad, cfg.downsample)
        self.upsample = Upsample(upsample, align_corners)
        self.skip = ConvBNAct(cin, skip, cfg.k_skip, cfg.pad) if skip else None
        self.merge_bn = nn.BatchNorm2d(skip + deeper_out)
        decoder = [ConvBNAct(skip + deeper_out, up, cfg.k_up, cfg.pad)]
        if cfg.up_1x1:
            decoder.append(ConvBNAct(up, up, 1, cfg.pad))
        self.decoder = nn.Sequential(*decoder)

    def decode(self, x: torch.Tensor, deeper: torch.Tensor) -> torch.Tensor:
        """Combine this scale's input ``x`` with the (not yet upsampled) deeper result.

        The crop runs at every scale, so the output always has the input's size. The official
        code crops only inside its concat: with no skip branch and an odd-sized map it keeps the
        extra row (96 x 80 comes out 96 x 96). Where the sizes divide (the presets' crops) the
        two are the same function.
        """
        deeper = dense_grad(centre_crop(self.upsample(deeper), x.shape[-2], x.shape[-1]))
        if self.skip is not None:
            deeper = torch.cat([dense_grad(self.skip(x)), deeper], dim=1)
        return self.decoder(self.merge_bn(deeper))


class SkipNet(nn.Module):
    """The DIP skip encoder-decoder: scales[0] is the finest, scales[-1] the coarsest."""

    def __init__(self, cfg: SkipConfig, legacy: bool = False):
        super().__init__()
        validate(cfg)
        self.cfg = cfg
        scales = []
        cin = cfg.in_channels
        for i, mode in enumerate(cfg.upsample_modes()):
            deeper_out = cfg.up[i + 1] if i + 1 < cfg.scales else cfg.down[i]
            scales.append(Scale(cin, cfg.down[i], cfg.up[i], cfg.skip[i], deeper_out, cfg, mode, legacy))
            cin = cfg.down[i]
        self.scales = nn.ModuleList(scales)
        self.head = nn.Conv2d(cfg.up[0], cfg.out_channels, 1, bias=True)
        self.out_act = nn.Sigmoid() if cfg.sigmoid else nn.Identity()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        inputs = []
        x = z
        for scale in self.scales:
            inputs.append(x)
            x = scale.encoder(x)
        for scale, inp in zip(reversed(self.scales), reversed(inputs)):
            x = scale.decode(inp, x)
        return self.out_act(self.head(x))


def build_net(cfg: NetConfig, legacy: bool = False) -> nn.Module:
    """Build the network ``cfg`` describes: the skip network, or the U-Net or ResNet of the
    library figure (``dip.models.unet``, ``dip.models.resnet``).

    ``legacy=True`` reproduces PyTorch 0.4, which the paper used: BatchNorm weights drawn from
    U(0, 1) instead of 1, and bilinear upsampling with align_corners=True. (Convolutions were
    initialised with the same U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bounds then as now.)
    Draws from torch's global generator; seed it for a reproducible net.
    """
    if isinstance(cfg, UNetConfig):
        net = UNet(cfg)
    elif isinstance(cfg, ResNetConfig):
        net = ResNet(cfg)
    else:
        net = SkipNet(cfg, legacy=legacy)
    if legacy:
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                nn.init.uniform_(m.weight, 0.0, 1.0)
    return net


def count_params(net: nn.Module) -> int:
    """Trainable parameters (fixed filters are buffers and do not count)."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def make_input(kind: str, channels: int, size: tuple[int, int], generator: torch.Generator,
               image: torch.Tensor | None = None) -> torch.Tensor:
    """The fixed network input z, shape (1, C, H, W), drawn on the CPU.

    "noise": U(0, 1) * 0.1; "meshgrid": 2 channels of x and y coordinates in [0, 1];
    "image": ``image`` itself (flash / no-flash). Drawing on the CPU from ``generator`` gives
    the same z for a seed on every device; the caller moves it.
    """
    h, w = size
    if kind == "noise":
        return torch.rand((1, channels, h, w), generator=generator) * 0.1
    if kind == "meshgrid":
        if channels != 2:
            raise DipError(f"a meshgrid input has 2 channels, not {channels}")
        ys = torch.linspace(0.0, 1.0, h).view(h, 1).expand(h, w)
        xs = torch.linspace(0.0, 1.0, w).view(1, w).expand(h, w)
        return torch.stack([xs, ys])[None].contiguous()
    if kind == "image":
        if image is None:
            raise DipError("input kind 'image' needs an image")
        if image.ndim != 4 or image.shape[0] != 1 or image.shape[1] != channels or tuple(image.shape[-2:]) != (h, w):
            raise DipError(f"input image has shape {tuple(image.shape)}, expected (1, {channels}, {h}, {w})")
        return image.detach().float().cpu().clone()
    raise DipError(f"unknown input kind {kind!r}; known: {', '.join(INPUT_KINDS)}")


def describe(net: nn.Module) -> list[dict]:
    """One row per leaf layer: name, type, in, out, kernel, stride, params (its own)."""
    rows = []
    for name, m in net.named_modules():
        if any(True for _ in m.children()):
            continue
        row = {"name": name, "type": type(m).__name__, "in": None, "out": None, "kernel": None,
               "stride": None, "params": sum(p.numel() for p in m.parameters(recurse=False))}
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            row.update({"in": m.in_channels, "out": m.out_channels, "kernel": m.kernel_size[0],
                        "stride": m.stride[0]})
        elif isinstance(m, nn.BatchNorm2d):
            row.update({"in": m.num_features, "out": m.num_features})
        elif isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
            row.update({"kernel": m.kernel_size, "stride": m.stride})
        elif isinstance(m, LanczosDownsampler):
            row.update({"in": m.channels, "out": m.channels, "kernel": m.kernel.shape[-1], "stride": m.factor})
        elif isinstance(m, Upsample):
            row["type"] = f"Upsample({m.mode})"
        rows.append(row)
    return rows
