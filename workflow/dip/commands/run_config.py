"""Write the resolved run configuration (mode applied, the data files it uses, software) as JSON."""

import json
import platform
import sys

import torch

from .. import pipeline
from ..data import registry
from ..files.atomic import write_text
from ..pipeline import reports
from ._pairs import json_value


def add_arguments(parser):
    parser.add_argument("--config-json", required=True, help="the workflow's config as a JSON string")
    parser.add_argument("--out", required=True, help="JSON file to write")


def run(args) -> int:
    config = json_value(args.config_json, "--config-json")
    plan = pipeline.plan(config)
    doc = pipeline.resolved(plan)
    used = [registry.entry(config, raw.removeprefix(registry.RAW_ROOT + "/")) for raw in reports.raw_files(plan)]
    doc["data"] = [{"path": e.path, "role": e.role, "url": e.url, "sha256": e.sha256} for e in used]
    doc["machine"] = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    write_text(args.out, json.dumps(doc, indent=2) + "\n")
    return 0
