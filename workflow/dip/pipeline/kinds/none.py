"""``report: none``: fitted and listed (its settings, runtime and spread), no section of its own;
another experiment may show its fits (a paper table's `full_backtracking` column)."""

from __future__ import annotations

NAME = "none"
COMMAND = None


def outputs(plan, name: str) -> dict[str, str]:
    return {}


def published(plan, name: str) -> list[str]:
    return []


def check(plan, name: str) -> None:
    """Nothing to show, so nothing to refuse."""


def partial(plan, part, name: str, gone, files: dict[str, str]) -> list[list[str]]:
    return []


def inputs(plan, name: str) -> list[str]:
    return []


def args(plan, name: str) -> list[str]:
    return []
