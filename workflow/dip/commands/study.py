"""A study: each variant's PSNR/SSIM per image over seeds, best vs final PSNR, the PSNR curves
of every variant overlaid, and a conclusion computed from the numbers.

    dip study --spec-json '{"experiment": "lr_sweep", "mode": "paper", "variants": [
        {"id": "base", "label": "base", "fits": [{"image": "house", "seed": 0,
         "fit": "results/paper/fits/...", "metrics": "results/paper/metrics/....json"}]}, ...]}' \
      --out-json study.json --out-md study.md --out-png study.png

A fit without a ground truth has "metrics": null; its scores are shown as unavailable.
"""

import json
from pathlib import Path

from ..files.atomic import write_text
from ..report.figures import read_trace, save, study_curves
from ..report.study import summarise, to_markdown
from ._pairs import json_value


def add_arguments(p):
    p.add_argument("--spec-json", required=True, help="the study's variants and fits, as JSON")
    p.add_argument("--out-json", required=True)
    p.add_argument("--out-md", required=True)
    p.add_argument("--out-png", required=True)


def run(args) -> int:
    spec = json_value(args.spec_json, "--spec-json")
    traces = {f["fit"]: read_trace(Path(f["fit"]) / "trace.csv")
              for v in spec.get("variants", []) for f in v["fits"]}
    summary = summarise(spec, traces)
    # A partial report's missing fits are named in the legend: a mean over fewer fits says so.
    curves = {v["label"] + (f" (missing: {', '.join(v['missing'])})" if v.get("missing") else ""):
              [traces[f["fit"]] for f in v["fits"]] for v in spec["variants"]}
    save(study_curves(curves, f"{spec['experiment']}: PSNR while fitting, per variant"), args.out_png)
    write_text(args.out_json, json.dumps(summary, indent=2) + "\n")
    write_text(args.out_md, to_markdown(summary))
    return 0
