"""Inpainting masks: boolean (H, W) arrays, True = known pixel, stored as PNG with 255 = known.

Four kinds: a seeded Bernoulli mask; the authors' exact Table-1 mask recovered from their
published masked input; a published mask file; rendered sentence fragments for any image.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..data.images import load_image
from ..errors import DipError


def save_mask(path: str | Path, mask: np.ndarray) -> None:
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), mode="L").save(path)


def load_mask(path: str | Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask file, the one loader every command uses: True = known pixel.

    The file is read by the image loader (so any file that is not a readable image is one
    clear error) and must be binary (0 = missing, 255 = known) and grey (a colour file whose
    channels are equal is read as grey), and of ``shape`` (H, W) when one is given. The official
    masks (kate, vase, library) are such files with the holes black.
    """
    arr = load_image(path)
    if arr.ndim == 3:
        if not (arr == arr[..., :1]).all():
            raise DipError(f"mask {path} has colour; it must be grey (255 = known pixel)")
        arr = arr[..., 0]
    if shape is not None and arr.shape != tuple(shape):
        raise DipError(f"mask {path} is {arr.shape[1]}x{arr.shape[0]} (WxH) but the image is "
                       f"{shape[1]}x{shape[0]}")
    if not np.isin(arr, (0.0, 1.0)).all():
        raise DipError(f"mask {path} is not binary: values must be 0 (missing) or 255 (known)")
    return arr == 1.0


def bernoulli_mask(shape: tuple[int, int], missing: float, seed: int) -> np.ndarray:
    """Each pixel missing with probability `missing`, drawn from numpy's Generator(seed): the
    one seeded draw `dip prepare` and `dip fit --mask-bernoulli` share, so a seed gives one mask."""
    if not 0.0 <= missing < 1.0:
        raise DipError(f"missing fraction must be in [0, 1), got {missing}")
    return np.random.default_rng(seed).random(shape) >= missing


def derive_mask(gt: np.ndarray, masked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mask behind a published masked input (missing pixels set to 0), and where it is
    ambiguous.

    Both arrays are 8-bit integers of one shape. A pixel is known where the masked input equals
    the ground truth and the ground truth is non-zero. Where the ground truth is 0 a known and a
    missing pixel look the same; those pixels are marked missing (losing under 1 % of the
    observations: peppers has the most, 0.78 %) and returned as the second array. Any pixel that differs from the ground truth and is
    not 0 means the two files do not belong together: that is an error.
    """
    if gt.shape != masked.shape:
        raise DipError(f"masked input shape {masked.shape} differs from the ground truth's {gt.shape}")
    gt, masked = np.asarray(gt, dtype=np.int64), np.asarray(masked, dtype=np.int64)
    if gt.ndim == 3:  # colour: a pixel is one mask value over its channels
        equal, zero_gt, zero_masked = (gt == masked).all(-1), (gt == 0).all(-1), (masked == 0).all(-1)
    else:
        equal, zero_gt, zero_masked = gt == masked, gt == 0, masked == 0
    bad = int((~equal & ~zero_masked).sum())
    if bad:
        raise DipError(f"{bad} pixels of the masked input are neither the ground truth nor 0: "
                       "not a masked copy of this image")
    return equal & ~zero_gt, zero_gt


#: Words for the text masks: sentence fragments like the overlaid text of the paper's Fig. 7.
WORDS = ("the deep image prior fits a randomly initialised network to one degraded image and its "
         "structure captures much of the statistics of natural images without any learning so "
         "early stopping gives a clean result while the noise is fitted only later").split()


def text_mask(shape: tuple[int, int], holes: float, seed: int, font_size: int | None = None,
              max_lines: int = 10_000) -> np.ndarray:
    """Random sentence fragments rendered with PIL's default font until `holes` of the pixels
    are covered; the text pixels are missing. Same seed, shape and Pillow version -> same mask.
    """
    if not 0.0 < holes < 0.9:
        raise DipError(f"text hole fraction must be in (0, 0.9), got {holes}")
    h, w = shape
    size = font_size or max(8, min(h, w) // 24)
    font = ImageFont.load_default(size=size)
    rng = np.random.default_rng(seed)
    canvas = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(canvas)
    target = holes * h * w
    for _ in range(max_lines):
        if np.count_nonzero(np.asarray(canvas) <= 127) >= target:
            break
        n = int(rng.integers(2, 6))
        start = int(rng.integers(0, len(WORDS) - n))
        text = " ".join(WORDS[start:start + n])
        x, y = int(rng.integers(-w // 4, w)), int(rng.integers(-size // 2, h))
        draw.text((x, y), text, fill=0, font=font)
    else:
        raise DipError(f"could not reach {holes:.1%} text holes on a {w}x{h} image")
    return np.asarray(canvas) > 127
