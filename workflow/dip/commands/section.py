"""A task's result section: its table beside the paper (JSON for the report, Markdown) and its
figure, from files on disk (no refitting).

    dip section --spec-json '{"experiment": "sr_set5_x4", "mode": "paper", "task": "sr",
        "set": "set5_x4", "figure": "set5_x4-baby", "fits": [{"image": "set5_x4-baby",
        "seed": 0, "fit": "results/...", "metrics": "results/....json", "inputs": "data/..."}],
        "published": {"set5_x4-baby": {"gt": "data/raw/...", "bicubic": "data/raw/..."}}}' \
      --out-json section.json --out-md section.md --out-png figure.png

The task (dip.spec.tasks) names the section's layout (dip.report.sections.LAYOUTS): which
table beside the paper's numbers, and which figure.
"""

import json

from ..errors import DipError
from ..files.atomic import write_text
from ..report.figures import save
from ..report.sections import LAYOUTS, to_markdown
from ..spec.tasks import get_task
from ._pairs import json_value


def add_arguments(p):
    p.add_argument("--spec-json", required=True, help="the experiment, its task and its fits, as JSON")
    p.add_argument("--out-json", required=True)
    p.add_argument("--out-md", required=True)
    p.add_argument("--out-png", required=True)


def run(args) -> int:
    spec = json_value(args.spec_json, "--spec-json")
    layout = LAYOUTS[get_task(spec.get("task")).section]
    if not spec.get("fits"):
        raise DipError(f"section {spec.get('experiment')}: no fits")
    section = {"experiment": spec["experiment"], "mode": spec["mode"], "task": spec["task"], **layout.table(spec)}
    save(layout.figure(spec), args.out_png)
    write_text(args.out_json, json.dumps(section, indent=2) + "\n")
    write_text(args.out_md, to_markdown(section, spec["experiment"]))
    return 0
