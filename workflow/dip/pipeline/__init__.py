"""The planning layer: a workflow configuration resolved into fits, inputs, arguments, paths
and report sections. Torch-free: the Snakemake process imports this (and the presets) to
build the DAG without loading torch.

    from dip import pipeline
    config = pipeline.load_config("config.yaml")      # with its data registry sheet
    plan = pipeline.plan(config)
    plan.all_fits(), plan.fit_args(job), reports.report_inputs(plan, "all")
"""

from __future__ import annotations

from pathlib import Path

from .plan import Fit, FitJob, Inputs, Plan, Slot  # noqa: F401
from .resolved import resolved  # noqa: F401

#: id(config) -> (config, its JSON, Plan): Snakemake asks for the plan thousands of times.
_PLANS: dict[int, tuple[dict, str, Plan]] = {}


def plan(config: dict) -> Plan:
    """The plan of ``config``, computed once per configuration object and content."""
    import json

    text = json.dumps(config, sort_keys=True, default=str)
    hit = _PLANS.get(id(config))
    if hit is None or hit[0] is not config or hit[1] != text:
        hit = _PLANS[id(config)] = (config, text, Plan(config))
    return hit[2]


def load_config(path: str | Path, registry_base: str | Path | None = None) -> dict:
    """A config file with its defaults and its data registry sheet loaded into ``data.files``.

    The sheet's path (``registry:``) is relative to ``registry_base`` (default: the folder
    holding the config file).
    """
    import yaml

    path = Path(path)
    config = yaml.safe_load(path.read_text())
    return with_registry(with_defaults(config), registry_base or path.parent)


def with_defaults(config: dict) -> dict:
    """The schema's defaults that planning reads, filled in where the config leaves them out."""
    config.setdefault("mode", "paper")
    quick = config.setdefault("quick", {})
    for key, value in {"crop": 64, "iterations": 60, "seeds": [0], "snapshots": 5}.items():
        quick.setdefault(key, value)
    return config


def with_registry(config: dict, base: str | Path) -> dict:
    """``config`` with ``data.files`` read from its registry sheet (when it names one)."""
    from ..data.registry import read_sheet

    sheet = config.get("registry")
    if sheet and not (config.get("data") or {}).get("files"):
        config["data"] = {"files": read_sheet(Path(base) / sheet)}
    return config
