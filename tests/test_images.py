"""Reading odd images and the crop/pad policy."""

import numpy as np
import pytest
from PIL import Image

from dip.errors import DipError
from dip.data.images import load_image, original_extent, plan_geometry, read_image, save_image


def test_grayscale_and_rgb_are_kept(tmp_path):
    g = np.random.default_rng(0).integers(0, 256, (20, 30), dtype=np.uint8)
    Image.fromarray(g).save(tmp_path / "g.png")
    Image.fromarray(np.stack([g] * 3, -1)).save(tmp_path / "c.png")
    arr, mode = read_image(tmp_path / "g.png")
    assert mode == "L" and arr.shape == (20, 30) and np.array_equal(np.round(arr * 255), g)
    assert load_image(tmp_path / "c.png").shape == (20, 30, 3)  # grey content stored as RGB stays RGB
    save_image(tmp_path / "back.png", arr)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "back.png")), g)


def test_16_bit_is_scaled_to_unit_range(tmp_path):
    a = np.array([[0, 65535], [32768, 1000]], np.uint16)
    Image.fromarray(a).save(tmp_path / "16.png")
    arr, mode = read_image(tmp_path / "16.png")
    assert mode.startswith("I") and arr.dtype == np.float32
    assert np.allclose(arr, a / 65535.0)


def test_rgba_is_composited_on_white_with_a_warning(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255   # opaque red top half
    rgba[2:, :, 3] = 0     # transparent bottom half
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    with pytest.warns(UserWarning, match="composited on white"):
        arr, mode = read_image(tmp_path / "a.png")
    assert mode == "RGBA" and arr.shape == (4, 4, 3)
    assert np.allclose(arr[0, 0], [200 / 255, 0, 0]) and np.allclose(arr[3, 3], 1.0)
    la = Image.fromarray(np.zeros((4, 4, 2), np.uint8), "LA")
    la.save(tmp_path / "la.png")
    with pytest.warns(UserWarning):
        assert read_image(tmp_path / "la.png")[0].shape == (4, 4)


def test_palette_images_become_grey_or_rgb(tmp_path):
    g = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    Image.fromarray(g).convert("P").save(tmp_path / "pg.png")
    arr, mode = read_image(tmp_path / "pg.png")
    assert mode == "P" and arr.shape == (4, 4) and np.array_equal(np.round(arr * 255), g)
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 1] = g
    Image.fromarray(rgb).quantize(16).save(tmp_path / "pc.png")
    assert read_image(tmp_path / "pc.png")[0].shape == (4, 4, 3)


def test_unreadable_and_missing_files(tmp_path):
    (tmp_path / "x.png").write_bytes(b"not an image")
    with pytest.raises(DipError, match="not a readable image"):
        read_image(tmp_path / "x.png")
    with pytest.raises(DipError, match="not found"):
        read_image(tmp_path / "none.png")


def test_crop_multiple_is_centred():
    geo = plan_geometry((100, 70), multiple=32)
    assert geo.size == (96, 64) and geo.crop == (2, 3, 96, 64) and geo.box == (0, 0, 96, 64)
    img = np.random.default_rng(0).random((100, 70, 3))
    assert np.array_equal(geo.apply(img), img[2:98, 3:67])


def test_quick_crop_is_centred_square():
    geo = plan_geometry((512, 512), crop=64)
    assert geo.crop == (224, 224, 64, 64) and geo.to_json()["source_box"] == [224, 224, 64, 64]


def test_table1_barbara_pad_and_back_to_the_original_extent():
    img = np.random.default_rng(0).random((512, 512)).astype(np.float32)
    geo = plan_geometry((512, 512), pad_to=(514, 514))
    out = geo.apply(img)
    assert out.shape == (514, 514) and geo.box == (1, 1, 512, 512)
    assert out[0, 5] == img[1, 4]  # reflection (edge not repeated)
    assert np.array_equal(original_extent(out, geo.box), img)
    odd = plan_geometry((10, 11), pad_to=(13, 16))
    assert odd.size == (13, 16) and odd.box == (1, 2, 10, 11)
    assert odd.to_json()["policy"] == {"kind": "pad", "value": [13, 16]}


def test_no_policy_keeps_the_image():
    geo = plan_geometry((30, 40))
    assert geo.size == (30, 40) and geo.box == (0, 0, 30, 40) and geo.policy == "none"


def test_images_too_small_or_policies_mixed():
    with pytest.raises(DipError, match="too small"):
        plan_geometry((50, 80), crop=64)
    with pytest.raises(DipError, match="smaller than the crop multiple"):
        plan_geometry((30, 80), multiple=32)
    with pytest.raises(DipError, match="larger than the pad"):
        plan_geometry((600, 600), pad_to=(514, 514))
    with pytest.raises(DipError, match="reflect-pad"):
        plan_geometry((2, 2), pad_to=(10, 10))
    with pytest.raises(DipError, match="one of"):
        plan_geometry((64, 64), crop=32, multiple=32)


def test_modcrop_of_a_geometry():
    geo = plan_geometry((100, 70), crop=50).modcrop(8)
    assert geo.crop == (25, 10, 48, 48)
    with pytest.raises(DipError):
        plan_geometry((10, 10), pad_to=(12, 12)).modcrop(2)
