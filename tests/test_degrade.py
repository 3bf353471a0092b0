"""Noise and super-resolution inputs."""

import numpy as np
import pytest
from PIL import Image

from dip.physics import degrade
from dip.errors import DipError


def test_noise_is_seeded_scaled_and_clipped():
    img = np.full((200, 200), 0.5, np.float32)
    a = degrade.add_noise(img, 25, seed=0)
    assert a.dtype == np.float32
    assert np.array_equal(a, degrade.add_noise(img, 25, seed=0))
    assert not np.array_equal(a, degrade.add_noise(img, 25, seed=1))
    assert abs((a - img).std() * 255 - 25) < 0.5
    edge = degrade.add_noise(np.zeros((50, 50, 3), np.float32), 50, seed=0)
    assert edge.min() == 0.0 and edge.max() <= 1.0 and edge.shape == (50, 50, 3)
    with pytest.raises(DipError):
        degrade.add_noise(img, -1, seed=0)


@pytest.mark.parametrize("shape,factor,hr,lr", [((130, 97, 3), 4, (128, 96), (32, 24)),
                                                ((130, 97), 8, (128, 96), (16, 12)),
                                                ((64, 64, 3), 4, (64, 64), (16, 16))])
def test_sr_sizes(shape, factor, hr, lr):
    img = np.random.default_rng(0).random(shape).astype(np.float32)
    cropped = degrade.modcrop(img, factor)
    assert cropped.shape[:2] == hr and np.array_equal(cropped, img[: hr[0], : hr[1]])  # top-left
    small = degrade.downscale(cropped, factor)
    assert small.shape == lr + shape[2:]


def test_downscale_is_pil_lanczos_on_8_bit():
    img = np.random.default_rng(1).random((64, 48, 3)).astype(np.float32)
    u8 = np.round(img * 255).astype(np.uint8)
    expected = np.asarray(Image.fromarray(u8).resize((12, 16), Image.Resampling.LANCZOS)) / 255.0
    assert np.allclose(degrade.downscale(img, 4), expected)
    with pytest.raises(DipError, match="modcrop"):
        degrade.downscale(img[:63], 4)
    with pytest.raises(DipError):
        degrade.modcrop(img[:3], 4)
