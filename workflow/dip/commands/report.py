"""Render a report (HTML and Markdown) from a run's files, without refitting anything.

Inputs, each named explicitly (nothing is globbed):
  --run-config    resolved workflow config as JSON (`dip run-config`): {"mode", "experiments":
                  {name: {...}}, "data": [{path, role, url, sha256}], "machine": {...}}.
  --architecture  output of `dip describe --preset P --json`.
  --experiments   the experiments this report covers (default: all in the run config).
  --table NAME=CSV, --figure NAME=PNG, --curves NAME=PNG, --snapshots NAME=PNG,
  --study NAME=JSON, --section NAME=JSON   each experiment's section files, by report kind.
  --fit ID@DIR, --metrics ID@JSON   each fit's folder (meta.json) and scores, ID being
                  experiment/variant/image/seed: runtime, spread and the settings actually run.
  --partial-json  a report made while some fits are missing (dip.pipeline.partial): declared
                  on its first line, with the missing fits named.
Images are linked relative to the output files.
"""

from pathlib import Path

from ..errors import DipError
from ..files.atomic import write_text
from ..files.jsonio import read_json
from ..report.content import TEMPLATES, context, render
from ._pairs import fit_pair, json_value, pair, unique

KINDS = ("table", "figure", "curves", "snapshots", "study", "section")


def add_arguments(p):
    p.add_argument("--run-config", required=True)
    p.add_argument("--architecture", required=True)
    p.add_argument("--experiments", nargs="+", help="experiments the report covers")
    for kind in KINDS:
        p.add_argument(f"--{kind}", nargs="+", action="extend", type=pair, default=[],
                       metavar="NAME=PATH", help=f"an experiment's {kind} file")
    p.add_argument("--fit", nargs="+", action="extend", type=fit_pair, default=[], metavar="ID@DIR")
    p.add_argument("--metrics", nargs="+", action="extend", type=fit_pair, default=[], metavar="ID@JSON")
    p.add_argument("--partial-json", help="the missing fits of a partial report, as JSON")
    p.add_argument("--out-html", required=True)
    p.add_argument("--out-md", required=True)
    p.add_argument("--templates", default=str(TEMPLATES), help="template folder (default: the package's)")


def _partial(text: str | None) -> dict | None:
    if text is None:
        return None
    partial = json_value(text, "--partial-json")
    if not isinstance(partial, dict) or not {"planned", "finished", "missing", "sections"} <= set(partial):
        raise DipError("--partial-json needs planned, finished, missing and sections")
    return partial


def run(args) -> int:
    run_config, arch = read_json(args.run_config), read_json(args.architecture)
    sections = {kind: unique(getattr(args, kind), f"--{kind}") for kind in KINDS}
    fits, metrics = unique(args.fit, "--fit"), unique(args.metrics, "--metrics")
    partial = _partial(args.partial_json)
    for out, template in ((args.out_html, "report.html.j2"), (args.out_md, "report.md.j2")):
        ctx = context(run_config, arch, sections, fits, metrics, Path(out), args.experiments, partial)
        write_text(out, render(ctx, template, Path(args.templates)))
    return 0
