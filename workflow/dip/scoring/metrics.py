"""Image quality metrics, the standard ones: PSNR computed as scikit-image computes it (the
tests hold the two equal to the last bit), SSIM delegated to scikit-image.

All images are float arrays in [0, 1], shaped (H, W) or (H, W, C); data range is 1. PSNR does
not import scikit-image: a fit scores its trace with it, and importing scikit-image (and
SciPy under it) would add seconds to the start of every fit.
"""

import numpy as np

from ..errors import DipError


def quantize(img: np.ndarray) -> np.ndarray:
    """The 8-bit image a PNG would hold, back in [0, 1]."""
    return np.round(np.clip(img, 0.0, 1.0) * 255.0) / 255.0


def psnr(img: np.ndarray, ref: np.ndarray) -> float:
    """PSNR in dB, data range 1, over the whole image: 10 log10(1 / MSE), the MSE a float64
    mean as in ``skimage.metrics.peak_signal_noise_ratio``; inf for identical images."""
    if img.shape != ref.shape:
        raise DipError(f"images of shapes {img.shape} and {ref.shape} cannot be compared")
    err = np.mean((ref.astype(np.float64) - np.clip(img, 0, 1).astype(np.float64)) ** 2, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return float(10 * np.log10(1.0 / err))


def ssim(img: np.ndarray, ref: np.ndarray) -> float:
    """SSIM with scikit-image's defaults (7x7 window), data range 1; colour channels averaged."""
    from skimage.metrics import structural_similarity

    channel_axis = -1 if ref.ndim == 3 else None
    return float(
        structural_similarity(
            ref.astype(np.float64), np.clip(img, 0, 1).astype(np.float64),
            data_range=1.0, channel_axis=channel_axis,
        )
    )


#: Border (pixels) the official SR evaluation script removes inside the result's extent, at
#: every scale factor.
SR_BORDER = 4


def luma_bt601(img: np.ndarray) -> np.ndarray:
    """Y of ITU-R BT.601 in studio range [16, 235] / 255, as the official SR evaluation script
    computes it (OpenCV's float RGB -> YCrCb luma, then scaled); grey images are their own Y."""
    if img.ndim == 2:
        y = img.astype(np.float64)
    else:
        rgb = img[..., :3].astype(np.float64)
        y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    return (y * (235.0 - 16.0) + 16.0) / 255.0


def sr_window(result: np.ndarray, border: int = SR_BORDER) -> tuple[slice, slice]:
    """Rows and columns the official SR script scores: the extent of the result's non-zero
    pixels (a result is centred on a black canvas of the ground truth's size), less ``border``
    pixels at the top/left and ``border + 1`` at the bottom/right (its slice ends at the last
    non-zero index minus the border, exclusive)."""
    total = result.sum(axis=2) if result.ndim == 3 else result
    rows, cols = np.nonzero(total.sum(axis=1) > 0)[0], np.nonzero(total.sum(axis=0) > 0)[0]
    if rows.size == 0:
        raise DipError("the super-resolution result is black everywhere: no extent to score")
    window = slice(rows[0] + border, rows[-1] - border), slice(cols[0] + border, cols[-1] - border)
    if window[0].stop <= window[0].start or window[1].stop <= window[1].start:
        raise DipError(f"the result's extent {rows[-1] - rows[0] + 1}x{cols[-1] - cols[0] + 1} "
                       f"leaves nothing after a {border}-pixel border")
    return window


def psnr_sr(img: np.ndarray, ref: np.ndarray, extent_of: np.ndarray | None = None) -> float:
    """The paper's super-resolution PSNR (official ``super-resolution_eval_script.py``): Y of
    BT.601 in [16, 235] / 255, data range 1, inside ``sr_window`` of ``extent_of`` (the DIP
    result, whose window the script uses for every method; default ``img``). ``img``, ``ref``
    and ``extent_of`` are float images in [0, 1] of one size."""
    extent_of = img if extent_of is None else extent_of
    if img.shape[:2] != ref.shape[:2] or extent_of.shape[:2] != ref.shape[:2]:
        raise DipError(f"super-resolution PSNR needs images of one size, got {img.shape}, "
                       f"{ref.shape} and {extent_of.shape}")
    rows, cols = sr_window(np.clip(extent_of, 0, 1))
    return psnr(luma_bt601(np.clip(img, 0, 1))[rows, cols], luma_bt601(ref)[rows, cols])


def quality(img: np.ndarray, ref: np.ndarray) -> dict:
    """PSNR and SSIM of the float image and of its 8-bit quantisation."""
    q = quantize(img)
    return {
        "psnr": psnr(img, ref), "ssim": ssim(img, ref),
        "psnr_uint8": psnr(q, ref), "ssim_uint8": ssim(q, ref),
    }
