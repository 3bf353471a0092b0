"""The one table of overridable fit settings, and everything made from it or held against it."""

import argparse
import re
from pathlib import Path

import pytest
import yaml

from dip.spec import overrides
from dip.errors import DipError
from dip.spec.network import NET_KEYS
from dip.spec.overrides import BY_KEY, KEYS, SETTINGS

_DOC = yaml.safe_load((Path(__file__).resolve().parents[1] / "workflow" / "schemas" /
                       "config.schema.yaml").read_text())
SCHEMA = _DOC["$defs"]


def _leaves(prop: dict) -> list[dict]:
    """A schema property's alternatives, its list items included, references resolved."""
    if "$ref" in prop:
        prop = SCHEMA[prop["$ref"].rsplit("/", 1)[-1]]
    if "oneOf" in prop:
        return [leaf for alt in prop["oneOf"] for leaf in _leaves(alt)]
    if prop.get("type") == "array":
        return _leaves(prop["items"])
    return [prop]


def test_the_config_schema_lists_the_same_settings_with_the_same_rules():
    assert tuple(SCHEMA["settings"]["properties"]) == KEYS
    assert tuple(SCHEMA["setting_name"]["enum"]) == KEYS
    for key, prop in SCHEMA["settings"]["properties"].items():
        s = BY_KEY[key]
        for leaf in _leaves(prop):
            want = {"int": "integer", "ints": "integer", "float": "number", "bool": "boolean",
                    "choice": "string", "choices": "string"}[s.kind]
            assert leaf.get("type") == want, key
            assert tuple(leaf.get("enum", ())) == s.choices, key
            low = leaf.get("exclusiveMinimum", leaf.get("minimum"))
            high = leaf.get("exclusiveMaximum", leaf.get("maximum"))
            assert (low, "exclusiveMinimum" in leaf) == (s.low, s.open_low), key
            assert (high, "exclusiveMaximum" in leaf) == (s.high, s.open_high), key


def test_a_sweep_may_vary_any_setting_but_the_precision():
    experiment = _DOC["properties"]["experiments"]["additionalProperties"]
    assert set(experiment["properties"]["vary"]["properties"]) == set(KEYS) - {"precision"}


def test_the_network_settings_are_the_networks_own_keys():
    assert set(overrides.NETWORK_KEYS) == set(NET_KEYS)


@pytest.mark.parametrize("key, good, bad", [
    ("iterations", 1, 0), ("lr", 1e-4, 0.0), ("reg_noise_std", 0.0, -0.1), ("ema_weight", 0.0, 1.0),
    ("backtrack", "off", "sometimes"), ("channels_down", [0, 8], [8, -1]), ("channels_up", 16, True),
    ("upsample", ["nearest", "bilinear"], "bicubic"), ("conv_1x1", False, 0), ("kernel_up", 3, 2.5),
])
def test_each_value_is_checked_against_its_rule(key, good, bad):
    overrides.check({key: good}, "here")
    with pytest.raises(DipError, match=re.escape(f"here: '{key}' must be {BY_KEY[key].rule}")):
        overrides.check({key: bad}, "here")


def test_the_command_line_is_made_from_the_table_and_checked_by_it():
    parser = argparse.ArgumentParser()
    for s in SETTINGS:
        overrides.add_argument(parser, s)
    args = parser.parse_args(["--channels-down", "8,16", "--no-conv-1x1", "--upsample", "nearest"])
    assert overrides.from_args(args) == {"channels_down": [8, 16], "conv_1x1": False,
                                         "upsample": ["nearest"]}
    with pytest.raises(DipError, match=r"^--ema-weight must be a number in \[0, 1\), got 1.5$"):
        overrides.from_args(parser.parse_args(["--ema-weight", "1.5"]))
