"""The skip network: structure, sizes, options, initialisation, inputs."""

import itertools

import pytest
import torch
from torch import nn

from dip.errors import DipError
from dip.models.skip import SkipConfig, build_net, count_params, describe, make_input, min_size
from dip.spec.network import ResNetConfig, UNetConfig

TABLE1 = SkipConfig(32, 1, down=(128,) * 5, up=(128,) * 5, skip=(4,) * 5)
SMALL = SkipConfig(4, 3, down=(8, 16, 16), up=(8, 12, 16), skip=(2, 0, 4))


def run(net: nn.Module, h: int, w: int, channels: int) -> torch.Tensor:
    torch.manual_seed(0)
    return net(torch.rand(1, channels, h, w) * 0.1)


def test_table1_parameter_count_matches_the_paper_configuration():
    assert count_params(build_net(TABLE1)) == 2217573


@pytest.mark.parametrize("size", [(64, 64), (100, 76), (75, 33), (33, 129), (96, 160)])
def test_output_has_input_size_and_lies_in_unit_interval(size):
    net = build_net(TABLE1)
    out = run(net, *size, 32)
    assert out.shape == (1, 1, *size)
    assert torch.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1
    assert out.std() > 0


def test_no_sigmoid_leaves_output_unbounded():
    cfg = SkipConfig(4, 3, down=(8, 8), up=(8, 8), skip=(2, 2), sigmoid=False)
    out = run(build_net(cfg), 40, 40, 4)
    assert out.min() < 0 or out.max() > 1


def test_zero_skip_width_gives_a_plain_encoder_decoder():
    cfg = SkipConfig(4, 3, down=(8, 16, 16), up=(8, 12, 16), skip=(0, 0, 0))
    net = build_net(cfg)
    assert all(scale.skip is None for scale in net.scales)
    seen = {}
    for i, scale in enumerate(net.scales):
        scale.merge_bn.register_forward_hook(lambda m, inp, out, i=i: seen.__setitem__(i, inp[0].shape[1]))
    run(net, 48, 40, 4)
    # each decoder sees only the deeper map: up[i + 1] channels, or down[-1] at the bottom
    assert seen == {0: 12, 1: 16, 2: 16}
    with_skips = build_net(SkipConfig(4, 3, down=(8, 16, 16), up=(8, 12, 16), skip=(2, 2, 2)))
    assert count_params(with_skips) > count_params(net)


def test_mixed_skip_widths_concatenate_skip_then_deeper():
    net = build_net(SMALL)
    seen = {}
    for i, scale in enumerate(net.scales):
        scale.merge_bn.register_forward_hook(lambda m, inp, out, i=i: seen.__setitem__(i, inp[0].shape[1]))
    run(net, 37, 45, 4)
    assert seen == {0: 2 + 12, 1: 0 + 16, 2: 4 + 16}


def test_legacy_initialisation_draws_batchnorm_weights_in_unit_interval():
    torch.manual_seed(0)
    legacy = build_net(TABLE1, legacy=True)
    weights = torch.cat([m.weight.detach() for m in legacy.modules() if isinstance(m, nn.BatchNorm2d)])
    assert weights.min() >= 0 and weights.max() < 1
    assert weights.std() > 0.2  # U(0, 1) has std 0.29; all-ones has 0
    modern = build_net(TABLE1)
    assert all(torch.all(m.weight == 1) for m in modern.modules() if isinstance(m, nn.BatchNorm2d))


def test_legacy_bilinear_aligns_corners():
    legacy, modern = build_net(TABLE1, legacy=True), build_net(TABLE1)
    assert {s.upsample.align_corners for s in legacy.scales} == {True}
    assert {s.upsample.align_corners for s in modern.scales} == {False}
    x = torch.arange(4.0).view(1, 1, 2, 2)
    # align_corners=True keeps the corner values at the corners; False pulls them inwards
    assert legacy.scales[0].upsample(x)[0, 0, -1, -1] == 3
    assert modern.scales[0].upsample(x)[0, 0, 0, 1] == pytest.approx(0.25)


def test_per_scale_upsampling_modes():
    cfg = SkipConfig(3, 3, down=(8,) * 3, up=(8,) * 3, skip=(2,) * 3, upsample=("nearest", "bilinear", "bilinear"))
    net = build_net(cfg)
    assert [s.upsample.mode for s in net.scales] == ["nearest", "bilinear", "bilinear"]
    assert net(torch.rand(1, 3, 40, 40)).shape == (1, 3, 40, 40)


@pytest.mark.parametrize(
    "downsample,pad,upsample",
    list(itertools.product(["stride", "avg", "max", "lanczos"], ["reflection", "zero"], ["nearest", "bilinear"])),
)
def test_every_option_builds_and_keeps_the_size(downsample, pad, upsample):
    cfg = SkipConfig(4, 3, down=(8, 16, 16), up=(8, 12, 16), skip=(2, 0, 4), k_down=5, k_up=3, k_skip=3,
                     downsample=downsample, pad=pad, upsample=upsample)
    net = build_net(cfg)
    for size in [(40, 40), (45, 37), (min_size(cfg), min_size(cfg) + 3)]:
        out = run(net, *size, 4)
        assert out.shape == (1, 3, *size)
        assert torch.isfinite(out).all()
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_fixed_downsampling_filters_are_not_parameters():
    cfg = SkipConfig(4, 3, down=(8, 8), up=(8, 8), skip=(2, 2), downsample="lanczos")
    stride = SkipConfig(4, 3, down=(8, 8), up=(8, 8), skip=(2, 2))
    assert count_params(build_net(cfg)) == count_params(build_net(stride))


@pytest.mark.parametrize(
    "cfg",
    [
        TABLE1,
        SMALL,
        SkipConfig(1, 3, down=(8,) * 6, up=(8,) * 6, skip=(0,) * 6, k_down=5, up_1x1=False),
        SkipConfig(4, 3, down=(8, 8, 8), up=(8, 8, 8), skip=(2, 2, 2), k_down=5, pad="zero"),
        SkipConfig(4, 3, down=(8, 8), up=(8, 8), skip=(2, 2), k_up=7, downsample="avg"),
    ],
)
def test_min_size_is_the_smallest_side_that_runs(cfg):
    net = build_net(cfg)
    side = min_size(cfg)
    assert run(net, side, side, cfg.in_channels).shape[-2:] == (side, side)
    with pytest.raises((RuntimeError, ValueError)):
        run(net, side - 1, side - 1, cfg.in_channels)


def test_min_size_values():
    assert min_size(TABLE1) == 33
    assert min_size(SkipConfig(1, 3, down=(8,) * 6, up=(8,) * 6, skip=(0,) * 6, k_down=5)) == 129
    assert min_size(SkipConfig(1, 3, down=(8,) * 6, up=(8,) * 6, skip=(0,) * 6, k_down=5, pad="zero")) == 65


def test_forward_traces_into_one_graph():
    # fullgraph=True fails on any graph break, e.g. Python branching on tensor values
    net = build_net(SMALL)
    compiled = torch.compile(net, backend="eager", fullgraph=True)
    z = torch.rand(1, 4, 45, 37)
    torch.testing.assert_close(compiled(z), net(z))


@pytest.mark.parametrize(
    "changes",
    [
        {"up": (8, 8)},
        {"skip": (1, 1, 1, 1)},
        {"k_down": 4},
        {"k_skip": 0},
        {"upsample": "bicubic"},
        {"upsample": ("nearest", "nearest")},
        {"downsample": "conv"},
        {"pad": "circular"},
        {"down": (8, 0, 8)},
    ],
)
def test_invalid_configurations_are_refused(changes):
    fields = dict(in_channels=4, out_channels=3, down=(8, 8, 8), up=(8, 8, 8), skip=(2, 2, 2)) | changes
    with pytest.raises(DipError):
        build_net(SkipConfig(**fields))


def test_describe_rows_account_for_every_parameter():
    net = build_net(SMALL)
    rows = describe(net)
    assert sum(r["params"] for r in rows) == count_params(net)
    convs = [r for r in rows if r["type"] == "Conv2d"]
    assert len(convs) == sum(isinstance(m, nn.Conv2d) for m in net.modules())
    first = next(r for r in rows if r["name"] == "scales.0.encoder.halve.conv")
    assert (first["in"], first["out"], first["kernel"], first["stride"]) == (4, 8, 3, 2)
    assert {r["type"] for r in rows} >= {"Conv2d", "BatchNorm2d", "LeakyReLU", "Upsample(bilinear)", "Sigmoid"}


def test_noise_input_is_seeded_and_scaled():
    z1 = make_input("noise", 32, (20, 30), torch.Generator().manual_seed(7))
    z2 = make_input("noise", 32, (20, 30), torch.Generator().manual_seed(7))
    z3 = make_input("noise", 32, (20, 30), torch.Generator().manual_seed(8))
    assert z1.shape == (1, 32, 20, 30) and z1.device.type == "cpu"
    torch.testing.assert_close(z1, z2, rtol=0, atol=0)
    assert not torch.equal(z1, z3)
    assert z1.min() >= 0 and z1.max() < 0.1 and z1.max() > 0.09
    assert z1.mean() == pytest.approx(0.05, abs=0.002)


def test_meshgrid_input_spans_the_unit_square():
    z = make_input("meshgrid", 2, (5, 9), torch.Generator())
    assert z.shape == (1, 2, 5, 9)
    assert z.min() == 0 and z.max() == 1
    torch.testing.assert_close(z[0, 0, 3], torch.linspace(0, 1, 9))  # x varies along the width
    torch.testing.assert_close(z[0, 1, :, 4], torch.linspace(0, 1, 5))  # y along the height
    with pytest.raises(DipError):
        make_input("meshgrid", 3, (5, 9), torch.Generator())


def test_image_input_is_a_copy_of_the_image():
    image = torch.rand(1, 3, 12, 10)
    z = make_input("image", 3, (12, 10), torch.Generator(), image=image)
    torch.testing.assert_close(z, image)
    z.zero_()
    assert image.abs().sum() > 0
    with pytest.raises(DipError):
        make_input("image", 3, (12, 10), torch.Generator())
    with pytest.raises(DipError):
        make_input("image", 1, (12, 10), torch.Generator(), image=image)


def test_unknown_input_kind_is_refused():
    with pytest.raises(DipError, match="unknown input kind"):
        make_input("gaussian", 3, (8, 8), torch.Generator())


@pytest.mark.parametrize("cfg,size", [(UNetConfig(1, 3), (64, 96)), (UNetConfig(2, 1, more_layers=0), (48, 32)),
                                      (ResNetConfig(1, 3), (37, 20))])
def test_unet_and_resnet_keep_the_size_and_end_in_a_sigmoid(cfg, size):
    torch.manual_seed(0)
    net = build_net(cfg)
    out = net(torch.rand(1, cfg.in_channels, *size))
    assert out.shape == (1, cfg.out_channels, *size)
    assert 0 < out.min() and out.max() < 1
    assert sum(r["params"] for r in describe(net)) == count_params(net)


def test_unet_path_normalises_only_on_the_way_down_and_resnet_adds_its_input():
    net = build_net(UNetConfig(1, 3))
    norms = [name for name, m in net.named_modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    assert norms and all(n.startswith(("start", "downs")) for n in norms)
    assert len(norms) == 2 * 6  # two per scale, six scales (four pools and one more layer)
    res = build_net(ResNetConfig(1, 3, blocks=1, channels=4))
    block = res.blocks[0]
    for p in block.body.parameters():
        torch.nn.init.zeros_(p)  # the body gives 0: the block is the identity
    x = torch.rand(1, 4, 8, 8)
    assert torch.equal(block(x), x)


class _OpDtypes(torch.utils._python_dispatch.TorchDispatchMode):
    """The dtype of the (first) output of every aten op whose name starts with ``prefixes``."""

    def __init__(self, *prefixes):
        super().__init__()
        self.prefixes, self.seen = prefixes, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        first = out[0] if isinstance(out, (tuple, list)) else out  # e.g. the input's gradient
        if name.startswith(self.prefixes) and isinstance(first, torch.Tensor):
            self.seen.append((name, first.dtype))
        return out


def test_under_bf16_autocast_padding_and_upsampling_stay_in_bf16():
    """CPU autocast would run reflection padding and bilinear upsampling in fp32 (its fp32
    list): every padded convolution would then convert bf16 -> fp32 -> bf16. The net keeps
    them, and so every activation up to the head, in bf16, forward and backward."""
    cfg = SkipConfig(4, 1, down=(8, 8), up=(8, 8), skip=(2, 2), upsample="bilinear")
    net = build_net(cfg).to(memory_format=torch.channels_last)
    z = torch.rand(1, 4, 32, 32).contiguous(memory_format=torch.channels_last)
    ops = _OpDtypes("reflection_pad", "upsample", "native_batch_norm", "leaky_relu", "cat",
                    "convolution")
    with ops:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = net(z)
        out.float().sum().backward()
    names = {name for name, _ in ops.seen}
    assert {"reflection_pad2d", "reflection_pad2d_backward", "upsample_bilinear2d",
            "upsample_bilinear2d_backward", "convolution", "convolution_backward",
            "native_batch_norm", "native_batch_norm_backward", "cat"} <= names
    assert [s for s in ops.seen if s[1] != torch.bfloat16] == []
    assert out.dtype == torch.bfloat16


def test_outside_autocast_the_net_is_the_plain_fp32_function():
    """Faithful's numbers: the padded convolution and the upsampling give exactly what
    nn.Conv2d(padding_mode="reflect") and F.interpolate give."""
    from dip.models.skip import Upsample, conv

    torch.manual_seed(0)
    ours = conv(6, 5, 3, "reflection")
    plain = nn.Conv2d(6, 5, 3, padding=1, padding_mode="reflect")
    plain.load_state_dict(ours.state_dict())
    x = torch.rand(1, 6, 17, 12)
    assert torch.equal(ours(x), plain(x))
    up = torch.nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    assert torch.equal(Upsample("bilinear", False)(x), up)


def test_forward_under_bf16_autocast_traces_into_one_graph():
    net = build_net(SMALL)
    compiled = torch.compile(net, backend="eager", fullgraph=True)
    z = torch.rand(1, 4, 45, 37)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.testing.assert_close(compiled(z), net(z))


class _GradLayouts(torch.utils._python_dispatch.TorchDispatchMode):
    """Whether the incoming gradient (first argument) of each named backward op is dense NHWC."""

    def __init__(self, *names):
        super().__init__()
        self.names, self.seen = names, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in self.names:
            self.seen.append((name, args[0].is_contiguous(memory_format=torch.channels_last)))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("bf16", [False, True])
def test_in_nhwc_the_concatenation_hands_back_dense_gradients(bf16):
    """A channel slice of an NHWC gradient is strided; upsampling's backward was many times
    slower on it. Both parts of every concatenation get their gradient dense, with the values
    the plain NCHW net computes."""
    cfg = SkipConfig(4, 1, down=(8, 8), up=(8, 8), skip=(2, 2), upsample="bilinear")
    torch.manual_seed(0)
    net = build_net(cfg)
    z = torch.rand(1, 4, 32, 32)
    grads = []
    for fmt in (torch.contiguous_format, torch.channels_last):
        net.zero_grad()
        layouts = _GradLayouts("upsample_bilinear2d_backward", "leaky_relu_backward")
        with layouts, torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            net.to(memory_format=fmt)(z.contiguous(memory_format=fmt)).float().sum().backward()
        grads.append({k: p.grad.clone() for k, p in net.named_parameters()})
    assert layouts.seen and all(dense for _, dense in layouts.seen)
    scale = max(g.abs().max() for g in grads[0].values())  # a bias before BN has ~0 gradient
    for k, g in grads[0].items():
        torch.testing.assert_close(grads[1][k], g, rtol=3e-2 if bf16 else 1e-4,
                                   atol=(3e-2 if bf16 else 1e-5) * scale, msg=k)
