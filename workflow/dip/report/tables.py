"""Table 1 (inpainting, 50 % missing pixels): our PSNR over seeds beside the published numbers.

"Ours" is the image the paper's procedure ends with (a fit's `output`). Our improvements come
after it as columns of their own, each with its gain over "ours" (mean of the per-seed
differences): the noise-free output (`output_clean`) and the output average (`ema`) of the
same fits, and, where the run made them, fits with full-state backtracking.
Rows follow the paper's image order. Besides the numbers printed in the paper, the table
scores the outputs the authors published (their DIP result and Papyan et al.'s) against the
ground truth ourselves, which shows how far 8-bit rounding moves the paper's values.
"""

import csv
import io
from pathlib import Path

from ..data.images import load_image
from ..errors import DipError
from ..scoring.metrics import psnr
from ..spec.outputs import OUTPUTS
from . import paper
from .aggregate import k_of_n, number, pm, psnr_at, stats
from .aggregate import mean as average

#: CSV columns, in order. `image` is "mean" on the last row.
COLUMNS = (
    "image", "label", "n_seeds", "n_expected", "ours_psnr_mean", "ours_psnr_std", "ours_psnr_min",
    "ours_psnr_max",
    "clean_psnr_mean", "clean_psnr_std", "clean_gain_mean", "clean_gain_std",
    "ema_psnr_mean", "ema_psnr_std", "ema_gain_mean", "ema_gain_std",
    "fullbt_psnr_mean", "fullbt_psnr_std", "fullbt_gain_mean", "fullbt_gain_std",
    "fullbt_n_seeds", "fullbt_n_expected",
    "es_psnr_mean", "es_psnr_std", "es_gain_mean", "es_gain_std", "es_iteration_mean",
    "peak_psnr_mean", "peak_iteration_mean", "peak_gap_mean",
    "backtracks", "ours_psnr_uint8_mean", "ours_ssim_mean",
    "paper_dip", "published_dip_psnr", "paper_papyan", "published_papyan_psnr", "diff_vs_paper",
)

#: Improvement columns: prefix -> (where its PSNR comes from, its display name).
IMPROVEMENTS = {
    "clean": ("output_clean", OUTPUTS["output_clean"][0]),
    "ema": ("ema", OUTPUTS["ema"][0]),
    "fullbt": ("output", "Full-state backtracking"),
    "es": ("output_es", OUTPUTS["output_es"][0]),
}

#: Numeric columns averaged on the mean row.
_AVERAGED = COLUMNS[4:]


def published_psnr(output_png: str | Path, gt_png: str | Path) -> float:
    """PSNR of a published 8-bit output against the ground truth (same protocol as ours)."""
    out, gt = load_image(output_png), load_image(gt_png)
    if out.shape != gt.shape:
        raise DipError(f"{output_png} has shape {out.shape}, ground truth {gt_png} has {gt.shape}")
    return psnr(out, gt)


def _by_image(metrics: list[dict]) -> dict[str, dict[int, dict]]:
    """image -> seed -> metrics record; a seed twice for one image is an error."""
    by_image: dict[str, dict[int, dict]] = {}
    for rec in metrics:
        try:
            seeds = by_image.setdefault(rec["image"], {})
            seed = rec.get("seed")
        except (KeyError, TypeError):
            raise DipError("a metrics record has no 'image' field") from None
        if seed in seeds:
            raise DipError(f"image {rec['image']!r}: seed {seed} appears twice in the metrics")
        seeds[seed] = rec
    return by_image


def _psnr(rec: dict, output: str) -> float:
    try:
        return rec[output]["psnr"]
    except (KeyError, TypeError):
        raise DipError(f"image {rec.get('image')!r}, seed {rec.get('seed')}: the metrics record "
                       f"has no {output} psnr (scored by an older dip evaluate?)") from None


def _improvement(prefix: str, ours: dict[int, dict], theirs: dict[int, dict]) -> dict:
    """An improvement's PSNR over seeds and its paired gain over ours (seeds both have)."""
    output = IMPROVEMENTS[prefix][0]
    if not theirs:
        return {}
    values = stats([_psnr(r, output) for r in theirs.values()])
    paired = sorted(set(ours) & set(theirs))
    gains = stats([_psnr(theirs[s], output) - _psnr(ours[s], "output") for s in paired]) if paired else {}
    return {f"{prefix}_psnr_mean": values["mean"], f"{prefix}_psnr_std": values["std"],
            f"{prefix}_gain_mean": gains.get("mean"), f"{prefix}_gain_std": gains.get("std")}


def stopping_summary(recs: dict[int, dict]) -> dict:
    """Over seeds: the iteration ES-WMV kept (the last one where it detected none), the traced
    peak of the paper's output (an oracle: it needs the ground truth) with its iteration, and
    the gap between the peak and what was kept."""
    kept = [r for r in recs.values() if r.get("early_stop")]
    peaks = [r for r in kept if r.get("peak")]
    if not kept:
        return {}
    return {"es_iteration_mean": stats([_kept_iteration(r) for r in kept])["mean"],
            "peak_psnr_mean": stats([r["peak"]["psnr"] for r in peaks])["mean"],
            "peak_iteration_mean": stats([r["peak"]["iteration"] for r in peaks])["mean"],
            "peak_gap_mean": stats([r["peak"]["psnr"] - _psnr(r, "output_es") for r in peaks])["mean"]}


def _kept_iteration(rec: dict) -> int:
    detected = rec["early_stop"].get("detected_iteration")
    return rec["iterations"] if detected is None else detected


def table1_rows(metrics: list[dict], published_dip: dict[str, float] | None = None,
                published_papyan: dict[str, float] | None = None,
                full_backtracking: list[dict] | None = None,
                expected: dict[str, int] | None = None,
                expected_full_backtracking: dict[str, int] | None = None) -> list[dict]:
    """One row per image (paper order, then any other image), and a final mean row.

    `metrics` are metrics.json records (several seeds per image) of the paper-procedure fits,
    `full_backtracking` those of the same fits run with full-state backtracking (if any).
    `published_*` map an image to the PSNR of the authors' published output. An image appears if it has metrics or a
    published score. The mean row averages each column over the images that have our numbers
    (all images while none has), so our mean and the paper's mean cover the same images. Its
    n_seeds holds the number of images averaged.

    `expected` (a partial report: image -> seeds planned) fills `n_expected`, so rows whose fits
    did not all finish show as such; every expected image gets a row. On the mean row,
    n_expected is the number of images planned. `expected_full_backtracking` does the same for
    the full-backtracking fits (`fullbt_n_expected`).
    """
    published_dip = published_dip or {}
    published_papyan = published_papyan or {}
    by_image = _by_image(metrics)
    fullbt = _by_image(full_backtracking or [])
    expected = expected or {}
    names = set(by_image) | set(published_dip) | set(published_papyan) | set(expected)
    order = [i for i in paper.TABLE1_IMAGES if i in names] + sorted(names - set(paper.TABLE1_IMAGES))

    rows = []
    for image in order:
        recs = by_image.get(image, {})
        row = dict.fromkeys(COLUMNS)
        row.update(image=image, label=paper.TABLE1_LABELS.get(image, image), n_seeds=len(recs),
                   n_expected=expected.get(image), fullbt_n_seeds=len(fullbt.get(image, {})),
                   fullbt_n_expected=(expected_full_backtracking or {}).get(image))
        if recs:
            s = stats([_psnr(r, "output") for r in recs.values()])
            row.update(ours_psnr_mean=s["mean"], ours_psnr_std=s["std"], ours_psnr_min=s["min"],
                       ours_psnr_max=s["max"])
            row.update(_improvement("clean", recs, recs))
            row.update(_improvement("ema", recs, recs))
            row.update(_improvement("fullbt", recs, fullbt.get(image, {})))
            if all("output_es" in r for r in recs.values()):
                row.update(_improvement("es", recs, recs))
                row.update(stopping_summary(recs))
            try:
                row.update(
                    backtracks=sum(int(r.get("backtracks") or 0) for r in recs.values()),
                    ours_psnr_uint8_mean=stats([r["output"]["psnr_uint8"] for r in recs.values()])["mean"],
                    ours_ssim_mean=stats([r["output"]["ssim"] for r in recs.values()])["mean"],
                )
            except (KeyError, TypeError):
                raise DipError(f"image {image!r}: a metrics record lacks output psnr_uint8 or ssim") from None
        row["paper_dip"] = paper.TABLE1_DIP.get(image)
        row["paper_papyan"] = paper.TABLE1_PAPYAN.get(image)
        row["published_dip_psnr"] = published_dip.get(image)
        row["published_papyan_psnr"] = published_papyan.get(image)
        if row["ours_psnr_mean"] is not None and row["paper_dip"] is not None:
            row["diff_vs_paper"] = row["ours_psnr_mean"] - row["paper_dip"]
        rows.append(row)

    # Before any fit has finished, the published columns are still worth a mean over all images.
    basis = [r for r in rows if r["n_seeds"]] or rows
    mean = dict.fromkeys(COLUMNS)
    mean.update(image="mean", label="mean", n_seeds=len(basis), n_expected=len(expected) or None)
    for col in _AVERAGED:
        mean[col] = average([r[col] for r in basis], complete=True)
    rows.append(mean)
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return buf.getvalue()


def read_csv(path: str | Path) -> list[dict]:
    """Rows of a table1.csv back as dicts of floats/ints (None for empty cells)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DipError(f"file not found: {path}") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not set(COLUMNS) <= set(reader.fieldnames):
        raise DipError(f"{path} is not a Table-1 CSV (columns {reader.fieldnames})")
    rows = []
    for raw in reader:
        row = {}
        for c in COLUMNS:
            v = raw[c]
            if c in ("image", "label"):
                row[c] = v
            elif c == "n_seeds":
                row[c] = int(v)
            elif c in ("backtracks", "n_expected", "fullbt_n_seeds", "fullbt_n_expected"):
                row[c] = int(float(v)) if v != "" else None
            else:
                row[c] = float(v) if v != "" else None
        rows.append(row)
    return rows


def short(row: dict, prefix: str = "") -> bool:
    """Whether fewer fits finished for this row than were planned (a partial report); with
    ``prefix`` "fullbt_", its full-backtracking fits."""
    expected = row.get(f"{prefix}n_expected")  # absent from rows made before partial reports
    return expected is not None and (row.get(f"{prefix}n_seeds") or 0) < expected


def title(mode: str, rows: list[dict]) -> str:
    n_images = sum(r["image"] != "mean" and r["n_seeds"] > 0 for r in rows)
    planned = sum(r["image"] != "mean" and bool(r["n_expected"]) for r in rows)
    count = f"{n_images} of {planned}" if any(map(short, rows)) else f"{n_images}"
    base = f"Table 1: inpainting with 50 % of pixels missing, PSNR (dB), our results on {count} image(s)"
    if any(map(short, rows)):
        base += " (PARTIAL: some fits did not finish)"
    if mode == "quick":
        return base + " (QUICK MODE: a smoke run with few iterations, not a reproduction)"
    return base


def spread_cell(row: dict, prefix: str) -> str:
    """'mean ± std' over seeds (std omitted for one seed and on the mean row)."""
    mean, std = row[f"{prefix}_psnr_mean"], row[f"{prefix}_psnr_std"]
    if not row["n_seeds"] or mean is None:
        return "missing" if short(row) and row["image"] != "mean" else "–"
    return pm(mean, None if row["image"] == "mean" else std)


def ours_cell(row: dict) -> str:
    return spread_cell(row, "ours")


def improvement_cell(row: dict, prefix: str) -> str:
    """'mean ± std (gain)': the improvement's PSNR and its mean paired gain over ours."""
    cell = spread_cell(row, prefix)
    gain = row[f"{prefix}_gain_mean"]
    if prefix == "fullbt" and row["image"] != "mean" and short(row, "fullbt_"):
        have, planned = row["fullbt_n_seeds"] or 0, row["fullbt_n_expected"]
        return "missing" if not have else f"{cell} ({k_of_n(have, planned, 'seeds')})"
    return cell if cell in ("–", "missing") or gain is None else f"{cell} ({gain:+.2f})"


def seeds_cell(row: dict) -> str:
    """Seeds of an image ("k of n" when some did not finish); on the mean row, the images
    averaged when that is fewer than planned."""
    if row["image"] == "mean":
        return f"{row['n_seeds']} of {row['n_expected']} images" if short(row) else ""
    return k_of_n(row["n_seeds"], row["n_expected"])


#: Markdown/HTML headers and the function giving each cell.
DISPLAY = (
    ("Image", lambda r: r["label"] if r["image"] != "mean" else "**mean**"),
    ("Seeds", seeds_cell),
    (f"{OUTPUTS['output'][0]} (mean ± std)", ours_cell),
    *((f"{name} (gain)", lambda r, p=prefix: improvement_cell(r, p))
      for prefix, (_, name) in IMPROVEMENTS.items()),
    ("Stopped at (iteration)", lambda r: number(r["es_iteration_mean"], digits=0)),
    ("Peak during the fit (oracle)", lambda r: psnr_at(r["peak_psnr_mean"], r["peak_iteration_mean"])),
    ("Peak − stopped", lambda r: number(r["peak_gap_mean"])),
    ("Backtracks", lambda r: "" if r["image"] == "mean" or r["backtracks"] is None else str(r["backtracks"])),
    ("DIP paper", lambda r: number(r["paper_dip"])),
    ("DIP published", lambda r: number(r["published_dip_psnr"])),
    ("Papyan paper", lambda r: number(r["paper_papyan"])),
    ("Papyan published", lambda r: number(r["published_papyan_psnr"])),
    ("Ours − paper", lambda r: number(r["diff_vs_paper"], signed=True)),
)


def to_markdown(rows: list[dict], mode: str) -> str:
    lines = [f"### {title(mode, rows)}", ""]
    lines.append("| " + " | ".join(h for h, _ in DISPLAY) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(DISPLAY) - 1)) + "|")
    for row in rows:
        lines.append("| " + " | ".join(f(row) for _, f in DISPLAY) + " |")
    lines += [
        "",
        "Ours: PSNR of the image the paper's procedure ends with (the network fed the last "
        "noisy input after the last update; float, original extent), mean ± sample std over "
        "seeds. Then our improvements, each with its mean gain over ours, paired by seed: the "
        "same fits' noise-free output and output average, and fits with full-state "
        "backtracking (– where this run made none), and the output ES-WMV kept without the "
        "ground truth (the lowest variance of the last W training outputs), with the mean "
        "iteration it kept. Peak during the fit: the highest traced PSNR of the paper's output "
        "and its iteration, an oracle that needs the ground truth; Peak − stopped is what a "
        "perfect stopping rule would add. Backtracks: restores in the fits of ours, "
        "all seeds. Published: PSNR we compute from the authors' published 8-bit images. "
        "The mean row averages over the images listed with our numbers.",
        "",
    ]
    lacking = [f"{r['label']} ({r['n_seeds']} of {r['n_expected']} seeds)" for r in rows
               if short(r) and r["image"] != "mean"]
    if lacking:
        lines += [f"**Partial:** fits did not finish for {', '.join(lacking)}. Images without a "
                  "finished fit show \"missing\"; the mean row averages over the images that have one.", ""]
    return "\n".join(lines)
