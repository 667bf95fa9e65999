"""Mono-exponential relaxation model, its Rician expectation, and their Jacobians.

The model is S(t) = S0·exp(−R·t) [+ C] with R = 1/T, fitted in R because the problem is
closer to linear there. Tensors are laid out time-first: signals are (n_times, N) and
parameters are a tuple of (N,) vectors (S0, R[, C]), so that the per-voxel sums over
the few time points are contiguous vector additions.
"""

from __future__ import annotations

import math

import torch

_SQRT_HALF_PI = math.sqrt(math.pi / 2.0)

Params = tuple[torch.Tensor, ...]


def exponential(theta: Params, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Model S0·exp(−R·t) [+ C] (n, N) and the bare decay exp(−R·t) (n, N)."""
    decay = torch.exp(-theta[1] * times)
    signal = theta[0] * decay
    if len(theta) == 3:
        signal = signal + theta[2]
    return signal, decay


def exponential_jacobian(theta: Params, times: torch.Tensor
                         ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Model values (n, N) and the Jacobian columns d/dS0, d/dR [, d/dC], each (n, N)."""
    signal, decay = exponential(theta, times)
    columns = [decay, -(theta[0] * times) * decay]
    if len(theta) == 3:
        columns.append(torch.ones_like(decay))
    return signal, columns


def rician_mean(signal: torch.Tensor, sigma: float) -> torch.Tensor:
    """Expected magnitude of a Rician variable with true amplitude ``signal``.

    E[M] = σ·√(π/2)·L½(−A²/2σ²), written with exponentially scaled Bessel functions,
    E[M] = σ·√(π/2)·[(1+a)·I0e(a/2) + a·I1e(a/2)], a = A²/(2σ²), so it stays finite for
    any SNR (Gudbjartsson & Patz, MRM 1995).
    """
    a = signal * signal / (2.0 * sigma * sigma)
    half = a / 2.0
    return sigma * _SQRT_HALF_PI * ((1.0 + a) * torch.special.i0e(half)
                                    + a * torch.special.i1e(half))


def rician_mean_derivative(signal: torch.Tensor, sigma: float) -> torch.Tensor:
    """d E[M] / dA = √(π/2)·(A/σ)·[I0e(a/2) + I1e(a/2)]/2, which tends to 1 at high SNR."""
    a = signal * signal / (2.0 * sigma * sigma)
    half = a / 2.0
    return _SQRT_HALF_PI * (signal / sigma) * 0.5 * (torch.special.i0e(half)
                                                     + torch.special.i1e(half))


def predict(theta: Params, times: torch.Tensor, sigma: float | None) -> torch.Tensor:
    """Expected measured signal: the model, or its Rician mean when ``sigma`` is given."""
    signal, _ = exponential(theta, times)
    return signal if sigma is None else rician_mean(signal, sigma)


def predict_with_jacobian(theta: Params, times: torch.Tensor, sigma: float | None
                          ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Expected measured signal and its Jacobian columns with respect to the parameters."""
    signal, columns = exponential_jacobian(theta, times)
    if sigma is None:
        return signal, columns
    slope = rician_mean_derivative(signal, sigma)
    return rician_mean(signal, sigma), [column * slope for column in columns]


def normal_equations(columns: list[torch.Tensor], weight: torch.Tensor,
                     residual: torch.Tensor | None = None
                     ) -> tuple[list[list[torch.Tensor]], list[torch.Tensor] | None]:
    """Entries of JᵀWJ (p x p lists of (N,) vectors) and, given residuals, JᵀWr."""
    weighted = [column * weight for column in columns]
    p = len(columns)
    hessian = [[None] * p for _ in range(p)]
    for a in range(p):
        for b in range(a, p):
            hessian[a][b] = hessian[b][a] = (weighted[a] * columns[b]).sum(0)
    gradient = None if residual is None else [(w * residual).sum(0) for w in weighted]
    return hessian, gradient
