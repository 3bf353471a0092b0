"""Figure 7, PSNR curves and snapshot grids, drawn with matplotlib from files on disk."""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..data.images import load_image  # noqa: E402
from ..errors import DipError  # noqa: E402
from ..files.atomic import atomic_path  # noqa: E402
from ..scoring.metrics import psnr  # noqa: E402


@dataclass
class Panel:
    """One image of a figure, its title, and the ground truth its PSNR is measured against."""

    image: np.ndarray
    title: str
    reference: np.ndarray | None = None

    def caption(self) -> str:
        if self.reference is None:
            return self.title
        if self.image.shape != self.reference.shape:
            raise DipError(f"panel {self.title!r}: shape {self.image.shape} differs from ground truth {self.reference.shape}")
        return f"{self.title}\nPSNR {psnr(self.image, self.reference):.2f} dB"


def show(ax, img: np.ndarray) -> None:
    """Grayscale through cmap gray on [0, 1]; colour as is."""
    if img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0.0, vmax=1.0, interpolation="antialiased")
    else:
        ax.imshow(np.clip(img, 0, 1), interpolation="antialiased")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def save(fig, *paths: str | Path, dpi: int = 150) -> None:
    """Save a figure to each path (format from the suffix), atomically."""
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)


def panel_rows(rows: list[list[Panel]], cell: float = 2.6):
    """A figure with one row of panels per list, shorter rows centred, all panels one size.

    The grid has two columns per panel so a row of 3 can sit centred above a row of 5.
    """
    ncols = max(len(r) for r in rows)
    fig = plt.figure(figsize=(cell * ncols, (cell + 0.45) * len(rows)))
    grid = fig.add_gridspec(len(rows), 2 * ncols, wspace=0.08, hspace=0.22)
    for i, row in enumerate(rows):
        offset = ncols - len(row)
        for k, panel in enumerate(row):
            ax = fig.add_subplot(grid[i, offset + 2 * k : offset + 2 * k + 2])
            show(ax, panel.image)
            ax.set_xlabel(panel.caption(), fontsize=9)
    return fig


def figure7(kate: dict[str, np.ndarray], barbara: dict[str, np.ndarray]):
    """The paper's Figure 7: kate text inpainting (top) and Barbara 50 % inpainting (bottom).

    `kate` has keys observed, ours, gt; `barbara` has observed, papyan, published_dip, ours, gt,
    all on the original extent.
    """
    top = [
        Panel(kate["observed"], "Corrupted image", kate["gt"]),
        Panel(kate["ours"], "Deep image prior (ours)", kate["gt"]),
        Panel(kate["gt"], "Ground truth"),
    ]
    bottom = [
        Panel(barbara["observed"], "Corrupted image", barbara["gt"]),
        Panel(barbara["papyan"], "Papyan et al. (published)", barbara["gt"]),
        Panel(barbara["published_dip"], "Deep image prior (published)", barbara["gt"]),
        Panel(barbara["ours"], "Deep image prior (ours)", barbara["gt"]),
        Panel(barbara["gt"], "Ground truth"),
    ]
    return panel_rows([top, bottom])


def read_trace(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a trace.csv as float arrays (NaN where a cell is empty)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise DipError(f"file not found: {path}") from None
    if not rows or "iteration" not in rows[0]:
        raise DipError(f"{path}: not a trace (no rows or no 'iteration' column)")
    try:
        return {k: np.array([float(r[k]) if r[k] not in ("", None) else np.nan for r in rows])
                for k in rows[0]}
    except ValueError as exc:
        raise DipError(f"{path}: non-numeric value ({exc})") from None


def seed_band(traces: list[dict[str, np.ndarray]], column: str):
    """Iterations common to all seeds, and the mean / min / max of `column` over seeds there."""
    for t in traces:
        if column not in t:
            raise DipError(f"trace has no column {column!r}")
    common = traces[0]["iteration"]
    for t in traces[1:]:
        common = np.intersect1d(common, t["iteration"])
    stack = np.stack([t[column][np.searchsorted(t["iteration"], common)] for t in traces])
    return common, stack.mean(0), stack.min(0), stack.max(0)


#: Lines drawn beside the paper's output: trace column, colour, line style, label.
_EXTRA_CURVES = (("psnr_clean_gt", "C2", "-.", "noise-free output, mean"),
                 ("psnr_ema_gt", "C1", "--", "output average, mean"))


def _detected(trace: dict[str, np.ndarray]) -> float | None:
    """The iteration ES-WMV had detected at the trace's last row (None without one)."""
    found = trace.get("es_iteration")
    if found is None or not np.isfinite(found).any():
        return None
    return float(found[np.isfinite(found)][-1])


def curves(traces: dict[str, list[dict[str, np.ndarray]]], column: str = "psnr_gt",
           references: dict[str, float] | None = None, title: str | None = None):
    """PSNR vs iteration, one panel per image: mean over seeds and its min-max band.

    The noise-free output and the output average are drawn too (means over seeds) when the
    traces have their columns, and the iteration ES-WMV detected (mean over seeds) as a dashed
    line; `references` draws the paper's value as a dotted line.
    """
    references = references or {}
    names = list(traces)
    if not names:
        raise DipError("no traces to plot")
    ncols = min(4, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False,
                             constrained_layout=True)
    for ax, name in zip(axes.flat, names):
        it, mean, lo, hi = seed_band(traces[name], column)
        n = len(traces[name])
        ax.fill_between(it, lo, hi, color="C0", alpha=0.25, linewidth=0, label="min–max over seeds")
        ax.plot(it, mean, color="C0", lw=1.4, label=f"paper's output, mean of {n} seed(s)")
        extra = _EXTRA_CURVES if column == "psnr_gt" else ()
        for col, colour, style, label in extra:
            if all(col in t and np.isfinite(t[col]).any() for t in traces[name]):
                _, extra_mean, _, _ = seed_band(traces[name], col)
                ax.plot(it, extra_mean, color=colour, lw=1.0, ls=style, label=label)
        stops = [_detected(t) for t in traces[name]]
        if all(d is not None for d in stops):
            ax.axvline(float(np.mean(stops)), color="C3", lw=0.8, ls="--",
                       label="stopped without ground truth (ES-WMV), mean")
        if name in references:
            ax.axhline(references[name], color="k", lw=0.8, ls=":", label=f"paper {references[name]:.2f}")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("iteration", fontsize=8)
        ax.set_ylabel("PSNR (dB)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="lower right")
    for ax in list(axes.flat)[len(names):]:
        fig.delaxes(ax)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


_SNAPSHOT = re.compile(r"iter_(\d+)\.png$")


def snapshot_files(folder: str | Path) -> dict[int, Path]:
    """{iteration: path} of the snapshots/iter_XXXXXX.png files in a folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DipError(f"not a snapshot folder: {folder}")
    found = {}
    for p in folder.iterdir():
        m = _SNAPSHOT.search(p.name)
        if m:
            found[int(m.group(1))] = p
    return found


def snapshots(folders: dict[str, str | Path], iterations: list[int] | None = None,
              title: str | None = None):
    """Rows are images, columns iterations: the given ones, else every iteration found.

    Where no iterations are given and the rows' fits took their snapshots at different
    iterations (a figure that reuses another experiment's fit), each row shows its own, each
    cell titled with its iteration. A cell whose snapshot is missing stays empty with a note.
    """
    files = {name: snapshot_files(f) for name, f in folders.items()}
    if not files:
        raise DipError("no snapshot folders given")
    own = {name: sorted(found) for name, found in files.items()}
    per_row = iterations is None and len({tuple(v) for v in own.values()}) > 1
    shared = sorted(iterations or set().union(*own.values()))
    rows = {name: own[name] if per_row else shared for name in files}
    width = max(len(r) for r in rows.values())
    if not width:
        raise DipError("no snapshot images found")
    fig, axes = plt.subplots(len(files), width, figsize=(1.7 * width, 1.8 * len(files)),
                             squeeze=False, constrained_layout=True)
    for i, (name, found) in enumerate(files.items()):
        for j in range(width):
            ax, it = axes[i, j], rows[name][j] if j < len(rows[name]) else None
            if it in found:
                show(ax, load_image(found[it]))
            else:
                ax.set_xticks([])
                ax.set_yticks([])
                if it is not None:
                    ax.text(0.5, 0.5, "missing", ha="center", va="center", fontsize=8, color="0.5")
            if it is not None and (per_row or i == 0):
                ax.set_title(f"iteration {it}", fontsize=9)
            if j == 0:
                ax.set_ylabel(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def study_curves(traces: dict[str, list[dict[str, np.ndarray]]], title: str | None = None,
                 column: str = "psnr_gt"):
    """One panel, one line per variant: PSNR vs iteration, mean over its images and seeds; the
    first variant (the base) in black."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    for k, (name, runs) in enumerate(traces.items()):
        runs = [t for t in runs if column in t and np.isfinite(t[column]).any()]
        if not runs:
            continue
        it, mean, _, _ = seed_band(runs, column)
        ax.plot(it, mean, lw=2.0 if k == 0 else 1.2, color="k" if k == 0 else f"C{(k - 1) % 10}",
                label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7, loc="lower right", ncol=2 if len(ax.lines) > 6 else 1)
    else:
        ax.text(0.5, 0.5, "no ground truth: no PSNR curve", ha="center", va="center",
                transform=ax.transAxes)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def zoomed(panels: list[Panel], fraction: float = 0.25):
    """The panels in a row, and below them the same centre crop of each (``fraction`` of the
    side) to show detail: the paper's SR and denoising figures zoom in the same way."""
    h, w = panels[0].image.shape[:2]
    ch, cw = max(8, int(h * fraction)), max(8, int(w * fraction))
    top, left = (h - ch) // 2, (w - cw) // 2

    def cut(img):
        return None if img is None else img[top:top + ch, left:left + cw]

    crops = [Panel(cut(p.image), f"{p.title.splitlines()[0]} (crop)", cut(p.reference)) for p in panels]
    return panel_rows([panels, crops])
