"""The --precision option shared by the commands that train a network."""

from __future__ import annotations

from ..spec.overrides import BY_KEY


def add_precision_argument(p) -> None:
    setting = BY_KEY["precision"]
    p.add_argument(setting.flag, choices=setting.choices, default="faithful", help=setting.help)
