"""How the settings an experiment or a variant overrides (dip.spec.overrides) reach `dip fit`.

Every setting is one `dip fit` flag; the planner passes a key exactly when the config sets it,
so a value in the config always reaches the fit (there is no setting the schema accepts and
the command ignores). ``resolve`` gives the full settings of a fit (the preset's values with
the overrides applied), which is what makes two fits the same fit.
"""

from __future__ import annotations

from dataclasses import asdict

from ..errors import DipError
from ..spec import overrides
from ..spec.network import NetConfig, with_overrides
from ..spec.presets import Preset, get_preset

KEYS = overrides.KEYS


def text(value) -> str:
    """A setting's value as the fit command and variant ids write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def flags(values: dict) -> list[str]:
    """`dip fit` arguments for the overrides, in the table's order."""
    args = []
    for setting in overrides.SETTINGS:
        if setting.key not in values:
            continue
        value = values[setting.key]
        if setting.kind == "bool":
            args.append(setting.flag if value else "--no-" + setting.flag[2:])
        else:
            args += [setting.flag, text(value)]
    return args


def check(values: dict, where: str) -> None:
    """Unknown keys and values that break their rule are errors naming ``where`` and the key."""
    overrides.check(values, where)


def network(preset: Preset, values: dict, out_channels: int | None = None) -> NetConfig:
    """The network a fit builds: the preset's with the overrides applied; a meshgrid input has
    two channels unless told otherwise. Output channels as the preset says unless given (a fit
    follows its image's)."""
    net = {k: values[k] for k in overrides.NETWORK_KEYS if k in values}
    depth = values.get("input_channels", input_depth(preset, values))
    return with_overrides(preset.net, {**net, "in_channels": depth, "out_channels": out_channels})


def input_depth(preset: Preset, values: dict) -> int:
    """Channels of the input z: a meshgrid has two, otherwise the preset's depth."""
    return 2 if values.get("input", preset.input) == "meshgrid" else preset.input_depth


def loop_values(preset: Preset, values: dict) -> dict:
    """The fitting loop's settings: each the override where one is given, else the preset's."""
    return {
        "iterations": int(values.get("iterations", preset.iterations)),
        "lr": float(values.get("lr", preset.lr)),
        "reg_noise_std": float(values.get("reg_noise_std", preset.reg_noise_std)),
        "ema_weight": float(values.get("ema_weight", preset.ema_weight)),
        "backtrack": values.get("backtrack", getattr(preset, "backtrack", None)),
        "stop": values.get("stop", "fixed"),
        "es_window": int(values.get("es_window", overrides.ES_WINDOW)),
        "es_patience": int(values.get("es_patience", overrides.ES_PATIENCE)),
        "es_memory_mb": float(values.get("es_memory_mb", overrides.ES_MEMORY_MB)),
    }


def resolve(preset_name: str, values: dict, where: str) -> dict:
    """Every setting of a fit: the preset's values with the overrides applied (checked)."""
    check(values, where)
    preset = get_preset(preset_name)
    try:
        net = network(preset, values)
    except DipError as exc:
        raise DipError(f"{where}: {exc}") from None
    return {
        "preset": preset.name,
        **loop_values(preset, values),
        "input": values.get("input", preset.input),
        "input_channels": net.in_channels,
        "legacy": bool(values.get("legacy", False)),
        "precision": values.get("precision", "faithful"),
        "net": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(net).items()},
    }
