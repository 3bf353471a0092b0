"""Device choice: auto falls back to the CPU; absent or unknown devices are refused."""

import pytest
import torch

from dip.engine.devices import device_name, resolve_device, synchronize
from dip.errors import DipError


def test_auto_prefers_cuda_then_mps_then_cpu():
    if torch.cuda.is_available():
        expected = "cuda"
    elif torch.backends.mps.is_available():
        expected = "mps"
    else:
        expected = "cpu"
    assert resolve_device("auto").type == expected


def test_cpu_is_always_available_and_named():
    device = resolve_device("cpu")
    assert device == torch.device("cpu")
    assert device_name(device)
    synchronize(device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_absent_cuda_is_refused():
    with pytest.raises(DipError, match="CUDA is not available"):
        resolve_device("cuda")


def test_unknown_device_is_refused():
    with pytest.raises(DipError, match="unknown device"):
        resolve_device("tpu")
