"""When to stop without the ground truth: ES-WMV (Wang, Li, Zhuang, Chen, Liang, Sun, "Early
Stopping for Deep Image Prior", TMLR 2023).

After each iteration the score is the variance of the last W training outputs: the mean over
the window of the mean squared distance between each output and the window's mean. The
detected iteration is the one whose window scored lowest so far; detection is final once the
score has not improved for P iterations (their defaults: W = 100, P = 1000).

Everything stays on the fit's device and nothing waits for it per iteration: the window keeps
a running sum of its images and their squared norms (float64, so that adding and removing
images does not drift), so each iteration costs a few passes over one image, whatever W is.
The host reads the detection only when it could have become final (``final``) and at trace
rows. Memory (``memory_bytes``): W images of float32 in the window, plus the sum (float64)
and the detected output. A window that would take more than its budget holds bf16 instead,
and if that is still too much, every s-th pixel down and across, the smallest s that fits
(``window_layout``). Measured on denoising fits, bf16 detected the same iterations and a
stride of 2 shifted some by up to 63 (docs/early-stopping.md, "Memory"); at the paper's sizes
the default budget keeps every pixel in float32.
"""

from __future__ import annotations

import math

import torch


def window_layout(window: int, shape: tuple[int, ...], max_bytes: float | None) -> tuple[torch.dtype, int]:
    """How ``window`` images of ``shape`` (..., H, W) fit in ``max_bytes``: float32 if they can,
    else bf16, sampled every s-th pixel down and across with the smallest s that fits."""
    *rest, height, width = shape

    def size(element_size: int, stride: int) -> int:
        return window * element_size * math.prod(rest) * math.ceil(height / stride) * math.ceil(width / stride)

    if max_bytes is None or size(4, 1) <= max_bytes:
        return torch.float32, 1
    stride = 1
    while size(2, stride) > max_bytes and stride < min(height, width):
        stride += 1
    return torch.bfloat16, stride


class WindowVariance:
    """The variance of the last ``window`` images pushed (one image at a time); its buffers
    take the first image's shape and device.

    ``storage`` is the dtype the window holds and ``stride`` keeps every stride-th pixel down
    and across (stride² less memory); without them, the first image's shape and ``max_bytes``
    choose both (``window_layout``). The running sums take each image as stored, so what is
    added is exactly what is later removed."""

    def __init__(self, window: int, stride: int | None = None, storage: torch.dtype | None = None,
                 max_bytes: float | None = None):
        if window < 2:
            raise ValueError(f"the window needs at least 2 images, got {window}")
        if stride is not None and stride < 1:
            raise ValueError(f"the stride must be at least 1, got {stride}")
        self.window, self.stride, self.storage, self.max_bytes = window, stride, storage, max_bytes
        self.pushed = 0  # images pushed so far; slot pushed % window is the oldest
        self.images = self.norms = self.total = None

    def _allocate(self, image: torch.Tensor) -> None:
        self.images = torch.zeros((self.window, *image.shape), dtype=self.storage, device=image.device)
        self.norms = torch.zeros(self.window, dtype=torch.float64, device=image.device)
        self.total = torch.zeros(image.shape, dtype=torch.float64, device=image.device)

    def push(self, image: torch.Tensor) -> torch.Tensor | None:
        """Add ``image`` (dropping the oldest once full); the score once the window is full."""
        if self.stride is None or self.storage is None:
            storage, stride = window_layout(self.window, tuple(image.shape), self.max_bytes)
            self.storage, self.stride = self.storage or storage, self.stride or stride
        image = image.detach()[..., ::self.stride, ::self.stride].to(self.storage)
        if self.images is None:
            self._allocate(image)
        slot = self.pushed % self.window
        if self.pushed >= self.window:
            self.total -= self.images[slot].double()
        x = image.double()
        self.total += x
        self.norms[slot] = (x * x).sum()
        self.images[slot].copy_(image)
        self.pushed += 1
        if self.pushed < self.window:
            return None
        # sum_i |x_i - m|^2 = sum_i |x_i|^2 - W |m|^2, with m = total / W
        spread = self.norms.sum() - (self.total * self.total).sum() / self.window
        return (spread / (self.window * self.total.numel())).clamp_min(0.0)

    def state_dict(self) -> dict:
        return {"images": self.images, "norms": self.norms, "total": self.total, "pushed": self.pushed,
                "stride": self.stride}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self.pushed = int(state["pushed"])
        if self.pushed:  # a window saved before strides existed kept every pixel
            self.stride, self.storage = state.get("stride") or 1, state["images"].dtype
        if state["images"] is not None:
            self.images, self.norms, self.total = (state[k].to(device) for k in ("images", "norms", "total"))


class Detection:
    """The rule on the scores: the detected iteration is the one with the lowest score so far;
    detection is final when ``patience`` iterations have passed without a lower one, and a
    final detection no longer changes (ES-WMV stops there; a fit that goes on keeps it). Keeps
    the output of the detected iteration."""

    def __init__(self, patience: int, device: torch.device):
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.patience = patience
        self.best_score = torch.full((), math.inf, dtype=torch.float64, device=device)
        self.best_iteration = torch.full((), -1, dtype=torch.int64, device=device)
        self.last_score = torch.full((), math.nan, dtype=torch.float64, device=device)
        self.output = None  # the detected iteration's output, from the first score on
        self.check_at = patience  # the earliest iteration at which detection can be final
        self.is_final = False

    def update(self, score: torch.Tensor, iteration: int, output: torch.Tensor) -> None:
        if self.is_final:
            return
        better = score < self.best_score
        self.best_score = torch.where(better, score, self.best_score)
        self.best_iteration = torch.where(better, iteration, self.best_iteration)
        output = output.detach()
        self.output = output.clone() if self.output is None else torch.where(better, output, self.output)
        self.last_score = score

    def final(self, iteration: int) -> bool:
        """Whether detection is final after ``iteration``. Reads the device only from the first
        iteration at which it could be, and then at most once per improvement."""
        if self.is_final:
            return True
        if iteration < self.check_at:
            return False
        best = int(self.best_iteration)
        if best >= 0 and iteration - best >= self.patience:
            self.is_final = True
            return True
        self.check_at = (best if best >= 0 else iteration) + self.patience
        return False

    def state_dict(self) -> dict:
        return {"best_score": self.best_score, "best_iteration": self.best_iteration,
                "last_score": self.last_score, "output": self.output, "check_at": self.check_at,
                "is_final": self.is_final}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self.best_score, self.best_iteration, self.last_score = (
            state[k].to(device) for k in ("best_score", "best_iteration", "last_score"))
        self.output = None if state["output"] is None else state["output"].to(device)
        self.check_at = int(state["check_at"])
        self.is_final = bool(state["is_final"])


class EarlyStop:
    """ES-WMV on a fit's training outputs: the window and the rule together."""

    def __init__(self, window: int, patience: int, device: torch.device, max_bytes: float | None = None):
        self.device = device
        self.variance = WindowVariance(window, max_bytes=max_bytes)
        self.detection = Detection(patience, device)

    def update(self, output: torch.Tensor, iteration: int) -> None:
        """After iteration ``iteration`` (1-based), whose training output was ``output``;
        nothing once the detection is final."""
        if self.detection.is_final:
            return
        score = self.variance.push(output)
        if score is not None:
            self.detection.update(score, iteration, output)

    def final(self, iteration: int) -> bool:
        """Whether detection is final after ``iteration``: call once per iteration."""
        return self.detection.final(iteration)

    def row(self) -> dict:
        """The trace's columns (reads the device: call at trace rows only)."""
        d = self.detection
        best = int(d.best_iteration)
        return {"es_score": None if math.isnan(float(d.last_score)) else float(d.last_score),
                "es_iteration": best if best >= 0 else None}

    def summary(self, iteration: int) -> dict:
        """What meta.json says of the detection after the fit's last iteration."""
        d = self.detection
        best = int(d.best_iteration)
        detected = best >= 0
        v = self.variance
        return {"window": v.window, "window_stride": v.stride,
                "window_storage": None if v.storage is None else str(v.storage).removeprefix("torch."),
                "patience": d.patience,
                "detected_iteration": best if detected else None,
                "score": float(d.best_score) if detected else None,
                "final": d.is_final,
                "note": ("" if detected else f"no detection: {iteration} iterations do not fill "
                         f"a window of {self.variance.window}; output_es is the final output")}

    def detected_output(self) -> torch.Tensor | None:
        """The output of the detected iteration (None before the window first fills)."""
        return self.detection.output

    def state_dict(self) -> dict:
        return {"variance": self.variance.state_dict(), "detection": self.detection.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.variance.load_state_dict(state["variance"], self.device)
        self.detection.load_state_dict(state["detection"], self.device)


def memory_bytes(window: int, channels: int, height: int, width: int, max_bytes: float | None = None) -> int:
    """What the detector holds for a fit: the window's images and their sum (float64) in the
    layout ``max_bytes`` gives, and the detected output (float32)."""
    storage, stride = window_layout(window, (channels, height, width), max_bytes)
    sampled = channels * math.ceil(height / stride) * math.ceil(width / stride)
    return (window * storage.itemsize + 8) * sampled + 4 * channels * height * width
