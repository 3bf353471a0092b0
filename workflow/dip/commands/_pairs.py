"""Structured command-line values: `NAME=PATH` pairs (one file per image) and JSON."""

import argparse
import json

from ..errors import DipError


def pair(text: str) -> tuple[str, str]:
    """argparse type: 'barbara=path/to.png' -> ('barbara', 'path/to.png')."""
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, value


def grouped(pairs: list[tuple[str, str]] | None) -> dict[str, list[str]]:
    """Repeated names collect their values in order (several seeds of one image)."""
    out: dict[str, list[str]] = {}
    for name, value in pairs or []:
        out.setdefault(name, []).append(value)
    return out


def unique(pairs: list[tuple[str, str]] | None, what: str) -> dict[str, str]:
    """One value per name; a repeated name is an error."""
    out: dict[str, str] = {}
    for name, value in pairs or []:
        if name in out:
            raise DipError(f"{what}: {name!r} given twice")
        out[name] = value
    return out


def fit_pair(text: str) -> tuple[str, str]:
    """argparse type: 'experiment/variant/image/seed@path' -> (id, path). An id holds no '@'
    (a variant id may hold '=', as may the path)."""
    name, sep, value = text.partition("@")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected ID@PATH, got {text!r}")
    return name, value


def json_value(text: str, flag: str):
    """A JSON command-line value (a config or a spec the workflow passes); bad JSON is a
    DipError naming the flag."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DipError(f"{flag} is not valid JSON: {exc}") from None
