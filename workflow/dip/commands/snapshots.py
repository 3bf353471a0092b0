"""Grid of intermediate outputs: rows are images, columns iterations (titled by iteration).

Example: dip snapshots --dir barbara=results/table1/barbara/seed0/snapshots boat=... \
  --out reports/snapshots_table1.png [--iterations 250 1000 2000 5000 11000]
Without --iterations every iteration found in any folder becomes a column.
"""

from ..report.figures import save, snapshots
from ._pairs import pair, unique


def add_arguments(p):
    p.add_argument("--dir", nargs="+", type=pair, required=True, metavar="IMAGE=FOLDER")
    p.add_argument("--iterations", nargs="+", type=int)
    p.add_argument("--title")
    p.add_argument("--out", required=True)


def run(args) -> int:
    save(snapshots(unique(args.dir, "--dir"), args.iterations, args.title), args.out)
    return 0
