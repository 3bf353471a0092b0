"""The settings of a fit that a config (experiment, variant, sweep) or `dip fit` may override.

One table, one row per setting: its key, its kind, its rule, its help text and whether it
shapes the network. `dip fit`'s flags, the planner's command lines, the network's override
keys and every check of a value are made from it; the config schema is tested against it.
Free of torch, so that planning can read it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..errors import DipError
from .network import DOWNSAMPLE_MODES, NET_KEYS, PAD_MODES, UPSAMPLE_MODES

BACKTRACK_MODES = ("official", "full", "off")
PRECISIONS = ("faithful", "fast")
#: Input kinds a fit may switch to (a preset whose input is an image keeps it).
INPUT_OVERRIDES = ("noise", "meshgrid")
#: "fixed": the preset's iteration count (the paper's); "early": end when ES-WMV's detection is
#: final (dip.engine.early_stop), with its defaults W = 100 outputs and P = 1000 iterations.
STOP_MODES = ("fixed", "early")
ES_WINDOW = 100
ES_PATIENCE = 1000
#: The most the ES-WMV window may take; a larger window is held in bf16, then strided. 512 MiB
#: holds W = 100 outputs of 512 x 512 in colour (315 MB) in float32: the paper's sizes as they are.
ES_MEMORY_MB = 512


@dataclass(frozen=True)
class Setting:
    """One overridable setting. ``kind``: int, float, bool, choice, ints (one width or one per
    scale), choices (one mode or one per scale). ``low``/``high`` bound a number, inclusive
    unless ``open_low``/``open_high``."""

    key: str
    kind: str
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    @property
    def network(self) -> bool:
        """Whether it shapes the network (dip.spec.network maps it onto the network's field)."""
        return self.key in NET_KEYS

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def rule(self) -> str:
        """The rule in words, for error messages."""
        if self.kind == "bool":
            return "true or false"
        if self.choices:
            return f"{'one or a list' if self.kind == 'choices' else 'one'} of {', '.join(self.choices)}"
        what = {"int": "an integer", "float": "a number", "ints": "an integer or a list of integers"}[self.kind]
        if self.low is not None and self.high is not None:
            return (f"{what} in {'(' if self.open_low else '['}{self.low:g}, {self.high:g}"
                    f"{')' if self.open_high else ']'}")
        if self.low is not None:
            return f"{what} {'above' if self.open_low else 'at least'} {self.low:g}"
        return what

    def accepts(self, value) -> bool:
        if self.kind == "bool":
            return isinstance(value, bool)
        items = value if self.kind in ("ints", "choices") and isinstance(value, (list, tuple)) else [value]
        if not items:
            return False
        if self.choices:
            return all(v in self.choices for v in items)
        number = int if self.kind in ("int", "ints") else (int, float)
        return all(isinstance(v, number) and not isinstance(v, bool) and self._in_range(v) for v in items)

    def _in_range(self, v) -> bool:
        low_ok = self.low is None or (v > self.low if self.open_low else v >= self.low)
        high_ok = self.high is None or (v < self.high if self.open_high else v <= self.high)
        return low_ok and high_ok


SETTINGS = (
    Setting("iterations", "int", "fitting iterations", low=1),
    Setting("lr", "float", "Adam learning rate (default: the preset's)", low=0, open_low=True),
    Setting("reg_noise_std", "float", "std of the fresh Gaussian added to the input each "
            "iteration (default: preset's)", low=0),
    Setting("ema_weight", "float", "output average weight (default: preset's)", low=0, high=1,
            open_high=True),
    Setting("backtrack", "choice", "official: the notebook's check (training output, before the "
            "step) and restore (weights only); full: our check (net(z), after the step) restoring "
            "weights, Adam and the average; off (default: the preset's)", choices=BACKTRACK_MODES),
    Setting("input", "choice", "network input kind", choices=INPUT_OVERRIDES),
    Setting("input_channels", "int", "channels of the input z", low=1),
    Setting("scales", "int", "number of scales; per-scale lists are cut or extended with their "
            "last entry", low=1),
    *(Setting(f"channels_{part}", "ints", f"{part} channels: one width for every scale, or one "
              "per scale", low=0) for part in ("down", "up", "skip")),
    *(Setting(f"kernel_{part}", "int", f"{part} kernel size (odd)", low=1)
      for part in ("down", "up", "skip")),
    Setting("upsample", "choices", "nearest or bilinear: one for every scale, or one per scale",
            choices=UPSAMPLE_MODES),
    Setting("downsample", "choice", "how each scale halves", choices=DOWNSAMPLE_MODES),
    Setting("pad", "choice", "padding of the convolutions", choices=PAD_MODES),
    Setting("conv_1x1", "bool", "the 1x1 conv after each decoder conv"),
    Setting("legacy", "bool", "PyTorch 0.4 behaviour: BN weights ~ U(0,1), bilinear align_corners"),
    Setting("stop", "choice", "fixed: the preset's iterations (default); early: end when the "
            "ground-truth-free detection (ES-WMV) is final, output_es being the result",
            choices=STOP_MODES),
    Setting("es_window", "int", f"ES-WMV: training outputs in the variance window (default {ES_WINDOW})",
            low=2),
    Setting("es_patience", "int", "ES-WMV: iterations without a lower score before detection is "
            f"final (default {ES_PATIENCE})", low=1),
    Setting("es_memory_mb", "float", "ES-WMV: the most memory (MiB) its window may take; a larger "
            "image's window is held in bf16 and, if still too large, keeps every s-th pixel down "
            f"and across, the smallest s that fits (default {ES_MEMORY_MB})", low=0, open_low=True),
    Setting("precision", "choice", "faithful (default): fp32, TF32 off on CUDA; fast: bf16 "
            "autocast where the hardware has native bf16, and the fastest measured memory "
            "format and compilation; the path each takes is in meta.json (docs/performance.md)",
            choices=PRECISIONS),
)
BY_KEY = {s.key: s for s in SETTINGS}
KEYS = tuple(BY_KEY)
#: The settings that shape the network (dip.spec.network.with_overrides takes them).
NETWORK_KEYS = tuple(s.key for s in SETTINGS if s.network)


def check(overrides: dict, where: str, cli: bool = False) -> None:
    """Every value against its rule. An unknown key or a value that breaks its rule is a
    DipError naming ``where`` and the setting (its flag for the command line)."""
    for key, value in overrides.items():
        setting = BY_KEY.get(key)
        if setting is None:
            raise DipError(f"{where}: unknown setting '{key}'; known: {', '.join(KEYS)}")
        if not setting.accepts(value):
            name = setting.flag if cli else f"'{key}'"
            raise DipError(f"{where + ': ' if where else ''}{name} must be {setting.rule}, got {value!r}")


def _int_list(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _str_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",")]


def add_argument(parser, setting: Setting) -> None:
    """``setting`` as a `dip fit` option whose default (None) means "the preset's"."""
    options = {"help": setting.help, "default": None}
    if setting.kind == "bool":
        options["action"] = argparse.BooleanOptionalAction
    elif setting.kind == "choice":
        options["choices"] = setting.choices
    else:
        options["type"] = {"int": int, "float": float, "ints": _int_list, "choices": _str_list}[setting.kind]
        if setting.kind in ("ints", "choices"):
            options["metavar"] = "C[,C...]" if setting.kind == "ints" else "MODE[,MODE...]"
    parser.add_argument(setting.flag, **options)


def from_args(args) -> dict:
    """The overrides a `dip fit` command line sets (checked)."""
    overrides = {s.key: getattr(args, s.key) for s in SETTINGS if getattr(args, s.key, None) is not None}
    check(overrides, "", cli=True)
    return overrides
