"""Ground-truth T1rho, T2 and proton-density maps from a label map.

A subject draws one value per tissue from the ranges in ``tissues.py``; inside each
tissue the value then varies smoothly in space (a low-frequency random field, wavelengths
of several centimetres) so that organs are not flat patches and a fitter cannot win by
smoothing hard. In the liver the T1rho and T2 fields are partly correlated, as both
follow tissue water content and fibrosis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import PhantomGrid
from .tissues import LABELS, TISSUES

#: Wavelength range (mm) of the within-organ variation and how far it may swing (in
#: units of the tissue's coefficient of variation).
FIELD_WAVELENGTH_MM = (60.0, 180.0)
FIELD_CLIP = 2.0
#: Correlation between the liver's T1rho and T2 fields.
LIVER_T1RHO_T2_CORRELATION = 0.6
#: Signal scale: liver zero-preparation signal before coil shading, scanner-like units.
SIGNAL_SCALE_RANGE = (800.0, 1200.0)


@dataclass
class TissueMaps:
    """Voxel maps (float32 ``[z, y, x]``) and the subject-level values behind them."""

    t1rho_ms: np.ndarray
    t2_ms: np.ndarray
    proton_density: np.ndarray
    values: dict[str, dict[str, float]]
    signal_scale: float


def smooth_field(rng: np.random.Generator, points: np.ndarray, n_terms: int = 6
                 ) -> np.ndarray:
    """A smooth random field with unit variance at ``points`` (N x 3, mm), clipped.

    A sum of plane waves with random directions, wavelengths and phases: cheap to
    evaluate at scattered voxels, smooth, and the same at a point however the grid is
    sampled.
    """
    field = np.zeros(len(points))
    for _ in range(n_terms):
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        wavenumber = 2.0 * np.pi / rng.uniform(*FIELD_WAVELENGTH_MM)
        field += np.cos(points @ (direction * wavenumber) + rng.uniform(0.0, 2.0 * np.pi))
    field *= np.sqrt(2.0 / n_terms)
    return np.clip(field, -FIELD_CLIP, FIELD_CLIP)


def tissue_maps(labels: np.ndarray, grid: PhantomGrid, rng: np.random.Generator
                ) -> TissueMaps:
    """Draw subject values for every tissue and fill the three maps."""
    shape = labels.shape
    t1rho = np.full(shape, np.nan, dtype=np.float32)
    t2 = np.full(shape, np.nan, dtype=np.float32)
    pd = np.zeros(shape, dtype=np.float32)
    scale = float(rng.uniform(*SIGNAL_SCALE_RANGE))
    values: dict[str, dict[str, float]] = {}
    for tissue in TISSUES.values():
        values[tissue.name] = {
            "t1rho_ms": float(rng.uniform(*tissue.t1rho_ms)),
            "t2_ms": float(rng.uniform(*tissue.t2_ms)),
            "proton_density": float(rng.uniform(*tissue.proton_density)),
        }

    for tissue in TISSUES.values():
        codes = [value for value, (_, name) in LABELS.items() if name == tissue.name]
        index = np.nonzero(np.isin(labels, codes))
        points = np.stack([grid.x_mm[index[2]], grid.y_mm[index[1]], grid.z_mm[index[0]]],
                          axis=1)
        f_t1rho = smooth_field(rng, points)
        f_t2 = smooth_field(rng, points)
        if tissue.name == "liver":
            rho = LIVER_T1RHO_T2_CORRELATION
            f_t2 = np.clip(rho * f_t1rho + np.sqrt(1.0 - rho ** 2) * f_t2,
                           -FIELD_CLIP, FIELD_CLIP)
        f_pd = smooth_field(rng, points)
        v = values[tissue.name]
        t1rho[index] = v["t1rho_ms"] * (1.0 + tissue.cv * f_t1rho)
        t2[index] = v["t2_ms"] * (1.0 + tissue.cv * f_t2)
        pd[index] = scale * v["proton_density"] * (1.0 + tissue.cv * f_pd)
    return TissueMaps(t1rho_ms=t1rho, t2_ms=t2, proton_density=pd, values=values,
                      signal_scale=scale)
