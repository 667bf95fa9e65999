"""Laplace and Gaussian negative log-likelihoods with a learned, floored scale.

Both the homoscedastic task weighting (one scale per task, Kendall, Gal & Cipolla 2018)
and heteroscedastic uncertainty maps (one scale per pixel, predicted by a network head)
use the same per-element likelihood, so it lives here once.

Scale parameterisation (the σ floor)
------------------------------------
A network or a weighting module learns an unconstrained ``log_scale`` s and the scale is

    σ = σ_min + exp(s)                                                          (1)

so σ > σ_min for every finite s. Without the floor the Laplace NLL |r|/σ + log(2σ) is
unbounded below as |r| → 0 and σ → 0: a network can drive σ to zero on easy pixels and
the loss to −∞. The floor is smooth (unlike clamping s, whose gradient vanishes below
the bound and can leave the parameter stuck there). With σ_min = 0 equation (1) is the
plain σ = exp(s). To start at a given σ₀ set s₀ = log(σ₀ − σ_min)
(:func:`log_scale_for_sigma`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

DEFAULT_MIN_SIGMA = 1e-3
_REDUCTIONS = ("mean", "sum", "none")


def sigma_from_log_scale(log_scale: Tensor, min_sigma: float = DEFAULT_MIN_SIGMA) -> Tensor:
    """σ = σ_min + exp(s), equation (1) of the module docstring."""
    _check_min_sigma(min_sigma)
    return min_sigma + torch.exp(log_scale)


def log_scale_for_sigma(sigma: float, min_sigma: float = DEFAULT_MIN_SIGMA) -> float:
    """The log-scale s at which equation (1) gives σ exactly: s = log(σ − σ_min)."""
    _check_min_sigma(min_sigma)
    if not sigma > min_sigma:
        raise ValueError(f"initial sigma {sigma} must be greater than min_sigma {min_sigma}")
    return math.log(sigma - min_sigma)


def laplace_nll(residual: Tensor, log_scale: Tensor | float,
                min_sigma: float = DEFAULT_MIN_SIGMA, mask: Tensor | None = None,
                reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of a Laplace(0, σ) residual: |r|/σ + log(2σ).

    ``log_scale`` broadcasts against ``residual``: a scalar (or one value per task)
    gives the homoscedastic form of Huang et al. (L/σ + log 2σ, with ``residual`` the
    task's mean absolute error), a map of the residual's shape gives the heteroscedastic
    per-pixel form. σ follows equation (1) of the module docstring.

    ``mask`` (bool or 0/1, broadcastable to the residual) selects the elements that
    count; masked-out elements may hold NaN (no reference value) without poisoning the
    loss or its gradient. ``reduction`` is "mean" (over the selected elements; 0 when
    none is selected, so an empty batch does not produce NaN), "sum" or "none"
    (elementwise, masked-out elements set to 0).
    """
    return _nll(residual, log_scale, min_sigma, mask, reduction, _laplace_terms)


def gaussian_nll(residual: Tensor, log_scale: Tensor | float,
                 min_sigma: float = DEFAULT_MIN_SIGMA, mask: Tensor | None = None,
                 reduction: str = "mean", full: bool = False) -> Tensor:
    """Negative log-likelihood of a Normal(0, σ²) residual: r²/(2σ²) + log σ.

    The Gaussian analogue of :func:`laplace_nll` (Kendall & Gal 2017, eq. 5 up to the
    parameterisation); ``full`` adds the constant ½·log(2π) so the value is the exact
    NLL. Same broadcasting, mask and reduction rules as :func:`laplace_nll`.
    """
    terms = _gaussian_terms_full if full else _gaussian_terms
    return _nll(residual, log_scale, min_sigma, mask, reduction, terms)


def _laplace_terms(residual: Tensor, sigma: Tensor) -> Tensor:
    return residual.abs() / sigma + torch.log(2.0 * sigma)


def _gaussian_terms(residual: Tensor, sigma: Tensor) -> Tensor:
    return residual.square() / (2.0 * sigma.square()) + torch.log(sigma)


def _gaussian_terms_full(residual: Tensor, sigma: Tensor) -> Tensor:
    return _gaussian_terms(residual, sigma) + 0.5 * math.log(2.0 * math.pi)


def _nll(residual: Tensor, log_scale: Tensor | float, min_sigma: float, mask: Tensor | None,
         reduction: str, terms) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    log_scale = torch.as_tensor(log_scale, dtype=residual.dtype, device=residual.device)
    if mask is None:
        values = terms(residual, sigma_from_log_scale(log_scale, min_sigma))
        if reduction == "mean":
            return values.mean()
        return values.sum() if reduction == "sum" else values
    shape = torch.broadcast_shapes(residual.shape, log_scale.shape, mask.shape)
    keep = mask.to(torch.bool).expand(shape)
    # Zero-fill before the arithmetic, not after: a NaN outside the mask would otherwise
    # reach the gradient through torch.where's backward (0 · NaN = NaN).
    residual = torch.where(keep, residual.expand(shape), 0.0)
    log_scale = torch.where(keep, log_scale.expand(shape), 0.0)
    values = torch.where(keep, terms(residual, sigma_from_log_scale(log_scale, min_sigma)), 0.0)
    if reduction == "none":
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    return total / keep.sum().clamp(min=1).to(values.dtype)


def _check_min_sigma(min_sigma: float) -> None:
    if not (min_sigma >= 0.0 and math.isfinite(min_sigma)):
        raise ValueError(f"min_sigma must be a finite number >= 0, got {min_sigma}")
