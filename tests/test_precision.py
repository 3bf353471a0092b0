"""Precision modes: the rules that pick a path from the hardware, the TF32 switches, and that
fp32 paths which only reorder rounding give the training step eager gives."""

import json

import pytest
import torch

from dip.engine import precision
from dip.engine.fit import FitRun, FitSettings, fit
from dip.engine.early_stop import EarlyStop
from dip.engine.state import FitState
from dip.models.skip import SkipConfig, build_net, make_input
from dip.physics.operators import Inpainting
from dip.engine.precision import Capabilities, Execution, apply_backend_flags, choose

pytestmark = pytest.mark.usefixtures("one_thread")

AVX2 = Capabilities("cpu", cpu_flags=frozenset({"sse4_2", "avx", "avx2", "fma"}))
AMX = Capabilities("cpu", cpu_flags=frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}))
VOLTA = Capabilities("cuda", cuda_capability=(7, 0))
HOPPER = Capabilities("cuda", cuda_capability=(9, 0))


def test_an_avx2_only_cpu_does_not_get_bf16_in_fast_mode():
    """Without native bf16 fast mode takes faithful's path: fp32 eager, which beat
    channels_last and torch.compile on the AVX2 CPU measured."""
    assert not AVX2.native_bf16
    assert choose("fast", AVX2) == Execution("fast", "cpu-avx2")
    assert choose("faithful", AVX2) == Execution("faithful", "cpu-avx2")


def test_a_cpu_with_amx_gets_bf16_in_fast_mode_and_channels_last_in_both():
    assert choose("fast", AMX) == Execution("fast", "cpu-bf16", bf16=True, channels_last=True)
    assert choose("faithful", AMX) == Execution("faithful", "cpu-bf16", channels_last=True)


@pytest.mark.parametrize("caps,bf16", [(VOLTA, False), (HOPPER, True),
                                       (Capabilities("cuda", (8, 0)), True),
                                       (Capabilities("mps"), False)])
def test_gpus_get_bf16_from_compute_capability_8(caps, bf16):
    assert choose("fast", caps).bf16 is bf16
    assert choose("faithful", caps).bf16 is False


@pytest.mark.parametrize("caps", [AVX2, AMX, VOLTA, HOPPER])
def test_faithful_never_allows_tf32(caps):
    assert choose("faithful", caps).tf32 is False


def test_no_rule_takes_compile():
    """torch.compile lost where measured; it stays a candidate for `dip bench --all-paths`."""
    for caps in (AVX2, AMX, VOLTA, HOPPER, Capabilities("cpu"), Capabilities("mps")):
        for mode in precision.PRECISIONS:
            assert not choose(mode, caps).compile
        assert any(p.compile for p in precision.candidate_paths(caps))


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        choose("fastest", AVX2)


def test_cpu_flags_are_read_from_cpuinfo(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx avx2 amx_bf16\n")
    assert precision.cpu_flags(info) == {"fpu", "avx", "avx2", "amx_bf16"}
    assert precision.cpu_flags(tmp_path / "absent") == frozenset()
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    caps = precision.capabilities(torch.device("cpu"))
    assert caps == Capabilities("cpu", cpu_flags=frozenset({"avx2"})) and not caps.native_bf16


def test_faithful_turns_the_tf32_switches_off():
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        flags = apply_backend_flags(choose("faithful", HOPPER))
        assert flags == {"cudnn_allow_tf32": False, "matmul_allow_tf32": False}
        assert torch.backends.cudnn.allow_tf32 is False
        assert torch.backends.cuda.matmul.allow_tf32 is False
        assert apply_backend_flags(choose("fast", HOPPER))["cudnn_allow_tf32"] is True
    finally:
        apply_backend_flags(Execution())


TINY = SkipConfig(3, 1, down=(8, 8), up=(8, 8), skip=(2, 2))


def _problem(size=32, cfg=TINY):
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    net = build_net(cfg)
    z = make_input("noise", cfg.in_channels, (size, size), gen)
    mask = (torch.rand((1, 1, size, size), generator=gen) > 0.5).float()
    op = Inpainting(mask)
    return net, z, op, op(torch.rand((1, 1, size, size), generator=gen))


def test_meta_records_the_path_and_the_switches(tmp_path):
    net, z, op, target = _problem()
    ex = choose("faithful", HOPPER)
    torch.backends.cudnn.allow_tf32 = True
    fit(net, z, op, target, tmp_path, FitSettings(iterations=4, lr=0.01, reg_noise_std=0.03,
                                                  execution=ex), log=lambda _: None)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["execution"] == ex.as_dict()
    assert meta["backend_flags"] == {"cudnn_allow_tf32": False, "matmul_allow_tf32": False}
    assert meta["peak_gpu_memory_mb"] is None  # a CPU fit


def _one_step(execution: Execution, cfg=TINY) -> dict:
    """Loss, gradients and weights after one training step (forward, backward, Adam) on
    ``execution``'s path."""
    net, z, op, target = _problem(cfg=cfg)
    s = FitSettings(iterations=1, lr=0.01, reg_noise_std=0.03, backtrack="off", execution=execution)
    memory_format = torch.channels_last if execution.channels_last else torch.contiguous_format
    net = net.to(memory_format=memory_format)
    state = FitState(net, torch.optim.Adam(net.parameters(), lr=s.lr), torch.Generator().manual_seed(1),
                     EarlyStop(s.es_window, s.es_patience, torch.device("cpu")))
    run = FitRun(net, z.to(memory_format=memory_format), op, target, s, state, progress=None)
    loss = run.train_step(1)
    params = dict(net.named_parameters())
    return {"loss": loss, "grad": {k: p.grad.contiguous() for k, p in params.items()},
            "weight": {k: p.detach().contiguous() for k, p in params.items()}}


# torch.compile is a candidate that `dip bench --all-paths` times and no rule takes; its step
# is checked once, with channels_last, on a one-scale net: Inductor's compilation grows with
# the graph (83 s for two scales, 28 s for one, on a 2-core EPYC) and every test pays it.
ONE_SCALE = SkipConfig(3, 1, down=(8,), up=(8,), skip=(2,))


@pytest.mark.parametrize("path, cfg", [(dict(channels_last=True), TINY),
                                       (dict(channels_last=True, compile=True), ONE_SCALE)])
def test_fp32_fast_paths_take_the_step_eager_takes(path, cfg):
    """channels_last and torch.compile (Inductor) in fp32 change only the order of rounding:
    loss, gradients and updated weights agree with eager's to float tolerance.

    Adam's first update is lr * g / (|g| + eps), a step of lr whatever g's size, so a
    gradient that is zero in exact arithmetic (a convolution's bias before BatchNorm) moves
    its weight by +-lr on the sign of rounding noise. The weights are compared where the
    gradient stands clear of that noise."""
    eager, other = _one_step(Execution(), cfg), _one_step(Execution(**path), cfg)
    torch.testing.assert_close(other["loss"], eager["loss"], rtol=1e-5, atol=0)
    scale = max(g.abs().max() for g in eager["grad"].values())  # the gradient's own size
    for name, g in eager["grad"].items():
        torch.testing.assert_close(other["grad"][name], g, rtol=1e-3, atol=1e-4 * scale, msg=name)
        clear = g.abs() > 1e-2 * scale
        torch.testing.assert_close(other["weight"][name][clear], eager["weight"][name][clear],
                                   rtol=1e-5, atol=1e-6, msg=name)
    clear = sum(int((g.abs() > 1e-2 * scale).sum()) for g in eager["grad"].values())
    assert clear > sum(g.numel() for g in eager["grad"].values()) / 2


def test_the_workflow_knows_the_same_modes():
    from dip.pipeline import settings

    assert settings.overrides.PRECISIONS is precision.PRECISIONS
    assert settings.flags({"precision": "fast"}) == ["--precision", "fast"]
    assert settings.resolve("table1", {}, "here")["precision"] == "faithful"


def test_the_report_names_the_path_each_fit_took():
    from dip.report.content import precision_path

    assert precision_path({"execution": Execution().as_dict()}) == "faithful: fp32 eager"
    fast = choose("fast", HOPPER).as_dict()
    assert precision_path({"execution": fast}) == "fast: bf16, channels_last, TF32"
    assert precision_path({}) == "–"


def test_fast_on_a_bf16_cpu_takes_a_step_close_to_fp32():
    """The fit's bf16 path (autocast, NHWC, padding and upsampling in bf16): the loss is fp32's
    to bf16 accuracy, the gradient points the same way (a tiny net's BatchNorm amplifies bf16
    rounding in single entries), and every gradient and weight stays fp32."""
    eager, fast = _one_step(Execution()), _one_step(choose("fast", AMX))
    torch.testing.assert_close(fast["loss"], eager["loss"], rtol=1e-2, atol=0)
    for name in eager["grad"]:
        assert fast["grad"][name].dtype == fast["weight"][name].dtype == torch.float32
    flat = [torch.cat([g.flatten() for g in run["grad"].values()]) for run in (eager, fast)]
    assert torch.nn.functional.cosine_similarity(*flat, dim=0) > 0.95
