"""Bounded output transforms: relaxation times in ms and HETEU log-scales.

T = T_min * (T_max / T_min) ** sigmoid(z) keeps every map positive and inside the
config's ``bounds_ms``. The sigmoid acts on log T rather than on T (the alternative
T_min + (T_max - T_min) * sigmoid(z)) so the resolution is uniform in relative terms:
a liver T1rho of 40 ms and a fluid T2 of 1000 ms are equally easy to reach, and z = 0
gives the geometric mean of the bounds (100 ms for the default 5-2000 ms).
"""

from __future__ import annotations

import math

import torch


def bounded_time(raw: torch.Tensor, low_ms: float, high_ms: float) -> torch.Tensor:
    """Map an unbounded network output to T in [low_ms, high_ms] ms, log-uniformly."""
    log_low, log_high = math.log(low_ms), math.log(high_ms)
    t_ms = torch.exp(log_low + (log_high - log_low) * torch.sigmoid(raw))
    return t_ms.clamp(low_ms, high_ms)  # exp(log(x)) may round a hair outside the bounds


def bounded_log_scale(raw: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Map an unbounded output to a log-scale in [low, high] (natural log)."""
    return low + (high - low) * torch.sigmoid(raw)
