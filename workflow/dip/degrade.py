"""Degradations that make an experiment's observation from its ground truth."""

import numpy as np
from PIL import Image

from .errors import DipError


def add_noise(img: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Additive Gaussian noise, sigma on the [0, 255] scale, from Generator(seed), clipped to [0, 1]."""
    if sigma < 0:
        raise DipError(f"noise sigma must be >= 0, got {sigma}")
    noise = np.random.default_rng(seed).normal(0.0, sigma / 255.0, img.shape)
    return np.clip(img + noise, 0.0, 1.0).astype(np.float32)


def modcrop(img: np.ndarray, factor: int) -> np.ndarray:
    """Top-left crop to a multiple of `factor`: the convention of the Set5/Set14 ground truths
    the paper used (each is the top-left crop of the original HR image)."""
    if factor < 1:
        raise DipError(f"scale factor must be >= 1, got {factor}")
    h, w = img.shape[:2]
    if h < factor or w < factor:
        raise DipError(f"image {w}x{h} is smaller than the scale factor {factor}")
    return img[: h - h % factor, : w - w % factor]


def downscale(hr: np.ndarray, factor: int) -> np.ndarray:
    """Low-resolution input: the 8-bit HR image shrunk by `factor` with PIL's Lanczos filter,
    as the official super-resolution code does. `hr` must already divide by `factor`."""
    h, w = hr.shape[:2]
    if h % factor or w % factor:
        raise DipError(f"HR size {w}x{h} does not divide by {factor}: modcrop it first")
    im = Image.fromarray(np.round(np.clip(hr, 0, 1) * 255).astype(np.uint8))
    lr = im.resize((w // factor, h // factor), Image.Resampling.LANCZOS)
    return np.asarray(lr, dtype=np.float32) / 255.0
