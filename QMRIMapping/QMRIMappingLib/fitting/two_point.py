"""Two-point closed form: T from the log ratio of the shared image and one weighted image.

T = Δt / ln(S(t₁)/S(t₂)). This is the simplest baseline of Huang et al.; it uses two
images only, so it needs no iteration but carries all the noise of both.
"""

from __future__ import annotations

import numpy as np

from .engine import FitResult
from .status import FitStatus


def two_point_fit(first: np.ndarray, second: np.ndarray, first_time_ms: float,
                  second_time_ms: float, mask: np.ndarray | None = None,
                  t_bounds_ms: tuple[float, float] = (1.0, 2000.0),
                  sigma: float | None = None, sigma_source: str = "not available"
                  ) -> FitResult:
    """T, S0 and the error-propagated sd of T from two images taken at two times.

    sd(T) = T²/Δt · σ·√(1/S₁² + 1/S₂²) by first-order propagation of Gaussian noise.
    Ratios that imply T outside ``t_bounds_ms`` (including no decay) are clipped to the
    bound and flagged BOUND_HIT.
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    delta = float(second_time_ms - first_time_ms)
    if delta <= 0:
        raise ValueError("the second time must be later than the first")
    inside = np.ones(first.shape, dtype=bool) if mask is None else np.asarray(mask, bool)
    valid = np.isfinite(first) & np.isfinite(second) & (first > 0) & (second > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(first / second)
        raw_t = np.where(log_ratio > 0, delta / log_ratio, np.inf)
    low, high = t_bounds_ms
    t_ms = np.clip(raw_t, low, high)
    status = np.where(raw_t == t_ms, FitStatus.FITTED, FitStatus.BOUND_HIT).astype(np.uint8)
    status[~valid] = FitStatus.TOO_FEW_VALID_POINTS
    status[~inside] = FitStatus.OUTSIDE_MASK
    keep = (status == FitStatus.FITTED) | (status == FitStatus.BOUND_HIT)
    s0 = first * np.exp(first_time_ms / t_ms)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = (t_ms ** 2 / delta * sigma * np.sqrt(1 / first ** 2 + 1 / second ** 2)
              if sigma is not None else np.full(first.shape, np.nan))

    def masked(values: np.ndarray) -> np.ndarray:
        return np.where(keep, values, np.nan).astype(np.float32)

    nan_map = np.full(first.shape, np.nan, dtype=np.float32)
    return FitResult(t_ms=masked(t_ms), s0=masked(s0), r2=nan_map.copy(),
                     residual_rms=nan_map.copy(), sd_crb_ms=masked(sd), sd_cov_ms=nan_map.copy(),
                     status=status, offset=None, sigma=sigma, sigma_source=sigma_source,
                     iterations=0)
