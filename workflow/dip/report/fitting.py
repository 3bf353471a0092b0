"""Figure 2's section (task ``fitting``): how fast the network fits a natural image, the image
plus noise, its pixels permuted and white noise.

Each fit's curve is its trace's ``loss``: the MSE between the output and the target on the
[0, 1] scale (the fit adds no noise to its input, so the loss is the output's own error). The
table gives, per target, the MSE at a few iterations and how many iterations the fits needed
to reach ``MSE_LEVEL``; the sentences state the settings (the paper gives none) and whether
the paper's ordering holds: natural first, white noise last.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from matplotlib import ticker

from ..data.images import load_image
from ..files.jsonio import read_json
from ..spec.tasks import TARGETS
from .aggregate import pm, stats
from .figures import plt, read_trace, seed_band, show

#: The MSE whose first crossing the table and sentences report (PSNR 23 dB against the target).
MSE_LEVEL = 0.005
_LABELS = {"natural": "natural image", "noisy": "image + noise", "shuffled": "image, pixels permuted",
           "uniform": "U(0, 1) noise"}


def _by_target(spec: dict) -> dict[str, list[dict]]:
    """Each fit with its target (from its prep.json), its trace and its meta.json, by target in
    TARGETS order."""
    out: dict[str, list[dict]] = {}
    for f in sorted(spec["fits"], key=lambda f: f["seed"]):
        prep = read_json(Path(f["inputs"]) / "prep.json")
        out.setdefault(prep["target"], []).append(
            {**f, "prep": prep, "trace": read_trace(Path(f["fit"]) / "trace.csv"),
             "meta": read_json(Path(f["fit"]) / "meta.json")})
    return {t: out[t] for t in TARGETS if t in out}


def first_reaching(trace: dict[str, np.ndarray], level: float) -> int | None:
    """The first traced iteration whose MSE is at most ``level`` (None if none is)."""
    hits = np.flatnonzero(trace["loss"] <= level)
    return int(trace["iteration"][hits[0]]) if hits.size else None


def _columns(iterations: np.ndarray) -> list[int]:
    """The table's iterations: the first traced one, each power of ten traced, the last."""
    first, last = int(iterations[0]), int(iterations[-1])
    decades = [int(i) for i in iterations if np.log10(i).is_integer() and first < i < last]
    return [first, *decades, last]


def _mse(values: list[float]) -> str:
    """MSE over seeds, mean ± std to two significant digits (it spans decades)."""
    s = stats(values)
    return f"{s['mean']:.2g}" + ("" if s["std"] is None else f" ± {s['std']:.1g}")


def _reach_text(reached: list[int | None], last: int) -> str:
    """How many iterations a target's fits needed: mean ± spread, or how many never did."""
    hit = [r for r in reached if r is not None]
    if not hit:
        return f"> {last}"
    s = stats(hit)
    text = pm(s["mean"], s["std"], digits=0)
    return text if len(hit) == len(reached) else f"{text} ({len(hit)} of {len(reached)} fits)"


def fitting_table(spec: dict) -> dict:
    """Per target: the MSE (mean ± std over seeds) at a few iterations and the iterations to
    MSE_LEVEL; sentences with the settings and the ordering."""
    fits = _by_target(spec)
    shared = functools.reduce(np.intersect1d, [f["trace"]["iteration"] for fs in fits.values() for f in fs])
    columns = _columns(shared)
    last = int(shared[-1])
    rows, order = [], []
    for target, fs in fits.items():
        at = {int(i): [float(f["trace"]["loss"][f["trace"]["iteration"] == i][0]) for f in fs] for i in columns}
        reached = [first_reaching(f["trace"], MSE_LEVEL) for f in fs]
        cells = [_LABELS[target], str(len(fs))]
        cells += [_mse(v) for v in at.values()]
        rows.append({"mean": False, "cells": [*cells, _reach_text(reached, last)]})
        done = [r for r in reached if r is not None]
        order.append((target, float(np.mean(done)) if len(done) == len(reached) else np.inf,
                      float(np.mean(at[last]))))
    return {"set": spec["set"],
            "headers": ["target", "seeds", *(f"MSE at {i}" for i in columns), f"iterations to MSE {MSE_LEVEL:g}"],
            "rows": rows, "conclusions": [_settings(spec, fits), _ordering(order, last)]}


def _settings(spec: dict, fits: dict[str, list[dict]]) -> str:
    """The sentence with what the paper leaves open and what these fits ran."""
    some = next(iter(fits.values()))[0]
    config, prep = some["meta"]["config"], some["prep"]
    h, w = prep["size"]
    sigma = next((f["prep"]["noise_sigma"] for f in fits.get("noisy", [])), None)
    noise = f", noise σ = {sigma:g} (0..255 scale)" if sigma is not None else ""
    return (f"The paper names neither the image, the noise level nor the length; these are ours: "
            f"{spec['figure']} ({w} × {h}){noise}, {config['iterations']} iterations of Adam at LR "
            f"{config['lr']:g}, input noise σ_r = {config['reg_noise_std']:g}, preset {some['meta']['preset']}'s "
            f"network ({some['meta']['params']:,} parameters); MSE on the [0, 1] scale, traced every "
            f"{config['trace_every']} iterations; mean ± std over seeds.")


def _ordering(order: list[tuple[str, float, float]], last: int) -> str:
    """Whether the targets are fitted in the paper's order: by the mean iterations to
    MSE_LEVEL (a target some fit never brought there ranks after those that all did), then by
    the MSE at the last iteration."""
    ranked = [t for t, _, _ in sorted(order, key=lambda o: (o[1], o[2]))]
    reached = [f"{_LABELS[t]} after {n:.0f} iterations" for t, n, _ in order if np.isfinite(n)]
    missed = [_LABELS[t] for t, n, _ in order if np.isinf(n)]
    if reached:
        reach = f"Every fit reached MSE {MSE_LEVEL:g} on the {'; the '.join(reached)} (mean)"
        reach += f"; not every fit did within {last} iterations on the {', the '.join(missed)}" if missed else ""
    else:
        reach = f"No fit reached MSE {MSE_LEVEL:g} within {last} iterations"
    final = ", ".join(f"{_LABELS[t]} {mse:.2g}" for t, _, mse in order)
    verdict = ("the paper's order holds: the natural image is fitted first and white noise last"
               if ranked == [t for t in TARGETS if t in ranked] else
               f"the paper's order does not hold here: fitted in the order {', '.join(_LABELS[t] for t in ranked)}")
    return (f"{reach}. MSE at iteration {last}: {final}. Ranked by the iterations to MSE {MSE_LEVEL:g} "
            f"(then by the final MSE), {verdict}.")


def fitting_figure(spec: dict):
    """The four targets (first seed) above; the MSE against the iteration on log axes, one
    curve per target (mean over seeds, min–max band), below."""
    fits = _by_target(spec)
    fig = plt.figure(figsize=(2.3 * max(len(fits), 3), 5.6), constrained_layout=True)
    grid = fig.add_gridspec(2, len(fits), height_ratios=[1, 1.6])
    for i, (target, fs) in enumerate(fits.items()):
        ax = fig.add_subplot(grid[0, i])
        show(ax, load_image(Path(fs[0]["inputs"]) / "observed.png"))
        ax.set_title(_LABELS[target], fontsize=9)
    ax = fig.add_subplot(grid[1, :])
    for i, (target, fs) in enumerate(fits.items()):
        it, mean, lo, hi = seed_band([f["trace"] for f in fs], "loss")
        ax.fill_between(it, lo, hi, color=f"C{i}", alpha=0.2, linewidth=0)
        ax.plot(it, mean, color=f"C{i}", lw=1.4, label=f"{_LABELS[target]} ({len(fs)} seed(s))")
    ax.axhline(MSE_LEVEL, color="k", lw=0.8, ls=":", label=f"MSE {MSE_LEVEL:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("iteration", fontsize=8)
    ax.set_ylabel("MSE against the target", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return fig
