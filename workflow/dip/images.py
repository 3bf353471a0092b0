"""Reading and writing images as float arrays in [0, 1], and moving them to and from torch.

Arrays are (H, W) for grayscale or (H, W, 3) for colour; tensors are (1, C, H, W).
"""

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .errors import DipError


def load_image(path: str | Path) -> np.ndarray:
    """Load an image as float32 in [0, 1], keeping grayscale as (H, W) and colour as (H, W, 3)."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
    except FileNotFoundError:
        raise DipError(f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DipError(f"not a readable image: {path} ({exc})") from None
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.float32) / 255.0


def save_image(path: str | Path, img: np.ndarray) -> None:
    """Save a float image in [0, 1] as an 8-bit PNG (rounded, clipped)."""
    arr = np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)
    Image.fromarray(arr).save(path)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) array -> (1, C, H, W) float32 tensor."""
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))
    t = t[None] if t.ndim == 2 else t.permute(2, 0, 1)
    return t[None]


def to_array(t: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) tensor -> (H, W) or (H, W, C) float32 array."""
    a = t.detach().float().cpu()[0]
    a = a[0] if a.shape[0] == 1 else a.permute(1, 2, 0)
    return a.numpy()
