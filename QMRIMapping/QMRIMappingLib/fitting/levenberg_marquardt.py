"""Vectorised, bounded Levenberg-Marquardt for the mono-exponential model.

Every voxel is its own small problem (2 or 3 parameters), but all voxels advance
together as batched tensor operations, so there is no per-voxel Python loop. Each voxel
has its own damping λ (Marquardt's diagonal scaling): a step that lowers the cost is
accepted and λ shrinks, otherwise λ grows. R is projected into its bounds after every
step and S0 is kept non-negative. Voxels that have converged drop out of the working
set, so the few slow ones do not hold back the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .linear_algebra import solve
from .signal_model import Params, normal_equations, predict, predict_with_jacobian

_LAMBDA_START = 1e-3
_LAMBDA_MAX = 1e12


@dataclass
class LMResult:
    """Parameters (tuple of (N,)), weighted residual sum of squares (N,), iterations."""

    theta: Params
    rss: torch.Tensor
    iterations: int


def weighted_rss(signal: torch.Tensor, weight: torch.Tensor, theta: Params,
                 times: torch.Tensor, sigma: float | None) -> torch.Tensor:
    """Σ w·(y − f(θ))² per voxel; ``signal`` and ``weight`` are (n, N)."""
    residual = signal - predict(theta, times, sigma)
    return (weight * residual * residual).sum(0)


def _select(tensor: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Keep voxel columns of an (n, N) tensor, or entries of an (N,) one; pass (n, 1)."""
    if tensor.dim() == 2 and tensor.shape[1] == 1:
        return tensor
    return tensor[..., keep]


def levenberg_marquardt(signal: torch.Tensor, times: torch.Tensor, weight: torch.Tensor,
                        theta0: Params, rate_bounds: tuple[float, float],
                        sigma: float | None = None, max_iterations: int = 50,
                        tolerance: float = 1e-10) -> LMResult:
    """Minimise Σ w·(y − f(θ))² for every voxel, starting from ``theta0``.

    ``signal`` and ``weight`` are (n, N); ``weight`` is 1 for valid points and 0 for
    points to ignore; ``times`` is (n, 1) or (n, N). ``sigma`` switches to the
    Rician-mean model. A voxel stops when its relative parameter step falls below
    ``tolerance`` or its damping saturates.
    """
    low, high = rate_bounds
    final = [p.clone() for p in theta0]
    final_cost = weighted_rss(signal, weight, theta0, times, sigma)
    # Working set: indices into the full arrays, plus compacted copies of the inputs.
    index = torch.arange(signal.shape[1], device=signal.device)
    y, w, t = signal, weight, times
    theta = [p.clone() for p in theta0]
    cost = final_cost.clone()
    damping = torch.full_like(cost, _LAMBDA_START)
    running = torch.ones_like(cost, dtype=torch.bool)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        model, columns = predict_with_jacobian(tuple(theta), t, sigma)
        hessian, gradient = normal_equations(columns, w, y - model)
        for k in range(len(theta)):
            hessian[k][k] = hessian[k][k] * (1.0 + damping)
        step = solve(hessian, gradient)
        candidate = [p + s for p, s in zip(theta, step, strict=True)]
        candidate[0] = candidate[0].clamp(min=0.0)
        candidate[1] = candidate[1].clamp(min=low, max=high)
        candidate_cost = weighted_rss(y, w, tuple(candidate), t, sigma)
        better = (candidate_cost < cost) & running
        relative = torch.zeros_like(cost)
        for p, c in zip(theta, candidate, strict=True):
            relative = torch.maximum(relative, (c - p).abs() / (p.abs() + 1e-30))
        theta = [torch.where(better, c, p) for p, c in zip(theta, candidate, strict=True)]
        cost = torch.where(better, candidate_cost, cost)
        damping = torch.where(better, damping * 0.1, damping * 10.0).clamp(1e-12, _LAMBDA_MAX)
        stopped = (relative < tolerance) | ~torch.isfinite(relative) | (damping >= _LAMBDA_MAX)
        running = running & ~stopped
        remaining = int(running.sum())
        if remaining == 0 or remaining < 0.5 * running.numel():
            for k in range(len(theta)):
                final[k][index] = theta[k]
            final_cost[index] = cost
            if remaining == 0:
                break
            keep = running.nonzero().squeeze(1)
            index, y, w, t = index[keep], y[:, keep], w[:, keep], _select(t, keep)
            theta = [p[keep] for p in theta]
            cost, damping, running = cost[keep], damping[keep], running[keep]
    else:
        for k in range(len(theta)):
            final[k][index] = theta[k]
        final_cost[index] = cost
    return LMResult(theta=tuple(final), rss=final_cost, iterations=iterations)
