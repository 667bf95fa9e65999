"""Weighted-image signal and Rician noise.

Ideal model: ``S(t) = PD * coil * exp(-t / T)`` with ``T = T1rho`` for spin-lock images
(``t = TSL``) and ``T = T2`` for T2-prepared images (``t = TP``); the zero-preparation
image is ``PD * coil``. Outside the shim box the preparation factor follows the
off-resonance model of ``shim.py`` instead.

Noise: each image is the magnitude of a complex signal with independent Gaussian noise
of standard deviation ``sigma`` in both channels, ``|S + n1 + i n2|``, so the background
is Rayleigh distributed with mean ``sigma * sqrt(pi / 2)``. SNR is defined as the mean
noise-free zero-preparation signal in the liver ROI divided by ``sigma``.
"""

from __future__ import annotations

import numpy as np

from .shim import spin_lock_factor, t2prep_factor


def preparation_factor(role: str, time_ms: float, t1rho_ms: np.ndarray, t2_ms: np.ndarray,
                       off_resonance_hz: np.ndarray | None = None) -> np.ndarray:
    """Prepared signal relative to the zero-preparation image (float64).

    ``off_resonance_hz`` of None means a perfect shim everywhere (the ideal model).
    Voxels outside the body (NaN relaxation times) get 0.
    """
    if role == "shared" or time_ms == 0.0:
        factor = np.ones(t1rho_ms.shape)
    elif role == "t1rho":
        factor = np.exp(-time_ms / t1rho_ms.astype(np.float64))
        if off_resonance_hz is not None:
            off = off_resonance_hz != 0.0
            factor[off] = spin_lock_factor(off_resonance_hz[off].astype(np.float64), time_ms,
                                           t1rho_ms[off].astype(np.float64),
                                           t2_ms[off].astype(np.float64))
    elif role == "t2":
        factor = np.exp(-time_ms / t2_ms.astype(np.float64))
        if off_resonance_hz is not None:
            off = off_resonance_hz != 0.0
            factor[off] = t2prep_factor(off_resonance_hz[off].astype(np.float64), time_ms,
                                        t2_ms[off].astype(np.float64))
    else:
        raise ValueError(f"unknown role {role!r}")
    return np.nan_to_num(factor, nan=0.0)


def noise_free_signal(proton_density: np.ndarray, coil: np.ndarray, role: str,
                      time_ms: float, t1rho_ms: np.ndarray, t2_ms: np.ndarray,
                      off_resonance_hz: np.ndarray | None = None) -> np.ndarray:
    """The noise-free weighted image (float32)."""
    factor = preparation_factor(role, time_ms, t1rho_ms, t2_ms, off_resonance_hz)
    return (proton_density.astype(np.float64) * coil * factor).astype(np.float32)


def add_rician_noise(signal: np.ndarray, sigma: float, rng: np.random.Generator
                     ) -> np.ndarray:
    """``|S + n1 + i n2|`` with ``n1, n2 ~ N(0, sigma^2)``; returns float32."""
    if sigma == 0.0:
        return signal.astype(np.float32, copy=True)
    real = signal + rng.normal(0.0, sigma, size=signal.shape)
    imag = rng.normal(0.0, sigma, size=signal.shape)
    return np.hypot(real, imag).astype(np.float32)
