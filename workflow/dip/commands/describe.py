"""Show a preset's network as a layer table, with its parameter count and settings.

Plain output is a table for reading; --json prints {"preset", "params", "layers", "net",
"preset_config"} for scripts.
"""

from __future__ import annotations

import dataclasses
import json

from ..models.skip import build_net, count_params, describe, min_size
from ..spec.presets import get_preset

COLUMNS = ("name", "type", "in", "out", "kernel", "stride", "params")


def add_arguments(p) -> None:
    p.add_argument("--preset", required=True, help="preset name")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _table(rows: list[dict]) -> str:
    cells = [COLUMNS] + [tuple("" if r[c] is None else str(r[c]) for c in COLUMNS) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = []
    for row in cells:
        lines.append("  ".join(v.rjust(w) if i >= 2 else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def run(args) -> int:
    preset = get_preset(args.preset)
    net = build_net(preset.net)
    rows = describe(net)
    params = count_params(net)
    if args.json:
        config = dataclasses.asdict(preset)
        print(json.dumps({"preset": preset.name, "params": params, "layers": rows,
                          "net": config.pop("net"), "preset_config": config}))
        return 0
    print(f"preset {preset.name}: {preset.description}")
    print(f"task {preset.task}, input {preset.input} ({preset.input_depth} channels), "
          f"lr {preset.lr}, {preset.iterations} iterations, reg noise {preset.reg_noise_std:g}")
    print(f"source: {preset.source}\n")
    print(_table(rows))
    print(f"\n{params:,} parameters; images need sides >= {min_size(preset.net)}, "
          f"cropped to multiples of {preset.crop_multiple}")
    return 0
