"""Metrics: our PSNR/SSIM are scikit-image's, and agree with the textbook formulas."""

import subprocess
import sys

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from dip.scoring import metrics
from dip.errors import DipError


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    ref = rng.uniform(size=(40, 48)).astype(np.float32)
    img = np.clip(ref + rng.normal(0, 0.05, ref.shape), 0, 1).astype(np.float32)
    return img, ref


def test_psnr_equals_scikit_image_and_the_formula(pair):
    img, ref = pair
    ours = metrics.psnr(img, ref)
    assert ours == peak_signal_noise_ratio(ref.astype(np.float64), img.astype(np.float64), data_range=1.0)
    mse = np.mean((img.astype(np.float64) - ref) ** 2)
    assert ours == pytest.approx(10 * np.log10(1.0 / mse), abs=1e-9)


@pytest.mark.parametrize("shape,dtype", [((7, 9), np.float64), ((16, 12, 3), np.float32), ((1, 1), np.float32)])
def test_psnr_is_scikit_images_to_the_last_bit(shape, dtype):
    rng = np.random.default_rng(1)
    for _ in range(20):
        ref = rng.uniform(size=shape).astype(dtype)
        img = rng.uniform(-0.1, 1.1, size=shape).astype(dtype)
        expected = peak_signal_noise_ratio(ref.astype(np.float64), np.clip(img, 0, 1).astype(np.float64), data_range=1.0)
        assert metrics.psnr(img, ref) == expected


def test_psnr_of_identical_images_is_infinite_and_shapes_must_match(pair):
    img, ref = pair
    assert metrics.psnr(ref, ref) == float("inf")
    with pytest.raises(DipError, match="cannot be compared"):
        metrics.psnr(img[:, :-1], ref)


def test_a_fit_does_not_import_scikit_image():
    code = "import sys, dip.commands.fit; print('skimage' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_psnr_clips_the_output_to_the_data_range(pair):
    img, ref = pair
    overshoot = img.copy()
    overshoot[0, 0] = 1.7  # a net without sigmoid can leave [0, 1]; a saved PNG cannot
    assert metrics.psnr(overshoot, ref) == metrics.psnr(np.clip(overshoot, 0, 1), ref)


def test_ssim_equals_scikit_image_grey_and_colour(pair):
    img, ref = pair
    expected = structural_similarity(ref.astype(np.float64), img.astype(np.float64), data_range=1.0)
    assert metrics.ssim(img, ref) == expected
    assert metrics.ssim(ref, ref) == pytest.approx(1.0)
    rgb_img, rgb_ref = np.stack([img] * 3, -1), np.stack([ref] * 3, -1)
    assert metrics.ssim(rgb_img, rgb_ref) == pytest.approx(expected)


def test_quantize_is_what_an_8_bit_png_holds(pair):
    img, _ = pair
    q = metrics.quantize(img)
    assert np.array_equal(q * 255, np.round(q * 255))
    assert np.abs(q - img).max() <= 0.5 / 255 + 1e-7


def test_quality_scores_float_and_8_bit(pair):
    img, ref = pair
    q = metrics.quality(img, ref)
    assert set(q) == {"psnr", "ssim", "psnr_uint8", "ssim_uint8"}
    assert q["psnr"] == metrics.psnr(img, ref)
    assert q["psnr_uint8"] == metrics.psnr(metrics.quantize(img), ref)
    assert q["psnr"] != q["psnr_uint8"]
