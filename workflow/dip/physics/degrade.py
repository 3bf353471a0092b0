"""Degradations that make an experiment's observation from its ground truth."""

import zlib

import numpy as np
from PIL import Image

from ..errors import DipError


def noise_seed(image: str, base: int = 0) -> int:
    """The seed of an image's one noisy observation: its own (from the image's name), apart
    from any fit's seed, so that every fit of the image, whatever its seed, sees the same draw
    and two images never share one."""
    return (int(base) + zlib.crc32(image.encode("utf-8"))) % 2**32


def add_noise(img: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Additive Gaussian noise, sigma on the [0, 255] scale, from Generator(seed), clipped to [0, 1]."""
    if sigma < 0:
        raise DipError(f"noise sigma must be >= 0, got {sigma}")
    noise = np.random.default_rng(seed).normal(0.0, sigma / 255.0, img.shape)
    return np.clip(img + noise, 0.0, 1.0).astype(np.float32)


def shuffle_pixels(img: np.ndarray, seed: int) -> np.ndarray:
    """The image's pixels in a random order from Generator(seed): the same values (and
    histogram), no spatial structure. A colour pixel moves whole."""
    h, w = img.shape[:2]
    flat = img.reshape(h * w, -1)
    return flat[np.random.default_rng(seed).permutation(h * w)].reshape(img.shape).astype(np.float32)


def uniform_noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """White noise U(0, 1) from Generator(seed)."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, shape).astype(np.float32)


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


def bicubic_upscale(lr: np.ndarray, factor: int) -> np.ndarray:
    """The bicubic baseline: the 8-bit LR image enlarged by `factor` with PIL's bicubic filter,
    as the official notebook's `get_baselines` makes it."""
    h, w = lr.shape[:2]
    im = Image.fromarray(np.round(np.clip(lr, 0, 1) * 255).astype(np.uint8))
    up = im.resize((w * factor, h * factor), Image.Resampling.BICUBIC)
    return np.asarray(up, dtype=np.float32) / 255.0
