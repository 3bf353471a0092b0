"""The --precision option shared by the commands that train a network."""

from __future__ import annotations

from ..precision import PRECISIONS


def add_precision_argument(p) -> None:
    p.add_argument("--precision", choices=PRECISIONS, default="faithful",
                   help="faithful (default): fp32, TF32 off on CUDA; fast: bf16 autocast where "
                        "the hardware has native bf16, and the fastest measured memory format "
                        "and compilation; the path each takes is in meta.json "
                        "(docs/performance.md)")
