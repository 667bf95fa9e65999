"""ROI statistics and agreement with a reference map."""

from __future__ import annotations

import numpy as np


def roi_statistics(values: np.ndarray, roi: np.ndarray) -> dict[str, float | int]:
    """Count, mean, SD (n−1) and median of the finite map values inside ``roi``.

    ``excluded`` counts ROI voxels without a value (NaN: not fitted or failed), so a
    reader sees when the statistics rest on part of the ROI only.
    """
    inside = np.asarray(roi, dtype=bool)
    selected = np.asarray(values, dtype=np.float64)[inside]
    finite = selected[np.isfinite(selected)]
    stats: dict[str, float | int] = {"count": int(finite.size),
                                     "excluded": int(selected.size - finite.size)}
    if finite.size:
        stats.update(mean=float(finite.mean()),
                     sd=float(finite.std(ddof=1)) if finite.size > 1 else float("nan"),
                     median=float(np.median(finite)))
    else:
        stats.update(mean=float("nan"), sd=float("nan"), median=float("nan"))
    return stats


def relative_mean_absolute_error(values: np.ndarray, reference: np.ndarray, roi: np.ndarray
                                 ) -> dict[str, float | int]:
    """RMAE of a map against a reference inside ``roi``, in percent.

    RMAE = Σ|T − T_ref| / Σ T_ref × 100 over ROI voxels where both maps are finite, the
    ROI-level relative mean absolute error used to compare mapping methods (Huang et al.
    report it against 4-point NLLS maps). Also returned: the mean absolute error in ms and
    the relative difference of the ROI means (a bias measure).
    """
    inside = np.asarray(roi, dtype=bool)
    estimate = np.asarray(values, dtype=np.float64)[inside]
    truth = np.asarray(reference, dtype=np.float64)[inside]
    both = np.isfinite(estimate) & np.isfinite(truth) & (truth > 0)
    estimate, truth = estimate[both], truth[both]
    if estimate.size == 0:
        return {"count": 0, "rmae_percent": float("nan"), "mae_ms": float("nan"),
                "mean_bias_percent": float("nan")}
    absolute = np.abs(estimate - truth)
    return {"count": int(estimate.size),
            "rmae_percent": float(100.0 * absolute.sum() / truth.sum()),
            "mae_ms": float(absolute.mean()),
            "mean_bias_percent": float(100.0 * (estimate.mean() - truth.mean()) / truth.mean())}
