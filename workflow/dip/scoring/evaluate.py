"""Metrics of one finished fit against its ground truth, on the image's original extent.

The data layer may pad or crop an image before fitting (prep.json records the box of the
original inside the prepared image); the paper's numbers are on the original image, so both
the output and the ground truth are cropped back to that box before PSNR/SSIM.
"""

import csv
from pathlib import Path

import numpy as np

from ..data.images import load_image
from ..errors import DipError
from ..files.jsonio import read_json
from ..physics.degrade import bicubic_upscale
from ..spec.outputs import OUTPUTS
from ..spec.tasks import get_task
from .metrics import psnr_sr, quality, quantize

#: Fields of meta.json carried into metrics.json (run cost and identity of the fit).
META_FIELDS = ("iterations", "wall_s", "it_per_s", "device_name", "params", "backtracks",
               "backtrack", "final_input", "early_stop")


def load_array(path: str | Path) -> np.ndarray:
    """Load a float image saved with numpy (.npy)."""
    path = Path(path)
    try:
        arr = np.load(path)
    except FileNotFoundError:
        raise DipError(f"file not found: {path}") from None
    except ValueError as exc:
        raise DipError(f"not a numpy array file: {path} ({exc})") from None
    if arr.ndim not in (2, 3):
        raise DipError(f"{path}: expected an (H, W) or (H, W, C) image, got shape {arr.shape}")
    return arr.astype(np.float32)


def original_box(prep: dict | None, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the original image inside a prepared one of this shape."""
    if prep is None or prep.get("box") is None:
        return 0, 0, shape[0], shape[1]
    try:
        top, left, h, w = (int(v) for v in prep["box"])
    except (TypeError, ValueError):
        raise DipError(f"prep.json box must be [top, left, H, W], got {prep['box']!r}") from None
    if top < 0 or left < 0 or h <= 0 or w <= 0 or top + h > shape[0] or left + w > shape[1]:
        raise DipError(f"prep.json box {[top, left, h, w]} does not fit an image of size {list(shape[:2])}")
    return top, left, h, w


def crop(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    top, left, h, w = box
    return img[top : top + h, left : left + w]


def to_original(img: np.ndarray, prep: dict | None) -> np.ndarray:
    """Crop a prepared-size image back to the original extent recorded in prep.json."""
    return crop(img, original_box(prep, img.shape))


def to_source_window(img: np.ndarray, prep: dict | None) -> np.ndarray:
    """Cut a source-size image (a published output) to the window the fit saw (prep.json
    `source_box`, e.g. the centre crop of a quick run); other images are returned as they are."""
    if not prep or prep.get("source_box") is None or list(img.shape[:2]) != list(prep.get("original_size", [])):
        return img
    top, left, h, w = (int(v) for v in prep["source_box"])
    return img[top : top + h, left : left + w]


def _matching(img: np.ndarray, ref: np.ndarray, what: str) -> np.ndarray:
    """Make a (H, W, 1) output comparable with a grayscale reference and check the shapes."""
    if img.ndim == 3 and img.shape[2] == 1 and ref.ndim == 2:
        img = img[..., 0]
    if img.shape != ref.shape:
        raise DipError(f"{what} has shape {img.shape}, ground truth has {ref.shape}")
    return img


def evaluate_fit(fit_dir: str | Path, gt_path: str | Path, prep_path: str | Path | None,
                 experiment: str, image: str, seed: int) -> dict:
    """The metrics.json record of one fit (format in docs/ARCHITECTURE.md)."""
    fit_dir = Path(fit_dir)
    prep = read_json(prep_path) if prep_path else None
    gt_full = load_image(gt_path)
    box = original_box(prep, gt_full.shape)
    gt = crop(gt_full, box)
    record: dict = {"experiment": experiment, "image": image, "seed": int(seed)}
    prepared: dict = {}
    for name in OUTPUTS:
        out = _matching(load_array(fit_dir / f"{name}.npy"), gt_full, f"{fit_dir / name}.npy")
        record[name] = quality(crop(out, box), gt)
        if box[2:] != gt_full.shape[:2]:
            prepared[name] = quality(out, gt_full)
    record["extent"] = "original"
    record["box"] = list(box)
    if prepared:
        # The official Table-1 notebook scores Barbara on its padded 514x514 image; keep that too.
        record["prepared_extent"] = prepared
    if prep is not None and prep.get("task") and get_task(prep["task"]).scoring == "sr":
        record["sr"] = sr_scores(fit_dir, Path(gt_path), int(prep["sr_factor"]))
    meta = read_json(fit_dir / "meta.json")
    for key in META_FIELDS:
        record[key] = meta.get(key)
    record["peak"] = traced_peak(fit_dir / "trace.csv")
    return record


def traced_peak(trace: Path) -> dict | None:
    """The highest PSNR of the paper's output among the trace's rows, and its iteration: an
    oracle (it needs the ground truth), None where the trace has no such column."""
    with open(trace, newline="") as f:
        rows = [(float(r["psnr_gt"]), int(r["iteration"])) for r in csv.DictReader(f) if r.get("psnr_gt")]
    if not rows:
        return None
    psnr, iteration = max(rows, key=lambda r: (r[0], -r[1]))
    return {"psnr": psnr, "iteration": iteration}


def sr_scores(fit_dir: Path, gt_path: Path, factor: int) -> dict:
    """The paper's SR PSNR (dip.scoring.metrics.psnr_sr) of each output, float and 8-bit (the paper
    scored saved PNGs), and of our bicubic baseline (the LR image beside the ground truth,
    enlarged), in the window of the paper's output."""
    gt = load_image(gt_path)
    output = load_array(fit_dir / "output.npy")
    scores = {}
    for name in OUTPUTS:
        out = _matching(load_array(fit_dir / f"{name}.npy"), gt, f"{fit_dir / name}.npy")
        scores[name] = {"psnr_y": psnr_sr(out, gt), "psnr_y_uint8": psnr_sr(quantize(out), gt)}
    bicubic = bicubic_upscale(load_image(gt_path.with_name("observed.png")), factor)
    scores["bicubic"] = {"psnr_y": psnr_sr(_matching(bicubic, gt, "bicubic"), gt, extent_of=output)}
    return {"factor": factor, "protocol": "official eval script: Y BT.601 [16, 235], 4-pixel border "
            "inside the result's non-zero extent", **scores}
