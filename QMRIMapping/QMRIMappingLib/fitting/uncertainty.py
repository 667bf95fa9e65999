"""Standard deviation of T from the fit: Cramér-Rao bound and residual covariance."""

from __future__ import annotations

import torch

from .linear_algebra import inverse_element
from .signal_model import Params, normal_equations, predict_with_jacobian


def fit_statistics(signal: torch.Tensor, times: torch.Tensor, weight: torch.Tensor,
                   theta: Params, sigma_model: float | None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted RSS and [(JᵀWJ)⁻¹]_RR at the solution, from one model evaluation.

    The factor is NaN where the information matrix is singular.
    """
    model, columns = predict_with_jacobian(theta, times, sigma_model)
    residual = signal - model
    rss = (weight * residual * residual).sum(0)
    information, _ = normal_equations(columns, weight)
    return rss, inverse_element(information, 1)


def t_sd_from_rate_variance(rate: torch.Tensor, rate_variance: torch.Tensor) -> torch.Tensor:
    """Propagate var(R) to sd(T) with T = 1/R: sd(T) = sd(R)/R²."""
    return rate_variance.sqrt() / (rate * rate)


def cramer_rao_t_sd(rate: torch.Tensor, factor: torch.Tensor, sigma: float) -> torch.Tensor:
    """Cramér-Rao lower bound on sd(T) for Gaussian noise of standard deviation σ.

    With Fisher information F = JᵀJ/σ², var(R) ≥ [F⁻¹]_RR = σ²·[(JᵀJ)⁻¹]_RR. At high SNR
    the Rician likelihood approaches this Gaussian one.
    """
    return t_sd_from_rate_variance(rate, sigma * sigma * factor)


def covariance_t_sd(rate: torch.Tensor, factor: torch.Tensor, rss: torch.Tensor,
                    n_valid: torch.Tensor, n_params: int) -> torch.Tensor:
    """sd(T) from the residual covariance s²·(JᵀJ)⁻¹ with s² = RSS/(n − p).

    Needs more points than parameters; NaN otherwise. With 4 points and 2 parameters
    the s² estimate has only 2 degrees of freedom, so this map is itself noisy.
    """
    dof = (n_valid - n_params).to(rss.dtype)
    residual_variance = torch.where(dof > 0, rss / dof.clamp_min(1.0),
                                    torch.full_like(rss, float("nan")))
    return t_sd_from_rate_variance(rate, residual_variance * factor)
