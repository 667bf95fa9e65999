"""Noise level σ from the image background, and a signal mask built from it."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

#: Median of a Rayleigh distribution is σ·√(2·ln 2); background of magnitude MR is Rayleigh.
_RAYLEIGH_MEDIAN = math.sqrt(2.0 * math.log(2.0))
_MIN_BACKGROUND_VOXELS = 200


def estimate_background_sigma(image: np.ndarray) -> tuple[float | None, str]:
    """Estimate the per-channel Gaussian σ from the air around the body.

    Background voxels are those below 10 % of the image's 99th percentile that are
    connected to the edge of each slice (so dark vessels and lungs inside the body are
    left out). Their magnitudes are Rayleigh distributed, so σ = median/√(2 ln 2), a
    robust estimate that tolerates a few tissue voxels. Returns (None, reason) when the
    background is too small or zero-filled, as after scanner masking.
    """
    volume = np.asarray(image, dtype=np.float64)
    volume = volume.reshape((-1,) + volume.shape[-2:]) if volume.ndim >= 2 else volume[None]
    finite = volume[np.isfinite(volume)]
    if finite.size == 0:
        return None, "no finite voxels"
    threshold = 0.1 * np.percentile(finite, 99)
    background = np.zeros(volume.shape, dtype=bool)
    for index, plane in enumerate(volume):
        low = np.isfinite(plane) & (plane < threshold)
        labels, count = ndimage.label(low)
        if count == 0:
            continue
        edge = np.unique(np.concatenate(
            (labels[0], labels[-1], labels[:, 0], labels[:, -1])))
        background[index] = np.isin(labels, edge[edge > 0])
    values = volume[background]
    if values.size < _MIN_BACKGROUND_VOXELS:
        return None, f"only {values.size} background voxels found at the image edges"
    if np.mean(values == 0) > 0.5:
        return None, "the background is zero-filled (masked by the scanner)"
    sigma = float(np.median(values) / _RAYLEIGH_MEDIAN)
    return sigma, (f"estimated from {values.size} edge-connected background voxels "
                   "(Rayleigh median)")


def signal_mask(first_image: np.ndarray, sigma: float | None) -> np.ndarray:
    """Voxels whose least-weighted image rises clearly above the noise.

    The threshold is 5σ when σ is known (a Rayleigh background exceeds it with
    probability e^−12.5), otherwise 5 % of the 99th percentile.
    """
    finite = np.isfinite(first_image)
    if sigma is not None:
        threshold = 5.0 * sigma
    else:
        threshold = 0.05 * float(np.percentile(first_image[finite], 99))
    return finite & (first_image > threshold)
