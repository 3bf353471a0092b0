"""Reading and writing images as float arrays in [0, 1], the crop/pad policy that makes a
network-friendly size, and moving images to and from torch.

Arrays are (H, W) for grayscale or (H, W, 3) for colour; tensors are (1, C, H, W).

Source modes: grayscale stays grayscale and colour stays colour. 16-bit grayscale is scaled by
65535. A palette image becomes grayscale when its palette is grey, else RGB. An image with
alpha is composited on white (what a viewer shows where it is transparent), with a warning.
1-bit, CMYK, YCbCr and the like are converted by PIL to L or RGB. An image of more than
MAX_PIXELS pixels is refused from its header, before its pixels are decoded, and so is any file
that does not decode (a DipError naming it, whatever the bytes).
"""

import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import DipError

#: The largest image we read: 8192 x 8192. Bigger ones (and decompression bombs, which claim
#: a huge size in a small file) are refused before any pixel is allocated.
MAX_PIXELS = 8192 * 8192


def load_image(path: str | Path) -> np.ndarray:
    """Load an image as float32 in [0, 1], keeping grayscale as (H, W) and colour as (H, W, 3)."""
    return read_image(path)[0]


def read_image(path: str | Path) -> tuple[np.ndarray, str]:
    """Load an image as float32 in [0, 1] (see the module docstring); also return its PIL mode."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise DipError(f"{path} is {width} x {height} pixels, more than the "
                               f"{MAX_PIXELS:,} this reads (8192 x 8192)")
            im.load()
            return _to_float(im, path), im.mode
    except FileNotFoundError:
        raise DipError(f"image not found: {path}") from None
    except IsADirectoryError:
        raise DipError(f"not a file: {path}") from None
    except DipError:
        raise
    except Image.DecompressionBombError:
        raise DipError(f"{path} claims far more pixels than the {MAX_PIXELS:,} this reads "
                       f"(8192 x 8192): refused as a possible decompression bomb") from None
    except UnidentifiedImageError as exc:
        raise DipError(f"not a readable image: {path} ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - a broken file can make any decoder step fail
        raise DipError(f"not a readable image: {path} ({type(exc).__name__}: {exc})") from None


_ALPHA = ("LA", "La", "PA", "RGBA", "RGBa")


def _to_float(im: Image.Image, path: Path) -> np.ndarray:
    mode = im.mode
    if mode == "P":
        if "transparency" in im.info:
            im, mode = im.convert("RGBA"), "RGBA"
        else:
            rgb = np.asarray(im.convert("RGB"))
            grey = (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
            im = im.convert("L" if grey else "RGB")
            mode = im.mode
    if mode in _ALPHA:
        warnings.warn(f"{path}: {mode} image composited on white (alpha dropped)", stacklevel=3)
        base = "L" if mode in ("LA", "La") else "RGB"
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im, mode = Image.alpha_composite(white, rgba).convert(base), base
    if mode.startswith("I"):  # 16-bit grayscale, opened as I;16* or I
        arr = np.asarray(im).astype(np.float64)
        if arr.min() < 0 or arr.max() > 65535:
            raise DipError(f"{path}: integer image with values outside 0..65535")
        return (arr / 65535.0).astype(np.float32)
    if mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        if arr.min() < 0 or arr.max() > 1:
            raise DipError(f"{path}: float image with values outside [0, 1]")
        return arr
    if mode not in ("L", "RGB"):
        im = im.convert("L" if mode == "1" else "RGB")
    return np.asarray(im, dtype=np.float32) / 255.0


def save_image(path: str | Path, img: np.ndarray) -> None:
    """Save a float image in [0, 1] as an 8-bit PNG (rounded, clipped)."""
    arr = np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)
    Image.fromarray(arr).save(path)


def to_tensor(img: np.ndarray) -> "torch.Tensor":
    """(H, W) or (H, W, C) array -> (1, C, H, W) float32 tensor."""
    import torch  # here, not at the top: data commands read images without loading torch

    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))
    t = t[None] if t.ndim == 2 else t.permute(2, 0, 1)
    return t[None]


def to_array(t: "torch.Tensor") -> np.ndarray:
    """(1, C, H, W) tensor -> (H, W) or (H, W, C) float32 array."""
    a = t.detach().float().cpu()[0]
    a = a[0] if a.shape[0] == 1 else a.permute(1, 2, 0)
    return a.numpy()


@dataclass(frozen=True)
class Geometry:
    """How a prepared image relates to its source: a crop window of the source, then a
    reflection pad. Metrics go back to the source's extent through `box`."""

    original_size: tuple[int, int]
    policy: str                          # none | multiple | crop | pad
    value: int | list[int] | None        # the multiple, crop side or padded size
    crop: tuple[int, int, int, int]      # top, left, height, width of the kept source window
    pad: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, bottom, left, right

    @property
    def size(self) -> tuple[int, int]:
        t, b, l, r = self.pad
        return self.crop[2] + t + b, self.crop[3] + l + r

    @property
    def box(self) -> tuple[int, int, int, int]:
        """top, left, height, width of the source pixels inside the prepared image."""
        return self.pad[0], self.pad[2], self.crop[2], self.crop[3]

    def apply(self, img: np.ndarray) -> np.ndarray:
        """Crop then reflection-pad an (H, W) or (H, W, C) array of the source's size."""
        if img.shape[:2] != tuple(self.original_size):
            raise DipError(f"array of size {img.shape[:2]} given to a geometry for {self.original_size}")
        top, left, h, w = self.crop
        out = img[top:top + h, left:left + w]
        if any(self.pad):
            t, b, l, r = self.pad
            out = np.pad(out, ((t, b), (l, r)) + ((0, 0),) * (img.ndim - 2), mode="reflect")
        return out

    def modcrop(self, factor: int) -> "Geometry":
        """The same window shrunk at its bottom-right to a multiple of `factor` (super-resolution)."""
        if any(self.pad):
            raise DipError("a padded image cannot be cropped for super-resolution; use a crop policy")
        top, left, h, w = self.crop
        if h < factor or w < factor:
            raise DipError(f"image {w}x{h} is smaller than the scale factor {factor}")
        return replace(self, crop=(top, left, h - h % factor, w - w % factor))

    def to_json(self) -> dict:
        return {"original_size": list(self.original_size), "box": list(self.box),
                "source_box": list(self.crop), "size": list(self.size),
                "policy": {"kind": self.policy, "value": self.value}}


def plan_geometry(size: tuple[int, int], crop: int | None = None, multiple: int | None = None,
                  pad_to: tuple[int, int] | None = None) -> Geometry:
    """At most one policy: a centred crop x crop window (quick runs), a centred crop to the
    largest multiple of `multiple` (the official notebooks' convention), or a reflection pad to
    `pad_to` (the Table-1 notebook pads Barbara 512 -> 514). None: the image as it is."""
    if sum(x is not None for x in (crop, multiple, pad_to)) > 1:
        raise DipError("choose one of crop, crop multiple and pad")
    h, w = size
    if crop is not None:
        if crop < 1 or crop > min(h, w):
            raise DipError(f"image {w}x{h} is too small for a {crop}x{crop} crop")
        return Geometry(size, "crop", crop, ((h - crop) // 2, (w - crop) // 2, crop, crop))
    if multiple is not None:
        if multiple < 1 or multiple > min(h, w):
            raise DipError(f"image {w}x{h} is smaller than the crop multiple {multiple}")
        ch, cw = h - h % multiple, w - w % multiple
        return Geometry(size, "multiple", multiple, ((h - ch) // 2, (w - cw) // 2, ch, cw))
    if pad_to is not None:
        ph, pw = pad_to
        if ph < h or pw < w:
            raise DipError(f"image {w}x{h} is larger than the pad size {pw}x{ph}")
        t, l = (ph - h) // 2, (pw - w) // 2
        pad = (t, ph - h - t, l, pw - w - l)
        if max(pad[:2]) >= h or max(pad[2:]) >= w:
            raise DipError(f"image {w}x{h} is too small to reflect-pad to {pw}x{ph}")
        return Geometry(size, "pad", ph if ph == pw else [ph, pw], (0, 0, h, w), pad)
    return Geometry(size, "none", None, (0, 0, h, w))


def original_extent(img: np.ndarray, box: tuple[int, int, int, int] | list[int]) -> np.ndarray:
    """The part of a prepared (or fitted) image that holds source pixels (prep.json `box`)."""
    top, left, h, w = box
    return img[top:top + h, left:left + w]


def parse_size(text: str | None) -> tuple[int, int] | None:
    """'H' or 'HxW' -> (H, W); None stays None."""
    if text is None:
        return None
    try:
        parts = [int(x) for x in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2):
        raise DipError(f"a size is H or HxW, got '{text}'")
    return parts[0], parts[-1]


def to_uint8(img: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] as 8-bit integers (rounded)."""
    return np.round(img * 255.0).astype(np.uint8)
