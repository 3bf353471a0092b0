"""Hostile and odd input, fuzzed: any bytes as an image or a mask give a DipError (exit 2 from
`dip`), never a traceback, a hang or a half-written file; oversized images and decompression
bombs are refused from their header; a checkpoint holding a pickled object is refused."""

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from dip import cli
from dip.errors import DipError
from dip.engine.state import load_checkpoint
from dip.data.images import MAX_PIXELS, load_image

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(size=(8, 8), mode="L") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, size[::-1], dtype=np.uint8)).convert(mode).save(buf, "PNG")
    return buf.getvalue()


def loaded_or_refused(path) -> None:
    """What the loader may do with any file: a float image in [0, 1], or a DipError."""
    try:
        img = load_image(path)
    except DipError as exc:
        assert str(path) in str(exc)
        return
    assert img.dtype == np.float32 and img.ndim in (2, 3)
    assert np.isfinite(img).all() and img.min() >= 0 and img.max() <= 1


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes(tmp_path, data):
    path = tmp_path / "any.png"
    path.write_bytes(data)
    loaded_or_refused(path)


@FUZZ
@given(st.binary(max_size=512))
def test_a_png_signature_then_anything(tmp_path, data):
    path = tmp_path / "sig.png"
    path.write_bytes(PNG_SIGNATURE + data)
    loaded_or_refused(path)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
       st.sampled_from(["L", "RGB", "RGBA", "P", "I;16"]))
def test_a_valid_png_with_bytes_changed(tmp_path, edits, mode):
    data = bytearray(png_bytes((12, 10), mode))
    for position, value in edits:
        data[position % len(data)] = value
    path = tmp_path / "edited.png"
    path.write_bytes(bytes(data))
    loaded_or_refused(path)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path):
    """A 60-byte PNG that claims 100000 x 100000 pixels."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    bomb = PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b"")
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    with pytest.raises(DipError, match="claims far more pixels than .* decompression bomb"):
        load_image(path)


def test_an_image_just_over_the_pixel_limit_is_refused(tmp_path):
    side = int(MAX_PIXELS ** 0.5) + 1
    path = tmp_path / "big.png"
    Image.new("1", (side, side)).save(path)
    with pytest.raises(DipError, match="more than"):
        load_image(path)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.sampled_from(["--image", "--mask"]))
def test_dip_fit_on_any_bytes_exits_2_and_writes_nothing(tmp_path, capsys, data, which):
    good = tmp_path / "good.png"
    good.write_bytes(png_bytes((40, 40)))
    mask = tmp_path / "mask.png"
    Image.fromarray(np.full((40, 40), 255, np.uint8)).save(mask)
    bad = tmp_path / "bad.png"
    bad.write_bytes(data)
    files = {"--image": good, "--mask": mask, which: bad}
    out = tmp_path / "fits" / "x"
    capsys.readouterr()
    code = cli.main(["fit", "--preset", "table1", "--image", str(files["--image"]), "--mask",
                     str(files["--mask"]), "--iterations", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "fits").exists()


class Payload:
    """Anything that is not plain tensors and containers."""


def test_a_checkpoint_holding_a_pickled_object_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"iteration": 3, "payload": Payload()}, path)
    with pytest.raises(Exception, match="weights_only|Unsupported global"):
        load_checkpoint(path)


@pytest.mark.parametrize("mirror", ["ftp://example.org/data", "file:///etc", "s3://bucket/x"])
def test_a_mirror_is_a_directory_or_an_http_url(mirror):
    from dip.data.registry import check_mirror

    with pytest.raises(DipError, match="mirror"):
        check_mirror(mirror)


def test_a_good_mirror_passes(tmp_path):
    from dip.data.registry import check_mirror

    assert check_mirror(str(tmp_path)) == str(tmp_path)
    assert check_mirror("relative/mirror") == "relative/mirror"
    assert check_mirror("https://example.org/mirror/") == "https://example.org/mirror/"


REGISTRY_HEADER = "path\timage\tset\trole\twidth\theight\tsha256\turl\n"
GOOD_ROW = ("table1/house.png\thouse\ttable1\tgt\t256\t256\t" + "a" * 64
            + "\thttps://example.org/house.png\n")


@FUZZ
@given(st.text(max_size=400))
def test_a_registry_sheet_of_any_text(tmp_path, text):
    from dip.data.registry import read_sheet

    sheet = tmp_path / "registry.tsv"
    sheet.write_text(REGISTRY_HEADER + text)
    try:
        files = read_sheet(sheet)
    except DipError as exc:
        assert str(sheet) in str(exc)
        return
    assert all(not p.startswith("/") and ".." not in p.split("/") for p in files)


@pytest.mark.parametrize("path", ["../outside.png", "table1/../../x.png", "/etc/passwd"])
def test_registry_paths_that_leave_the_data_directory_are_refused(tmp_path, path):
    from dip.data.registry import read_sheet

    sheet = tmp_path / "registry.tsv"
    sheet.write_text(REGISTRY_HEADER + GOOD_ROW.replace("table1/house.png", path, 1))
    with pytest.raises(DipError, match="line 2: path"):
        read_sheet(sheet)
    sheet.write_text(REGISTRY_HEADER + GOOD_ROW)
    assert list(read_sheet(sheet)) == ["table1/house.png"]
