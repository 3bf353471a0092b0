"""A target's report after a run in which some fits failed, from the fits that finished.

The report's first line says it is partial and how many fits finished; every table and
figure names the fits it lacks (see dip.pipeline.partial). Sections of experiments whose fits
all finished are the normal ones (the workflow builds them first); the others are rebuilt
here, under the partial report's folder, from the fits they have.

  dip report-partial --config-json "$(...)" --target all \\
      --out-html reports/paper/all/partial/report.html --out-md reports/paper/all/partial/report.md
"""


from .. import pipeline
from ..errors import DipError
from ..pipeline import partial
from ._dip import dip
from ._pairs import json_value


def add_arguments(p):
    p.add_argument("--config-json", required=True, help="the workflow's config as a JSON string")
    p.add_argument("--target", default="all", help="the target whose report to build (default: all)")
    p.add_argument("--out-html", required=True)
    p.add_argument("--out-md", required=True)


def run(args) -> int:
    config = json_value(args.config_json, "--config-json")
    plan = pipeline.plan(config)
    missing = partial.missing_fits(plan, args.target)
    planned = len(partial.target_fits(plan, args.target))
    print(f"{planned - len(missing)} of {planned} fits finished; missing: "
          f"{', '.join(f.id for f in missing) or 'none'}")
    for section in partial.sections(plan, args.target, missing):
        for argv in section.commands:
            print("dip " + argv[0] + f" ({section.experiment}, partial)", flush=True)
            if dip(argv) != 0:
                raise DipError(f"the partial {argv[0]} of {section.experiment} failed (see above)")
    return dip(["report", *partial.report_args(plan, args.target, missing),
                 "--out-html", args.out_html, "--out-md", args.out_md])
