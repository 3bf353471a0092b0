"""Table 1 (half of the pixels missing): our PSNR over seeds beside the paper, Papyan and published outputs.

Example:
  dip table1 --metrics results/table1/*/seed*/metrics.json \
    --gt barbara=data/raw/table1/barbara.png ... \
    --published-dip barbara=data/raw/table1/dip_project_page/barbara_deep_prior.png ... \
    --published-papyan barbara=data/raw/table1/dip_project_page/barbara_papyan.png ... \
    --out-csv reports/table1.csv --out-md reports/table1.md --mode paper

Every published output needs a --gt for its image (same size). The CSV has one row per image
in the paper's order and a final `mean` row; columns are listed in dip.report.tables.COLUMNS.
"""

from ..errors import DipError
from ..files.atomic import write_text
from ..files.jsonio import read_json
from ..report.tables import published_psnr, table1_rows, to_csv, to_markdown
from ._pairs import pair, unique


def add_arguments(p):
    p.add_argument("--metrics", nargs="+", default=[],
                   help="metrics.json files of the paper-procedure fits (any number of seeds per image)")
    p.add_argument("--metrics-full-backtracking", nargs="+", default=[], metavar="METRICS",
                   help="metrics.json files of the same fits run with --backtrack full (optional column)")
    p.add_argument("--gt", nargs="+", type=pair, default=[], metavar="IMAGE=PNG",
                   help="original ground truth of each image with a published output")
    p.add_argument("--published-dip", nargs="+", type=pair, default=[], metavar="IMAGE=PNG",
                   help="the authors' published DIP output")
    p.add_argument("--published-papyan", nargs="+", type=pair, default=[], metavar="IMAGE=PNG",
                   help="Papyan et al.'s published output")
    p.add_argument("--expected", nargs="+", type=pair, default=[], metavar="IMAGE=SEEDS",
                   help="seeds planned per image, for a report made while some fits are missing: "
                        "rows with fewer show as partial")
    p.add_argument("--expected-full-backtracking", nargs="+", type=pair, default=[], metavar="IMAGE=SEEDS",
                   help="the same for the full-backtracking fits")
    p.add_argument("--mode", choices=("paper", "quick"), default="paper")
    p.add_argument("--out-csv", required=True)
    p.add_argument("--out-md", required=True)


def _scores(outputs: dict[str, str], gts: dict[str, str], what: str) -> dict[str, float]:
    missing = sorted(set(outputs) - set(gts))
    if missing:
        raise DipError(f"{what}: no --gt for {', '.join(missing)}")
    return {image: published_psnr(png, gts[image]) for image, png in outputs.items()}


def _expected(pairs: list[tuple[str, str]], flag: str) -> dict[str, int]:
    out = unique(pairs, flag)
    try:
        return {image: int(n) for image, n in out.items()}
    except ValueError:
        raise DipError(f"{flag}: seed counts must be integers, got {out}") from None


def run(args) -> int:
    gts = unique(args.gt, "--gt")
    dip = _scores(unique(args.published_dip, "--published-dip"), gts, "--published-dip")
    papyan = _scores(unique(args.published_papyan, "--published-papyan"), gts, "--published-papyan")
    rows = table1_rows([read_json(m) for m in args.metrics], dip, papyan,
                       [read_json(m) for m in args.metrics_full_backtracking], _expected(args.expected, "--expected"),
                       _expected(args.expected_full_backtracking, "--expected-full-backtracking"))
    write_text(args.out_csv, to_csv(rows))
    write_text(args.out_md, to_markdown(rows, args.mode))
    return 0
