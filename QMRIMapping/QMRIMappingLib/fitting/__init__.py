"""Relaxometry fitting: NLLS engine, two-point closed form, noise estimation."""

from .engine import FitResult, fit_maps, fit_relaxation, resolve_device
from .noise import estimate_background_sigma, signal_mask
from .options import FitOptions
from .status import STATUS_DESCRIPTIONS, FitStatus
from .two_point import two_point_fit

__all__ = [
    "FitOptions", "FitResult", "FitStatus", "STATUS_DESCRIPTIONS", "estimate_background_sigma",
    "fit_maps", "fit_relaxation", "resolve_device", "signal_mask", "two_point_fit",
]
