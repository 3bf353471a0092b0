"""PSNR vs iteration per image from trace.csv files: mean over seeds and the min-max band.

Example: dip curves --trace barbara=results/paper/fits/table1/base/barbara/seed0/trace.csv \
  barbara=.../seed1/trace.csv boat=... --paper-table1 --out reports/paper/experiments/table1/curves.png
Repeat a name once per seed. --paper-table1 draws the paper's Table-1 value per image.
"""

from ..report.figures import curves, read_trace, save
from ..report.paper import TABLE1_DIP
from ._pairs import grouped, pair


def add_arguments(p):
    p.add_argument("--trace", nargs="+", type=pair, required=True, metavar="IMAGE=CSV")
    p.add_argument("--column", default="psnr_gt", help="trace column to plot (default psnr_gt)")
    p.add_argument("--paper-table1", action="store_true", help="draw the paper's Table-1 PSNR per image")
    p.add_argument("--title")
    p.add_argument("--out", required=True, help="PNG (or PDF) to write")


def run(args) -> int:
    traces = {name: [read_trace(p) for p in paths] for name, paths in grouped(args.trace).items()}
    refs = {k: v for k, v in TABLE1_DIP.items() if k in traces} if args.paper_table1 else None
    save(curves(traces, args.column, refs, args.title), args.out)
    return 0
