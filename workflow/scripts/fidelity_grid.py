"""Network x loop, side by side: the official `skip()` against ours, each trained by the
restoration notebook's step and by `dip fit`, on the same prepared crops and seeds
(docs/fidelity.md).

The cells:

* network ``official``: `skip()` imported from the checkout given by --official, with the
  Table-1 arguments; ``ours``: `build_net` of the table1 preset. Without --official only our
  network's cells run.
* loop ``notebook``: the restoration notebook's step restated: global ``torch.manual_seed(seed)``,
  the net built, ``z = rand * 0.1``, each step a fresh ``randn * 0.03`` added to z, Adam, the
  masked MSE against the ground truth, no backtracking; the final image is the net fed the last
  noisy input after the last update (train mode). ``ours``: `dip fit`'s preparation and
  `dip.engine.fit.fit` with the preset's settings (official backtracking, the faithful path).

Each fit's PSNR (final image against the crop) is appended to WORK/fits.csv as it finishes, so
an interrupted run continues where it stopped. Prints a Markdown table per image: each cell's
mean, sample std and n, then paired differences (same seed) with their standard errors.

  python workflow/scripts/fidelity_grid.py --official /tmp/official --data ../shared/data \
      --images montage --crop 64 --iterations 400 --seeds 100-139 --work results/fidelity_grid
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from compare_outputs import prepare as prepare_inputs
from dip.cli import build_parser
from dip.commands import fit as fit_command
from dip.data.images import load_image, to_array, to_tensor
from dip.engine.fit import fit
from dip.engine.state import stream_seeds
from dip.models.skip import build_net
from dip.physics.masks import load_mask
from dip.scoring.metrics import psnr
from dip.spec.presets import get_preset

PRESET = get_preset("table1")
NETWORKS = ("official", "ours")
LOOPS = ("notebook", "ours")
CELLS = tuple((net, loop) for net in NETWORKS for loop in LOOPS)
FIELDS = ("image", "crop", "iterations", "widths", "network", "loop", "seed", "psnr", "backtracks", "seconds")

Builder = Callable[[int], nn.Module]  # output channels -> a freshly drawn network


@dataclass(frozen=True)
class Widths:
    """The skip network's shape: scales, channels down and up, skip channels."""

    name: str
    scales: int
    channels: int
    skip: int

    def flags(self) -> list[str]:
        """The `dip fit` flags that give the preset these widths."""
        return ["--scales", str(self.scales), "--channels-down", str(self.channels),
                "--channels-up", str(self.channels), "--channels-skip", str(self.skip)]


TABLE1 = Widths("table1", 5, 128, 4)
TOY = Widths("toy", 2, 8, 2)  # for the tests: seconds on a CPU


def ours(widths: Widths) -> Builder:
    """Our network: the table1 preset's, at ``widths``."""
    def build(out_channels: int) -> nn.Module:
        cfg = dataclasses.replace(PRESET.net, out_channels=out_channels, down=(widths.channels,) * widths.scales,
                                  up=(widths.channels,) * widths.scales, skip=(widths.skip,) * widths.scales)
        return build_net(cfg)
    return build


def official(checkout: Path, widths: Widths) -> Builder:
    """The official `skip()` from ``checkout`` (read there, never copied), Table-1 arguments."""
    sys.path.insert(0, str(checkout))
    from models.skip import skip

    def build(out_channels: int) -> nn.Module:
        return skip(PRESET.input_depth, out_channels, num_channels_down=[widths.channels] * widths.scales,
                    num_channels_up=[widths.channels] * widths.scales,
                    num_channels_skip=[widths.skip] * widths.scales, upsample_mode="bilinear",
                    need_sigmoid=True, need_bias=True, pad="reflection", act_fun="LeakyReLU")
    return build


def notebook_loop(build: Builder, inputs: Path, seed: int, iterations: int) -> tuple[np.ndarray, int]:
    """The restoration notebook's step, in its order of draws; returns the final image and
    its number of backtracks (none: the step has no check)."""
    img = to_tensor(load_image(inputs / "gt.png"))
    mask = torch.from_numpy(load_mask(inputs / "mask.png").astype("float32"))[None, None]
    torch.manual_seed(seed)
    net = build(img.shape[1])
    z = torch.rand((1, PRESET.input_depth, *img.shape[-2:])) * 0.1
    opt = torch.optim.Adam(net.parameters(), lr=PRESET.lr)
    for _ in range(iterations):
        opt.zero_grad()
        net_input = z + torch.randn(z.shape) * PRESET.reg_noise_std
        F.mse_loss(net(net_input) * mask, img * mask).backward()
        opt.step()
    with torch.no_grad():
        return to_array(net(net_input)), 0


def ours_loop(build: Builder, inputs: Path, seed: int, iterations: int, widths: Widths
              ) -> tuple[np.ndarray, int]:
    """`dip fit --preset table1` at ``widths`` on ``inputs``, with ``build``'s network drawn
    from the fit's weight stream; returns the final image (output.npy) and the backtracks."""
    with tempfile.TemporaryDirectory() as out:
        request = fit_command.prepare(build_parser("fit").parse_args([
            "fit", "--preset", "table1", "--image", str(inputs / "observed.png"),
            "--mask", str(inputs / "mask.png"), "--gt", str(inputs / "gt.png"), "--seed", str(seed),
            "--iterations", str(iterations), "--trace-every", str(iterations),
            "--checkpoint-every", str(iterations), "--snapshots", "", "--device", "cpu", "--out", out,
            *widths.flags()]))
        torch.manual_seed(stream_seeds(seed).weights)
        net = build(request.preset.net.out_channels)
        result = fit(net, request.net_input, request.operator, request.target, out, request.settings,
                     gt=request.gt, log=lambda line: None)
    return result.output, result.backtracks


def final_psnr(network: Builder, loop: str, inputs: Path, seed: int, iterations: int,
               widths: Widths) -> tuple[float, int]:
    """PSNR of one cell's final image against the crop, and the fit's backtracks."""
    out, backtracks = notebook_loop(network, inputs, seed, iterations) if loop == "notebook" else \
        ours_loop(network, inputs, seed, iterations, widths)
    return psnr(out, load_image(inputs / "gt.png")), backtracks


# ---------------------------------------------------------------------------------------------
# statistics


def contrast(scores: dict[tuple[str, str], dict[int, float]], weights: dict[tuple[str, str], float]
             ) -> tuple[float, float, int]:
    """Mean over seeds of sum(weight * score of the cell), over the seeds every weighted cell
    has; its standard error (sample std / sqrt(n); nan below two seeds) and n."""
    seeds = sorted(set.intersection(*(set(scores.get(cell, {})) for cell in weights)))
    values = [sum(w * scores[cell][s] for cell, w in weights.items()) for s in seeds]
    if not values:
        return math.nan, math.nan, 0
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return statistics.fmean(values), se, len(values)


def comparisons(cells: list[tuple[str, str]]) -> dict[str, dict[tuple[str, str], float]]:
    """Every paired difference between two cells, and with all four cells the two main
    effects (each the mean of its difference under both levels of the other factor)."""
    named = {f"{'/'.join(a)} − {'/'.join(b)}": {a: 1.0, b: -1.0}
             for i, a in enumerate(cells) for b in cells[i + 1:]}
    if set(cells) == set(CELLS):
        named["network: official − ours, both loops"] = {
            ("official", loop): 0.5 for loop in LOOPS} | {("ours", loop): -0.5 for loop in LOOPS}
        named["loop: notebook − ours, both networks"] = {
            (net, "notebook"): 0.5 for net in NETWORKS} | {(net, "ours"): -0.5 for net in NETWORKS}
    return named


def seed_ranges(seeds: list[int]) -> str:
    """0 1 2 5 -> '0–2, 5'."""
    runs: list[list[int]] = []
    for s in sorted(seeds):
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def table(image: str, scores: dict[tuple[str, str], dict[int, float]], cells: list[tuple[str, str]]) -> str:
    """The Markdown tables of one image: the cells, then the paired differences."""
    lines = ["| image | network | loop | n | seeds | PSNR (dB), mean ± std |", "|---|---|---|---:|---|---:|"]
    for cell in cells:
        values = list(scores.get(cell, {}).values())
        std = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
        mean = f"{statistics.fmean(values):.2f}{std}" if values else "–"
        lines.append(f"| {image} | {cell[0]} | {cell[1]} | {len(values)} | "
                     f"{seed_ranges(list(scores.get(cell, {})))} | {mean} |")
    lines += ["", "| image | paired difference | n | mean ± SE (dB) | mean / SE |", "|---|---|---:|---:|---:|"]
    for name, weights in comparisons(cells).items():
        mean, se, n = contrast(scores, weights)
        lines.append(f"| {image} | {name} | {n} | {mean:+.2f} ± {se:.2f} | {mean / se:+.1f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# the run


def read_fits(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def append_fit(path: Path, row: dict) -> None:
    new = not path.is_file()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            w.writeheader()
        w.writerow(row)


def scores_of(rows: list[dict], key: dict, seeds: list[int]) -> dict[tuple[str, str], dict[int, float]]:
    """{cell: {seed: PSNR}} of the rows of ``seeds`` that match ``key`` (image, crop,
    iterations, widths)."""
    scores: dict[tuple[str, str], dict[int, float]] = {}
    for r in rows:
        if all(r[k] == str(v) for k, v in key.items()) and int(r["seed"]) in seeds:
            scores.setdefault((r["network"], r["loop"]), {})[int(r["seed"])] = float(r["psnr"])
    return scores


def parse_seeds(items: list[str]) -> list[int]:
    """'0-3 7' -> [0, 1, 2, 3, 7]."""
    seeds = []
    for item in items:
        first, _, last = item.partition("-")
        seeds += range(int(first), int(last or first) + 1)
    return seeds


def machine() -> str:
    """The CPU's model name, as lscpu gives it."""
    with open("/proc/cpuinfo") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    return names[0] if names else "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official", type=Path, help="a checkout of DmitryUlyanov/deep-image-prior "
                   "(the folder holding models/); without it the official cells are skipped")
    p.add_argument("--data", type=Path, help="data mirror (registry layout), to prepare the inputs "
                   "that WORK/cropN/inputs/IMAGE does not hold yet")
    p.add_argument("--images", nargs="+", default=["montage"])
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--iterations", type=int, default=400)
    p.add_argument("--seeds", nargs="+", default=["0-39"], help="seeds and ranges (0-39)")
    p.add_argument("--toy", action="store_true", help="tiny networks (2 scales of 8 channels), for tests")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--work", type=Path, default=Path("results/fidelity_grid"))
    p.add_argument("--table-only", action="store_true",
                   help="fit nothing: the table of the fits of --seeds in WORK/fits.csv")
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    widths = TOY if args.toy else TABLE1
    networks = {"ours": ours(widths)}
    if args.official is not None:
        networks["official"] = official(args.official, widths)
    cells = [cell for cell in CELLS if cell[0] in networks]
    seeds = parse_seeds(args.seeds)
    fits_csv = args.work / "fits.csv"
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for image in args.images:
        key = {"image": image, "crop": args.crop, "iterations": args.iterations, "widths": widths.name}
        if not args.table_only:
            run_image(args, widths, networks, cells, seeds, key, fits_csv)
        print(f"{table(image, scores_of(read_fits(fits_csv), key, seeds), cells)}\n", flush=True)
    if args.official is None:
        print("official cells skipped: no --official checkout given")
    print(f"{machine()}, torch {torch.__version__}, {args.threads} thread(s); {args.crop} x {args.crop} "
          f"centre crops, {args.iterations} iterations, {widths.name} widths; this run's fits: "
          f"{time.perf_counter() - started:.0f} s")
    return 0


def run_image(args, widths: Widths, networks: dict[str, Builder], cells: list[tuple[str, str]], seeds: list[int],
              key: dict, fits_csv: Path) -> None:
    """Fit every cell of every seed that WORK/fits.csv lacks, seed by seed (so an interrupted
    run leaves the cells balanced), appending each fit's row as it finishes."""
    work = args.work / f"crop{args.crop}"
    if args.data is None and not (work / "inputs" / key["image"] / "gt.png").is_file():
        raise SystemExit(f"no inputs for {key['image']} in {work / 'inputs'}: give --data to prepare them")
    inputs = prepare_inputs(args.data, key["image"], args.crop, work, args.threads)
    done = scores_of(read_fits(fits_csv), key, seeds)
    for seed in seeds:
        for network, loop in cells:
            if seed in done.get((network, loop), {}):
                continue
            t0 = time.perf_counter()
            score, backtracks = final_psnr(networks[network], loop, inputs, seed, args.iterations, widths)
            append_fit(fits_csv, {**key, "network": network, "loop": loop, "seed": seed, "psnr": f"{score:.4f}",
                                  "backtracks": backtracks, "seconds": f"{time.perf_counter() - t0:.1f}"})
            print(f"{key['image']} seed {seed} {network}/{loop}: {score:.2f} dB", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
