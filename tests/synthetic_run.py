"""TEST DATA: a small synthetic run written in the exact on-disk formats of docs/ARCHITECTURE.md.

Images are random smooth patterns, "fits" are the ground truth plus seeded noise: nothing here
comes from a real fit. Used by the evaluation, table, figure and report tests.
"""

import argparse
import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from dip.engine.fit import TRACE_COLUMNS, FitSettings
from dip.data.images import save_image
from dip.engine.precision import Execution
from dip.spec.presets import get_preset

TABLE1 = ("barbara", "boat", "house")
SEEDS = (0, 1)
SIZE = 32
PAD = 1  # barbara is reflection-padded by one pixel, like the official notebook's 514x514
QUICK_MARGIN = 4  # quick mode centre-crops every image by this many pixels per side
SNAPSHOT_ITERS = (10, 20, 40)
ITERATIONS = 40


def pattern(rng: np.random.Generator, shape) -> np.ndarray:
    """A smooth random image in [0.1, 0.9]."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] / SIZE
    f = rng.uniform(1, 4, size=4)
    base = 0.5 + 0.2 * np.sin(f[0] * 3 * xx + f[1]) * np.cos(f[2] * 3 * yy + f[3])
    if len(shape) == 3:
        base = np.stack([base * (0.8 + 0.1 * c) for c in range(shape[2])], -1)
    return np.clip(base + 0.1 * rng.random(shape), 0.1, 0.9).astype(np.float32)


def quantized(img: np.ndarray) -> np.ndarray:
    return (np.round(img * 255) / 255).astype(np.float32)


def fit_config(preset: str, seed: int) -> dict:
    """The `config` a fit records in meta.json, built from the engine's own dataclasses."""
    p = get_preset(preset)
    settings = FitSettings(iterations=ITERATIONS, lr=p.lr, reg_noise_std=p.reg_noise_std, seed=seed,
                           backtrack=p.backtrack, final_input=p.final_input)
    return json.loads(json.dumps({"preset": asdict(p), **asdict(settings), "precision": "faithful",
                                  "device": "cpu", "device_type": "cpu", "legacy": False}))


def write_fit(fit: Path, gt_prepared: np.ndarray, seed: int, noise: float, preset: str) -> None:
    rng = np.random.default_rng(1000 + seed)
    fit.mkdir(parents=True)
    out = np.clip(gt_prepared + rng.normal(0, noise, gt_prepared.shape), 0, 1).astype(np.float32)
    clean = np.clip(gt_prepared + rng.normal(0, noise * 0.9, gt_prepared.shape), 0, 1).astype(np.float32)
    ema = np.clip(gt_prepared + rng.normal(0, noise * 0.8, gt_prepared.shape), 0, 1).astype(np.float32)
    stopped = np.clip(gt_prepared + rng.normal(0, noise * 0.95, gt_prepared.shape), 0, 1).astype(np.float32)
    for name, arr in (("output", out), ("output_clean", clean), ("ema", ema), ("output_es", stopped)):
        np.save(fit / f"{name}.npy", arr)
        save_image(fit / f"{name}.png", arr)
    with (fit / "trace.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(TRACE_COLUMNS)
        for it in range(0, ITERATIONS + 1, 5):
            w.writerow([it, 0.1 / (it + 1), 10 + it * 0.5, 10 + it * 0.4 + seed, 10 + it * 0.41 + seed,
                        10 + it * 0.42 + seed, it * 0.01, *((1e-3 / it, min(it, 25)) if it >= 10 else ("", ""))])
    (fit / "snapshots").mkdir()
    for it in SNAPSHOT_ITERS:
        save_image(fit / "snapshots" / f"iter_{it:06d}.png", gt_prepared * it / ITERATIONS)
    meta = {
        "config": fit_config(preset, seed), "preset": preset, "seed": seed, "device": "cpu", "device_name": "Synthetic CPU",
        "torch_version": "2.13.0", "iterations": ITERATIONS, "wall_s": 2.0 + seed, "it_per_s": ITERATIONS / (2.0 + seed),
        "backtracks": seed, "backtrack": get_preset(preset).backtrack,
        "final_input": get_preset(preset).final_input, "execution": Execution().as_dict(),
        "params": 3002627 if preset == "text_inpainting" else 2217573, "image_size": list(gt_prepared.shape[:2]),
        "early_stop": {"window": 10, "patience": 100, "detected_iteration": 25, "score": 4e-5, "final": False,
                       "note": "", "stop": "fixed"},
    }
    (fit / "meta.json").write_text(json.dumps(meta))


def build(root: Path, mode: str = "paper") -> dict:
    """Write data/, results/, published outputs, run_config.json and architecture.json under root."""
    rng = np.random.default_rng(7)
    paths: dict = {"root": root, "images": {}}
    pub = root / "data/raw/table1/dip_project_page"
    pub.mkdir(parents=True)
    for k, image in enumerate(TABLE1 + ("kate",)):
        colour = image == "kate"
        original = quantized(pattern(rng, (SIZE, SIZE, 3) if colour else (SIZE, SIZE)))
        raw = root / "data/raw/table1" / f"{image}.png"
        save_image(raw, original)
        if mode == "quick":  # a centre crop, like the quick mode's small inputs
            c = QUICK_MARGIN
            prepared = original[c:SIZE - c, c:SIZE - c]
            side = SIZE - 2 * c
            prep = {"original_size": [SIZE, SIZE], "box": [0, 0, side, side], "source_box": [c, c, side, side],
                    "policy": {"kind": "crop", "value": side}}
        else:
            pad = PAD if image == "barbara" else 0
            prepared = np.pad(original, ((pad, pad), (pad, pad)) + (((0, 0),) if colour else ()), mode="reflect")
            prep = {"original_size": [SIZE, SIZE], "box": [pad, pad, SIZE, SIZE], "source_box": [0, 0, SIZE, SIZE],
                    "policy": {"kind": "pad" if pad else "none", "value": SIZE + 2 * pad if pad else None}}
        experiment = "figure7" if colour else "table1"
        for seed in (0,) if colour else SEEDS:
            inputs = root / "data/inputs" / experiment / image / f"seed{seed}"
            inputs.mkdir(parents=True)
            mask = (np.random.default_rng(seed).random(prepared.shape[:2]) < 0.5).astype(np.float32)
            save_image(inputs / "gt.png", prepared)
            save_image(inputs / "mask.png", mask)
            save_image(inputs / "observed.png", prepared * (mask[..., None] if colour else mask))
            (inputs / "prep.json").write_text(json.dumps(prep))
            write_fit(root / "results" / "fits" / experiment / image / f"seed{seed}", prepared, seed, 0.02 + 0.01 * k,
                      "text_inpainting" if colour else "table1")
        if not colour:
            noisy = lambda s: quantized(np.clip(original + np.random.default_rng(s).normal(0, s / 1000, original.shape), 0, 1))  # noqa: E731
            save_image(pub / f"{image}_deep_prior.png", noisy(20 + k))
            save_image(pub / f"{image}_papyan.png", noisy(40 + k))
    run_config = {
        "mode": mode,
        "experiments": {
            "table1": {"preset": "table1", "images": list(TABLE1), "seeds": list(SEEDS), "iterations": ITERATIONS},
            "figure7": {"preset": "text_inpainting", "images": ["kate"], "seeds": [0], "reuse": {"barbara": "table1"}},
        },
        "data": [{"path": f"table1/{i}.png", "role": "gt", "sha256": f"{k:064x}",
                  "url": f"https://example.org/synthetic/{i}.png"} for k, i in enumerate(TABLE1)],
        "machine": {"hostname": "synthetic", "cpu_count": 2},
    }
    (root / "results/run_config.json").write_text(json.dumps(run_config))
    arch = {"preset": "table1", "params": 2217573,
            "layers": [{"name": "enc0.conv", "type": "Conv2d", "in": 32, "out": 128, "kernel": 3, "stride": 2, "params": 36992},
                       {"name": "head", "type": "Conv2d", "in": 128, "out": 1, "kernel": 1, "stride": 1, "params": 129}],
            "net": {"scales": 5, "upsample_mode": "bilinear"},
            "preset_config": {"lr": 0.001, "iterations": 11000}}
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports/architecture.json").write_text(json.dumps(arch))
    return paths


def run_command(module, argv: list[str]) -> int:
    """Run one `dip` subcommand module with argv, as the CLI would (without the other commands)."""
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args([str(a) for a in argv]))


def build_reports(root: Path, mode: str = "paper", with_figure7: bool = True, with_study: bool = True,
                  with_sections: bool = False) -> None:
    """Run evaluate, table1, figure7, curves, snapshots and report over a synthetic run."""
    from dip.commands import curves, evaluate, figure7, report, snapshots, table1

    build(root, mode)
    metrics = []
    for fit in sorted((root / "results" / "fits").glob("*/*/seed*")):
        exp, image, seed = fit.parent.parent.name, fit.parent.name, fit.name[4:]
        inputs = root / "data/inputs" / exp / image / fit.name
        out = root / "results" / "metrics" / exp / image / f"{fit.name}.json"
        run_command(evaluate, ["--fit", fit, "--gt", inputs / "gt.png", "--prep", inputs / "prep.json",
                               "--experiment", exp, "--image", image, "--seed", seed, "--out", out])
        if exp == "table1":
            metrics.append(out)
    raw, pub, rep = root / "data/raw/table1", root / "data/raw/table1/dip_project_page", root / "reports"
    run_command(table1, ["--metrics", *metrics, "--gt", *[f"{i}={raw / i}.png" for i in TABLE1],
                         "--published-dip", *[f"{i}={pub / i}_deep_prior.png" for i in TABLE1],
                         "--published-papyan", *[f"{i}={pub / i}_papyan.png" for i in TABLE1],
                         "--mode", mode, "--out-csv", rep / "table1.csv", "--out-md", rep / "table1.md"])
    if with_figure7:
        kin, bin_ = root / "data/inputs/figure7/kate/seed0", root / "data/inputs/table1/barbara/seed0"
        run_command(figure7, [
            "--kate-observed", kin / "observed.png", "--kate-gt", kin / "gt.png", "--kate-prep", kin / "prep.json",
            "--kate-output", root / "results/fits/figure7/kate/seed0/output.npy",
            "--barbara-observed", bin_ / "observed.png", "--barbara-gt", bin_ / "gt.png", "--barbara-prep", bin_ / "prep.json",
            "--barbara-output", root / "results/fits/table1/barbara/seed0/output.npy",
            "--barbara-papyan", pub / "barbara_papyan.png", "--barbara-published-dip", pub / "barbara_deep_prior.png",
            "--out-png", rep / "figure7.png", "--out-pdf", rep / "figure7.pdf"])
    traces = [f"{i}={root}/results/fits/table1/{i}/seed{s}/trace.csv" for i in TABLE1 for s in SEEDS]
    run_command(curves, ["--trace", *traces, "--paper-table1", "--title", "table1", "--out", rep / "curves_table1.png"])
    run_command(snapshots, ["--dir", *[f"{i}={root}/results/fits/table1/{i}/seed0/snapshots" for i in TABLE1],
                            "--out", rep / "snapshots_table1.png"])
    fits, metrics_by_id = fit_ids(root)
    sections = ["--table", f"table1={rep / 'table1.csv'}", "--curves", f"table1={rep / 'curves_table1.png'}",
                "--snapshots", f"table1={rep / 'snapshots_table1.png'}"]
    if with_figure7:
        sections += ["--figure", f"figure7={rep / 'figure7.png'}"]
    if with_study:
        sections += ["--study", f"lr_study={build_study(root)}"]
    if with_sections:
        sections += build_sections(root, mode)
    run_command(report, ["--run-config", root / "results/run_config.json", "--architecture", rep / "architecture.json",
                         *sections, *[f"--fit={k}@{v}" for k, v in fits.items()],
                         *[f"--metrics={k}@{v}" for k, v in metrics_by_id.items()],
                         "--out-html", rep / "report.html", "--out-md", rep / "report.md"])


def build_sections(root: Path, mode: str = "paper") -> list[str]:
    """A synthetic super-resolution (x4, one colour image) and denoising (two seeds) run, scored
    and made into task sections by `dip section`; returns the report's --section arguments."""
    from dip.physics import degrade
    from dip.commands import evaluate, section

    rng = np.random.default_rng(11)
    out = []
    for name, task, preset, seeds in (("sr_synthetic", "sr", "sr4", (0,)),
                                      ("denoising_synthetic", "denoising", "denoising", SEEDS)):
        image = f"{name}-img"
        gt = quantized(pattern(rng, (SIZE, SIZE, 3)))
        inputs = root / "data/inputs" / name / image / "seed0"
        inputs.mkdir(parents=True)
        save_image(inputs / "gt.png", gt)
        prep = {"original_size": [SIZE, SIZE], "box": [0, 0, SIZE, SIZE], "source_box": [0, 0, SIZE, SIZE],
                "task": task, "sr_factor": 4, "noise_sigma": 25}
        observed = degrade.downscale(gt, 4) if task == "sr" else degrade.add_noise(gt, 25, degrade.noise_seed(image))
        save_image(inputs / "observed.png", observed)
        (inputs / "prep.json").write_text(json.dumps(prep))
        fits = []
        for seed in seeds:
            fit = root / "results/fits" / name / image / f"seed{seed}"
            write_fit(fit, gt, seed, 0.03, preset)
            metrics = root / "results/metrics" / name / image / f"seed{seed}.json"
            run_command(evaluate, ["--fit", fit, "--gt", inputs / "gt.png", "--prep", inputs / "prep.json",
                                   "--experiment", name, "--image", image, "--seed", seed, "--out", metrics])
            fits.append({"image": image, "seed": seed, "fit": str(fit), "metrics": str(metrics), "inputs": str(inputs)})
        spec = {"experiment": name, "mode": mode, "task": task, "set": "set5_x4" if task == "sr" else "denoising_color",
                "figure": image, "fits": fits, "published": {}}
        rep = root / "reports" / name
        run_command(section, ["--spec-json", json.dumps(spec), "--out-json", rep / "section.json",
                              "--out-md", rep / "section.md", "--out-png", rep / "section.png"])
        out += ["--section", f"{name}={rep / 'section.json'}"]
    return out


def fit_ids(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Every synthetic fit as the report takes it: experiment/variant/image/seed -> its folder,
    and -> its metrics.json."""
    fits, metrics = {}, {}
    for fit in sorted((root / "results" / "fits").glob("*/*/seed*")):
        exp, image, seed = fit.parent.parent.name, fit.parent.name, fit.name[4:]
        key = f"{exp}/base/{image}/{seed}"
        fits[key] = str(fit)
        m = root / "results" / "metrics" / exp / image / f"{fit.name}.json"
        if m.is_file():
            metrics[key] = str(m)
    return fits, metrics


def build_study(root: Path) -> Path:
    """A study over the synthetic Table-1 fits: the base, and a variant made of the same
    fits with one seed left out (its numbers differ, so the conclusion has something to say)."""
    from dip.commands import study

    def fits(seeds):
        return [{"image": i, "seed": s, "fit": str(root / f"results/fits/table1/{i}/seed{s}"),
                 "metrics": str(root / f"results/metrics/table1/{i}/seed{s}.json")} for i in TABLE1 for s in seeds]

    spec = {"experiment": "lr_study", "mode": "paper", "variants": [
        {"id": "base", "label": "base", "changes": {}, "fits": fits(SEEDS)},
        {"id": "lr=0.01", "label": "lr = 0.01", "changes": {"lr": "0.01"}, "fits": fits(SEEDS[1:])}]}
    out = root / "reports" / "study_lr"
    run_command(study, ["--spec-json", json.dumps(spec), "--out-json", out / "study.json",
                        "--out-md", out / "study.md", "--out-png", out / "study.png"])
    return out / "study.json"
