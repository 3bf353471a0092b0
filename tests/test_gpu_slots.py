"""GPU slots: fits started side by side take different GPUs before sharing one."""

import threading

import pytest
import torch

from dip.engine import gpu_slots
from dip.errors import DipError


def test_fits_spread_over_the_gpus_before_sharing_one(tmp_path):
    with gpu_slots.claim(2, 2, tmp_path) as a, gpu_slots.claim(2, 2, tmp_path) as b:
        with gpu_slots.claim(2, 2, tmp_path) as c, gpu_slots.claim(2, 2, tmp_path) as d:
            assert (a, b, c, d) == (0, 1, 0, 1)
            assert sorted(p.name for p in tmp_path.iterdir()) == [
                "cuda0.slot0.lock", "cuda0.slot1.lock", "cuda1.slot0.lock", "cuda1.slot1.lock"]
    with gpu_slots.claim(2, 2, tmp_path) as again:
        assert again == 0  # released slots are free again


def test_a_fit_waits_for_a_free_slot(tmp_path):
    got = []
    with gpu_slots.claim(1, 1, tmp_path):
        waiter = threading.Thread(target=lambda: got.append(_claim_once(tmp_path)))
        waiter.start()
    waiter.join(timeout=60)
    assert got == [0]


def _claim_once(directory):
    with gpu_slots.claim(1, 1, directory, poll_s=0.01) as gpu:
        return gpu


def test_off_cuda_nothing_is_locked(tmp_path, monkeypatch):
    monkeypatch.setenv(gpu_slots.LOCK_DIR_ENV, str(tmp_path / "locks"))
    monkeypatch.setenv(gpu_slots.PER_GPU_ENV, "3")
    with gpu_slots.gpu_for_fit(torch.device("cpu")):
        pass
    assert not (tmp_path / "locks").exists()


def test_a_cuda_fit_takes_a_free_gpu(tmp_path, monkeypatch):
    chosen = []
    monkeypatch.setenv(gpu_slots.LOCK_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    with gpu_slots.claim(2, 1, tmp_path):
        with gpu_slots.gpu_for_fit(torch.device("cuda")):
            pass
    assert chosen == [1]


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_slot_count_is_refused(monkeypatch, value):
    monkeypatch.setenv(gpu_slots.PER_GPU_ENV, value)
    with pytest.raises(DipError, match=gpu_slots.PER_GPU_ENV):
        gpu_slots.fits_per_gpu()
