"""Render the report (HTML and Markdown) from a run's files, without refitting anything.

Inputs:
  --run-config  resolved workflow config as JSON: {"mode": "paper"|"quick",
                "experiments": {name: {"preset", "images", "seeds", "iterations"?, ...}},
                "data": <registry; every nested object with a "url" (and "sha256", "role")
                is one file, its key path the file's name>, "machine": {...} optional}.
  --architecture  output of `dip describe --preset table1 --json`: {"preset", "params",
                "layers": [{name, type, in, out, kernel, stride, params}], "net": {...},
                "preset_config": {...}}.
  --reports     folder holding table1.csv, figure7.png, curves*.png, snapshots*.png; each is
                optional and its section says so when it is missing.
  --results     results/ tree: meta.json and metrics.json of every fit (runtime, spread and
                the settings actually run). Optional.
Images are linked relative to the output files, so keep them in the reports folder.
"""

from pathlib import Path

from ..atomic import write_text
from ..evaluate import read_json
from ..report import TEMPLATES, context, render


def add_arguments(p):
    p.add_argument("--run-config", required=True)
    p.add_argument("--architecture", required=True)
    p.add_argument("--reports", required=True)
    p.add_argument("--results")
    p.add_argument("--out-html", required=True)
    p.add_argument("--out-md", required=True)
    p.add_argument("--templates", default=str(TEMPLATES), help="template folder (default: the package's)")


def run(args) -> int:
    run_config, arch = read_json(args.run_config), read_json(args.architecture)
    reports, results = Path(args.reports), Path(args.results) if args.results else None
    for out, template in ((args.out_html, "report.html.j2"), (args.out_md, "report.md.j2")):
        ctx = context(run_config, arch, reports, results, Path(out))
        write_text(out, render(ctx, template, Path(args.templates)))
    return 0
