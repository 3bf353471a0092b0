"""The fit settings an experiment or a variant may override, and how each reaches `dip fit`.

Every key here is one `dip fit` flag; the planner passes a key exactly when the config sets it,
so a value in the config always reaches the fit (there is no setting the schema accepts and
the command ignores). ``resolve`` gives the full settings of a fit (the preset's values with
the overrides applied), which is what makes two fits the same fit.
"""

from __future__ import annotations

from dataclasses import asdict

from ..errors import DipError
from ..netspec import NET_KEYS, NetConfig, with_overrides
from ..presets import Preset, get_preset

#: key -> `dip fit` flag. Booleans are --flag / --no-flag; lists are comma-separated.
FLAGS = {
    "iterations": "--iterations",
    "lr": "--lr",
    "reg_noise_std": "--reg-noise-std",
    "ema_weight": "--ema-weight",
    "backtrack": "--backtrack",
    "input": "--input",
    "input_channels": "--input-channels",
    "scales": "--scales",
    "channels_down": "--channels-down",
    "channels_up": "--channels-up",
    "channels_skip": "--channels-skip",
    "kernel_down": "--kernel-down",
    "kernel_up": "--kernel-up",
    "kernel_skip": "--kernel-skip",
    "upsample": "--upsample",
    "downsample": "--downsample",
    "pad": "--pad",
    "conv_1x1": "--conv-1x1",
    "legacy": "--legacy",
    "precision": "--precision",
}
KEYS = tuple(FLAGS)
BOOLEAN = ("conv_1x1", "legacy")
BACKTRACK = ("official", "full", "off")
PRECISION = ("faithful", "fast")  # dip.precision.PRECISIONS (which needs torch)


def text(value) -> str:
    """A setting's value as the fit command and variant ids write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def flags(overrides: dict) -> list[str]:
    """`dip fit` arguments for the overrides, in KEYS order."""
    args = []
    for key in KEYS:
        if key not in overrides:
            continue
        value = overrides[key]
        if key in BOOLEAN:
            args.append(FLAGS[key] if value else "--no-" + FLAGS[key][2:])
        else:
            args += [FLAGS[key], text(value)]
    return args


def check(overrides: dict, where: str) -> None:
    """Unknown keys and values of the wrong kind are errors naming ``where`` and the key."""
    for key, value in overrides.items():
        if key not in FLAGS:
            raise DipError(f"{where}: unknown setting '{key}'; known: {', '.join(KEYS)}")
        ok = True
        if key in BOOLEAN:
            ok = isinstance(value, bool)
        elif key in ("iterations", "input_channels", "scales", "kernel_down", "kernel_up", "kernel_skip"):
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        elif key in ("lr", "reg_noise_std", "ema_weight"):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            ok = ok and (key != "lr" or value > 0) and (key != "ema_weight" or value < 1)
        elif key.startswith("channels_"):
            items = value if isinstance(value, list) else [value]
            ok = bool(items) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in items)
        elif key == "upsample":
            items = value if isinstance(value, list) else [value]
            ok = bool(items) and all(v in ("nearest", "bilinear") for v in items)
        elif key == "backtrack":
            ok = value in BACKTRACK
        elif key == "input":
            ok = value in ("noise", "meshgrid")
        elif key == "downsample":
            ok = value in ("stride", "avg", "max", "lanczos")
        elif key == "pad":
            ok = value in ("reflection", "zero")
        elif key == "precision":
            ok = value in PRECISION
        if not ok:
            raise DipError(f"{where}: '{key}' cannot be {value!r}")


def network(preset: Preset, overrides: dict) -> NetConfig:
    """The network a fit builds (output channels as the preset says; the fit follows the
    image's channels)."""
    net = {k: overrides[k] for k in NET_KEYS if k in overrides}
    kind = overrides.get("input", preset.input)
    depth = overrides.get("input_channels", 2 if kind == "meshgrid" else preset.input_depth)
    return with_overrides(preset.net, {**net, "in_channels": depth})


def resolve(preset_name: str, overrides: dict, where: str) -> dict:
    """Every setting of a fit: the preset's values with ``overrides`` applied (checked)."""
    check(overrides, where)
    preset = get_preset(preset_name)
    try:
        net = network(preset, overrides)
    except DipError as exc:
        raise DipError(f"{where}: {exc}") from None
    kind = overrides.get("input", preset.input)
    return {
        "preset": preset.name,
        "iterations": int(overrides.get("iterations", preset.iterations)),
        "lr": float(overrides.get("lr", preset.lr)),
        "reg_noise_std": float(overrides.get("reg_noise_std", preset.reg_noise_std)),
        "ema_weight": float(overrides.get("ema_weight", preset.ema_weight)),
        "backtrack": overrides.get("backtrack", getattr(preset, "backtrack", None)),
        "input": kind,
        "input_channels": net.in_channels,
        "legacy": bool(overrides.get("legacy", False)),
        "precision": overrides.get("precision", "faithful"),
        "net": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(net).items()},
    }
