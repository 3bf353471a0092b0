"""The paper's settings as data: one registry of presets, one entry per experiment.

Each value comes from the supplementary material or the authors' notebook for that experiment
(named in ``source``); code reads the fields and never branches on a preset's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DipError
from .network import NetConfig, ResNetConfig, SkipConfig, UNetConfig


@dataclass(frozen=True)
class Preset:
    """Everything a fit needs besides the images: task, network, input, optimisation."""

    name: str
    description: str
    task: str                  # a row of dip.spec.tasks.TASKS
    net: NetConfig
    input: str                 # "noise" | "meshgrid" | "image"
    input_depth: int
    lr: float                  # Adam, default betas, constant
    iterations: int
    reg_noise_std: float       # std of the fresh Gaussian added to z each iteration
    ema_weight: float          # output averaging: avg = w * avg + (1 - w) * out
    sr_factor: int | None
    crop_multiple: int         # images are centre-cropped to multiples of this
    snapshots: tuple[int, ...]  # iterations at which the output is saved
    source: str
    # The notebook's procedure around the loop (dip.engine.fit): its backtracking ("official" or
    # "off") and what its final image is fed ("noisy": the last iteration's input; "clean": z).
    backtrack: str = "off"
    final_input: str = "noisy"


def _skip5(in_channels: int, out_channels: int, skip: int, upsample: str | tuple[str, ...]) -> SkipConfig:
    """The paper's default depth: five scales of 128 channels down and up."""
    return SkipConfig(in_channels, out_channels, down=(128,) * 5, up=(128,) * 5, skip=(skip,) * 5,
                      upsample=upsample)


_DEPTH6 = (16, 32, 64, 128, 128, 128)


def _library(name: str, what: str, net, lr: float, source: str) -> Preset:
    """One of the library figure's networks (Fig. 8), with the inpainting notebook's settings
    for the library: a one-channel noise input, no reg noise, 3001 iterations."""
    return Preset(
        name=name, description=f"Region inpainting with {what} (Fig. 8, library)", task="inpainting",
        net=net, input="noise", input_depth=1, lr=lr, iterations=3001, reg_noise_std=0.0,
        ema_weight=0.99, sr_factor=None, crop_multiple=64, snapshots=(100, 500, 1000, 2000, 3000),
        source=f"inpainting notebook, library branch ({source})",
        final_input="clean",  # the notebook's closure keeps its noisy input local
    )


_ALL = [
    Preset(
        name="table1",
        description="Inpainting of 50% randomly dropped pixels, grayscale (Table 1, Fig. 7 bottom)",
        task="inpainting", net=_skip5(32, 1, 4, "bilinear"), input="noise", input_depth=32,
        lr=0.001, iterations=11000, reg_noise_std=0.03, ema_weight=0.99, sr_factor=None,
        crop_multiple=64, snapshots=(250, 1000, 2000, 5000, 11000),
        source="supplementary (skip 128/128/4, bilinear); restoration notebook (LR, iterations, "
               "reg noise, 64-pixel crop, backtracking, final image on the last noisy input)",
        backtrack="official",
    ),
    Preset(
        name="text_inpainting",
        description="Text inpainting of kate.png (Fig. 7 top)",
        task="inpainting", net=_skip5(32, 3, 128, "nearest"), input="noise", input_depth=32,
        lr=0.01, iterations=6001, reg_noise_std=0.03, ema_weight=0.99, sr_factor=None,
        crop_multiple=64, snapshots=(100, 500, 1000, 3000, 6000),
        source="inpainting notebook, kate branch (128/128/128, nearest, LR 0.01, 6001 iterations)",
        final_input="clean",  # the notebook's closure keeps its noisy input local
    ),
    Preset(
        name="region_inpainting",
        description="Large-hole inpainting from a meshgrid input (Fig. 6, vase)",
        task="inpainting", net=_skip5(2, 3, 0, "nearest"), input="meshgrid", input_depth=2,
        lr=0.01, iterations=5001, reg_noise_std=0.03, ema_weight=0.99, sr_factor=None,
        crop_multiple=64, snapshots=(100, 500, 1000, 2500, 5000),
        source="inpainting notebook, vase branch (meshgrid, 128/128/0, nearest, 5001 iterations)",
        final_input="clean",  # the notebook's closure keeps its noisy input local
    ),
    _library("library_depth6", "a 6-scale hourglass without skips",
             SkipConfig(1, 3, down=_DEPTH6, up=_DEPTH6, skip=(0,) * 6, k_down=5, k_up=3,
                        upsample="nearest", up_1x1=False), lr=0.01,
             source="depth 6, k_down 5, k_up 3, no skips, no 1x1 up, no reg noise"),
    _library("library_unet", "the official U-Net", UNetConfig(1, 3, feature_scale=8, more_layers=1),
             lr=0.001, source="NET_TYPE UNET; models/unet.py: feature scale 8, one more layer, "
                              "transposed-conv upsampling, zero padding, InstanceNorm; LR 0.001"),
    _library("library_resnet", "the official ResNet", ResNetConfig(1, 3, blocks=8, channels=32),
             lr=0.001, source="NET_TYPE ResNet; models/resnet.py: 8 residual blocks of 32 channels, "
                              "BatchNorm, LeakyReLU; LR 0.001"),
    Preset(
        name="denoising",
        description="Blind denoising, Gaussian sigma 25/255 (Fig. 4, F16)",
        task="denoising", net=_skip5(32, 3, 4, "bilinear"), input="noise", input_depth=32,
        lr=0.01, iterations=3000, reg_noise_std=1.0 / 30.0, ema_weight=0.99, sr_factor=None,
        crop_multiple=32, snapshots=(100, 500, 1000, 1800, 3000),
        source="denoising notebook (3000 iterations, reg noise 1/30; the paper's Set9 runs use 1800)",
        backtrack="official",
    ),
    Preset(
        name="sr4",
        description="4x super-resolution through a Lanczos-2 downsampler (Set5, Set14)",
        task="sr", net=_skip5(32, 3, 4, "bilinear"), input="noise", input_depth=32,
        lr=0.01, iterations=2000, reg_noise_std=0.03, ema_weight=0.99, sr_factor=4,
        crop_multiple=32, snapshots=(100, 500, 1000, 2000),
        source="super-resolution notebook, x4 (2000 iterations, reg noise 0.03)",
    ),
    Preset(
        name="sr8",
        description="8x super-resolution through a Lanczos-2 downsampler",
        task="sr", net=_skip5(32, 3, 4, "bilinear"), input="noise", input_depth=32,
        lr=0.01, iterations=4000, reg_noise_std=0.05, ema_weight=0.99, sr_factor=8,
        crop_multiple=32, snapshots=(100, 500, 1000, 2000, 4000),
        source="super-resolution notebook, x8 (4000 iterations, reg noise 0.05)",
    ),
    Preset(
        name="dejpeg",
        description="Blind JPEG artefact removal: the compressed photo is the observation (Fig. 3, snail)",
        task="dejpeg",
        net=SkipConfig(3, 3, down=(8, 16, 32, 64, 128), up=(8, 16, 32, 64, 128), skip=(0, 0, 0, 4, 4),
                       upsample="bilinear"),
        input="noise", input_depth=3, lr=0.01, iterations=2400, reg_noise_std=1.0 / 30.0, ema_weight=0.99,
        sr_factor=None, crop_multiple=32, snapshots=(100, 300, 600, 1200, 2400),
        source="denoising notebook, deJPEG branch (snail.jpg: input depth 3, 8/16/32/64/128 down and "
               "up, skip 0/0/0/4/4, bilinear, reflection, LR 0.01, reg noise 1/30, 2400 iterations)",
        backtrack="official",
    ),
    Preset(
        name="figure2",
        description="The Table-1 network fitted to an image, the image plus noise, its pixels "
                    "permuted, and white noise (Fig. 2)",
        task="fitting", net=_skip5(32, 1, 4, "bilinear"), input="noise", input_depth=32,
        lr=0.01, iterations=5000, reg_noise_std=0.0, ema_weight=0.99, sr_factor=None,
        crop_multiple=64, snapshots=(10, 100, 1000, 5000),
        source="paper, Fig. 2: the Table-1 network (skip 128/128/4, bilinear) and Adam; the paper "
               "states no learning rate, input noise or length: LR 0.01 as the other notebooks, no "
               "reg noise (plain fitting), 5000 iterations are ours",
    ),
    Preset(
        name="flash",
        description="Flash / no-flash reconstruction: the flash image is the input (Fig. 9)",
        task="flash",
        net=_skip5(3, 3, 4, ("nearest", "nearest", "bilinear", "bilinear", "bilinear")),
        input="image", input_depth=3, lr=0.1, iterations=601, reg_noise_std=0.0,
        ema_weight=0.99, sr_factor=None, crop_multiple=32, snapshots=(50, 100, 300, 600),
        source="flash/no-flash notebook (128/128/4, nearest x2 then bilinear x3, LR 0.1, 601 "
               "iterations)",
    ),
]

PRESETS: dict[str, Preset] = {p.name: p for p in _ALL}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; DipError naming the known ones otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise DipError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
