"""Per-slice intensity normalisation of the network inputs.

Every image of a slice is divided by one scale taken from the shared zero-preparation
image of that slice: the 99th percentile of its foreground, where the foreground is the
pixels above 5 % of the slice's own 99th percentile (the rule of the NLLS engine's
automatic mask). Using one scale for all images keeps the ratios I(t)/I(0) that carry T,
and the relaxation loss (Huang et al. eqs. 3-5) is evaluated in this normalised scale.
The rule needs no body mask, so training (phantom) and inference (user data) normalise
identically; the percentile ignores a few hot pixels, unlike the maximum.
"""

from __future__ import annotations

import numpy as np

#: Percentile of the foreground used as the scale, and the foreground threshold.
PERCENTILE = 99.0
FOREGROUND_FRACTION = 0.05


def slice_scale(shared_slice: np.ndarray, percentile: float = PERCENTILE,
                foreground_fraction: float = FOREGROUND_FRACTION) -> float:
    """The normalisation scale of one 2-D shared image (1.0 for an empty slice)."""
    values = np.asarray(shared_slice, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 1.0
    threshold = foreground_fraction * np.percentile(values, percentile)
    foreground = values[values > threshold]
    if foreground.size == 0:
        return 1.0
    scale = float(np.percentile(foreground, percentile))
    return scale if scale > 0 else 1.0


def volume_scales(shared: np.ndarray, percentile: float = PERCENTILE,
                  foreground_fraction: float = FOREGROUND_FRACTION) -> np.ndarray:
    """Per-slice scales of a (z, y, x) shared volume, shape (z,)."""
    return np.array([slice_scale(plane, percentile, foreground_fraction) for plane in shared])


def scales_from_config(shared: np.ndarray, normalisation: dict) -> np.ndarray:
    """Per-slice scales with the settings stored in a network config."""
    if normalisation.get("method") != "foreground_percentile":
        raise ValueError(f"unknown normalisation {normalisation.get('method')!r}")
    return volume_scales(shared, normalisation["percentile"],
                         normalisation["foreground_fraction"])
