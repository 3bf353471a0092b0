"""The network's shape as plain data: overrides, per-scale lists, size and cost without torch."""

import pytest

from dip.errors import DipError
from dip.models.skip import build_net, count_params
from dip.spec.network import (ResNetConfig, UNetConfig, macs_per_pixel, min_size, param_count, size_multiple,
                         with_overrides)
from dip.spec.presets import PRESETS, get_preset

TABLE1 = get_preset("table1").net


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_parameter_count_without_torch_equals_the_built_network(name):
    net = PRESETS[name].net
    assert param_count(net) == count_params(build_net(net))


@pytest.mark.parametrize("overrides", [
    {"scales": 3}, {"scales": 6, "channels_skip": 0}, {"channels_down": [16, 32, 64, 128, 128]},
    {"kernel_down": 5, "kernel_up": 5, "kernel_skip": 3}, {"conv_1x1": False}, {"downsample": "avg"},
])
def test_overridden_networks_count_as_built(overrides):
    net = with_overrides(TABLE1, overrides)
    assert param_count(net) == count_params(build_net(net))


def test_per_scale_lists_follow_the_number_of_scales():
    assert with_overrides(TABLE1, {"scales": 3}).down == (128,) * 3
    assert with_overrides(TABLE1, {"scales": 7}).skip == (4,) * 7
    lib = get_preset("library_depth6").net
    assert with_overrides(lib, {"scales": 4}).down == (16, 32, 64, 128)
    assert with_overrides(lib, {"scales": 8}).down == (16, 32, 64, 128, 128, 128, 128, 128)
    flash = get_preset("flash").net
    assert with_overrides(flash, {"scales": 3}).upsample == ("nearest", "nearest", "bilinear")
    assert with_overrides(TABLE1, {"scales": 4, "channels_down": 64}).down == (64,) * 4
    with pytest.raises(DipError, match="channels_up has 2 entries for 5 scales"):
        with_overrides(TABLE1, {"channels_up": [8, 8]})


def test_depth_sets_the_smallest_image_and_width_the_cost():
    assert [min_size(with_overrides(TABLE1, {"scales": s})) for s in (3, 4, 5, 6)] == [9, 17, 33, 65]
    assert macs_per_pixel(with_overrides(TABLE1, {"channels_skip": 128})) > macs_per_pixel(TABLE1)


@pytest.mark.parametrize("cfg", [UNetConfig(3, 1, feature_scale=16, more_layers=0), UNetConfig(2, 3, more_layers=2),
                                 ResNetConfig(3, 3, blocks=2, channels=8)])
def test_unet_and_resnet_count_as_built(cfg):
    assert param_count(cfg) == count_params(build_net(cfg))


def test_unet_and_resnet_take_their_channels_and_refuse_skip_shapes():
    unet = get_preset("library_unet").net
    assert with_overrides(unet, {"in_channels": 32, "out_channels": 1}) == UNetConfig(32, 1, 8, 1)
    for cfg in (unet, get_preset("library_resnet").net):
        with pytest.raises(DipError, match="scales shape skip networks; this preset's network is a"):
            with_overrides(cfg, {"scales": 4})
        assert with_overrides(cfg, {"scales": None}) == cfg  # an unset option changes nothing


def test_unet_sizes_are_multiples_of_its_pooling():
    assert (size_multiple(UNetConfig(1, 3)), min_size(UNetConfig(1, 3))) == (32, 64)
    assert (size_multiple(UNetConfig(1, 3, more_layers=0)), min_size(UNetConfig(1, 3, more_layers=0))) == (16, 32)
    assert (size_multiple(ResNetConfig(1, 3)), min_size(ResNetConfig(1, 3))) == (1, 2)
    assert size_multiple(TABLE1) == 1
