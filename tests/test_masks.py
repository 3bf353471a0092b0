"""Masks: Bernoulli by seed, the authors' Table-1 masks recovered exactly, published masks,
rendered text."""

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from dip import pipeline
from dip.data import registry as data
from dip.physics import masks
from dip.errors import DipError

TABLE1 = ["barbara", "boat", "house", "lena", "peppers", "cameraman", "couple", "fingerprint",
          "hill", "man", "montage"]


def _u8(path):
    return np.asarray(Image.open(path))


@pytest.fixture(scope="module")
def config():
    return pipeline.load_config(REPO / "config.yaml")


def test_bernoulli_is_seeded_and_has_the_right_fraction():
    a = masks.bernoulli_mask((256, 256), 0.5, seed=3)
    assert np.array_equal(a, masks.bernoulli_mask((256, 256), 0.5, seed=3))
    assert not np.array_equal(a, masks.bernoulli_mask((256, 256), 0.5, seed=4))
    assert abs(a.mean() - 0.5) < 0.01
    assert abs(masks.bernoulli_mask((256, 256), 0.8, seed=0).mean() - 0.2) < 0.01
    with pytest.raises(DipError):
        masks.bernoulli_mask((8, 8), 1.0, seed=0)


def test_mask_png_round_trip(tmp_path):
    m = masks.bernoulli_mask((33, 17), 0.3, seed=1)
    masks.save_mask(tmp_path / "m.png", m)
    assert set(np.unique(_u8(tmp_path / "m.png"))) == {0, 255}
    assert np.array_equal(masks.load_mask(tmp_path / "m.png", (33, 17)), m)
    with pytest.raises(DipError, match="17x33"):
        masks.load_mask(tmp_path / "m.png", (17, 33))


@pytest.mark.parametrize("image", TABLE1)
def test_authors_mask_reproduces_the_published_input_exactly(config, mirror, image):
    gt = _u8(mirror / data.file_for(config, image, "gt"))
    masked = _u8(mirror / data.file_for(config, image, "masked"))
    mask, ambiguous = masks.derive_mask(gt, masked)
    assert np.array_equal(gt * mask, masked)
    assert np.array_equal(ambiguous, gt == 0)
    assert ambiguous.sum() <= 0.01 * gt.size  # the true-zero pixels are rare (peppers: 0.78 %)
    assert 0.49 < mask.mean() < 0.51


def test_derive_mask_counts_zero_pixels_and_rejects_a_wrong_pair():
    gt = np.array([[0, 10], [20, 30]], np.uint8)
    mask, ambiguous = masks.derive_mask(gt, np.array([[0, 10], [0, 30]], np.uint8))
    assert mask.tolist() == [[False, True], [False, True]]
    assert ambiguous.tolist() == [[True, False], [False, False]]
    with pytest.raises(DipError, match="neither"):
        masks.derive_mask(gt, np.array([[0, 11], [0, 30]], np.uint8))
    rgb = np.stack([gt] * 3, -1)
    cmask, _ = masks.derive_mask(rgb, rgb * mask[..., None])
    assert np.array_equal(cmask, mask)


@pytest.mark.parametrize("name,holes", [("kate", 0.0432), ("vase", 0.0274), ("library", 0.1863)])
def test_published_masks_are_255_known_and_image_sized(config, mirror, name, holes):
    image = Image.open(mirror / data.file_for(config, name, "gt"))
    mask = masks.load_mask(mirror / data.file_for(config, name, "mask"), image.size[::-1])
    assert abs((1 - mask.mean()) - holes) < 5e-4


def test_text_mask_is_seeded_and_near_the_target():
    a = masks.text_mask((128, 160), 0.06, seed=0)
    assert a.shape == (128, 160)
    assert np.array_equal(a, masks.text_mask((128, 160), 0.06, seed=0))
    assert not np.array_equal(a, masks.text_mask((128, 160), 0.06, seed=1))
    assert 0.06 <= 1 - a.mean() < 0.08
    rows = np.flatnonzero((~a).any(1))
    assert rows.size > 20  # fragments spread over the image, not one line


def test_mask_command_writes_each_kind(config, mirror, tmp_path):
    import argparse

    from dip.commands import mask as mask_cmd

    p = argparse.ArgumentParser()
    mask_cmd.add_arguments(p)
    gt = mirror / data.file_for(config, "montage", "gt")
    masked = mirror / data.file_for(config, "montage", "masked")
    mask_cmd.run(p.parse_args(["derived", "--gt", str(gt), "--masked", str(masked), "--out", str(tmp_path / "d.png")]))
    assert np.array_equal(_u8(gt) * (_u8(tmp_path / "d.png") == 255), _u8(masked))
    mask_cmd.run(p.parse_args(["bernoulli", "--size", "40x50", "--missing", "0.5", "--seed", "7",
                               "--out", str(tmp_path / "b.png")]))
    assert np.array_equal(masks.load_mask(tmp_path / "b.png"), masks.bernoulli_mask((40, 50), 0.5, 7))
    mask_cmd.run(p.parse_args(["text", "--like", str(gt), "--holes", "0.05", "--out", str(tmp_path / "t.png")]))
    assert _u8(tmp_path / "t.png").shape == (256, 256)
    with pytest.raises(DipError, match="exactly one"):
        mask_cmd.run(p.parse_args(["text", "--out", str(tmp_path / "x.png")]))
