"""Refuse input times outside the range a model was trained on.

A network trained on TSL 10-50 ms and TP 18.2-51 ms has never seen a 70 ms image; its
output there is an extrapolation with no guarantee, so it is refused rather than
silently wrong. Times between trained values are accepted (FiLM interpolates smoothly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..errors import UserInputError
from .config import TIME_INDEX, TIME_NAMES, trained_range

#: Slack for times read from headers (e.g. 34.6 stored as 34.599998).
TOLERANCE_MS = 1e-3


def check_time_values(config: dict, tasks: Sequence[str], times_ms: Sequence[float]) -> None:
    """Raise UserInputError when a time used by ``tasks`` lies outside its trained range.

    ``times_ms`` is (TSL, TP); only the entries of the given tasks are checked.
    """
    for task in tasks:
        value = float(times_ms[TIME_INDEX[task]])
        low, high = trained_range(config, task)
        name = TIME_NAMES[task]
        if not math.isfinite(value) or not low - TOLERANCE_MS <= value <= high + TOLERANCE_MS:
            raise UserInputError(
                f"{name} {value:g} ms is outside the range this {config['architecture']} "
                f"model was trained on ({name} {low:g}-{high:g} ms); choose a {task}-weighted "
                f"image with {name} between {low:g} and {high:g} ms")


def check_time_tensor(config: dict, tasks: Sequence[str], times_ms: torch.Tensor) -> None:
    """Batch version: ``times_ms`` is (B, 2) with columns TSL, TP."""
    if times_ms.ndim != 2 or times_ms.shape[1] != 2:
        raise ValueError(f"times must be shaped (batch, 2) as (TSL, TP) in ms, "
                         f"got {tuple(times_ms.shape)}")
    values = times_ms.detach().to("cpu", torch.float64)
    for task in tasks:
        column = values[:, TIME_INDEX[task]]
        low, high = trained_range(config, task)
        bad = ~((column >= low - TOLERANCE_MS) & (column <= high + TOLERANCE_MS))
        if bool(bad.any()):
            check_time_values(config, [task], values[bad.nonzero()[0, 0]].tolist())
