"""The fitting loop on tiny networks: loss, output average, backtracking, resume, trace."""

import copy
import csv
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from dip.scoring import metrics
from dip.engine.fit import FitSettings, InjectedFailure, data_loss, fit, update_ema
from dip.data.images import load_image, to_array
from dip.scoring.metrics import quantize
from dip.models.skip import SkipConfig, build_net, make_input
from dip.physics.operators import Identity, Inpainting, LanczosDownsampler

TINY = SkipConfig(4, 1, down=(8, 8), up=(8, 8), skip=(2, 2))


pytestmark = pytest.mark.usefixtures("one_thread")


def problem(seed: int = 0, size: int = 32):
    """A tiny inpainting problem: net, z, operator, target, ground truth and mask."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = build_net(TINY)
    z = make_input("noise", TINY.in_channels, (size, size), gen)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    x = (0.5 + 0.4 * torch.sin(6 * xx) * torch.cos(4 * yy))[None, None]
    mask = (torch.rand((1, 1, size, size), generator=gen) > 0.5).float()
    op = Inpainting(mask)
    return net, z, op, op(x), to_array(x), to_array(mask)


def settings(**kw) -> FitSettings:
    base = dict(iterations=8, lr=0.01, reg_noise_std=0.03, trace_every=4, checkpoint_every=4,
                backtrack_every=4)
    return FitSettings(**{**base, **kw})


def read_trace(path):
    with open(path) as f:
        return [{k: v for k, v in r.items() if k != "elapsed_s"} for r in csv.DictReader(f)]


def test_masked_pixels_get_no_gradient():
    _, _, op, target, _, mask = problem()
    out = torch.rand(target.shape, generator=torch.Generator().manual_seed(3), requires_grad=True)
    data_loss(op, out, target).backward()
    grad = to_array(out.grad)
    assert np.all(grad[mask == 0] == 0)
    assert np.all(grad[mask == 1] != 0)


def test_loss_is_mean_squared_error_over_known_pixels():
    _, _, op, target, gt, mask = problem()
    out = torch.full(target.shape, 0.25)
    expected = np.mean((0.25 - gt.astype(np.float64)) ** 2 * mask)
    assert float(data_loss(op, out, target)) == pytest.approx(expected, rel=1e-6)


def test_update_ema_by_hand():
    ema = update_ema(None, torch.tensor([1.0]), 0.9)
    assert ema.item() == 1.0
    ema = update_ema(ema, torch.tensor([3.0]), 0.9)
    assert ema.item() == pytest.approx(0.9 * 1 + 0.1 * 3)
    ema = update_ema(ema, torch.tensor([-2.0]), 0.9)
    assert ema.item() == pytest.approx(0.9 * 1.2 + 0.1 * -2)


def test_fit_ema_averages_every_training_output(tmp_path):
    net, z, op, target, gt, _ = problem()
    seen = []
    net.register_forward_hook(
        lambda m, i, o: seen.append(o.detach().double().clone()) if torch.is_grad_enabled() else None)
    res = fit(net, z, op, target, tmp_path, settings(iterations=5, ema_weight=0.8), log=lambda s: None)
    assert len(seen) == 5
    expected = seen[0]
    for o in seen[1:]:
        expected = 0.8 * expected + 0.2 * o
    np.testing.assert_allclose(np.load(tmp_path / "ema.npy"), to_array(expected), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(res.ema, np.load(tmp_path / "ema.npy"))
    assert not np.allclose(res.ema, res.output, atol=1e-4)  # the average is not the last output


class FailingOperator(nn.Module):
    """Wraps an operator; spoils the result on one chosen call with or without autograd."""

    def __init__(self, inner: nn.Module, train_call: int | None = None, eval_call: int | None = None):
        super().__init__()
        self.inner, self.train_call, self.eval_call = inner, train_call, eval_call
        self.calls = {True: 0, False: 0}

    def forward(self, x):
        training = torch.is_grad_enabled()
        self.calls[training] += 1
        y = self.inner(x)
        if training and self.calls[True] == self.train_call:
            return y * float("nan")
        if not training and self.calls[False] == self.eval_call:
            return torch.ones_like(y)  # observed PSNR collapses
        return y


def test_backtracking_restores_weights_after_nonfinite_loss(tmp_path):
    net, z, op, target, gt, _ = problem()
    initial = copy.deepcopy(net)
    with torch.no_grad():
        initial_out = to_array(initial(z))
    s = settings(iterations=8, snapshots=(4,), backtrack="full", reg_noise_std=0.0)
    res = fit(net, z, FailingOperator(op, train_call=2), target, tmp_path, s, gt=gt, log=lambda s: None)
    assert res.backtracks == 1
    # Iteration 2 poisoned the weights; the check at 4 went back to the initial weights.
    assert res.trace[0]["psnr_clean_gt"] == metrics.psnr(initial_out, gt)
    np.testing.assert_array_equal(load_image(tmp_path / "snapshots" / "iter_000004.png"), quantize(initial_out))
    assert np.isfinite(res.output).all() and np.isfinite(res.ema).all()
    assert res.trace[1]["psnr_gt"] > res.trace[0]["psnr_gt"]  # and training went on


def test_backtracking_on_observed_psnr_drop(tmp_path):
    net, z, op, target, gt, _ = problem()
    s = settings(iterations=8, snapshots=(4,), reg_noise_std=0.0, backtrack="full")
    # Calls without autograd: the check at 4 (good), the trace row at 4, the check at 8 (spoiled).
    res = fit(net, z, FailingOperator(op, eval_call=3), target, tmp_path, s, gt=gt, log=lambda s: None)
    assert res.backtracks == 1
    np.testing.assert_array_equal(load_image(tmp_path / "snapshots" / "iter_000004.png"),
                                  quantize(np.load(tmp_path / "output.npy")))


def test_official_backtracking_recovers_from_a_nonfinite_loss(tmp_path):
    """The notebook would keep the poisoned weights; we go back to the whole last good state
    (the initial one here: iteration 2 poisons, the check before step 5 finds it)."""
    net, z, op, target, gt, _ = problem()
    lines = []
    res = fit(net, z, FailingOperator(op, train_call=2), target, tmp_path,
              settings(iterations=8, backtrack="official"), gt=gt, log=lines.append)
    assert res.backtracks == 1
    assert any("iter 5: backtracking (non-finite loss)" in ln for ln in lines)
    assert np.isnan(res.trace[0]["psnr_observed"])  # iteration 4: still poisoned
    assert np.isfinite(res.output).all() and np.isfinite(res.ema).all()


@pytest.mark.parametrize("mode", ["official", "full"])
def test_no_backtracking_on_a_healthy_fit(tmp_path, mode):
    net, z, op, target, gt, _ = problem()
    res = fit(net, z, op, target, tmp_path, settings(backtrack=mode), gt=gt, log=lambda s: None)
    assert res.backtracks == 0


def test_resume_equals_uninterrupted(tmp_path):
    s = settings(iterations=8, checkpoint_every=4, trace_every=2, snapshots=(3, 7))
    straight, parts = tmp_path / "straight", tmp_path / "parts"
    net, z, op, target, gt, _ = problem()
    fit(net, z, op, target, straight, s, gt=gt, log=lambda s: None)

    net, z, op, target, gt, _ = problem()
    with pytest.raises(InjectedFailure, match="injected failure at iteration 4"):
        fit(net, z, op, target, parts, replace(s, fail_at_iteration=4), gt=gt,
            log=lambda s: None)
    assert not (parts / "output.npy").exists()
    torch.manual_seed(123)  # a resumed run must not depend on a fresh net's weights
    net = build_net(TINY)
    fit(net, z, op, target, parts, s, gt=gt, resume=True, log=lambda s: None)

    for name in ("output.npy", "ema.npy"):
        assert (straight / name).read_bytes() == (parts / name).read_bytes()
    assert read_trace(straight / "trace.csv") == read_trace(parts / "trace.csv")
    for snap in ("iter_000003.png", "iter_000007.png"):
        assert (straight / "snapshots" / snap).read_bytes() == (parts / "snapshots" / snap).read_bytes()


def test_trace_psnr_equals_metrics_on_saved_arrays(tmp_path):
    net, z, op, target, gt, mask = problem()
    res = fit(net, z, op, target, tmp_path, settings(iterations=6, trace_every=4), gt=gt,
              log=lambda s: None)
    rows = list(csv.DictReader(open(tmp_path / "trace.csv")))
    assert [int(r["iteration"]) for r in rows] == [4, 6]
    last = rows[-1]
    output, ema = np.load(tmp_path / "output.npy"), np.load(tmp_path / "ema.npy")
    assert float(last["psnr_gt"]) == metrics.psnr(output, gt)
    assert float(last["psnr_ema_gt"]) == metrics.psnr(ema, gt)
    assert float(last["psnr_observed"]) == metrics.psnr(output * mask, gt * mask)
    assert res.trace[-1]["psnr_gt"] == float(last["psnr_gt"])


def test_trace_without_ground_truth_leaves_columns_empty(tmp_path):
    net, z, op, target, _, _ = problem()
    fit(net, z, op, target, tmp_path, settings(iterations=4), log=lambda s: None)
    row = next(csv.DictReader(open(tmp_path / "trace.csv")))
    assert row["psnr_gt"] == "" and row["psnr_ema_gt"] == "" and float(row["psnr_observed"]) > 0


def test_super_resolution_output_has_high_resolution(tmp_path):
    torch.manual_seed(0)
    cfg = SkipConfig(4, 3, down=(8, 8), up=(8, 8), skip=(2, 2))
    z = make_input("noise", 4, (32, 32), torch.Generator().manual_seed(0))
    op = LanczosDownsampler(4, 3)
    lr_image = op(torch.rand((1, 3, 32, 32), generator=torch.Generator().manual_seed(1)))
    res = fit(build_net(cfg), z, op, lr_image, tmp_path, settings(iterations=20, trace_every=10),
              log=lambda s: None)
    assert lr_image.shape[-2:] == (8, 8) and res.output.shape == (32, 32, 3)
    assert res.trace[-1]["loss"] < res.trace[0]["loss"]


def test_progress_lines_every_k_iterations(tmp_path):
    net, z, _, _, gt, _ = problem()
    lines = []
    fit(net, z, Identity(), torch.from_numpy(gt)[None, None], tmp_path,
        settings(iterations=6, trace_every=3), gt=gt, log=lines.append)
    *progress, closing = lines
    assert [ln.split()[1] for ln in progress] == ["3/6", "6/6"]
    assert all("psnr_gt" in ln and "it/s" in ln and "eta" in ln for ln in progress)
    assert closing.startswith("early stopping: no detection: 6 iterations do not fill a window of 100")
