"""A full disk: one clear error naming the file, and the files written before stay intact.

On a real small filesystem (a tmpfs of a few MB, mounted by the test; needs root) where the
machine allows it, and with ENOSPC injected at the write call everywhere.
"""

import errno
import json
import os
import subprocess
import sys
import uuid

import numpy as np
import pytest
import torch
from PIL import Image

from dip.files.atomic import write_text
from dip.errors import DipError
from dip.engine.state import CHECKPOINT, load_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MB tmpfs mounted for this test (room for one Table-1 checkpoint, not two)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'}); "
                    "the injected-ENOSPC tests cover this machine")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory, leave_bytes: int) -> None:
    """Fill the filesystem of `directory` up to `leave_bytes` free."""
    stat = os.statvfs(directory)
    free = stat.f_bavail * stat.f_frsize
    with open(directory / f"filler-{uuid.uuid4().hex}", "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))


def test_a_text_file_on_a_full_disk_keeps_its_old_content(small_disk):
    dest = small_disk / "metrics.json"
    write_text(dest, json.dumps({"psnr": 31.0}))
    fill(small_disk, 1024)
    with pytest.raises(DipError, match=f"no space left on the device writing {dest}"):
        write_text(dest, "x" * 100_000)
    assert json.loads(dest.read_text()) == {"psnr": 31.0}
    assert sorted(p.name for p in small_disk.iterdir() if not p.name.startswith("filler")) == ["metrics.json"]


def test_a_fit_whose_checkpoint_no_longer_fits_keeps_the_last_one(small_disk, tmp_path):
    """One Table-1 checkpoint (about 53 MB) fits on the 64 MB disk, the second does not: the
    fit stops with one line naming checkpoint.pt, and the first checkpoint is still whole."""
    rng = np.random.default_rng(0)
    image = tmp_path / "gray.png"
    mask = tmp_path / "mask.png"
    Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(image)
    Image.fromarray(np.where(rng.random((40, 40)) < 0.5, 0, 255).astype(np.uint8)).save(mask)
    out = small_disk / "fit"
    done = subprocess.run(
        [sys.executable, "-m", "dip.cli", "fit", "--preset", "table1", "--image", image, "--mask", mask,
         "--iterations", "4", "--checkpoint-every", "2", "--device", "cpu", "--out", out],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("dip fit: error: no space left on the device writing") and CHECKPOINT in last
    assert "Traceback" not in done.stderr
    (partial,) = [p for p in small_disk.iterdir() if p.name.startswith(".fit.tmp-")]
    assert load_checkpoint(partial / CHECKPOINT)["iteration"] == 2
    assert not out.exists()


def test_injected_enospc_names_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    dest = tmp_path / "report.md"
    write_text(dest, "old")

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(type(dest), "write_text", full)
    with pytest.raises(DipError, match="no space left on the device writing .*report.md"):
        write_text(dest, "new")
    monkeypatch.undo()
    assert dest.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_injected_enospc_in_a_checkpoint_is_one_error(tmp_path, monkeypatch):
    from dip.engine import fit as fit_module
    from dip.engine.fit import FitSettings, fit
    from dip.models.skip import SkipConfig, build_net, make_input
    from dip.physics.operators import Identity

    net = build_net(SkipConfig(2, 1, down=(4,), up=(4,), skip=(1,)))
    z = make_input("noise", 2, (16, 16), torch.Generator().manual_seed(0))
    real = fit_module.write_checkpoint
    calls = []

    def second_is_full(path, state):
        calls.append(state["iteration"])
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, state)

    monkeypatch.setattr(fit_module, "write_checkpoint", second_is_full)
    with pytest.raises(DipError, match=f"writing {tmp_path / CHECKPOINT}"):
        fit(net, z, Identity(), torch.rand(1, 1, 16, 16), tmp_path,
            FitSettings(iterations=4, lr=0.01, reg_noise_std=0.0, checkpoint_every=2),
            log=lambda s: None)
    assert load_checkpoint(tmp_path / CHECKPOINT)["iteration"] == 2
