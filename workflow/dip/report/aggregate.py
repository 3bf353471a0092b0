"""Numbers over seeds and images, and those numbers as text: the one place every table (Table 1,
the studies, the task sections) takes its means, spreads and counts from.

A value that is missing (None) or not finite (a PSNR of a fit that diverged) is left out of a
statistic; the spread is the sample standard deviation, unknown under two values.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MISSING = "–"


def _finite(values) -> pd.Series:
    s = pd.Series([v for v in list(values) if v is not None], dtype="float64")
    return s[np.isfinite(s)]


def stats(values) -> dict:
    """mean, std, min, max (None where there is nothing to take them of) and n."""
    s = _finite(values)
    if s.empty:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0}
    return {"mean": float(s.mean()), "std": float(s.std(ddof=1)) if len(s) > 1 else None,
            "min": float(s.min()), "max": float(s.max()), "n": int(len(s))}


def mean_std(values) -> tuple[float | None, float | None]:
    s = stats(values)
    return s["mean"], s["std"]


def mean(values, complete: bool = False) -> float | None:
    """The mean of the values; with ``complete``, None unless every value is there (a mean
    over images that lacks one would not be the same mean as the paper's)."""
    values = list(values)  # a generator is read once
    if complete and (not values or any(v is None for v in values)):
        return None
    return stats(values)["mean"]


def number(value: float | None, digits: int = 2, signed: bool = False) -> str:
    """A number for display; an en dash where there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def pm(mean: float | None, std: float | None, digits: int = 2, missing: str = MISSING) -> str:
    """'mean ± std' ('mean' alone where the spread is unknown)."""
    if mean is None:
        return missing
    return number(mean, digits) + (f" ± {std:.{digits}f}" if std is not None else "")


def psnr_at(psnr: float | None, iteration: float | None) -> str:
    """'PSNR @ iteration' (the iteration often a mean over seeds); an en dash without one."""
    return MISSING if psnr is None else f"{psnr:.2f} @ {iteration:.0f}"


def k_of_n(k: int, n: int | None, what: str = "") -> str:
    """"k of n" (with ``what`` after it) where fewer than planned finished, else "k"."""
    suffix = f" {what}" if what else ""
    return f"{k} of {n}{suffix}" if n is not None and k < n else f"{k}"
