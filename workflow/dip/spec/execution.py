"""The numeric path a fit runs (precision, memory format, compile, optimiser kernel), as data.

Free of torch, so that the report can name the path a fit took from its meta.json; the rules
that choose a path are in dip.engine.precision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Execution:
    """The path a fit runs: recorded in meta.json and the checkpoint, reused by a resume."""

    precision: str = "faithful"
    hardware_class: str = "cpu"
    bf16: bool = False           # autocast the forward pass to bf16
    channels_last: bool = False  # NHWC memory format
    compile: bool = False        # torch.compile the network
    tf32: bool = False           # TF32 for fp32 convolutions and matmuls on CUDA
    fused_adam: bool = False     # Adam's fused kernel: one launch for every parameter
    cuda_graphs: bool = False    # compile with mode="reduce-overhead": the step replayed as CUDA graphs

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def name(self) -> str:
        """The path in words, e.g. "bf16, channels_last, fused Adam" or "fp32 eager"."""
        parts = [label for label, on in (("bf16", self.bf16), ("channels_last", self.channels_last),
                                          ("fused Adam", self.fused_adam),
                                          ("compile", self.compile and not self.cuda_graphs),
                                          ("CUDA graphs", self.cuda_graphs)) if on]
        return ", ".join(parts) or "fp32 eager"

    @classmethod
    def from_dict(cls, d: dict) -> "Execution":
        """From meta.json or a checkpoint; keys of a later version are ignored, missing ones
        take their defaults (a fit recorded before a field existed did not use it)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
