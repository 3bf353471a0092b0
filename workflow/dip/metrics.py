"""Image quality metrics, delegated to scikit-image so our numbers are the standard ones.

All images are float arrays in [0, 1], shaped (H, W) or (H, W, C); data range is 1.
"""

import numpy as np
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def quantize(img: np.ndarray) -> np.ndarray:
    """The 8-bit image a PNG would hold, back in [0, 1]."""
    return np.round(np.clip(img, 0.0, 1.0) * 255.0) / 255.0


def psnr(img: np.ndarray, ref: np.ndarray) -> float:
    """PSNR in dB, data range 1, over the whole image."""
    return float(peak_signal_noise_ratio(ref.astype(np.float64), np.clip(img, 0, 1).astype(np.float64), data_range=1.0))


def ssim(img: np.ndarray, ref: np.ndarray) -> float:
    """SSIM with scikit-image's defaults (7x7 window), data range 1; colour channels averaged."""
    channel_axis = -1 if ref.ndim == 3 else None
    return float(
        structural_similarity(
            ref.astype(np.float64), np.clip(img, 0, 1).astype(np.float64),
            data_range=1.0, channel_axis=channel_axis,
        )
    )


def psnr_sr(img: np.ndarray, ref: np.ndarray, scale: int) -> float:
    """Super-resolution protocol: PSNR on the Y channel (ITU-R BT.601), border of `scale` px removed."""

    def luma(x: np.ndarray) -> np.ndarray:
        if x.ndim == 2:
            return x
        return rgb2ycbcr(np.clip(x, 0, 1))[..., 0] / 255.0

    b = scale
    return psnr(luma(img)[b:-b, b:-b], luma(ref)[b:-b, b:-b])


def quality(img: np.ndarray, ref: np.ndarray) -> dict:
    """PSNR and SSIM of the float image and of its 8-bit quantisation."""
    q = quantize(img)
    return {
        "psnr": psnr(img, ref), "ssim": ssim(img, ref),
        "psnr_uint8": psnr(q, ref), "ssim_uint8": ssim(q, ref),
    }
