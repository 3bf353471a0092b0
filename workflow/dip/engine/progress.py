"""What a running fit tells: a progress bar on a terminal, plain lines with an ETA in a log."""

from __future__ import annotations

import math
import sys
from typing import Callable

from ..durations import human_duration


class Progress:
    """A tqdm bar on a terminal; otherwise one plain line every K iterations (for log files)."""

    def __init__(self, total: int, start: int, log: Callable[[str], None]):
        self.total, self.log, self.bar = total, log, None
        if sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=start, unit="it", dynamic_ncols=True)

    def step(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def report(self, row: dict, it_per_s: float) -> None:
        scores = {"loss": f"{row['loss']:.2e}", "psnr_obs": f"{row['psnr_observed']:.2f}"}
        if row["psnr_gt"] is not None:
            scores |= {"psnr_gt": f"{row['psnr_gt']:.2f}", "clean": f"{row['psnr_clean_gt']:.2f}",
                       "ema": f"{row['psnr_ema_gt']:.2f}"}
        if self.bar is not None:
            self.bar.set_postfix(scores, refresh=False)
            return
        it = row["iteration"]
        eta = (self.total - it) / it_per_s if it_per_s > 0 else float("nan")
        self.log(" ".join([f"iter {it}/{self.total}", *(f"{k} {v}" for k, v in scores.items()),
                           f"{it_per_s:.1f} it/s", f"eta {human_duration(eta) if math.isfinite(eta) else '?'}"]))

    def message(self, text: str) -> None:
        (self.bar.write if self.bar is not None else self.log)(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
