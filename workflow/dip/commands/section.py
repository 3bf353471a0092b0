"""A task's result section: its table beside the paper (JSON for the report, Markdown) and its
figure, from files on disk (no refitting).

    dip section --spec-json '{"experiment": "sr_set5_x4", "mode": "paper", "task": "sr",
        "set": "set5_x4", "figure": "set5_x4-baby", "fits": [{"image": "set5_x4-baby",
        "seed": 0, "fit": "results/...", "metrics": "results/....json", "inputs": "data/..."}],
        "published": {"set5_x4-baby": {"gt": "data/raw/...", "bicubic": "data/raw/..."}}}' \
      --out-json section.json --out-md section.md --out-png figure.png

Super-resolution: PSNR on Y as the official evaluation script (dip.scoring.metrics.psnr_sr), ours,
our bicubic and the published bicubic; the figure shows the LR input, bicubic, ours and the
ground truth. Denoising: one fit, its output average, and two fits averaged; the figure shows
the noisy input, ours and the ground truth. Region inpainting: our PSNR per image and network;
the figure has a row per image: the corrupted image, ours per network, the ground truth.
Flash / no-flash: no ground truth, no numbers; the figure shows both photos and ours.
"""

import json
from pathlib import Path

from ..files.atomic import write_text
from ..physics.degrade import bicubic_upscale
from ..errors import DipError
from ._pairs import json_value
from ..scoring.evaluate import load_array, to_original
from ..files.jsonio import read_json
from ..report.figures import Panel, panel_rows, save, zoomed
from ..data.images import load_image
from ..report.sections import TABLES, to_markdown


def add_arguments(p):
    p.add_argument("--spec-json", required=True, help="the experiment, its task and its fits, as JSON")
    p.add_argument("--out-json", required=True)
    p.add_argument("--out-md", required=True)
    p.add_argument("--out-png", required=True)


def _enlarge(img, factor: int):
    """An LR image at the HR size, pixel for pixel (nearest), to show what the fit was given."""
    return img.repeat(factor, axis=0).repeat(factor, axis=1)


def region_rows(spec: dict) -> list[list[Panel]]:
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
    return rows


def figure_panels(spec: dict) -> list[Panel]:
    """The figure's image: its first seed's fit, with the input and the ground truth."""
    fit = min((f for f in spec["fits"] if f["image"] == spec["figure"]), key=lambda f: f["seed"])
    inputs = Path(fit["inputs"])
    prep = read_json(inputs / "prep.json")
    observed = load_image(inputs / "observed.png")
    if spec["task"] == "flash":
        return [Panel(load_image(inputs / "input.png"), "Flash photo (the input)"),
                Panel(observed, "No-flash photo (fitted)"),
                Panel(load_array(Path(fit["fit"]) / "output.npy").reshape(observed.shape), "Ours")]
    gt = to_original(load_image(inputs / "gt.png"), prep)
    ours = to_original(load_array(Path(fit["fit"]) / "output.npy"), prep).reshape(gt.shape)
    if spec["task"] == "sr":
        factor = int(prep["sr_factor"])
        return [Panel(_enlarge(observed, factor), f"LR input (x{factor}, nearest)"),
                Panel(bicubic_upscale(observed, factor), "Bicubic", gt),
                Panel(ours, "Deep image prior (ours)", gt), Panel(gt, "Ground truth")]
    ema = to_original(load_array(Path(fit["fit"]) / "ema.npy"), prep).reshape(gt.shape)
    return [Panel(to_original(observed, prep), f"Noisy input (σ = {prep['noise_sigma']:g})", gt),
            Panel(ours, "Ours, one fit", gt), Panel(ema, "Ours, output average", gt),
            Panel(gt, "Ground truth")]


def run(args) -> int:
    spec = json_value(args.spec_json, "--spec-json")
    if spec.get("task") not in TABLES:
        raise DipError(f"a section's task must be one of {', '.join(TABLES)}, got {spec.get('task')!r}")
    if not spec.get("fits"):
        raise DipError(f"section {spec.get('experiment')}: no fits")
    section = {"experiment": spec["experiment"], "mode": spec["mode"], **TABLES[spec["task"]](spec)}
    save(panel_rows(region_rows(spec)) if spec["task"] == "inpainting" else zoomed(figure_panels(spec)),
         args.out_png)
    write_text(args.out_json, json.dumps(section, indent=2) + "\n")
    write_text(args.out_md, to_markdown(section, spec["experiment"]))
    return 0
