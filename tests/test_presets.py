"""The preset registry: the paper's settings, consistent with the networks they build."""

import pytest

from dip.errors import DipError
from dip.models.skip import INPUT_KINDS, build_net, count_params
from dip.spec.network import ResNetConfig, UNetConfig, size_multiple
from dip.spec.tasks import TASKS
from dip.spec.presets import PRESETS, Preset, get_preset

# supplementary material / paper-facts parameter counts; the U-Net and ResNet counts are those
# of the official models/unet.py and models/resnet.py built with the library notebook's
# arguments, and dejpeg's that of the official models/skip.py built as the denoising notebook's
# deJPEG branch builds it; figure2 is the Table-1 network
EXPECTED_PARAMS = {
    "table1": 2217573,
    "figure2": 2217573,
    "text_inpainting": 3002627,
    "region_inpainting": 2157955,
    "library_depth6": 2996467,
    "library_unet": 1616315,
    "library_resnet": 158979,
    "denoising": 2217831,
    "sr4": 2217831,
    "sr8": 2217831,
    "flash": 2184307,
    "dejpeg": 572827,
}


def test_registry_holds_exactly_the_paper_experiments():
    assert set(PRESETS) == set(EXPECTED_PARAMS)
    assert all(name == p.name and isinstance(p, Preset) for name, p in PRESETS.items())


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMS))
def test_parameter_counts_match_the_paper(name):
    assert count_params(build_net(get_preset(name).net)) == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("preset", PRESETS.values(), ids=list(PRESETS))
def test_preset_fields_are_consistent(preset):
    assert preset.task in TASKS
    assert preset.input in INPUT_KINDS
    assert preset.input_depth == preset.net.in_channels
    assert preset.ema_weight == 0.99
    assert preset.lr > 0 and preset.iterations > 0 and preset.reg_noise_std >= 0
    assert list(preset.snapshots) == sorted(set(preset.snapshots))
    assert 0 < preset.snapshots[0] and preset.snapshots[-1] <= preset.iterations
    assert (preset.sr_factor is not None) == (preset.task == "sr")
    halvings = getattr(preset.net, "scales", 0)  # the skip net's; the U-Net's size_multiple
    assert preset.crop_multiple % max(2 ** halvings, size_multiple(preset.net)) == 0  # crops halve cleanly
    assert preset.description and preset.source


def test_table1_settings():
    p = get_preset("table1")
    assert (p.task, p.input, p.input_depth, p.lr, p.iterations, p.reg_noise_std) == (
        "inpainting", "noise", 32, 0.001, 11000, 0.03)
    assert p.snapshots == (250, 1000, 2000, 5000, 11000)
    assert (p.net.out_channels, p.net.down, p.net.skip, p.net.upsample) == (1, (128,) * 5, (4,) * 5, "bilinear")


def test_experiment_specific_settings():
    assert get_preset("region_inpainting").input == "meshgrid"
    assert get_preset("text_inpainting").net.upsample == "nearest"
    lib = get_preset("library_depth6")
    assert (lib.net.k_down, lib.net.up_1x1, lib.net.skip, lib.reg_noise_std) == (5, False, (0,) * 6, 0.0)
    assert (get_preset("sr4").sr_factor, get_preset("sr8").sr_factor) == (4, 8)
    flash = get_preset("flash")
    assert flash.input == "image" and flash.lr == 0.1 and flash.iterations == 601
    assert flash.net.upsample_modes() == ("nearest", "nearest", "bilinear", "bilinear", "bilinear")
    assert get_preset("denoising").reg_noise_std == pytest.approx(1 / 30)
    for name in ("library_unet", "library_resnet"):  # the notebook's LR for both; no reg noise
        p = get_preset(name)
        assert (p.lr, p.iterations, p.reg_noise_std, p.input_depth, p.final_input) == (0.001, 3001, 0.0, 1, "clean")
    assert get_preset("library_unet").net == UNetConfig(1, 3, feature_scale=8, more_layers=1)
    assert get_preset("library_resnet").net == ResNetConfig(1, 3, blocks=8, channels=32)


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(DipError, match=r"unknown preset 'tabel1'; known: table1, .*flash"):
        get_preset("tabel1")
