"""`dip.engine.fit` runs the authors' notebooks' procedure, step for step.

Each notebook loop is restated here in a few plain lines (Adam over the weights, a fresh
input-noise draw per iteration, the MSE on the observed pixels, the notebook's backtracking,
its final image) and fed the same initial weights, input and noise draws as `fit`. In float64
on the CPU both must end on the same image. A wrapper network makes one training output
collapse on a check iteration, so the restoration scenario goes through exactly one backtrack.
The last tests show the scenario tells each departure from the notebook apart: restoring
Adam's state too, skipping the step after a restore, checking the noise-free output after the
step, or showing net(z) as the final image all end elsewhere.
"""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.metrics import peak_signal_noise_ratio
from torch import nn

from dip.engine.fit import FitSettings, fit
from dip.engine.state import stream_seeds
from dip.data.images import to_array
from dip.models.skip import SkipConfig, build_net, make_input
from dip.physics.operators import Inpainting

pytestmark = pytest.mark.usefixtures("one_thread")

NET = SkipConfig(4, 1, down=(8, 8), up=(8, 8), skip=(2, 2))
SIZE, ITERATIONS, LR, SIGMA, SEED = 32, 300, 0.01, 0.03, 7
CHECK_EVERY = 50
COLLAPSE_AT = 101  # the 101st training forward pass is iteration 100 counted from 0: a check


class CollapseOnce(nn.Module):
    """The wrapped net, except that one chosen forward pass with autograd on (a training
    output) comes out squashed towards 0.9: its observed PSNR falls by far more than 5 dB."""

    def __init__(self, inner: nn.Module, at_call: int | None):
        super().__init__()
        self.inner, self.at_call, self.calls = inner, at_call, 0

    def forward(self, x):
        y = self.inner(x)
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls == self.at_call:
                return 0.9 + 0.05 * y
        return y


def scenario(collapse: bool = True):
    """Net (float64), z, mask, the image and the noise generator `dip fit` would use."""
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    inner = build_net(NET).double()
    z = make_input("noise", NET.in_channels, (SIZE, SIZE), gen).double()
    yy, xx = torch.meshgrid(torch.linspace(0, 1, SIZE, dtype=torch.float64),
                            torch.linspace(0, 1, SIZE, dtype=torch.float64), indexing="ij")
    img = (0.5 + 0.4 * torch.sin(7 * xx) * torch.cos(5 * yy))[None, None]
    mask = (torch.rand((1, 1, SIZE, SIZE), generator=gen) > 0.5).double()
    net = CollapseOnce(inner, COLLAPSE_AT if collapse else None)
    noise_gen = torch.Generator().manual_seed(stream_seeds(SEED).noise)
    return net, z, mask, img, noise_gen


def masked_psnr(img, out, mask) -> float:
    """The notebook's compare_psnr(img * mask, out * mask) on numpy arrays."""
    return peak_signal_noise_ratio((img * mask).numpy(), (out.detach() * mask).numpy(), data_range=1.0)


def restoration_notebook(net, z, mask, img, noise_gen, *, restore_adam=False, step_after_restore=True):
    """The Table-1 notebook's loop. Its closure draws the noise, runs the net, takes the loss
    and its gradient and, on every 50th call (the first included) while plotting, compares the
    masked PSNR with the last good one: a drop of more than 5 dB copies the saved weights
    back; otherwise the weights are saved. Then Adam steps. The image shown at the end is the
    net applied to the last noisy input, which the closure keeps in a global."""
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    saved_weights, saved_adam, last_psnr = None, None, 0.0
    for i in range(ITERATIONS):
        opt.zero_grad()
        net_input = z + SIGMA * torch.randn(z.shape, generator=noise_gen, dtype=z.dtype)
        out = net(net_input)
        F.mse_loss(out * mask, img * mask).backward()
        if i % CHECK_EVERY == 0:
            psnr = masked_psnr(img, out, mask)
            if psnr - last_psnr < -5:
                with torch.no_grad():
                    for param, saved in zip(net.parameters(), saved_weights):
                        param.copy_(saved)
                if restore_adam:
                    opt.load_state_dict(saved_adam)
                if not step_after_restore:
                    continue
            else:
                saved_weights = [p.detach().clone() for p in net.parameters()]
                saved_adam = copy.deepcopy(opt.state_dict())
                last_psnr = psnr
        opt.step()
    with torch.no_grad():
        return to_array(net(net_input))


def inpainting_notebook(net, z, mask, img, noise_gen):
    """The text-inpainting notebook's loop: no backtracking, and since its closure assigns the
    noisy input to a local, the image shown at the end is net(z)."""
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    for _ in range(ITERATIONS):
        opt.zero_grad()
        out = net(z + SIGMA * torch.randn(z.shape, generator=noise_gen, dtype=z.dtype))
        F.mse_loss(out * mask, img * mask).backward()
        opt.step()
    with torch.no_grad():
        return to_array(net(z))


def dip_fit(tmp_path, collapse=True, **settings):
    net, z, mask, img, _ = scenario(collapse)
    op = Inpainting(mask)
    base = dict(iterations=ITERATIONS, lr=LR, reg_noise_std=SIGMA, seed=SEED, trace_every=100,
                checkpoint_every=10**6, backtrack_every=CHECK_EVERY)
    return fit(net, z, op, op(img), tmp_path, FitSettings(**{**base, **settings}),
               log=lambda s: None)


def assert_same(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def assert_differs(a: np.ndarray, b: np.ndarray) -> None:
    assert np.abs(a - b).max() > 1e-3


@pytest.fixture(scope="module")
def notebook_table1():
    return restoration_notebook(*scenario())


def test_table1_procedure_equals_the_restoration_notebook(tmp_path, notebook_table1):
    res = dip_fit(tmp_path, backtrack="official", final_input="noisy")
    assert res.backtracks == 1
    assert_same(res.output, notebook_table1)
    np.testing.assert_array_equal(np.load(tmp_path / "output.npy"), res.output)


def test_text_inpainting_procedure_equals_the_inpainting_notebook(tmp_path):
    expected = inpainting_notebook(*scenario(collapse=False))
    res = dip_fit(tmp_path, collapse=False, backtrack="off", final_input="clean")
    assert_same(res.output, expected)
    assert_same(res.output_clean, expected)


def test_the_outputs_differ_as_named(tmp_path):
    res = dip_fit(tmp_path, collapse=False)
    assert_differs(res.output, res.output_clean)
    assert_differs(res.output, res.ema)
    for name in ("output", "output_clean", "ema"):
        assert (tmp_path / f"{name}.npy").is_file() and (tmp_path / f"{name}.png").is_file()


@pytest.mark.parametrize("departure", [
    dict(restore_adam=True),           # restoring Adam's state with the weights
    dict(step_after_restore=False),    # dropping the step that follows a restore
])
def test_the_scenario_tells_restore_departures_apart(notebook_table1, departure):
    assert_differs(restoration_notebook(*scenario(), **departure), notebook_table1)


@pytest.mark.parametrize("settings", [
    dict(backtrack="full"),            # our check: net(z) after the step, full restore
    dict(backtrack="off"),
    dict(final_input="clean"),         # the noise-free image in place of the paper's
])
def test_the_scenario_tells_fit_departures_apart(tmp_path, notebook_table1, settings):
    res = dip_fit(tmp_path, **{"backtrack": "official", "final_input": "noisy", **settings})
    assert_differs(res.output, notebook_table1)


def test_full_backtracking_goes_back_to_the_whole_last_good_state(tmp_path):
    """Our option: when the noise-free check at iteration 20 fails, weights and average go
    back to iteration 10's, so the clean output and the average equal a 10-iteration fit's."""
    _, _, mask, img, _ = scenario(collapse=False)
    op = Inpainting(mask)

    class SpoilSecondCheck(nn.Module):
        """The operator, except that the second noise-free check sees a flat image."""

        def __init__(self):
            super().__init__()
            self.checks = 0

        def forward(self, x):
            if not torch.is_grad_enabled():
                self.checks += 1
                if self.checks == 2:
                    return op(torch.full_like(x, 0.5))
            return op(x)

    def run(out, operator, iterations):
        s = FitSettings(iterations=iterations, lr=LR, reg_noise_std=SIGMA, seed=SEED,
                        trace_every=10**6, checkpoint_every=10**6, backtrack="full",
                        backtrack_every=10)
        net, z, _, _, _ = scenario(collapse=False)
        return fit(net, z, operator, op(img), out, s, log=lambda s: None)

    spoiled = run(tmp_path / "a", SpoilSecondCheck(), 20)
    short = run(tmp_path / "b", op, 10)
    assert spoiled.backtracks == 1 and short.backtracks == 0
    np.testing.assert_array_equal(spoiled.output_clean, short.output_clean)
    np.testing.assert_array_equal(spoiled.ema, short.ema)
