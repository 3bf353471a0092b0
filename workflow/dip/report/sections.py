"""The section kind's content (``report: section``): one layout per task, a table with its
sentences computed from the numbers, and a figure.

- super-resolution: PSNR on Y as the official evaluation script, ours, our bicubic and the
  published bicubic beside the paper; the LR input, bicubic, ours and the ground truth;
- denoising: one fit, its output average and two fits averaged beside the paper; the noisy
  input, ours, the average and the ground truth;
- region inpainting: our PSNR per image and network (the paper has only figures); a row per
  image: the corrupted image, ours per network, the ground truth;
- flash / no-flash: no ground truth, no numbers; both photos and ours;
- blind JPEG artefact removal: no ground truth; how far ours moved from the compressed input;
  the input, ours and the output average;
- fitting an image and noise (Figure 2, dip.report.fitting): the MSE against the iteration per
  target, and how long each target takes to fit.

A section is built from a spec (``dip section --spec-json``): the experiment, its task, its
registry set (which selects the paper's numbers in dip.report.paper) and its fits, each with its
folder, metrics and prepared inputs. Means are over images; the spread is the sample standard
deviation over seeds of that mean, so "within the spread" needs two seeds or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..data.images import load_image
from ..files.jsonio import read_json
from ..physics.degrade import bicubic_upscale
from ..scoring.evaluate import load_array, to_original, to_source_window
from ..scoring.metrics import psnr, psnr_sr
from . import paper
from .aggregate import mean as average
from .aggregate import MISSING, mean_std, number, pm, psnr_at, stats
from .figures import Panel, panel_rows, zoomed
from .fitting import fitting_figure, fitting_table
from .tables import stopping_summary


def _by_image(fits: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in sorted(fits, key=lambda f: f["seed"]):
        out.setdefault(f["image"], []).append(f)
    return out


def _seed_spread(per_seed: dict[int, list[float]]) -> float | None:
    """Std over seeds of the mean over images (seeds that scored every image)."""
    n = max((len(v) for v in per_seed.values()), default=0)
    return stats(average(v) for v in per_seed.values() if len(v) == n)["std"]


def _compare(what: str, ours: float, spread: float | None, published: float | None) -> str:
    """One computed sentence: ours against the paper, within or beyond the seed spread."""
    if published is None:
        return f"{what}: ours {ours:.2f} dB; the paper prints no number to compare with."
    diff = ours - published
    side = "above" if diff > 0 else "below"
    if spread is None:
        where = "one seed, so no spread to judge it by"
    elif abs(diff) <= 2 * spread:
        where = f"within twice the seed spread ({spread:.2f} dB)"
    else:
        where = f"beyond twice the seed spread ({spread:.2f} dB)"
    return f"{what}: ours {ours:.2f} dB against the paper's {published:.2f} dB, {abs(diff):.2f} dB {side}; {where}."


#: The stopping columns beside a scored task's own: what ES-WMV kept without the ground truth,
#: the traced peak (an oracle) and the gap, in the trace's PSNR (every channel, float).
STOP_HEADERS = ["stopped w/o ground truth (PSNR @ it.)", "peak during the fit (oracle)", "peak − stopped"]


def _stop(recs: list[dict]) -> dict:
    """ES-WMV over the fits: the PSNR it kept and the fixed count's, its mean iteration, the
    traced peak and the gap (empty where the fits have no detector)."""
    summary = stopping_summary(dict(enumerate(recs)))
    if not summary:
        return {}
    return {**summary, "es_psnr": average(r["output_es"]["psnr"] for r in recs),
            "fixed_psnr": average(r["output"]["psnr"] for r in recs), "fits": len(recs),
            "detected": sum(r["early_stop"].get("detected_iteration") is not None for r in recs)}


def _stop_cells(stop: dict) -> list[str]:
    if not stop:
        return [MISSING] * len(STOP_HEADERS)
    return [psnr_at(stop["es_psnr"], stop["es_iteration_mean"]),
            psnr_at(stop["peak_psnr_mean"], stop["peak_iteration_mean"]), number(stop["peak_gap_mean"])]


def _stop_sentence(label: str, stop: dict) -> list[str]:
    """Where the ground-truth-free stop lands against the fixed count and the oracle peak."""
    if not stop:
        return []
    if not stop["detected"]:
        return [f"{label}: ES-WMV detected no stop in {stop['fits']} fit(s) (each shorter than its window "
                "of outputs), so its output is the fixed count's."]
    es, peak = stop["es_iteration_mean"], stop["peak_iteration_mean"]
    when = "before" if es < peak else "after" if es > peak else "at"
    return [f"{label}, stopped without the ground truth (ES-WMV, PSNR on every channel; {stop['detected']} "
            f"of {stop['fits']} fits detected a stop): "
            f"{stop['es_psnr']:.2f} dB at iteration {stop['es_iteration_mean']:.0f} on average, "
            f"{stop['es_psnr'] - stop['fixed_psnr']:+.2f} dB against the fixed count's output and "
            f"{stop['peak_gap_mean']:.2f} dB below the traced peak (an oracle, at iteration "
            f"{stop['peak_iteration_mean']:.0f}: the stop comes {when} it)."]


# super-resolution ------------------------------------------------------------------------------

def _published_bicubic(files: dict, inputs: str, output: np.ndarray) -> float | None:
    """PSNR of the published (LapSRN viewer) bicubic image, cut to the window the fit saw and
    scored in our output's window, as the official script scores every method."""
    if not files.get("bicubic"):
        return None
    prep = read_json(Path(inputs) / "prep.json")
    gt = to_source_window(load_image(files["gt"]), prep)
    bicubic = to_source_window(load_image(files["bicubic"]), prep)
    return psnr_sr(bicubic, gt, extent_of=output)


def sr_table(spec: dict) -> dict:
    """Per image: ours (8-bit output, as the paper scored its PNGs) over seeds, our bicubic, the
    published bicubic and the paper's numbers; then the mean row and the sentences."""
    published = paper.SR.get(spec["set"], {})
    rows, per_seed = [], {}
    for image, fits in _by_image(spec["fits"]).items():
        recs = [read_json(f["metrics"])["sr"] for f in fits]
        ours = [r["output"]["psnr_y_uint8"] for r in recs]
        for f, value in zip(fits, ours):
            per_seed.setdefault(f["seed"], []).append(value)
        mean, sd = mean_std(ours)
        first = fits[0]
        rows.append({
            "image": image, "ours": mean, "ours_sd": sd, "seeds": len(ours),
            "ours_float": average(r["output"]["psnr_y"] for r in recs),
            "average": average(r["ema"]["psnr_y_uint8"] for r in recs),
            "bicubic": recs[0]["bicubic"]["psnr_y"],
            "bicubic_published": _published_bicubic((spec.get("published") or {}).get(image, {}),
                                                    first["inputs"], load_array(Path(first["fit"]) / "output.npy")),
            "paper": published.get("images", {}).get(image.rsplit("-", 1)[-1]),
            "stop": _stop([read_json(f["metrics"]) for f in fits]),
        })
    cols = ("ours", "ours_float", "average", "bicubic", "bicubic_published")
    mean = {"image": "mean", "seeds": min(r["seeds"] for r in rows), "ours_sd": _seed_spread(per_seed),
            **{c: average((r[c] for r in rows), complete=True) for c in cols},
            "paper": published.get("dip"), "paper_bicubic": published.get("bicubic"),
            "stop": _stop([read_json(f["metrics"]) for f in spec["fits"]])}
    label = f"{spec['set']}"
    sentences = [_compare(f"{label}, mean PSNR (Y)", mean["ours"], mean["ours_sd"], mean["paper"])]
    if mean["bicubic"] is not None:
        text = f"{label}, bicubic: ours {mean['bicubic']:.2f} dB"
        if mean["bicubic_published"] is not None:
            text += f", the published bicubic images {mean['bicubic_published']:.2f} dB"
        if mean["paper_bicubic"] is not None:
            text += f", the paper {mean['paper_bicubic']:.2f} dB"
        gain = mean["ours"] - mean["bicubic"]
        sentences.append(text + f"; ours is {abs(gain):.2f} dB {'above' if gain >= 0 else 'below'} our bicubic.")
    sentences += _stop_sentence(label, mean["stop"])
    headers = ["image", "ours (8-bit)", "ours (float)", "output average", "bicubic (ours)",
               "bicubic (published)", "paper", *STOP_HEADERS]
    keys = ("ours", "ours_float", "average", "bicubic", "bicubic_published", "paper")
    return {"set": spec["set"], "headers": headers,
            "rows": [_cells(r, keys) for r in rows] + [_cells(mean, keys, mean=True)],
            "conclusions": sentences}


# denoising -------------------------------------------------------------------------------------

def _two_run_average(fits: list[dict]) -> float | None:
    """PSNR of the mean of the first two fits' output averages (the paper's 'two runs')."""
    if len(fits) < 2:
        return None
    prep = read_json(Path(fits[0]["inputs"]) / "prep.json")
    gt = to_original(load_image(Path(fits[0]["inputs"]) / "gt.png"), prep)
    mean = np.mean([to_original(load_array(Path(f["fit"]) / "ema.npy"), prep) for f in fits[:2]], axis=0)
    return psnr(mean.reshape(gt.shape), gt)


def denoising_table(spec: dict) -> dict:
    """Per image the paper's three ways: one fit's output, its output average, and the average
    of two fits' output averages; then the mean row against the paper and the sentences."""
    published = paper.DENOISING.get(spec["set"], {})
    rows, per_seed = [], {}
    for image, fits in _by_image(spec["fits"]).items():
        recs = [read_json(f["metrics"]) for f in fits]
        single = [r["output"]["psnr"] for r in recs]
        for f, value in zip(fits, single):
            per_seed.setdefault(f["seed"], []).append(value)
        mean, sd = mean_std(single)
        rows.append({"image": image, "single": mean, "single_sd": sd, "seeds": len(fits),
                     "average": average(r["ema"]["psnr"] for r in recs),
                     "two_runs": _two_run_average(fits), "stop": _stop(recs)})
    keys = ("single", "average", "two_runs")
    mean = {"image": "mean", "seeds": min(r["seeds"] for r in rows), "single_sd": _seed_spread(per_seed),
            "stop": _stop([read_json(f["metrics"]) for f in spec["fits"]])}
    for k in keys:
        mean[k] = average((r[k] for r in rows), complete=True)
    paper_row = {"image": "paper", **{k: published.get(k) for k in keys}, "stop": {}}
    sentences = []
    for key, what in (("single", "one fit"), ("average", "with the output average"),
                      ("two_runs", "averaging two fits")):
        if mean[key] is None:
            sentences.append(f"{spec['set']}, {what}: not measured (needs two seeds).")
        else:
            sentences.append(_compare(f"{spec['set']}, {what}", mean[key], mean["single_sd"], published.get(key)))
    sentences += _stop_sentence(spec["set"], mean["stop"])
    headers = ["image", "one fit", "output average", "two fits averaged", *STOP_HEADERS]
    return {"set": spec["set"], "headers": headers,
            "rows": [_cells(r, keys) for r in rows] + [_cells(mean, keys, mean=True),
                                                       _cells(paper_row, keys, mean=True)],
            "conclusions": sentences}


# region inpainting -----------------------------------------------------------------------------

def region_table(spec: dict) -> dict:
    """Per image and variant (network), our PSNR over seeds: the paper shows these as figures
    and prints no number, so the sentences rank the variants instead."""
    rows, sentences = [], []
    for image, fits in _by_image(spec["fits"]).items():
        by_variant: dict[str, list[float]] = {}
        for f in fits:
            if f["metrics"]:
                by_variant.setdefault(f["variant"], []).append(read_json(f["metrics"])["output"]["psnr"])
        ranked = []
        for variant, values in by_variant.items():
            mean, sd = mean_std(values)
            rows.append({"image": f"{image} · {variant}", "ours": mean, "ours_sd": sd, "seeds": len(values)})
            ranked.append((mean, variant))
        if not ranked:
            continue
        ranked.sort(reverse=True)
        listing = ", ".join(f"{v} {m:.2f} dB" for m, v in ranked)
        best = f"; best: {ranked[0][1]}" if len(ranked) > 1 else ""
        sentences.append(f"{image}: {listing}{best} (the paper shows this as a figure, with no number).")
    return {"set": spec["set"], "headers": ["image · network", "ours (PSNR)"],
            "rows": [_cells(r, ("ours",)) for r in rows], "conclusions": sentences}


# flash / no-flash ------------------------------------------------------------------------------

def flash_table(spec: dict) -> dict:
    """No ground truth, so no numbers: the section is its figure and says so."""
    images = ", ".join(dict.fromkeys(f["image"] for f in spec["fits"]))
    return {"set": spec["set"], "headers": [], "rows": [],
            "conclusions": [f"{images}: no ground truth exists for a flash / no-flash pair, so "
                            "nothing is scored; the figure shows both photos and our result."]}


# blind JPEG artefact removal -------------------------------------------------------------------

def _unscored_outputs(spec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The figure's fit: the compressed input, our output and the output average."""
    fit, inputs, _ = _figure_fit(spec)
    observed = load_image(inputs / "observed.png")
    return (observed, load_array(fit / "output.npy").reshape(observed.shape),
            load_array(fit / "ema.npy").reshape(observed.shape))


def dejpeg_table(spec: dict) -> dict:
    """No ground truth, so no score: how far our output moved from the compressed input."""
    observed, ours, ema = _unscored_outputs(spec)
    return {"set": spec["set"], "headers": [], "rows": [],
            "conclusions": [f"{spec['figure']}: no clean version of the JPEG exists, so nothing is scored. "
                            f"Our output differs from the compressed input by {psnr(ours, observed):.2f} dB "
                            f"PSNR, the output average by {psnr(ema, observed):.2f} dB: the closer to the "
                            "input, the more of its artefacts are kept."]}


def dejpeg_figure(spec: dict):
    """The compressed input, ours and the output average, zoomed."""
    observed, ours, ema = _unscored_outputs(spec)
    return zoomed([Panel(observed, "JPEG input"), Panel(ours, "Ours"), Panel(ema, "Ours, output average")])


# figures ---------------------------------------------------------------------------------------

def _enlarge(img, factor: int):
    """An LR image at the HR size, pixel for pixel (nearest), to show what the fit was given."""
    return img.repeat(factor, axis=0).repeat(factor, axis=1)


def region_figure(spec: dict):
    """Region inpainting, one row per image as the paper's figures: the corrupted image, our
    output of each network (first seed), the ground truth."""
    rows = []
    for image in dict.fromkeys(f["image"] for f in spec["fits"]):
        fits = sorted((f for f in spec["fits"] if f["image"] == image), key=lambda f: f["seed"])
        inputs = Path(fits[0]["inputs"])
        prep = read_json(inputs / "prep.json")
        gt = to_original(load_image(inputs / "gt.png"), prep)
        row = [Panel(to_original(load_image(inputs / "observed.png"), prep), "Corrupted image", gt)]
        for variant in dict.fromkeys(f["variant"] for f in fits):
            fit = next(f for f in fits if f["variant"] == variant)
            ours = to_original(load_array(Path(fit["fit"]) / "output.npy"), prep).reshape(gt.shape)
            row.append(Panel(ours, f"Ours ({variant})", gt))
        rows.append(row + [Panel(gt, "Ground truth")])
    return panel_rows(rows)


def _figure_fit(spec: dict) -> tuple[Path, Path, dict]:
    """The figure's image's first seed: its fit folder, its inputs folder and its prep.json."""
    fit = min((f for f in spec["fits"] if f["image"] == spec["figure"]), key=lambda f: f["seed"])
    inputs = Path(fit["inputs"])
    return Path(fit["fit"]), inputs, read_json(inputs / "prep.json")


def _scored_outputs(fit: Path, inputs: Path, prep: dict) -> tuple[np.ndarray, np.ndarray]:
    """The ground truth and our output, on the image's original extent."""
    gt = to_original(load_image(inputs / "gt.png"), prep)
    return gt, to_original(load_array(fit / "output.npy"), prep).reshape(gt.shape)


def sr_figure(spec: dict):
    """The LR input, bicubic, ours and the ground truth, with a zoomed detail."""
    fit, inputs, prep = _figure_fit(spec)
    observed = load_image(inputs / "observed.png")
    gt, ours = _scored_outputs(fit, inputs, prep)
    factor = int(prep["sr_factor"])
    return zoomed([Panel(_enlarge(observed, factor), f"LR input (x{factor}, nearest)"),
                   Panel(bicubic_upscale(observed, factor), "Bicubic", gt),
                   Panel(ours, "Deep image prior (ours)", gt), Panel(gt, "Ground truth")])


def denoising_figure(spec: dict):
    """The noisy input, one fit, its output average and the ground truth, zoomed."""
    fit, inputs, prep = _figure_fit(spec)
    gt, ours = _scored_outputs(fit, inputs, prep)
    ema = to_original(load_array(fit / "ema.npy"), prep).reshape(gt.shape)
    observed = to_original(load_image(inputs / "observed.png"), prep)
    return zoomed([Panel(observed, f"Noisy input (σ = {prep['noise_sigma']:g})", gt),
                   Panel(ours, "Ours, one fit", gt), Panel(ema, "Ours, output average", gt),
                   Panel(gt, "Ground truth")])


def flash_figure(spec: dict):
    """Both photos and ours (no ground truth), zoomed."""
    fit, inputs, _ = _figure_fit(spec)
    observed = load_image(inputs / "observed.png")
    return zoomed([Panel(load_image(inputs / "input.png"), "Flash photo (the input)"),
                   Panel(observed, "No-flash photo (fitted)"),
                   Panel(load_array(fit / "output.npy").reshape(observed.shape), "Ours")])


# cells -----------------------------------------------------------------------------------------

def _cells(row: dict, keys: tuple[str, ...], mean: bool = False) -> dict:
    """A row as display text: the first key with ± its spread where there is one, then the
    stopping columns where the row has them."""
    cells = [row["image"]]
    for i, k in enumerate(keys):
        cells.append(pm(row.get(k), row.get(f"{k}_sd") if i == 0 else None))
    if "stop" in row:
        cells += _stop_cells(row["stop"])
    return {"mean": mean, "cells": cells}


@dataclass(frozen=True)
class Layout:
    """A task's section: its table (rows and computed sentences) and its figure."""

    table: Callable[[dict], dict]
    figure: Callable[[dict], object]


#: The section layouts a task names (dip.spec.tasks: `section`).
LAYOUTS = {
    "sr": Layout(sr_table, sr_figure),
    "denoising": Layout(denoising_table, denoising_figure),
    "regions": Layout(region_table, region_figure),
    "flash": Layout(flash_table, flash_figure),
    "dejpeg": Layout(dejpeg_table, dejpeg_figure),
    "fitting": Layout(fitting_table, fitting_figure),
}


def to_markdown(section: dict, title: str) -> str:
    """The section as Markdown: its table (when it has rows) and its sentences."""
    lines = [f"## {title}", ""]
    if section["rows"]:
        lines += ["| " + " | ".join(section["headers"]) + " |", "|" + "---|" * len(section["headers"])]
        lines += ["| " + " | ".join(r["cells"]) + " |" for r in section["rows"]] + [""]
    lines += [f"- {c}" for c in section["conclusions"]]
    return "\n".join(lines) + "\n"
