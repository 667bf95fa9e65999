"""Weighted log-linear fit: the closed-form starting point of the non-linear fit."""

from __future__ import annotations

import torch


def weighted_loglinear(signal: torch.Tensor, times: torch.Tensor, valid: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit ln S = ln S0 − R·t per voxel by weighted least squares.

    ``signal`` and ``valid`` are (n, N), ``times`` (n, 1) or (n, N). The weights are S²,
    the inverse variance of ln S under Gaussian noise (first-order propagation), so low,
    noisy late points count less. Only valid points with positive signal take part.
    Returns (S0, R); both NaN where fewer than two distinct times are usable.
    """
    usable = valid & (signal > 0)
    log_signal = torch.log(torch.where(usable, signal, torch.ones_like(signal)))
    weight = torch.where(usable, signal * signal, torch.zeros_like(signal))
    wt = weight * times
    sum_w = weight.sum(0)
    sum_wt = wt.sum(0)
    sum_wtt = (wt * times).sum(0)
    sum_wy = (weight * log_signal).sum(0)
    sum_wty = (wt * log_signal).sum(0)
    determinant = sum_w * sum_wtt - sum_wt * sum_wt
    scale = (sum_w * sum_wtt).clamp_min(torch.finfo(signal.dtype).tiny)
    solvable = determinant > 1e-12 * scale
    safe = torch.where(solvable, determinant, torch.ones_like(determinant))
    slope = (sum_w * sum_wty - sum_wt * sum_wy) / safe
    intercept = (sum_wtt * sum_wy - sum_wt * sum_wty) / safe
    nan = torch.full_like(slope, float("nan"))
    return torch.where(solvable, torch.exp(intercept), nan), torch.where(solvable, -slope, nan)


def amplitude_given_rate(signal: torch.Tensor, times: torch.Tensor, weight: torch.Tensor,
                         rate: torch.Tensor) -> torch.Tensor:
    """Least-squares S0 for a fixed R: the closed-form amplitude of variable projection."""
    decay = torch.exp(-rate * times)
    weighted = weight * decay
    numerator = (weighted * signal).sum(0)
    denominator = (weighted * decay).sum(0)
    return numerator / denominator.clamp_min(torch.finfo(signal.dtype).tiny)
