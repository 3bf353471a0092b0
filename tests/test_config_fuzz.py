"""Hostile configs, fuzzed: any change to config.yaml is either refused by the schema (what
Snakemake checks first, before any job) or planned, or refused by planning with a DipError
naming the problem; never a traceback from deep inside."""

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from dip import pipeline
from dip.errors import DipError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")
BASE = pipeline.load_config(REPO / "config.yaml")

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 20_000) | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["table1", "house", "paper", "quick", "full", "..", "/etc/passwd"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


def paths(node, prefix=()):
    """Every key path of a nested config (the data registry left out: it has its own tests)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if prefix == () and key == "data":
                continue
            yield prefix + (key,)
            yield from paths(value, prefix + (key,))


KEY_PATHS = sorted(paths(BASE), key=repr)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KEY_PATHS), st.sampled_from(["set", "delete"]), VALUES,
       st.sampled_from(["paper", "quick"]))
def test_any_change_is_refused_or_planned(where, how, value, mode):
    config = copy.deepcopy(BASE)
    config["mode"] = mode
    parent = config
    for key in where[:-1]:
        parent = parent[key]
    if how == "delete":
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    try:  # as the Snakefile does: types first, then the defaults
        validate(config, SCHEMA, set_default=False)
        validate(config, SCHEMA)
    except WorkflowError:
        return  # refused by the schema, before any job
    try:
        plan = pipeline.plan(config)
        for job in plan.all_fits():
            plan.fit_args(job)
    except DipError as exc:
        assert str(exc)
