"""ES-WMV: the window's variance, the detection rule, and the detector inside a fit."""

import json

import numpy as np
import pytest
import torch

from dip.engine.early_stop import Detection, EarlyStop, WindowVariance, memory_bytes, window_layout
from dip.engine.fit import FitSettings, fit
from dip.engine.signals import Stopped
from dip.models.skip import SkipConfig, build_net, make_input
from dip.physics.operators import Identity


def test_the_window_variance_is_the_mean_distance_to_the_window_mean():
    rng = np.random.default_rng(0)
    images = rng.random((12, 1, 2, 5, 4))
    window = WindowVariance(4)
    scores = [window.push(torch.from_numpy(x).float()) for x in images]
    assert scores[:3] == [None, None, None]
    for end in range(4, 13):
        last = images[end - 4:end].astype(np.float32).astype(np.float64)
        brute = np.mean([np.mean((x - last.mean(axis=0)) ** 2) for x in last])
        assert float(scores[end - 1]) == pytest.approx(brute, rel=1e-9, abs=1e-15)


def _run(scores, patience):
    """Feed a scripted score curve (one score from iteration 1 on); the iteration detection
    became final at (None if never) and the detected iteration."""
    rule = Detection(patience, torch.device("cpu"))
    for it, score in enumerate(scores, start=1):
        rule.update(torch.tensor(score, dtype=torch.float64), it, torch.full((1,), float(it)))
        if rule.final(it):
            return it, int(rule.best_iteration), float(rule.output[0])
    return None, int(rule.best_iteration), float(rule.output[0])


def test_detection_is_the_lowest_score_and_final_after_exactly_the_patience():
    #            it: 1    2    3    4    5    6    7    8    9   10   11   12
    scores = [5.0, 4.0, 3.0, 3.5, 2.0, 2.5, 2.2, 2.1, 2.0, 2.4, 2.6, 2.7]
    # the lowest score is at 5 (a later equal score is no improvement): final at 5 + 4
    assert _run(scores, patience=4) == (9, 5, 5.0)
    # with more patience than the run has left, nothing is final; 5 is still the detection
    assert _run(scores, patience=8) == (None, 5, 5.0)
    # a new low resets the wait: 3 then 5
    assert _run([3.0, 2.0, 2.5, 2.6, 1.0, 1.5, 1.6, 1.7], patience=3) == (8, 5, 5.0)


def test_a_final_detection_no_longer_changes():
    rule = Detection(3, torch.device("cpu"))
    scores = [3.0, 2.0, 2.5, 2.6, 2.7, 1.0, 0.5]  # final after 5 (2 + 3); lower scores come later
    finals = []
    for it, score in enumerate(scores, start=1):
        rule.update(torch.tensor(score, dtype=torch.float64), it, torch.full((1,), float(it)))
        finals.append(rule.final(it))
    assert finals == [False] * 4 + [True] * 3
    assert int(rule.best_iteration) == 2 and float(rule.output[0]) == 2.0


def test_detection_reads_the_device_only_where_it_could_be_final():
    rule = Detection(10, torch.device("cpu"))
    reads = []
    original = rule.final

    def counted(it):
        if it >= rule.check_at:
            reads.append(it)
        return original(it)

    for it in range(1, 41):
        rule.update(torch.tensor(100.0 - it if it <= 20 else 200.0, dtype=torch.float64), it,
                    torch.zeros(1))
        if counted(it):
            break
    assert it == 30 and reads == [10, 20, 30]  # the first chance, then the last improvement + 10


def _problem(size=16):
    """The same toy net (its weights from the global seed), input and target on each call."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    net = build_net(SkipConfig(2, 1, down=(4, 4), up=(4, 4), skip=(2, 2)))
    z = make_input("noise", 2, (size, size), gen)
    target = torch.rand((1, 1, size, size), generator=gen)
    return net, z, target


def _settings(**kw):
    base = dict(iterations=40, lr=0.01, reg_noise_std=0.03, trace_every=5, checkpoint_every=7,
                es_window=5, es_patience=12, seed=0)
    return FitSettings(**{**base, **kw})


def test_a_fit_writes_output_es_and_says_what_it_detected(tmp_path):
    net, z, target = _problem()
    res = fit(net, z, Identity(), target, tmp_path, _settings())
    meta = json.loads((tmp_path / "meta.json").read_text())
    es = meta["early_stop"]
    assert es["window"] == 5 and es["patience"] == 12 and es["stop"] == "fixed"
    assert 5 <= es["detected_iteration"] <= 40 and es["score"] >= 0
    assert np.array_equal(np.load(tmp_path / "output_es.npy"), res.output_es)
    assert (tmp_path / "output_es.png").is_file()
    rows = [r for r in res.trace if r["es_iteration"] is not None]
    assert rows and rows[-1]["es_iteration"] == es["detected_iteration"]


def test_stop_early_ends_at_detection_plus_patience(tmp_path):
    net, z, target = _problem()
    res = fit(net, z, Identity(), target, tmp_path, _settings(iterations=400, stop="early"))
    es = res.early_stop
    assert es["final"] and res.iterations == es["detected_iteration"] + es["patience"] < 400
    assert json.loads((tmp_path / "meta.json").read_text())["iterations"] == res.iterations
    assert res.trace[-1]["iteration"] == res.iterations


def test_a_short_fit_has_every_file_and_says_nothing_was_detected(tmp_path):
    net, z, target = _problem()
    res = fit(net, z, Identity(), target, tmp_path, _settings(iterations=3))
    assert res.early_stop["detected_iteration"] is None and "no detection" in res.early_stop["note"]
    assert np.array_equal(res.output_es, res.output)


#: Budgets (MiB) for the toy fit's window of 5 outputs of 16 x 16, and the layout each gives:
#: float32 whole, bf16 whole, bf16 at every second pixel down and across.
LAYOUTS = {1.0: ("float32", 1), 5 * 2 * 16 * 16 / 2**20: ("bfloat16", 1), 5 * 2 * 8 * 8 / 2**20: ("bfloat16", 2)}


@pytest.mark.parametrize("budget", LAYOUTS)
def test_a_resumed_fit_detects_exactly_as_an_uninterrupted_one(tmp_path, monkeypatch, budget):
    net, z, target = _problem()
    settings = _settings(stop="early", iterations=200, es_memory_mb=budget)
    whole = fit(net, z, Identity(), target, tmp_path / "whole", settings)

    import dip.engine.fit as fit_module

    calls = {"n": 0}
    real = fit_module.FitRun.train_step

    def interrupted(self, it):
        out = real(self, it)
        calls["n"] += 1
        if calls["n"] == 23:  # between checkpoints: the resume starts from iteration 21
            raise Stopped(15, it)
        return out

    net, z, target = _problem()
    monkeypatch.setattr(fit_module.FitRun, "train_step", interrupted)
    with pytest.raises(Stopped):
        fit(net, z, Identity(), target, tmp_path / "cut", settings)
    monkeypatch.setattr(fit_module.FitRun, "train_step", real)
    net, z, target = _problem()
    resumed = fit(net, z, Identity(), target, tmp_path / "cut", settings, resume=True)
    assert resumed.early_stop == whole.early_stop
    assert (whole.early_stop["window_storage"], whole.early_stop["window_stride"]) == LAYOUTS[budget]
    assert resumed.iterations == whole.iterations
    assert np.array_equal(resumed.output_es, whole.output_es)


def test_the_detector_memory_is_the_window_of_float32_images():
    assert memory_bytes(100, 3, 512, 512) == (100 * 4 + 12) * 3 * 512 * 512
    stop = EarlyStop(4, 10, torch.device("cpu"))
    stop.update(torch.zeros(1, 3, 8, 8), 1)
    assert stop.variance.images.nbytes == 4 * 3 * 64 * 4


def test_a_window_over_its_budget_is_held_in_bf16_then_strided():
    mib = 2**20
    # 100 colour outputs of 512 x 512 (315 MB) fit the default 512 MiB in float32; of 768 x 768
    # only in bf16; of 1024 x 1024 only in bf16 at every second pixel
    assert window_layout(100, (1, 3, 512, 512), 512 * mib) == (torch.float32, 1)
    assert window_layout(100, (1, 3, 768, 768), 512 * mib) == (torch.bfloat16, 1)
    assert window_layout(100, (1, 3, 1024, 1024), 512 * mib) == (torch.bfloat16, 2)
    assert window_layout(100, (1, 3, 1024, 1024), None) == (torch.float32, 1)
    assert memory_bytes(100, 3, 1024, 1024, 512 * mib) == 208 * 3 * 512 * 512 + 4 * 3 * 1024 * 1024
    window = WindowVariance(4, max_bytes=4 * 2 * 3 * 4 * 4)  # room for 4 x 4 of the 8 x 8 images, in bf16
    images = torch.rand(6, 1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    scores = [window.push(x) for x in images]
    assert (window.storage, window.stride, tuple(window.images.shape)) == (torch.bfloat16, 2, (4, 1, 3, 4, 4))
    last = images[2:, ..., ::2, ::2].to(torch.bfloat16).double().numpy()
    brute = np.mean([np.mean((x - last.mean(axis=0)) ** 2) for x in last])
    assert float(scores[-1]) == pytest.approx(brute, rel=1e-9)
