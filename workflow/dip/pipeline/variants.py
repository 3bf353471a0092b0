"""An experiment's variants: its base settings, the `vary:` sweep and named groups.

``vary: {lr: [1e-3, 1e-2], reg_noise_std: [0, 0.1]}`` gives one variant per value, one key at
a time around the base (or the full grid with ``grid: true``). A named variant
(``variants: {name: {key: value, ...}}``) changes several keys at once, and may name another
preset, whose whole settings it then takes. Each variant has a readable id (``lr=0.01``, the
group's name) that appears in its fits' paths; the base is ``base``. ``labels: {id: text}``
names variants in tables and figures as a reader knows them (the paper's names, say).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field

from ..errors import DipError
from .settings import KEYS, check, text

BASE = "base"
_ID = re.compile(r"^[A-Za-z0-9_.=+\-]+$")


@dataclass(frozen=True)
class Variant:
    """One set of settings of an experiment: ``preset`` with ``overrides``.

    ``changes`` is what sets it apart from the base (key -> value), for tables and labels.
    """

    id: str
    preset: str
    overrides: dict = field(hash=False, compare=False)
    changes: dict = field(hash=False, compare=False)
    named: str | None = field(default=None, hash=False, compare=False)

    @property
    def label(self) -> str:
        if self.named:
            return self.named
        if self.id == BASE:
            return "base"
        return ", ".join(f"{k} = {text(v)}" for k, v in self.changes.items()) or self.id


def base_overrides(exp: dict) -> dict:
    """The settings an experiment sets itself (any of settings.KEYS at its top level)."""
    return {k: exp[k] for k in KEYS if k in exp}


def _value_id(key: str, value) -> str:
    return f"{key}={text(value).replace(',', '-')}"


def variants(name: str, exp: dict) -> list[Variant]:
    """The base first, then the sweep, then the named groups (config order); ids unique."""
    preset, base = exp["preset"], base_overrides(exp)
    check(base, f"experiment '{name}'")
    out = [Variant(BASE, preset, base, {})]
    vary = exp.get("vary") or {}
    for key, values in vary.items():
        where = f"experiment '{name}', vary.{key}"
        if key not in KEYS:
            raise DipError(f"{where}: unknown setting '{key}'; known: {', '.join(KEYS)}")
        if not isinstance(values, list) or not values:
            raise DipError(f"{where}: give a non-empty list of values")
        for v in values:
            check({key: v}, where)
    if exp.get("grid"):
        keys = list(vary)
        combos = [dict(zip(keys, vals)) for vals in itertools.product(*(vary[k] for k in keys))]
    else:
        combos = [{key: v} for key, values in vary.items() for v in values]
    for changes in combos:
        vid = "+".join(_value_id(k, v) for k, v in changes.items())
        out.append(Variant(vid, preset, {**base, **changes}, changes))
    for group, changes in (exp.get("variants") or {}).items():
        where = f"experiment '{name}', variants.{group}"
        if not isinstance(changes, dict):
            raise DipError(f"{where}: give a mapping of settings")
        changes = dict(changes)
        other = changes.pop("preset", None)
        check(changes, where)
        if other is None:
            out.append(Variant(group, preset, {**base, **changes}, changes))
        else:
            out.append(Variant(group, str(other), changes, {"preset": other, **changes}))
    labels = exp.get("labels") or {}
    unknown = set(labels) - {v.id for v in out}
    if unknown:
        raise DipError(f"experiment '{name}': labels name no variant: {', '.join(sorted(unknown))}; "
                       f"variants: {', '.join(v.id for v in out)}")
    out = [dataclasses.replace(v, named=str(labels[v.id])) if v.id in labels else v for v in out]
    seen = set()
    for v in out:
        if not _ID.match(v.id):
            raise DipError(f"experiment '{name}': variant id '{v.id}' may use only letters, digits "
                           "and _ . = + -")
        if v.id in seen:
            raise DipError(f"experiment '{name}': two variants write the same path (id '{v.id}')")
        seen.add(v.id)
    return out
