"""Forward models: inpainting mask, identity, Lanczos-2 downsampler."""

import math

import pytest
import torch
import torch.nn.functional as F

from dip.errors import DipError
from dip.physics.operators import (Identity, Inpainting, LanczosDownsampler, build_operator, lanczos_kernel,
                                   target_of)
from dip.spec.tasks import TASKS


def lanczos2(d: float) -> float:
    """sinc(d) * sinc(d / 2) written out, independently of torch.sinc."""
    if d == 0:
        return 1.0
    return 2 * math.sin(math.pi * d) * math.sin(math.pi * d / 2) / (math.pi * d) ** 2


@pytest.mark.parametrize("factor", [1, 2, 4, 8])
def test_lanczos_kernel_shape_sum_and_symmetry(factor):
    k = lanczos_kernel(factor)
    assert k.shape == (4 * factor, 4 * factor)
    assert k.sum().item() == pytest.approx(1.0, abs=1e-6)
    torch.testing.assert_close(k, k.flip(0))
    torch.testing.assert_close(k, k.flip(1))
    torch.testing.assert_close(k, k.T)
    centre = 2 * factor
    assert k.max() == k[centre - 1 : centre + 1, centre - 1 : centre + 1].min()  # peak on the four central taps


def test_lanczos_x4_kernel_values_follow_the_lanczos2_formula():
    f = 4
    taps = [lanczos2((t + 0.5 - 2 * f) / f) for t in range(4 * f)]
    expected = torch.tensor([[a * b for b in taps] for a in taps], dtype=torch.float64)
    expected /= expected.sum()
    torch.testing.assert_close(lanczos_kernel(f).double(), expected, atol=1e-7, rtol=0)
    assert lanczos_kernel(f)[0, 0] > 0 and lanczos_kernel(f)[0, 5] < 0  # negative lobes present


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_downsampler_divides_the_size_and_keeps_constants(factor):
    down = LanczosDownsampler(factor, 3)
    x = torch.full((1, 3, 16 * factor, 12 * factor), 0.37)
    y = down(x)
    assert y.shape == (1, 3, 16, 12)
    torch.testing.assert_close(y, torch.full_like(y, 0.37))


def test_downsampler_rounds_up_other_sizes():
    assert LanczosDownsampler(4, 1)(torch.rand(1, 1, 63, 50)).shape == (1, 1, 16, 13)
    assert LanczosDownsampler(2, 1)(torch.rand(1, 1, 33, 7)).shape == (1, 1, 17, 4)


@pytest.mark.parametrize("factor", [2, 4])
def test_downsampler_matches_symmetric_replication_padding_on_multiples(factor):
    # the extra end rows are never read when the side is a multiple of the factor
    x = torch.rand(1, 2, 8 * factor, 6 * factor, dtype=torch.float64)
    pad = 3 * factor // 2
    k = lanczos_kernel(factor).double()
    ref = F.conv2d(F.pad(x, (pad,) * 4, mode="replicate"), k.expand(2, 1, *k.shape), stride=factor, groups=2)
    torch.testing.assert_close(LanczosDownsampler(factor, 2).double()(x), ref)


def test_downsampler_filters_channels_separately_and_has_no_parameters():
    down = LanczosDownsampler(4, 3)
    assert list(down.parameters()) == []
    assert "kernel" in dict(down.named_buffers())
    x = torch.rand(1, 3, 32, 32)
    y = down(x)
    x2 = x.clone()
    x2[:, 1] = 0
    y2 = down(x2)
    torch.testing.assert_close(y2[:, [0, 2]], y[:, [0, 2]])
    assert torch.all(y2[:, 1] == 0)


def test_downsampler_low_passes_an_alternating_pattern():
    x = torch.ones(1, 1, 32, 32)
    x[..., ::2] = 0  # columns alternate 0/1 at the highest frequency
    y = LanczosDownsampler(4, 1)(x)[..., 2:-2]  # away from the replicated borders
    torch.testing.assert_close(y, torch.full_like(y, 0.5))


def test_inpainting_zeroes_unknown_pixels_only():
    mask = (torch.rand(1, 1, 10, 12) < 0.5).float()
    x = torch.rand(1, 3, 10, 12) + 0.1
    y = Inpainting(mask)(x)
    assert torch.all(y[mask.expand_as(x) == 0] == 0)
    torch.testing.assert_close(y[mask.expand_as(x) == 1], x[mask.expand_as(x) == 1])
    per_channel = (torch.rand(1, 3, 10, 12) < 0.5).float()
    torch.testing.assert_close(Inpainting(per_channel)(x), x * per_channel)
    assert list(Inpainting(mask).parameters()) == []


@pytest.mark.parametrize("mask", [torch.full((1, 1, 4, 4), 0.5), torch.ones(4, 4), torch.ones(2, 1, 4, 4)])
def test_inpainting_refuses_bad_masks(mask):
    with pytest.raises(DipError):
        Inpainting(mask)


def test_identity_returns_its_input():
    x = torch.rand(1, 3, 5, 5)
    assert Identity()(x) is x


def test_every_task_builds_its_operator():
    mask = torch.ones(1, 1, 4, 4)
    built = {name: build_operator(task.operator, mask=mask, factor=4, channels=3) for name, task in TASKS.items()}
    assert isinstance(built["inpainting"], Inpainting)
    assert isinstance(built["denoising"], Identity) and isinstance(built["flash"], Identity)
    assert isinstance(built["sr"], LanczosDownsampler) and built["sr"].factor == 4 and built["sr"].channels == 3


def test_the_target_is_projected_through_an_operator_that_keeps_the_size():
    observed = torch.rand(1, 3, 8, 8)
    mask = (torch.rand(1, 1, 8, 8) < 0.5).float()
    assert torch.equal(target_of(Inpainting(mask), observed), observed * mask)
    lr = torch.rand(1, 3, 2, 2)
    assert target_of(LanczosDownsampler(4, 3), lr) is lr


@pytest.mark.parametrize(
    "kind,kwargs", [("mask", {}), ("downsample", {"factor": 4}), ("downsample", {"channels": 3}), ("blur", {})]
)
def test_build_operator_refuses_missing_or_unknown(kind, kwargs):
    with pytest.raises(DipError):
        build_operator(kind, **kwargs)
